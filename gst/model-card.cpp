/* ganvoice: model cards.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/model-card.h>

#include <json-glib/json-glib.h>

#include <memory>

namespace ganvoice {
namespace {

struct ObjectDeleter {
  void operator() (gpointer p) const { g_object_unref (p); }
};

[[noreturn]] void
fail (const std::string &origin, const std::string &what)
{
  throw ModelError (origin + ": " + what);
}

JsonNode *
member (JsonObject *obj, const char *name, const std::string &origin,
    bool required = true)
{
  if (obj && json_object_has_member (obj, name))
    return json_object_get_member (obj, name);
  if (required)
    fail (origin, std::string ("the model card has no \"") + name + "\" field");
  return nullptr;
}

bool
is_number (JsonNode *node)
{
  if (!JSON_NODE_HOLDS_VALUE (node))
    return false;
  GType type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

double
get_number (JsonObject *obj, const char *name, const std::string &origin,
    double min, double max)
{
  JsonNode *node = member (obj, name, origin);
  if (!is_number (node))
    fail (origin, std::string ("\"") + name + "\" must be a number");
  double value = json_node_get_double (node);
  if (!(value >= min && value <= max))
    fail (origin, std::string ("\"") + name + "\" is " + std::to_string (value) +
        ", outside " + std::to_string (min) + " .. " + std::to_string (max));
  return value;
}

int
get_int (JsonObject *obj, const char *name, const std::string &origin,
    int min, int max)
{
  double value = get_number (obj, name, origin, min, max);
  if (value != (double) (int) value)
    fail (origin, std::string ("\"") + name + "\" must be a whole number");
  return (int) value;
}

std::string
get_string (JsonObject *obj, const char *name, const std::string &origin,
    const char *fallback = nullptr)
{
  JsonNode *node = member (obj, name, origin, fallback == nullptr);
  if (!node)
    return fallback;
  if (!JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    fail (origin, std::string ("\"") + name + "\" must be a string");
  return json_node_get_string (node);
}

JsonArray *
get_array (JsonObject *obj, const char *name, const std::string &origin)
{
  JsonNode *node = member (obj, name, origin);
  if (!JSON_NODE_HOLDS_ARRAY (node))
    fail (origin, std::string ("\"") + name + "\" must be a list");
  return json_node_get_array (node);
}

/* The acoustic model's fields: phonemes, speaker_embedding_dim, voices.
 * Each is checked where present; AcousticModel::load requires them. */
void
parse_acoustic (JsonObject *obj, const std::string &origin, ModelCard &card)
{
  if (member (obj, "phonemes", origin, false)) {
    JsonArray *phonemes = get_array (obj, "phonemes", origin);
    guint n = json_array_get_length (phonemes);
    for (guint i = 0; i < n; i++) {
      JsonNode *node = json_array_get_element (phonemes, i);
      if (!JSON_NODE_HOLDS_VALUE (node) ||
          json_node_get_value_type (node) != G_TYPE_STRING ||
          !*json_node_get_string (node))
        fail (origin, "\"phonemes\"[" + std::to_string (i) +
            "] must be a non-empty string");
      std::string symbol = json_node_get_string (node);
      for (const std::string &seen : card.phonemes)
        if (seen == symbol)
          fail (origin, "\"phonemes\" lists \"" + symbol + "\" twice");
      card.phonemes.push_back (symbol);
    }
    /* The text frontend's word break and pauses must have ids. */
    for (const char *needed : {" ", ",", "."}) {
      bool found = false;
      for (const std::string &seen : card.phonemes)
        found = found || seen == needed;
      if (!found)
        fail (origin, std::string ("\"phonemes\" lacks \"") + needed +
            "\" (the word break and pauses must have ids)");
    }
  }

  if (!member (obj, "voices", origin, false))
    return;
  card.speaker_embedding_dim = get_int (obj, "speaker_embedding_dim", origin,
      1, 65536);
  const size_t dim = (size_t) card.speaker_embedding_dim;
  JsonArray *voices = get_array (obj, "voices", origin);
  guint n_voices = json_array_get_length (voices);
  for (guint i = 0; i < n_voices; i++) {
    JsonNode *node = json_array_get_element (voices, i);
    std::string where = "\"voices\"[" + std::to_string (i) + "]";
    if (!JSON_NODE_HOLDS_OBJECT (node))
      fail (origin, where + " must be an object");
    JsonObject *v = json_node_get_object (node);
    std::string v_origin = origin + ": " + where;
    Voice voice;
    voice.name = get_string (v, "name", v_origin);
    voice.language = get_string (v, "language", v_origin);
    voice.gender = get_string (v, "gender", v_origin);
    if (voice.name.empty ())
      fail (v_origin, "\"name\" is empty");
    if (voice.gender != "female" && voice.gender != "male")
      fail (v_origin, "\"gender\" is \"" + voice.gender +
          "\", not \"female\" or \"male\"");
    for (const Voice &seen : card.voices)
      if (seen.name == voice.name)
        fail (origin, "\"voices\" names \"" + voice.name + "\" twice");
    JsonArray *embedding = get_array (v, "embedding", v_origin);
    if (json_array_get_length (embedding) != dim)
      fail (v_origin, "\"embedding\" has " +
          std::to_string (json_array_get_length (embedding)) +
          " numbers, but \"speaker_embedding_dim\" is " + std::to_string (dim));
    for (guint k = 0; k < dim; k++) {
      JsonNode *x = json_array_get_element (embedding, k);
      if (!is_number (x))
        fail (v_origin, "\"embedding\" must hold numbers only");
      voice.embedding.push_back ((float) json_node_get_double (x));
    }
    JsonNode *f0 = member (v, "f0_median_hz", v_origin, false);
    if (f0) {
      if (!is_number (f0) || !(json_node_get_double (f0) > 0.0))
        fail (v_origin, "\"f0_median_hz\" must be a positive number");
      voice.f0_median_hz = json_node_get_double (f0);
    }
    card.voices.push_back (std::move (voice));
  }
}

}  // namespace

ModelCard
ModelCard::parse (std::string_view json, const std::string &origin)
{
  std::unique_ptr<JsonParser, ObjectDeleter> parser (json_parser_new ());
  GError *err = nullptr;
  if (!json_parser_load_from_data (parser.get (), json.data (),
          (gssize) json.size (), &err)) {
    std::string why = err ? err->message : "unreadable";
    g_clear_error (&err);
    fail (origin, "the model card is not valid JSON: " + why);
  }
  JsonNode *root = json_parser_get_root (parser.get ());
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    fail (origin, "the model card must be a JSON object");
  JsonObject *obj = json_node_get_object (root);

  ModelCard card;
  card.path = origin;
  card.name = get_string (obj, "name", origin);
  card.kind = get_string (obj, "kind", origin);
  card.version = get_string (obj, "version", origin, "0");

  /* The front-end may sit at the top or in a "mel" object. */
  JsonNode *mel_node = member (obj, "mel", origin, false);
  JsonObject *mel = mel_node && JSON_NODE_HOLDS_OBJECT (mel_node) ?
      json_node_get_object (mel_node) : nullptr;
  auto where = [&](const char *name) {
    return mel && json_object_has_member (mel, name) ? mel : obj;
  };
  MelSpec &m = card.mel;
  m.sample_rate = get_int (where ("sample_rate"), "sample_rate", origin, 4000,
      192000);
  m.n_fft = get_int (where ("n_fft"), "n_fft", origin, 16, 16384);
  m.hop = get_int (where ("hop"), "hop", origin, 1, m.n_fft);
  m.win = json_object_has_member (where ("win"), "win") ?
      get_int (where ("win"), "win", origin, 1, m.n_fft) : m.n_fft;
  m.n_mels = get_int (where ("n_mels"), "n_mels", origin, 1, 512);
  m.fmin = get_number (where ("fmin"), "fmin", origin, 0, m.sample_rate / 2.0);
  m.fmax = get_number (where ("fmax"), "fmax", origin, m.fmin,
      m.sample_rate / 2.0);
  if (json_object_has_member (where ("clamp"), "clamp"))
    m.clamp = get_number (where ("clamp"), "clamp", origin, 1e-12, 1.0);
  m.scale = mel && json_object_has_member (mel, "scale") ?
      get_string (mel, "scale", origin) : "slaney";
  m.norm = mel && json_object_has_member (mel, "norm") ?
      get_string (mel, "norm", origin) : "slaney";

  JsonNode *f0 = member (obj, "f0_input", origin, false);
  if (f0) {
    if (!JSON_NODE_HOLDS_VALUE (f0) ||
        json_node_get_value_type (f0) != G_TYPE_BOOLEAN)
      fail (origin, "\"f0_input\" must be true or false");
    card.f0_input = json_node_get_boolean (f0);
  }
  if (card.kind == "acoustic")
    parse_acoustic (obj, origin, card);
  return card;
}

ModelCard
ModelCard::load (const std::string &path)
{
  gchar *contents = nullptr;
  gsize size = 0;
  GError *err = nullptr;
  if (!g_file_get_contents (path.c_str (), &contents, &size, &err)) {
    std::string why = err ? err->message : "unreadable";
    g_clear_error (&err);
    throw ModelError ("cannot read the model card " + path + ": " + why);
  }
  std::string json (contents, size);
  g_free (contents);
  return parse (json, path);
}

}  // namespace ganvoice
