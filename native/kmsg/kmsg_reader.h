// The kernel log reader: /dev/kmsg records read on a thread of their own, delivered in batches.
// No matching here (that is src/events/): records are plain data.
// Thread: openKmsg, the constructor and stop() run on the JS thread; onBatch and onExit are called
// on the reader thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../proc/sys_error.h"
#include "kmsg_record.h"

namespace ovn::kmsg {

struct Batch {
  std::vector<Record> records;
  // Sequence ranges [from, to] the reader never saw: overwritten in the ring buffer before they
  // were read (EPIPE), or while no reader ran (a resume that starts past afterSeq + 1).
  std::vector<std::pair<uint64_t, uint64_t>> lost;
  uint64_t overruns = 0;  // EPIPE returns seen in this batch
  SysError error;         // set on the last batch when the reader stops on an error
  bool ended = false;     // the file ended (a regular file given as kernelLog.path)
  bool caughtUp = false;  // set once, on the first batch after which nothing more was waiting
};

struct ReaderOptions {
  int64_t afterSeq = -1;  // skip records up to this sequence (resume); -1: from the oldest record
  bool fromEnd = false;   // only records logged from now on
  size_t batchMax = 512;  // records per delivered batch, at most
};

// Opens the log (O_RDONLY|O_NONBLOCK). EPERM/EACCES without CAP_SYSLOG when
// kernel.dmesg_restrict = 1; the caller reports that as unavailable.
SysError openKmsg(const std::string& path, int& fd);

class Reader {
 public:
  using OnBatch = std::function<void(Batch&&)>;
  using OnExit = std::function<void()>;
  // Takes ownership of fd.
  Reader(int fd, ReaderOptions opts, OnBatch onBatch, OnExit onExit);
  ~Reader();
  // Wakes the thread through its pipe and joins it; the thread never blocks anywhere else.
  void stop();

 private:
  void run();
  int fd_;
  int wake_[2] = {-1, -1};
  ReaderOptions opts_;
  OnBatch onBatch_;
  OnExit onExit_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ovn::kmsg
