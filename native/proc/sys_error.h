// A failed system call, as plain data: errno plus what it was done to.
// Native readers return these instead of throwing; native/napi/ turns them into JS Errors.
#pragma once
#include <cerrno>
#include <cstring>
#include <string>

namespace ovn {

struct SysError {
  int err = 0;          // errno value, 0 = no error
  std::string syscall;  // "open", "pread", "statvfs", ...
  std::string path;     // file involved, if any
  int pid = 0;          // process involved, if any

  bool ok() const { return err == 0; }
  // "ENOENT: No such file or directory, open '/proc/pressure/cpu'" — the shape Node uses.
  std::string message() const;
  static SysError fromErrno(int e, const char* sc, std::string p = {}, int pid = 0) {
    SysError s;
    s.err = e;
    s.syscall = sc;
    s.path = std::move(p);
    s.pid = pid;
    return s;
  }
};

// Stable symbolic name for an errno ("ENOENT"); "E<number>" for unknown ones.
std::string errnoName(int err);

// A value that may be unavailable on this machine (no PSI, no cgroup file, EACCES).
template <class T>
struct Sourced {
  bool available = false;
  T value{};
  SysError error;
  void set(T v) {
    value = std::move(v);
    available = true;
    error = SysError{};
  }
  void fail(SysError e) {
    available = false;
    error = std::move(e);
  }
};

}  // namespace ovn
