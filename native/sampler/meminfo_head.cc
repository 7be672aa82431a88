#include "meminfo_head.h"

#include <cstring>

#include "../proc/parse_util.h"

namespace ovn {

namespace {

// The value of a "Key:   123 kB" line whose value starts at p, as parseMemInfoHead reads it.
uint64_t lineValue(const char* p, const char* end) {
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
  const char* lineEnd = nl ? nl : end;
  uint64_t v = parseU64(p, lineEnd);
  skipSpaces(p, lineEnd);
  if (p + 1 < lineEnd && p[0] == 'k' && p[1] == 'B') v *= 1024;
  return v;
}

// True, with the value, when `key` followed by ':' starts a line at offset `at` of text.
bool valueAt(std::string_view text, uint32_t at, std::string_view key, uint64_t& v) {
  if (at != 0 && (at > text.size() || text[at - 1] != '\n')) return false;
  if (text.size() - at < key.size() + 1 || text.compare(at, key.size(), key) != 0 || text[at + key.size()] != ':')
    return false;
  v = lineValue(text.data() + at + key.size() + 1, text.data() + text.size());
  return true;
}

bool parseHead(std::string_view text, MemInfoHead& m, MemInfoOffsets* offsets) {
  m = MemInfoHead{};
  // Fallback inputs for kernels without MemAvailable.
  uint64_t memFree = 0, buffers = 0, cached = 0, sReclaimable = 0;
  enum : unsigned { kTotal = 1, kAvailable = 2, kSwapTotal = 4, kSwapFree = 8, kAll = 15 };
  unsigned seen = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end && seen != kAll) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* lineEnd = nl ? nl : end;
    const char* next = nl ? nl + 1 : end;
    const char* colon = static_cast<const char*>(std::memchr(p, ':', static_cast<size_t>(lineEnd - p)));
    if (!colon) {
      p = next;
      continue;
    }
    std::string_view k(p, static_cast<size_t>(colon - p));
    const uint32_t lineAt = static_cast<uint32_t>(p - text.data());
    p = colon + 1;
    uint64_t v = parseU64(p, lineEnd);
    skipSpaces(p, lineEnd);
    if (p + 1 < lineEnd && p[0] == 'k' && p[1] == 'B') v *= 1024;
    p = next;
    if (k == "MemTotal") {
      m.total = v;
      if (offsets) offsets->total = lineAt;
      seen |= kTotal;
    } else if (k == "MemAvailable") {
      m.available = v;
      if (offsets) offsets->available = lineAt;
      seen |= kAvailable;
    } else if (k == "SwapTotal") {
      m.swapTotal = v;
      if (offsets) offsets->swapTotal = lineAt;
      seen |= kSwapTotal;
    } else if (k == "SwapFree") {
      m.swapFree = v;
      if (offsets) offsets->swapFree = lineAt;
      seen |= kSwapFree;
    } else if (k == "MemFree") {
      memFree = v;
    } else if (k == "Buffers") {
      buffers = v;
    } else if (k == "Cached") {
      cached = v;
    } else if (k == "SReclaimable") {
      sReclaimable = v;
    }
  }
  if (!(seen & kAvailable)) m.available = memFree + cached + buffers + sReclaimable;  // as parseMemInfo does
  // Only a head with all four lines is worth remembering: without MemAvailable the estimate needs
  // lines past SwapFree, and a missing swap line would have to be proven missing every read.
  if (offsets) offsets->valid = seen == kAll;
  return (seen & kTotal) != 0;
}

}  // namespace

bool parseMemInfoHead(std::string_view text, MemInfoHead& m) { return parseHead(text, m, nullptr); }

bool parseMemInfoHead(std::string_view text, MemInfoHead& m, MemInfoOffsets& o) {
  if (o.valid) {
    MemInfoHead h;
    if (valueAt(text, o.total, "MemTotal", h.total) && valueAt(text, o.available, "MemAvailable", h.available) &&
        valueAt(text, o.swapTotal, "SwapTotal", h.swapTotal) && valueAt(text, o.swapFree, "SwapFree", h.swapFree)) {
      m = h;
      return true;
    }
  }
  return parseHead(text, m, &o);
}

}  // namespace ovn
