// PCRE2 wrapper for the split and replace patterns of tokenizer.json. The Rust library uses
// Oniguruma for these; PCRE2 with UTF + UCP accepts the same syntax for the patterns found in
// real files (\p{L}, \p{N}, (?i:...), lookahead). Compiled once, JIT-compiled when available.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace llmhost::tok {

class Regex {
  public:
    // Throws std::invalid_argument with PCRE2's message and offset when the pattern is invalid.
    explicit Regex(const std::string &pattern);
    // A regex that matches `literal` exactly.
    static Regex literal(std::string_view literal);
    ~Regex();
    Regex(Regex &&) noexcept;
    Regex &operator=(Regex &&) noexcept;

    // Calls on_match(begin, end) for each non-overlapping match, left to right (empty matches are
    // skipped, as Oniguruma's find_iter in the Rust library never yields them here).
    void for_each_match(std::string_view subject,
                        const std::function<void(std::size_t, std::size_t)> &on_match) const;

    // Fast path used in the hot loop: fills `ends` with (begin,end) pairs.
    template <typename F> void scan(std::string_view subject, F &&on_match) const {
        std::size_t pos = 0;
        std::size_t b = 0, e = 0;
        while (pos <= subject.size() && find(subject, pos, b, e)) {
            if (e == b) { // empty match: step over one character
                pos = b + 1;
                while (pos < subject.size() && (static_cast<unsigned char>(subject[pos]) & 0xC0) == 0x80) ++pos;
                continue;
            }
            on_match(b, e);
            pos = e;
        }
    }

    const std::string &pattern() const { return pattern_; }

  private:
    Regex() = default;
    bool find(std::string_view subject, std::size_t from, std::size_t &begin, std::size_t &end) const;
    struct Code;
    std::unique_ptr<Code> code_;
    std::string pattern_;
};

std::string regex_escape(std::string_view literal);

} // namespace llmhost::tok
