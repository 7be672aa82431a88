#include "kept_open_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace ovn {

KeptOpenFile::~KeptOpenFile() { close(); }

KeptOpenFile::KeptOpenFile(KeptOpenFile&& o) noexcept : path_(std::move(o.path_)), oneShot_(o.oneShot_), fd_(o.fd_) {
  o.fd_ = -1;
}

void KeptOpenFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

SysError KeptOpenFile::openFd() {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return SysError::fromErrno(errno, "open", path_);
  return {};
}

namespace {
constexpr size_t kScratch = 64 << 10;
char* scratchBuffer() {
  thread_local std::unique_ptr<char[]> scratch;
  if (!scratch) scratch.reset(new char[kScratch]);
  return scratch.get();
}
}  // namespace

SysError KeptOpenFile::preadView(std::string_view& view, std::string& spill) {
  // The first (and for /proc and /sys files the only) pread goes into a per-thread scratch buffer
  // and is parsed there: growing a string to its capacity before each read zero-filled ~3 KB per
  // file, and copying it out cost a memcpy per file the C limit does not pay.
  char* scratch = scratchBuffer();
  ssize_t n;
  do {
    n = ::pread(fd_, scratch, kScratch, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int e = errno;
    view = {};
    return SysError::fromErrno(e, "read", path_);
  }
  view = std::string_view(scratch, static_cast<size_t>(n));
  // seq_file-backed /proc files and kernfs /sys files return the whole content in one read when the
  // buffer is large enough; the extra pread that would return 0 costs ~1 µs, so skip it.
  if (n == 0 || (oneShot_ && static_cast<size_t>(n) < kScratch)) return {};
  spill.assign(scratch, static_cast<size_t>(n));
  SysError e = preadRest(spill);
  view = e.ok() ? std::string_view(spill) : std::string_view();
  return e;
}

SysError KeptOpenFile::preadAll(std::string& out) {
  std::string_view v;
  SysError e = preadView(v, out);
  if (!e.ok()) {
    out.clear();
    return e;
  }
  if (v.data() != out.data()) out.assign(v.data(), v.size());
  return {};
}

// Appends the rest of a file whose first kScratch bytes are already in `out`.
SysError KeptOpenFile::preadRest(std::string& out) {
  char* scratch = scratchBuffer();
  size_t len = out.size();
  for (;;) {
    if (len >= (8u << 20)) break;  // no file we read is this big; stop runaway growth
    ssize_t m = ::pread(fd_, scratch, kScratch, static_cast<off_t>(len));
    if (m < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      out.clear();
      return SysError::fromErrno(e, "read", path_);
    }
    if (m == 0) break;
    out.append(scratch, static_cast<size_t>(m));
    len += static_cast<size_t>(m);
    if (oneShot_ && static_cast<size_t>(m) < kScratch) break;
  }
  return {};
}

SysError KeptOpenFile::read(std::string& out) {
  if (fd_ < 0) {
    SysError e = openFd();
    if (!e.ok()) return e;
    return preadAll(out);
  }
  SysError e = preadAll(out);
  if (e.ok()) return e;
  // The kept fd went stale (ENODEV after a cgroup was removed, ESRCH for a reaped process...):
  // re-open once by path.
  close();
  SysError oe = openFd();
  if (!oe.ok()) return oe;
  return preadAll(out);
}

SysError KeptOpenFile::readView(std::string_view& view, std::string& spill) {
  if (fd_ < 0) {
    SysError e = openFd();
    if (!e.ok()) return e;
    return preadView(view, spill);
  }
  SysError e = preadView(view, spill);
  if (e.ok()) return e;
  // A stale fd, as in read().
  close();
  SysError oe = openFd();
  if (!oe.ok()) return oe;
  return preadView(view, spill);
}

SysError readFileOnce(const char* path, std::string& out, size_t maxBytes) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SysError::fromErrno(errno, "open", path);
  out.resize(4096);
  size_t len = 0;
  for (;;) {
    ssize_t n = ::read(fd, &out[len], out.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      out.clear();
      return SysError::fromErrno(e, "read", path);
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
    if (len >= maxBytes) break;
    if (len == out.size()) out.resize(out.size() * 2);
  }
  ::close(fd);
  out.resize(len);
  return {};
}

}  // namespace ovn
