#include "mount_table.h"

#include "kept_open_file.h"
#include "parse_util.h"

namespace ovn {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo (octal).
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
        s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool hasRo(std::string_view opts) {
  size_t start = 0;
  while (start <= opts.size()) {
    size_t comma = opts.find(',', start);
    std::string_view o = opts.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (o == "ro") return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

}  // namespace

void parseMountInfo(std::string_view text, std::vector<MountEntry>& out) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const char* eol = p;
    while (eol < end && *eol != '\n') ++eol;
    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    std::vector<std::string_view> f;
    const char* q = p;
    while (q < eol) {
      std::string_view t = nextToken(q, eol);
      if (!t.empty()) f.push_back(t);
    }
    p = eol < end ? eol + 1 : eol;
    size_t dash = 0;
    for (size_t i = 6; i < f.size(); ++i)
      if (f[i] == "-") {
        dash = i;
        break;
      }
    if (dash == 0 || dash + 2 >= f.size()) continue;
    MountEntry m;
    m.mountPoint = unescape(f[4]);
    m.mountOptions = std::string(f[5]);
    m.fsType = std::string(f[dash + 1]);
    m.source = unescape(f[dash + 2]);
    if (dash + 3 < f.size()) m.superOptions = std::string(f[dash + 3]);
    m.readOnly = hasRo(m.mountOptions) || hasRo(m.superOptions);
    out.push_back(std::move(m));
  }
}

SysError readMountTable(const std::string& path, std::vector<MountEntry>& out) {
  std::string text;
  SysError e = readFileOnce(path.c_str(), text, 16 << 20);
  if (!e.ok()) return e;
  parseMountInfo(text, out);
  return {};
}

}  // namespace ovn
