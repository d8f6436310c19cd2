/* ganvoice: measured voice traits of reference speech (voice cloning).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/speaker-traits.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <cstdio>
#include <numeric>
#include <stdexcept>

namespace ganvoice {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kBins = TraitAnalyzer::kWindow / 2 + 1;
/* YIN: lags for 500 .. 65 Hz over a 256-sample integration window. */
constexpr int kYinWindow = 256;
constexpr int kMinLag = TraitAnalyzer::kRate / 500;
constexpr int kMaxLag = TraitAnalyzer::kRate / 65;
constexpr int kLpcOrder = 18;
/* Levels: nothing below this is ever speech (dBFS, RMS). */
constexpr double kSilenceDb = -55.0;
/* The VAD: a frame is voiced when YIN's dip is below this. */
constexpr double kVoicedDip = 0.3;
/* ... and an unvoiced frame counts as speech when less noise-like. */
constexpr double kMaxFlatness = 0.35;
/* Pauses up to this long (frames) count as speech time. */
constexpr int kBridgeFrames = 30;
/* The usability thresholds (docs/cloning.md). */
constexpr double kMaxClipping = 0.01;
constexpr double kMinModulation = 0.2;
constexpr double kMaxStablePitch = 0.5;

double
hz_to_mel (double hz)
{
  return 2595.0 * std::log10 (1.0 + hz / 700.0);
}

double
mel_to_hz (double mel)
{
  return 700.0 * (std::pow (10.0, mel / 2595.0) - 1.0);
}

/* An in-place radix-2 complex FFT of size TraitAnalyzer::kWindow. */
class Fft {
public:
  Fft ()
  {
    const int n = TraitAnalyzer::kWindow;
    rev_.resize (n);
    int bits = 0;
    while ((1 << bits) < n)
      bits++;
    for (int i = 0; i < n; i++) {
      int r = 0;
      for (int b = 0; b < bits; b++)
        if (i & (1 << b))
          r |= 1 << (bits - 1 - b);
      rev_[i] = r;
    }
    twiddle_.resize (n / 2);
    for (int i = 0; i < n / 2; i++)
      twiddle_[i] = std::polar (1.0, -2.0 * kPi * i / n);
  }

  void run (std::vector<std::complex<double> > &x) const
  {
    const int n = TraitAnalyzer::kWindow;
    for (int i = 0; i < n; i++)
      if (i < rev_[i])
        std::swap (x[i], x[rev_[i]]);
    for (int len = 2; len <= n; len <<= 1) {
      const int step = n / len;
      for (int i = 0; i < n; i += len)
        for (int k = 0; k < len / 2; k++) {
          std::complex<double> t = twiddle_[k * step] * x[i + k + len / 2];
          x[i + k + len / 2] = x[i + k] - t;
          x[i + k] += t;
        }
    }
  }

private:
  std::vector<int> rev_;
  std::vector<std::complex<double> > twiddle_;
};

/* A streaming windowed-sinc resampler (mono), to 16 kHz by default. */
class Resampler {
public:
  explicit Resampler (int in_rate, int out_rate = TraitAnalyzer::kRate)
  {
    passthrough_ = in_rate == out_rate;
    step_ = (double) in_rate / out_rate;
    /* Cutoff in cycles per input sample, below both Nyquist rates. */
    fc_ = 0.5 * std::min (1.0, 1.0 / step_) * 0.92;
    half_ = (int) std::ceil (8.0 / (2.0 * fc_));
    table_.resize ((size_t) half_ * kPer + 2);
    for (size_t i = 0; i < table_.size (); i++) {
      double t = (double) i / kPer;
      double x = 2.0 * fc_ * t;
      double sinc = x == 0.0 ? 1.0 : std::sin (kPi * x) / (kPi * x);
      double w = t >= half_ ? 0.0 : 0.5 + 0.5 * std::cos (kPi * t / half_);
      table_[i] = (float) (2.0 * fc_ * sinc * w);
    }
    reset ();
  }

  void reset ()
  {
    buf_.assign ((size_t) half_, 0.0f);
    pos_ = half_;
  }

  void push (const float *x, size_t n, std::vector<float> &out)
  {
    if (passthrough_) {
      out.insert (out.end (), x, x + n);
      return;
    }
    buf_.insert (buf_.end (), x, x + n);
    while (pos_ + half_ + 1 < (double) buf_.size ()) {
      const long c = (long) pos_;
      const double frac = pos_ - c;
      double acc = 0.0;
      for (long k = c - half_ + 1; k <= c + half_; k++) {
        double t = std::fabs ((double) (k - c) - frac) * kPer;
        size_t i = (size_t) t;
        if (i + 1 >= table_.size ())
          continue;
        double w = table_[i] + (table_[i + 1] - table_[i]) * (t - i);
        acc += w * buf_[(size_t) k];
      }
      out.push_back ((float) acc);
      pos_ += step_;
    }
    long drop = (long) pos_ - half_;
    if (drop > 0) {
      buf_.erase (buf_.begin (), buf_.begin () + drop);
      pos_ -= drop;
    }
  }

private:
  static constexpr int kPer = 64;
  bool passthrough_ = false;
  double step_ = 1.0;
  double fc_ = 0.5;
  int half_ = 8;
  std::vector<float> table_;
  std::vector<float> buf_;
  double pos_ = 0.0;
};

struct Frame {
  float energy_db = -120.0f; /* RMS, dBFS */
  float flatness = 1.0f;
  float dip = 1.0f; /* YIN's minimum: 0 = periodic, 1 = not */
  float f0 = 0.0f; /* Hz, 0 = unvoiced */
  float spacing = 0.0f; /* formant spacing, Hz; 0 = none */
  std::array<float, TraitAnalyzer::kBands> mel_db{};

  bool voiced () const
  {
    return f0 > 0.0f;
  }
};

double
percentile (std::vector<double> v, double q)
{
  if (v.empty ())
    return 0.0;
  std::sort (v.begin (), v.end ());
  double at = q * (double) (v.size () - 1);
  size_t a = (size_t) at;
  size_t b = std::min (a + 1, v.size () - 1);
  return v[a] + (v[b] - v[a]) * (at - (double) a);
}

std::string
seconds_text (double s)
{
  char buf[32];
  std::snprintf (buf, sizeof buf, "%.1f", s);
  return buf;
}

} // namespace

double
trait_band_hz (double band)
{
  const double top = hz_to_mel (TraitAnalyzer::kRate / 2.0);
  return mel_to_hz (top * (band + 1.0) / (TraitAnalyzer::kBands + 1));
}

double
trait_band_at (double hz)
{
  const double top = hz_to_mel (TraitAnalyzer::kRate / 2.0);
  return hz_to_mel (std::max (hz, 0.0)) * (TraitAnalyzer::kBands + 1) / top -
      1.0;
}

struct TraitAnalyzer::Impl {
  int rate;
  int channels;
  Resampler resampler;
  Fft fft;
  std::vector<double> window; /* Hann, for the spectrum */
  std::vector<double> lpc_window; /* Hamming, for LPC */
  /* Triangular mel weights: band b covers bins [lo[b], hi[b]). */
  std::vector<std::vector<double> > mel_weights;
  std::vector<int> mel_lo;

  std::vector<float> mono; /* scratch */
  std::vector<float> pending; /* 16 kHz samples not yet framed */
  /* For speech_audio: the central 10 ms of each frame above the silence
   * level (up to kKeptSeconds of them), and each one's frame index. */
  std::vector<float> kept;
  std::vector<long> kept_frame;
  std::vector<Frame> frames;
  uint64_t input_frames = 0;
  uint64_t clipped = 0;
  float last_abs = 0.0f; /* the previous sample's magnitude, for runs */

  /* The running speech estimate. */
  double running_peak = -120.0;
  long last_speech = -1000000;
  long speech_frames = 0;

  std::vector<std::complex<double> > spec; /* scratch */

  Impl (int r, int c) : rate (r), channels (c), resampler (r)
  {
    window.resize (kWindow);
    lpc_window.resize (kWindow);
    for (int i = 0; i < kWindow; i++) {
      window[i] = 0.5 - 0.5 * std::cos (2.0 * kPi * i / kWindow);
      lpc_window[i] = 0.54 - 0.46 * std::cos (2.0 * kPi * i / (kWindow - 1));
    }
    mel_weights.resize (kBands);
    mel_lo.resize (kBands);
    for (int b = 0; b < kBands; b++) {
      double lo = trait_band_hz (b - 1.0), mid = trait_band_hz (b),
             hi = trait_band_hz (b + 1.0);
      int first = -1;
      for (int k = 0; k < kBins; k++) {
        double f = (double) k * kRate / kWindow;
        double w = 0.0;
        if (f > lo && f < mid)
          w = (f - lo) / (mid - lo);
        else if (f >= mid && f < hi)
          w = (hi - f) / (hi - mid);
        if (w > 0.0) {
          if (first < 0)
            first = k;
          mel_weights[b].resize ((size_t) (k - first + 1), 0.0);
          mel_weights[b][(size_t) (k - first)] = w;
        }
      }
      if (first < 0) {
        /* A band narrower than a bin: the nearest bin. */
        first = std::min (kBins - 1, (int) std::lround (mid * kWindow / kRate));
        mel_weights[b].assign (1, 1.0);
      }
      mel_lo[b] = first;
    }
    spec.resize (kWindow);
  }

  void reset ()
  {
    resampler.reset ();
    pending.clear ();
    kept.clear ();
    kept_frame.clear ();
    frames.clear ();
    input_frames = 0;
    clipped = 0;
    last_abs = 0.0f;
    running_peak = -120.0;
    last_speech = -1000000;
    speech_frames = 0;
  }

  void analyze (const float *x);
  void yin (const float *x, Frame &fr) const;
  void formants (const float *x, Frame &fr);
};

void
TraitAnalyzer::Impl::yin (const float *x, Frame &fr) const
{
  std::array<double, kMaxLag + 2> d{};
  for (int tau = 1; tau <= kMaxLag + 1; tau++) {
    double s = 0.0;
    for (int j = 0; j < kYinWindow; j++) {
      double diff = (double) x[j] - x[j + tau];
      s += diff * diff;
    }
    d[tau] = s;
  }
  /* The cumulative mean normalized difference. */
  std::array<double, kMaxLag + 2> cm{};
  cm[0] = 1.0;
  double running = 0.0;
  for (int tau = 1; tau <= kMaxLag + 1; tau++) {
    running += d[tau];
    cm[tau] = running > 0.0 ? d[tau] * tau / running : 1.0;
  }
  int best = -1;
  for (int tau = kMinLag; tau <= kMaxLag; tau++) {
    if (cm[tau] < 0.15) {
      while (tau + 1 <= kMaxLag && cm[tau + 1] < cm[tau])
        tau++;
      best = tau;
      break;
    }
  }
  if (best < 0) {
    best = kMinLag;
    for (int tau = kMinLag; tau <= kMaxLag; tau++)
      if (cm[tau] < cm[best])
        best = tau;
  }
  fr.dip = (float) std::min (1.0, cm[best]);
  if (cm[best] >= kVoicedDip || best <= kMinLag || best >= kMaxLag)
    return;
  /* Parabolic interpolation of the dip. */
  double a = cm[best - 1], b = cm[best], c = cm[best + 1];
  double den = a - 2.0 * b + c;
  double shift = den > 0.0 ? 0.5 * (a - c) / den : 0.0;
  shift = std::max (-0.5, std::min (0.5, shift));
  fr.f0 = (float) (kRate / (best + shift));
}

void
TraitAnalyzer::Impl::formants (const float *x, Frame &fr)
{
  /* LPC (autocorrelation method) of the pre-emphasized frame. */
  std::array<double, kWindow> y;
  for (int i = 0; i < kWindow; i++)
    y[i] = ((double) x[i] - (i > 0 ? 0.97 * x[i - 1] : 0.0)) * lpc_window[i];
  std::array<double, kLpcOrder + 1> r{};
  for (int k = 0; k <= kLpcOrder; k++) {
    double s = 0.0;
    for (int i = k; i < kWindow; i++)
      s += y[i] * y[i - k];
    r[k] = s;
  }
  if (r[0] <= 1e-9)
    return;
  r[0] *= 1.0 + 1e-6;
  std::array<double, kLpcOrder + 1> a{}, tmp{};
  a[0] = 1.0;
  double err = r[0];
  for (int i = 1; i <= kLpcOrder; i++) {
    double acc = r[i];
    for (int j = 1; j < i; j++)
      acc += a[j] * r[i - j];
    double k = -acc / err;
    tmp = a;
    for (int j = 1; j < i; j++)
      a[j] = tmp[j] + k * tmp[i - j];
    a[i] = k;
    err *= 1.0 - k * k;
    if (err <= 0.0)
      return;
  }
  /* The LPC envelope 1/|A|^2 on the FFT grid, and its peaks. */
  for (int i = 0; i < kWindow; i++)
    spec[i] = i <= kLpcOrder ? a[i] : 0.0;
  fft.run (spec);
  std::array<double, kBins> env;
  for (int k = 0; k < kBins; k++)
    env[k] = 1.0 / std::max (std::norm (spec[k]), 1e-12);
  const double bin_hz = (double) kRate / kWindow;
  double found[3];
  int n = 0;
  for (int k = (int) (200.0 / bin_hz); k < (int) (4500.0 / bin_hz) && n < 3;
       k++) {
    if (env[k] > env[k - 1] && env[k] >= env[k + 1]) {
      double l = std::log (env[k - 1]), m = std::log (env[k]),
             h = std::log (env[k + 1]);
      double den = l - 2.0 * m + h;
      double shift = den < 0.0 ? 0.5 * (l - h) / den : 0.0;
      found[n++] = (k + shift) * bin_hz;
    }
  }
  if (n < 3)
    return;
  /* A uniform tube has formants at (n - 1/2) * spacing. */
  double spacing = (found[0] + found[1] + found[2]) / 4.5;
  if (spacing > 600.0 && spacing < 2000.0)
    fr.spacing = (float) spacing;
}

void
TraitAnalyzer::Impl::analyze (const float *x)
{
  Frame fr;
  double energy = 0.0, wsum = 0.0;
  for (int i = 0; i < kWindow; i++) {
    double v = x[i] * window[i];
    energy += v * v;
    wsum += window[i] * window[i];
    spec[i] = v;
  }
  fr.energy_db = (float) (10.0 * std::log10 (energy / wsum + 1e-12));
  fft.run (spec);
  std::array<double, kBins> power;
  for (int k = 0; k < kBins; k++)
    power[k] = std::norm (spec[k]);
  /* Flatness over 100 .. 4000 Hz. */
  const int lo = (int) (100.0 * kWindow / kRate),
            hi = (int) (4000.0 * kWindow / kRate);
  double log_sum = 0.0, sum = 0.0;
  for (int k = lo; k < hi; k++) {
    log_sum += std::log (power[k] + 1e-12);
    sum += power[k] + 1e-12;
  }
  fr.flatness = (float) (std::exp (log_sum / (hi - lo)) / (sum / (hi - lo)));
  for (int b = 0; b < kBands; b++) {
    double s = 0.0;
    const auto &w = mel_weights[b];
    for (size_t i = 0; i < w.size (); i++)
      s += w[i] * power[(size_t) mel_lo[b] + i];
    fr.mel_db[b] = (float) (10.0 * std::log10 (s / wsum + 1e-12));
  }
  if (fr.energy_db > kSilenceDb) {
    yin (x, fr);
    if (fr.voiced ())
      formants (x, fr);
  }
  if (fr.energy_db >= kSilenceDb &&
      kept.size () + kHop <= (size_t) (kKeptSeconds * kRate)) {
    const float *mid = x + (kWindow - kHop) / 2;
    kept.insert (kept.end (), mid, mid + kHop);
    kept_frame.push_back ((long) frames.size ());
  }
  frames.push_back (fr);

  /* The running speech estimate, for max-speech. */
  running_peak = std::max (running_peak, (double) fr.energy_db);
  const long i = (long) frames.size () - 1;
  if (fr.energy_db > std::max (kSilenceDb, running_peak - 35.0) &&
      (fr.voiced () || fr.flatness < kMaxFlatness)) {
    long gap = i - last_speech - 1;
    speech_frames += 1 + (gap > 0 && gap <= kBridgeFrames ? gap : 0);
    last_speech = i;
  }
}

TraitAnalyzer::TraitAnalyzer (int sample_rate, int channels)
{
  if (sample_rate < 1 || channels < 1)
    throw std::invalid_argument ("TraitAnalyzer: bad rate or channel count");
  impl_ = std::make_unique<Impl> (sample_rate, channels);
}

TraitAnalyzer::~TraitAnalyzer () = default;

void
TraitAnalyzer::set_format (int sample_rate, int channels)
{
  if (sample_rate < 1 || channels < 1)
    throw std::invalid_argument ("TraitAnalyzer: bad rate or channel count");
  Impl &m = *impl_;
  if (sample_rate == m.rate && channels == m.channels)
    return;
  /* Input seconds so far, kept in the new rate's frames. */
  m.input_frames =
      (uint64_t) std::llround ((double) m.input_frames * sample_rate / m.rate);
  m.rate = sample_rate;
  m.channels = channels;
  m.resampler = Resampler (sample_rate);
}

void
TraitAnalyzer::add (const float *interleaved, size_t n)
{
  Impl &m = *impl_;
  m.mono.resize (n);
  for (size_t i = 0; i < n; i++) {
    double s = 0.0;
    for (int c = 0; c < m.channels; c++) {
      float v = interleaved[i * m.channels + c];
      s += std::isfinite (v) ? v : 0.0f;
      /* Clipping: runs of samples at full scale (flat tops). */
      float mag = std::fabs (v);
      if (c == 0) {
        if (mag >= 0.99f && m.last_abs >= 0.99f)
          m.clipped++;
        m.last_abs = mag;
      }
    }
    m.mono[i] = (float) (s / m.channels);
  }
  m.input_frames += n;
  m.resampler.push (m.mono.data (), n, m.pending);
  size_t at = 0;
  while (m.pending.size () - at >= (size_t) kWindow) {
    m.analyze (m.pending.data () + at);
    at += kHop;
  }
  m.pending.erase (m.pending.begin (), m.pending.begin () + at);
}

double
TraitAnalyzer::speech_seconds () const
{
  return impl_->speech_frames * (double) kHop / kRate;
}

double
TraitAnalyzer::input_seconds () const
{
  return (double) impl_->input_frames / impl_->rate;
}

void
TraitAnalyzer::reset ()
{
  impl_->reset ();
}

TraitReport
TraitAnalyzer::finish () const
{
  const Impl &m = *impl_;
  const std::vector<Frame> &fr = m.frames;
  const long n = (long) fr.size ();
  const double frame_s = (double) kHop / kRate;
  TraitReport r;
  r.input_seconds = input_seconds ();

  auto fail = [&] (TraitProblem p, const std::string &message) {
    r.problem = p;
    r.message = message;
    return r;
  };

  double peak = -120.0;
  std::vector<double> levels;
  for (const Frame &f : fr) {
    peak = std::max (peak, (double) f.energy_db);
    levels.push_back (f.energy_db);
  }
  if (n == 0 || peak < kSilenceDb)
    return fail (TraitProblem::Silence,
        "The audio is silent: nothing is louder than -55 dBFS (is the "
        "microphone muted, or the wrong input selected?).");

  /* The VAD: loud enough for this recording, and periodic (voiced) or at
   * least not noise-like. */
  const double floor = percentile (levels, 0.1);
  const double threshold = std::max (
      { kSilenceDb, std::min (floor + 12.0, peak - 6.0), peak - 40.0 });
  std::vector<char> active (n), speech (n);
  long n_active = 0;
  for (long i = 0; i < n; i++) {
    active[i] = fr[i].energy_db >= threshold;
    speech[i] = active[i] && (fr[i].voiced () || fr[i].flatness < kMaxFlatness);
    n_active += active[i];
  }
  /* Fill short active gaps inside speech (consonants), then drop speech
   * runs shorter than 50 ms. */
  for (long i = 0; i < n;) {
    if (speech[i]) {
      i++;
      continue;
    }
    long j = i;
    while (j < n && !speech[j] && active[j])
      j++;
    if (i > 0 && j < n && speech[j] && j - i <= 8)
      std::fill (speech.begin () + i, speech.begin () + j, 1);
    i = std::max (j, i + 1);
  }
  for (long i = 0; i < n;) {
    if (!speech[i]) {
      i++;
      continue;
    }
    long j = i;
    while (j < n && speech[j])
      j++;
    if (j - i < 5)
      std::fill (speech.begin () + i, speech.begin () + j, 0);
    i = j;
  }
  /* Speech time, with pauses shorter than kBridgeFrames counted in. */
  long speech_time = 0, last = -1;
  for (long i = 0; i < n; i++)
    if (speech[i]) {
      long gap = last >= 0 ? i - last - 1 : 0;
      speech_time += 1 + (gap <= kBridgeFrames ? gap : 0);
      last = i;
    }
  r.speech_seconds = speech_time * frame_s;
  /* The speech itself: each kept speech frame's central 10 ms. */
  for (size_t k = 0; k < m.kept_frame.size (); k++)
    if (speech[m.kept_frame[k]])
      r.speech_audio.insert (r.speech_audio.end (), m.kept.begin () + k * kHop,
          m.kept.begin () + (k + 1) * kHop);

  /* F0 and formants of the voiced speech frames. */
  std::vector<double> f0s, spacings;
  for (long i = 0; i < n; i++)
    if (speech[i] && fr[i].voiced ()) {
      f0s.push_back (fr[i].f0);
      if (fr[i].spacing > 0.0f)
        spacings.push_back (fr[i].spacing);
    }
  r.voiced_seconds = (double) f0s.size () * frame_s;
  VoiceTraits &t = r.traits;
  t.f0_median_hz = percentile (f0s, 0.5);
  t.f0_low_hz = percentile (f0s, 0.05);
  t.f0_high_hz = percentile (f0s, 0.95);
  if (!spacings.empty ())
    t.formant_scale = std::max (
        0.5, std::min (2.0, percentile (spacings, 0.5) / kReferenceSpacing));

  /* The long-term envelope: mean dB per band over the speech, relative to
   * the mean over the bands (so the recording level does not matter). */
  long n_speech = std::count (speech.begin (), speech.end (), 1);
  if (n_speech > 0) {
    std::vector<double> env (kBands, 0.0);
    for (long i = 0; i < n; i++)
      if (speech[i])
        for (int b = 0; b < kBands; b++)
          env[b] += fr[i].mel_db[b];
    double mean = 0.0;
    for (double &e : env)
      mean += (e /= (double) n_speech);
    mean /= kBands;
    t.spectral_envelope.clear ();
    for (double e : env)
      t.spectral_envelope.push_back ((float) (e - mean));
  }

  /* Syllable nuclei: voiced peaks of the smoothed level, 4 dB above the
   * dips around them. */
  std::vector<double> smooth (n, -120.0);
  for (long i = 0; i < n; i++) {
    double s = 0.0;
    int c = 0;
    for (long k = std::max (0L, i - 2); k <= std::min (n - 1, i + 2); k++, c++)
      s += fr[k].energy_db;
    smooth[i] = s / c;
  }
  long nuclei = 0;
  for (long i = 0; i < n; i++) {
    if (!speech[i] || !fr[i].voiced ())
      continue;
    bool is_peak = true;
    for (long k = std::max (0L, i - 6); k <= std::min (n - 1, i + 6) && is_peak;
         k++)
      if (k != i &&
          (smooth[k] > smooth[i] || (k < i && smooth[k] == smooth[i])))
        is_peak = false;
    if (!is_peak)
      continue;
    double left = smooth[i], right = smooth[i];
    for (long k = std::max (0L, i - 20); k < i; k++)
      left = std::min (left, smooth[k]);
    for (long k = i + 1; k <= std::min (n - 1, i + 20); k++)
      right = std::min (right, smooth[k]);
    if (smooth[i] - std::max (left, right) >= 4.0 ||
        (smooth[i] - std::min (left, right) >= 4.0 &&
            (i - 20 < 0 || i + 20 >= n)))
      nuclei++;
  }
  if (r.speech_seconds > 0.0) {
    t.syllable_rate = nuclei / r.speech_seconds;
    t.speaking_rate = std::min (100.0, t.syllable_rate * kPhonemesPerSyllable);
  }

  /* Clipping, over the active part of the input. */
  const double active_share = (double) n_active / (double) n;
  if (m.input_frames > 0)
    r.clipping_ratio = (double) m.clipped /
        std::max (1.0, (double) m.input_frames * active_share);

  /* Speech rhythm: the 2-8 Hz modulation depth of the level over the
   * active stretch, in blocks of 2.56 s (median) that are at least half
   * active, so that long pauses do not count as steady sound. */
  long first = 0, end = n;
  while (first < n && !active[first])
    first++;
  while (end > first && !active[end - 1])
    end--;
  std::vector<double> depths;
  const long block = std::min (256L, end - first);
  if (block >= 50) {
    const long hop = std::max (1L, block / 2);
    for (long s = first; s + block <= end; s += hop) {
      if (2 * std::count (active.begin () + s, active.begin () + s + block, 1) <
          block)
        continue;
      std::vector<double> env (block);
      double mean = 0.0;
      for (long i = 0; i < block; i++) {
        env[i] = std::pow (10.0, fr[s + i].energy_db / 20.0);
        mean += env[i];
      }
      mean /= block;
      if (mean <= 0.0)
        continue;
      double wsum = 0.0;
      for (long i = 0; i < block; i++) {
        double w = 0.5 - 0.5 * std::cos (2.0 * kPi * (i + 0.5) / block);
        env[i] = (env[i] - mean) * w;
        wsum += w * w;
      }
      const double fps = 1.0 / frame_s;
      double power = 0.0;
      for (long k = 1; k < block / 2; k++) {
        double f = k * fps / block;
        if (f < 2.0 || f > 8.0)
          continue;
        std::complex<double> acc = 0.0;
        for (long i = 0; i < block; i++)
          acc += env[i] * std::polar (1.0, -2.0 * kPi * k * i / block);
        power += std::norm (acc);
      }
      depths.push_back (2.0 * std::sqrt (power / (block * wsum)) / mean);
    }
  }
  r.modulation = depths.empty () ? 1.0 : percentile (depths, 0.5);

  /* Stable pitch: voiced runs of 0.4 s or more within 1.5 %. */
  long stable = 0, voiced = 0;
  for (long i = 0; i < n;) {
    if (!fr[i].voiced () || !active[i]) {
      i++;
      continue;
    }
    long j = i + 1;
    double ref = fr[i].f0;
    while (j < n && fr[j].voiced () && active[j] &&
        std::fabs (std::log (fr[j].f0 / ref)) < 0.015)
      j++;
    voiced += j - i;
    if (j - i >= 40)
      stable += j - i;
    i = j;
  }
  r.stable_pitch = voiced > 0 ? (double) stable / voiced : 0.0;

  const char *no_speech = "No speech found: the audio is noise or "
                          "unvoiced sound, with no voice in it.";
  if (n_speech == 0)
    return fail (TraitProblem::NoSpeech, no_speech);
  if (r.clipping_ratio > kMaxClipping) {
    char pct[32];
    std::snprintf (pct, sizeof pct, "%.1f", 100.0 * r.clipping_ratio);
    return fail (TraitProblem::Clipping,
        std::string ("The audio is heavily clipped: ") + pct +
            " % of the samples are at full scale. Record again at a lower "
            "level.");
  }
  if (r.modulation < kMinModulation || r.stable_pitch > kMaxStablePitch)
    return fail (TraitProblem::MusicOnly,
        "This sounds like music or steady tones, not speech (no syllable "
        "rhythm, or long notes of steady pitch): use a recording of speech "
        "only.");
  if (r.voiced_seconds < 0.3)
    return fail (TraitProblem::NoSpeech, no_speech);
  if (r.speech_seconds < kMinSpeech)
    return fail (TraitProblem::TooShort,
        "Only " + seconds_text (r.speech_seconds) +
            " s of speech was found: at least 1.5 s is needed (3 s or more, "
            "ideally 10-30 s, for a good clone).");
  return r;
}

std::vector<float>
resample_to_16k (
    const float *interleaved, size_t frames, int rate, int channels)
{
  std::vector<float> mono (frames);
  for (size_t i = 0; i < frames; i++) {
    double s = 0.0;
    for (int c = 0; c < channels; c++)
      s += interleaved[i * channels + c];
    mono[i] = (float) (s / channels);
  }
  return resample_mono (mono.data (), frames, rate, TraitAnalyzer::kRate);
}

std::vector<float>
resample_mono (const float *mono, size_t n, int rate, int out_rate)
{
  if (rate < 1 || out_rate < 1)
    throw std::invalid_argument ("sample rates must be 1 Hz or more");
  std::vector<float> out;
  Resampler r (rate, out_rate);
  r.push (mono, n, out);
  return out;
}

} // namespace ganvoice
