/* ganvoice: cloning a voice from measured traits (docs/cloning.md).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/voice-conversion.h>
#include <ganvoice/speaker-encoder.h>

#include <ganvoice/speaker-traits.h>

#include <algorithm>
#include <cmath>

namespace ganvoice {
namespace {

constexpr double kMaxGainDb = 12.0;
/* Envelope bands further below the reference's loudest band than this are
 * outside its bandwidth (not matched). */
constexpr double kBandLimitDb = 35.0;
constexpr double kMinWarp = 0.8, kMaxWarp = 1.25;
constexpr double kMaxPitch = 12.0;
constexpr double kMinRate = 0.8, kMaxRate = 1.25;

/* @v at fractional index @x, held at the ends. */
double
sample (const std::vector<double> &v, double x)
{
  if (v.empty ())
    return 0.0;
  if (x <= 0.0)
    return v.front ();
  if (x >= (double) (v.size () - 1))
    return v.back ();
  size_t a = (size_t) x;
  double w = x - (double) a;
  return v[a] * (1.0 - w) + v[a + 1] * w;
}

double
envelope_distance (const std::vector<float> &a, const std::vector<float> &b)
{
  if (a.empty () || a.size () != b.size ())
    return 0.0;
  double s = 0.0;
  for (size_t i = 0; i < a.size (); i++)
    s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt (s / a.size ());
}

} // namespace

static bool
slaney (const MelSpec &spec)
{
  return spec.scale != "htk";
}

double
hz_to_mel_scale (const MelSpec &spec, double hz)
{
  if (!slaney (spec))
    return 2595.0 * std::log10 (1.0 + hz / 700.0);
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0;
  const double min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log (6.4) / 27.0;
  if (hz < min_log_hz)
    return hz / f_sp;
  return min_log_mel + std::log (hz / min_log_hz) / logstep;
}

double
mel_scale_to_hz (const MelSpec &spec, double mel)
{
  if (!slaney (spec))
    return 700.0 * (std::pow (10.0, mel / 2595.0) - 1.0);
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0;
  const double min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log (6.4) / 27.0;
  if (mel < min_log_mel)
    return mel * f_sp;
  return min_log_hz * std::exp (logstep * (mel - min_log_mel));
}

double
mel_band_hz (const MelSpec &spec, double band)
{
  const double lo = hz_to_mel_scale (spec, spec.fmin),
               hi = hz_to_mel_scale (spec, spec.fmax);
  return mel_scale_to_hz (
      spec, lo + (hi - lo) * (band + 1.0) / (spec.n_mels + 1));
}

double
mel_band_at (const MelSpec &spec, double hz)
{
  const double lo = hz_to_mel_scale (spec, spec.fmin),
               hi = hz_to_mel_scale (spec, spec.fmax);
  return (hz_to_mel_scale (spec, std::max (hz, 0.0)) - lo) * (spec.n_mels + 1) /
      (hi - lo) -
      1.0;
}

VoiceConversion
plan_conversion (
    const VoiceTraits &base, const VoiceTraits &target, const MelSpec &mel)
{
  VoiceConversion c;
  if (base.formant_scale > 0.0 && target.formant_scale > 0.0)
    c.warp = std::clamp (
        target.formant_scale / base.formant_scale, kMinWarp, kMaxWarp);
  if (base.f0_median_hz > 0.0 && target.f0_median_hz > 0.0) {
    /* The warp moves the harmonics the mel resolves as well: take its
     * share out of the pitch shift. */
    double semitones =
        12.0 * std::log2 (target.f0_median_hz / base.f0_median_hz) -
        12.0 * std::log2 (c.warp);
    c.pitch = std::clamp (semitones, -kMaxPitch, kMaxPitch);
  }
  if (base.syllable_rate > 0.0 && target.syllable_rate > 0.0)
    c.rate = std::clamp (
        target.syllable_rate / base.syllable_rate, kMinRate, kMaxRate);
  else if (base.speaking_rate > 0.0 && target.speaking_rate > 0.0)
    c.rate = std::clamp (
        target.speaking_rate / base.speaking_rate, kMinRate, kMaxRate);

  const auto &te = target.spectral_envelope;
  const auto &be = base.spectral_envelope;
  if (!te.empty () && te.size () == be.size () && mel.n_mels > 0) {
    const size_t nb = te.size ();
    /* The bands are the analyzer's when there are kBands of them; other
     * lengths are spread evenly over its mel range. */
    const double squeeze = (double) (nb - 1) / (TraitAnalyzer::kBands - 1);
    auto band_of = [&] (double hz) { return trait_band_at (hz) * squeeze; };
    auto hz_of = [&] (double b) { return trait_band_hz (b / squeeze); };
    std::vector<double> base_env (be.begin (), be.end ());
    /* A band-limited reference (telephone: nothing above 4 kHz or below
     * 300 Hz) carries no shape outside its band: match the bands within
     * kBandLimitDb of its loudest one, each side relative to its own mean
     * over them, and hold the edge gains outside. */
    const double top = *std::max_element (te.begin (), te.end ());
    size_t lo = nb, hi = 0;
    for (size_t b = 0; b < nb; b++)
      if (te[b] >= top - kBandLimitDb) {
        lo = std::min (lo, b);
        hi = b;
      }
    std::vector<double> warped (nb);
    double target_mean = 0.0, base_mean = 0.0;
    for (size_t b = 0; b < nb; b++)
      warped[b] = sample (base_env, band_of (hz_of ((double) b) / c.warp));
    for (size_t b = lo; b <= hi; b++) {
      target_mean += te[b] / (double) (hi - lo + 1);
      base_mean += warped[b] / (double) (hi - lo + 1);
    }
    std::vector<double> gain (nb);
    for (size_t b = 0; b < nb; b++) {
      size_t in = std::clamp (b, lo, hi);
      gain[b] = (te[in] - target_mean) - (warped[in] - base_mean);
    }
    for (int pass = 0; pass < 2; pass++) {
      std::vector<double> s (nb);
      for (size_t b = 0; b < nb; b++) {
        double l = gain[b > 0 ? b - 1 : b], r = gain[b + 1 < nb ? b + 1 : b];
        s[b] = 0.25 * l + 0.5 * gain[b] + 0.25 * r;
      }
      gain = s;
    }
    for (double &g : gain)
      g = std::clamp (g, -kMaxGainDb, kMaxGainDb);
    c.gain.resize (mel.n_mels);
    for (int m = 0; m < mel.n_mels; m++) {
      double db = sample (gain, band_of (mel_band_hz (mel, m)));
      c.gain[m] = (float) (db * std::log (10.0) / 20.0);
    }
  }
  return c;
}

void
apply_conversion (const VoiceConversion &c, const MelSpec &spec, Mel &mel)
{
  if (mel.frames == 0 || mel.n_mels == 0)
    return;
  const size_t nm = mel.n_mels;
  const bool warp = std::fabs (c.warp - 1.0) > 1e-6;
  const bool gain = c.gain.size () == nm;
  if (!warp && !gain) {
    apply_mel_mapping (c.mapping, spec, mel);
    return;
  }
  /* Where each output band reads from: the frequency / warp. */
  std::vector<double> from (nm);
  for (size_t m = 0; m < nm; m++)
    from[m] = warp
        ? std::clamp (mel_band_at (spec, mel_band_hz (spec, m) / c.warp), 0.0,
              (double) (nm - 1))
        : (double) m;
  std::vector<float> column (nm);
  for (size_t t = 0; t < mel.frames; t++) {
    for (size_t m = 0; m < nm; m++)
      column[m] = mel.data[m * mel.frames + t];
    for (size_t m = 0; m < nm; m++) {
      double x = from[m];
      size_t a = std::min ((size_t) x, nm - 1);
      size_t b = std::min (a + 1, nm - 1);
      double w = x - (double) a;
      double v = column[a] * (1.0 - w) + column[b] * w;
      if (gain)
        v += c.gain[m];
      mel.data[m * mel.frames + t] = (float) v;
    }
  }
  apply_mel_mapping (c.mapping, spec, mel);
}

double
voice_f0_guess (const Voice &voice)
{
  if (voice.f0_median_hz > 0.0)
    return voice.f0_median_hz;
  return voice.gender == "male" ? 120.0 : 210.0;
}

size_t
nearest_voice (const VoiceTraits &target, const std::vector<Voice> &voices,
    const std::vector<const VoiceTraits *> &known)
{
  if (voices.empty ())
    throw ModelError ("the acoustic model has no built-in voices to clone "
                      "from");
  size_t best = voices.size ();
  double best_d = 1e300;
  for (size_t i = 0; i < voices.size (); i++) {
    /* A library voice's embedding alone is not its sound. */
    if (!voices[i].profile.empty ())
      continue;
    const VoiceTraits *k = i < known.size () ? known[i] : nullptr;
    double f0 = k && k->f0_median_hz > 0.0 ? k->f0_median_hz
                                           : voice_f0_guess (voices[i]);
    double d = 0.0;
    if (target.f0_median_hz > 0.0)
      d += std::fabs (std::log (target.f0_median_hz / f0));
    if (k && k->formant_scale > 0.0 && target.formant_scale > 0.0)
      d += 0.5 * std::fabs (std::log (target.formant_scale / k->formant_scale));
    if (k)
      d += 0.02 *
          envelope_distance (target.spectral_envelope, k->spectral_envelope);
    if (d < best_d) {
      best_d = d;
      best = i;
    }
  }
  if (best == voices.size ())
    throw ModelError ("the acoustic model has no built-in voice without a "
                      "profile to clone from");
  return best;
}

VoiceProfile
clone_profile (const VoiceTraits &traits, const ModelCard &card,
    const std::string &name, const std::string &language,
    const std::vector<float> &speaker_embedding, const ModelCard *encoder_card)
{
  VoiceProfile p;
  p.name = name;
  p.language = language;
  p.model = card.name;
  p.traits = traits;
  /* Gender from the voice itself (F0), not from the nearest built-in. */
  const bool measured = traits.f0_median_hz > 0.0;
  const std::string by_f0 = traits.f0_median_hz < 160.0 ? "male" : "female";
  if (!speaker_embedding.empty () && encoder_card) {
    VoiceBlend blend = blend_voices (speaker_embedding, *encoder_card, card);
    const Voice &base = card.voices.at (blend.nearest);
    p.gender = measured ? by_f0 : base.gender;
    p.base_voice = base.name;
    p.embedding = blend.embedding;
    p.speaker_embedding = speaker_embedding;
    p.speaker_encoder = encoder_card->name;
    return p;
  }
  const Voice &base = card.voices.at (nearest_voice (traits, card.voices));
  p.gender = measured ? by_f0 : base.gender;
  p.base_voice = base.name;
  p.embedding = base.embedding;
  return p;
}

CloneResult
make_clone_profile (const TraitReport &report, const ModelCard &card,
    SpeakerEncoder *encoder, const std::string &name,
    const std::string &language, int lowest_rate)
{
  CloneResult out;
  const size_t needed =
      (size_t) (SpeakerEncoder::kMinSeconds * TraitAnalyzer::kRate);
  if (encoder && report.speech_audio.size () >= needed) {
    std::vector<float> speaker = encoder->embed (report.speech_audio);
    out.profile = clone_profile (
        report.traits, card, name, language, speaker, &encoder->card ());
  } else {
    out.profile = clone_profile (report.traits, card, name, language);
    out.traits_only = true;
  }
  /* The speech audio is at TraitAnalyzer::kRate: nothing above its
   * Nyquist frequency, nor above the reference's own. */
  const int rate = lowest_rate > 0
      ? std::min (lowest_rate, TraitAnalyzer::kRate)
      : TraitAnalyzer::kRate;
  Mel mel = analyze_mel (report.speech_audio.data (),
      report.speech_audio.size (), TraitAnalyzer::kRate, card.mel);
  out.profile.mel_statistics =
      mel_statistics (mel, card.mel, 0.92 * 0.5 * rate);
  return out;
}

} // namespace ganvoice
