#include "pid_stat_head.h"

#include "../proc/parse_util.h"
#include "../proc/process.h"

namespace ovn {

bool parsePidStatHead(std::string_view text, PidStatHead& o) {
  o = PidStatHead{};
  // comm may contain spaces and parentheses: it runs from the first '(' to the last ')'.
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return false;
  const char* p = text.data() + close + 1;
  const char* end = text.data() + text.size();
  skipSpaces(p, end);
  if (p >= end) return false;
  o.state = *p++;
  // The skipped fields are read as parseProcStat reads them (signed or not), so that odd text moves
  // the cursor the same way and both agree on every input.
  for (int i = 4; i <= 8; ++i) parseI64(p, end);    // ppid pgrp session tty_nr tpgid
  for (int i = 9; i <= 13; ++i) parseU64(p, end);   // flags minflt cminflt majflt cmajflt
  o.utime = parseU64(p, end);                       // 14
  o.stime = parseU64(p, end);                       // 15
  for (int i = 16; i <= 19; ++i) parseI64(p, end);  // cutime cstime priority nice
  parseU64(p, end);                                 // 20 num_threads
  parseI64(p, end);                                 // 21 itrealvalue
  o.starttime = parseU64(p, end);                   // 22
  parseU64(p, end);                                 // 23 vsize
  o.rss = parseU64(p, end) * pageSize();            // 24 pages
  return true;
}

}  // namespace ovn
