/* ganvoice: the output timeline of speech, in samples.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/speech-timeline.h>

#include <algorithm>

namespace ganvoice {

void
SpeechTimeline::reset (int64_t position)
{
  position_ = position;
  pending_.clear ();
  head_ = 0;
}

void
SpeechTimeline::clear ()
{
  reset (-1);
}

size_t
SpeechTimeline::mix (int64_t at, const float *samples, size_t n)
{
  if (!started ())
    return n;
  size_t dropped = 0;
  if (at < position_) {
    dropped = (size_t) std::min<int64_t> (position_ - at, (int64_t) n);
    samples += dropped;
    n -= dropped;
    at = position_;
  }
  if (n == 0)
    return dropped;
  const size_t offset = head_ + (size_t) (at - position_);
  if (pending_.size () < offset + n)
    pending_.resize (offset + n, 0.0f);
  float *out = pending_.data () + offset;
  for (size_t i = 0; i < n; i++)
    out[i] += samples[i];
  return dropped;
}

bool
SpeechTimeline::advance_to (
    int64_t to, size_t max_silence, const EmitFunc &emit)
{
  if (!started () || to <= position_)
    return true;
  const size_t audio = (size_t) std::min<int64_t> (
      (int64_t) (pending_.size () - head_), to - position_);
  if (audio > 0) {
    const int64_t start = position_;
    const float *samples = pending_.data () + head_;
    head_ += audio;
    position_ += (int64_t) audio;
    bool more = emit (start, samples, audio);
    if (head_ == pending_.size ()) {
      pending_.clear ();
      head_ = 0;
    } else if (head_ > pending_.size () / 2) {
      pending_.erase (pending_.begin (), pending_.begin () + (long) head_);
      head_ = 0;
    }
    if (!more)
      return false;
  }
  const int64_t chunk = (int64_t) std::max<size_t> (1, max_silence);
  while (position_ < to) {
    const int64_t n = std::min (chunk, to - position_);
    const int64_t start = position_;
    position_ += n;
    if (!emit (start, nullptr, (size_t) n))
      return false;
  }
  return true;
}

bool
SpeechTimeline::flush (size_t max_silence, const EmitFunc &emit)
{
  return advance_to (end (), max_silence, emit);
}

} // namespace ganvoice
