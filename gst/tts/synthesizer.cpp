/* ganvoice: the whole text-to-speech engine, text to fitted samples.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/synthesizer.h>

#include <ganvoice/ducking.h>
#include <ganvoice/mel-statistics.h>
#include <ganvoice/speaker-traits.h>

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <future>
#include <iterator>
#include <map>
#include <mutex>
#include <numeric>
#include <set>

namespace ganvoice {
namespace {

bool
is_pause (const std::string &symbol)
{
  return symbol == kShortPause || symbol == kLongPause || symbol == kQuestion;
}

bool
is_silent (const std::string &symbol)
{
  return is_pause (symbol) || symbol == kWordBreak;
}

/* CPU seconds of the calling thread. */
double
thread_cpu_seconds ()
{
  struct timespec ts;
  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0.0;
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Adds the CPU time from its making to its end (or to stop()) to a
 * SynthesisTimes field. */
class StageTimer {
public:
  explicit StageTimer (double &into)
      : into_ (&into), start_ (thread_cpu_seconds ())
  {
  }
  ~StageTimer ()
  {
    stop ();
  }
  double stop ()
  {
    double spent = 0.0;
    if (into_) {
      spent = thread_cpu_seconds () - start_;
      *into_ += spent;
      into_ = nullptr;
    }
    return spent;
  }

private:
  double *into_;
  double start_;
};

/* A call's own stage times, added to the synthesizer's when it ends. */
template <typename Impl> class LocalTimes {
public:
  explicit LocalTimes (Impl &impl) : impl_ (impl)
  {
  }
  ~LocalTimes ()
  {
    impl_.add_times (t);
  }
  SynthesisTimes t;

private:
  Impl &impl_;
};

int64_t
sum_frames (const std::vector<int64_t> &frames)
{
  return std::accumulate (frames.begin (), frames.end (), (int64_t) 0);
}

/* Cuts, fades, limits to kSpeechCeilingDb and delivers the audio of one
 * cue as it is produced. */
class Shaper {
public:
  Shaper (size_t cut, size_t fade, bool faded, int rate,
      const Synthesizer::ChunkFunc &sink, std::vector<float> &store)
      : cut_ (cut), fade_ (faded ? std::min (fade, cut) : 0), sink_ (sink),
        store_ (store)
  {
    limiter_.configure (rate, 1, kSpeechCeilingDb);
  }

  /* Returns false when no more audio is wanted (cut reached, or the sink
   * asked to stop: see cancelled()). */
  bool add (const float *samples, size_t n)
  {
    if (pos_ >= cut_)
      return false;
    size_t take = std::min (n, cut_ - pos_);
    const size_t fade_from = cut_ - fade_;
    scratch_.assign (samples, samples + take);
    if (fade_ > 0 && pos_ + take > fade_from) {
      for (size_t i = 0; i < take; i++) {
        size_t at = pos_ + i;
        if (at >= fade_from)
          scratch_[i] *= (float) (cut_ - at) / (float) (fade_ + 1);
      }
    }
    limiter_.process (scratch_.data (), take);
    const float *out = scratch_.data ();
    pos_ += take;
    if (take > 0) {
      if (sink_) {
        if (!sink_ (out, take)) {
          cancelled_ = true;
          return false;
        }
      } else {
        store_.insert (store_.end (), out, out + take);
      }
    }
    return pos_ < cut_;
  }

  bool cancelled () const
  {
    return cancelled_;
  }
  size_t produced () const
  {
    return pos_;
  }

private:
  size_t pos_ = 0;
  size_t cut_;
  size_t fade_;
  const Synthesizer::ChunkFunc &sink_;
  std::vector<float> &store_;
  std::vector<float> scratch_;
  PeakLimiter limiter_;
  bool cancelled_ = false;
};

bool
looks_like_path (const std::string &s)
{
  return s.find ('/') != std::string::npos ||
      g_str_has_suffix (s.c_str (), ".json") ||
      g_file_test (s.c_str (), G_FILE_TEST_IS_REGULAR);
}

/* A built-in voice as a profile. A voice of the voice library (the card's
 * "profile") is its profile file, with its acoustic delta, under the card's
 * name, language and gender; its embedding must be the card's, and a delta
 * must have been made from this acoustic model (@model_sha: the model
 * file's SHA-256, computed on first need). Throws ModelError naming the
 * card, the voice and the file. */
VoiceProfile
builtin_voice (const Voice &v, const ModelCard &card,
    const std::string &model_path, std::string &model_sha)
{
  if (v.profile.empty ())
    return VoiceProfile::from_voice (v, card.name);
  const std::string where = card.path + ": the built-in voice \"" + v.name +
      "\" has the profile " + v.profile;
  VoiceProfile p;
  try {
    p = VoiceProfile::load (v.profile, card.speaker_embedding_dim);
  } catch (const ModelError &e) {
    throw ModelError (where + ", which cannot be used: " + e.what ());
  }
  for (size_t k = 0; k < v.embedding.size (); k++)
    if (std::fabs (p.embedding[k] - v.embedding[k]) > 1e-4f)
      throw ModelError (where + ", whose embedding is not the card's (number " +
          std::to_string (k) + ": " + std::to_string (p.embedding[k]) +
          " in the profile, " + std::to_string (v.embedding[k]) +
          " in the card)");
  if (p.acoustic_delta && !p.acoustic_delta->base_sha256.empty ()) {
    if (model_sha.empty ())
      model_sha = file_sha256 (model_path);
    if (model_sha != p.acoustic_delta->base_sha256)
      throw ModelError (where +
          ", which was fine-tuned from another "
          "acoustic model than " +
          model_path + " (made again with models/acoustic/voice_library.py?)");
  }
  p.name = v.name;
  p.language = v.language;
  p.gender = v.gender;
  p.model = card.name;
  return p;
}

} // namespace

struct Synthesizer::Impl {
  SynthesizerOptions options;
  TextFrontend frontend;
  std::shared_ptr<AcousticModel> acoustic;
  std::unique_ptr<Vocoder> vocoder;
  /* Deep clones' adapted models, by their delta's digest. */
  std::map<std::string, std::shared_ptr<AcousticModel> > deep;
  /* The built-in voices' profiles, made on first use: a voice of the
   * voice library reads its profile file with its weights delta (about
   * 2 MB each), so a dub with one voice does not read all of them. */
  std::mutex voices_lock;
  std::vector<std::unique_ptr<VoiceProfile> > voice_slots; /* card order */
  std::vector<VoiceProfile> voices; /* all of them, for voices () */
  bool all_voices = false;
  std::string model_sha; /* the acoustic model file's, on first need */

  /* The card's voice @i as a profile, made once. Call with voices_lock. */
  const VoiceProfile &builtin (size_t i)
  {
    if (!voice_slots[i])
      voice_slots[i] =
          std::make_unique<VoiceProfile> (builtin_voice (acoustic->voices ()[i],
              acoustic->card (), options.acoustic_model, model_sha));
    return *voice_slots[i];
  }
  std::map<std::string, VoiceTraits> measured; /* measure_voice () */
  /* measure_mel_statistics () */
  std::map<std::string, MelStatistics> measured_mel;
  int sample_rate = 0;
  int hop = 0;
  /* Summed from each call's own figures under times_lock: render() may
   * run on several threads at once. */
  std::mutex times_lock;
  SynthesisTimes times;

  void add_times (const SynthesisTimes &t)
  {
    std::lock_guard<std::mutex> guard (times_lock);
    times.frontend += t.frontend;
    times.durations += t.durations;
    times.decode += t.decode;
    times.vocoder += t.vocoder;
    times.shaping += t.shaping;
    times.audio += t.audio;
    times.utterances += t.utterances;
  }

  int64_t frames_to_ns (int64_t frames) const
  {
    return (int64_t) std::llround ((double) frames * hop * 1e9 / sample_rate);
  }
  size_t ns_to_samples (int64_t ns) const
  {
    if (ns <= 0)
      return 0;
    return (size_t) std::llround ((double) ns * sample_rate / 1e9);
  }
};

Synthesizer::Synthesizer (std::unique_ptr<Impl> impl) : impl_ (std::move (impl))
{
}

Synthesizer::~Synthesizer () = default;

std::unique_ptr<Synthesizer>
Synthesizer::load (const SynthesizerOptions &options)
{
  auto impl = std::make_unique<Impl> ();
  impl->options = options;
  /* Name a missing file as such, models first. */
  for (const std::string *path :
      { &options.acoustic_model, &options.acoustic_card, &options.vocoder_model,
          &options.vocoder_card })
    if (!g_file_test (path->c_str (), G_FILE_TEST_IS_REGULAR))
      throw ModelError ("model file not found: " +
          (path->empty () ? std::string ("(none given)") : *path));

  /* The two models load side by side (each is read, compiled, frozen and
   * run once): at start-up nothing else has the second core yet. */
  VocoderOptions vo;
  vo.threads = options.threads;
  vo.device = options.device;
  vo.chunk_frames = std::max<size_t> (options.chunk_frames, 1);
  vo.context_frames = options.context_frames;
  std::future<std::unique_ptr<Vocoder> > vocoder =
      std::async (std::launch::async, [&options, vo] () {
        return Vocoder::load (options.vocoder_model, options.vocoder_card, vo);
      });

  AcousticOptions ao;
  ao.threads = options.threads;
  ao.device = options.device;
  try {
    impl->acoustic =
        AcousticModel::load (options.acoustic_model, options.acoustic_card, ao);
  } catch (...) {
    vocoder.wait ();
    throw;
  }
  impl->vocoder = vocoder.get ();
  impl->acoustic->check_compatible (impl->vocoder->card ());

  const ModelCard &card = impl->acoustic->card ();
  impl->sample_rate = card.mel.sample_rate;
  impl->hop = card.mel.hop;
  impl->voice_slots.resize (impl->acoustic->voices ().size ());
  return std::unique_ptr<Synthesizer> (new Synthesizer (std::move (impl)));
}

int
Synthesizer::sample_rate () const
{
  return impl_->sample_rate;
}

const AcousticModel &
Synthesizer::acoustic () const
{
  return *impl_->acoustic;
}

const Vocoder &
Synthesizer::vocoder () const
{
  return *impl_->vocoder;
}

const SynthesizerOptions &
Synthesizer::options () const
{
  return impl_->options;
}

const std::vector<VoiceProfile> &
Synthesizer::voices () const
{
  std::lock_guard<std::mutex> guard (impl_->voices_lock);
  if (!impl_->all_voices) {
    for (size_t i = 0; i < impl_->voice_slots.size (); i++)
      impl_->voices.push_back (impl_->builtin (i));
    impl_->all_voices = true;
  }
  return impl_->voices;
}

VoiceProfile
Synthesizer::voice (const std::string &name_or_path) const
{
  const std::vector<Voice> &card_voices = impl_->acoustic->voices ();
  for (size_t i = 0; i < card_voices.size (); i++) {
    if (card_voices[i].name == name_or_path) {
      std::lock_guard<std::mutex> guard (impl_->voices_lock);
      return impl_->builtin (i);
    }
  }
  if (!name_or_path.empty () && looks_like_path (name_or_path))
    return VoiceProfile::load (
        name_or_path, impl_->acoustic->card ().speaker_embedding_dim);
  std::string names;
  for (const Voice &v : card_voices)
    names += (names.empty () ? "" : ", ") + v.name;
  throw VoiceProfileError ("unknown voice \"" + name_or_path +
      "\": the "
      "model's built-in voices are " +
      names +
      "; or give the path of a "
      "voice profile file");
}

std::string
Synthesizer::spoken_language (
    const std::string &language, const std::string &voice_language)
{
  const std::string wanted = language.empty () ? std::string ("en") : language;
  if (voice_language.empty () ||
      wanted.find_first_of ("-_") != std::string::npos)
    return wanted;
  if (language_base (wanted) == language_base (voice_language))
    return voice_language;
  return wanted;
}

Utterance
Synthesizer::prepare (const std::string &text, const std::string &language,
    const std::vector<float> &embedding, double rate)
{
  return prepare_with (nullptr, text, language, embedding, rate);
}

Utterance
Synthesizer::prepare_with (const std::shared_ptr<AcousticModel> &model,
    const std::string &text, const std::string &language,
    const std::vector<float> &embedding, double rate)
{
  AcousticModel &acoustic = model ? *model : *impl_->acoustic;
  Utterance u;
  u.acoustic = model;
  u.rate = std::isfinite (rate) && rate > 0.0 ? rate : 1.0;
  u.embedding = embedding.empty ()
      ? impl_->acoustic->voices ().front ().embedding
      : embedding;
  const std::string wanted = language.empty () ? std::string ("en") : language;

  bool blank = true;
  for (unsigned char c : text)
    blank = blank && (g_ascii_isspace (c) || c == 0);
  if (blank)
    return u;

  LocalTimes<Impl> times (*impl_);
  StageTimer frontend_timer (times.t.frontend);
  Phonemes ph = impl_->frontend.phonemize (text, wanted);
  frontend_timer.stop ();
  u.language = ph.language;
  u.fell_back = ph.fell_back;
  if (ph.fell_back)
    u.warnings.push_back ("language \"" + wanted +
        "\" is unknown to "
        "espeak-ng; spoken as \"" +
        ph.language + "\"");
  if (std::all_of (ph.symbols.begin (), ph.symbols.end (), is_silent))
    return u;

  const PhonemeInventory &inventory = acoustic.inventory ();
  std::set<std::string> skipped;
  for (const auto &symbols :
      split_phonemes (ph.symbols, impl_->options.max_piece_phonemes,
          impl_->options.first_piece_phonemes)) {
    if (std::all_of (symbols.begin (), symbols.end (), is_silent))
      continue;
    std::vector<std::string> missing;
    Utterance::Piece piece;
    piece.ids = inventory.encode (symbols, &missing);
    for (const std::string &m : missing)
      if (skipped.insert (m).second)
        u.skipped.push_back (m);
    if (piece.ids.empty ())
      continue;
    StageTimer durations_timer (times.t.durations);
    piece.frames =
        round_durations (acoustic.durations (piece.ids, u.embedding));
    durations_timer.stop ();
    int64_t total = sum_frames (piece.frames);
    if (total == 0)
      continue;
    u.natural_frames += frames_at_rate (total, u.rate);
    u.phonemes += piece.ids.size ();
    u.pieces.push_back (std::move (piece));
  }
  if (!u.skipped.empty ()) {
    std::string list;
    for (const std::string &s : u.skipped)
      list += (list.empty () ? "" : " ") + s;
    u.warnings.push_back (
        "phonemes the model does not know were skipped: " + list);
  }
  u.natural = impl_->frames_to_ns (u.natural_frames);
  return u;
}

/* What measure_voice() speaks: about 10 s of varied English. */
static const char *const kMeasureSentences[] = {
  "The quick brown fox jumps over the lazy dog.",
  "She sells sea shells by the sea shore, and the shells she sells are "
  "surely seashells.",
  "How much wood would a woodchuck chuck if a woodchuck could chuck wood?",
  "We were away a year ago, when the weather was warm and the days were "
  "long.",
};

/* The same kind of text in the built-in voices' languages, German and
 * Dutch, for measuring a voice's log-mel statistics in its reference's
 * language (the phonemes of a language shape them too). */
struct MeasureSet {
  const char *language;
  const char *sentences[std::size (kMeasureSentences)];
};
static const MeasureSet kMeasureSets[] = {
  { "fr",
      { "Le renard brun saute par-dessus le chien paresseux.",
          "Combien de bois un castor couperait-il s'il travaillait toute la "
          "journée ?",
          "Nous étions partis il y a un an, quand le temps était doux et les "
          "jours étaient longs.",
          "Elle vend des coquillages au bord de la mer, et ce sont bien des "
          "coquillages." } },
  { "es",
      { "El rápido zorro marrón salta sobre el perro perezoso.",
          "¿Cuánta madera cortaría un castor si pudiera cortar madera todo el "
          "día?",
          "Estuvimos fuera hace un año, cuando el tiempo era cálido y los días "
          "eran largos.",
          "Ella vende conchas a la orilla del mar, y las conchas que vende son "
          "de verdad." } },
  { "it",
      { "La rapida volpe marrone salta sopra il cane pigro.",
          "Quanta legna taglierebbe un castoro se potesse tagliare legna tutto "
          "il giorno?",
          "Eravamo lontani un anno fa, quando il tempo era caldo e le giornate "
          "erano lunghe.",
          "Lei vende conchiglie in riva al mare, e sono proprio conchiglie "
          "vere." } },
  { "ru",
      { "Быстрая коричневая лиса прыгает через ленивую собаку.",
          "Сколько дров нарубил бы бобр, если бы мог рубить весь день?",
          "Мы уехали год назад, когда погода была тёплой, а дни были "
          "длинными.",
          "Она продаёт ракушки на берегу моря, и это настоящие ракушки." } },
  { "de",
      { "Der schnelle braune Fuchs springt über den faulen Hund.",
          "Wie viel Holz würde ein Biber hacken, wenn er den ganzen Tag Holz "
          "hacken könnte?",
          "Wir waren vor einem Jahr weg, als das Wetter warm und die Tage lang "
          "waren.",
          "Sie verkauft Muscheln am Meeresufer, und es sind wirklich "
          "Muscheln." } },
  { "nl",
      { "De snelle bruine vos springt over de luie hond.",
          "Hoeveel hout zou een bever hakken als hij de hele dag hout kon "
          "hakken?",
          "We waren een jaar geleden weg, toen het weer warm was en de dagen "
          "lang.",
          "Zij verkoopt schelpen aan de zee, en het zijn echte schelpen." } },
};

/* The measuring set for @language's base ("es" for "es-419"), or null. */
static const MeasureSet *
measure_set (const std::string &language)
{
  const std::string base = language.substr (0, language.find ('-'));
  for (const MeasureSet &set : kMeasureSets)
    if (base == set.language)
      return &set;
  return nullptr;
}

/* The language the measuring sentences for @language are spoken in: its
 * own where it has a set, else English. */
static std::string
measuring_language (const std::string &language)
{
  return measure_set (language) ? language : "en";
}

/* The measuring sentences of @language (measuring_language ()) spoken with
 * @embedding (and @conversion, unless null), each followed by 0.5 s of
 * silence. */
static std::vector<float>
measuring_speech (Synthesizer &synth, const std::vector<float> &embedding,
    const std::shared_ptr<VoiceConversion> &conversion,
    const std::string &language = "en")
{
  const MeasureSet *set = measure_set (language);
  const std::string lang = set ? language : "en";
  const char *const *sentences = set ? set->sentences : kMeasureSentences;
  std::vector<float> audio;
  std::vector<float> pause ((size_t) synth.sample_rate () / 2, 0.0f);
  for (size_t i = 0; i < std::size (kMeasureSentences); i++) {
    Utterance u = synth.prepare (sentences[i], lang, embedding, 1.0);
    u.conversion = conversion;
    SpeakResult r = synth.render (u, synth.plan (u, FitRequest ()), 0.0);
    audio.insert (audio.end (), r.samples.begin (), r.samples.end ());
    audio.insert (audio.end (), pause.begin (), pause.end ());
  }
  return audio;
}

const VoiceTraits &
Synthesizer::measure_voice (const std::string &name)
{
  for (const Voice &v : impl_->acoustic->voices ())
    if (v.name == name)
      return measure_embedding (name, v.embedding, v);
  throw VoiceProfileError ("unknown built-in voice \"" + name + "\"");
}

const VoiceTraits &
Synthesizer::measure_embedding (const std::string &key,
    const std::vector<float> &embedding, const Voice &fallback)
{
  auto it = impl_->measured.find (key);
  if (it != impl_->measured.end ())
    return it->second;
  TraitAnalyzer analyzer (impl_->sample_rate, 1);
  std::vector<float> audio = measuring_speech (*this, embedding, nullptr);
  analyzer.add (audio.data (), audio.size ());
  TraitReport report = analyzer.finish ();
  VoiceTraits t = report.traits;
  /* Whatever could not be measured: the card, else neutral values. */
  if (!(t.f0_median_hz > 0.0) || report.voiced_seconds < 0.5) {
    t.f0_median_hz = voice_f0_guess (fallback);
    t.f0_low_hz = t.f0_high_hz = t.f0_median_hz;
  }
  if (!(t.formant_scale > 0.0))
    t.formant_scale = 1.0;
  return impl_->measured.emplace (key, t).first->second;
}

const MelStatistics &
Synthesizer::measure_mel_statistics (const std::string &key,
    const std::vector<float> &embedding, const VoiceConversion &conversion,
    const std::string &language)
{
  auto it = impl_->measured_mel.find (key);
  if (it != impl_->measured_mel.end ())
    return it->second;
  auto plain = std::make_shared<VoiceConversion> (conversion);
  plain->mapping = MelMapping ();
  std::vector<float> audio = measuring_speech (
      *this, embedding, plain->identity () ? nullptr : plain, language);
  const MelSpec &spec = impl_->acoustic->card ().mel;
  Mel mel =
      analyze_mel (audio.data (), audio.size (), impl_->sample_rate, spec);
  return impl_->measured_mel
      .emplace (key, mel_statistics (mel, spec, spec.fmax))
      .first->second;
}

std::shared_ptr<AcousticModel>
Synthesizer::deep_model (const VoiceProfile &voice)
{
  const AcousticDelta &delta = *voice.acoustic_delta;
  auto it = impl_->deep.find (delta.digest);
  if (it != impl_->deep.end ())
    return it->second;
  AcousticOptions ao;
  ao.threads = impl_->options.threads;
  ao.device = impl_->options.device;
  ao.delta = voice.acoustic_delta;
  std::shared_ptr<AcousticModel> model;
  try {
    model = AcousticModel::load (
        impl_->options.acoustic_model, impl_->options.acoustic_card, ao);
  } catch (const ModelError &e) {
    throw VoiceProfileError ("the deep voice \"" + voice.name + "\" (" +
        (voice.path.empty () ? "received" : voice.path) +
        ") cannot be used: " + e.what ());
  }
  /* A few deep voices per dub; beyond eight, one is dropped (the first by
   * digest) and loads again if spoken again. */
  if (impl_->deep.size () >= 8)
    impl_->deep.erase (impl_->deep.begin ());
  impl_->deep.emplace (delta.digest, model);
  return model;
}

Utterance
Synthesizer::prepare_voice (const std::string &text,
    const std::string &language, const VoiceProfile &voice, double rate)
{
  /* A deep clone speaks with its own weights; its traits are learned. */
  if (voice.acoustic_delta)
    return prepare_with (
        deep_model (voice), text, language, voice.embedding, rate);
  std::shared_ptr<VoiceConversion> conversion;
  std::string warning;
  if (voice.traits && !voice.base_voice.empty ()) {
    const Voice *base = nullptr;
    for (const Voice &v : impl_->acoustic->voices ())
      if (v.name == voice.base_voice)
        base = &v;
    if (base) {
      /* A blended embedding (speaker encoder) is its own voice: measure it
       * (cached by its numbers) rather than the base voice. */
      std::string key = base->name;
      if (voice.embedding != base->embedding) {
        key = "embedding";
        for (float x : voice.embedding)
          key += " " + std::to_string (x);
      }
      const MelSpec &spec = impl_->acoustic->card ().mel;
      conversion = std::make_shared<VoiceConversion> (
          plan_conversion (measure_embedding (key, voice.embedding, *base),
              *voice.traits, spec));
      if (!voice.mel_statistics.empty ()) {
        if (same_front_end (voice.mel_statistics.mel, spec)) {
          /* Measured with this conversion: key it by its numbers too. */
          const std::string lang = measuring_language (voice.language);
          std::string mkey = key + " " + lang + " pitch " +
              std::to_string (conversion->pitch) + " warp " +
              std::to_string (conversion->warp);
          for (float g : conversion->gain)
            mkey += " " + std::to_string (g);
          conversion->mapping = plan_mel_mapping (
              measure_mel_statistics (mkey, voice.embedding, *conversion, lang),
              voice.mel_statistics);
        } else {
          warning = "the voice's mel statistics are for another mel "
                    "front-end than this model's: they are not applied";
        }
      }
      if (conversion->identity ())
        conversion.reset ();
    } else {
      warning = "the voice's base voice \"" + voice.base_voice +
          "\" is not in this model: its traits are not applied";
    }
  }
  if (conversion && std::isfinite (rate) && rate > 0.0)
    rate *= conversion->rate;
  Utterance u = prepare (text, language, voice.embedding, rate);
  u.conversion = conversion;
  if (!warning.empty ())
    u.warnings.push_back (warning);
  return u;
}

FitPlan
Synthesizer::plan (const Utterance &utterance, const FitRequest &slot) const
{
  FitRequest r = slot;
  r.natural = utterance.natural;
  return fit_slot (r);
}

SpeakResult
Synthesizer::render (const Utterance &u, const FitPlan &plan, double pitch,
    const ChunkFunc &on_chunk, bool low_latency)
{
  SpeakResult result;
  result.natural = u.natural;
  result.plan = plan;
  result.sample_rate = impl_->sample_rate;
  result.language = u.language;
  result.fell_back = u.fell_back;
  result.skipped = u.skipped;
  result.warnings = u.warnings;
  if (u.empty () || !std::isfinite (pitch))
    return result;

  /* Durations at the caller's rate times the plan's, then the stretch:
   * every piece's frame count is known before anything is decoded. */
  const double rate = u.rate * (plan.rate > 0.0 ? plan.rate : 1.0);
  const double stretch =
      plan.stretch > 0.0 && std::isfinite (plan.stretch) ? plan.stretch : 1.0;
  std::vector<std::vector<int64_t> > frames;
  std::vector<size_t> mel_frames;
  size_t total = 0;
  for (const auto &piece : u.pieces) {
    int64_t sum = sum_frames (piece.frames);
    frames.push_back (scale_frames (piece.frames, frames_at_rate (sum, rate)));
    size_t t = (size_t) sum_frames (frames.back ());
    if (stretch != 1.0)
      t = std::max<size_t> (1, (size_t) std::llround (t / stretch));
    mel_frames.push_back (t);
    total += t * impl_->hop;
  }

  /* Where to cut: the plan's clip, or the window's end when the speech
   * came out longer than planned (durations cannot go below one frame per
   * phoneme) and the policy does not let it run over. */
  size_t cut = total;
  size_t fade = 0;
  if (plan.clip_at != kFitNoTime) {
    cut = std::min (cut, impl_->ns_to_samples (plan.clip_at - plan.start));
    fade = impl_->ns_to_samples (plan.fade);
  }
  if (plan.allowed_end != kFitNoTime && plan.step != FitStep::Overflowed) {
    size_t limit = impl_->ns_to_samples (plan.allowed_end - plan.start);
    if (limit < cut) {
      cut = limit;
      fade = std::max (fade, impl_->ns_to_samples (30 * kFitMillisecond));
    }
  }
  result.n_samples = cut;
  if (cut == 0)
    return result;

  /* A cloned voice: its pitch on top of the caller's, and its mel
   * mapping before the vocoder. */
  const VoiceConversion *conversion = u.conversion.get ();
  if (conversion)
    pitch += conversion->pitch;
  LocalTimes<Impl> local (*impl_);
  SynthesisTimes &times = local.t;
  Shaper shaper (
      cut, fade, cut < total, impl_->sample_rate, on_chunk, result.samples);
  /* The shaper runs inside the vocoder's chunk loop: its time is taken
   * out of the vocoder's. */
  auto shape = [&] (const float *samples, size_t n) {
    StageTimer timer (times.shaping);
    bool more = shaper.add (samples, n);
    times.vocoder -= timer.stop ();
    return more;
  };
  for (size_t i = 0; i < u.pieces.size (); i++) {
    StageTimer decode_timer (times.decode);
    Mel mel = (u.acoustic ? *u.acoustic : *impl_->acoustic)
                  .decode (u.pieces[i].ids, u.embedding, frames[i], pitch);
    if (conversion)
      apply_conversion (*conversion, impl_->acoustic->card ().mel, mel);
    if (mel.frames != mel_frames[i])
      mel = stretch_mel (mel, mel_frames[i]);
    decode_timer.stop ();
    StageTimer vocoder_timer (times.vocoder);
    bool more;
    if (on_chunk) {
      impl_->vocoder->vocode_chunked (mel.data.data (), mel.frames, shape,
          low_latency ? 0 : impl_->vocoder->options ().max_chunk_frames);
      more = !shaper.cancelled () && shaper.produced () < cut;
    } else {
      std::vector<float> audio =
          impl_->vocoder->vocode (mel.data.data (), mel.frames);
      vocoder_timer.stop ();
      StageTimer shaping_timer (times.shaping);
      more = shaper.add (audio.data (), audio.size ());
    }
    if (!more)
      break;
  }
  times.utterances++;
  times.audio += (double) cut / impl_->sample_rate;
  result.cancelled = shaper.cancelled ();
  if (!result.cancelled && shaper.produced () < cut) {
    /* Not expected (the vocoder makes hop samples per frame); keep the
     * promised length. */
    std::vector<float> silence (cut - shaper.produced (), 0.0f);
    shaper.add (silence.data (), silence.size ());
  }
  return result;
}

const SynthesisTimes &
Synthesizer::times () const
{
  return impl_->times;
}

void
Synthesizer::reset_times ()
{
  std::lock_guard<std::mutex> guard (impl_->times_lock);
  impl_->times = SynthesisTimes ();
}

SpeakResult
Synthesizer::speak (const SpeakRequest &request, const ChunkFunc &on_chunk)
{
  Utterance u = request.voice ? prepare_voice (request.text, request.language,
                                    *request.voice, request.rate)
                              : prepare (request.text, request.language,
                                    request.embedding, request.rate);
  FitPlan p = plan (u, request.fit);
  return render (u, p, request.pitch, on_chunk);
}

std::vector<std::vector<std::string> >
split_phonemes (
    const std::vector<std::string> &symbols, size_t max, size_t first_max)
{
  std::vector<std::vector<std::string> > pieces;
  if (max == 0)
    max = symbols.size () + 1;
  size_t i = 0;
  const size_t n = symbols.size ();
  const size_t rest_max = max;
  if (first_max > 0)
    max = std::min (max, first_max);
  while (i < n) {
    while (i < n && symbols[i] == kWordBreak)
      i++;
    if (i >= n)
      break;
    size_t end;
    if (n - i <= max) {
      end = n;
    } else {
      end = 0;
      for (size_t j = i + max; j > i + 1 && end == 0; j--)
        if (is_pause (symbols[j - 1]))
          end = j;
      for (size_t j = i + max; j > i + 1 && end == 0; j--)
        if (symbols[j - 1] == kWordBreak)
          end = j;
      if (end == 0)
        end = i + max;
    }
    std::vector<std::string> piece (
        symbols.begin () + i, symbols.begin () + end);
    while (!piece.empty () && piece.back () == kWordBreak)
      piece.pop_back ();
    if (!piece.empty ())
      pieces.push_back (std::move (piece));
    i = end;
    max = rest_max;
  }
  return pieces;
}

Mel
stretch_mel (const Mel &mel, size_t to_frames)
{
  Mel out;
  out.n_mels = mel.n_mels;
  out.frames = to_frames;
  if (to_frames == 0 || mel.frames == 0 || mel.n_mels == 0)
    return out.frames = 0, out;
  out.data.resize (mel.n_mels * to_frames);
  const double scale = to_frames > 1
      ? (double) (mel.frames - 1) / (double) (to_frames - 1)
      : 0.0;
  for (size_t t = 0; t < to_frames; t++) {
    double x = to_frames > 1 ? t * scale : (mel.frames - 1) / 2.0;
    size_t a = std::min ((size_t) x, mel.frames - 1);
    size_t b = std::min (a + 1, mel.frames - 1);
    float w = (float) (x - (double) a);
    for (size_t m = 0; m < mel.n_mels; m++) {
      const float *row = &mel.data[m * mel.frames];
      out.data[m * to_frames + t] = row[a] * (1.0f - w) + row[b] * w;
    }
  }
  return out;
}

} // namespace ganvoice
