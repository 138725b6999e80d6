// WeightArena (weight_arena.hpp) and the huge-page allocation it shares with the read-bandwidth
// measurement (detail::allocate_streamed): whatever the kernels stream is allocated alike.
#include "llmhost/kernels/weight_arena.hpp"
#include "detail.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <stdexcept>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace llmhost::kernels {

namespace detail {

StreamedMemory allocate_streamed(std::size_t bytes) {
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    const bool big = bytes >= kHuge;
    const std::size_t align = big ? kHuge : 64;
    const std::size_t size = (std::max<std::size_t>(bytes, 64) + align - 1) / align * align;
    void *p = std::aligned_alloc(align, size);
    if (!p) throw std::bad_alloc();
    bool advised = false;
#if defined(MADV_HUGEPAGE)
    // Before the first touch, so that the page faults themselves take huge pages. Fails (EINVAL)
    // where transparent huge pages are compiled out; the memory is then used as it is.
    advised = big && madvise(p, size, MADV_HUGEPAGE) == 0;
#endif
    return {p, size, advised};
}

} // namespace detail

struct WeightArena::Chunk {
    unsigned char *base;
    std::size_t size, used;
};

WeightArena::WeightArena(std::size_t chunk_bytes) : chunk_bytes_(chunk_bytes) {
    if (chunk_bytes < 64) throw std::invalid_argument("WeightArena: chunk_bytes must be >= 64");
}

WeightArena::~WeightArena() {
    for (auto &c : chunks_) std::free(c.base);
}

void *WeightArena::allocate(std::size_t bytes) {
    if (bytes == 0) throw std::invalid_argument("WeightArena::allocate: 0 bytes");
    const std::size_t need = (bytes + 63) / 64 * 64;
    std::lock_guard lk(m_);
    for (auto &c : chunks_) // first fit: a chunk's tail serves later, smaller matrices
        if (c.size - c.used >= need) {
            void *p = c.base + c.used;
            c.used += need;
            return p;
        }
    chunks_.reserve(chunks_.size() + 1); // first: a failing push_back would leak the chunk
    const detail::StreamedMemory mem = detail::allocate_streamed(std::max(need, chunk_bytes_));
    chunks_.push_back({static_cast<unsigned char *>(mem.p), mem.size, need});
    advised_ = advised_ && mem.huge_pages_advised;
    return mem.p;
}

std::size_t WeightArena::reserved_bytes() const {
    std::lock_guard lk(m_);
    std::size_t n = 0;
    for (const auto &c : chunks_) n += c.size;
    return n;
}

bool WeightArena::huge_pages_advised() const {
    std::lock_guard lk(m_);
    return advised_ && !chunks_.empty();
}

} // namespace llmhost::kernels
