#include "psi.h"

#include "parse_util.h"

namespace ovn {

bool parsePsi(std::string_view text, Psi& out) {
  out = Psi{};
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    std::string_view kind = nextToken(p, end);
    PsiLine* line = kind == "some" ? &out.some : kind == "full" ? &out.full : nullptr;
    if (line) {
      line->present = true;
      while (p < end && *p != '\n') {
        std::string_view kv = nextToken(p, end);
        size_t eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        std::string_view k = kv.substr(0, eq);
        const char* vp = kv.data() + eq + 1;
        const char* ve = kv.data() + kv.size();
        if (k == "avg10")
          line->avg10 = parseDouble(vp, ve);
        else if (k == "avg60")
          line->avg60 = parseDouble(vp, ve);
        else if (k == "avg300")
          line->avg300 = parseDouble(vp, ve);
        else if (k == "total")
          line->totalUs = parseU64(vp, ve);
      }
    }
    skipToNextLine(p, end);
  }
  return out.some.present;
}

}  // namespace ovn
