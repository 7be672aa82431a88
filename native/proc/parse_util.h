// Small allocation-free parsers for /proc text. All take string_views over a read buffer.
#pragma once
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ovn {

// Parses an unsigned decimal at `p` (skipping leading spaces), advancing `p`. Returns 0 if none.
inline uint64_t parseU64(const char*& p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t')) ++p;
  uint64_t v = 0;
  while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
  return v;
}

inline int64_t parseI64(const char*& p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t')) ++p;
  bool neg = false;
  if (p < end && *p == '-') {
    neg = true;
    ++p;
  }
  int64_t v = static_cast<int64_t>(parseU64(p, end));
  return neg ? -v : v;
}

// Parses a decimal with an optional fraction ("12.34"), exactly: integer and fraction digits are
// accumulated as integers and divided once, so "0.34" is 0.34 and not 0.34000000000000002.
inline double parseDouble(const char*& p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t')) ++p;
  bool neg = false;
  if (p < end && *p == '-') {
    neg = true;
    ++p;
  }
  uint64_t whole = parseU64(p, end);
  uint64_t frac = 0, scale = 1;
  if (p < end && *p == '.') {
    ++p;
    while (p < end && *p >= '0' && *p <= '9') {
      if (scale < 1000000000000ULL) {
        frac = frac * 10 + static_cast<uint64_t>(*p - '0');
        scale *= 10;
      }
      ++p;
    }
  }
  double v = static_cast<double>(whole) + static_cast<double>(frac) / static_cast<double>(scale);
  return neg ? -v : v;
}

inline void skipSpaces(const char*& p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t')) ++p;
}

inline void skipToNextLine(const char*& p, const char* end) {
  // memchr: /proc/stat's intr and softirq lines are thousands of characters long.
  const void* nl = p < end ? std::memchr(p, '\n', static_cast<size_t>(end - p)) : nullptr;
  p = nl ? static_cast<const char*>(nl) + 1 : end;
}

inline std::string_view nextToken(const char*& p, const char* end) {
  skipSpaces(p, end);
  const char* s = p;
  while (p < end && *p != ' ' && *p != '\t' && *p != '\n') ++p;
  return std::string_view(s, static_cast<size_t>(p - s));
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace ovn
