/* ganvoice: the adapt step of voice cloning.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/speaker-traits.h>
#include <ganvoice/voice-adapt.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace ganvoice {
namespace {

/* What each try speaks: about 10 s of varied English. */
const char *const kAdaptText =
    "The quick brown fox jumps over the lazy dog. How much wood would a "
    "woodchuck chuck if a woodchuck could chuck wood? We were away a year "
    "ago, when the weather was warm and the days were long.";

constexpr double kMinFormant = std::log (0.85), kMaxFormant = std::log (1.18);
/* A try whose F0 median is further than this from the reference's (in
 * semitones), and further than the start's, is not taken: the encoder
 * can prefer a timbre that pushes the pitch model to its edge (creak,
 * octave drops). */
constexpr double kMaxF0Error = 1.0;

} // namespace

AdaptReport
adapt_voice (Synthesizer &synth, SpeakerEncoder &encoder, VoiceProfile &profile,
    const AdaptOptions &options, const std::function<bool (int, int)> &progress)
{
  if (profile.speaker_embedding.empty () || !profile.traits)
    throw VoiceProfileError (profile.path +
        ": adapting needs a cloned voice (speaker_embedding and traits, "
        "from speakerembed)");
  if (profile.speaker_embedding.size () != (size_t) encoder.dim () ||
      (!profile.speaker_encoder.empty () &&
          profile.speaker_encoder != encoder.card ().name))
    throw ModelError (profile.path + ": the profile's speaker embedding (" +
        std::to_string (profile.speaker_embedding.size ()) +
        " numbers, encoder \"" + profile.speaker_encoder +
        "\") was not made by the speaker encoder " + encoder.card ().name);
  const ModelCard &card = synth.acoustic ().card ();
  const size_t n = card.voices.size ();
  if (profile.embedding.size () != (size_t) card.speaker_embedding_dim)
    throw ModelError (profile.path +
        ": the profile's embedding does not fit this acoustic model");

  /* The start: the blend the profile has, as logits. */
  VoiceBlend blend =
      blend_voices (profile.speaker_embedding, encoder.card (), card);
  std::vector<double> logits (n);
  for (size_t i = 0; i < n; i++)
    logits[i] = std::log (std::max (blend.weights[i], 1e-4));
  const double formant = profile.traits->formant_scale;

  auto make = [&] (const std::vector<double> &l, double log_formant) {
    VoiceProfile p = profile;
    /* Library voices (with a profile) stay out of the blend, as in
     * blend_voices (). */
    double top = -HUGE_VAL, total = 0.0;
    for (size_t i = 0; i < n; i++)
      if (card.voices[i].profile.empty ())
        top = std::max (top, l[i]);
    std::vector<double> w (n);
    for (size_t i = 0; i < n; i++)
      total += w[i] =
          card.voices[i].profile.empty () ? std::exp (l[i] - top) : 0.0;
    for (double &x : w)
      x /= total;
    p.embedding = mix_voices (w, card);
    p.base_voice =
        card.voices[std::max_element (w.begin (), w.end ()) - w.begin ()].name;
    p.traits->formant_scale = formant * std::exp (log_formant);
    return std::make_pair (p, w);
  };
  const double target_f0 = profile.traits->f0_median_hz;
  /* The cosine similarity, and the F0 error in semitones (0 when either
   * side has no F0). */
  auto score = [&] (const VoiceProfile &p) -> std::pair<double, double> {
    SpeakRequest req;
    req.text = kAdaptText;
    req.language = "en";
    req.voice = p;
    SpeakResult r = synth.speak (req);
    std::vector<float> x = resample_to_16k (
        r.samples.data (), r.samples.size (), r.sample_rate, 1);
    if (x.empty ())
      throw ModelError ("the synthesizer made no speech to adapt to");
    /* A model that speaks very fast (a test model) is repeated up to the
     * encoder's minimum; real speech here is about 10 s. */
    const size_t need =
        (size_t) (SpeakerEncoder::kMinSeconds * encoder.sample_rate ());
    for (size_t len = x.size (); x.size () < need;)
      x.insert (x.end (), x.begin (), x.begin () + (long) len);
    double f0_error = 0.0;
    if (target_f0 > 0.0) {
      TraitAnalyzer pitch (TraitAnalyzer::kRate, 1);
      pitch.add (x.data (), x.size ());
      double f0 = pitch.finish ().traits.f0_median_hz;
      if (f0 > 0.0)
        f0_error = std::fabs (12.0 * std::log2 (f0 / target_f0));
    }
    return { cosine_similarity (encoder.embed (x), profile.speaker_embedding),
      f0_error };
  };

  std::mt19937 rng (options.seed);
  std::normal_distribution<double> gauss (0.0, 1.0);
  AdaptReport report;
  double log_formant = 0.0;
  auto [best_profile, best_w] = make (logits, log_formant);
  auto [best, start_f0_error] = score (best_profile);
  const double f0_limit = std::max (kMaxF0Error, start_f0_error);
  report.before = best;
  report.evaluations = 1;
  bool improved = false;
  double step = 1.0; /* logit units; the formant step is 0.15 of it */
  const int total = std::max (1, options.evaluations);
  while (report.evaluations < total) {
    if (progress && !progress (report.evaluations, total))
      break;
    std::vector<double> l = logits;
    for (double &x : l)
      x += step * gauss (rng);
    double f = std::clamp (
        log_formant + 0.15 * step * gauss (rng), kMinFormant, kMaxFormant);
    auto [p, w] = make (l, f);
    auto [s, f0_error] = score (p);
    report.evaluations++;
    if (f0_error > f0_limit)
      report.rejected_f0++;
    if (s > best && f0_error <= f0_limit) {
      improved = true;
      best = s;
      logits = l;
      log_formant = f;
      best_profile = p;
      best_w = w;
      step = std::min (2.0, step * 1.5);
    } else {
      step = std::max (0.1, step * 0.85);
    }
  }
  report.after = best;
  report.formant_factor = std::exp (log_formant);
  if (!improved) { /* the profile stays exactly as it was */
    report.weights = blend.weights;
    return report;
  }
  report.weights = best_w;
  std::string path = profile.path;
  profile = best_profile;
  profile.path = path;
  return report;
}

} // namespace ganvoice
