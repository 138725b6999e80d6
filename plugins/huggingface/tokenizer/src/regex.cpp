#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.hpp"

#include <pcre2.h>

#include <stdexcept>

namespace llmhost::tok {

struct Regex::Code {
    pcre2_code *code = nullptr;
    bool jit = false;
    ~Code() { pcre2_code_free(code); }
};

namespace {
// One match-data block per thread, grown on demand: matching must not allocate per call, and a
// Tokenizer is used from several threads at once.
struct ThreadMatchData {
    pcre2_match_data *md = nullptr;
    ThreadMatchData() { md = pcre2_match_data_create(16, nullptr); }
    ~ThreadMatchData() { pcre2_match_data_free(md); }
};
pcre2_match_data *thread_match_data() {
    thread_local ThreadMatchData data;
    return data.md;
}
} // namespace

Regex::Regex(const std::string &pattern) : code_(std::make_unique<Code>()), pattern_(pattern) {
    int err = 0;
    PCRE2_SIZE off = 0;
    code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &off, nullptr);
    if (!code_->code) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(err, buf, sizeof buf);
        throw std::invalid_argument("invalid regex at offset " + std::to_string(off) + ": " +
                                    reinterpret_cast<const char *>(buf));
    }
    code_->jit = pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex Regex::literal(std::string_view literal) { return Regex(regex_escape(literal)); }

Regex::~Regex() = default;
Regex::Regex(Regex &&) noexcept = default;
Regex &Regex::operator=(Regex &&) noexcept = default;

bool Regex::find(std::string_view subject, std::size_t from, std::size_t &begin, std::size_t &end) const {
    pcre2_match_data *md = thread_match_data();
    auto subj = reinterpret_cast<PCRE2_SPTR>(subject.data());
    // The subject is valid UTF-8 (the tokenizer repairs input first), so skip PCRE2's check.
    int rc = code_->jit ? pcre2_jit_match(code_->code, subj, subject.size(), from, PCRE2_NO_UTF_CHECK, md, nullptr)
                        : pcre2_match(code_->code, subj, subject.size(), from, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) // pathological input: the interpreter uses the heap
        rc = pcre2_match(code_->code, subj, subject.size(), from, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(rc, buf, sizeof buf);
        throw std::runtime_error("regex match failed for /" + pattern_ + "/: " + reinterpret_cast<const char *>(buf));
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    begin = ov[0];
    end = ov[1];
    return true;
}

void Regex::for_each_match(std::string_view subject,
                           const std::function<void(std::size_t, std::size_t)> &on_match) const {
    scan(subject, on_match);
}

std::string regex_escape(std::string_view literal) {
    std::string out;
    for (char c : literal) {
        if (std::string_view("\\^$.|?*+()[]{}-/#&~ ").find(c) != std::string_view::npos) {
            if (c == ' ') { out += "\\x20"; continue; }
            out.push_back('\\');
        }
        out.push_back(c);
    }
    return out;
}

} // namespace llmhost::tok
