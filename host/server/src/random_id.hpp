// Random lower-case hex digits for the ids the server makes up (completion ids, request ids):
// unique enough to tell requests apart in logs and clients, not secrets.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace llmhost::server {

inline std::string random_hex(std::size_t digits) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(digits);
    while (out.size() < digits) {
        std::uint64_t v = rng();
        for (int k = 0; k < 16 && out.size() < digits; ++k, v <<= 4) out.push_back(kHex[v >> 60]);
    }
    return out;
}

} // namespace llmhost::server
