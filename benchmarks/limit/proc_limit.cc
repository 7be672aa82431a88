// The physical limit on this machine: the same /proc reads the addon makes, in plain C++, with
// nothing else (no parsing into objects, no JS). Each benchmark divides its figure by this.
//   proc_limit host <iterations> <statvfs-path> <file>...   kept-open fds, pread at offset 0
//   proc_limit scan <iterations>                              /proc/<pid>/{stat,status}, kept-open
// Prints one JSON line: {"medianUs":..,"p99Us":..,"items":..}
#include <dirent.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

static double nowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static char buf[1 << 16];
static volatile size_t sink;

static void report(std::vector<double>& t, size_t items) {
  std::sort(t.begin(), t.end());
  double med = t[t.size() / 2];
  double p99 = t[std::min(t.size() - 1, static_cast<size_t>(t.size() * 0.99))];
  std::printf("{\"medianUs\":%.3f,\"p99Us\":%.3f,\"items\":%zu}\n", med, p99, items);
}

static int host(int iters, const char* fsPath, int nfiles, char** files) {
  std::vector<int> fds;
  for (int i = 0; i < nfiles; ++i) {
    int fd = open(files[i], O_RDONLY | O_CLOEXEC);
    if (fd >= 0) fds.push_back(fd);
  }
  std::vector<double> t;
  for (int it = 0; it < iters; ++it) {
    double t0 = nowUs();
    for (int fd : fds) sink += static_cast<size_t>(pread(fd, buf, sizeof buf, 0));
    // the addon re-reads /proc/self/cgroup once per sample (to notice a cgroup move)
    int cfd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    sink += static_cast<size_t>(read(cfd, buf, sizeof buf));
    close(cfd);
    struct statvfs sv;
    statvfs(fsPath, &sv);
    sink += sv.f_bavail;
    t.push_back(nowUs() - t0);
  }
  report(t, fds.size());
  return 0;
}

struct Fds {
  int stat = -1, status = -1;
};

static int openPid(const char* pid, const char* file) {
  char path[300];
  std::snprintf(path, sizeof path, "/proc/%s/%s", pid, file);
  return open(path, O_RDONLY | O_CLOEXEC);
}

static int scan(int iters) {
  std::unordered_map<int, Fds> cache;
  std::vector<double> t;
  size_t items = 0;
  for (int it = 0; it < iters; ++it) {
    double t0 = nowUs();
    DIR* d = opendir("/proc");
    size_t n = 0;
    while (dirent* de = readdir(d)) {
      if (de->d_name[0] < '1' || de->d_name[0] > '9') continue;
      int pid = std::atoi(de->d_name);
      Fds& f = cache[pid];
      if (f.stat < 0) f.stat = openPid(de->d_name, "stat");
      if (f.status < 0) f.status = openPid(de->d_name, "status");
      if (f.stat >= 0) sink += static_cast<size_t>(pread(f.stat, buf, sizeof buf, 0));
      if (f.status >= 0) sink += static_cast<size_t>(pread(f.status, buf, sizeof buf, 0));
      ++n;
    }
    closedir(d);
    t.push_back(nowUs() - t0);
    items = n;
  }
  report(t, items);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 4 && std::strcmp(argv[1], "host") == 0) return host(std::atoi(argv[2]), argv[3], argc - 4, argv + 4);
  if (argc >= 3 && std::strcmp(argv[1], "scan") == 0) return scan(std::atoi(argv[2]));
  std::fprintf(stderr, "usage: proc_limit host <iters> <statvfs-path> <file>... | scan <iters>\n");
  return 2;
}
