// Hash containers for the hot paths: vocabulary lookup by string_view without allocating, and an
// open-addressing table for BPE merges keyed by the pair of token ids.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
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

// Open-addressing string -> V table for the encode hot path (vocabulary units, the word cache):
// keys live in one pool, each slot keeps the full hash, so a lookup is one probe and one memcmp
// in the common case. (std::unordered_map with a custom hash re-hashes string keys while walking
// a bucket, which made it the top of the profile.)
template <typename V> class FlatStringMap {
  public:
    void reserve(std::size_t n) {
        if (n * 2 > slots_.size()) rehash(n * 2);
    }
    std::size_t size() const { return size_; }
    void clear() {
        for (auto &s : slots_) s.hash = 0;
        pool_.clear();
        size_ = 0;
    }
    const V *find(std::string_view key) const {
        if (slots_.empty()) return nullptr;
        uint64_t h = hash(key);
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot &s = slots_[i];
            if (s.hash == 0) return nullptr;
            if (s.hash == h && s.len == key.size() && std::memcmp(pool_.data() + s.off, key.data(), key.size()) == 0)
                return &s.value;
        }
    }
    void insert_or_assign(std::string_view key, V value) {
        if ((size_ + 1) * 2 > slots_.size()) rehash(std::max<std::size_t>(64, slots_.size() * 2));
        uint64_t h = hash(key);
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            Slot &s = slots_[i];
            if (s.hash == 0) {
                s = {h, static_cast<uint32_t>(pool_.size()), static_cast<uint32_t>(key.size()), std::move(value)};
                pool_.append(key);
                ++size_;
                return;
            }
            if (s.hash == h && s.len == key.size() && std::memcmp(pool_.data() + s.off, key.data(), key.size()) == 0) {
                s.value = std::move(value);
                return;
            }
        }
    }

  private:
    struct Slot {
        uint64_t hash; // 0: empty
        uint32_t off, len;
        V value;
    };
    static uint64_t hash(std::string_view s) {
        uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0xC2B2AE3D27D4EB4Full);
        std::size_t i = 0;
        for (; i + 8 <= s.size(); i += 8) {
            uint64_t w;
            std::memcpy(&w, s.data() + i, 8);
            h = (h ^ w) * 0xFF51AFD7ED558CCDull;
            h ^= h >> 32;
        }
        uint64_t tail = 0;
        std::memcpy(&tail, s.data() + i, s.size() - i);
        h = (h ^ tail) * 0xC4CEB9FE1A85EC53ull;
        h ^= h >> 29;
        h *= 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        return h | 1; // never 0 (the empty marker)
    }
    void rehash(std::size_t want) {
        std::size_t cap = 64;
        while (cap < want) cap <<= 1;
        std::vector<Slot> old;
        old.swap(slots_);
        slots_.assign(cap, Slot{0, 0, 0, V{}});
        mask_ = cap - 1;
        for (auto &s : old) {
            if (s.hash == 0) continue;
            std::size_t i = s.hash & mask_;
            while (slots_[i].hash != 0) i = (i + 1) & mask_;
            slots_[i] = std::move(s);
        }
    }
    std::vector<Slot> slots_;
    std::string pool_;
    std::size_t mask_ = 0, size_ = 0;
};

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
