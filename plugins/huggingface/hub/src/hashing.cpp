#include "hashing.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace llmhost::hub::detail {

struct ContentHasher::Ctx {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(md); }
};

// Either case: huggingface_hub keeps the ETag's case as the blob name (see metadata.cpp).
static bool all_hex(const std::string &s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    return true;
}

ContentHasher::Kind ContentHasher::kind_for_etag(const std::string &etag) {
    if (!all_hex(etag)) return Kind::none;
    if (etag.size() == 64) return Kind::sha256;
    if (etag.size() == 40) return Kind::git_sha1;
    return Kind::none;
}

ContentHasher::ContentHasher(Kind kind, std::uint64_t total_size) : kind_(kind), total_(total_size) {
    if (kind_ != Kind::none) {
        ctx_ = std::make_unique<Ctx>();
        if (!ctx_->md) throw std::bad_alloc();
        reset();
    }
}

ContentHasher::~ContentHasher() = default;
ContentHasher::ContentHasher(ContentHasher &&) noexcept = default;
ContentHasher &ContentHasher::operator=(ContentHasher &&) noexcept = default;

void ContentHasher::reset() {
    if (kind_ == Kind::none) return;
    EVP_DigestInit_ex(ctx_->md, kind_ == Kind::sha256 ? EVP_sha256() : EVP_sha1(), nullptr);
    if (kind_ == Kind::git_sha1) {
        std::string header = "blob " + std::to_string(total_);
        EVP_DigestUpdate(ctx_->md, header.data(), header.size() + 1); // includes the NUL
    }
}

void ContentHasher::update(std::string_view bytes) {
    if (kind_ != Kind::none && !bytes.empty()) EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size());
}

std::string ContentHasher::hex_digest() {
    if (kind_ == Kind::none) return {};
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_->md, out, &n);
    static const char *hex = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < n; ++i) {
        s += hex[out[i] >> 4];
        s += hex[out[i] & 15];
    }
    return s;
}

std::string sha256_hex(std::string_view bytes) {
    ContentHasher h(ContentHasher::Kind::sha256, bytes.size());
    h.update(bytes);
    return h.hex_digest();
}

} // namespace llmhost::hub::detail
