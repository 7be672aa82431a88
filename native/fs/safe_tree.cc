#include "safe_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace ovn {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

double mtimeMs(const struct stat& st) {
  return static_cast<double>(st.st_mtim.tv_sec) * 1000.0 + static_cast<double>(st.st_mtim.tv_nsec) / 1e6;
}

struct Walker {
  const WalkOptions& opts;
  WalkResult& out;
  dev_t dev;

  void note(const std::string& path, int err) {
    out.errors++;
    if (out.errorSamples.size() < 10) out.errorSamples.push_back(path + ": " + std::strerror(err));
  }

  void walk(int dirfd, const std::string& prefix, int depth) {
    DIR* d = fdopendir(dirfd);  // takes ownership of dirfd
    if (!d) {
      note(prefix, errno);
      ::close(dirfd);
      return;
    }
    while (struct dirent* de = readdir(d)) {
      const char* name = de->d_name;
      if (!std::strcmp(name, ".") || !std::strcmp(name, "..")) continue;
      if (out.files.size() >= opts.maxEntries) {
        out.truncated = true;
        break;
      }
      std::string rel = prefix.empty() ? name : prefix + "/" + name;
      struct stat st;
      if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) note(rel, errno);
        continue;
      }
      if (S_ISLNK(st.st_mode)) {
        out.skippedSymlinks++;
        continue;
      }
      if (st.st_dev != dev) {
        out.skippedMounts++;
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        if (depth >= opts.maxDepth) continue;
        int sub = openat(dirfd, name, kDirFlags);
        if (sub < 0) {
          // ELOOP / ENOTDIR: it was swapped for a symlink or a file after fstatat.
          if (errno == ELOOP || errno == ENOTDIR)
            out.skippedSymlinks++;
          else if (errno != ENOENT)
            note(rel, errno);
          continue;
        }
        struct stat again;
        if (fstat(sub, &again) != 0 || again.st_dev != dev || again.st_ino != st.st_ino) {
          out.skippedOther++;
          ::close(sub);
          continue;
        }
        walk(sub, rel, depth + 1);
      } else if (S_ISREG(st.st_mode)) {
        TreeEntry e;
        e.path = std::move(rel);
        e.bytes = static_cast<uint64_t>(st.st_size);
        e.allocated = static_cast<uint64_t>(st.st_blocks) * 512;
        e.mtimeMs = mtimeMs(st);
        out.files.push_back(std::move(e));
      } else {
        out.skippedOther++;
      }
    }
    closedir(d);
  }
};

SysError openRoot(const std::string& root, int& fd, struct stat& st) {
  fd = ::open(root.c_str(), kDirFlags);
  if (fd < 0) return SysError::fromErrno(errno, "open", root);
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return SysError::fromErrno(e, "fstat", root);
  }
  return {};
}

}  // namespace

SysError walkTree(const std::string& root, const WalkOptions& opts, WalkResult& out) {
  int fd;
  struct stat st;
  SysError e = openRoot(root, fd, st);
  if (!e.ok()) return e;
  Walker w{opts, out, st.st_dev};
  w.walk(fd, "", 0);
  return {};
}

SysError deleteUnder(const std::string& root, const std::vector<std::string>& relPaths,
                     std::vector<DeleteOutcome>& out) {
  int rootfd;
  struct stat rst;
  SysError e = openRoot(root, rootfd, rst);
  if (!e.ok()) return e;
  for (const std::string& rel : relPaths) {
    DeleteOutcome o;
    o.path = rel;
    // Walk the directory components one openat at a time, refusing symlinks and other filesystems.
    int dirfd = dup(rootfd);
    size_t start = 0;
    bool ok = true;
    std::string name;
    for (;;) {
      size_t slash = rel.find('/', start);
      std::string part = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      if (part.empty() || part == "." || part == "..") {
        o.skipped = "invalid path component";
        ok = false;
        break;
      }
      if (slash == std::string::npos) {
        name = part;
        break;
      }
      int next = openat(dirfd, part.c_str(), kDirFlags);
      if (next < 0) {
        o.skipped = errno == ELOOP || errno == ENOTDIR ? "a directory on the path is a symlink" : std::strerror(errno);
        ok = false;
        break;
      }
      struct stat ds;
      if (fstat(next, &ds) != 0 || ds.st_dev != rst.st_dev) {
        o.skipped = "the path crosses into another filesystem";
        ::close(next);
        ok = false;
        break;
      }
      ::close(dirfd);
      dirfd = next;
      start = slash + 1;
    }
    if (ok) {
      struct stat st;
      if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        o.skipped = std::strerror(errno);
      } else if (S_ISLNK(st.st_mode)) {
        o.skipped = "symlink";
      } else if (!S_ISREG(st.st_mode)) {
        o.skipped = "not a regular file";
      } else if (st.st_dev != rst.st_dev) {
        o.skipped = "on another filesystem";
      } else {
        int f = openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat fs;
        if (f < 0) {
          o.skipped = errno == ELOOP ? "symlink" : std::strerror(errno);
        } else if (fstat(f, &fs) != 0 || fs.st_ino != st.st_ino || fs.st_dev != st.st_dev) {
          o.skipped = "changed while checking";
        } else if (flock(f, LOCK_EX | LOCK_NB) != 0) {
          o.skipped = errno == EWOULDBLOCK ? "locked (flock)" : std::strerror(errno);
        } else if (unlinkat(dirfd, name.c_str(), 0) != 0) {
          o.skipped = std::strerror(errno);
        } else {
          o.deleted = true;
          o.freed = static_cast<uint64_t>(fs.st_blocks) * 512;
        }
        if (f >= 0) ::close(f);  // releases the lock
      }
    }
    ::close(dirfd);
    out.push_back(std::move(o));
  }
  ::close(rootfd);
  return {};
}

SysError reserveSpace(const std::string& path, uint64_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return SysError::fromErrno(errno, "open", path);
  if (bytes > 0) {
    int r = fallocate(fd, 0, 0, static_cast<off_t>(bytes));
    if (r != 0) {
      int e = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return SysError::fromErrno(e, "fallocate", path);
    }
  }
  if (fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return SysError::fromErrno(e, "fsync", path);
  }
  ::close(fd);
  return {};
}

}  // namespace ovn
