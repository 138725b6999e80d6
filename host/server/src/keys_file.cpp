// The keys file (see keys_file.hpp): parsing and validation of a hostile file, and the hash
// scheme. Every refusal names file:line and the fix.
#include <llmhost/server/keys_file.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace llmhost::server {

namespace {

constexpr std::string_view kScheme = "sha256";
constexpr std::size_t kSaltBytes = 16, kDigestBytes = 32, kMaxLine = 8192;
constexpr std::string_view kHashFix =
    "make the line with `llmhost keys add` (it stores sha256$<salt>$<digest>, never the key)";

std::string b64(const unsigned char *data, std::size_t n) {
    std::string out(4 * ((n + 2) / 3), '\0');
    int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()), data, static_cast<int>(n));
    out.resize(static_cast<std::size_t>(len));
    return out;
}

// Standard base64 with padding; nullopt-like empty result with ok=false on anything else.
bool unb64(std::string_view in, std::string &out) {
    if (in.empty() || in.size() % 4) return false;
    for (std::size_t i = 0; i < in.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(in[i]);
        bool pad_ok = c == '=' && i >= in.size() - 2 && (i == in.size() - 1 || in.back() == '=');
        if (!std::isalnum(c) && c != '+' && c != '/' && !pad_ok) return false;
    }
    out.assign(3 * in.size() / 4, '\0');
    int len = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                              reinterpret_cast<const unsigned char *>(in.data()),
                              static_cast<int>(in.size()));
    if (len < 0) return false;
    std::size_t pad = in.back() == '=' ? (in[in.size() - 2] == '=' ? 2 : 1) : 0;
    out.resize(static_cast<std::size_t>(len) - pad);
    return true;
}

std::string digest(std::string_view salt, std::string_view key) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
              EVP_DigestUpdate(ctx, salt.data(), salt.size()) == 1 &&
              EVP_DigestUpdate(ctx, key.data(), key.size()) == 1 &&
              EVP_DigestFinal_ex(ctx, md, &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) throw std::runtime_error("SHA-256 failed (OpenSSL)");
    return std::string(reinterpret_cast<char *>(md), len);
}

struct ParsedHash {
    std::string salt, digest;
};

// Splits "sha256$<salt>$<digest>"; the error says what is wrong (empty: fine).
std::string parse_hash(std::string_view h, ParsedHash &out) {
    auto d1 = h.find('$');
    if (d1 == std::string_view::npos)
        return "the second field is not a hash (no '$'): it looks like a plain key, and keys are "
               "never stored plain";
    std::string_view scheme = h.substr(0, d1);
    if (scheme != kScheme)
        return "unknown hash scheme '" + std::string(scheme.substr(0, 32)) +
               "' (supported: sha256)";
    auto d2 = h.find('$', d1 + 1);
    if (d2 == std::string_view::npos || h.find('$', d2 + 1) != std::string_view::npos)
        return "a sha256 hash has the form sha256$<salt base64>$<digest base64>";
    if (!unb64(h.substr(d1 + 1, d2 - d1 - 1), out.salt) || out.salt.size() < 8 ||
        out.salt.size() > 64)
        return "the salt is not base64 of 8 to 64 bytes";
    if (!unb64(h.substr(d2 + 1), out.digest) || out.digest.size() != kDigestBytes)
        return "the digest is not base64 of 32 bytes (a SHA-256)";
    return {};
}

bool name_char(unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; }

bool digits_after(std::string_view s, std::string_view prefix) {
    if (s.size() <= prefix.size() || s.substr(0, prefix.size()) != prefix) return false;
    return std::all_of(s.begin() + static_cast<long>(prefix.size()), s.end(),
                       [](unsigned char c) { return std::isdigit(c); });
}

bool valid_provider(std::string_view p) {
    if (p == "*") return true;
    if (p.empty() || p.size() > 128) return false;
    return std::all_of(p.begin(), p.end(), [](unsigned char c) {
        return c > 0x20 && c < 0x7f && c != ',' && c != '*';
    });
}

template <class T>
bool parse_number(std::string_view s, T &out) {
    if (s.empty() || s.size() > 20) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

} // namespace

bool KeyEntry::allows(std::string_view provider) const {
    return std::any_of(providers.begin(), providers.end(),
                       [&](const std::string &p) { return p == "*" || p == provider; });
}

bool valid_key_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    if (!std::all_of(name.begin(), name.end(), [](unsigned char c) { return name_char(c); }))
        return false;
    // The server's own key names (plain keys, admin keys, no key, a wrong key) stay distinct.
    return name != "none" && name != "invalid" && !digits_after(name, "key_") &&
           !digits_after(name, "admin_");
}

KeysFile parse_keys_file(std::string_view text, const std::string &where, bool allow_empty) {
    KeysFile out;
    std::map<std::string, int> names, hashes;
    int lineno = 0;
    auto fail = [&](const std::string &what, std::string_view fix) {
        throw KeysFileError(where + ":" + std::to_string(lineno) + ": " + what +
                            "; fix: " + std::string(fix));
    };
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > kMaxLine)
            fail("line longer than " + std::to_string(kMaxLine) + " bytes",
                 "one entry per line: NAME HASH providers=a,b rpm=N [tpm=N]");
        for (unsigned char c : line)
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                fail("control character in the line", "the file is plain ASCII text");
        auto f = fields_of(line);
        if (f.empty() || f[0][0] == '#') continue;
        if (out.entries.size() >= kMaxKeyEntries)
            fail("more than " + std::to_string(kMaxKeyEntries) + " entries",
                 "split the users over several servers or share keys between them");
        if (f.size() < 4)
            fail("an entry has at least four fields, this line has " + std::to_string(f.size()),
                 "NAME HASH providers=a,b rpm=N [tpm=N] (llmhost keys add writes it)");
        KeyEntry e;
        e.line = lineno;
        e.name = std::string(f[0]);
        if (!valid_key_name(e.name))
            // Not echoed: a line with a pasted key in the wrong place must not print it.
            fail("the first field is not a valid key name",
                 "names use letters, digits, '.', '_' and '-' (at most 64), and are not none, "
                 "invalid, key_<n> or admin_<n>");
        if (auto it = names.find(e.name); it != names.end())
            fail("duplicate name '" + e.name + "' (first on line " + std::to_string(it->second) +
                     ")",
                 "give each key its own name: the name is how metrics and the log tell keys apart");
        ParsedHash ph;
        if (auto why = parse_hash(f[1], ph); !why.empty()) fail(why, kHashFix);
        e.hash = std::string(f[1]);
        if (auto it = hashes.find(e.hash); it != hashes.end())
            fail("the same hash as line " + std::to_string(it->second),
                 "one key per entry: make a new key with `llmhost keys add`");
        bool have_providers = false, have_rpm = false, have_tpm = false;
        for (std::size_t i = 2; i < f.size(); ++i) {
            auto eq = f[i].find('=');
            std::string_view k = f[i].substr(0, eq);
            std::string_view v = eq == std::string_view::npos ? "" : f[i].substr(eq + 1);
            if (eq == std::string_view::npos || v.empty())
                fail("field " + std::to_string(i + 1) + " is not NAME=VALUE",
                     "write providers=a,b rpm=N tpm=N");
            if (k == "providers") {
                if (have_providers) fail("providers= given twice", "give it once, comma-separated");
                have_providers = true;
                std::size_t s = 0;
                while (s <= v.size()) {
                    std::size_t c = v.find(',', s);
                    if (c == std::string_view::npos) c = v.size();
                    std::string_view p = v.substr(s, c - s);
                    if (!valid_provider(p))
                        fail("bad provider name '" + std::string(p.substr(0, 64)) +
                                 "' in providers=",
                             "a comma-separated list of provider or route names, or * for all");
                    e.providers.emplace_back(p);
                    s = c + 1;
                }
                if (e.providers.size() > 256)
                    fail("more than 256 providers", "use providers=* for all of them");
            } else if (k == "rpm") {
                if (have_rpm) fail("rpm= given twice", "give it once");
                have_rpm = true;
                if (!parse_number(v, e.rpm) || e.rpm < 1 || e.rpm > kMaxRpm)
                    fail("rpm=" + std::string(v.substr(0, 24)) + " is not a number from 1 to " +
                             std::to_string(kMaxRpm),
                         "requests per minute, e.g. rpm=60");
            } else if (k == "tpm") {
                if (have_tpm) fail("tpm= given twice", "give it once");
                have_tpm = true;
                if (!parse_number(v, e.tpm) || e.tpm < 1 || e.tpm > kMaxTpm)
                    fail("tpm=" + std::string(v.substr(0, 24)) + " is not a number from 1 to " +
                             std::to_string(kMaxTpm),
                         "tokens per minute, e.g. tpm=100000, or leave it out for no limit");
            } else {
                fail("unknown field '" + std::string(k.substr(0, 40)) + "'",
                     "the fields after the hash are providers=, rpm= and tpm=");
            }
        }
        if (!have_providers) fail("no providers= field", "add providers=a,b (or providers=*)");
        if (!have_rpm)
            fail("no rpm= field", "add rpm=N, the requests per minute this key may make");
        names[e.name] = lineno;
        hashes[e.hash] = lineno;
        out.entries.push_back(std::move(e));
    }
    if (out.entries.empty() && !allow_empty)
        throw KeysFileError(where +
                            ": no keys in the file, so nobody could use the server; fix: "
                            "add one with `llmhost keys add --name NAME --providers P "
                            "--rpm N --file " +
                            where + "`");
    return out;
}

KeysFile load_keys_file(const std::string &path, bool allow_empty) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw KeysFileError(path + ": cannot read the keys file: " + std::strerror(errno) +
                            "; fix: give the path of a file written by `llmhost keys add`");
    if (!S_ISREG(st.st_mode))
        throw KeysFileError(path + ": not a regular file; fix: give the keys file itself");
    if (st.st_mode & S_IWOTH)
        throw KeysFileError(path +
                            ": writable by every user, so anyone could add a key; fix: "
                            "chmod 600 " +
                            path);
    if (static_cast<std::size_t>(st.st_size) > kMaxKeysFileBytes)
        throw KeysFileError(path + ": larger than " + std::to_string(kMaxKeysFileBytes >> 20) +
                            " MiB; fix: this is not a keys file, or split it");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw KeysFileError(path + ": cannot open the keys file; fix: check its permissions");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (text.size() > kMaxKeysFileBytes) // grew between stat and read
        throw KeysFileError(path + ": larger than the limit; fix: this is not a keys file");
    KeysFile kf = parse_keys_file(text, path, allow_empty);
    if (st.st_mode & S_IROTH)
        kf.warnings.push_back(path +
                              " is readable by every user (it holds key hashes, which "
                              "only help an attacker guess weak keys); chmod 600 " +
                              path);
    return kf;
}

std::string format_key_entry(const KeyEntry &e) {
    std::string providers;
    for (const auto &p : e.providers) providers += (providers.empty() ? "" : ",") + p;
    std::string line =
        e.name + " " + e.hash + " providers=" + providers + " rpm=" + std::to_string(e.rpm);
    if (e.tpm) line += " tpm=" + std::to_string(e.tpm);
    return line;
}

std::string hash_key(std::string_view key) {
    unsigned char salt[kSaltBytes];
    if (RAND_bytes(salt, sizeof salt) != 1) throw std::runtime_error("no random bytes (OpenSSL)");
    std::string s(reinterpret_cast<char *>(salt), sizeof salt);
    std::string d = digest(s, key);
    return std::string(kScheme) + "$" + b64(salt, sizeof salt) + "$" +
           b64(reinterpret_cast<const unsigned char *>(d.data()), d.size());
}

bool verify_key(std::string_view key, std::string_view hash) {
    ParsedHash ph;
    if (!parse_hash(hash, ph).empty()) return false;
    std::string d = digest(ph.salt, key);
    return CRYPTO_memcmp(d.data(), ph.digest.data(), kDigestBytes) == 0;
}

bool decode_key_hash(std::string_view hash, std::string &salt, std::string &digest_out) {
    ParsedHash ph;
    if (!parse_hash(hash, ph).empty()) return false;
    salt = std::move(ph.salt);
    digest_out = std::move(ph.digest);
    return true;
}

std::string salted_digest(std::string_view salt, std::string_view key) { return digest(salt, key); }

std::string generate_key() {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no random bytes (OpenSSL)");
    std::string k = b64(raw, sizeof raw);
    while (!k.empty() && k.back() == '=') k.pop_back();
    for (auto &c : k) c = c == '+' ? '-' : c == '/' ? '_' : c; // base64url: safe in headers
    return "llmh-" + k;
}

} // namespace llmhost::server
