#include "safe_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace ovn {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  void reset(int f) {
    if (fd >= 0) ::close(fd);
    fd = f;
  }
};

bool writeAll(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

ssize_t readFull(int fd, char* p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

std::string errText(const char* what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

// Copies src to dst (both at offset 0) and reads dst back, comparing it with src.
bool copyVerified(int src, int dst, std::string& error) {
  std::vector<char> a(1 << 16), b(1 << 16);
  for (;;) {
    ssize_t n = readFull(src, a.data(), a.size());
    if (n < 0) return error = std::string("read the stored copy: ") + std::strerror(errno), false;
    if (n == 0) break;
    if (!writeAll(dst, a.data(), static_cast<size_t>(n)))
      return error = std::string("write: ") + std::strerror(errno), false;
  }
  if (::fsync(dst) != 0) return error = std::string("fsync: ") + std::strerror(errno), false;
  if (::lseek(src, 0, SEEK_SET) != 0 || ::lseek(dst, 0, SEEK_SET) != 0)
    return error = std::string("lseek: ") + std::strerror(errno), false;
  for (;;) {
    ssize_t n = readFull(src, a.data(), a.size());
    ssize_t m = readFull(dst, b.data(), b.size());
    if (n < 0 || m < 0) return error = std::string("read back: ") + std::strerror(errno), false;
    if (n != m || std::memcmp(a.data(), b.data(), static_cast<size_t>(n)) != 0)
      return error = "the written copy did not verify", false;
    if (n == 0) return true;
  }
}

}  // namespace

SysError restoreFileNoFollow(const std::string& source, const std::string& target, RestoreOutcome& out) {
  if (target.empty() || target[0] != '/') return SysError::fromErrno(EINVAL, "restore", target);
  // Split into components; "." and ".." are refused rather than resolved (the caller gives a normalised path).
  std::vector<std::string> parts;
  for (size_t start = 1; start <= target.size();) {
    size_t slash = target.find('/', start);
    if (slash == std::string::npos) slash = target.size();
    std::string part = target.substr(start, slash - start);
    if (part == "." || part == "..") {
      out.error = "the path has a \".\" or \"..\" component: give a normalised absolute path";
      return {};
    }
    if (!part.empty()) parts.push_back(std::move(part));
    start = slash + 1;
  }
  if (parts.empty()) {
    out.error = "the path names no file";
    return {};
  }
  Fd dir(::open("/", kDirFlags));
  if (dir.fd < 0) {
    out.error = errText("open", "/");
    return {};
  }
  std::string sofar;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& part = parts[i];
    sofar += "/" + part;
    int next = ::openat(dir.fd, part.c_str(), kDirFlags);
    if (next < 0 && errno == ENOENT) {
      // Missing directories are created (mkdirat never follows a symlink at the last component),
      // then opened with O_NOFOLLOW like the rest: one swapped in between is still refused.
      if (::mkdirat(dir.fd, part.c_str(), 0755) != 0 && errno != EEXIST) {
        out.error = errText("mkdir", sofar);
        return {};
      }
      next = ::openat(dir.fd, part.c_str(), kDirFlags);
    }
    if (next < 0) {
      int e = errno;
      struct stat st;
      bool link = ::fstatat(dir.fd, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
      if (link || e == ELOOP) {
        out.refusedAt = sofar;
        out.error = "refused: " + sofar + " is a symlink (a restore follows no symlink on the way to the file)";
      } else if (e == ENOTDIR) {
        out.refusedAt = sofar;
        out.error = "refused: " + sofar + " is not a directory";
      } else {
        errno = e;
        out.error = errText("open", sofar);
      }
      return {};
    }
    dir.reset(next);
  }
  const std::string& name = parts.back();
  Fd src(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (src.fd < 0) {
    out.error = errText("open the stored copy", source);
    return {};
  }
  std::string tmp = "." + name + ".overnight-restore-" + std::to_string(::getpid());
  Fd dst(::openat(dir.fd, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (dst.fd < 0 && errno == EEXIST) {
    // Left by a restore that died: it is ours (same name, same pid space), so replace it.
    ::unlinkat(dir.fd, tmp.c_str(), 0);
    dst.reset(::openat(dir.fd, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  }
  if (dst.fd < 0) {
    out.error = errText("create", sofar + "/" + tmp);
    return {};
  }
  std::string error;
  if (!copyVerified(src.fd, dst.fd, error)) {
    ::unlinkat(dir.fd, tmp.c_str(), 0);
    out.error = error;
    return {};
  }
  if (::renameat(dir.fd, tmp.c_str(), dir.fd, name.c_str()) != 0) {
    out.error = errText("rename over", sofar + "/" + name);
    ::unlinkat(dir.fd, tmp.c_str(), 0);
    return {};
  }
  ::fsync(dir.fd);  // the rename itself survives a crash
  out.ok = true;
  return {};
}

}  // namespace ovn
