#include "psi_trigger.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "clock.h"
#include "psi.h"

namespace ovn {

namespace {

// Reads a pressure file's cumulative stall (µs) at offset 0 of its kept-open fd.
bool readTotal(int fd, bool full, uint64_t& totalUs) {
  char buf[256];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return false;
  Psi psi;
  if (!parsePsi(std::string_view(buf, static_cast<size_t>(n)), psi)) return false;
  const PsiLine& line = full ? psi.full : psi.some;
  if (!line.present) return false;
  totalUs = line.totalUs;
  return true;
}

// Growth of the total over the last windowNs: from the newest reading at or before now - window
// (or the oldest kept one when the history is shorter) to the newest.
void growth(const std::deque<PsiTriggerWatcher::Sample>& h, uint64_t windowNs, uint64_t& stallUs, uint64_t& coveredUs) {
  stallUs = coveredUs = 0;
  if (h.empty()) return;
  const auto& last = h.back();
  const PsiTriggerWatcher::Sample* base = &h.front();
  for (const auto& s : h) {
    if (last.tNs - s.tNs >= windowNs)
      base = &s;
    else
      break;
  }
  stallUs = last.totalUs >= base->totalUs ? last.totalUs - base->totalUs : 0;
  coveredUs = (last.tNs - base->tNs) / 1000;
}

}  // namespace

// Stall time grows no faster than the clock (`some` and `full` are shares of wall time, averaged
// over CPUs), and so does the stall the poll measures over its window (its base only moves later).
// So a file that lacks H of stall to pass its threshold cannot pass it within H: the poll sleeps
// that long when it is more than pollNs, and detects a crossing as late as before (one pollNs at
// most), with fewer wake-ups on a quiet node (defaults: every 190 ms instead of every 100 ms;
// each wake-up costs ~75 µs of CPU on these VMs, most of it the context switch). kPollSlackNs
// absorbs clock skew and poll()'s rounding to whole milliseconds. The sleep is capped at
// kMaxQuietPolls polls: the window a reading is judged over starts at the newest reading at or
// before its start, so sparser readings widen it (to the window and up to kMaxQuietPolls polls,
// against one poll without the back-off), and the totals stay fresh for stalls().
uint64_t pollWaitNs(uint64_t pollNs, uint64_t headroomNs) {
  constexpr uint64_t kPollSlackNs = 10'000'000;
  uint64_t quiet = headroomNs > kPollSlackNs ? headroomNs - kPollSlackNs : 0;
  return std::max(pollNs, std::min(quiet, kMaxQuietPolls * pollNs));
}

SysError PsiTriggerWatcher::create(const std::vector<PsiTriggerSpec>& specs, uint64_t pollUs, OnEvent onEvent,
                                   OnExit onExit, std::unique_ptr<PsiTriggerWatcher>& out) {
  auto st = std::make_shared<State>();
  auto cleanup = [&]() {
    for (File& f : st->files) ::close(f.fd);
    st->files.clear();
  };
  uint64_t maxWindowUs = 0;
  for (const PsiTriggerSpec& s : specs) {
    int fd = ::open(s.path.c_str(), (s.arm ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      SysError e = SysError::fromErrno(errno, "open", s.path);
      cleanup();
      return e;
    }
    if (s.arm) {
      char trig[96];
      int n = std::snprintf(trig, sizeof trig, "%s %llu %llu", s.full ? "full" : "some",
                            static_cast<unsigned long long>(s.stallUs), static_cast<unsigned long long>(s.windowUs));
      if (::write(fd, trig, static_cast<size_t>(n) + 1) < 0) {
        SysError e = SysError::fromErrno(errno, "write", s.path + " (trigger \"" + trig + "\")");
        ::close(fd);
        cleanup();
        return e;
      }
    }
    File f;
    f.spec = s;
    f.fd = fd;
    st->files.push_back(std::move(f));
    if (s.windowUs > maxWindowUs) maxWindowUs = s.windowUs;
  }
  if (::pipe2(st->stopPipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    SysError e = SysError::fromErrno(errno, "pipe2");
    cleanup();
    return e;
  }
  st->pollNs = pollUs * 1000;
  // Kept long enough for the trigger window and a 10 s look back (the health report's window).
  // (readings up to kMaxQuietPolls polls apart: the one at or before the window's start is kept)
  st->keepNs = std::max<uint64_t>(maxWindowUs, 10000000) * 1000 + kMaxQuietPolls * st->pollNs;
  st->onEvent = std::move(onEvent);
  st->onExit = std::move(onExit);
  out.reset(new PsiTriggerWatcher());
  out->state_ = st;
  out->thread_ = std::thread([st] {
    pthread_setname_np(pthread_self(), "ovn-psi");  // visible in top -H and /proc/<pid>/task
    std::vector<struct pollfd> pfds;
    for (const File& f : st->files) pfds.push_back({f.fd, static_cast<short>(f.spec.arm ? POLLPRI : 0), 0});
    pfds.push_back({st->stopPipe[0], POLLIN, 0});
    // Reads every file's total, appends it, and says which files passed their threshold (poll events).
    // headroomNs: the least stall any file still lacks to pass its threshold (0 when one is there).
    auto readAll = [&st](uint64_t now, bool judge, uint64_t& headroomNs) {
      std::vector<PsiEvent> fire;
      headroomNs = UINT64_MAX;
      std::lock_guard<std::mutex> lock(st->mu);
      for (File& f : st->files) {
        uint64_t total;
        if (!readTotal(f.fd, f.spec.full, total)) {
          headroomNs = 0;  // unknown stall: no longer sleep on this file's account
          continue;
        }
        f.history.push_back({now, total});
        while (f.history.size() > 1 && now - f.history.front().tNs > st->keepNs) f.history.pop_front();
        if (!judge) continue;
        uint64_t stall, covered;
        growth(f.history, f.spec.windowUs * 1000, stall, covered);
        headroomNs = std::min(headroomNs, stall >= f.spec.stallUs ? 0 : (f.spec.stallUs - stall) * 1000);
        // Like the kernel: at most one event per window per file.
        if (stall >= f.spec.stallUs && (!f.fired || now - f.lastFireNs >= f.spec.windowUs * 1000)) {
          f.fired = true;
          f.lastFireNs = now;
          PsiEvent e;
          e.name = f.spec.name;
          e.path = f.spec.path;
          e.kind = "poll";
          e.stallUs = stall;
          e.windowUs = f.spec.windowUs;
          fire.push_back(std::move(e));
        }
      }
      return fire;
    };
    uint64_t nextPoll = st->pollNs ? monotonicNowNs() : 0;
    while (!st->stop.load()) {
      int timeoutMs = -1;
      if (st->pollNs) {
        uint64_t now = monotonicNowNs();
        timeoutMs = nextPoll > now ? static_cast<int>((nextPoll - now + 999999) / 1000000) : 0;
      }
      int r = ::poll(pfds.data(), pfds.size(), timeoutMs);
      if (r < 0) {
        if (errno == EINTR) continue;
        PsiEvent e;
        e.kind = "error";
        e.err = SysError::fromErrno(errno, "poll");
        st->onEvent(e);
        break;
      }
      if (pfds.back().revents) break;
      uint64_t now = monotonicNowNs();
      if (st->pollNs && now >= nextPoll) {
        uint64_t headroomNs;
        for (const PsiEvent& e : readAll(now, true, headroomNs)) st->onEvent(e);
        uint64_t waitNs = pollWaitNs(st->pollNs, headroomNs);
        if (waitNs > st->pollNs) {
          nextPoll = now + waitNs;
        } else {
          nextPoll += st->pollNs;
          if (nextPoll <= now) nextPoll = now + st->pollNs;  // fell behind (a loaded node): no burst of reads
        }
      }
      if (r == 0) continue;
      for (size_t i = 0; i + 1 < pfds.size(); ++i) {
        const File& f = st->files[i];
        PsiEvent e;
        e.name = f.spec.name;
        e.path = f.spec.path;
        e.windowUs = f.spec.windowUs;
        if (pfds[i].revents & POLLERR) {
          // The file went away (its cgroup was removed): stop watching it, keep the others.
          e.kind = "error";
          e.err = SysError::fromErrno(EIO, "poll", f.spec.path);
          pfds[i].events = 0;
          pfds[i].fd = -1;
          st->onEvent(e);
        } else if (pfds[i].revents & POLLPRI) {
          {
            std::lock_guard<std::mutex> lock(st->mu);
            File& mf = st->files[i];
            uint64_t total;
            if (readTotal(mf.fd, mf.spec.full, total)) {
              mf.history.push_back({now, total});
              uint64_t covered;
              growth(mf.history, mf.spec.windowUs * 1000, e.stallUs, covered);
              if (covered == 0) e.stallUs = 0;
            }
          }
          st->onEvent(e);
        }
      }
    }
    for (File& f : st->files) ::close(f.fd);
    ::close(st->stopPipe[0]);
    if (st->onExit) st->onExit();
  });
  return {};
}

std::vector<PsiStall> PsiTriggerWatcher::stalls(uint64_t windowUs) const {
  std::vector<PsiStall> out;
  if (!state_) return out;
  uint64_t now = monotonicNowNs();
  std::lock_guard<std::mutex> lock(state_->mu);
  for (const File& f : state_->files) {
    PsiStall s;
    s.name = f.spec.name;
    s.path = f.spec.path;
    if (!f.history.empty()) {
      s.known = true;
      s.totalUs = f.history.back().totalUs;
      s.ageUs = (now - f.history.back().tNs) / 1000;
      growth(f.history, windowUs * 1000, s.stallUs, s.coveredUs);
    }
    out.push_back(std::move(s));
  }
  return out;
}

PsiTriggerWatcher::~PsiTriggerWatcher() { stop(); }

void PsiTriggerWatcher::stop() {
  if (!state_) return;
  if (!state_->stop.exchange(true)) {
    char c = 1;
    if (::write(state_->stopPipe[1], &c, 1) < 0) {
    }
  }
  if (thread_.joinable()) thread_.join();
  if (state_->stopPipe[1] >= 0) ::close(state_->stopPipe[1]);
  state_->stopPipe[1] = -1;
}

SysError sdNotify(const std::string& message, bool& sent) {
  sent = false;
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) return {};
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return SysError::fromErrno(ENAMETOOLONG, "connect", path);
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return SysError::fromErrno(errno, "socket");
  ssize_t r = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&addr),
                       static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + len));
  int err = errno;
  ::close(fd);
  if (r < 0) return SysError::fromErrno(err, "sendto", path);
  sent = true;
  return {};
}

}  // namespace ovn
