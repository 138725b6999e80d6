#include "hashing.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace llmhost::mirror {
namespace {

struct MdCtxFree {
    void operator()(EVP_MD_CTX *ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

MdCtx begin(const EVP_MD *md) {
    MdCtx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
        throw std::runtime_error("OpenSSL: cannot initialise a digest");
    return ctx;
}

std::string finish(EVP_MD_CTX *ctx) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx, digest, &length);
    static const char *digits = "0123456789abcdef";
    std::string hex(length * 2, '0');
    for (unsigned i = 0; i < length; ++i) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    return hex;
}

void update_from_file(EVP_MD_CTX *ctx, const std::filesystem::path &file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file.string() + ": check that it exists and is readable");
    std::vector<char> chunk(1 << 20);
    while (in) {
        in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        if (in.gcount() > 0) EVP_DigestUpdate(ctx, chunk.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw std::runtime_error("read error in " + file.string());
}

std::string digest_of(const EVP_MD *md, std::string_view data) {
    MdCtx ctx = begin(md);
    EVP_DigestUpdate(ctx.get(), data.data(), data.size());
    return finish(ctx.get());
}

} // namespace

std::string sha1_hex(std::string_view data) { return digest_of(EVP_sha1(), data); }
std::string sha256_hex(std::string_view data) { return digest_of(EVP_sha256(), data); }

std::string git_blob_sha1_of_file(const std::filesystem::path &file, std::uint64_t size) {
    MdCtx ctx = begin(EVP_sha1());
    std::string header = "blob " + std::to_string(size);
    EVP_DigestUpdate(ctx.get(), header.data(), header.size() + 1);  // git hashes the header's NUL too
    update_from_file(ctx.get(), file);
    return finish(ctx.get());
}

std::string sha256_of_file(const std::filesystem::path &file) {
    MdCtx ctx = begin(EVP_sha256());
    update_from_file(ctx.get(), file);
    return finish(ctx.get());
}

std::string lfs_pointer_text(const std::string &sha256, std::uint64_t size) {
    return "version https://git-lfs.github.com/spec/v1\noid sha256:" + sha256 + "\nsize " + std::to_string(size) +
           "\n";
}

bool is_hex(std::string_view s, std::size_t length) {
    if (s.size() != length) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

} // namespace llmhost::mirror
