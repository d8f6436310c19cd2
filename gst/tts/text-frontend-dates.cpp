/* ganvoice: numeric dates to words before espeak-ng, which would otherwise
 * read "12/03/2024" as "twelve slash zero three slash …".
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/text-frontend.h>

#include <array>
#include <cstring>
#include <regex>
#include <string>

namespace ganvoice {
namespace {

struct DateStyle {
  const char *language; /* base language */
  bool month_first; /* slashed dates are M/D/Y */
  std::array<const char *, 12> months;
  /* %d day, %m month name, %y year */
  const char *pattern;
};

const DateStyle kStyles[] = {
  { "en", false,
      { "January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December" },
      "%d %m %y" },
  { "es", false,
      { "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
          "agosto", "septiembre", "octubre", "noviembre", "diciembre" },
      "%d de %m de %y" },
  { "fr", false,
      { "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre" },
      "%d %m %y" },
  { "it", false,
      { "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
          "agosto", "settembre", "ottobre", "novembre", "dicembre" },
      "%d %m %y" },
  { "de", false,
      { "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
          "September", "Oktober", "November", "Dezember" },
      "%d. %m %y" },
  { "nl", false,
      { "januari", "februari", "maart", "april", "mei", "juni", "juli",
          "augustus", "september", "oktober", "november", "december" },
      "%d %m %y" },
  { "ru", false,
      { "января", "февраля", "марта", "апреля", "мая", "июня", "июля",
          "августа", "сентября", "октября", "ноября", "декабря" },
      "%d %m %y года" },
};

const DateStyle *
style_for (const std::string &language)
{
  const std::string base = language_base (language);
  for (const DateStyle &s : kStyles)
    if (base == s.language)
      return &s;
  return nullptr;
}

std::string
spell (const DateStyle &style, int day, int month, const std::string &year,
    bool english_us)
{
  if (english_us) /* "March 12, 2024" */
    return std::string (style.months[month - 1]) + " " + std::to_string (day) +
        ", " + year;
  std::string out;
  for (const char *p = style.pattern; *p; p++) {
    if (*p == '%' && p[1]) {
      p++;
      if (*p == 'd')
        out += std::to_string (day);
      else if (*p == 'm')
        out += style.months[month - 1];
      else if (*p == 'y')
        out += year;
    } else {
      out += *p;
    }
  }
  return out;
}

} // namespace

std::string
expand_dates (const std::string &text, const std::string &language)
{
  const DateStyle *style = style_for (language);
  if (!style || text.find_first_of ("/-.") == std::string::npos)
    return text;
  const bool us = g_ascii_strcasecmp (language.c_str (), "en-us") == 0 ||
      g_ascii_strcasecmp (language.c_str (), "en_us") == 0;
  /* 2024-03-12 (ISO), or 12/03/2024, 12.03.2024, 12-03-2024; not inside a
   * longer number or word. */
  static const std::regex iso (
      "(^|[^0-9A-Za-z])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9A-Za-z])");
  static const std::regex dmy (
      "(^|[^0-9A-Za-z./-])([0-9]{1,2})([./"
      "-])([0-9]{1,2})\\3([0-9]{4})(?![0-9A-Za-z]|[./-][0-9])");
  std::string out;
  std::string rest = text;
  for (int pass = 0; pass < 2; pass++) {
    out.clear ();
    std::smatch m;
    auto begin = rest.cbegin ();
    while (std::regex_search (begin, rest.cend (), m, pass == 0 ? iso : dmy)) {
      int a, b;
      std::string year;
      if (pass == 0) {
        year = m[2];
        a = std::stoi (m[4]); /* day */
        b = std::stoi (m[3]); /* month */
      } else {
        int first = std::stoi (m[2]), second = std::stoi (m[4]);
        year = m[5];
        bool month_first = (us || style->month_first) && m[3] == "/";
        if (month_first && first > 12)
          month_first = false;
        else if (!month_first && second > 12 && first <= 12)
          month_first = true;
        a = month_first ? second : first;
        b = month_first ? first : second;
      }
      out.append (begin, m[0].first);
      out += m[1];
      if (b >= 1 && b <= 12 && a >= 1 && a <= 31)
        out += spell (*style, a, b, year, us);
      else
        out.append (m[0].first + m[1].length (), m[0].second);
      begin = m[0].second;
    }
    out.append (begin, rest.cend ());
    rest = out;
  }
  return out;
}

} // namespace ganvoice
