#include "normalizers.hpp"

#include "json_util.hpp"
#include "regex.hpp"
#include "unicode_nfc.hpp"
#include "utf8.hpp"

#include <vector>

namespace llmhost::tok {

using json_util::fail;

namespace {

class SequenceNormalizer final : public Normalizer {
  public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
    void normalize(std::string &text) const override {
        for (const auto &p : parts_) p->normalize(text);
    }

  private:
    std::vector<std::unique_ptr<Normalizer>> parts_;
};

// Prepends a string to non-empty text (Llama-2's "▁").
class PrependNormalizer final : public Normalizer {
  public:
    explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
    void normalize(std::string &text) const override {
        if (!text.empty()) text.insert(0, prefix_);
    }

  private:
    std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
  public:
    ReplaceNormalizer(Regex pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
    void normalize(std::string &text) const override {
        std::string out;
        std::size_t last = 0;
        bool any = false;
        pattern_.scan(text, [&](std::size_t b, std::size_t e) {
            if (!any) { out.reserve(text.size() + text.size() / 4); any = true; }
            out.append(text, last, b - last);
            out.append(content_);
            last = e;
        });
        if (!any) return;
        out.append(text, last, std::string::npos);
        text.swap(out);
    }

  private:
    Regex pattern_;
    std::string content_;
};

class NfcNormalizer final : public Normalizer {
  public:
    void normalize(std::string &text) const override {
        if (!nfc_quick_check(text)) text = nfc(text);
    }
};

// Removes Unicode white space on the left and/or right.
class StripNormalizer final : public Normalizer {
  public:
    StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
    void normalize(std::string &text) const override {
        static const Regex leading("^\\p{White_Space}+"), trailing("\\p{White_Space}+\\z"); // Rust: char::is_whitespace
        if (right_) {
            std::size_t cut = text.size();
            trailing.scan(text, [&](std::size_t b, std::size_t) { cut = b; });
            text.resize(cut);
        }
        if (left_) {
            std::size_t cut = 0;
            leading.scan(text, [&](std::size_t, std::size_t e) { cut = e; });
            text.erase(0, cut);
        }
    }

  private:
    bool left_, right_;
};

} // namespace

std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json &j, const std::string &where) {
    if (j.is_null()) return nullptr;
    const std::string type = json_util::type_of(j, where);
    if (type == "Sequence") {
        const auto &list = json_util::member(j, where, "normalizers");
        std::vector<std::unique_ptr<Normalizer>> parts;
        for (std::size_t i = 0; i < list.size(); ++i)
            if (auto n = make_normalizer(list[i], where + "/normalizers/" + std::to_string(i))) parts.push_back(std::move(n));
        return std::make_unique<SequenceNormalizer>(std::move(parts));
    }
    if (type == "Prepend") return std::make_unique<PrependNormalizer>(json_util::get_string(j, where, "prepend"));
    if (type == "Replace") {
        std::string src = json_util::pattern_source(json_util::member(j, where, "pattern"), where + "/pattern");
        try {
            return std::make_unique<ReplaceNormalizer>(Regex(src), json_util::get_string(j, where, "content"));
        } catch (const std::invalid_argument &e) {
            fail(where + "/pattern", e.what());
        }
    }
    if (type == "NFC") return std::make_unique<NfcNormalizer>();
    if (type == "Strip")
        return std::make_unique<StripNormalizer>(json_util::get_bool(j, where, "strip_left", true),
                                                 json_util::get_bool(j, where, "strip_right", true));
    fail(where + "/type", "normalizer '" + type +
                              "' is not supported (supported: Sequence, Prepend, Replace, NFC, Strip)");
}

std::string json_util::pattern_source(const nlohmann::json &j, const std::string &where) {
    if (j.is_object()) {
        if (auto it = j.find("String"); it != j.end() && it->is_string()) return regex_escape(it->get<std::string>());
        if (auto it = j.find("Regex"); it != j.end() && it->is_string()) return it->get<std::string>();
    }
    fail(where, "expected {\"String\": ...} or {\"Regex\": ...}");
}

} // namespace llmhost::tok
