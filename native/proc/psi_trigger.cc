#include "psi_trigger.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ovn {

SysError PsiTriggerWatcher::create(const std::vector<PsiTriggerSpec>& specs, OnEvent onEvent, OnExit onExit,
                                   std::unique_ptr<PsiTriggerWatcher>& out) {
  auto st = std::make_shared<State>();
  auto cleanup = [&]() {
    for (int fd : st->fds) ::close(fd);
    st->fds.clear();
  };
  for (const PsiTriggerSpec& s : specs) {
    std::string path = "/proc/pressure/" + s.resource;
    int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      SysError e = SysError::fromErrno(errno, "open", path);
      cleanup();
      return e;
    }
    char trig[96];
    int n = std::snprintf(trig, sizeof trig, "%s %llu %llu", s.full ? "full" : "some",
                          static_cast<unsigned long long>(s.stallUs), static_cast<unsigned long long>(s.windowUs));
    if (::write(fd, trig, static_cast<size_t>(n) + 1) < 0) {
      SysError e = SysError::fromErrno(errno, "write", path + " (trigger \"" + trig + "\")");
      ::close(fd);
      cleanup();
      return e;
    }
    st->fds.push_back(fd);
    st->names.push_back(s.resource);
  }
  if (::pipe2(st->stopPipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    SysError e = SysError::fromErrno(errno, "pipe2");
    cleanup();
    return e;
  }
  st->onEvent = std::move(onEvent);
  st->onExit = std::move(onExit);
  out.reset(new PsiTriggerWatcher());
  out->state_ = st;
  out->thread_ = std::thread([st] {
    std::vector<struct pollfd> pfds;
    for (int fd : st->fds) pfds.push_back({fd, POLLPRI, 0});
    pfds.push_back({st->stopPipe[0], POLLIN, 0});
    while (!st->stop.load()) {
      int r = ::poll(pfds.data(), pfds.size(), -1);
      if (r < 0) {
        if (errno == EINTR) continue;
        st->onEvent("", SysError::fromErrno(errno, "poll"));
        break;
      }
      if (pfds.back().revents) break;
      for (size_t i = 0; i + 1 < pfds.size(); ++i) {
        if (pfds[i].revents & POLLERR) {
          st->onEvent(st->names[i], SysError::fromErrno(EIO, "poll", "/proc/pressure/" + st->names[i]));
          st->stop.store(true);
        } else if (pfds[i].revents & POLLPRI) {
          st->onEvent(st->names[i], SysError{});
        }
      }
    }
    for (int fd : st->fds) ::close(fd);
    ::close(st->stopPipe[0]);
    if (st->onExit) st->onExit();
  });
  return {};
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
