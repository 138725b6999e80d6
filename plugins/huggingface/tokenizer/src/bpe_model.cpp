#include "bpe_model.hpp"

#include "byte_level.hpp"
#include "json_util.hpp"
#include "utf8.hpp"

#include <atomic>
#include <algorithm>
#include <cstdio>
#include <unordered_map>

namespace llmhost::tok {

using json_util::fail;

namespace {

struct Symbol {
    int32_t id;
    int32_t prev, next;
    uint32_t len; // 0: merged into its left neighbour
};

struct Merge {
    int32_t pos, rank, new_id;
    // Heaps pop the largest: make the lowest rank, then the leftmost, largest.
    bool operator<(const Merge &o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

// Per-thread word cache: encode is const and may run on many threads. Values are (offset, count)
// into `ids`.
struct WordCache {
    uint64_t owner = 0;
    FlatStringMap<std::pair<uint32_t, uint32_t>> words;
    std::vector<int32_t> ids;
};
constexpr std::size_t kCacheMaxWords = 1 << 16, kCacheMaxWordBytes = 64;

std::atomic<uint64_t> next_cache_owner{1};

} // namespace

struct WordBuilder {
    std::vector<Symbol> &symbols;
    std::optional<std::pair<int32_t, uint32_t>> unk; // pending unknown run (id, bytes)
    void add(int32_t id, uint32_t len) {
        int32_t n = static_cast<int32_t>(symbols.size());
        symbols.push_back({id, n - 1, n + 1, len});
    }
};

BpeModel::BpeModel(const nlohmann::json &m, const std::string &where, bool byte_level_input)
    : byte_level_(byte_level_input), cache_owner_(next_cache_owner++) {
    if (auto it = m.find("dropout"); it != m.end() && !it->is_null() && it->get<double>() != 0.0)
        fail(where + "/dropout", "BPE dropout is random at encode time; not supported");
    const auto &vocab = json_util::member(m, where, "vocab");
    if (!vocab.is_object()) fail(where + "/vocab", "expected an object of token -> id");
    vocab_.reserve(vocab.size());
    int32_t max_id = -1;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0)
            fail(where + "/vocab/" + it.key(), "expected a non-negative integer id");
        int32_t id = it.value().get<int32_t>();
        vocab_[it.key()] = id;
        max_id = std::max(max_id, id);
    }
    vocab_r_.assign(static_cast<std::size_t>(max_id + 1), {});
    vocab_has_.assign(vocab_r_.size(), false);
    for (const auto &[tok, id] : vocab_) {
        vocab_r_[id] = tok;
        vocab_has_[id] = true;
    }

    if (auto it = m.find("unk_token"); it != m.end() && !it->is_null()) {
        auto id = find_id(vocab_, it->get<std::string>());
        if (!id) fail(where + "/unk_token", "token '" + it->get<std::string>() + "' is not in the vocabulary");
        unk_id_ = *id;
    }
    fuse_unk_ = json_util::get_bool(m, where, "fuse_unk", false);
    byte_fallback_ = json_util::get_bool(m, where, "byte_fallback", false);
    ignore_merges_ = json_util::get_bool(m, where, "ignore_merges", false);
    if (auto it = m.find("continuing_subword_prefix"); it != m.end() && it->is_string()) prefix_ = *it;
    if (auto it = m.find("end_of_word_suffix"); it != m.end() && it->is_string()) suffix_ = *it;
    if (byte_level_ && (!prefix_.empty() || !suffix_.empty()))
        fail(where, "continuing_subword_prefix / end_of_word_suffix with a ByteLevel pre-tokenizer is not supported");

    fallback_id_.fill(-1);
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        if (auto id = find_id(vocab_, name)) fallback_id_[b] = *id;
    }
    byte_unit_id_.fill(-1);
    unit_vocab_.reserve(vocab_.size());
    if (!byte_level_)
        for (const auto &[tok, id] : vocab_) unit_vocab_.insert_or_assign(tok, id);
    if (byte_level_) {
        for (const auto &[tok, id] : vocab_)
            if (auto raw = byte_level::decode_token(tok)) unit_vocab_.insert_or_assign(*raw, id);
        for (int b = 0; b < 256; ++b) {
            std::string unit;
            utf8::append(unit, byte_level::char_of_byte(static_cast<uint8_t>(b)));
            if (auto id = find_id(vocab_, unit)) byte_unit_id_[b] = *id;
        }
    }

    prepare_marker_cuts();

    const auto &merges = json_util::member(m, where, "merges");
    if (!merges.is_array()) fail(where + "/merges", "expected an array");
    merges_.reserve(merges.size());
    for (std::size_t i = 0; i < merges.size(); ++i) {
        const auto &mj = merges[i];
        std::string a, b;
        if (mj.is_string()) { // "a b"
            const std::string &s = mj.get_ref<const std::string &>();
            auto sp = s.find(' ');
            if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                fail(where + "/merges/" + std::to_string(i), "expected two tokens separated by one space");
            a = s.substr(0, sp);
            b = s.substr(sp + 1);
        } else if (mj.is_array() && mj.size() == 2 && mj[0].is_string() && mj[1].is_string()) {
            a = mj[0];
            b = mj[1];
        } else {
            fail(where + "/merges/" + std::to_string(i), "expected \"a b\" or [\"a\", \"b\"]");
        }
        auto ia = find_id(vocab_, a), ib = find_id(vocab_, b);
        std::string merged = a + (prefix_.empty() || b.compare(0, prefix_.size(), prefix_) != 0 ? b : b.substr(prefix_.size()));
        auto im = find_id(vocab_, merged);
        if (!ia || !ib || !im)
            fail(where + "/merges/" + std::to_string(i),
                 "merge of '" + a + "' and '" + b + "' uses a token that is not in the vocabulary");
        merges_.insert(*ia, *ib, {static_cast<int32_t>(i), *im});
    }
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
    if (auto id = find_id(vocab_, token)) return *id;
    return std::nullopt;
}

const std::string *BpeModel::id_to_token(int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= vocab_r_.size() || !vocab_has_[id]) return nullptr;
    return &vocab_r_[id];
}

// One character (or one byte, in byte-level mode) of the word: its id, else byte fallback, else unk.
void BpeModel::add_symbol_for_unit(std::string_view unit, bool first, bool last, WordBuilder &w) const {
    const int32_t *id = nullptr;
    std::string key_storage;
    std::string_view key = unit;
    if (byte_level_) {
        int32_t b = byte_unit_id_[static_cast<unsigned char>(unit[0])];
        if (b >= 0) id = &byte_unit_id_[static_cast<unsigned char>(unit[0])];
        else { // the vocabulary lacks this byte: fall back on its alphabet character, as Rust sees it
            utf8::append(key_storage, byte_level::char_of_byte(static_cast<uint8_t>(unit[0])));
            key = key_storage;
        }
    } else {
        if ((!first && !prefix_.empty()) || (last && !suffix_.empty())) {
            key_storage = (!first ? prefix_ : std::string()) + std::string(unit) + (last ? suffix_ : std::string());
            key = key_storage;
        }
        id = unit_vocab_.find(key);
    }
    uint32_t byte_len = static_cast<uint32_t>(unit.size());
    if (id) {
        if (w.unk) { w.add(w.unk->first, w.unk->second); w.unk.reset(); }
        w.add(*id, byte_len);
        return;
    }
    if (byte_fallback_) {
        bool all = true;
        for (unsigned char c : key) all = all && fallback_id_[c] >= 0;
        if (all) {
            // Rust does not flush a pending unk here: keep that quirk.
            for (unsigned char c : key) w.add(fallback_id_[c], 1);
            return;
        }
    }
    if (unk_id_) {
        if (w.unk && fuse_unk_) w.unk->second += byte_len;
        else {
            if (w.unk) w.add(w.unk->first, w.unk->second);
            w.unk = std::pair{*unk_id_, byte_len};
        }
    }
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t> &out) const {
    thread_local std::vector<Symbol> symbols;
    thread_local std::vector<Merge> heap_storage;
    symbols.clear();
    WordBuilder w{symbols, std::nullopt};
    for (std::size_t i = 0; i < word.size();) {
        std::size_t len = byte_level_ ? 1 : utf8::char_length(static_cast<unsigned char>(word[i]));
        add_symbol_for_unit(word.substr(i, len), i == 0, i + len >= word.size(), w);
        i += len;
    }
    if (w.unk) w.add(w.unk->first, w.unk->second);
    if (symbols.empty()) return;
    symbols.back().next = -1;

    auto &queue = heap_storage; // a binary heap: lowest rank, then leftmost, on top
    queue.clear();
    auto push = [&](Merge m) { queue.push_back(m); std::push_heap(queue.begin(), queue.end()); };
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i)
        if (auto m = merges_.find(symbols[i].id, symbols[i + 1].id))
            queue.push_back({static_cast<int32_t>(i), m->rank, m->id});
    std::make_heap(queue.begin(), queue.end());
    const auto n = static_cast<int32_t>(symbols.size());
    while (!queue.empty()) {
        std::pop_heap(queue.begin(), queue.end());
        Merge top = queue.back();
        queue.pop_back();
        Symbol &cur = symbols[top.pos];
        if (cur.len == 0 || cur.next == -1) continue;
        int32_t next_pos = cur.next;
        Symbol right = symbols[next_pos];
        auto m = merges_.find(cur.id, right.id);
        if (!m || m->id != top.new_id) continue; // stale entry
        cur.id = top.new_id;
        cur.len += right.len;
        cur.next = right.next;
        symbols[next_pos].len = 0;
        if (right.next > -1 && right.next < n) symbols[right.next].prev = top.pos;
        if (cur.prev >= 0)
            if (auto pm = merges_.find(symbols[cur.prev].id, cur.id)) push({cur.prev, pm->rank, pm->id});
        if (cur.next > -1 && cur.next < n)
            if (auto nm = merges_.find(cur.id, symbols[cur.next].id)) push({top.pos, nm->rank, nm->id});
    }
    for (const Symbol &s : symbols)
        if (s.len != 0) out.push_back(s.id);
}

namespace {
constexpr std::string_view kMarker = "\xE2\x96\x81"; // U+2581 "▁"
}

void BpeModel::prepare_marker_cuts() {
    if (byte_level_ || !prefix_.empty() || !suffix_.empty() || !find_id(vocab_, kMarker)) return;
    for (const auto &[tok, id] : vocab_) {
        for (std::size_t pos = tok.find(kMarker, 1); pos != std::string::npos; pos = tok.find(kMarker, pos + 1)) {
            std::size_t start = pos - 1;
            while (start > 0 && (static_cast<unsigned char>(tok[start]) & 0xC0) == 0x80) --start;
            std::string prev = tok.substr(start, pos - start);
            if (std::find(chars_before_marker_.begin(), chars_before_marker_.end(), prev) == chars_before_marker_.end())
                chars_before_marker_.push_back(prev);
        }
    }
    marker_cuts_ = true;
}

// A cut between `prev_char` and a following "▁" is invisible to BPE when no vocabulary token
// contains that pair (no merge can ever join across it) and prev_char is itself a token (so byte
// fallback / unk fusing cannot reach across either).
bool BpeModel::can_cut_before_marker(std::string_view prev_char) const {
    if (!find_id(vocab_, prev_char)) return false;
    return std::find(chars_before_marker_.begin(), chars_before_marker_.end(), prev_char) == chars_before_marker_.end();
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t> &out) const {
    if (word.empty()) return;
    if (marker_cuts_ && word.size() > kCacheMaxWordBytes && !ignore_merges_) {
        std::size_t seg = 0, prev_char = std::string_view::npos;
        for (std::size_t i = 0; i < word.size();) {
            std::size_t len = utf8::char_length(static_cast<unsigned char>(word[i]));
            if (i > seg && word.compare(i, kMarker.size(), kMarker) == 0 && prev_char != std::string_view::npos &&
                can_cut_before_marker(word.substr(prev_char, i - prev_char))) {
                tokenize_cached(word.substr(seg, i - seg), out);
                seg = i;
            }
            prev_char = i;
            i += len;
        }
        tokenize_cached(word.substr(seg), out);
        return;
    }
    tokenize_cached(word, out);
}

void BpeModel::tokenize_cached(std::string_view word, std::vector<int32_t> &out) const {
    if (word.empty()) return;
    if (ignore_merges_) {
        if (auto id = unit_vocab_.find(word)) {
            out.push_back(*id);
            return;
        }
    }
    if (word.size() > kCacheMaxWordBytes) {
        merge_word(word, out);
        return;
    }
    thread_local WordCache cache;
    if (cache.owner != cache_owner_ || cache.words.size() >= kCacheMaxWords) {
        cache.words.clear();
        cache.ids.clear();
        cache.owner = cache_owner_;
    }
    if (auto hit = cache.words.find(word)) {
        out.insert(out.end(), cache.ids.begin() + hit->first, cache.ids.begin() + hit->first + hit->second);
        return;
    }
    std::size_t start = out.size();
    merge_word(word, out);
    cache.words.insert_or_assign(word, {static_cast<uint32_t>(cache.ids.size()), static_cast<uint32_t>(out.size() - start)});
    cache.ids.insert(cache.ids.end(), out.begin() + start, out.end());
}

} // namespace llmhost::tok
