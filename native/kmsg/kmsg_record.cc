#include "kmsg_record.h"

#include <cstring>

namespace ovn::kmsg {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads a decimal number at p (advancing it); false if there is none.
bool readNumber(const char*& p, const char* end, uint64_t& v) {
  const char* start = p;
  v = 0;
  while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
  return p != start;
}

}  // namespace

std::string unescape(const char* s, size_t n) {
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x') {
      int hi = hexValue(s[i + 2]);
      int lo = hexValue(s[i + 3]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool parseRecord(const char* buf, size_t n, Record& out) {
  const char* p = buf;
  const char* end = buf + n;
  const char* semi = static_cast<const char*>(std::memchr(buf, ';', n));
  if (!semi) return false;
  uint64_t prio = 0, seq = 0, ts = 0;
  if (!readNumber(p, semi, prio) || p >= semi || *p++ != ',') return false;
  if (!readNumber(p, semi, seq) || p >= semi || *p++ != ',') return false;
  if (!readNumber(p, semi, ts)) return false;
  out.flag = '-';
  if (p < semi && *p == ',') {
    ++p;
    if (p < semi) out.flag = *p;  // later fields (caller id on newer kernels) are not needed
  }
  out.level = static_cast<int>(prio & 7);
  out.facility = static_cast<int>(prio >> 3);
  out.seq = seq;
  out.monoUs = ts;
  const char* msg = semi + 1;
  const char* nl = static_cast<const char*>(std::memchr(msg, '\n', static_cast<size_t>(end - msg)));
  const char* msgEnd = nl ? nl : end;
  out.text = unescape(msg, static_cast<size_t>(msgEnd - msg));
  out.subsystem.clear();
  out.device.clear();
  // Dictionary: lines that begin with a space, "KEY=value".
  const char* line = nl ? nl + 1 : end;
  while (line < end) {
    const char* e = static_cast<const char*>(std::memchr(line, '\n', static_cast<size_t>(end - line)));
    if (!e) e = end;
    if (*line == ' ') {
      const char* kv = line + 1;
      size_t len = static_cast<size_t>(e - kv);
      if (len > 10 && std::memcmp(kv, "SUBSYSTEM=", 10) == 0)
        out.subsystem = unescape(kv + 10, len - 10);
      else if (len > 7 && std::memcmp(kv, "DEVICE=", 7) == 0)
        out.device = unescape(kv + 7, len - 7);
    }
    line = e + 1;
  }
  return true;
}

}  // namespace ovn::kmsg
