#include "kept_open_file.h"

#include <fcntl.h>
#include <unistd.h>

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

SysError KeptOpenFile::preadAll(std::string& out) {
  // /proc files report st_size 0, so read in chunks until a short read returns 0.
  if (out.capacity() < 4096) out.reserve(4096);
  out.resize(out.capacity());
  size_t len = 0;
  for (;;) {
    ssize_t n = ::pread(fd_, &out[len], out.size() - len, static_cast<off_t>(len));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      out.clear();
      return SysError::fromErrno(e, "read", path_);
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
    if (len == out.size()) {
      if (len >= (8u << 20)) break;  // no /proc file we read is this big; stop runaway growth
      out.resize(out.size() * 2);
    } else if (oneShot_) {
      // seq_file-backed /proc files and kernfs /sys files return the whole content in one read when the buffer is large
      // enough; the extra pread that would return 0 costs ~1 µs, so skip it.
      break;
    }
  }
  out.resize(len);
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

SysError KeptOpenFiles::read(const std::string& path, std::string& out) {
  auto it = files_.find(path);
  if (it == files_.end()) it = files_.emplace(path, KeptOpenFile(path)).first;
  return it->second.read(out);
}

}  // namespace ovn
