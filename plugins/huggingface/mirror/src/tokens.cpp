#include "tokens.hpp"

#include "hashing.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace llmhost::mirror {

TokenRegistry TokenRegistry::load(const std::filesystem::path &file) {
    auto fail = [&](const std::string &what) {
        throw std::runtime_error("tokens file " + file.string() + ": " + what +
                                 " (expected {\"tokens\": [{\"name\", \"token\", \"role\": \"read|write\", "
                                 "\"user\", \"repos\": [...]}]}; see docs/deployment.md)");
    };
    std::ifstream in(file, std::ios::binary);
    if (!in) fail("cannot be read: check the path and its permissions");
    std::ostringstream text;
    text << in.rdbuf();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::exception &) {
        fail("is not valid JSON");  // the parser's message could quote a token: not repeated
    }
    if (!j.is_object() || !j.contains("tokens") || !j["tokens"].is_array()) fail("has no \"tokens\" list");
    TokenRegistry registry;
    std::set<std::string> names, digests;
    for (std::size_t i = 0; i < j["tokens"].size(); ++i) {
        const auto &t = j["tokens"][i];
        std::string where = "entry " + std::to_string(i);
        if (!t.is_object()) fail(where + " is not an object");
        auto str = [&](const char *key, bool required) -> std::string {
            if (!t.contains(key)) {
                if (required) fail(where + " lacks \"" + key + "\"");
                return "";
            }
            if (!t[key].is_string() || t[key].get<std::string>().empty())
                fail(where + ": \"" + key + "\" must be a non-empty string");
            return t[key].get<std::string>();
        };
        TokenEntry entry;
        entry.name = str("name", true);
        where = "token \"" + entry.name + "\"";
        std::string value = str("token", true);
        entry.role = t.contains("role") ? str("role", false) : "read";
        if (entry.role != "read" && entry.role != "write") fail(where + ": \"role\" must be \"read\" or \"write\"");
        entry.user = t.contains("user") ? str("user", false) : entry.name;
        if (t.contains("repos")) {
            if (!t["repos"].is_array()) fail(where + ": \"repos\" must be a list of repo ids or globs");
            for (auto &r : t["repos"]) {
                if (!r.is_string()) fail(where + ": \"repos\" must be a list of repo ids or globs");
                entry.repos.push_back(r.get<std::string>());
            }
        }
        for (auto &k : t.items())
            if (k.key() != "name" && k.key() != "token" && k.key() != "role" && k.key() != "user" && k.key() != "repos")
                fail(where + ": unknown key \"" + k.key() + "\"");
        entry.digest = sha256_hex(value);
        if (!names.insert(entry.name).second) fail(where + " is listed twice");
        if (!digests.insert(entry.digest).second) fail(where + " has the same token value as another entry");
        registry.entries_.push_back(std::move(entry));
    }
    return registry;
}

const TokenEntry *TokenRegistry::match(std::string_view presented) const {
    // Digests have a fixed length, so the comparison time depends on neither the value nor its length;
    // every entry is compared so that the time does not reveal which one matched.
    std::string digest = sha256_hex(presented);
    const TokenEntry *found = nullptr;
    for (const auto &entry : entries_)
        if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) found = &entry;
    return found;
}

std::optional<std::string> bearer_token(std::string_view authorization) {
    constexpr std::string_view scheme = "bearer ";
    if (authorization.size() <= scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return std::nullopt;
    std::string token(authorization.substr(scheme.size()));
    while (!token.empty() && token.front() == ' ') token.erase(token.begin());
    while (!token.empty() && token.back() == ' ') token.pop_back();
    if (token.empty()) return std::nullopt;
    return token;
}

namespace {
bool granted(const Repo &repo, const TokenEntry &token) {
    if (std::find(repo.granted_tokens.begin(), repo.granted_tokens.end(), token.name) != repo.granted_tokens.end())
        return true;
    std::string id = (repo.type == RepoType::dataset ? "datasets/" : "") + repo.id;
    for (const auto &glob : token.repos)
        if (fnmatch(glob.c_str(), id.c_str(), 0) == 0) return true;
    return false;
}
} // namespace

Decision decide_access(const Repo &repo, const TokenEntry *token, bool files) {
    switch (repo.access) {
    case Access::public_repo:
        return Decision::allow;
    case Access::private_repo:
        if (!token) return Decision::repo_not_found_401;
        return granted(repo, *token) ? Decision::allow : Decision::repo_not_found_404;
    case Access::gated:
        if (!files) return Decision::allow;
        if (!token) return Decision::gated_401;
        return granted(repo, *token) ? Decision::allow : Decision::gated_403;
    }
    return Decision::repo_not_found_404;
}

} // namespace llmhost::mirror
