#include "loadavg.h"

#include "parse_util.h"

namespace ovn {

bool parseLoadAvg(std::string_view text, LoadAvg& o) {
  const char* p = text.data();
  const char* end = p + text.size();
  o.load1 = parseDouble(p, end);
  o.load5 = parseDouble(p, end);
  o.load15 = parseDouble(p, end);
  o.runnable = parseU64(p, end);
  if (p < end && *p == '/') ++p;
  o.threads = parseU64(p, end);
  o.lastPid = parseU64(p, end);
  return o.threads > 0;
}

bool parseUptime(std::string_view text, Uptime& o) {
  const char* p = text.data();
  const char* end = p + text.size();
  o.uptimeSec = parseDouble(p, end);
  o.idleSec = parseDouble(p, end);
  return o.uptimeSec > 0;
}

}  // namespace ovn
