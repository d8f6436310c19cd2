/* ganvoice: typed, checked reads of JSON fields for the model card and
 * the voice profile parsers, and for the studio's requests and helper
 * answers (examples/studio, which includes this header without linking the
 * library: keep it header-only). Private. Every failure throws
 * Traits::Error with "ORIGIN: what is wrong".
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ganvoice {

/* For std::unique_ptr of a JsonParser or JsonBuilder. */
struct GObjectUnref {
  void operator() (gpointer p) const
  {
    g_object_unref (p);
  }
};

/* Traits: `using Error = …;` and `static constexpr const char *kDocument`
 * ("the model card"), used in "… has no "x" field". */
template <typename Traits> struct JsonFields {
  [[noreturn]] static void fail (
      const std::string &origin, const std::string &what)
  {
    throw typename Traits::Error (origin + ": " + what);
  }

  /* Parses @json with @parser (which owns the result) into its top-level
   * object. */
  static JsonObject *parse_object (
      JsonParser *parser, std::string_view json, const std::string &origin)
  {
    GError *err = nullptr;
    if (!json_parser_load_from_data (
            parser, json.data (), (gssize) json.size (), &err)) {
      std::string why = err ? err->message : "unreadable";
      g_clear_error (&err);
      fail (origin,
          std::string (Traits::kDocument) + " is not valid JSON: " + why);
    }
    JsonNode *root = json_parser_get_root (parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT (root))
      fail (origin, std::string (Traits::kDocument) + " must be a JSON object");
    return json_node_get_object (root);
  }

  static JsonNode *member (JsonObject *obj, const char *name,
      const std::string &origin, bool required = true)
  {
    if (obj && json_object_has_member (obj, name))
      return json_object_get_member (obj, name);
    if (required)
      fail (origin,
          std::string (Traits::kDocument) + " has no \"" + name + "\" field");
    return nullptr;
  }

  static bool is_number (JsonNode *node)
  {
    if (!node || !JSON_NODE_HOLDS_VALUE (node))
      return false;
    GType type = json_node_get_value_type (node);
    return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
  }

  static double number (JsonObject *obj, const char *name,
      const std::string &origin, double min, double max)
  {
    JsonNode *node = member (obj, name, origin);
    if (!is_number (node))
      fail (origin, std::string ("\"") + name + "\" must be a number");
    double value = json_node_get_double (node);
    if (!(value >= min && value <= max))
      fail (origin,
          std::string ("\"") + name + "\" is " + std::to_string (value) +
              ", outside " + std::to_string (min) + " .. " +
              std::to_string (max));
    return value;
  }

  static int integer (JsonObject *obj, const char *name,
      const std::string &origin, int min, int max)
  {
    double value = number (obj, name, origin, min, max);
    if (value != (double) (int) value)
      fail (origin, std::string ("\"") + name + "\" must be a whole number");
    return (int) value;
  }

  /* A string; @fallback when the field is missing or null (nullptr: the
   * field is required). */
  static std::string string (JsonObject *obj, const char *name,
      const std::string &origin, const char *fallback = nullptr)
  {
    JsonNode *node = member (obj, name, origin, fallback == nullptr);
    if (!node || JSON_NODE_HOLDS_NULL (node)) {
      if (!fallback)
        fail (origin, std::string ("\"") + name + "\" must be a string");
      return fallback;
    }
    if (!JSON_NODE_HOLDS_VALUE (node) ||
        json_node_get_value_type (node) != G_TYPE_STRING)
      fail (origin, std::string ("\"") + name + "\" must be a string");
    return json_node_get_string (node);
  }

  /* Optional fields: @fallback when the field is missing or null (or @obj
   * is nullptr); a value of another type fails as for a required field. */
  static std::string optional_string (JsonObject *obj, const char *name,
      const std::string &origin, const std::string &fallback = "")
  {
    return string (obj, name, origin, fallback.c_str ());
  }

  static double optional_number (JsonObject *obj, const char *name,
      const std::string &origin, double fallback)
  {
    JsonNode *node = member (obj, name, origin, false);
    if (!node || JSON_NODE_HOLDS_NULL (node))
      return fallback;
    if (!is_number (node))
      fail (origin, std::string ("\"") + name + "\" must be a number");
    return json_node_get_double (node);
  }

  /* A whole number (64 bits: sizes of files). */
  static std::int64_t optional_integer (JsonObject *obj, const char *name,
      const std::string &origin, std::int64_t fallback)
  {
    JsonNode *node = member (obj, name, origin, false);
    if (!node || JSON_NODE_HOLDS_NULL (node))
      return fallback;
    if (!is_number (node))
      fail (origin, std::string ("\"") + name + "\" must be a number");
    if (json_node_get_value_type (node) == G_TYPE_INT64)
      return json_node_get_int (node);
    double value = json_node_get_double (node);
    /* Whole, and inside int64's range (2^63 is about 9.22e18). */
    if (!(value == std::floor (value) && std::fabs (value) < 9.2e18))
      fail (origin, std::string ("\"") + name + "\" must be a whole number");
    return (std::int64_t) value;
  }

  static bool optional_boolean (JsonObject *obj, const char *name,
      const std::string &origin, bool fallback)
  {
    JsonNode *node = member (obj, name, origin, false);
    if (!node || JSON_NODE_HOLDS_NULL (node))
      return fallback;
    if (!JSON_NODE_HOLDS_VALUE (node) ||
        json_node_get_value_type (node) != G_TYPE_BOOLEAN)
      fail (origin, std::string ("\"") + name + "\" must be true or false");
    return json_node_get_boolean (node);
  }

  static JsonArray *array (
      JsonObject *obj, const char *name, const std::string &origin)
  {
    JsonNode *node = member (obj, name, origin);
    if (!JSON_NODE_HOLDS_ARRAY (node))
      fail (origin, std::string ("\"") + name + "\" must be a list");
    return json_node_get_array (node);
  }

  /* A list of finite numbers. */
  static std::vector<float> floats (
      JsonObject *obj, const char *name, const std::string &origin)
  {
    JsonNode *node = member (obj, name, origin);
    if (!JSON_NODE_HOLDS_ARRAY (node))
      fail (origin, std::string ("\"") + name + "\" must be a list of numbers");
    JsonArray *list = json_node_get_array (node);
    std::vector<float> out;
    guint n = json_array_get_length (list);
    out.reserve (n);
    for (guint i = 0; i < n; i++) {
      JsonNode *x = json_array_get_element (list, i);
      if (!is_number (x))
        fail (origin,
            std::string ("\"") + name + "\"[" + std::to_string (i) +
                "] is not a number");
      double v = json_node_get_double (x);
      if (!std::isfinite (v))
        fail (origin,
            std::string ("\"") + name + "\" holds a value that is not finite");
      out.push_back ((float) v);
    }
    return out;
  }
};

} // namespace ganvoice
