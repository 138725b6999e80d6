// The CLI's output path on its own: generated text arrives in pieces, and a secret split across
// two pieces must still be redacted (RedactingStream cuts at whitespace, which secrets never
// contain). stdout is captured into a temporary file for the duration of each check.
#include "console.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <unistd.h>

using llmhost::cli::Console;
using llmhost::cli::RedactingStream;

namespace {

// Runs f with stdout (fd 1) redirected to a temporary file; returns what was written.
template <class F> std::string capture_stdout(F f) {
    std::fflush(stdout);
    int saved = ::dup(1);
    std::FILE *tmp = std::tmpfile();
    REQUIRE(tmp);
    ::dup2(::fileno(tmp), 1);
    f();
    std::fflush(stdout);
    ::dup2(saved, 1);
    ::close(saved);
    std::rewind(tmp);
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, tmp)) out.append(buf, n);
    std::fclose(tmp);
    return out;
}

std::string redact_secret(std::string_view text) {
    const std::string secret = "hf_SPLITsecret0123456789";
    std::string s(text);
    for (size_t at; (at = s.find(secret)) != std::string::npos;) s.replace(at, secret.size(), "[redacted]");
    return s;
}

} // namespace

TEST_CASE("a secret split across streamed pieces is still redacted") {
    Console &console = Console::get();
    console.set_redactor(redact_secret);
    std::string out = capture_stdout([&] {
        RedactingStream stream(console);
        for (const char *piece : {"my token ", "is hf_SPLIT", "secret0123", "456789", " and more", "\n"})
            stream.write(piece);
    });
    console.set_redactor({});
    CHECK(out == "my token is [redacted] and more\n");
}

TEST_CASE("text is released at whitespace, the tail waits for the next piece or flush()") {
    Console &console = Console::get();
    console.set_redactor({});
    RedactingStream stream(console);
    std::string released = capture_stdout([&] { stream.write("hello wor"); });
    CHECK(released == "hello ");
    std::string rest = capture_stdout([&] {
        stream.write("ld");
        stream.flush();
    });
    CHECK(rest == "world");
}

TEST_CASE("without a redactor the console prints text unchanged") {
    Console &console = Console::get();
    console.set_redactor({});
    std::string out = capture_stdout([&] { console.out_line("plain hf_SPLITsecret0123456789"); });
    CHECK(out == "plain hf_SPLITsecret0123456789\n");
}
