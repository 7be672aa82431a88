#include "process_table.h"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <deque>

namespace ovn {

std::atomic<size_t> ProcessTable::keptPids_{0};

ProcessTable::ProcessTable() {
  // Two fds per kept pid, and all tables together keep at most half the fd limit open (the other
  // half stays with the rest of the process). Node raises its soft limit to the hard one at start-up
  // (20,000 on these machines): a 5,000-process table stays kept open. The budget used to be limit/8
  // per table, so half of a 5,000-process table was opened, read and closed again on every scan
  // (2.1x the kept-open C limit instead of ~1.2x at 1,000).
  struct rlimit rl {};
  size_t limit = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    limit = rl.rlim_cur;
  else if (rl.rlim_cur == RLIM_INFINITY)
    limit = 65536;
  maxCachedPids_ = std::min<size_t>(16384, limit / 4);
}

ProcessTable::~ProcessTable() { releaseSlots(cache_.size()); }

bool ProcessTable::takeSlot() {
  size_t n = keptPids_.load(std::memory_order_relaxed);
  while (n < maxCachedPids_)
    if (keptPids_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
  return false;
}

void ProcessTable::releaseSlots(size_t n) { keptPids_.fetch_sub(n, std::memory_order_relaxed); }

void ProcessTable::clearCache() {
  std::lock_guard<std::mutex> lock(mu_);
  releaseSlots(cache_.size());
  cache_.clear();
}

static bool vanished(const SysError& e) { return e.err == ENOENT || e.err == ESRCH; }

SysError ProcessTable::scan(const ProcessReadOptions& opts, std::vector<ProcessInfo>& out, int onlyDescendantsOf,
                            bool includeRoot) {
  std::lock_guard<std::mutex> lock(mu_);
  out.clear();
  ++generation_;
  DIR* dir = opendir("/proc");
  if (!dir) return SysError::fromErrno(errno, "opendir", "/proc");
  char path[64];
  // Pass 1: stat of every process (kept-open fds).
  while (struct dirent* de = readdir(dir)) {
    const char* n = de->d_name;
    if (*n < '1' || *n > '9') continue;
    int pid = 0;
    for (; *n >= '0' && *n <= '9'; ++n) pid = pid * 10 + (*n - '0');
    if (*n) continue;
    auto it = cache_.find(pid);
    if (it == cache_.end() && takeSlot()) {
      std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
      std::string statPath = path;
      std::snprintf(path, sizeof path, "/proc/%d/status", pid);
      it = cache_.emplace(pid, PidFiles{KeptOpenFile(statPath), KeptOpenFile(path), 0}).first;
    }
    SysError e;
    if (it != cache_.end()) {
      it->second.lastSeen = generation_;
      e = it->second.stat.read(buf_);
    } else {
      std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
      e = readFileOnce(path, buf_);
    }
    ProcessInfo info;
    if (!e.ok() || !parseProcStat(buf_, info)) continue;  // vanished mid-scan
    out.push_back(std::move(info));
  }
  closedir(dir);
  // Forget pids that were not seen in this scan: they exited.
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.lastSeen != generation_) {
      it = cache_.erase(it);
      releaseSlots(1);
    } else
      ++it;
  }
  // After a burst the bucket array stays at its peak size: give it back once the table is a
  // quarter of it (nothing here may grow with the number of processes that ever existed).
  if (cache_.bucket_count() > 256 && cache_.size() * 4 < cache_.bucket_count()) cache_.rehash(0);
  // Which processes get the rest of their files read.
  std::vector<char> wanted(out.size(), onlyDescendantsOf > 0 ? 0 : 1);
  if (onlyDescendantsOf > 0) {
    std::unordered_map<const ProcessInfo*, size_t> index;
    for (size_t i = 0; i < out.size(); ++i) index[&out[i]] = i;
    for (const ProcessInfo* d : descendantsOf(onlyDescendantsOf, out)) wanted[index[d]] = 1;
    if (includeRoot)
      for (size_t i = 0; i < out.size(); ++i)
        if (out[i].pid == onlyDescendantsOf) wanted[i] = 1;
  }
  // Pass 2: status and the optional files, for the wanted processes only.
  std::vector<ProcessInfo> kept;
  kept.reserve(onlyDescendantsOf > 0 ? 16 : out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (!wanted[i]) continue;
    ProcessInfo& info = out[i];
    int pid = info.pid;
    if (opts.status) {
      auto it = cache_.find(pid);
      SysError e;
      if (it != cache_.end()) {
        e = it->second.status.read(buf_);
      } else {
        std::snprintf(path, sizeof path, "/proc/%d/status", pid);
        e = readFileOnce(path, buf_);
      }
      if (e.ok())
        parseProcStatus(buf_, info);
      else if (vanished(e))
        continue;
    }
    readProcessExtras(pid, opts, info, buf_);
    kept.push_back(std::move(info));
  }
  out.swap(kept);
  return {};
}

std::vector<const ProcessInfo*> descendantsOf(int root, const std::vector<ProcessInfo>& table) {
  std::unordered_map<int, const ProcessInfo*> byPid;
  std::unordered_multimap<int, const ProcessInfo*> children;
  byPid.reserve(table.size());
  for (const ProcessInfo& p : table) {
    byPid[p.pid] = &p;
    children.emplace(p.ppid, &p);
  }
  std::vector<const ProcessInfo*> out;
  std::deque<const ProcessInfo*> queue;
  auto rootIt = byPid.find(root);
  // Even if the root itself is gone, its pid may still be the ppid of orphans being re-parented;
  // those are not its descendants any more, so only walk from a live root.
  if (rootIt == byPid.end()) return out;
  queue.push_back(rootIt->second);
  while (!queue.empty()) {
    const ProcessInfo* parent = queue.front();
    queue.pop_front();
    auto range = children.equal_range(parent->pid);
    for (auto c = range.first; c != range.second; ++c) {
      const ProcessInfo* child = c->second;
      if (child->pid == parent->pid || child->starttime < parent->starttime) continue;
      out.push_back(child);
      queue.push_back(child);
    }
  }
  return out;
}

}  // namespace ovn
