#include "unicode.hpp"

#include <clocale>
#include <cwctype>
#include <locale.h>

namespace llmhost::tmpl::detail {

uint32_t decode_utf8(std::string_view s, size_t i, size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](size_t k) -> int {
    if (i + k >= s.size()) return -1;
    const auto b = static_cast<unsigned char>(s[i + k]);
    return (b & 0xC0) == 0x80 ? (b & 0x3F) : -1;
  };
  len = 1;
  if (b0 < 0x80) return b0;
  int need = b0 >= 0xF0 && b0 < 0xF5 ? 3 : b0 >= 0xE0 ? 2 : b0 >= 0xC2 && b0 < 0xE0 ? 1 : 0;
  if (need == 0 || b0 >= 0xF5) return 0xFFFD;
  uint32_t cp = b0 & (0x3F >> need);
  for (int k = 1; k <= need; ++k) {
    const int c = cont(static_cast<size_t>(k));
    if (c < 0) return 0xFFFD;
    cp = (cp << 6) | static_cast<uint32_t>(c);
  }
  len = static_cast<size_t>(need) + 1;
  return cp;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::vector<uint32_t> to_code_points(std::string_view s) {
  std::vector<uint32_t> cps;
  cps.reserve(s.size());
  for (size_t i = 0, len = 0; i < s.size(); i += len) cps.push_back(decode_utf8(s, i, len));
  return cps;
}

std::string from_code_points(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) append_utf8(out, cps[i]);
  return out;
}

size_t code_point_count(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0, len = 0; i < s.size(); i += len, ++n) decode_utf8(s, i, len);
  return n;
}

bool is_js_space(uint32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: case 0xFEFF:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

size_t js_space_at(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  size_t len = 0;
  return is_js_space(decode_utf8(s, i, len)) ? len : 0;
}

std::string js_trim_start(std::string_view s) {
  size_t i = 0;
  while (size_t n = js_space_at(s, i)) i += n;
  return std::string(s.substr(i));
}

std::string js_trim_end(std::string_view s) {
  // Find the end of the last non-space code point by a forward scan (UTF-8 is not safely
  // decodable backwards when it may be invalid).
  size_t keep = 0;
  for (size_t i = 0, len = 0; i < s.size(); i += len) {
    if (!is_js_space(decode_utf8(s, i, len))) keep = i + len;
  }
  return std::string(s.substr(0, keep));
}

std::string js_trim(std::string_view s) { return js_trim_end(js_trim_start(s)); }

namespace {
// glibc's C.UTF-8 locale carries the Unicode simple case tables; fall back to ASCII-only
// mapping if the locale is missing (documented in docs/chat-templates.md).
locale_t utf8_locale() {
  static locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (!l) l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", static_cast<locale_t>(0));
    return l;
  }();
  return loc;
}

template <typename Map>
std::string map_case(std::string_view s, Map map) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0, len = 0; i < s.size(); i += len) append_utf8(out, map(decode_utf8(s, i, len)));
  return out;
}
}  // namespace

uint32_t upper_cp(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  locale_t l = utf8_locale();
  return l ? static_cast<uint32_t>(towupper_l(static_cast<wint_t>(cp), l)) : cp;
}

static uint32_t lower_cp(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  locale_t l = utf8_locale();
  return l ? static_cast<uint32_t>(towlower_l(static_cast<wint_t>(cp), l)) : cp;
}

std::string to_upper(std::string_view s) { return map_case(s, upper_cp); }
std::string to_lower(std::string_view s) { return map_case(s, lower_cp); }

}  // namespace llmhost::tmpl::detail
