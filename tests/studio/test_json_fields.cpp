/* Unit test of the studio's reads of JSON fields: the optional getters of
 * ganvoice::JsonFields (gst/runtime/json-fields.h) with the studio's traits
 * (examples/studio/common.h): missing or null gives the fallback, a value of
 * another type a JsonError whose message the page shows.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common.h"

#include <glib.h>

#include <memory>
#include <string>

using studio::Json;
using studio::JsonError;

namespace {

const char kDoc[] = "{\"s\": \"text\", \"n\": 2.5, \"i\": 7, "
                    "\"big\": 6000000000, \"whole\": 3.0, \"half\": 3.5, "
                    "\"b\": true, \"null\": null, \"list\": [1], "
                    "\"obj\": {}}";

struct Parsed {
  std::unique_ptr<JsonParser, ganvoice::GObjectUnref> parser{
    json_parser_new ()
  };
  JsonObject *obj = Json::parse_object (parser.get (), kDoc, "test");
};

/* What @read gives, as text, or "error: MESSAGE". */
template <typename Read>
std::string
outcome (Read read)
{
  try {
    return read ();
  } catch (const JsonError &e) {
    return std::string ("error: ") + e.what ();
  }
}

std::string
num (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_dtostr (buf, sizeof buf, v);
}

void
check (const std::string &got, const char *want)
{
  g_test_message ("got %s, want %s", got.c_str (), want);
  g_assert_true (got == want);
}

void
test_optional_string (void)
{
  Parsed p;
  auto str = [&] (const char *name) {
    return outcome (
        [&] { return Json::optional_string (p.obj, name, "R", "fb"); });
  };
  check (str ("s"), "text");
  check (str ("missing"), "fb");
  check (str ("null"), "fb");
  check (str ("n"), "error: R: \"n\" must be a string.");
  check (str ("obj"), "error: R: \"obj\" must be a string.");
  /* No object at all (a cue that is not an object): the fallback. */
  check (
      outcome ([] { return Json::optional_string (nullptr, "s", "R"); }), "");
}

void
test_optional_number (void)
{
  Parsed p;
  auto number = [&] (const char *name) {
    return outcome (
        [&] { return num (Json::optional_number (p.obj, name, "R", -1)); });
  };
  check (number ("n"), "2.5");
  check (number ("i"), "7");
  check (number ("missing"), "-1");
  check (number ("null"), "-1");
  check (number ("s"), "error: R: \"s\" must be a number.");
  check (number ("b"), "error: R: \"b\" must be a number.");
}

void
test_optional_integer (void)
{
  Parsed p;
  auto integer = [&] (const char *name) {
    return outcome ([&] {
      return std::to_string (Json::optional_integer (p.obj, name, "R", -1));
    });
  };
  check (integer ("i"), "7");
  check (integer ("big"), "6000000000");
  check (integer ("whole"), "3");
  check (integer ("missing"), "-1");
  check (integer ("half"), "error: R: \"half\" must be a whole number.");
  check (integer ("s"), "error: R: \"s\" must be a number.");
  check (integer ("list"), "error: R: \"list\" must be a number.");
}

void
test_optional_boolean (void)
{
  Parsed p;
  auto boolean = [&] (const char *name) {
    return outcome ([&] {
      return std::string (
          Json::optional_boolean (p.obj, name, "R", false) ? "true" : "false");
    });
  };
  check (boolean ("b"), "true");
  check (boolean ("missing"), "false");
  check (boolean ("null"), "false");
  check (boolean ("i"), "error: R: \"i\" must be true or false.");
}

void
test_required_field (void)
{
  Parsed p;
  check (outcome ([&] {
    return std::to_string (
        json_array_get_length (Json::array (p.obj, "cues", "R")));
  }),
      "error: R: the JSON object has no \"cues\" field.");
}

} // namespace

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  g_test_add_func ("/json/optional-string", test_optional_string);
  g_test_add_func ("/json/optional-number", test_optional_number);
  g_test_add_func ("/json/optional-integer", test_optional_integer);
  g_test_add_func ("/json/optional-boolean", test_optional_boolean);
  g_test_add_func ("/json/required-field", test_required_field);
  return g_test_run ();
}
