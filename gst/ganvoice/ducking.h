/* ganvoice: DSP for mixing a dub voice into a programme soundtrack:
 * voice gate, ducking with look-ahead, dialogue suppression, an EBU R128
 * (ITU-R BS.1770) loudness meter, a loudness normaliser and a peak limiter.
 * Plain C++, no pads: duckmix is thin glue around DuckMix.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <cstddef>
#include <deque>
#include <vector>

namespace ganvoice {

enum class DuckMode
{
  Duck, /* programme lowered by duck_level_db while the voice speaks */
  Replace, /* programme muted while the voice speaks */
  Add, /* plain sum */
};

/* dB <-> linear amplitude. */
GANVOICE_API double db_to_gain (double db);
GANVOICE_API double gain_to_db (double gain);

/* Envelope follower on |x| with separate attack and release times (one-pole
 * smoothing; a time is how long the envelope takes to cover 63 % of a
 * step). configure() keeps the current envelope. */
class EnvelopeFollower {
public:
  GANVOICE_API void configure (int rate, double attack_ms, double release_ms);
  GANVOICE_API float process (float x);
  void reset ()
  {
    env_ = 0.0f;
  }
  float value () const
  {
    return env_;
  }

private:
  float attack_coef_ = 0.0f;
  float release_coef_ = 0.0f;
  float env_ = 0.0f;
};

/* Voice activity: an envelope follower on the voice (1 ms attack, 80 ms
 * release, so that the gaps inside a word do not open it) compared with a
 * threshold in dBFS. */
class VoiceGate {
public:
  GANVOICE_API void configure (int rate, double threshold_db);
  bool process (float x)
  {
    return follower_.process (x) >= threshold_;
  }
  void reset ()
  {
    follower_.reset ();
  }
  float envelope () const
  {
    return follower_.value ();
  }

private:
  EnvelopeFollower follower_;
  float threshold_ = 0.0f;
};

/* A fixed delay of N frames of C interleaved channels. */
class DelayLine {
public:
  GANVOICE_API void configure (size_t frames, int channels);
  GANVOICE_API void reset ();
  /* Writes one frame in and gives the frame from N frames ago out (in and
   * out may alias). */
  GANVOICE_API void process (const float *in, float *out);
  size_t delay () const
  {
    return frames_;
  }

private:
  std::vector<float> buf_;
  size_t frames_ = 0;
  size_t pos_ = 0;
  int channels_ = 1;
};

struct DuckerConfig {
  int rate = 48000;
  int channels = 2; /* programme and output channels */
  DuckMode mode = DuckMode::Duck;
  double duck_level_db = -12.0; /* <= 0 */
  double attack_ms = 50.0; /* time to reach the full duck */
  double release_ms = 300.0; /* time to come back to 0 dB */
  double lookahead_ms = 100.0; /* output delay; the duck starts this early */
  double voice_threshold_db = -45.0;
  bool dialogue_suppression = false; /* stereo: duck mid (L+R)/2, keep side */
};

/* Mixes a mono voice into a programme, ducking the programme while the voice
 * speaks. The gain moves linearly (in amplitude) between 1 and the duck gain
 * within attack / release. The voice gate looks at the undelayed voice while
 * both programme and voice are delayed by the look-ahead, so that the duck is
 * complete lookahead - attack before the first syllable. */
class Ducker {
public:
  /* Keeps the delay lines, gate and gain when only levels, times or mode
   * change, so that properties can change while playing without a click;
   * a new rate, channel count or look-ahead starts afresh. */
  GANVOICE_API void configure (const DuckerConfig &config);
  GANVOICE_API void reset ();
  /* programme: frames x channels interleaved, or null for silence; voice:
   * frames mono, or null for silence; out: frames x channels. */
  GANVOICE_API void process (
      const float *programme, const float *voice, float *out, size_t frames);
  size_t latency_frames () const
  {
    return lookahead_;
  }
  const DuckerConfig &config () const
  {
    return config_;
  }
  /* Programme gain applied to the last output frame (linear). */
  float gain () const
  {
    return gain_;
  }
  bool voice_active () const
  {
    return active_;
  }
  /* Frames of the delay line filled since the last reset (at most the
   * look-ahead): until it is full, the output is the empty line's zeros. */
  size_t filled () const
  {
    return filled_;
  }
  /* Whether the gain and the gate are at rest (gain 1, envelope 0): from
   * here on the output depends only on the inputs of the last look-ahead,
   * exactly as after a reset. */
  bool at_rest () const
  {
    return gain_ == 1.0f && gate_.envelope () == 0.0f;
  }
  /* Frames of digital silence on the voice after which the gate and gain
   * are at rest, for a voice whose peak was @peak (the gate's envelope
   * decays to exactly 0, which takes longest; the gain's release is inside
   * that). Exact for this implementation: it runs the envelope. */
  GANVOICE_API static size_t frames_to_rest (
      const DuckerConfig &config, float peak);

private:
  DuckerConfig config_;
  VoiceGate gate_;
  DelayLine programme_delay_;
  DelayLine voice_delay_;
  size_t lookahead_ = 0;
  float target_ = 1.0f; /* gain while the voice speaks */
  float attack_step_ = 1.0f;
  float release_step_ = 1.0f;
  float gain_ = 1.0f;
  size_t filled_ = 0;
  bool active_ = false;
  bool configured_ = false;
  std::vector<float> frame_;
};

/* ITU-R BS.1770-4 K-weighting: a high shelf (+4 dB above ~1.7 kHz) then a
 * high-pass (~38 Hz), designed for any sample rate. */
class KWeighting {
public:
  GANVOICE_API void configure (int rate, int channels);
  GANVOICE_API void reset ();
  /* Filters one frame of channel samples in place. */
  GANVOICE_API void process (double *frame);

private:
  struct Biquad {
    double b0, b1, b2, a1, a2;
  };
  Biquad shelf_{}, highpass_{};
  std::vector<double> state_; /* per channel: 2 states per biquad */
  int channels_ = 1;
};

/* EBU R128 / BS.1770-4 loudness meter: K-weighted mean square summed over the
 * channels (all weighted 1.0: surround weights are not applied), 400 ms
 * blocks every 100 ms, absolute gate at -70 LUFS and relative gate at -10 LU
 * for the integrated value. Values are in LUFS; -HUGE_VAL when nothing is
 * measured yet. */
class LoudnessMeter {
public:
  GANVOICE_API void configure (int rate, int channels);
  GANVOICE_API void reset ();
  GANVOICE_API void process (const float *interleaved, size_t frames);
  /* Last 400 ms block. */
  GANVOICE_API double momentary () const;
  /* Last 3 s, ungated. */
  GANVOICE_API double short_term () const;
  /* Everything since reset, gated. */
  GANVOICE_API double integrated () const;
  /* Gated like integrated, over the last @seconds only. */
  GANVOICE_API double recent (double seconds) const;
  /* How many 400 ms blocks were completed since reset. */
  size_t blocks () const
  {
    return blocks_.size ();
  }
  /* Frames until the current 100 ms sub-block is complete (blocks complete
   * only there). */
  size_t frames_to_sub_block_end () const
  {
    return sub_frames_ - sub_count_;
  }

private:
  double gated (size_t first) const;
  double mean_of_last (size_t n) const;

  KWeighting filter_;
  std::vector<double> frame_;
  int channels_ = 1;
  size_t sub_frames_ = 4800; /* 100 ms */
  size_t sub_count_ = 0;
  double sub_sum_ = 0.0;
  std::deque<double> subs_; /* mean squares of the last 30 sub-blocks */
  std::vector<double> blocks_; /* mean square of each 400 ms block */
};

/* Brings a signal to a loudness target with a slowly adapting gain: the
 * gated loudness of the last @window_s seconds gives the wanted gain,
 * clamped to +-max_gain_db, which the applied gain follows with a time
 * constant of @time_constant_s. Silence (nothing above the absolute gate)
 * holds the gain. The wanted gain changes at the frame that completes a
 * block, so the output does not depend on how the frames are split into
 * process() calls. */
class LoudnessNormaliser {
public:
  GANVOICE_API void configure (int rate, int channels, double target_lufs,
      double max_gain_db = 20.0, double time_constant_s = 3.0,
      double window_s = 10.0);
  GANVOICE_API void reset ();
  GANVOICE_API void process (float *interleaved, size_t frames);
  double gain_db () const
  {
    return gain_to_db (gain_);
  }
  const LoudnessMeter &meter () const
  {
    return meter_;
  }

private:
  LoudnessMeter meter_;
  int rate_ = 0;
  int channels_ = 1;
  double target_lufs_ = -16.0;
  double max_gain_db_ = 20.0;
  double window_s_ = 10.0;
  double coef_ = 0.0;
  double gain_ = 1.0;
  double wanted_ = 1.0;
  size_t seen_blocks_ = 0;
};

/* A peak limiter without look-ahead: the gain drops at once to what keeps
 * the loudest channel of a frame at the ceiling, and recovers with
 * @release_ms. No output sample is ever above the ceiling (a final clamp
 * covers rounding; NaN and infinities become 0). */
class PeakLimiter {
public:
  GANVOICE_API void configure (
      int rate, int channels, double ceiling_db, double release_ms = 80.0);
  void reset ()
  {
    gain_ = 1.0f;
  }
  GANVOICE_API void process (float *interleaved, size_t frames);
  float ceiling () const
  {
    return ceiling_;
  }

private:
  int channels_ = 1;
  float ceiling_ = 1.0f;
  float release_coef_ = 0.0f;
  float gain_ = 1.0f;
};

/* The last stage of a dub: LoudnessNormaliser (when @loudness_target < 0)
 * then PeakLimiter, over the mix from its first frame. Every part is
 * sample by sample or cut at exact frames, so the output does not depend
 * on how the frames are split into calls: a film mixed in chunks and
 * mastered once comes out as one mixed and mastered in one go. */
class Mastering {
public:
  GANVOICE_API void configure (
      int rate, int channels, double loudness_target, double limit_db);
  GANVOICE_API void reset ();
  GANVOICE_API void process (float *interleaved, size_t frames);
  bool normalising () const
  {
    return normalise_;
  }
  const LoudnessNormaliser &normaliser () const
  {
    return normaliser_;
  }

private:
  LoudnessNormaliser normaliser_;
  PeakLimiter limiter_;
  bool normalise_ = false;
};

struct DuckMixConfig {
  DuckerConfig ducker;
  double loudness_target = -16.0; /* LUFS; >= 0 disables normalisation */
  double limit_db = -1.0; /* limiter ceiling, dBFS */
  /* false: the plain ducked mix, neither normalised nor limited (a chunk
   * of a film that is mastered once, at assembly). */
  bool mastering = true;
};

/* The whole duckmix chain: Ducker, then Mastering (LoudnessNormaliser when
 * enabled, then PeakLimiter). Mastering starts at the ducker's first
 * content frame: the look-ahead's empty delay line after a reset (zeros,
 * which duckmix drops) is not measured. */
class DuckMix {
public:
  GANVOICE_API void configure (const DuckMixConfig &config);
  GANVOICE_API void reset ();
  GANVOICE_API void process (
      const float *programme, const float *voice, float *out, size_t frames);
  size_t latency_frames () const
  {
    return ducker_.latency_frames ();
  }
  const Ducker &ducker () const
  {
    return ducker_;
  }
  const LoudnessNormaliser &normaliser () const
  {
    return mastering_.normaliser ();
  }
  bool normalising () const
  {
    return config_.mastering && mastering_.normalising ();
  }

private:
  DuckMixConfig config_;
  Ducker ducker_;
  Mastering mastering_;
};

} // namespace ganvoice
