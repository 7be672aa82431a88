// Runs releaseFilePages() in a process that holds three private mappings of the file named in
// argv[1] (64 pages, page i filled with the byte i):
//   clean   read-only, every page read (the file just written: its pages not yet written back): its pages
//           must leave the page tables and read back the same;
//   copied  written once (a private copy of page 3), then made read-only: nothing of it may be
//           dropped (the copy would be lost), so its bytes and residency must stay;
//   rw      writable, every page read: a writable area is never advised.
// Prints "clean_before=.. clean_after=.. clean_intact=.. copied_kept=.. copied_after=.. rw_after=..
// areas=.. released_kb=.." (residency from /proc/self/pagemap's present bit) and exits 0, or 1 on a
// failed call.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "../../native/proc/file_pages.h"

static const size_t kPages = 64;

static size_t present(const unsigned char* base, size_t pages) {
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return SIZE_MAX;
  size_t n = 0;
  long ps = sysconf(_SC_PAGESIZE);
  for (size_t i = 0; i < pages; ++i) {
    uint64_t e = 0;
    off_t off = static_cast<off_t>((reinterpret_cast<uintptr_t>(base) / ps + i) * sizeof e);
    if (pread(fd, &e, sizeof e, off) == static_cast<ssize_t>(sizeof e) && (e >> 63)) ++n;
  }
  close(fd);
  return n;
}

int main(int argc, char** argv) {
  if (argc < 2) return 1;
  long ps = sysconf(_SC_PAGESIZE);
  size_t len = kPages * static_cast<size_t>(ps);
  int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 1;
  for (size_t i = 0; i < kPages; ++i) {
    std::string page(static_cast<size_t>(ps), static_cast<char>(i));
    if (write(fd, page.data(), page.size()) != static_cast<ssize_t>(page.size())) return 1;
  }
  // Not written back yet: smaps counts these page-cache pages as dirty in every mapping; they are released all
  // the same (the cache keeps them and writes them back).
  auto* clean = static_cast<unsigned char*>(mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0));
  auto* copied = static_cast<unsigned char*>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  auto* rw = static_cast<unsigned char*>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  if (clean == MAP_FAILED || copied == MAP_FAILED || rw == MAP_FAILED) return 1;
  unsigned sum = 0;
  for (size_t i = 0; i < kPages; ++i) sum += clean[i * ps] + copied[i * ps] + rw[i * ps];
  copied[3 * ps + 7] = 0xAB;
  if (mprotect(copied, len, PROT_READ) != 0) return 1;
  size_t cleanBefore = present(clean, kPages);

  ovn::FilePageRelease r;
  ovn::SysError e = ovn::releaseFilePages(r);
  if (!e.ok()) {
    std::printf("error %s\n", e.message().c_str());
    return 1;
  }
  size_t cleanAfter = present(clean, kPages), copiedAfter = present(copied, kPages), rwAfter = present(rw, kPages);
  bool intact = true;
  for (size_t i = 0; i < kPages; ++i)
    for (size_t b = 0; b < static_cast<size_t>(ps); b += 512) intact = intact && clean[i * ps + b] == i;
  std::printf(
      "clean_before=%zu clean_after=%zu clean_intact=%d copied_kept=%d copied_after=%zu rw_after=%zu areas=%llu "
      "released_kb=%llu sum=%u\n",
      cleanBefore, cleanAfter, intact ? 1 : 0, copied[3 * ps + 7] == 0xAB ? 1 : 0, copiedAfter, rwAfter,
      static_cast<unsigned long long>(r.areas), static_cast<unsigned long long>(r.residentKb), sum);
  return 0;
}
