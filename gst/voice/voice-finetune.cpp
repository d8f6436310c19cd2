/* ganvoice: deep clones, the acoustic model fine-tuned on one person's read
 * speech (see voice-finetune.h). The recipe is models/acoustic/finetune.py's.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/voice-finetune.h>

#include <ganvoice/acoustic-model.h>
#include <ganvoice/mel-statistics.h>
#include <ganvoice/slot-fit.h>
#include <ganvoice/speaker-traits.h>
#include <ganvoice/text-frontend.h>

#include "runtime/torch-runtime.h"
#include "voice/speech-alignment.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <map>
#include <optional>
#include <random>

namespace ganvoice {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kBatchFrames = 3000; /* padded frames per training batch */
constexpr size_t kVoiceSample = 12; /* sentences that pick the start voice */
constexpr int kWarmupSteps = 50;

/* Take checks. */
constexpr double kFrameSeconds = 0.02;
constexpr double kSpeechBelowPeakDb = 35.0; /* speech frames: within this */
constexpr double kSilenceDbfs = -55.0; /* ... and above this */
constexpr double kQuietPeakDbfs = -30.0;
constexpr double kClipLevel = 0.999;
constexpr double kClippedFraction = 0.001;
constexpr double kSecondsPerPhoneme = 0.075; /* about 13 phonemes/s read */
constexpr double kMinSpeechSeconds = 0.4;

using Clock = std::chrono::steady_clock;

double
seconds_since (Clock::time_point t0)
{
  return std::chrono::duration<double> (Clock::now () - t0).count ();
}

double
to_db (double amplitude)
{
  return 20.0 * std::log10 (std::max (amplitude, 1e-6));
}

bool
starts_with_any (const std::string &name, const std::vector<std::string> &p)
{
  for (const std::string &prefix : p)
    if (name.compare (0, prefix.size (), prefix) == 0)
      return true;
  return false;
}

/* Phonemes that take time: not word breaks, pauses, stress or length. */
int
count_spoken (const std::vector<std::string> &symbols)
{
  int n = 0;
  for (const std::string &s : symbols)
    if (s != kWordBreak && s != kShortPause && s != kLongPause &&
        s != kQuestion && s != "ˈ" && s != "ˌ" && s != "ː")
      n++;
  return n;
}

/* Adam (Kingma & Ba) over groups of tensors, each group with its own
 * learning rate; its state saves to and loads from a list of tensors. */
class Adam {
public:
  void add_group (std::vector<torch::Tensor> params)
  {
    Group g;
    for (torch::Tensor &p : params) {
      g.m.push_back (torch::zeros_like (p));
      g.v.push_back (torch::zeros_like (p));
    }
    g.params = std::move (params);
    groups_.push_back (std::move (g));
  }
  void set_lr (size_t group, double lr)
  {
    groups_[group].lr = lr;
  }
  void zero_grad ()
  {
    for (Group &g : groups_)
      for (torch::Tensor &p : g.params)
        if (p.grad ().defined ())
          p.mutable_grad () = torch::Tensor ();
  }
  /* Scales the gradients so that their joint norm is at most @max. */
  void clip_grad_norm (double max)
  {
    double total = 0.0;
    for (Group &g : groups_)
      for (torch::Tensor &p : g.params)
        if (p.grad ().defined ())
          total += p.grad ().pow (2).sum ().item<double> ();
    total = std::sqrt (total);
    if (total > max)
      for (Group &g : groups_)
        for (torch::Tensor &p : g.params)
          if (p.grad ().defined ())
            p.mutable_grad ().mul_ (max / (total + 1e-6));
  }
  void step ()
  {
    torch::NoGradGuard no_grad;
    t_++;
    const double c1 = 1.0 - std::pow (kBeta1, (double) t_);
    const double c2 = 1.0 - std::pow (kBeta2, (double) t_);
    for (Group &g : groups_)
      for (size_t i = 0; i < g.params.size (); i++) {
        const torch::Tensor &grad = g.params[i].grad ();
        if (!grad.defined ())
          continue;
        g.m[i].mul_ (kBeta1).add_ (grad, 1.0 - kBeta1);
        g.v[i].mul_ (kBeta2).addcmul_ (grad, grad, 1.0 - kBeta2);
        torch::Tensor denom = (g.v[i] / c2).sqrt_ ().add_ (kEps);
        g.params[i].addcdiv_ (g.m[i], denom, -g.lr / c1);
      }
  }
  std::vector<torch::Tensor> state () const
  {
    std::vector<torch::Tensor> out{ torch::tensor ((int64_t) t_) };
    for (const Group &g : groups_)
      for (size_t i = 0; i < g.params.size (); i++) {
        out.push_back (g.m[i]);
        out.push_back (g.v[i]);
      }
    return out;
  }
  void load_state (const std::vector<torch::Tensor> &state)
  {
    size_t k = 0;
    t_ = state.at (k++).item<int64_t> ();
    torch::NoGradGuard no_grad;
    for (Group &g : groups_)
      for (size_t i = 0; i < g.params.size (); i++) {
        g.m[i].copy_ (state.at (k++));
        g.v[i].copy_ (state.at (k++));
      }
  }

private:
  static constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  struct Group {
    std::vector<torch::Tensor> params, m, v;
    double lr = 0.0;
  };
  std::vector<Group> groups_;
  int64_t t_ = 0;
};

std::string
sha256_hex (GChecksum *sum)
{
  return g_checksum_get_string (sum);
}

} // namespace

const char *
fine_tune_stage_name (FineTuneProgress::Stage stage)
{
  switch (stage) {
    case FineTuneProgress::Stage::kPreparing:
      return "preparing";
    case FineTuneProgress::Stage::kChoosingVoice:
      return "choosing a start voice";
    case FineTuneProgress::Stage::kAligning:
      return "aligning";
    case FineTuneProgress::Stage::kTraining:
      return "training";
    case FineTuneProgress::Stage::kDone:
      return "done";
  }
  return "?";
}

TakeCheck
check_take (const ReadSentence &take, const std::string &language)
{
  if (!TextFrontend::has_language (language))
    throw ModelError ("\"" + language + "\" is not a language espeak-ng knows");
  TakeCheck check;
  const std::vector<float> &x = take.samples;
  const int rate = take.rate;
  if (rate < 1000 || x.empty ()) {
    check.problems.push_back (x.empty ()
            ? "empty: the take has no audio"
            : "the take's sample rate is unusable");
    return check;
  }
  check.seconds = (double) x.size () / rate;
  double peak = 0.0;
  size_t clipped = 0;
  for (float v : x) {
    double a = std::fabs ((double) v);
    if (!std::isfinite (a))
      a = 1.0;
    peak = std::max (peak, a);
    clipped += a >= kClipLevel;
  }
  check.peak_dbfs = to_db (peak);
  check.clipped_fraction = (double) clipped / (double) x.size ();

  const size_t frame = std::max<size_t> (1, (size_t) (kFrameSeconds * rate));
  const size_t n = x.size () / frame;
  std::vector<double> level (n);
  double loudest = -200.0;
  for (size_t i = 0; i < n; i++) {
    double s = 0.0;
    for (size_t j = 0; j < frame; j++) {
      double v = std::isfinite (x[i * frame + j]) ? x[i * frame + j] : 0.0;
      s += v * v;
    }
    level[i] = 10.0 * std::log10 (s / (double) frame + 1e-14);
    loudest = std::max (loudest, level[i]);
  }
  const double floor = std::max (kSilenceDbfs, loudest - kSpeechBelowPeakDb);
  long first = -1, last = -1;
  double energy = 0.0;
  size_t speech_frames = 0;
  for (size_t i = 0; i < n; i++)
    if (level[i] > floor) {
      if (first < 0)
        first = (long) i;
      last = (long) i;
      energy += std::pow (10.0, level[i] / 10.0);
      speech_frames++;
    }
  if (first >= 0) {
    check.speech_seconds = (double) (last - first + 1) * frame / rate;
    check.speech_dbfs = 10.0 * std::log10 (energy / (double) speech_frames);
  }

  TextFrontend frontend;
  Phonemes phonemes = frontend.phonemize (take.text, language);
  check.phonemes = count_spoken (phonemes.symbols);
  check.expected_seconds = check.phonemes * kSecondsPerPhoneme;

  char buf[256];
  if (check.phonemes == 0)
    check.problems.push_back ("no text: there is nothing to read");
  if (first < 0 || check.speech_seconds < kMinSpeechSeconds) {
    check.problems.push_back ("no speech: the take is silent");
    return check;
  }
  if (check.peak_dbfs < kQuietPeakDbfs) {
    g_snprintf (buf, sizeof buf,
        "too quiet: the loudest peak is %.0f dBFS; speak closer to the "
        "microphone or raise its level",
        check.peak_dbfs);
    check.problems.push_back (buf);
  }
  if (check.clipped_fraction > kClippedFraction) {
    g_snprintf (buf, sizeof buf,
        "clipped: %.1f%% of the samples hit full scale; lower the input "
        "level",
        100.0 * check.clipped_fraction);
    check.problems.push_back (buf);
  }
  if (check.phonemes > 0) {
    if (check.speech_seconds < 0.45 * check.expected_seconds) {
      g_snprintf (buf, sizeof buf,
          "too short for its text: %.1f s of speech where the text takes "
          "about %.1f s (cut off, or words left out?)",
          check.speech_seconds, check.expected_seconds);
      check.problems.push_back (buf);
    } else if (check.speech_seconds > 2.5 * check.expected_seconds + 1.5) {
      g_snprintf (buf, sizeof buf,
          "too long for its text: %.1f s of speech where the text takes "
          "about %.1f s (another sentence, or noise?)",
          check.speech_seconds, check.expected_seconds);
      check.problems.push_back (buf);
    }
  }
  return check;
}

/* ------------------------------------------------------------------------ */

struct VoiceFineTuner::Impl {
  struct Item {
    std::string origin;
    std::string text;
    std::vector<std::string> symbols; /* the text's phonemes */
    torch::Tensor ids; /* int64 [N] */
    torch::Tensor mel; /* [n_mels, T] */
    torch::Tensor f0; /* [T] Hz as tracked, 0 where unvoiced */
    torch::Tensor lf0; /* [T] normalised log-F0 (cleaned), 0 where unvoiced */
    torch::Tensor voiced; /* [T] 0/1 */
    torch::Tensor durations; /* int64 [N]: the current alignment, or none */
    double seconds = 0.0;
  };
  /* A convolution adapted by a low-rank update: weight = base + b @ a. */
  struct LowRank {
    std::string name; /* "decoder.0.conv.weight" */
    torch::jit::Module owner;
    torch::Tensor base, a, b;
  };
  struct Full {
    std::string name;
    torch::Tensor param; /* the module's own, trained in place */
    torch::Tensor base;
  };
  /* The phoneme embedding with rows for phonemes the model never heard:
   * weight = cat (base, rows). */
  struct NewRows {
    std::string name; /* "embed.weight" */
    torch::jit::Module owner;
    std::string attr;
    torch::Tensor base, rows;
  };
  struct Batch {
    std::vector<size_t> items;
    torch::Tensor ids, durations, mel, lf0, voiced, id_mask, mel_mask;
    torch::Tensor pf0; /* [B, N]: mean normalised log-F0 of each phoneme */
    int64_t frames = 0;
  };

  std::string model_path;
  FineTuneOptions options;
  ModelCard card;
  PhonemeInventory inventory{ {} };
  TextFrontend frontend;
  torch::jit::Module module;
  std::vector<Item> items;
  std::vector<int64_t> base_zero_ids; /* of the card */
  std::vector<int64_t> zero_ids; /* and of added marks (this run) */
  std::vector<std::string> added; /* phonemes added this run */
  PhonemeInventory run_inventory{ {} }; /* the card's + added */

  torch::Tensor bins; /* bool [n_mels]: bands the recordings have */
  torch::Tensor bin_index; /* int64 indices of bins */

  std::vector<LowRank> low_rank;
  std::vector<Full> full;
  std::optional<NewRows> new_rows;

  /* Reads one take into an Item; false (and a problem in @check) when it
   * cannot be used. */
  bool prepare (const ReadSentence &s, TakeCheck &check, Item &out);
  /* @it's lf0 and voiced from the F0 track @f0 (Hz). */
  void set_pitch (Item &it, const torch::Tensor &f0) const;
  /* Pitch of @which without the tracker's octave errors (the speaker's
   * median F0 as reference); returns the share of voiced frames dropped. */
  double clean_pitch (const std::vector<size_t> &which);

  torch::Tensor run_durations (
      const torch::Tensor &ids, const torch::Tensor &spk);
  torch::Tensor run_decode (const torch::Tensor &ids, const torch::Tensor &spk,
      const torch::Tensor &frames);
  /* @prior_sigma > 0 adds a prior that each phoneme sits near where the
   * model's durations put it, as a share of the whole (for long
   * recordings: a wrong sentence boundary cannot drift far). */
  std::optional<torch::Tensor> align (
      const Item &it, const torch::Tensor &spk, double prior_sigma = 0.0);
  void align_all (const std::vector<size_t> &which, const torch::Tensor &spk,
      const std::atomic<bool> *cancel);
  std::vector<Batch> make_batches (const std::vector<size_t> &which) const;
  /* Teacher-forced: mel, log durations, per-phoneme pitch. */
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> run_train (
      const Batch &b, const torch::Tensor &spk);
  /* Mel L1 in the recordings' bands, durations, pitch. */
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> losses (
      const Batch &b, const torch::Tensor &spk);
  void attach_delta (int rank, uint64_t seed);
  /* Phonemes of @which the model does not know, heard often enough to
   * learn: new embedding rows, started from the nearest known phoneme
   * (combining marks: from the zero-frame marks' mean). Encodes the ids of
   * every item with them. */
  void add_new_phonemes (const std::vector<size_t> &which);
  void set_low_rank_weights ();
  /* Puts the model's own weights back (the next run starts from them). */
  void restore_base ();
  std::string fingerprint (const std::vector<size_t> &which) const;
  /* The bands the recordings of @which really have (telephone audio has
   * nothing above ~3.6 kHz): median level clearly above the floor. */
  void find_bands (const std::vector<size_t> &which);

  /* Where a run stands; saved to and resumed from FineTuneOptions'
   * checkpoint (a pickled dict) with the trained tensors and Adam's. */
  struct RunState {
    std::string fingerprint;
    std::string start_voice;
    double start_loss = 0.0; /* the start voice's mel L1 */
    int step = 0;
    double elapsed = 0.0; /* training seconds, across resumes */
    bool realigned = false;
    torch::Tensor speaker; /* [1, E], trained */
  };
  /* The saved state for @fingerprint, if the checkpoint holds it. */
  std::optional<c10::impl::GenericDict> read_state (
      const std::string &fingerprint) const;
  void save_state (const RunState &st, const std::vector<size_t> &which,
      const Adam &adam) const;
  /* Puts the saved tensors into the trained ones, @adam and the items. */
  void resume_state (const c10::impl::GenericDict &saved,
      const std::vector<size_t> &which, Adam &adam);
  /* The built-in voice whose aligned, teacher-forced mel is closest to the
   * person's, on a dozen sentences: into @st's start_voice, start_loss
   * and speaker. */
  void choose_start_voice (const std::vector<size_t> &which, RunState &st,
      const std::atomic<bool> *cancel,
      const std::function<void (double, const std::string &)> &report);
  AcousticDelta make_delta () const;
};

void
VoiceFineTuner::Impl::set_pitch (Item &it, const torch::Tensor &f0) const
{
  it.voiced = (f0 > 0).to (torch::kFloat32);
  it.lf0 = torch::where (f0 > 0,
      (torch::log (f0.clamp_min (1.0)) - card.log_f0_mean) / card.log_f0_std,
      torch::zeros_like (f0));
}

double
VoiceFineTuner::Impl::clean_pitch (const std::vector<size_t> &which)
{
  std::vector<torch::Tensor> f0;
  int64_t voiced = 0;
  for (size_t i : which) {
    f0.push_back (items[i].f0.clone ());
    voiced += (items[i].f0 > 0).sum ().item<int64_t> ();
  }
  const int64_t removed = clean_speaker_f0 (f0);
  for (size_t k = 0; k < which.size (); k++)
    set_pitch (items[which[k]], f0[k]);
  return voiced ? (double) removed / (double) voiced : 0.0;
}

bool
VoiceFineTuner::Impl::prepare (
    const ReadSentence &s, TakeCheck &check, Item &out)
{
  const MelSpec &spec = card.mel;
  Phonemes ph = frontend.phonemize (s.text, options.language);
  std::vector<int> ids = inventory.encode (ph.symbols);
  if (ids.size () < 2) {
    check.problems.push_back ("no text: nothing the model can say");
    return false;
  }
  std::vector<float> x = s.rate == spec.sample_rate
      ? s.samples
      : resample_mono (
            s.samples.data (), s.samples.size (), s.rate, spec.sample_rate);
  for (float &v : x)
    if (!std::isfinite (v))
      v = 0.0f;
  x = trim_silence (x, spec.sample_rate, spec.hop, -40.0, 0.05);
  if (x.size () < (size_t) (0.3 * spec.sample_rate)) {
    check.problems.push_back ("no speech: under 0.3 s of sound");
    return false;
  }
  float peak = 0.0f;
  for (float v : x)
    peak = std::max (peak, std::fabs (v));
  if (peak > 0.0f)
    for (float &v : x)
      v *= 0.9f / peak;
  x.resize (x.size () / (size_t) spec.hop * (size_t) spec.hop);
  Mel mel = analyze_mel (x.data (), x.size (), spec.sample_rate, spec);
  if (mel.frames < ids.size () + 2) {
    check.problems.push_back ("too short for its text");
    return false;
  }
  out.origin = s.origin;
  out.text = s.text;
  out.symbols = ph.symbols;
  out.ids = torch::tensor (
      std::vector<int64_t> (ids.begin (), ids.end ()), torch::kInt64);
  out.mel = torch::from_blob (mel.data.data (),
      { (int64_t) mel.n_mels, (int64_t) mel.frames }, torch::kFloat32)
                .clone ();
  torch::Tensor f0 =
      frame_f0 (x, spec.sample_rate, spec.hop, (int64_t) mel.frames);
  out.f0 = f0;
  set_pitch (out, f0);
  out.seconds = (double) x.size () / spec.sample_rate;
  return true;
}

torch::Tensor
VoiceFineTuner::Impl::run_durations (
    const torch::Tensor &ids, const torch::Tensor &spk)
{
  return module.get_method ("durations") ({ ids, spk }).toTensor ();
}

torch::Tensor
VoiceFineTuner::Impl::run_decode (const torch::Tensor &ids,
    const torch::Tensor &spk, const torch::Tensor &frames)
{
  return module.get_method ("decode") ({ ids, spk, frames, 0.0 }).toTensor ();
}

/* The person's cepstra against Gaussians centred on the cepstra of the mel
 * the model predicts for each phoneme (variance: the utterance's own). */
std::optional<torch::Tensor>
VoiceFineTuner::Impl::align (
    const Item &it, const torch::Tensor &spk, double prior_sigma)
{
  torch::NoGradGuard no_grad;
  const int64_t N = it.ids.size (0);
  torch::Tensor ids = it.ids.unsqueeze (0);
  torch::Tensor pred =
      run_durations (ids, spk)[0].clamp_min (1.0).contiguous ();
  std::vector<float> d (pred.data_ptr<float> (), pred.data_ptr<float> () + N);
  std::vector<int64_t> frames = round_durations (d);
  std::vector<bool> keep ((size_t) N);
  const int64_t *idp = it.ids.data_ptr<int64_t> ();
  for (int64_t n = 0; n < N; n++) {
    keep[(size_t) n] = std::find (zero_ids.begin (), zero_ids.end (), idp[n]) ==
        zero_ids.end ();
    frames[(size_t) n] =
        keep[(size_t) n] ? std::max<int64_t> (1, frames[(size_t) n]) : 0;
  }
  torch::Tensor m = run_decode (
      ids, spk, torch::tensor (frames, torch::kInt64).unsqueeze (0))[0];
  torch::Tensor fm = cepstral_features (m.index_select (0, bin_index));
  torch::Tensor fr = cepstral_features (it.mel.index_select (0, bin_index));
  std::vector<torch::Tensor> means;
  int64_t at = 0;
  for (int64_t n = 0; n < N; n++) {
    if (keep[(size_t) n])
      means.push_back (fm.narrow (0, at, frames[(size_t) n]).mean (0));
    at += frames[(size_t) n];
  }
  const int64_t K = (int64_t) means.size ();
  const int64_t T = fr.size (0);
  if (K == 0 || T < K)
    return std::nullopt;
  torch::Tensor mu = torch::stack (means); /* [K, D] */
  torch::Tensor inv = 1.0 / ((fr - fr.mean (0, true)).pow (2).mean (0) + 1e-3);
  torch::Tensor mu_term = (mu.pow (2) * inv).sum (1); /* [K] */
  /* Where each kept phoneme's middle falls, as a share of the model's
   * whole duration. */
  std::vector<double> centre;
  {
    double total = 0.0, at_f = 0.0;
    for (int64_t n = 0; n < N; n++)
      total += (double) frames[(size_t) n];
    for (int64_t n = 0; n < N; n++) {
      if (keep[(size_t) n])
        centre.push_back (
            (at_f + 0.5 * frames[(size_t) n]) / std::max (1.0, total));
      at_f += (double) frames[(size_t) n];
    }
  }
  torch::Tensor centres = torch::tensor (centre, torch::kFloat64).unsqueeze (0);
  const double prior_weight = 0.25 * (double) fr.size (1);
  auto loglik = [&] (int64_t t, int64_t count) {
    torch::Tensor f = fr.narrow (0, t, count);
    torch::Tensor ll = -0.5 *
        ((f.pow (2) * inv).sum (1, true) -
            2.0 * torch::matmul (f * inv, mu.t ()) + mu_term.unsqueeze (0));
    if (prior_sigma > 0.0) {
      torch::Tensor where =
          (torch::arange (t, t + count, torch::kFloat64) + 0.5) / (double) T;
      ll = ll -
          prior_weight * 0.5 *
              ((where.unsqueeze (1) - centres) / prior_sigma).pow (2);
    }
    return ll;
  };
  std::vector<int64_t> dk = monotonic_alignment (T, K, loglik);
  std::vector<int64_t> full_d ((size_t) N, 0);
  size_t k = 0;
  for (int64_t n = 0; n < N; n++)
    if (keep[(size_t) n])
      full_d[(size_t) n] = dk[k++];
  return torch::tensor (full_d, torch::kInt64);
}

void
VoiceFineTuner::Impl::align_all (const std::vector<size_t> &which,
    const torch::Tensor &spk, const std::atomic<bool> *cancel)
{
  for (size_t i : which) {
    if (cancel && cancel->load ())
      throw FineTuneCancelled ("fine-tuning cancelled");
    std::optional<torch::Tensor> d = align (items[i], spk);
    items[i].durations = d ? *d : torch::Tensor ();
  }
}

static torch::Tensor
phoneme_f0 (const torch::Tensor &durations, const torch::Tensor &lf0,
    const torch::Tensor &voiced)
{
  const int64_t B = durations.size (0), N = durations.size (1),
                T = lf0.size (1);
  /* Mean normalised log-F0 over each phoneme's voiced frames (0: none). */
  torch::Tensor ends = torch::cumsum (durations, 1);
  torch::Tensor t = torch::arange (T, torch::kInt64)
                        .unsqueeze (0)
                        .expand ({ B, T })
                        .contiguous ();
  torch::Tensor idx =
      torch::searchsorted (ends, t, false, true).clamp_max (N - 1);
  torch::Tensor s = torch::zeros ({ B, N }).scatter_add_ (1, idx, lf0 * voiced);
  torch::Tensor c = torch::zeros ({ B, N }).scatter_add_ (1, idx, voiced);
  return torch::where (c > 0, s / c.clamp_min (1.0), torch::zeros_like (s));
}

std::vector<VoiceFineTuner::Impl::Batch>
VoiceFineTuner::Impl::make_batches (const std::vector<size_t> &which) const
{
  std::vector<size_t> order;
  for (size_t i : which)
    if (items[i].durations.defined ())
      order.push_back (i);
  std::stable_sort (order.begin (), order.end (), [&] (size_t a, size_t b) {
    return items[a].mel.size (1) < items[b].mel.size (1);
  });
  std::vector<std::vector<size_t> > groups;
  std::vector<size_t> cur;
  int64_t cur_max = 0;
  for (size_t i : order) {
    const int64_t T = items[i].mel.size (1);
    if (!cur.empty () &&
        std::max (cur_max, T) * (int64_t) (cur.size () + 1) > kBatchFrames) {
      groups.push_back (cur);
      cur.clear ();
      cur_max = 0;
    }
    cur.push_back (i);
    cur_max = std::max (cur_max, T);
  }
  if (!cur.empty ())
    groups.push_back (cur);

  std::vector<Batch> out;
  const int64_t n_mels = card.mel.n_mels;
  const double clamp = std::log (card.mel.clamp);
  for (const std::vector<size_t> &g : groups) {
    Batch b;
    b.items = g;
    const int64_t B = (int64_t) g.size ();
    int64_t N = 0, T = 0;
    for (size_t i : g) {
      N = std::max (N, items[i].ids.size (0));
      T = std::max (T, items[i].mel.size (1));
    }
    b.frames = T;
    b.ids = torch::zeros ({ B, N }, torch::kInt64);
    b.durations = torch::zeros ({ B, N }, torch::kInt64);
    b.mel = torch::full ({ B, n_mels, T }, clamp, torch::kFloat32);
    b.lf0 = torch::zeros ({ B, T });
    b.voiced = torch::zeros ({ B, T });
    b.id_mask = torch::zeros ({ B, 1, N });
    b.mel_mask = torch::zeros ({ B, 1, T });
    for (int64_t k = 0; k < B; k++) {
      const Item &it = items[g[(size_t) k]];
      const int64_t n = it.ids.size (0), t = it.mel.size (1);
      b.ids[k].narrow (0, 0, n).copy_ (it.ids);
      b.durations[k].narrow (0, 0, n).copy_ (it.durations);
      b.mel[k].narrow (1, 0, t).copy_ (it.mel);
      b.lf0[k].narrow (0, 0, t).copy_ (it.lf0);
      b.voiced[k].narrow (0, 0, t).copy_ (it.voiced);
      b.id_mask[k][0].narrow (0, 0, n).fill_ (1.0);
      b.mel_mask[k][0].narrow (0, 0, t).fill_ (1.0);
    }
    b.pf0 = phoneme_f0 (b.durations, b.lf0, b.voiced);
    out.push_back (std::move (b));
  }
  return out;
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>
VoiceFineTuner::Impl::run_train (const Batch &b, const torch::Tensor &spk)
{
  const int64_t B = b.ids.size (0), T = b.frames;
  auto out = module.get_method (card.fine_tune.method) ({ b.ids, b.id_mask,
      spk.expand ({ B, -1 }), b.durations, b.pf0, T, b.mel_mask });
  auto tuple = out.toTuple ();
  if (tuple->elements ().size () != 3)
    throw ModelError (model_path + ": " + card.fine_tune.method +
        "() must return three tensors (mel, log durations, pitch)");
  return { tuple->elements ()[0].toTensor (), tuple->elements ()[1].toTensor (),
    tuple->elements ()[2].toTensor () };
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>
VoiceFineTuner::Impl::losses (const Batch &b, const torch::Tensor &spk)
{
  auto [mel, log_dur, f0] = run_train (b, spk);
  torch::Tensor w = b.mel_mask * bins.to (torch::kFloat32).view ({ 1, -1, 1 });
  torch::Tensor loss_mel = ((mel - b.mel).abs () * w).sum () / w.sum ();
  torch::Tensor m = b.id_mask.select (1, 0);
  torch::Tensor n_id = m.sum ();
  torch::Tensor loss_dur =
      ((log_dur - torch::log1p (b.durations.to (torch::kFloat32))).pow (2) * m)
          .sum () /
      n_id;
  torch::Tensor loss_f0 = ((f0 - b.pf0).pow (2) * m).sum () / n_id;
  return { loss_mel, loss_dur, loss_f0 };
}

void
VoiceFineTuner::Impl::attach_delta (int rank, uint64_t seed)
{
  torch::manual_seed (seed);
  low_rank.clear ();
  full.clear ();
  for (const auto &p : module.named_parameters (true))
    p.value.set_requires_grad (false);
  for (const auto &p : module.named_parameters (true)) {
    const std::string &name = p.name;
    const torch::Tensor &w = p.value;
    if (new_rows && name == new_rows->name)
      continue;
    const bool conv = w.dim () == 3 && w.size (2) > 1 && name.size () > 7 &&
        name.compare (name.size () - 7, 7, ".weight") == 0;
    if (conv && starts_with_any (name, card.fine_tune.low_rank)) {
      LowRank lr;
      lr.name = name;
      lr.owner = module;
      std::string path = name.substr (0, name.size () - 7);
      size_t pos = 0;
      while (pos <= path.size ()) {
        size_t dot = path.find ('.', pos);
        std::string part = path.substr (
            pos, dot == std::string::npos ? std::string::npos : dot - pos);
        lr.owner = lr.owner.attr (part).toModule ();
        if (dot == std::string::npos)
          break;
        pos = dot + 1;
      }
      const int64_t fan_in = w.size (1) * w.size (2);
      lr.base = w.detach ().clone ();
      lr.a = (torch::randn ({ rank, fan_in }) / std::sqrt ((double) fan_in))
                 .requires_grad_ (true);
      lr.b = torch::zeros ({ w.size (0), rank }).requires_grad_ (true);
      low_rank.push_back (std::move (lr));
    } else if (starts_with_any (name, card.fine_tune.full)) {
      Full f;
      f.name = name;
      f.param = w;
      f.base = w.detach ().clone ();
      f.param.set_requires_grad (true);
      full.push_back (std::move (f));
    }
  }
  if (low_rank.empty () && full.empty ())
    throw ModelError (model_path +
        ": the card's \"fine_tune\" prefixes match no parameter of the "
        "model");
}

void
VoiceFineTuner::Impl::set_low_rank_weights ()
{
  for (LowRank &lr : low_rank)
    lr.owner.setattr (
        "weight", lr.base + torch::mm (lr.b, lr.a).view (lr.base.sizes ()));
  if (new_rows)
    new_rows->owner.setattr (
        new_rows->attr, torch::cat ({ new_rows->base, new_rows->rows }, 0));
}

void
VoiceFineTuner::Impl::add_new_phonemes (const std::vector<size_t> &which)
{
  constexpr int kMinCount = 3; /* fewer cannot be learned: mapped instead */
  added.clear ();
  zero_ids = base_zero_ids;
  new_rows.reset ();
  if (!card.fine_tune.embedding.empty ()) {
    std::map<std::string, int> count;
    for (size_t i : which)
      for (const std::string &sym : items[i].symbols)
        if (inventory.id (sym) < 0 && ++count[sym] == kMinCount)
          added.push_back (sym);
  }
  std::vector<std::string> symbols = card.phonemes;
  symbols.insert (symbols.end (), added.begin (), added.end ());
  run_inventory = PhonemeInventory (symbols);
  for (size_t i : which) {
    std::vector<int> ids = run_inventory.encode (items[i].symbols);
    items[i].ids = torch::tensor (
        std::vector<int64_t> (ids.begin (), ids.end ()), torch::kInt64);
  }
  if (added.empty ())
    return;

  NewRows nr;
  nr.name = card.fine_tune.embedding;
  torch::Tensor w;
  for (const auto &p : module.named_parameters (true))
    if (p.name == nr.name)
      w = p.value;
  if (!w.defined () || w.dim () < 2 ||
      w.size (0) != (int64_t) card.phonemes.size ())
    throw ModelError (model_path + ": the card's \"fine_tune\" embedding \"" +
        nr.name + "\" is not a parameter of [phonemes, ...]");
  nr.owner = module;
  nr.attr = nr.name;
  for (size_t dot; (dot = nr.attr.find ('.')) != std::string::npos;
       nr.attr = nr.attr.substr (dot + 1))
    nr.owner = nr.owner.attr (nr.attr.substr (0, dot)).toModule ();
  nr.base = w.detach ().clone ();
  torch::Tensor marks = torch::tensor (base_zero_ids, torch::kInt64);
  std::vector<torch::Tensor> rows;
  for (size_t k = 0; k < added.size (); k++) {
    const std::string &sym = added[k];
    gunichar c = g_utf8_get_char_validated (sym.c_str (), (gssize) sym.size ());
    std::vector<int> near = inventory.encode ({ sym });
    if (c != (gunichar) -1 && c != (gunichar) -2 && g_unichar_ismark (c)) {
      /* A diacritic modifies the phoneme before it, like the length mark:
       * it takes no frames of its own. */
      zero_ids.push_back ((int64_t) (card.phonemes.size () + k));
      rows.push_back (marks.numel () ? nr.base.index_select (0, marks).mean (0)
                                     : nr.base.mean (0));
    } else if (near.size () == 1) {
      rows.push_back (nr.base[near[0]].clone ());
    } else {
      rows.push_back (nr.base.mean (0));
    }
  }
  nr.rows = torch::stack (rows).requires_grad_ (true);
  new_rows = std::move (nr);
  torch::NoGradGuard no_grad;
  set_low_rank_weights ();
}

void
VoiceFineTuner::Impl::restore_base ()
{
  torch::NoGradGuard no_grad;
  for (LowRank &lr : low_rank)
    lr.owner.setattr ("weight", lr.base);
  for (Full &f : full) {
    f.param.copy_ (f.base);
    f.param.set_requires_grad (false);
  }
  if (new_rows)
    new_rows->owner.setattr (new_rows->attr, new_rows->base);
  new_rows.reset ();
}

std::string
VoiceFineTuner::Impl::fingerprint (const std::vector<size_t> &which) const
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  std::string head = file_sha256 (model_path) + "|" + card.fine_tune.method +
      "|" + std::to_string (options.rank) + "|" +
      std::to_string (options.learning_rate) + "|" +
      std::to_string (options.seed) + "|" + std::to_string (options.max_steps) +
      "|f0 cleaned";
  g_checksum_update (sum, (const guchar *) head.data (), (gssize) head.size ());
  for (size_t i : which) {
    const Item &it = items[i];
    g_checksum_update (sum, (const guchar *) it.ids.data_ptr<int64_t> (),
        (gssize) (it.ids.numel () * sizeof (int64_t)));
    g_checksum_update (sum, (const guchar *) it.mel.data_ptr<float> (),
        (gssize) (it.mel.numel () * sizeof (float)));
  }
  std::string hex = sha256_hex (sum);
  g_checksum_free (sum);
  return hex;
}

AcousticDelta
VoiceFineTuner::Impl::make_delta () const
{
  AcousticDelta delta;
  delta.base_model = card.name;
  delta.base_sha256 = file_sha256 (model_path);
  auto values = [] (const torch::Tensor &t) {
    torch::Tensor c = t.detach ().to (torch::kFloat32).contiguous ();
    return std::vector<float> (
        c.data_ptr<float> (), c.data_ptr<float> () + c.numel ());
  };
  for (const LowRank &lr : low_rank) {
    AcousticDelta::Tensor t;
    t.name = lr.name;
    t.shape = lr.base.sizes ().vec ();
    t.rank = (int) lr.a.size (0);
    t.a = values (lr.a);
    t.b = values (lr.b);
    delta.tensors.push_back (std::move (t));
  }
  for (const Full &f : full) {
    AcousticDelta::Tensor t;
    t.name = f.name;
    t.shape = f.base.sizes ().vec ();
    t.data = values (f.param.detach () - f.base);
    delta.tensors.push_back (std::move (t));
  }
  if (new_rows) {
    AcousticDelta::Tensor t;
    t.name = new_rows->name;
    t.shape = new_rows->rows.sizes ().vec ();
    t.rows = true;
    t.data = values (new_rows->rows);
    delta.tensors.push_back (std::move (t));
    delta.phonemes = added;
  }
  delta.finish (options.name.empty () ? "the fine-tuned voice" : options.name);
  return delta;
}

void
VoiceFineTuner::Impl::find_bands (const std::vector<size_t> &which)
{
  std::vector<torch::Tensor> mels;
  for (size_t i : which)
    mels.push_back (items[i].mel);
  torch::Tensor med = std::get<0> (torch::cat (mels, 1).median (1));
  bins = med > std::log (card.mel.clamp) + 2.0;
  const int64_t need = std::max<int64_t> (1, card.mel.n_mels / 4);
  if (bins.sum ().item<int64_t> () < need)
    bins = torch::ones_like (bins);
  bin_index = torch::nonzero (bins).squeeze (1);
}

std::optional<c10::impl::GenericDict>
VoiceFineTuner::Impl::read_state (const std::string &fp) const
{
  const std::string &path = options.checkpoint;
  if (path.empty () || !g_file_test (path.c_str (), G_FILE_TEST_EXISTS))
    return std::nullopt;
  gchar *data = nullptr;
  gsize length = 0;
  if (!g_file_get_contents (path.c_str (), &data, &length, nullptr))
    return std::nullopt;
  std::optional<c10::impl::GenericDict> out;
  try {
    c10::IValue v =
        torch::jit::pickle_load (std::vector<char> (data, data + length));
    if (v.isGenericDict ()) {
      c10::impl::GenericDict d = v.toGenericDict ();
      if (d.contains ("fingerprint") && d.at ("fingerprint").isString () &&
          d.at ("fingerprint").toStringRef () == fp)
        out = d;
    }
  } catch (const std::exception &) {
    /* Not a state we wrote: start anew (it is overwritten). */
  }
  g_free (data);
  return out;
}

namespace {

std::vector<torch::Tensor>
tensor_list (const c10::impl::GenericDict &d, const char *key)
{
  std::vector<torch::Tensor> out;
  for (const c10::IValue &v : d.at (key).toListRef ())
    out.push_back (v.toTensor ());
  return out;
}

c10::List<torch::Tensor>
detached_list (const std::vector<torch::Tensor> &v)
{
  c10::List<torch::Tensor> out;
  for (const torch::Tensor &t : v)
    out.push_back (t.detach ());
  return out;
}

} // namespace

void
VoiceFineTuner::Impl::save_state (const RunState &st,
    const std::vector<size_t> &which, const Adam &adam) const
{
  if (options.checkpoint.empty ())
    return;
  std::vector<torch::Tensor> a, b, f, d;
  for (const LowRank &lr : low_rank) {
    a.push_back (lr.a);
    b.push_back (lr.b);
  }
  for (const Full &x : full)
    f.push_back (x.param);
  for (size_t i : which)
    d.push_back (items[i].durations.defined ()
            ? items[i].durations
            : torch::zeros ({ 0 }, torch::kInt64));
  c10::impl::GenericDict dict (c10::StringType::get (), c10::AnyType::get ());
  dict.insert ("fingerprint", st.fingerprint);
  dict.insert ("start_voice", st.start_voice);
  dict.insert ("step", (int64_t) st.step);
  dict.insert ("elapsed", st.elapsed);
  dict.insert ("realigned", st.realigned);
  dict.insert ("mel_l1_start", st.start_loss);
  dict.insert ("speaker", st.speaker.detach ());
  dict.insert ("low_rank_a", detached_list (a));
  dict.insert ("low_rank_b", detached_list (b));
  dict.insert ("full", detached_list (f));
  if (new_rows)
    dict.insert ("embedding_rows", new_rows->rows.detach ());
  dict.insert ("durations", detached_list (d));
  dict.insert ("optimizer", detached_list (adam.state ()));
  std::vector<char> bytes = torch::jit::pickle_save (c10::IValue (dict));
  GError *err = nullptr;
  if (!g_file_set_contents (options.checkpoint.c_str (), bytes.data (),
          (gssize) bytes.size (), &err)) {
    std::string why = err ? err->message : "unknown error";
    g_clear_error (&err);
    throw ModelError ("cannot save the fine-tuning state: " + why);
  }
}

void
VoiceFineTuner::Impl::resume_state (const c10::impl::GenericDict &saved,
    const std::vector<size_t> &which, Adam &adam)
{
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> a = tensor_list (saved, "low_rank_a");
  std::vector<torch::Tensor> b = tensor_list (saved, "low_rank_b");
  std::vector<torch::Tensor> f = tensor_list (saved, "full");
  std::vector<torch::Tensor> d = tensor_list (saved, "durations");
  if (a.size () != low_rank.size () || b.size () != a.size () ||
      f.size () != full.size () || d.size () != which.size () ||
      (new_rows && !saved.contains ("embedding_rows")))
    throw ModelError (
        options.checkpoint + ": the saved state does not fit the model");
  for (size_t i = 0; i < low_rank.size (); i++) {
    low_rank[i].a.copy_ (a[i]);
    low_rank[i].b.copy_ (b[i]);
  }
  for (size_t i = 0; i < full.size (); i++)
    full[i].param.copy_ (f[i]);
  if (new_rows)
    new_rows->rows.copy_ (saved.at ("embedding_rows").toTensor ());
  for (size_t k = 0; k < which.size (); k++)
    items[which[k]].durations =
        d[k].numel () ? d[k].clone () : torch::Tensor ();
  adam.load_state (tensor_list (saved, "optimizer"));
}

void
VoiceFineTuner::Impl::choose_start_voice (const std::vector<size_t> &which,
    RunState &st, const std::atomic<bool> *cancel,
    const std::function<void (double, const std::string &)> &report)
{
  std::vector<size_t> sample (which.begin (),
      which.begin () + (long) std::min (kVoiceSample, which.size ()));
  const size_t n_voices = card.voices.size ();
  for (size_t v = 0; v < n_voices; v++) {
    const Voice &voice = card.voices[v];
    torch::Tensor spk = torch::tensor (voice.embedding).unsqueeze (0);
    align_all (sample, spk, cancel);
    double sum = 0.0;
    int n = 0;
    torch::NoGradGuard no_grad;
    for (const Batch &b : make_batches (sample)) {
      sum += std::get<0> (losses (b, spk)).item<double> () *
          (double) b.items.size ();
      n += (int) b.items.size ();
    }
    const double loss = n ? sum / n : 1e9;
    if (st.start_voice.empty () || loss < st.start_loss) {
      st.start_loss = loss;
      st.start_voice = voice.name;
      st.speaker = spk.clone ();
    }
    report (0.01 + 0.05 * (double) (v + 1) / (double) n_voices,
        "start voice " + voice.name + ": mel L1 " + std::to_string (loss));
  }
}

/* ------------------------------------------------------------------------ */

VoiceFineTuner::VoiceFineTuner (std::unique_ptr<Impl> impl)
    : impl_ (std::move (impl))
{
}

VoiceFineTuner::~VoiceFineTuner () = default;

std::unique_ptr<VoiceFineTuner>
VoiceFineTuner::load (const std::string &model_path,
    const std::string &card_path, const FineTuneOptions &options)
{
  auto impl = std::make_unique<Impl> ();
  impl->model_path = model_path;
  impl->options = options;
  if (options.rank < 1 || options.rank > 256)
    throw ModelError ("fine-tuning: the rank must be 1 .. 256");
  if (!TextFrontend::has_language (options.language))
    throw ModelError ("fine-tuning: \"" + options.language +
        "\" is not a language espeak-ng knows");
  impl->card = ModelCard::load (card_path);
  const ModelCard &card = impl->card;
  if (card.kind != "acoustic" || card.phonemes.empty () || card.voices.empty ())
    throw ModelError (card_path + ": not an acoustic model's card");
  if (card.fine_tune.method.empty ())
    throw ModelError (card_path +
        ": the model cannot be fine-tuned (its card has no \"fine_tune\"; "
        "export it again with models/acoustic/export.py)");
  impl->inventory = PhonemeInventory (card.phonemes);
  for (const std::string &s : card.fine_tune.zero_frame_phonemes) {
    int id = impl->inventory.id (s);
    if (id >= 0)
      impl->base_zero_ids.push_back (id);
  }
  configure_torch (options.threads);
  try {
    impl->module = load_torchscript (model_path, torch::kCPU);
  } catch (const c10::Error &e) {
    throw ModelError (model_path + ": " + torch_error_gist (e.what ()));
  }
  for (const char *m : { "durations", "decode" })
    if (!impl->module.find_method (m))
      throw ModelError (model_path + ": the model has no method " + m + "()");
  if (!impl->module.find_method (card.fine_tune.method))
    throw ModelError (model_path + ": the model has no method " +
        card.fine_tune.method + "(), which its card names for fine-tuning");
  impl->module.eval ();
  return std::unique_ptr<VoiceFineTuner> (
      new VoiceFineTuner (std::move (impl)));
}

TakeCheck
VoiceFineTuner::add (const ReadSentence &sentence)
{
  TakeCheck check = check_take (sentence, impl_->options.language);
  if (!check.ok ())
    return check;
  Impl::Item item;
  try {
    if (impl_->prepare (sentence, check, item))
      impl_->items.push_back (std::move (item));
  } catch (const c10::Error &e) {
    check.problems.push_back (
        std::string ("could not be analysed: ") + torch_error_gist (e.what ()));
  }
  return check;
}

size_t
VoiceFineTuner::add_recording (const ReadSentence &recording)
{
  Impl &im = *impl_;
  const MelSpec &spec = im.card.mel;
  std::vector<std::string> sentences = split_sentences (recording.text);
  if (sentences.empty ())
    throw ModelError (recording.origin + ": the transcript is empty");
  std::vector<float> x = recording.rate == spec.sample_rate
      ? recording.samples
      : resample_mono (recording.samples.data (), recording.samples.size (),
            recording.rate, spec.sample_rate);
  for (float &v : x)
    if (!std::isfinite (v))
      v = 0.0f;
  /* All sentences' phonemes in one row; where each sentence's end is. */
  std::vector<int64_t> ids;
  std::vector<size_t> ends;
  for (const std::string &s : sentences) {
    Phonemes ph = im.frontend.phonemize (s, im.options.language);
    std::vector<int> one = im.inventory.encode (ph.symbols);
    ids.insert (ids.end (), one.begin (), one.end ());
    ends.push_back (ids.size ());
  }
  Mel mel = analyze_mel (x.data (), x.size (), spec.sample_rate, spec);
  if (ids.size () < 2 || mel.frames < ids.size () + 2)
    throw ModelError (
        recording.origin + ": the recording is too short for its transcript");
  Impl::Item whole;
  whole.ids = torch::tensor (ids, torch::kInt64);
  whole.mel = torch::from_blob (mel.data.data (),
      { (int64_t) mel.n_mels, (int64_t) mel.frames }, torch::kFloat32)
                  .clone ();
  if (!im.bin_index.defined ()) {
    im.bin_index = torch::arange (spec.n_mels, torch::kInt64);
  }
  torch::Tensor spk =
      torch::tensor (im.card.voices.front ().embedding).unsqueeze (0);
  std::optional<torch::Tensor> d;
  try {
    d = im.align (whole, spk, 0.1);
  } catch (const c10::Error &e) {
    throw ModelError (recording.origin + ": " + torch_error_gist (e.what ()));
  }
  im.bin_index = torch::Tensor ();
  if (!d)
    throw ModelError (
        recording.origin + ": the recording is too short for its transcript");
  std::vector<int64_t> frames (
      d->data_ptr<int64_t> (), d->data_ptr<int64_t> () + d->numel ());
  /* Cut each sentence from the middle of the pause before it to the middle
   * of the pause after it (the last phoneme of a sentence is its pause). */
  std::vector<int64_t> starts (frames.size () + 1, 0);
  for (size_t n = 0; n < frames.size (); n++)
    starts[n + 1] = starts[n] + frames[n];
  size_t added = 0, from = 0;
  int64_t cut = 0;
  for (size_t k = 0; k < sentences.size (); k++) {
    size_t last = ends[k] ? ends[k] - 1 : 0;
    if (ends[k] <= from)
      continue;
    int64_t next_cut = k + 1 == sentences.size ()
        ? (int64_t) mel.frames
        : starts[last] + frames[last] / 2;
    ReadSentence piece;
    piece.rate = spec.sample_rate;
    piece.text = sentences[k];
    piece.origin =
        recording.origin + " (sentence " + std::to_string (k + 1) + ")";
    size_t a = (size_t) cut * (size_t) spec.hop;
    size_t b = std::min (x.size (), (size_t) next_cut * (size_t) spec.hop);
    if (b > a)
      piece.samples.assign (x.begin () + (long) a, x.begin () + (long) b);
    if (add (piece).ok ())
      added++;
    cut = next_cut;
    from = ends[k];
  }
  return added;
}

size_t
VoiceFineTuner::sentences () const
{
  return impl_->items.size ();
}

double
VoiceFineTuner::speech_seconds () const
{
  double s = 0.0;
  for (const Impl::Item &it : impl_->items)
    s += it.seconds;
  return s;
}

VoiceProfile
VoiceFineTuner::run (
    const std::function<void (const FineTuneProgress &)> &progress,
    const std::atomic<bool> *cancel)
{
  Impl &im = *impl_;
  const FineTuneOptions &opt = im.options;
  FineTuneProgress p;
  p.max_steps = opt.max_steps;
  auto report = [&] (FineTuneProgress::Stage stage, double fraction,
                    const std::string &message) {
    p.stage = stage;
    p.fraction = std::clamp (fraction, 0.0, 1.0);
    p.message = message;
    if (progress)
      progress (p);
  };

  /* The sentences to use, in order, up to max_speech_s. */
  std::vector<size_t> which;
  double total = 0.0;
  for (size_t i = 0; i < im.items.size (); i++) {
    if (opt.max_speech_s > 0.0 && total >= opt.max_speech_s)
      break;
    which.push_back (i);
    total += im.items[i].seconds;
  }
  if (total < kMinFineTuneSpeechSeconds) {
    char buf[200];
    g_snprintf (buf, sizeof buf,
        "only %.0f s of usable speech; a deep clone needs at least %.0f s "
        "(better 1 to 5 minutes)",
        total, kMinFineTuneSpeechSeconds);
    throw ModelError (buf);
  }

  try {
    report (FineTuneProgress::Stage::kPreparing, 0.0,
        std::to_string (which.size ()) + " sentences, " +
            std::to_string ((int) std::lround (total)) + " s of speech");
    im.find_bands (which);
    const double dropped = im.clean_pitch (which);
    if (dropped > 0.0) {
      char buf[128];
      g_snprintf (buf, sizeof buf,
          "pitch: %.0f %% of the voiced frames were tracker errors (octave "
          "jumps), left out",
          100.0 * dropped);
      report (FineTuneProgress::Stage::kPreparing, 0.01, buf);
    }
    /* New phonemes first: the ids depend on them. Whatever happens, the
     * model's own weights are put back at the end. */
    struct Restore {
      Impl &im;
      ~Restore ()
      {
        try {
          im.restore_base ();
        } catch (...) {
        }
      }
    } restore{ im };
    im.add_new_phonemes (which);
    if (!im.added.empty ()) {
      std::string list;
      for (const std::string &a : im.added)
        list += (list.empty () ? "" : " ") + a;
      report (FineTuneProgress::Stage::kPreparing, 0.01,
          "phonemes the model never heard, learned for this voice: " + list);
    }

    Impl::RunState st;
    st.fingerprint = im.fingerprint (which);
    std::optional<c10::impl::GenericDict> saved =
        im.read_state (st.fingerprint);
    if (saved) {
      st.start_voice = saved->at ("start_voice").toStringRef ();
      st.step = (int) saved->at ("step").toInt ();
      st.elapsed = saved->at ("elapsed").toDouble ();
      st.realigned = saved->at ("realigned").toBool ();
      st.start_loss = saved->at ("mel_l1_start").toDouble ();
      st.speaker = saved->at ("speaker").toTensor ().clone ();
      p.resumed = true;
      p.step = st.step;
      p.elapsed_s = st.elapsed;
    } else {
      if (!opt.checkpoint.empty () &&
          g_file_test (opt.checkpoint.c_str (), G_FILE_TEST_EXISTS))
        report (FineTuneProgress::Stage::kPreparing, 0.01,
            "the saved state is for other speech or options: starting anew");
      im.choose_start_voice (
          which, st, cancel, [&] (double f, const std::string &m) {
            report (FineTuneProgress::Stage::kChoosingVoice, f, m);
          });
    }
    st.speaker.requires_grad_ (true);

    im.attach_delta (opt.rank, opt.seed);
    std::vector<torch::Tensor> params;
    for (Impl::LowRank &lr : im.low_rank) {
      params.push_back (lr.a);
      params.push_back (lr.b);
    }
    for (Impl::Full &f : im.full)
      params.push_back (f.param);
    if (im.new_rows)
      params.push_back (im.new_rows->rows);
    Adam adam;
    adam.add_group (params);
    adam.add_group ({ st.speaker });

    if (saved) {
      im.resume_state (*saved, which, adam);
      report (FineTuneProgress::Stage::kTraining, 0.08,
          "resumed at step " + std::to_string (st.step));
    } else {
      report (FineTuneProgress::Stage::kAligning, 0.06,
          "starting from " + st.start_voice);
      torch::NoGradGuard no_grad;
      im.set_low_rank_weights ();
      im.align_all (which, st.speaker.detach (), cancel);
    }

    std::mt19937_64 rng (opt.seed + (uint64_t) st.step);
    std::vector<Impl::Batch> batches = im.make_batches (which);
    if (batches.empty ())
      throw ModelError ("no sentence could be aligned with its text");
    std::vector<double> hist;
    const double limit = std::max (1.0, opt.time_limit_s);
    const auto t_run = Clock::now ();
    const double elapsed_before = st.elapsed;
    auto last_save = Clock::now ();
    auto fraction_done = [&] () {
      return std::min (1.0,
          std::max ((double) st.step / std::max (1, opt.max_steps),
              st.elapsed / limit));
    };
    auto train_done = [&] () {
      return st.step >= opt.max_steps || st.elapsed >= limit;
    };
    while (!train_done ()) {
      if (!st.realigned && fraction_done () >= 1.0 / 3.0) {
        report (FineTuneProgress::Stage::kAligning, p.fraction,
            "step " + std::to_string (st.step) +
                ": aligning again with the adapted model");
        {
          torch::NoGradGuard no_grad;
          im.set_low_rank_weights ();
          im.align_all (which, st.speaker.detach (), cancel);
        }
        batches = im.make_batches (which);
        if (batches.empty ())
          throw ModelError ("no sentence could be aligned with its text");
        st.realigned = true;
      }
      std::vector<size_t> order (batches.size ());
      std::iota (order.begin (), order.end (), 0);
      std::shuffle (order.begin (), order.end (), rng);
      for (size_t bi : order) {
        if (cancel && cancel->load ()) {
          im.save_state (st, which, adam);
          throw FineTuneCancelled ("fine-tuning cancelled");
        }
        const double warm =
            std::min (1.0, (st.step + 1) / (double) kWarmupSteps);
        const double cosine =
            0.1 + 0.9 * 0.5 * (1.0 + std::cos (kPi * fraction_done ()));
        adam.set_lr (0, opt.learning_rate * warm * cosine);
        adam.set_lr (1, opt.learning_rate * 5.0 * warm * cosine);
        im.set_low_rank_weights ();
        auto [lm, ld, lf] = im.losses (batches[bi], st.speaker);
        torch::Tensor loss = lm + 0.3 * ld + 0.1 * lf;
        adam.zero_grad ();
        loss.backward ();
        adam.clip_grad_norm (1.0);
        adam.step ();
        st.step++;
        st.elapsed = elapsed_before + seconds_since (t_run);
        hist.push_back (lm.item<double> ());
        if (hist.size () > 25)
          hist.erase (hist.begin ());
        p.step = st.step;
        p.elapsed_s = st.elapsed;
        p.mel_loss = std::accumulate (hist.begin (), hist.end (), 0.0) /
            (double) hist.size ();
        const double per_step = st.elapsed / std::max (1, st.step);
        p.remaining_s = std::max (0.0,
            std::min (
                limit - st.elapsed, (opt.max_steps - st.step) * per_step));
        report (FineTuneProgress::Stage::kTraining,
            0.08 + 0.9 * fraction_done (), "");
        if (seconds_since (last_save) >= opt.checkpoint_interval_s) {
          im.save_state (st, which, adam);
          last_save = Clock::now ();
        }
        /* Done, or time to align again (at the next pass). */
        if (train_done () || (!st.realigned && fraction_done () >= 1.0 / 3.0))
          break;
      }
    }
    im.save_state (st, which, adam);

    torch::NoGradGuard no_grad;
    VoiceProfile profile;
    profile.name = opt.name.empty () ? std::string ("deep-voice") : opt.name;
    profile.language = opt.language;
    profile.gender = opt.gender;
    profile.model = im.card.name;
    profile.base_voice = st.start_voice;
    torch::Tensor e = st.speaker.detach ().contiguous ()[0];
    profile.embedding.assign (
        e.data_ptr<float> (), e.data_ptr<float> () + e.numel ());
    AcousticDelta delta = im.make_delta ();
    delta.record.start_voice = st.start_voice;
    delta.record.steps = st.step;
    delta.record.seconds = st.elapsed;
    delta.record.speech_seconds = total;
    delta.record.utterances = (int) which.size ();
    delta.record.mel_l1_start = st.start_loss;
    delta.record.mel_l1_end = p.mel_loss;
    profile.acoustic_delta =
        std::make_shared<const AcousticDelta> (std::move (delta));
    p.remaining_s = 0.0;
    char buf[160];
    g_snprintf (buf, sizeof buf, "%d steps in %.0f s; mel L1 %.3f -> %.3f",
        st.step, st.elapsed, st.start_loss, p.mel_loss);
    report (FineTuneProgress::Stage::kDone, 1.0, buf);
    return profile;
  } catch (const c10::Error &e) {
    throw ModelError (im.model_path +
        ": fine-tuning failed: " + torch_error_gist (e.what ()));
  }
}

} // namespace ganvoice
