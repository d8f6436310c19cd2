/* ganvoice: voice profile files (JSON, see docs/voice-profile.md).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/voice-profile.h>

#include "runtime/file-contents.h"
#include "runtime/json-fields.h"

#include <json-glib/json-glib.h>

#include <cmath>
#include <memory>
#include <utility>

namespace ganvoice {
namespace {

struct ProfileJsonTraits {
  using Error = VoiceProfileError;
  static constexpr const char *kDocument = "the voice profile";
};
using Json = JsonFields<ProfileJsonTraits>;

/* The unit of the written covariance (natural-log units squared). */
constexpr double kCovarianceScale = 1e-4;

VoiceTraits
parse_traits (JsonObject *t, const std::string &origin)
{
  const std::string where = origin + ": \"traits\"";
  VoiceTraits traits;
  traits.f0_median_hz = Json::number (t, "f0_median_hz", where, 1.0, 5000.0);
  JsonNode *range = Json::member (t, "f0_range_hz", where);
  if (!JSON_NODE_HOLDS_ARRAY (range) ||
      json_array_get_length (json_node_get_array (range)) != 2)
    Json::fail (
        where, "\"f0_range_hz\" must be a list of two numbers [low, high]");
  JsonArray *pair = json_node_get_array (range);
  for (guint i = 0; i < 2; i++)
    if (!Json::is_number (json_array_get_element (pair, i)))
      Json::fail (
          where, "\"f0_range_hz\" must be a list of two numbers [low, high]");
  traits.f0_low_hz = json_array_get_double_element (pair, 0);
  traits.f0_high_hz = json_array_get_double_element (pair, 1);
  if (!(traits.f0_low_hz > 0.0 && traits.f0_low_hz <= traits.f0_high_hz))
    Json::fail (
        where, "\"f0_range_hz\" must be [low, high] with 0 < low <= high");
  traits.formant_scale = Json::number (t, "formant_scale", where, 0.25, 4.0);
  traits.spectral_envelope = Json::floats (t, "spectral_envelope", where);
  if (traits.spectral_envelope.empty ())
    Json::fail (where, "\"spectral_envelope\" is empty");
  traits.speaking_rate = Json::number (t, "speaking_rate", where, 0.0, 100.0);
  if (Json::member (t, "syllable_rate", where, false))
    traits.syllable_rate = Json::number (t, "syllable_rate", where, 0.0, 50.0);
  return traits;
}

void
add_floats (JsonBuilder *b, const char *name, const std::vector<float> &v)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (float x : v)
    json_builder_add_double_value (b, (double) x);
  json_builder_end_array (b);
}

void
add_string (JsonBuilder *b, const char *name, const std::string &value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value.c_str ());
}

void
add_mel_statistics (JsonBuilder *b, const MelStatistics &st)
{
  const MelSpec &m = st.mel;
  const size_t n = (size_t) m.n_mels;
  json_builder_set_member_name (b, "mel_statistics");
  json_builder_begin_object (b);
  const std::pair<const char *, int> ints[] = {
    { "sample_rate", m.sample_rate }, { "n_fft", m.n_fft }, { "hop", m.hop },
    { "win", m.win }, { "n_mels", m.n_mels }, { "frames", (int) st.frames }
  };
  for (const auto &[key, value] : ints) {
    json_builder_set_member_name (b, key);
    json_builder_add_int_value (b, value);
  }
  const std::pair<const char *, double> reals[] = { { "fmin", m.fmin },
    { "fmax", m.fmax }, { "clamp", m.clamp },
    { "bandwidth_hz", st.bandwidth_hz } };
  for (const auto &[key, value] : reals) {
    json_builder_set_member_name (b, key);
    json_builder_add_double_value (b, value);
  }
  add_string (b, "scale", m.scale);
  add_string (b, "norm", m.norm);
  add_floats (b, "mean", st.mean);
  /* The upper triangle in whole units of kCovarianceScale: short text. */
  json_builder_set_member_name (b, "covariance_scale");
  json_builder_add_double_value (b, kCovarianceScale);
  json_builder_set_member_name (b, "covariance");
  json_builder_begin_array (b);
  for (size_t i = 0; i < n; i++)
    for (size_t j = i; j < n; j++)
      json_builder_add_int_value (
          b, std::llround (st.covariance[i * n + j] / kCovarianceScale));
  json_builder_end_array (b);
  json_builder_end_object (b);
}

MelStatistics
parse_mel_statistics (JsonObject *o, const std::string &origin)
{
  const std::string where = origin + ": \"mel_statistics\"";
  MelStatistics st;
  MelSpec &m = st.mel;
  m.sample_rate = Json::integer (o, "sample_rate", where, 1, 1000000);
  m.n_fft = Json::integer (o, "n_fft", where, 2, 1 << 16);
  m.hop = Json::integer (o, "hop", where, 1, 1 << 16);
  m.win = Json::integer (o, "win", where, 1, m.n_fft);
  m.n_mels = Json::integer (o, "n_mels", where, 1, 512);
  m.fmin = Json::number (o, "fmin", where, 0.0, m.sample_rate / 2.0);
  m.fmax = Json::number (o, "fmax", where, m.fmin, m.sample_rate / 2.0);
  m.scale = Json::string (o, "scale", where);
  m.norm = Json::string (o, "norm", where);
  m.clamp = Json::number (o, "clamp", where, 1e-12, 1.0);
  st.bandwidth_hz = Json::number (o, "bandwidth_hz", where, 0.0, m.fmax);
  st.frames = (size_t) Json::integer (o, "frames", where, 1, 1 << 30);
  st.mean = Json::floats (o, "mean", where);
  const double scale = Json::number (o, "covariance_scale", where, 1e-12, 1e6);
  std::vector<float> upper = Json::floats (o, "covariance", where);
  const size_t n = (size_t) m.n_mels;
  if (st.mean.size () != n)
    Json::fail (where,
        "\"mean\" has " + std::to_string (st.mean.size ()) +
            " numbers, not n_mels = " + std::to_string (n));
  if (upper.size () != n * (n + 1) / 2)
    Json::fail (where,
        "\"covariance\" has " + std::to_string (upper.size ()) +
            " numbers, not n_mels * (n_mels + 1) / 2 = " +
            std::to_string (n * (n + 1) / 2) + " (the upper triangle)");
  st.covariance.assign (n * n, 0.0f);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i; j < n; j++) {
      if (i == j && upper[k] < 0.0f)
        Json::fail (where, "\"covariance\" has a negative variance");
      st.covariance[i * n + j] = st.covariance[j * n + i] =
          (float) (upper[k++] * scale);
    }
  return st;
}

std::shared_ptr<const AcousticDelta>
parse_acoustic_delta (JsonObject *o, const std::string &origin)
{
  const std::string where = origin + ": \"acoustic_delta\"";
  const std::string format = Json::string (o, "format", where);
  if (format != AcousticDelta::kFormat)
    Json::fail (where,
        "\"format\" is \"" + format + "\", expected \"" +
            AcousticDelta::kFormat + "\"");
  const int version = Json::integer (o, "version", where, 1, 1 << 20);
  if (version > AcousticDelta::kVersion)
    Json::fail (where,
        "version " + std::to_string (version) +
            " is newer than this ganvoice reads (" +
            std::to_string (AcousticDelta::kVersion) + "): update ganvoice");
  auto delta = std::make_shared<AcousticDelta> ();
  JsonNode *base = Json::member (o, "base", where, false);
  if (base && JSON_NODE_HOLDS_OBJECT (base)) {
    JsonObject *b = json_node_get_object (base);
    delta->base_model = Json::string (b, "name", where + " base", "");
    delta->base_sha256 = Json::string (b, "sha256", where + " base", "");
  }
  JsonNode *list = Json::member (o, "tensors", where);
  if (!JSON_NODE_HOLDS_ARRAY (list))
    Json::fail (where, "\"tensors\" must be a list");
  JsonArray *arr = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonNode *node = json_array_get_element (arr, i);
    if (!JSON_NODE_HOLDS_OBJECT (node))
      Json::fail (where, "every entry of \"tensors\" must be an object");
    JsonObject *t = json_node_get_object (node);
    AcousticDelta::Tensor tensor;
    tensor.name = Json::string (t, "name", where);
    const std::string tw = where + " tensor \"" + tensor.name + "\"";
    for (float d : Json::floats (t, "shape", tw))
      tensor.shape.push_back ((int64_t) d);
    const std::string kind = Json::string (t, "kind", tw);
    try {
      if (kind == "low-rank") {
        tensor.rank = Json::integer (t, "rank", tw, 1, 4096);
        tensor.a = decode_floats_base64 (Json::string (t, "a", tw), tw + " a");
        tensor.b = decode_floats_base64 (Json::string (t, "b", tw), tw + " b");
      } else if (kind == "add" || (kind == "rows" && version >= 2)) {
        tensor.rows = kind == "rows";
        tensor.data =
            decode_floats_base64 (Json::string (t, "data", tw), tw + " data");
      } else {
        Json::fail (tw,
            "\"kind\" must be \"add\", \"low-rank\" or (version 2) "
            "\"rows\"");
      }
    } catch (const VoiceProfileError &) {
      throw;
    } catch (const ModelError &e) {
      throw VoiceProfileError (e.what ());
    }
    delta->tensors.push_back (std::move (tensor));
  }
  AcousticDelta::Record &rec = delta->record;
  rec.start_voice = Json::optional_string (o, "start_voice", where, "");
  rec.steps = (int) Json::optional_number (o, "steps", where, 0.0);
  rec.seconds = Json::optional_number (o, "seconds", where, 0.0);
  rec.speech_seconds = Json::optional_number (o, "speech_seconds", where, 0.0);
  rec.utterances = (int) Json::optional_number (o, "utterances", where, 0.0);
  rec.mel_l1_start = Json::optional_number (o, "mel_l1_start", where, 0.0);
  rec.mel_l1_end = Json::optional_number (o, "mel_l1_end", where, 0.0);
  if (JsonNode *ph = Json::member (o, "phonemes", where, false)) {
    if (!JSON_NODE_HOLDS_ARRAY (ph))
      Json::fail (where, "\"phonemes\" must be a list of strings");
    JsonArray *pa = json_node_get_array (ph);
    for (guint i = 0; i < json_array_get_length (pa); i++) {
      JsonNode *e = json_array_get_element (pa, i);
      if (!JSON_NODE_HOLDS_VALUE (e) ||
          json_node_get_value_type (e) != G_TYPE_STRING)
        Json::fail (where, "\"phonemes\" must be a list of strings");
      delta->phonemes.push_back (json_node_get_string (e));
    }
  }
  try {
    delta->finish (origin);
  } catch (const ModelError &e) {
    throw VoiceProfileError (e.what ());
  }
  return delta;
}

void
add_acoustic_delta (JsonBuilder *b, const AcousticDelta &delta)
{
  json_builder_set_member_name (b, "acoustic_delta");
  json_builder_begin_object (b);
  add_string (b, "format", AcousticDelta::kFormat);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, delta.phonemes.empty () ? 1 : 2);
  if (!delta.phonemes.empty ()) {
    json_builder_set_member_name (b, "phonemes");
    json_builder_begin_array (b);
    for (const std::string &p : delta.phonemes)
      json_builder_add_string_value (b, p.c_str ());
    json_builder_end_array (b);
  }
  json_builder_set_member_name (b, "base");
  json_builder_begin_object (b);
  add_string (b, "name", delta.base_model);
  add_string (b, "sha256", delta.base_sha256);
  json_builder_end_object (b);
  const AcousticDelta::Record &rec = delta.record;
  if (!rec.start_voice.empty ())
    add_string (b, "start_voice", rec.start_voice);
  if (rec.steps > 0) {
    json_builder_set_member_name (b, "steps");
    json_builder_add_int_value (b, rec.steps);
    json_builder_set_member_name (b, "utterances");
    json_builder_add_int_value (b, rec.utterances);
    const std::pair<const char *, double> numbers[] = {
      { "seconds", rec.seconds }, { "speech_seconds", rec.speech_seconds },
      { "mel_l1_start", rec.mel_l1_start }, { "mel_l1_end", rec.mel_l1_end }
    };
    for (const auto &[name, value] : numbers) {
      json_builder_set_member_name (b, name);
      json_builder_add_double_value (b, std::round (value * 1e4) / 1e4);
    }
  }
  json_builder_set_member_name (b, "tensors");
  json_builder_begin_array (b);
  for (const AcousticDelta::Tensor &t : delta.tensors) {
    json_builder_begin_object (b);
    add_string (b, "name", t.name);
    json_builder_set_member_name (b, "shape");
    json_builder_begin_array (b);
    for (int64_t d : t.shape)
      json_builder_add_int_value (b, d);
    json_builder_end_array (b);
    if (t.rank > 0) {
      add_string (b, "kind", "low-rank");
      json_builder_set_member_name (b, "rank");
      json_builder_add_int_value (b, t.rank);
      add_string (b, "a", encode_floats_base64 (t.a));
      add_string (b, "b", encode_floats_base64 (t.b));
    } else {
      add_string (b, "kind", t.rows ? "rows" : "add");
      add_string (b, "data", encode_floats_base64 (t.data));
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

} // namespace

VoiceProfile
VoiceProfile::parse (
    std::string_view json, const std::string &origin, int embedding_dim)
{
  std::unique_ptr<JsonParser, GObjectUnref> parser (json_parser_new ());
  JsonObject *obj = Json::parse_object (parser.get (), json, origin);

  JsonNode *format = Json::member (obj, "format", origin, false);
  if (!format)
    Json::fail (origin,
        "not a voice profile: no \"format\" field (expected \"" +
            std::string (kFormat) + "\")");
  std::string format_name = Json::string (obj, "format", origin);
  if (format_name != kFormat)
    Json::fail (origin,
        "not a voice profile: \"format\" is \"" + format_name +
            "\", expected \"" + kFormat + "\"");
  JsonNode *version_node = Json::member (obj, "version", origin);
  if (!Json::is_number (version_node))
    Json::fail (origin, "\"version\" must be a whole number");
  double version = json_node_get_double (version_node);
  if (version != std::floor (version) || version < 1)
    Json::fail (origin, "\"version\" must be a whole number of at least 1");
  if (version > kVersion)
    Json::fail (origin,
        "the voice profile has version " +
            std::to_string ((long long) version) +
            ", newer than this ganvoice "
            "reads (" +
            std::to_string (kVersion) + "): update ganvoice");

  VoiceProfile p;
  p.path = origin;
  p.name = Json::string (obj, "name", origin);
  if (p.name.empty ())
    Json::fail (origin, "\"name\" is empty");
  p.language = Json::string (obj, "language", origin, "");
  p.gender = Json::string (obj, "gender", origin, "");
  p.model = Json::string (obj, "model", origin, "");
  p.base_voice = Json::string (obj, "base_voice", origin, "");
  p.embedding = Json::floats (obj, "embedding", origin);
  if (p.embedding.empty ())
    Json::fail (origin, "\"embedding\" is empty");
  if (embedding_dim > 0 && p.embedding.size () != (size_t) embedding_dim)
    Json::fail (origin,
        "\"embedding\" has " + std::to_string (p.embedding.size ()) +
            " numbers, but the acoustic model's speaker embedding has " +
            std::to_string (embedding_dim) +
            " (a profile made for another "
            "model?)");
  if (Json::member (obj, "speaker_embedding", origin, false)) {
    p.speaker_embedding = Json::floats (obj, "speaker_embedding", origin);
    p.speaker_encoder = Json::string (obj, "speaker_encoder", origin, "");
  }
  JsonNode *traits = Json::member (obj, "traits", origin, false);
  if (traits && !JSON_NODE_HOLDS_NULL (traits)) {
    if (!JSON_NODE_HOLDS_OBJECT (traits))
      Json::fail (origin, "\"traits\" must be an object");
    p.traits = parse_traits (json_node_get_object (traits), origin);
  }
  JsonNode *stats = Json::member (obj, "mel_statistics", origin, false);
  if (stats && !JSON_NODE_HOLDS_NULL (stats)) {
    if (!JSON_NODE_HOLDS_OBJECT (stats))
      Json::fail (origin, "\"mel_statistics\" must be an object");
    p.mel_statistics =
        parse_mel_statistics (json_node_get_object (stats), origin);
  }
  JsonNode *delta = Json::member (obj, "acoustic_delta", origin, false);
  if (delta && !JSON_NODE_HOLDS_NULL (delta)) {
    if (!JSON_NODE_HOLDS_OBJECT (delta))
      Json::fail (origin, "\"acoustic_delta\" must be an object");
    p.acoustic_delta =
        parse_acoustic_delta (json_node_get_object (delta), origin);
  }
  return p;
}

VoiceProfile
VoiceProfile::load (const std::string &path, int embedding_dim)
{
  std::string json, why;
  if (!read_file (path, json, why))
    throw VoiceProfileError (
        "cannot read the voice profile " + path + ": " + why);
  return parse (json, path, embedding_dim);
}

std::string
VoiceProfile::to_json () const
{
  std::unique_ptr<JsonBuilder, GObjectUnref> builder (json_builder_new ());
  JsonBuilder *b = builder.get ();
  json_builder_begin_object (b);
  add_string (b, "format", kFormat);
  /* Version 1 readers can use everything but a deep clone's delta. */
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, acoustic_delta ? 2 : 1);
  add_string (b, "name", name);
  if (!language.empty ())
    add_string (b, "language", language);
  if (!gender.empty ())
    add_string (b, "gender", gender);
  if (!model.empty ())
    add_string (b, "model", model);
  if (!base_voice.empty ())
    add_string (b, "base_voice", base_voice);
  add_floats (b, "embedding", embedding);
  if (!speaker_embedding.empty ()) {
    add_floats (b, "speaker_embedding", speaker_embedding);
    if (!speaker_encoder.empty ())
      add_string (b, "speaker_encoder", speaker_encoder);
  }
  if (traits) {
    json_builder_set_member_name (b, "traits");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "f0_median_hz");
    json_builder_add_double_value (b, traits->f0_median_hz);
    json_builder_set_member_name (b, "f0_range_hz");
    json_builder_begin_array (b);
    json_builder_add_double_value (b, traits->f0_low_hz);
    json_builder_add_double_value (b, traits->f0_high_hz);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "formant_scale");
    json_builder_add_double_value (b, traits->formant_scale);
    add_floats (b, "spectral_envelope", traits->spectral_envelope);
    json_builder_set_member_name (b, "speaking_rate");
    json_builder_add_double_value (b, traits->speaking_rate);
    if (traits->syllable_rate > 0.0) {
      json_builder_set_member_name (b, "syllable_rate");
      json_builder_add_double_value (b, traits->syllable_rate);
    }
    json_builder_end_object (b);
  }
  if (!mel_statistics.empty ())
    add_mel_statistics (b, mel_statistics);
  if (acoustic_delta)
    add_acoustic_delta (b, *acoustic_delta);
  json_builder_end_object (b);

  std::unique_ptr<JsonGenerator, GObjectUnref> gen (json_generator_new ());
  JsonNode *root = json_builder_get_root (b);
  json_generator_set_root (gen.get (), root);
  json_generator_set_pretty (gen.get (), TRUE);
  json_generator_set_indent (gen.get (), 2);
  gchar *text = json_generator_to_data (gen.get (), nullptr);
  std::string out (text ? text : "");
  g_free (text);
  json_node_unref (root);
  out.push_back ('\n');
  return out;
}

void
VoiceProfile::save (const std::string &path) const
{
  std::string json = to_json ();
  GError *err = nullptr;
  /* g_file_set_contents writes a temporary file and renames it. */
  if (!g_file_set_contents (
          path.c_str (), json.data (), (gssize) json.size (), &err)) {
    std::string why = err ? err->message : "unwritable";
    g_clear_error (&err);
    throw VoiceProfileError (
        "cannot write the voice profile " + path + ": " + why);
  }
}

VoiceProfile
VoiceProfile::from_voice (const Voice &voice, const std::string &model)
{
  VoiceProfile p;
  p.name = voice.name;
  p.language = voice.language;
  p.gender = voice.gender;
  p.model = model;
  p.embedding = voice.embedding;
  return p;
}

} // namespace ganvoice
