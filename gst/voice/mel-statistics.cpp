/* ganvoice: speech statistics in the model's log-mel domain (docs/cloning.md).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/mel-statistics.h>

#include <ganvoice/speaker-traits.h>
#include <ganvoice/voice-conversion.h>

#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ganvoice {
namespace {

/* Speech frames: total log-mel energy within this many nepers (40 dB) of
 * the 99th percentile frame. */
constexpr double kSpeechRange = 40.0 / 8.685889638;
/* Bands further below the target's loudest mean than this (35 dB) are
 * outside its band. */
constexpr double kBandRange = 35.0 / 8.685889638;
constexpr double kShrink = 0.1;
constexpr double kMaxShift = 24.0 / 8.685889638;
constexpr int kMinBands = 4;
/* Below this the log-mel resolves harmonics: the change is smoothed. */
constexpr double kSmoothBelowHz = 1000.0;
constexpr int kSmoothHalfWidth = 3;

/* The [n_mels, n_fft / 2 + 1] filterbank of @spec (mel.py's
 * mel_filterbank: triangles on the mel scale, Slaney area norm). */
torch::Tensor
filterbank (const MelSpec &spec)
{
  const int bins = spec.n_fft / 2 + 1;
  const double lo = hz_to_mel_scale (spec, spec.fmin);
  const double hi = hz_to_mel_scale (spec, spec.fmax);
  std::vector<double> hz (spec.n_mels + 2);
  for (int i = 0; i < spec.n_mels + 2; i++)
    hz[i] = mel_scale_to_hz (spec, lo + (hi - lo) * i / (spec.n_mels + 1));
  torch::Tensor fb = torch::zeros ({ spec.n_mels, bins }, torch::kFloat64);
  auto a = fb.accessor<double, 2> ();
  const bool area = spec.norm == "slaney";
  for (int m = 0; m < spec.n_mels; m++) {
    const double norm = area ? 2.0 / (hz[m + 2] - hz[m]) : 1.0;
    for (int k = 0; k < bins; k++) {
      const double f = (double) k * spec.sample_rate / spec.n_fft;
      const double up = (f - hz[m]) / (hz[m + 1] - hz[m]);
      const double down = (hz[m + 2] - f) / (hz[m + 2] - hz[m + 1]);
      a[m][k] = std::max (0.0, std::min (up, down)) * norm;
    }
  }
  return fb.to (torch::kFloat32);
}

void
check_spec (const MelSpec &s)
{
  if (s.sample_rate < 1 || s.n_fft < 2 || s.hop < 1 || s.win < 1 ||
      s.win > s.n_fft || s.n_mels < 1 || !(s.fmax > s.fmin) || s.fmin < 0.0 ||
      !(s.clamp > 0.0))
    throw std::invalid_argument ("analyze_mel: unusable mel front-end");
}

/* Symmetric @c [n, n] (float64) to the power @p, eigenvalues floored. */
torch::Tensor
matrix_power (const torch::Tensor &c, double p)
{
  auto [w, v] = at::linalg_eigh (c, "L");
  w = torch::clamp_min (w, 1e-8 * std::max (1e-12, w.max ().item<double> ()));
  return torch::matmul (v * torch::pow (w, p).unsqueeze (0), v.t ());
}

} // namespace

MelSpec
default_mel_spec ()
{
  MelSpec s;
  s.sample_rate = 22050;
  s.n_fft = 1024;
  s.hop = 256;
  s.win = 1024;
  s.n_mels = 80;
  s.fmin = 0.0;
  s.fmax = 8000.0;
  s.scale = "slaney";
  s.norm = "slaney";
  s.clamp = 1e-5;
  return s;
}

bool
same_front_end (const MelSpec &a, const MelSpec &b)
{
  auto near = [] (double x, double y) {
    return std::fabs (x - y) <= 1e-6 * std::max (1.0, std::fabs (x));
  };
  return a.sample_rate == b.sample_rate && a.n_fft == b.n_fft &&
      a.hop == b.hop && a.win == b.win && a.n_mels == b.n_mels &&
      near (a.fmin, b.fmin) && near (a.fmax, b.fmax) &&
      (a.scale == "htk") == (b.scale == "htk") &&
      (a.norm == "slaney") == (b.norm == "slaney") && near (a.clamp, b.clamp);
}

Mel
analyze_mel (const float *mono, size_t n, int rate, const MelSpec &spec)
{
  check_spec (spec);
  if (rate < 1)
    throw std::invalid_argument (
        "analyze_mel: the sample rate must be 1 Hz or more");
  std::vector<float> x = rate == spec.sample_rate
      ? std::vector<float> (mono, mono + n)
      : resample_mono (mono, n, rate, spec.sample_rate);
  Mel out;
  out.n_mels = (size_t) spec.n_mels;
  out.frames = x.size () / (size_t) spec.hop;
  if (out.frames == 0)
    return out;
  torch::InferenceMode guard;
  const int64_t pad = (spec.n_fft - spec.hop) / 2;
  torch::Tensor t = torch::from_blob (
      x.data (), { 1, 1, (int64_t) x.size () }, torch::kFloat32);
  /* Reflection needs more samples than the padding. */
  t = ((int64_t) x.size () > pad ? at::reflection_pad1d (t, { pad, pad })
                                 : at::constant_pad_nd (t, { pad, pad }, 0.0))
          .view ({ 1, -1 });
  const int64_t need = (int64_t) out.frames * spec.hop + spec.n_fft - spec.hop;
  if (t.size (1) < need)
    t = at::constant_pad_nd (t, { 0, need - t.size (1) }, 0.0);
  torch::Tensor window = torch::hann_window (spec.win, /*periodic=*/true);
  torch::Tensor s = at::stft (t, spec.n_fft, spec.hop, spec.win, window,
      /*normalized=*/false, /*onesided=*/true, /*return_complex=*/true);
  torch::Tensor mag =
      torch::sqrt (torch::real (s).pow (2) + torch::imag (s).pow (2) + 1e-9)[0];
  mag = mag.narrow (1, 0, (int64_t) out.frames);
  torch::Tensor mel = torch::log (
      torch::clamp_min (torch::matmul (filterbank (spec), mag), spec.clamp))
                          .contiguous ();
  out.data.assign (
      mel.data_ptr<float> (), mel.data_ptr<float> () + mel.numel ());
  return out;
}

MelStatistics
mel_statistics (const Mel &mel, const MelSpec &spec, double bandwidth_hz)
{
  MelStatistics st;
  const size_t n = mel.n_mels, T = mel.frames;
  if (n == 0 || T < kMinStatisticsFrames || mel.data.size () != n * T)
    return st;
  torch::InferenceMode guard;
  torch::Tensor m = torch::from_blob (
      (void *) mel.data.data (), { (int64_t) n, (int64_t) T }, torch::kFloat32)
                        .to (torch::kFloat64);
  torch::Tensor energy = torch::logsumexp (m, 0);
  const double top = torch::quantile (energy, 0.99).item<double> ();
  torch::Tensor keep = energy > top - kSpeechRange;
  const int64_t frames = keep.sum ().item<int64_t> ();
  if (frames < (int64_t) kMinStatisticsFrames)
    return st;
  torch::Tensor x = m.index ({ torch::indexing::Slice (), keep });
  torch::Tensor mean = x.mean (1);
  torch::Tensor d = x - mean.unsqueeze (1);
  torch::Tensor cov = torch::matmul (d, d.t ()) / (double) (frames - 1);
  st.mel = spec;
  st.bandwidth_hz =
      bandwidth_hz > 0.0 ? std::min (bandwidth_hz, spec.fmax) : spec.fmax;
  st.frames = (size_t) frames;
  mean = mean.to (torch::kFloat32).contiguous ();
  cov = cov.to (torch::kFloat32).contiguous ();
  st.mean.assign (mean.data_ptr<float> (), mean.data_ptr<float> () + n);
  st.covariance.assign (cov.data_ptr<float> (), cov.data_ptr<float> () + n * n);
  return st;
}

MelMapping
plan_mel_mapping (const MelStatistics &source, const MelStatistics &target)
{
  MelMapping map;
  if (source.empty () || target.empty () ||
      !same_front_end (source.mel, target.mel))
    return map;
  const size_t n = (size_t) target.mel.n_mels;
  if (source.mean.size () != n || target.mean.size () != n ||
      source.covariance.size () != n * n || target.covariance.size () != n * n)
    return map;
  const double limit = std::min (source.bandwidth_hz, target.bandwidth_hz);
  const float loudest =
      *std::max_element (target.mean.begin (), target.mean.end ());
  for (size_t b = 0; b < n; b++)
    if (target.mean[b] >= loudest - kBandRange &&
        mel_band_hz (target.mel, (double) b) <= limit)
      map.bands.push_back ((int) b);
  if ((int) map.bands.size () < kMinBands) {
    map.bands.clear ();
    return map;
  }
  torch::InferenceMode guard;
  const int64_t k = (int64_t) map.bands.size ();
  torch::Tensor idx = torch::tensor (
      std::vector<int64_t> (map.bands.begin (), map.bands.end ()));
  auto block = [&] (const MelStatistics &s) {
    torch::Tensor c = torch::from_blob ((void *) s.covariance.data (),
        { (int64_t) n, (int64_t) n }, torch::kFloat32)
                          .to (torch::kFloat64)
                          .index_select (0, idx)
                          .index_select (1, idx);
    c = 0.5 * (c + c.t ());
    return (1.0 - kShrink) * c + kShrink * torch::diag (torch::diag (c));
  };
  torch::Tensor cs = block (source), ct = block (target);
  /* A = Cs^-1/2 (Cs^1/2 Ct Cs^1/2)^1/2 Cs^-1/2 */
  torch::Tensor half = matrix_power (cs, 0.5),
                inv_half = matrix_power (cs, -0.5);
  torch::Tensor a = torch::matmul (inv_half,
      torch::matmul (
          matrix_power (torch::matmul (half, torch::matmul (ct, half)), 0.5),
          inv_half));
  a = a.to (torch::kFloat32).contiguous ();
  map.matrix.assign (a.data_ptr<float> (), a.data_ptr<float> () + k * k);
  /* The mean moves to the target's, less the overall level change. */
  double level = 0.0;
  for (int b : map.bands)
    level += target.mean[b] - source.mean[b];
  level /= (double) k;
  for (int b : map.bands) {
    double shift = std::clamp (
        target.mean[b] - source.mean[b] - level, -kMaxShift, kMaxShift);
    map.source_mean.push_back (source.mean[b]);
    map.target_mean.push_back ((float) (source.mean[b] + shift));
  }
  while (map.smoothed_bands < (int) n &&
      mel_band_hz (target.mel, map.smoothed_bands) < kSmoothBelowHz)
    map.smoothed_bands++;
  return map;
}

void
apply_mel_mapping (const MelMapping &mapping, const MelSpec &spec, Mel &mel)
{
  if (mapping.empty () || mel.frames == 0)
    return;
  const size_t k = mapping.bands.size (), T = mel.frames;
  for (int b : mapping.bands)
    if (b < 0 || (size_t) b >= mel.n_mels)
      throw std::invalid_argument ("apply_mel_mapping: band outside the mel");
  const float floor = (float) std::log (spec.clamp > 0.0 ? spec.clamp : 1e-5);
  const size_t n = mel.n_mels;
  const size_t smoothed =
      std::min (n, (size_t) std::max (0, mapping.smoothed_bands));
  /* The smoothing kernel: Hann of 2 * half + 3 points without its zero
   * ends, normalised. */
  const int half = kSmoothHalfWidth;
  std::vector<float> kernel (2 * half + 1);
  float sum = 0.0f;
  for (int i = 0; i <= 2 * half; i++) {
    kernel[i] =
        (float) (0.5 - 0.5 * std::cos (2.0 * M_PI * (i + 1) / (2 * half + 2)));
    sum += kernel[i];
  }
  for (float &w : kernel)
    w /= sum;
  std::vector<float> d (k), change (n);
  for (size_t t = 0; t < T; t++) {
    for (size_t i = 0; i < k; i++)
      d[i] =
          mel.data[(size_t) mapping.bands[i] * T + t] - mapping.source_mean[i];
    std::fill (change.begin (), change.end (), 0.0f);
    for (size_t i = 0; i < k; i++) {
      const float *row = &mapping.matrix[i * k];
      float acc = mapping.target_mean[i];
      for (size_t j = 0; j < k; j++)
        acc += row[j] * d[j];
      const size_t b = (size_t) mapping.bands[i];
      change[b] = acc - mel.data[b * T + t];
    }
    for (size_t b = 0; b < n; b++) {
      float c = change[b];
      if (b < smoothed) {
        c = 0.0f;
        for (int o = -half; o <= half; o++) {
          long at = std::clamp<long> ((long) b + o, 0, (long) n - 1);
          c += kernel[o + half] * change[(size_t) at];
        }
      }
      if (c != 0.0f)
        mel.data[b * T + t] = std::max (mel.data[b * T + t] + c, floor);
    }
  }
}

} // namespace ganvoice
