// The sampler's /proc/<pid>/stat parse: only the fields its pid channels carry (state, utime,
// stime, starttime, rss), stopping after rss (field 24 of 52), into a plain struct. At 1 kHz the
// general parse (parseProcStat: 42 fields into a ProcessInfo with strings and vectors built and
// freed every sample) was the one-pid case's largest user-space cost after the read itself.
// Thread: pure function.
#pragma once
#include <cstdint>
#include <string_view>

namespace ovn {

struct PidStatHead {
  char state = '?';
  uint64_t utime = 0, stime = 0;  // clock ticks
  uint64_t starttime = 0;         // clock ticks after boot
  uint64_t rss = 0;               // bytes
};

// Same values as parseProcStat for these fields; false where it is false (no "(comm)", nothing
// after it).
bool parsePidStatHead(std::string_view text, PidStatHead& out);

}  // namespace ovn
