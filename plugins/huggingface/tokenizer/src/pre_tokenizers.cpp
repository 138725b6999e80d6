#include "pre_tokenizers.hpp"

#include "json_util.hpp"
#include "regex.hpp"

#include <algorithm>

namespace llmhost::tok {

using json_util::fail;

namespace {

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior parse_behavior(const std::string &s, const std::string &where) {
    if (s == "Removed") return Behavior::Removed;
    if (s == "Isolated") return Behavior::Isolated;
    if (s == "MergedWithPrevious") return Behavior::MergedWithPrevious;
    if (s == "MergedWithNext") return Behavior::MergedWithNext;
    if (s == "Contiguous") return Behavior::Contiguous;
    fail(where, "unknown split behavior '" + s + "'");
}

struct Span { uint32_t b, e; bool match; };

// Applies a delimiter behaviour to the (match / non-match) spans covering one piece; the rules
// are those of NormalizedString::split in the Rust library.
void apply_behavior(std::vector<Span> &spans, Behavior behavior, std::vector<Span> &out) {
    out.clear();
    switch (behavior) {
    case Behavior::Isolated:
        for (auto s : spans) out.push_back({s.b, s.e, false});
        break;
    case Behavior::Removed:
        for (auto s : spans) if (!s.match) out.push_back(s);
        break;
    case Behavior::Contiguous: {
        bool prev = false;
        for (auto s : spans) {
            if (s.match == prev && !out.empty()) out.back().e = s.e;
            else out.push_back({s.b, s.e, false});
            prev = s.match;
        }
        break;
    }
    case Behavior::MergedWithPrevious: {
        bool prev = false;
        for (auto s : spans) {
            if (s.match && !prev && !out.empty()) out.back().e = s.e;
            else out.push_back({s.b, s.e, false});
            prev = s.match;
        }
        break;
    }
    case Behavior::MergedWithNext: {
        bool prev = false;
        for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
            if (it->match && !prev && !out.empty()) out.back().b = it->b;
            else out.push_back({it->b, it->e, false});
            prev = it->match;
        }
        std::reverse(out.begin(), out.end());
        break;
    }
    }
}

class SplitPreTokenizer final : public PreTokenizer {
  public:
    SplitPreTokenizer(Regex re, Behavior behavior, bool invert)
        : re_(std::move(re)), behavior_(behavior), invert_(invert) {}
    void apply(Pieces &p) const override {
        thread_local std::vector<Pieces::Piece> next;
        thread_local std::vector<Span> spans, merged;
        next.clear();
        std::string_view text = p.text;
        for (const auto &piece : p.items) {
            std::string_view sub = text.substr(piece.begin, piece.end - piece.begin);
            if (behavior_ == Behavior::Isolated && !invert_) { // hot path: no span list needed
                uint32_t prev = 0;
                re_.scan(sub, [&](std::size_t b, std::size_t e) {
                    if (prev != b) next.push_back({piece.begin + prev, piece.begin + static_cast<uint32_t>(b), piece.at_origin && prev == 0});
                    next.push_back({piece.begin + static_cast<uint32_t>(b), piece.begin + static_cast<uint32_t>(e), piece.at_origin && b == 0});
                    prev = static_cast<uint32_t>(e);
                });
                if (prev != sub.size()) next.push_back({piece.begin + prev, piece.end, piece.at_origin && prev == 0});
                continue;
            }
            spans.clear();
            uint32_t prev = 0;
            re_.scan(sub, [&](std::size_t b, std::size_t e) {
                if (prev != b) spans.push_back({prev, static_cast<uint32_t>(b), invert_});
                spans.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e), !invert_});
                prev = static_cast<uint32_t>(e);
            });
            if (prev != sub.size()) spans.push_back({prev, static_cast<uint32_t>(sub.size()), invert_});
            apply_behavior(spans, behavior_, merged);
            for (auto s : merged)
                if (s.e > s.b) next.push_back({piece.begin + s.b, piece.begin + s.e, piece.at_origin && s.b == 0});
        }
        p.items.swap(next);
    }

  private:
    Regex re_;
    Behavior behavior_;
    bool invert_;
};

// Rebuilds the buffer, letting `edit` rewrite each piece (used by the pre-tokenizers that change
// text rather than only cut it).
template <typename Edit> void rewrite_pieces(Pieces &p, Edit &&edit) {
    std::string text;
    text.reserve(p.text.size() + p.items.size() * 3);
    std::vector<Pieces::Piece> items;
    items.reserve(p.items.size());
    for (const auto &piece : p.items) {
        auto begin = static_cast<uint32_t>(text.size());
        edit(std::string_view(p.text).substr(piece.begin, piece.end - piece.begin), piece, text);
        items.push_back({begin, static_cast<uint32_t>(text.size()), piece.at_origin});
    }
    p.text.swap(text);
    p.items.swap(items);
}

// Byte-level: the byte -> alphabet mapping is left to the model (it reads raw bytes); here only
// the optional prefix space and the optional GPT-2 split.
class ByteLevelPreTokenizer final : public PreTokenizer {
  public:
    ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
        if (use_regex)
            split_ = std::make_unique<SplitPreTokenizer>(
                Regex("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"),
                Behavior::Isolated, false);
    }
    void apply(Pieces &p) const override {
        if (add_prefix_space_)
            rewrite_pieces(p, [](std::string_view s, const Pieces::Piece &, std::string &out) {
                if (s.empty() || s[0] != ' ') out.push_back(' ');
                out.append(s);
            });
        if (split_) split_->apply(p);
    }
    bool byte_level() const override { return true; }

  private:
    bool add_prefix_space_;
    std::unique_ptr<SplitPreTokenizer> split_;
};

class MetaspacePreTokenizer final : public PreTokenizer {
  public:
    enum class Prepend { Always, First, Never };
    MetaspacePreTokenizer(std::string replacement, Prepend scheme, bool split)
        : replacement_(std::move(replacement)), scheme_(scheme) {
        if (split) split_ = std::make_unique<SplitPreTokenizer>(Regex::literal(replacement_), Behavior::MergedWithNext, false);
    }
    void apply(Pieces &p) const override {
        rewrite_pieces(p, [&](std::string_view s, const Pieces::Piece &piece, std::string &out) {
            std::size_t start = out.size();
            for (char c : s) {
                if (c == ' ') out.append(replacement_);
                else out.push_back(c);
            }
            bool starts = std::string_view(out).substr(start).starts_with(replacement_);
            if (!starts && (scheme_ == Prepend::Always || (scheme_ == Prepend::First && piece.at_origin)))
                out.insert(start, replacement_);
        });
        if (split_) split_->apply(p);
    }

  private:
    std::string replacement_;
    Prepend scheme_;
    std::unique_ptr<SplitPreTokenizer> split_;
};

class SequencePreTokenizer final : public PreTokenizer {
  public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
    void apply(Pieces &p) const override {
        for (const auto &part : parts_) part->apply(p);
    }
    bool byte_level() const override { return !parts_.empty() && parts_.back()->byte_level(); }

  private:
    std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

} // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json &j, const std::string &where) {
    if (j.is_null()) return nullptr;
    const std::string type = json_util::type_of(j, where);
    if (type == "Sequence") {
        const auto &list = json_util::member(j, where, "pretokenizers");
        std::vector<std::unique_ptr<PreTokenizer>> parts;
        for (std::size_t i = 0; i < list.size(); ++i) {
            std::string at = where + "/pretokenizers/" + std::to_string(i);
            auto part = make_pre_tokenizer(list[i], at);
            if (!part) continue;
            // The model reads raw bytes after ByteLevel, so nothing may look at the text after it.
            if (!parts.empty() && parts.back()->byte_level())
                fail(at, "a pre-tokenizer after ByteLevel is not supported");
            parts.push_back(std::move(part));
        }
        return std::make_unique<SequencePreTokenizer>(std::move(parts));
    }
    if (type == "Split") {
        std::string src = json_util::pattern_source(json_util::member(j, where, "pattern"), where + "/pattern");
        Behavior behavior = parse_behavior(json_util::get_string(j, where, "behavior"), where + "/behavior");
        try {
            return std::make_unique<SplitPreTokenizer>(Regex(src), behavior, json_util::get_bool(j, where, "invert", false));
        } catch (const std::invalid_argument &e) {
            fail(where + "/pattern", e.what());
        }
    }
    if (type == "ByteLevel")
        return std::make_unique<ByteLevelPreTokenizer>(json_util::get_bool(j, where, "add_prefix_space", true),
                                                       json_util::get_bool(j, where, "use_regex", true));
    if (type == "Metaspace") {
        std::string replacement = json_util::get_string(j, where, "replacement");
        auto scheme = MetaspacePreTokenizer::Prepend::Always;
        if (auto it = j.find("prepend_scheme"); it != j.end() && it->is_string()) {
            std::string s = *it;
            if (s == "first") scheme = MetaspacePreTokenizer::Prepend::First;
            else if (s == "never") scheme = MetaspacePreTokenizer::Prepend::Never;
            else if (s != "always") fail(where + "/prepend_scheme", "expected always, first or never");
        } else if (!json_util::get_bool(j, where, "add_prefix_space", true)) {
            scheme = MetaspacePreTokenizer::Prepend::Never; // older files
        }
        return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, json_util::get_bool(j, where, "split", true));
    }
    if (type == "Digits") {
        bool individual = json_util::get_bool(j, where, "individual_digits", false);
        return std::make_unique<SplitPreTokenizer>(Regex(individual ? "\\p{N}" : "\\p{N}+"), Behavior::Isolated, false);
    }
    fail(where + "/type", "pre-tokenizer '" + type +
                              "' is not supported (supported: Sequence, Split, ByteLevel, Metaspace, Digits)");
}

} // namespace llmhost::tok
