/* ganvoice: the signal pieces of deep-clone fine-tuning (see
 * speech-alignment.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "voice/speech-alignment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace ganvoice {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kCepstra = 20; /* mel cepstra per frame for alignment */

} // namespace

/* models/common/audio.py trim(): cuts leading and trailing frames more than
 * @thresh_db below the loudest, keeping @margin seconds. */
std::vector<float>
trim_silence (const std::vector<float> &x, int rate, int frame,
    double thresh_db, double margin)
{
  const size_t n = x.size () / (size_t) frame;
  if (n < 2)
    return x;
  std::vector<double> e (n);
  double top = 0.0;
  for (size_t i = 0; i < n; i++) {
    double s = 0.0;
    for (int j = 0; j < frame; j++)
      s += (double) x[i * frame + j] * x[i * frame + j];
    e[i] = std::sqrt (s / frame + 1e-12);
    top = std::max (top, e[i]);
  }
  long first = -1, last = -1;
  for (size_t i = 0; i < n; i++)
    if (20.0 * std::log10 (e[i] / (top + 1e-12)) > thresh_db) {
      if (first < 0)
        first = (long) i;
      last = (long) i;
    }
  if (first < 0)
    return {};
  const long m = (long) (margin * rate);
  const long a = std::max (0L, first * frame - m);
  const long b = std::min ((long) x.size (), (last + 1) * frame + m);
  return std::vector<float> (x.begin () + a, x.begin () + b);
}

/* models/acoustic/prepare_data.py f0_track(): frame F0 by normalised
 * autocorrelation, 0 = unvoiced; @frames values. */
torch::Tensor
frame_f0 (const std::vector<float> &x, int rate, int hop, int64_t frames)
{
  const int64_t win = 1024;
  const double fmin = 55.0, fmax = 600.0;
  torch::Tensor f0 = torch::zeros ({ frames }, torch::kFloat32);
  if (frames < 3)
    return f0;
  torch::Tensor t = torch::from_blob (
      (void *) x.data (), { (int64_t) x.size () }, torch::kFloat32)
                        .to (torch::kFloat64);
  t = torch::constant_pad_nd (t, { win / 2, win / 2 + win }, 0.0);
  torch::Tensor fr = t.unfold (0, win, hop).narrow (0, 0, frames);
  torch::Tensor window = torch::hann_window (
      win, /*periodic=*/false, torch::TensorOptions (torch::kFloat64));
  fr = fr * window;
  fr = fr - fr.mean (1, true);
  torch::Tensor spec = at::fft_rfft (fr, 2 * win);
  torch::Tensor ac =
      at::fft_irfft (spec.abs ().pow (2)).narrow (1, 0, win).contiguous ();
  torch::Tensor wac =
      at::fft_irfft (at::fft_rfft (window, 2 * win).abs ().pow (2))
          .narrow (0, 0, win);
  ac = ac / wac.clamp_min (1e-9).unsqueeze (0);
  ac = ac / ac.narrow (1, 0, 1).clamp_min (1e-9);
  const int64_t lo = (int64_t) (rate / fmax), hi = (int64_t) (rate / fmin);
  if (hi >= win - 1 || lo < 1)
    return f0;
  torch::Tensor seg = ac.narrow (1, lo, hi - lo);
  auto [peak, arg] = seg.max (1);
  torch::Tensor k = (arg + lo).clamp (1, win - 2);
  torch::Tensor a = ac.gather (1, (k - 1).unsqueeze (1)).squeeze (1);
  torch::Tensor b = ac.gather (1, k.unsqueeze (1)).squeeze (1);
  torch::Tensor c = ac.gather (1, (k + 1).unsqueeze (1)).squeeze (1);
  torch::Tensor den = a - 2 * b + c;
  torch::Tensor shift = torch::where (den.abs () > 1e-9,
      0.5 * (a - c) /
          torch::where (den.abs () > 1e-9, den, torch::ones_like (den)),
      torch::zeros_like (den));
  torch::Tensor hz = rate / (k.to (torch::kFloat64) + shift.clamp (-0.5, 0.5));
  torch::Tensor energy = fr.pow (2).mean (1).sqrt ();
  torch::Tensor voiced =
      (peak > 0.45).logical_and (energy > 0.02 * energy.max ());
  /* No isolated voiced frames. */
  torch::Tensor prev = torch::roll (voiced, 1), next = torch::roll (voiced, -1);
  voiced = voiced.logical_and (prev.logical_or (next));
  return torch::where (voiced, hz, torch::zeros_like (hz)).to (torch::kFloat32);
}

int64_t
clean_speaker_f0 (std::vector<torch::Tensor> &f0, double max_ratio)
{
  std::vector<torch::Tensor> voiced;
  for (const torch::Tensor &f : f0)
    voiced.push_back (f.masked_select (f > 0));
  if (voiced.empty ())
    return 0;
  torch::Tensor all = torch::cat (voiced);
  if (all.numel () == 0)
    return 0;
  const double median = all.median ().item<double> ();
  const double lo = median / max_ratio, hi = median * max_ratio;
  int64_t removed = 0;
  for (torch::Tensor &f : f0) {
    const int64_t T = f.size (0);
    torch::Tensor in = (f >= lo).logical_and (f <= hi).to (torch::kFloat32);
    torch::Tensor prev =
        torch::constant_pad_nd (in, { 1, 0 }, 0).narrow (0, 0, T);
    torch::Tensor next =
        torch::constant_pad_nd (in, { 0, 1 }, 0).narrow (0, 1, T);
    torch::Tensor keep = (in > 0).logical_and ((prev + next) > 0);
    removed +=
        ((f > 0).logical_and (keep.logical_not ())).sum ().item<int64_t> ();
    f = torch::where (keep, f, torch::zeros_like (f));
  }
  return removed;
}

/* models/acoustic/align.py features(): log-mel [bins, T] to mean-normalised
 * mel cepstra and their deltas, [T, 2 * C]. */
torch::Tensor
cepstral_features (const torch::Tensor &mel)
{
  torch::Tensor x = mel.to (torch::kFloat64).t (); /* [T, n] */
  const int64_t n = x.size (1), T = x.size (0);
  const int64_t C = std::min<int64_t> (kCepstra, n);
  torch::Tensor k = torch::arange (n, torch::kFloat64);
  torch::Tensor q = torch::arange (C, torch::kFloat64);
  torch::Tensor dct =
      torch::cos (kPi / n * (k.unsqueeze (0) + 0.5) * q.unsqueeze (1));
  torch::Tensor c = torch::matmul (x, dct.t ());
  c = c - c.mean (0, true);
  torch::Tensor pad = torch::cat ({ c.narrow (0, 0, 1).expand ({ 2, C }), c,
      c.narrow (0, T - 1, 1).expand ({ 2, C }) });
  torch::Tensor d = (2 * (pad.narrow (0, 4, T) - pad.narrow (0, 0, T)) +
                        (pad.narrow (0, 3, T) - pad.narrow (0, 1, T))) /
      10.0;
  return torch::cat ({ c, d }, 1);
}

/* Monotonic alignment search: the best monotonic path through @T frames and
 * @K states, each state at least one frame, with @loglik (t, from, count)
 * filling count rows of log-likelihoods [count, K] from frame t. Durations
 * [K]. Memory: one byte per cell. */
std::vector<int64_t>
monotonic_alignment (int64_t T, int64_t K,
    const std::function<torch::Tensor (int64_t, int64_t)> &loglik)
{
  const double ninf = -std::numeric_limits<double>::infinity ();
  std::vector<uint8_t> from_left ((size_t) (T * K), 0);
  std::vector<double> prev ((size_t) K, ninf), cur ((size_t) K, ninf);
  const int64_t chunk = 256;
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t rows = std::min (chunk, T - t0);
    torch::Tensor ll = loglik (t0, rows).to (torch::kFloat64).contiguous ();
    const double *l = ll.data_ptr<double> ();
    for (int64_t r = 0; r < rows; r++) {
      const int64_t t = t0 + r;
      const double *row = l + r * K;
      if (t == 0) {
        std::fill (cur.begin (), cur.end (), ninf);
        cur[0] = row[0];
      } else {
        uint8_t *bp = from_left.data () + (size_t) (t * K);
        for (int64_t n = 0; n < K; n++) {
          const double stay = prev[(size_t) n];
          const double left = n > 0 ? prev[(size_t) n - 1] : ninf;
          bp[n] = n > 0 && left >= stay;
          cur[(size_t) n] = std::max (stay, left) + row[n];
        }
      }
      std::swap (prev, cur);
    }
  }
  std::vector<int64_t> dur ((size_t) K, 0);
  int64_t n = K - 1;
  for (int64_t t = T - 1; t >= 0; t--) {
    dur[(size_t) n]++;
    if (t == 0)
      break;
    if (n > 0 && (n == t || from_left[(size_t) (t * K + n)]))
      n--;
  }
  return dur;
}

/* Splits a text into sentences at . ! ? … and line ends. */
std::vector<std::string>
split_sentences (const std::string &text)
{
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] () {
    size_t a = cur.find_first_not_of (" \t\r\n");
    if (a != std::string::npos) {
      size_t b = cur.find_last_not_of (" \t\r\n");
      out.push_back (cur.substr (a, b - a + 1));
    }
    cur.clear ();
  };
  for (size_t i = 0; i < text.size (); i++) {
    char ch = text[i];
    if (ch == '\n') {
      flush ();
      continue;
    }
    cur += ch;
    bool end = ch == '.' || ch == '!' || ch == '?';
    if (text.compare (i, 3, "…") == 0) {
      cur += text.substr (i + 1, 2);
      i += 2;
      end = true;
    }
    if (!end)
      continue;
    /* Closing quotes belong to the sentence they end. */
    for (const char *quote : { "\"", "'", "”", "»", "“" })
      while (text.compare (i + 1, strlen (quote), quote) == 0) {
        cur += quote;
        i += strlen (quote);
      }
    if (i + 1 >= text.size () || text[i + 1] == ' ' || text[i + 1] == '\n' ||
        text[i + 1] == '\t' || text[i + 1] == '\r')
      flush ();
  }
  flush ();
  return out;
}

} // namespace ganvoice
