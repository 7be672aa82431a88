#include "sys_error.h"

namespace ovn {

std::string errnoName(int err) {
  switch (err) {
// Tables below are laid out by hand (clang-format does not keep X-macro bodies stable).
// clang-format off
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(EBADF) E(ECHILD) E(EAGAIN)
    E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR)
    E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK)
    E(ERANGE) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENODATA) E(EOVERFLOW)
    E(EOPNOTSUPP) E(ETIMEDOUT) E(ESTALE) E(EDQUOT) E(ECANCELED)
// clang-format on
#undef E
                        default : return "E" +
                                  std::to_string(err);
  }
}

std::string SysError::message() const {
  std::string out = errnoName(err);
  out += ": ";
  out += std::strerror(err);
  if (!syscall.empty()) {
    out += ", ";
    out += syscall;
  }
  if (!path.empty()) {
    out += " '";
    out += path;
    out += "'";
  }
  return out;
}

}  // namespace ovn
