/* ganvoice: model cards.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/model-card.h>

#include "runtime/file-contents.h"
#include "runtime/json-fields.h"

#include <json-glib/json-glib.h>

#include <memory>

namespace ganvoice {
namespace {

struct CardJsonTraits {
  using Error = ModelError;
  static constexpr const char *kDocument = "the model card";
};
using Json = JsonFields<CardJsonTraits>;

/* The acoustic model's fields: phonemes, speaker_embedding_dim, voices.
 * Each is checked where present; AcousticModel::load requires them. */
void
parse_acoustic (JsonObject *obj, const std::string &origin, ModelCard &card)
{
  if (Json::member (obj, "phonemes", origin, false)) {
    JsonArray *phonemes = Json::array (obj, "phonemes", origin);
    guint n = json_array_get_length (phonemes);
    for (guint i = 0; i < n; i++) {
      JsonNode *node = json_array_get_element (phonemes, i);
      if (!JSON_NODE_HOLDS_VALUE (node) ||
          json_node_get_value_type (node) != G_TYPE_STRING ||
          !*json_node_get_string (node))
        Json::fail (origin,
            "\"phonemes\"[" + std::to_string (i) +
                "] must be a non-empty string");
      std::string symbol = json_node_get_string (node);
      for (const std::string &seen : card.phonemes)
        if (seen == symbol)
          Json::fail (origin, "\"phonemes\" lists \"" + symbol + "\" twice");
      card.phonemes.push_back (symbol);
    }
    /* The text frontend's word break and pauses must have ids. */
    for (const char *needed : { " ", ",", "." }) {
      bool found = false;
      for (const std::string &seen : card.phonemes)
        found = found || seen == needed;
      if (!found)
        Json::fail (origin,
            std::string ("\"phonemes\" lacks \"") + needed +
                "\" (the word break and pauses must have ids)");
    }
  }

  if (JsonNode *norm = Json::member (obj, "f0_normalisation", origin, false)) {
    if (!JSON_NODE_HOLDS_OBJECT (norm))
      Json::fail (origin, "\"f0_normalisation\" must be an object");
    JsonObject *n = json_node_get_object (norm);
    std::string n_origin = origin + ": \"f0_normalisation\"";
    card.log_f0_mean = Json::number (n, "log_f0_mean", n_origin, 0.0, 10.0);
    card.log_f0_std = Json::number (n, "log_f0_std", n_origin, 1e-3, 10.0);
  }
  if (JsonNode *ft = Json::member (obj, "fine_tune", origin, false)) {
    if (!JSON_NODE_HOLDS_OBJECT (ft))
      Json::fail (origin, "\"fine_tune\" must be an object");
    JsonObject *f = json_node_get_object (ft);
    std::string f_origin = origin + ": \"fine_tune\"";
    card.fine_tune.method = Json::string (f, "method", f_origin);
    auto strings = [&] (const char *name, bool required) {
      std::vector<std::string> out;
      if (!required && !Json::member (f, name, f_origin, false))
        return out;
      JsonArray *a = Json::array (f, name, f_origin);
      for (guint i = 0; i < json_array_get_length (a); i++) {
        JsonNode *node = json_array_get_element (a, i);
        if (!JSON_NODE_HOLDS_VALUE (node) ||
            json_node_get_value_type (node) != G_TYPE_STRING)
          Json::fail (f_origin,
              std::string ("\"") + name + "\" must hold strings only");
        out.push_back (json_node_get_string (node));
      }
      return out;
    };
    card.fine_tune.low_rank = strings ("low_rank", true);
    card.fine_tune.full = strings ("full", true);
    card.fine_tune.zero_frame_phonemes = strings ("zero_frame_phonemes", false);
    card.fine_tune.embedding =
        Json::optional_string (f, "embedding", f_origin, "");
    if (card.fine_tune.method.empty ())
      Json::fail (f_origin, "\"method\" is empty");
    if (card.log_f0_std <= 0.0)
      Json::fail (origin,
          "\"fine_tune\" needs \"f0_normalisation\" (log_f0_mean, "
          "log_f0_std)");
  }

  if (!Json::member (obj, "voices", origin, false))
    return;
  card.speaker_embedding_dim =
      Json::integer (obj, "speaker_embedding_dim", origin, 1, 65536);
  const size_t dim = (size_t) card.speaker_embedding_dim;
  JsonArray *voices = Json::array (obj, "voices", origin);
  guint n_voices = json_array_get_length (voices);
  for (guint i = 0; i < n_voices; i++) {
    JsonNode *node = json_array_get_element (voices, i);
    std::string where = "\"voices\"[" + std::to_string (i) + "]";
    if (!JSON_NODE_HOLDS_OBJECT (node))
      Json::fail (origin, where + " must be an object");
    JsonObject *v = json_node_get_object (node);
    std::string v_origin = origin + ": " + where;
    Voice voice;
    voice.name = Json::string (v, "name", v_origin);
    voice.language = Json::string (v, "language", v_origin);
    voice.gender = Json::string (v, "gender", v_origin);
    if (voice.name.empty ())
      Json::fail (v_origin, "\"name\" is empty");
    if (voice.gender != "female" && voice.gender != "male")
      Json::fail (v_origin,
          "\"gender\" is \"" + voice.gender + "\", not \"female\" or \"male\"");
    for (const Voice &seen : card.voices)
      if (seen.name == voice.name)
        Json::fail (origin, "\"voices\" names \"" + voice.name + "\" twice");
    JsonArray *embedding = Json::array (v, "embedding", v_origin);
    if (json_array_get_length (embedding) != dim)
      Json::fail (v_origin,
          "\"embedding\" has " +
              std::to_string (json_array_get_length (embedding)) +
              " numbers, but \"speaker_embedding_dim\" is " +
              std::to_string (dim));
    for (guint k = 0; k < dim; k++) {
      JsonNode *x = json_array_get_element (embedding, k);
      if (!Json::is_number (x))
        Json::fail (v_origin, "\"embedding\" must hold numbers only");
      voice.embedding.push_back ((float) json_node_get_double (x));
    }
    JsonNode *f0 = Json::member (v, "f0_median_hz", v_origin, false);
    if (f0) {
      if (!Json::is_number (f0) || !(json_node_get_double (f0) > 0.0))
        Json::fail (v_origin, "\"f0_median_hz\" must be a positive number");
      voice.f0_median_hz = json_node_get_double (f0);
    }
    if (Json::member (v, "profile", v_origin, false)) {
      voice.profile = Json::string (v, "profile", v_origin);
      if (voice.profile.empty ())
        Json::fail (v_origin, "\"profile\" is empty");
    }
    card.voices.push_back (std::move (voice));
  }
}

} // namespace

ModelCard
ModelCard::parse (std::string_view json, const std::string &origin)
{
  std::unique_ptr<JsonParser, GObjectUnref> parser (json_parser_new ());
  JsonObject *obj = Json::parse_object (parser.get (), json, origin);

  ModelCard card;
  card.path = origin;
  card.name = Json::string (obj, "name", origin);
  card.kind = Json::string (obj, "kind", origin);
  card.version = Json::string (obj, "version", origin, "0");

  /* The front-end may sit at the top or in a "mel" object. */
  JsonNode *mel_node = Json::member (obj, "mel", origin, false);
  JsonObject *mel = mel_node && JSON_NODE_HOLDS_OBJECT (mel_node)
      ? json_node_get_object (mel_node)
      : nullptr;
  auto where = [&] (const char *name) {
    return mel && json_object_has_member (mel, name) ? mel : obj;
  };
  MelSpec &m = card.mel;
  m.sample_rate = Json::integer (
      where ("sample_rate"), "sample_rate", origin, 4000, 192000);
  m.n_fft = Json::integer (where ("n_fft"), "n_fft", origin, 16, 16384);
  m.hop = Json::integer (where ("hop"), "hop", origin, 1, m.n_fft);
  m.win = json_object_has_member (where ("win"), "win")
      ? Json::integer (where ("win"), "win", origin, 1, m.n_fft)
      : m.n_fft;
  m.n_mels = Json::integer (where ("n_mels"), "n_mels", origin, 1, 512);
  m.fmin =
      Json::number (where ("fmin"), "fmin", origin, 0, m.sample_rate / 2.0);
  m.fmax = Json::number (
      where ("fmax"), "fmax", origin, m.fmin, m.sample_rate / 2.0);
  if (json_object_has_member (where ("clamp"), "clamp"))
    m.clamp = Json::number (where ("clamp"), "clamp", origin, 1e-12, 1.0);
  m.scale = mel && json_object_has_member (mel, "scale")
      ? Json::string (mel, "scale", origin)
      : "slaney";
  m.norm = mel && json_object_has_member (mel, "norm")
      ? Json::string (mel, "norm", origin)
      : "slaney";

  JsonNode *f0 = Json::member (obj, "f0_input", origin, false);
  if (f0) {
    if (!JSON_NODE_HOLDS_VALUE (f0) ||
        json_node_get_value_type (f0) != G_TYPE_BOOLEAN)
      Json::fail (origin, "\"f0_input\" must be true or false");
    card.f0_input = json_node_get_boolean (f0);
  }
  if (card.kind == "acoustic" || card.kind == "speaker")
    parse_acoustic (obj, origin, card);
  if (card.kind == "speaker") {
    card.acoustic_model = Json::string (obj, "acoustic_model", origin, "");
    if (Json::member (obj, "blend_temperature", origin, false))
      card.blend_temperature =
          Json::number (obj, "blend_temperature", origin, 1e-4, 100.0);
  }
  return card;
}

ModelCard
ModelCard::load (const std::string &path)
{
  std::string json, why;
  if (!read_file (path, json, why))
    throw ModelError ("cannot read the model card " + path + ": " + why);
  ModelCard card = parse (json, path);
  /* A voice's profile is beside the card (or below it). */
  for (Voice &v : card.voices)
    if (!v.profile.empty () && !g_path_is_absolute (v.profile.c_str ())) {
      gchar *dir = g_path_get_dirname (path.c_str ());
      gchar *full = g_build_filename (dir, v.profile.c_str (), NULL);
      v.profile = full;
      g_free (full);
      g_free (dir);
    }
  return card;
}

} // namespace ganvoice
