// Hash containers for the hot paths: vocabulary lookup by string_view without allocating, and an
// open-addressing table for BPE merges keyed by the pair of token ids.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace llmhost::tok {

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        // FNV-1a over 8-byte words: vocabulary keys are short.
        uint64_t h = 0xcbf29ce484222325ull;
        std::size_t i = 0;
        for (; i + 8 <= s.size(); i += 8) {
            uint64_t w;
            __builtin_memcpy(&w, s.data() + i, 8);
            h = (h ^ w) * 0x100000001b3ull;
            h ^= h >> 29;
        }
        for (; i < s.size(); ++i) h = (h ^ static_cast<unsigned char>(s[i])) * 0x100000001b3ull;
        return static_cast<std::size_t>(h ^ (h >> 32));
    }
};

using StringIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

inline const int32_t *find_id(const StringIdMap &map, std::string_view key) {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
}

// (left id, right id) -> (rank, merged id).
class MergeTable {
  public:
    struct Value { int32_t rank, id; };
    void reserve(std::size_t n) {
        std::size_t cap = 16;
        while (cap < n * 2) cap <<= 1;
        keys_.assign(cap, kEmpty);
        values_.assign(cap, {0, 0});
        mask_ = cap - 1;
    }
    // Later inserts of the same pair overwrite earlier ones (as the Rust HashMap collect does).
    void insert(int32_t a, int32_t b, Value v) {
        uint64_t k = key(a, b);
        std::size_t i = slot(k);
        while (keys_[i] != kEmpty && keys_[i] != k) i = (i + 1) & mask_;
        if (keys_[i] == kEmpty) ++size_;
        keys_[i] = k;
        values_[i] = v;
    }
    const Value *find(int32_t a, int32_t b) const {
        if (keys_.empty()) return nullptr;
        uint64_t k = key(a, b);
        for (std::size_t i = slot(k);; i = (i + 1) & mask_) {
            if (keys_[i] == k) return &values_[i];
            if (keys_[i] == kEmpty) return nullptr;
        }
    }
    std::size_t size() const { return size_; }

  private:
    static constexpr uint64_t kEmpty = ~0ull;
    static uint64_t key(int32_t a, int32_t b) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
    }
    std::size_t slot(uint64_t k) const {
        k *= 0x9E3779B97F4A7C15ull;
        return static_cast<std::size_t>(k >> 32) & mask_;
    }
    std::vector<uint64_t> keys_;
    std::vector<Value> values_;
    std::size_t mask_ = 0, size_ = 0;
};

} // namespace llmhost::tok
