// Starts and stops the native sampler 10,000 times under AddressSanitizer/LeakSanitizer: every run
// allocates its ring, its per-pid files and its thread (and, every other run, a process scanner with
// its table, its thread and its ring of scans), and stopping must free all of it.
// Built and run by test/integration/sampler-leak.test.ts.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "../../native/sampler/sampler.h"

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 10000;
  uint64_t samples = 0;
  for (int i = 0; i < runs; ++i) {
    ovn::SamplerOptions o;
    o.intervalUs = 50;
    o.cgroup = (i % 4) == 0;
    o.pids = {getpid(), 1};
    o.ringSize = 64 + static_cast<size_t>(i % 100);
    if (i % 2) o.processes = {getppid(), (i % 4) == 1 ? uint64_t{100} : uint64_t{0}, 2, true};
    ovn::Sampler s(o);
    s.start();
    if (i % 1000 == 0) usleep(2000);
    std::vector<double> batch;
    s.read(batch);
    if (ovn::ProcessScanner* ps = s.processes()) {
      if (i % 8 == 3) ps->scanNow();
      std::vector<ovn::ProcessScan> scans;
      ps->read(scans);
    }
    ovn::SamplerReport r = s.stop();
    samples += r.samples;
  }
  std::printf("runs=%d samples=%llu\n", runs, static_cast<unsigned long long>(samples));
  return 0;
}
