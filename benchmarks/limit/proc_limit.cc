// The physical limit on this machine: the same /proc and cgroup reads the addon makes, in plain
// C++, with nothing else (no parsing into objects, no JS). Each benchmark divides its figure by this.
// It runs as a server so that a benchmark can interleave it with the addon (ABAB rounds, see
// benchmarks/lib/measure.js interleave()): one command a line on stdin, one JSON line back.
//   set <name> <statvfs-path|-> <file>...   open a set of files once (kept open, as the addon does)
//   run <name> <iterations>                 pread every file of the set at offset 0, then statvfs
//   scan <iterations>                       /proc/<pid>/{stat,status} of every pid, kept-open fds
//   noop                                    answers at once (the round trip, to subtract)
// Answers {"us":<wall time of the iterations>,"items":<files or processes>} or {"error":...}; `run`
// adds "cpuUs", the CPU time (user + system, getrusage) the iterations took.
// Usage: proc_limit serve
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

static double nowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// CPU time of this process (user + system), for the CPU-time column beside the wall time.
static double cpuUs() {
  rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

static char buf[1 << 16];
static volatile size_t sink;

struct FileSet {
  std::string statvfsPath;  // "" = none
  std::vector<int> fds;
};

static std::map<std::string, FileSet> sets;

static void runSet(const FileSet& s, long iters) {
  for (long it = 0; it < iters; ++it) {
    for (int fd : s.fds) sink += static_cast<size_t>(pread(fd, buf, sizeof buf, 0));
    if (!s.statvfsPath.empty()) {
      struct statvfs sv;
      statvfs(s.statvfsPath.c_str(), &sv);
      sink += sv.f_bavail;
    }
  }
}

struct PidFds {
  int stat = -1, status = -1;
};
static std::unordered_map<int, PidFds> pidCache;

static int openPid(const char* pid, const char* file) {
  char path[300];
  std::snprintf(path, sizeof path, "/proc/%s/%s", pid, file);
  return open(path, O_RDONLY | O_CLOEXEC);
}

// One pass over /proc, as the addon's kept-open scan does: fds of new pids opened once, ended pids
// closed (the addon drops them too, so the fd table does not grow across passes).
static size_t scanOnce() {
  DIR* d = opendir("/proc");
  size_t n = 0;
  std::unordered_map<int, PidFds> seen;
  while (dirent* de = readdir(d)) {
    if (de->d_name[0] < '1' || de->d_name[0] > '9') continue;
    int pid = std::atoi(de->d_name);
    PidFds f;
    auto it = pidCache.find(pid);
    if (it != pidCache.end()) {
      f = it->second;
      pidCache.erase(it);
    }
    if (f.stat < 0) f.stat = openPid(de->d_name, "stat");
    if (f.status < 0) f.status = openPid(de->d_name, "status");
    if (f.stat >= 0) sink += static_cast<size_t>(pread(f.stat, buf, sizeof buf, 0));
    if (f.status >= 0) sink += static_cast<size_t>(pread(f.status, buf, sizeof buf, 0));
    seen.emplace(pid, f);
    ++n;
  }
  closedir(d);
  for (auto& [pid, f] : pidCache) {
    if (f.stat >= 0) close(f.stat);
    if (f.status >= 0) close(f.status);
  }
  pidCache.swap(seen);
  return n;
}

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "serve") != 0) {
    std::fprintf(stderr, "usage: proc_limit serve   (then commands on stdin: set, run, scan, noop)\n");
    return 2;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "noop") {
      std::printf("{\"us\":0,\"items\":0}\n");
    } else if (cmd == "set") {
      std::string name, fsPath, file;
      in >> name >> fsPath;
      FileSet s;
      s.statvfsPath = fsPath == "-" ? "" : fsPath;
      while (in >> file) {
        int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) s.fds.push_back(fd);
      }
      std::printf("{\"us\":0,\"items\":%zu}\n", s.fds.size());
      sets[name] = std::move(s);
    } else if (cmd == "run") {
      std::string name;
      long iters = 0;
      in >> name >> iters;
      auto it = sets.find(name);
      if (it == sets.end()) {
        std::printf("{\"error\":\"no set %s\"}\n", name.c_str());
      } else {
        double t0 = nowUs(), c0 = cpuUs();
        runSet(it->second, iters);
        double c1 = cpuUs();
        std::printf("{\"us\":%.3f,\"cpuUs\":%.0f,\"items\":%zu}\n", nowUs() - t0, c1 - c0, it->second.fds.size());
      }
    } else if (cmd == "scan") {
      long iters = 0;
      in >> iters;
      size_t n = 0;
      double t0 = nowUs();
      for (long i = 0; i < iters; ++i) n = scanOnce();
      std::printf("{\"us\":%.3f,\"items\":%zu}\n", nowUs() - t0, n);
    } else {
      std::printf("{\"error\":\"unknown command\"}\n");
    }
    std::fflush(stdout);
  }
  return 0;
}
