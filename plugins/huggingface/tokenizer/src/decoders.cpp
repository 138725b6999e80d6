#include "decoders.hpp"

#include "byte_level.hpp"
#include "json_util.hpp"
#include "regex.hpp"
#include "utf8.hpp"

namespace llmhost::tok {

using json_util::fail;

namespace {

// Tokens spelled in the byte alphabet become their bytes; a token with any other character (an
// added token such as "<｜begin▁of▁sentence｜>") is kept as written. One lossy UTF-8 string results.
class ByteLevelDecoder final : public Decoder {
  public:
    void decode_chain(std::vector<std::string> &tokens) const override {
        std::string bytes;
        for (const auto &t : tokens) {
            if (auto raw = byte_level::decode_token(t)) bytes += *raw;
            else bytes += t;
        }
        tokens.assign(1, utf8::is_valid(bytes) ? std::move(bytes) : utf8::lossy(bytes));
    }
};

class MetaspaceDecoder final : public Decoder {
  public:
    MetaspaceDecoder(std::string replacement, bool strip_first) : replacement_(std::move(replacement)), strip_first_(strip_first) {}
    void decode_chain(std::vector<std::string> &tokens) const override {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            std::string out;
            std::string_view t = tokens[i];
            for (std::size_t k = 0; k < t.size();) {
                if (t.substr(k).starts_with(replacement_)) {
                    if (!(i == 0 && strip_first_)) out.push_back(' ');
                    k += replacement_.size();
                } else {
                    out.push_back(t[k++]);
                }
            }
            tokens[i].swap(out);
        }
    }

  private:
    std::string replacement_;
    bool strip_first_;
};

// Runs of <0xNN> tokens become the bytes they name; an invalid run becomes one U+FFFD per byte.
class ByteFallbackDecoder final : public Decoder {
  public:
    void decode_chain(std::vector<std::string> &tokens) const override {
        std::vector<std::string> out;
        std::string pending;
        std::size_t pending_count = 0;
        auto flush = [&] {
            if (!pending_count) return;
            if (utf8::is_valid(pending)) out.push_back(pending);
            else for (std::size_t i = 0; i < pending_count; ++i) out.emplace_back("\xEF\xBF\xBD");
            pending.clear();
            pending_count = 0;
        };
        for (auto &t : tokens) {
            if (auto b = byte_of(t)) {
                pending.push_back(static_cast<char>(*b));
                ++pending_count;
            } else {
                flush();
                out.push_back(std::move(t));
            }
        }
        flush();
        tokens.swap(out);
    }

  private:
    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    // "<0xNN>" -> NN (what u8::from_str_radix accepts, including "+N").
    static std::optional<uint8_t> byte_of(const std::string &t) {
        if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return std::nullopt;
        if (t[3] == '+') {
            int lo = hex(t[4]);
            return lo < 0 ? std::nullopt : std::optional<uint8_t>(static_cast<uint8_t>(lo));
        }
        int hi = hex(t[3]), lo = hex(t[4]);
        if (hi < 0 || lo < 0) return std::nullopt;
        return static_cast<uint8_t>(hi * 16 + lo);
    }
};

class FuseDecoder final : public Decoder {
  public:
    void decode_chain(std::vector<std::string> &tokens) const override {
        std::string all;
        for (const auto &t : tokens) all += t;
        tokens.assign(1, std::move(all));
    }
};

// Removes up to `start` leading and `stop` trailing copies of one character from each token.
class StripDecoder final : public Decoder {
  public:
    StripDecoder(std::string content, std::size_t start, std::size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
    void decode_chain(std::vector<std::string> &tokens) const override {
        for (auto &t : tokens) {
            std::string_view s = t;
            for (std::size_t i = 0; i < start_ && s.starts_with(content_); ++i) s.remove_prefix(content_.size());
            for (std::size_t i = 0; i < stop_ && s.ends_with(content_); ++i) s.remove_suffix(content_.size());
            t = std::string(s);
        }
    }

  private:
    std::string content_;
    std::size_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
  public:
    ReplaceDecoder(Regex pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
    void decode_chain(std::vector<std::string> &tokens) const override {
        for (auto &t : tokens) {
            std::string out;
            std::size_t last = 0;
            pattern_.scan(t, [&](std::size_t b, std::size_t e) {
                out.append(t, last, b - last);
                out += content_;
                last = e;
            });
            out.append(t, last, std::string::npos);
            t.swap(out);
        }
    }

  private:
    Regex pattern_;
    std::string content_;
};

class SequenceDecoder final : public Decoder {
  public:
    explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
    void decode_chain(std::vector<std::string> &tokens) const override {
        for (const auto &p : parts_) p->decode_chain(tokens);
    }

  private:
    std::vector<std::unique_ptr<Decoder>> parts_;
};

std::size_t get_size(const nlohmann::json &j, const std::string &where, const char *key) {
    const auto &v = json_util::member(j, where, key);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
        fail(where + "/" + key, "expected a non-negative integer");
    return v.get<std::size_t>();
}

} // namespace

std::unique_ptr<Decoder> make_decoder(const nlohmann::json &j, const std::string &where) {
    if (j.is_null()) return nullptr;
    const std::string type = json_util::type_of(j, where);
    if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
    if (type == "Metaspace") {
        bool strip_first = true;
        if (auto it = j.find("prepend_scheme"); it != j.end() && it->is_string()) strip_first = *it != "never";
        else strip_first = json_util::get_bool(j, where, "add_prefix_space", true);
        return std::make_unique<MetaspaceDecoder>(json_util::get_string(j, where, "replacement"), strip_first);
    }
    if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
    if (type == "Fuse") return std::make_unique<FuseDecoder>();
    if (type == "Strip") {
        std::string content = json_util::get_string(j, where, "content");
        std::size_t n = 0;
        for (std::size_t i = 0; i < content.size(); i += utf8::char_length(static_cast<unsigned char>(content[i]))) ++n;
        if (n != 1) fail(where + "/content", "expected a single character");
        return std::make_unique<StripDecoder>(content, get_size(j, where, "start"), get_size(j, where, "stop"));
    }
    if (type == "Replace") {
        std::string src = json_util::pattern_source(json_util::member(j, where, "pattern"), where + "/pattern");
        try {
            return std::make_unique<ReplaceDecoder>(Regex(src), json_util::get_string(j, where, "content"));
        } catch (const std::invalid_argument &e) {
            fail(where + "/pattern", e.what());
        }
    }
    if (type == "Sequence") {
        const auto &list = json_util::member(j, where, "decoders");
        std::vector<std::unique_ptr<Decoder>> parts;
        for (std::size_t i = 0; i < list.size(); ++i)
            if (auto d = make_decoder(list[i], where + "/decoders/" + std::to_string(i))) parts.push_back(std::move(d));
        return std::make_unique<SequenceDecoder>(std::move(parts));
    }
    fail(where + "/type", "decoder '" + type +
                              "' is not supported (supported: ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, Sequence)");
}

} // namespace llmhost::tok
