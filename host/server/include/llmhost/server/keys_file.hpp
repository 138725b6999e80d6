// The keys file of `llmhost serve --keys-file`: one client key per line, stored hashed, with the
// providers (or routes) it may use and its limits. Written by `llmhost keys add`, read by the
// server at start and on SIGHUP. See docs/serving.md ("Keys with scopes").
//
//   # name   hash                                    scope              limits
//   alice    sha256$<salt base64>$<digest base64>    providers=local    rpm=60 tpm=100000
//   ci-bot   sha256$...$...                          providers=*        rpm=600
//
// Hash scheme: "sha256$<salt>$<SHA-256(salt || key)>", a 16-byte random salt per key. The keys
// are 256-bit random tokens (llmhost keys add makes them; --stdin refuses short ones), so a slow
// password hash (PBKDF2, bcrypt) buys nothing against brute force, while it would cost every
// request its iterations. The salt keeps equal keys from having equal lines.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::server {

struct KeyEntry {
    std::string name;                   // [A-Za-z0-9._-]{1,64}: metrics and the request log
    std::string hash;                   // "sha256$<salt>$<digest>", as in the file
    std::vector<std::string> providers; // provider or route names; "*": every provider
    uint32_t rpm = 0;                   // requests per minute (generations), >= 1
    uint64_t tpm = 0;                   // tokens per minute (prompt + completion); 0: no limit
    int line = 0;                       // where it was read (0: not from a file)

    bool allows(std::string_view provider) const;
};

// A refused keys file: "<file>:<line>: <what is wrong>; fix: <how>".
struct KeysFileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct KeysFile {
    std::vector<KeyEntry> entries;
    std::vector<std::string> warnings; // e.g. readable by every user
};

// Bounds of a hostile file.
inline constexpr std::size_t kMaxKeysFileBytes = 4u << 20;
inline constexpr std::size_t kMaxKeyEntries = 10'000;
inline constexpr uint32_t kMaxRpm = 1'000'000;
inline constexpr uint64_t kMaxTpm = 10'000'000'000ull;
inline constexpr std::size_t kMinKeyLength = 32; // a key read with --stdin

// Parses the text of a keys file; `where` names it in errors. Throws KeysFileError on the first
// problem (a whole file or nothing). `allow_empty`: no entries is not an error (keys add on a
// new file).
KeysFile parse_keys_file(std::string_view text, const std::string &where, bool allow_empty = false);
// Reads and parses `path`: a regular file, not writable by other users, at most
// kMaxKeysFileBytes; readable by other users gives a warning.
KeysFile load_keys_file(const std::string &path, bool allow_empty = false);

// The file line of `e` (no newline).
std::string format_key_entry(const KeyEntry &e);

// "sha256$<fresh salt>$<digest>" of `key`.
std::string hash_key(std::string_view key);
// Whether `key` hashes to `hash` (a well-formed sha256 string); constant time in the digest.
bool verify_key(std::string_view key, std::string_view hash);
// The salt and digest of a well-formed hash (false: malformed), and SHA-256(salt || key): the
// server decodes each entry once and compares digests per request.
bool decode_key_hash(std::string_view hash, std::string &salt, std::string &digest);
std::string salted_digest(std::string_view salt, std::string_view key);
// A fresh random key: "llmh-" and 43 base64url characters (256 bits).
std::string generate_key();

bool valid_key_name(std::string_view name); // [A-Za-z0-9._-]{1,64}, not a reserved name

} // namespace llmhost::server
