#include "psi.h"

#include <cstring>

#include "parse_util.h"

namespace ovn {

// Lines read "some avg10=0.00 avg60=0.00 avg300=0.00 total=0". Parsed with plain loops over the
// bytes (a token and a find('=') per field cost ~3x more, three files a sample); keys are told
// apart by their length first. Unknown keys and kinds are skipped.
bool parsePsi(std::string_view text, Psi& out) {
  out = Psi{};
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    PsiLine* line = nullptr;
    if (end - p >= 5 && p[4] == ' ') {
      if (p[0] == 's' && p[1] == 'o' && p[2] == 'm' && p[3] == 'e')
        line = &out.some;
      else if (p[0] == 'f' && p[1] == 'u' && p[2] == 'l' && p[3] == 'l')
        line = &out.full;
    }
    if (!line) {
      skipToNextLine(p, end);
      continue;
    }
    line->present = true;
    p += 5;
    while (p < end && *p != '\n') {
      skipSpaces(p, end);
      const char* key = p;
      while (p < end && *p != '=' && *p != ' ' && *p != '\n') ++p;
      if (p >= end || *p != '=') continue;  // a word without a value: the loop moves past it
      size_t len = static_cast<size_t>(p - key);
      ++p;
      auto is = [&](const char* k) { return std::memcmp(key, k, len) == 0; };
      if (len == 5 && is("avg10"))
        line->avg10 = parseDouble(p, end);
      else if (len == 5 && is("avg60"))
        line->avg60 = parseDouble(p, end);
      else if (len == 6 && is("avg300"))
        line->avg300 = parseDouble(p, end);
      else if (len == 5 && is("total"))
        line->totalUs = parseU64(p, end);
      while (p < end && *p != ' ' && *p != '\n') ++p;  // the rest of the value
    }
    if (p < end) ++p;
  }
  return out.some.present;
}

}  // namespace ovn
