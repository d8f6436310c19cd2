/* ganvoice: the output timeline of speech, in samples.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace ganvoice {

/* One stream of samples that speech is mixed into as it is made: a cue's
 * speech goes in at its sample position, overlapping speech adds up, and
 * everything before a position the caller names becomes final, in order,
 * as spans of audio and of silence. Plain C++: the `ganvoice` element
 * turns the spans into buffers (silence into GAP buffers of zeros).
 *
 * Positions are sample counts on the element's segment; before reset()
 * there is no position, and nothing can be mixed or emitted. */
class SpeechTimeline {
public:
  /* A span that became final: @samples is null for silence. Returns false
   * to stop (a flow error downstream); the span counts as emitted. */
  using EmitFunc =
      std::function<bool (int64_t start, const float *samples, size_t n)>;

  /* Starts at @position with nothing pending (a new segment). */
  GANVOICE_API void reset (int64_t position);
  /* Back to no position (stopped, flushed). */
  GANVOICE_API void clear ();
  bool started () const
  {
    return position_ >= 0;
  }

  /* The next sample to emit. */
  int64_t position () const
  {
    return position_;
  }
  /* Where the mixed-in audio ends (position() when nothing is pending). */
  int64_t end () const
  {
    return position_ + (int64_t) (pending_.size () - head_);
  }

  /* Adds @n samples at @at: what lies before position() is final already
   * and is dropped (returns how many samples were). Samples between
   * position() and @at that nothing was mixed into are zeros of the audio
   * span: advance_to (@at) first to have them as silence. */
  GANVOICE_API size_t mix (int64_t at, const float *samples, size_t n);

  /* Everything before @to is final: emits the pending audio up to it, then
   * silence to it in spans of at most @max_silence samples. Returns false
   * when @emit stopped it. Nothing happens for @to <= position(). */
  GANVOICE_API bool advance_to (
      int64_t to, size_t max_silence, const EmitFunc &emit);
  /* advance_to (end ()): all that was mixed in. */
  GANVOICE_API bool flush (size_t max_silence, const EmitFunc &emit);

private:
  int64_t position_ = -1;
  /* Audio from position_ on: pending_[head_ ..]; the emitted front is
   * dropped in bulk, not sample by sample. */
  std::vector<float> pending_;
  size_t head_ = 0;
};

} // namespace ganvoice
