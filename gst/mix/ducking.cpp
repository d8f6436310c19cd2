/* ganvoice: DSP for duckmix (see ganvoice/ducking.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/ducking.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace ganvoice {

namespace {

/* BS.1770 offset: a 0 dBFS 1 kHz sine in one front channel reads -3.01. */
constexpr double kLoudnessOffset = -0.691;
constexpr double kAbsoluteGate = -70.0;
constexpr double kRelativeGate = -10.0;
constexpr size_t kSubsPerBlock = 4; /* 4 x 100 ms = 400 ms */
constexpr size_t kSubsShortTerm = 30; /* 3 s */

double
energy_to_lufs (double mean_square)
{
  if (!(mean_square > 0.0))
    return -HUGE_VAL;
  return kLoudnessOffset + 10.0 * std::log10 (mean_square);
}

float
one_pole_coef (int rate, double ms)
{
  double samples = ms * 1e-3 * rate;
  if (samples < 1.0)
    return 0.0f;
  return (float) std::exp (-1.0 / samples);
}

} // namespace

double
db_to_gain (double db)
{
  return std::pow (10.0, db / 20.0);
}

double
gain_to_db (double gain)
{
  return gain > 0.0 ? 20.0 * std::log10 (gain) : -HUGE_VAL;
}

/* EnvelopeFollower */

void
EnvelopeFollower::configure (int rate, double attack_ms, double release_ms)
{
  attack_coef_ = one_pole_coef (rate, attack_ms);
  release_coef_ = one_pole_coef (rate, release_ms);
}

float
EnvelopeFollower::process (float x)
{
  float level = std::fabs (x);
  if (!std::isfinite (level))
    level = 0.0f;
  float coef = level > env_ ? attack_coef_ : release_coef_;
  env_ = level + coef * (env_ - level);
  /* A release into silence would decay into subnormal floats, which cost
   * some 100 cycles each where the thread does not flush them to zero
   * (the mixer's thread spent more time here than in all the rest of the
   * mix): below -300 dB it is silence. */
  if (env_ < 1e-15f)
    env_ = 0.0f;
  return env_;
}

/* VoiceGate */

void
VoiceGate::configure (int rate, double threshold_db)
{
  follower_.configure (rate, 1.0, 80.0);
  threshold_ = (float) db_to_gain (threshold_db);
}

/* DelayLine */

void
DelayLine::configure (size_t frames, int channels)
{
  frames_ = frames;
  channels_ = std::max (1, channels);
  buf_.assign (frames_ * channels_, 0.0f);
  pos_ = 0;
}

void
DelayLine::reset ()
{
  std::fill (buf_.begin (), buf_.end (), 0.0f);
  pos_ = 0;
}

void
DelayLine::process (const float *in, float *out)
{
  if (frames_ == 0) {
    if (in != out)
      std::copy (in, in + channels_, out);
    return;
  }
  float *slot = &buf_[pos_ * channels_];
  for (int c = 0; c < channels_; c++) {
    float old = slot[c];
    slot[c] = in[c];
    out[c] = old;
  }
  if (++pos_ == frames_)
    pos_ = 0;
}

/* Ducker */

void
Ducker::configure (const DuckerConfig &config)
{
  const DuckerConfig old = config_;
  config_ = config;
  config_.rate = std::max (1, config_.rate);
  config_.channels = std::max (1, config_.channels);
  int rate = config_.rate;
  size_t lookahead = (size_t) std::llround (
      std::max (0.0, config_.lookahead_ms) * 1e-3 * rate);
  /* Only a new format or look-ahead restarts the stream state. */
  bool keep = configured_ && old.rate == config_.rate &&
      old.channels == config_.channels && lookahead == lookahead_;

  gate_.configure (rate, config_.voice_threshold_db);
  lookahead_ = lookahead;
  if (!keep) {
    programme_delay_.configure (lookahead_, config_.channels);
    voice_delay_.configure (lookahead_, 1);
  }

  switch (config_.mode) {
    case DuckMode::Duck:
      target_ = (float) db_to_gain (std::min (0.0, config_.duck_level_db));
      break;
    case DuckMode::Replace:
      target_ = 0.0f;
      break;
    case DuckMode::Add:
      target_ = 1.0f;
      break;
  }
  double attack = std::max (1.0, config_.attack_ms * 1e-3 * rate);
  double release = std::max (1.0, config_.release_ms * 1e-3 * rate);
  attack_step_ = (float) ((1.0 - target_) / attack);
  release_step_ = (float) ((1.0 - target_) / release);
  frame_.assign (config_.channels, 0.0f);
  configured_ = true;
  if (!keep)
    reset ();
}

void
Ducker::reset ()
{
  gate_.reset ();
  programme_delay_.reset ();
  voice_delay_.reset ();
  gain_ = 1.0f;
  filled_ = 0;
  active_ = false;
}

size_t
Ducker::frames_to_rest (const DuckerConfig &config, float peak)
{
  const int rate = std::max (1, config.rate);
  VoiceGate gate;
  gate.configure (rate, config.voice_threshold_db);
  peak = std::fabs (peak);
  if (!std::isfinite (peak))
    return SIZE_MAX;
  /* The envelope at its highest: the peak held until it settles. */
  for (int i = 0; i < rate; i++)
    gate.process (peak);
  const size_t release =
      (size_t) std::ceil (std::max (1.0, config.release_ms * 1e-3 * rate));
  size_t closed =
      gate.envelope () >= (float) db_to_gain (config.voice_threshold_db)
      ? SIZE_MAX
      : 0;
  size_t n = 0;
  while (gate.envelope () != 0.0f) {
    bool open = gate.process (0.0f);
    n++;
    if (!open && closed == SIZE_MAX)
      closed = n;
  }
  if (closed == SIZE_MAX)
    closed = n;
  /* The gain needs the release after the gate closed. */
  return std::max (n, closed + release + 1);
}

void
Ducker::process (
    const float *programme, const float *voice, float *out, size_t frames)
{
  const int channels = config_.channels;
  const bool suppress = config_.dialogue_suppression && channels == 2 &&
      config_.mode != DuckMode::Add;

  for (size_t i = 0; i < frames; i++) {
    float v = voice ? voice[i] : 0.0f;
    if (!std::isfinite (v))
      v = 0.0f;

    /* The gain follows the undelayed voice... */
    active_ = config_.mode != DuckMode::Add && gate_.process (v);
    float target = active_ ? target_ : 1.0f;
    if (gain_ > target)
      gain_ = std::max (target, gain_ - attack_step_);
    else if (gain_ < target)
      gain_ = std::min (target, gain_ + release_step_);

    /* ...and is applied to the delayed programme. */
    float *o = out + i * channels;
    if (programme)
      programme_delay_.process (programme + i * channels, o);
    else {
      std::fill (frame_.begin (), frame_.end (), 0.0f);
      programme_delay_.process (frame_.data (), o);
    }
    float dv;
    voice_delay_.process (&v, &dv);
    if (filled_ < lookahead_)
      filled_++;

    if (suppress) {
      float mid = 0.5f * (o[0] + o[1]);
      float side = 0.5f * (o[0] - o[1]);
      mid *= gain_;
      o[0] = mid + side + dv;
      o[1] = mid - side + dv;
    } else {
      for (int c = 0; c < channels; c++)
        o[c] = o[c] * gain_ + dv;
    }
  }
}

/* KWeighting */

void
KWeighting::configure (int rate, int channels)
{
  channels_ = std::max (1, channels);
  const double fs = std::max (1, rate);

  /* Stage 1: high shelf (BS.1770-4, as designed for any rate by
   * libebur128). */
  {
    const double f0 = 1681.974450955533;
    const double G = 3.999843853973347;
    const double Q = 0.7071752369554196;
    const double K = std::tan (M_PI * f0 / fs);
    const double Vh = std::pow (10.0, G / 20.0);
    const double Vb = std::pow (Vh, 0.4996667741545416);
    const double a0 = 1.0 + K / Q + K * K;
    shelf_.b0 = (Vh + Vb * K / Q + K * K) / a0;
    shelf_.b1 = 2.0 * (K * K - Vh) / a0;
    shelf_.b2 = (Vh - Vb * K / Q + K * K) / a0;
    shelf_.a1 = 2.0 * (K * K - 1.0) / a0;
    shelf_.a2 = (1.0 - K / Q + K * K) / a0;
  }
  /* Stage 2: high-pass. */
  {
    const double f0 = 38.13547087602444;
    const double Q = 0.5003270373238773;
    const double K = std::tan (M_PI * f0 / fs);
    const double a0 = 1.0 + K / Q + K * K;
    highpass_.b0 = 1.0;
    highpass_.b1 = -2.0;
    highpass_.b2 = 1.0;
    highpass_.a1 = 2.0 * (K * K - 1.0) / a0;
    highpass_.a2 = (1.0 - K / Q + K * K) / a0;
  }
  state_.assign (channels_ * 4, 0.0);
}

void
KWeighting::reset ()
{
  std::fill (state_.begin (), state_.end (), 0.0);
}

void
KWeighting::process (double *frame)
{
  for (int c = 0; c < channels_; c++) {
    double *s = &state_[c * 4];
    /* Transposed direct form II. */
    double x = frame[c];
    double y = shelf_.b0 * x + s[0];
    s[0] = shelf_.b1 * x - shelf_.a1 * y + s[1];
    s[1] = shelf_.b2 * x - shelf_.a2 * y;
    x = y;
    y = highpass_.b0 * x + s[2];
    s[2] = highpass_.b1 * x - highpass_.a1 * y + s[3];
    s[3] = highpass_.b2 * x - highpass_.a2 * y;
    frame[c] = y;
  }
}

/* LoudnessMeter */

void
LoudnessMeter::configure (int rate, int channels)
{
  channels_ = std::max (1, channels);
  filter_.configure (rate, channels_);
  frame_.assign (channels_, 0.0);
  sub_frames_ = std::max<size_t> (1, (size_t) std::llround (0.1 * rate));
  reset ();
}

void
LoudnessMeter::reset ()
{
  filter_.reset ();
  sub_count_ = 0;
  sub_sum_ = 0.0;
  subs_.clear ();
  blocks_.clear ();
}

void
LoudnessMeter::process (const float *interleaved, size_t frames)
{
  for (size_t i = 0; i < frames; i++) {
    const float *in = interleaved + i * channels_;
    for (int c = 0; c < channels_; c++)
      frame_[c] = std::isfinite (in[c]) ? in[c] : 0.0;
    filter_.process (frame_.data ());
    for (int c = 0; c < channels_; c++)
      sub_sum_ += frame_[c] * frame_[c];
    if (++sub_count_ < sub_frames_)
      continue;
    subs_.push_back (sub_sum_ / sub_frames_);
    if (subs_.size () > kSubsShortTerm)
      subs_.pop_front ();
    sub_sum_ = 0.0;
    sub_count_ = 0;
    if (subs_.size () >= kSubsPerBlock)
      blocks_.push_back (mean_of_last (kSubsPerBlock));
  }
}

double
LoudnessMeter::mean_of_last (size_t n) const
{
  n = std::min (n, subs_.size ());
  if (n == 0)
    return 0.0;
  double sum = 0.0;
  for (size_t i = subs_.size () - n; i < subs_.size (); i++)
    sum += subs_[i];
  return sum / n;
}

double
LoudnessMeter::momentary () const
{
  return blocks_.empty () ? -HUGE_VAL : energy_to_lufs (blocks_.back ());
}

double
LoudnessMeter::short_term () const
{
  if (subs_.size () < kSubsPerBlock)
    return -HUGE_VAL;
  return energy_to_lufs (mean_of_last (kSubsShortTerm));
}

double
LoudnessMeter::gated (size_t first) const
{
  double sum = 0.0;
  size_t n = 0;
  for (size_t i = first; i < blocks_.size (); i++) {
    if (energy_to_lufs (blocks_[i]) > kAbsoluteGate) {
      sum += blocks_[i];
      n++;
    }
  }
  if (n == 0)
    return -HUGE_VAL;
  double relative = energy_to_lufs (sum / n) + kRelativeGate;
  sum = 0.0;
  n = 0;
  for (size_t i = first; i < blocks_.size (); i++) {
    double l = energy_to_lufs (blocks_[i]);
    if (l > kAbsoluteGate && l > relative) {
      sum += blocks_[i];
      n++;
    }
  }
  return n ? energy_to_lufs (sum / n) : -HUGE_VAL;
}

double
LoudnessMeter::integrated () const
{
  return gated (0);
}

double
LoudnessMeter::recent (double seconds) const
{
  size_t n = (size_t) std::max (1.0, std::round (seconds * 10.0));
  return gated (blocks_.size () > n ? blocks_.size () - n : 0);
}

/* LoudnessNormaliser */

void
LoudnessNormaliser::configure (int rate, int channels, double target_lufs,
    double max_gain_db, double time_constant_s, double window_s)
{
  bool keep = rate_ == rate && channels_ == std::max (1, channels);
  rate_ = rate;
  channels_ = std::max (1, channels);
  if (!keep)
    meter_.configure (rate, channels_);
  target_lufs_ = target_lufs;
  max_gain_db_ = std::max (0.0, max_gain_db);
  window_s_ = std::max (0.4, window_s);
  coef_ = one_pole_coef (rate, time_constant_s * 1000.0);
  if (!keep)
    reset ();
  else
    seen_blocks_ = 0; /* recompute the wanted gain at the next block */
}

void
LoudnessNormaliser::reset ()
{
  meter_.reset ();
  gain_ = 1.0;
  wanted_ = 1.0;
  seen_blocks_ = 0;
}

void
LoudnessNormaliser::process (float *interleaved, size_t frames)
{
  /* Measure and apply up to each sub-block's end, where a 400 ms block may
   * complete, so that a new block updates the wanted gain at that very
   * frame, however the frames come in. */
  for (size_t done = 0; done < frames;) {
    size_t n = std::min (meter_.frames_to_sub_block_end (), frames - done);
    float *x = interleaved + done * channels_;
    meter_.process (x, n);
    for (size_t i = 0; i < n; i++) {
      gain_ = wanted_ + coef_ * (gain_ - wanted_);
      float g = (float) gain_;
      for (int c = 0; c < channels_; c++)
        x[i * channels_ + c] *= g;
    }
    if (meter_.blocks () != seen_blocks_) {
      seen_blocks_ = meter_.blocks ();
      double loudness = meter_.recent (window_s_);
      if (std::isfinite (loudness)) {
        double db =
            std::clamp (target_lufs_ - loudness, -max_gain_db_, max_gain_db_);
        wanted_ = db_to_gain (db);
      }
    }
    done += n;
  }
}

/* PeakLimiter */

void
PeakLimiter::configure (
    int rate, int channels, double ceiling_db, double release_ms)
{
  channels_ = std::max (1, channels);
  ceiling_ = (float) db_to_gain (std::min (0.0, ceiling_db));
  release_coef_ = one_pole_coef (rate, release_ms);
}

void
PeakLimiter::process (float *interleaved, size_t frames)
{
  for (size_t i = 0; i < frames; i++) {
    float *x = interleaved + i * channels_;
    float peak = 0.0f;
    for (int c = 0; c < channels_; c++) {
      if (!std::isfinite (x[c]))
        x[c] = 0.0f;
      peak = std::max (peak, std::fabs (x[c]));
    }
    /* Recover towards 1, but never above what keeps this frame in. */
    gain_ = 1.0f + release_coef_ * (gain_ - 1.0f);
    if (peak * gain_ > ceiling_)
      gain_ = ceiling_ / peak;
    for (int c = 0; c < channels_; c++)
      x[c] = std::clamp (x[c] * gain_, -ceiling_, ceiling_);
  }
}

/* Mastering */

void
Mastering::configure (
    int rate, int channels, double loudness_target, double limit_db)
{
  normalise_ = loudness_target < 0.0;
  normaliser_.configure (rate, channels, normalise_ ? loudness_target : -16.0);
  limiter_.configure (rate, channels, limit_db);
}

void
Mastering::reset ()
{
  normaliser_.reset ();
  limiter_.reset ();
}

void
Mastering::process (float *interleaved, size_t frames)
{
  if (normalise_)
    normaliser_.process (interleaved, frames);
  limiter_.process (interleaved, frames);
}

/* DuckMix */

void
DuckMix::configure (const DuckMixConfig &config)
{
  config_ = config;
  ducker_.configure (config.ducker);
  const DuckerConfig &d = ducker_.config ();
  mastering_.configure (
      d.rate, d.channels, config.loudness_target, config.limit_db);
}

void
DuckMix::reset ()
{
  ducker_.reset ();
  mastering_.reset ();
}

void
DuckMix::process (
    const float *programme, const float *voice, float *out, size_t frames)
{
  /* The frames that still come from the empty delay line are not mastered:
   * mastering sees the mix from its first content frame. */
  const size_t empty = std::min (frames,
      ducker_.latency_frames () -
          std::min (ducker_.latency_frames (), ducker_.filled ()));
  ducker_.process (programme, voice, out, frames);
  if (config_.mastering)
    mastering_.process (
        out + empty * ducker_.config ().channels, frames - empty);
}

} // namespace ganvoice
