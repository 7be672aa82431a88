// One /dev/kmsg record, parsed. The format (Documentation/ABI/testing/dev-kmsg):
//   "<prio>,<seq>,<ts_usec>,<flags>[,...];<message>\n[ KEY=value\n]..."
// where prio = facility << 3 | level, ts_usec is CLOCK_MONOTONIC in microseconds, and the message
// has non-printable bytes (including newlines) escaped as \xNN.
// Thread: any (pure functions on plain data).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace ovn::kmsg {

struct Record {
  uint64_t seq = 0;
  int level = 0;          // 0 (emerg) .. 7 (debug)
  int facility = 0;       // 0 = kern, 1 = user (lines written to /dev/kmsg by root), ...
  uint64_t monoUs = 0;    // CLOCK_MONOTONIC at logging time
  char flag = '-';        // '-' whole record, 'c' begins a continued line, '+' continues one (old kernels)
  std::string text;       // unescaped
  std::string subsystem;  // from the " SUBSYSTEM=" dictionary line, if any
  std::string device;     // from the " DEVICE=" dictionary line, if any
};

// Parses one record as returned by one read(2). False when the header is malformed.
bool parseRecord(const char* buf, size_t n, Record& out);

// Decodes the kernel's \xNN escapes (a backslash itself is written as \x5c).
std::string unescape(const char* s, size_t n);

}  // namespace ovn::kmsg
