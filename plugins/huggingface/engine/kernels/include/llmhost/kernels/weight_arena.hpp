// Memory for the packed weight matrices of one model: a few large chunks of anonymous memory,
// 2 MiB-aligned and advised for transparent huge pages (madvise(MADV_HUGEPAGE) on Linux), carved
// into 64-byte-aligned pieces that live as long as the arena.
//
// Why: a decode step streams every weight once, ~50-200 MB a token. With 4 KiB pages that is one
// TLB miss every 64 cache lines, and the hardware prefetchers stop at every page boundary. A
// vectorized read of 176 MB measured 19-23 GB/s with 4 KiB pages and 30-32 GB/s with huge pages
// (this VM, 2026-11-27). One matrix per allocation would not do: most projections are 1-3 MB, and
// a huge page only backs an aligned 2 MiB range that lies wholly inside its mapping.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace llmhost::kernels {

class WeightArena {
public:
    // chunk_bytes: the size of each chunk (a larger request gets a chunk of its own).
    explicit WeightArena(std::size_t chunk_bytes = std::size_t{64} << 20);
    ~WeightArena();
    WeightArena(const WeightArena &) = delete;
    WeightArena &operator=(const WeightArena &) = delete;

    // bytes (> 0) of uninitialised memory, 64-byte aligned, valid until the arena is destroyed.
    // Thread-safe. Throws std::bad_alloc when the memory cannot be had, std::invalid_argument
    // for 0 bytes.
    void *allocate(std::size_t bytes);
    std::size_t reserved_bytes() const; // the chunks' sizes, in all
    // Whether the kernel took the huge-page advice for every chunk (false off Linux, or when
    // transparent huge pages are disabled: the memory is then ordinary pages, and only slower).
    bool huge_pages_advised() const;

private:
    struct Chunk;
    mutable std::mutex m_;
    std::vector<Chunk> chunks_;
    std::size_t chunk_bytes_;
    bool advised_ = true;
};

} // namespace llmhost::kernels
