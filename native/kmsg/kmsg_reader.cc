#include "kmsg_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace ovn::kmsg {

namespace {
// The kernel refuses a read buffer smaller than one record (EINVAL); records are at most
// CONSOLE_EXT_LOG_MAX (8 KiB) with their dictionary.
constexpr size_t kReadBuffer = 16384;
}  // namespace

SysError openKmsg(const std::string& path, int& fd) {
  fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return SysError::fromErrno(errno, "open", path);
  return {};
}

Reader::Reader(int fd, ReaderOptions opts, OnBatch onBatch, OnExit onExit)
    : fd_(fd), opts_(opts), onBatch_(std::move(onBatch)), onExit_(std::move(onExit)) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  if (opts_.fromEnd) ::lseek(fd_, 0, SEEK_END);
  thread_ = std::thread([this] { run(); });
}

Reader::~Reader() {
  stop();
  if (fd_ >= 0) ::close(fd_);
  if (wake_[0] >= 0) ::close(wake_[0]);
  if (wake_[1] >= 0) ::close(wake_[1]);
}

void Reader::stop() {
  stop_.store(true);
  if (wake_[1] >= 0) {
    char c = 1;
    ssize_t w = ::write(wake_[1], &c, 1);
    (void)w;
  }
  if (thread_.joinable()) thread_.join();
}

void Reader::run() {
  std::vector<char> buf(kReadBuffer);
  Batch batch;
  bool caughtUp = false;
  int64_t last = opts_.fromEnd ? -1 : opts_.afterSeq;
  auto flush = [&] {
    if (batch.records.empty() && batch.lost.empty() && batch.overruns == 0 && batch.error.ok() && !batch.ended &&
        !batch.caughtUp)
      return;
    onBatch_(std::move(batch));
    batch = Batch{};
  };
  while (!stop_.load()) {
    ssize_t r = ::read(fd_, buf.data(), buf.size());
    if (r > 0) {
      Record rec;
      if (!parseRecord(buf.data(), static_cast<size_t>(r), rec)) continue;
      if (last >= 0 && rec.seq <= static_cast<uint64_t>(last)) continue;  // seen before this restart
      if (last >= 0 && rec.seq > static_cast<uint64_t>(last) + 1)
        batch.lost.emplace_back(static_cast<uint64_t>(last) + 1, rec.seq - 1);
      last = static_cast<int64_t>(rec.seq);
      // Old kernels split a continued line into 'c' + '+' records: join them into one.
      if (rec.flag == '+' && !batch.records.empty() && batch.records.back().flag != '-') {
        batch.records.back().text += rec.text;
        continue;
      }
      batch.records.push_back(std::move(rec));
      if (batch.records.size() >= opts_.batchMax) flush();
      continue;
    }
    if (r == 0) {  // a regular file: nothing more will come
      batch.ended = true;
      flush();
      break;
    }
    int e = errno;
    if (e == EINTR) continue;
    if (e == EPIPE) {
      // The ring buffer overwrote records before we read them; the kernel moved our position to
      // the oldest record left, whose sequence number tells how many were lost.
      ++batch.overruns;
      continue;
    }
    if (e == EAGAIN) {
      // The first time the log is drained, say so: a one-shot reader (a CLI) waits for it.
      if (!caughtUp) batch.caughtUp = caughtUp = true;
      flush();
      struct pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      int n = ::poll(fds, wake_[0] >= 0 ? 2 : 1, wake_[0] >= 0 ? -1 : 200);
      if (n < 0 && errno != EINTR) {
        batch.error = SysError::fromErrno(errno, "poll");
        flush();
        break;
      }
      continue;
    }
    batch.error = SysError::fromErrno(e, "read");
    flush();
    break;
  }
  if (onExit_) onExit_();
}

}  // namespace ovn::kmsg
