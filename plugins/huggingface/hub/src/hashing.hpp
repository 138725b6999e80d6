// Streaming content verification with OpenSSL EVP: sha256 for LFS blobs (etag = sha256 of the
// content) and git's blob sha1 for small files (etag = sha1("blob <size>\0" + content)).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace llmhost::hub::detail {

class ContentHasher {
public:
    enum class Kind { none, sha256, git_sha1 };
    // Chooses the kind from the etag: 64 hex -> sha256, 40 hex -> git sha1, else none.
    static Kind kind_for_etag(const std::string &etag);

    ContentHasher(Kind kind, std::uint64_t total_size);
    ~ContentHasher();
    ContentHasher(ContentHasher &&) noexcept;
    ContentHasher &operator=(ContentHasher &&) noexcept;

    void reset(); // start over (a Range request answered 200)
    void update(std::string_view bytes);
    std::string hex_digest(); // lower-case hex; empty for Kind::none
    Kind kind() const { return kind_; }

private:
    Kind kind_;
    std::uint64_t total_;
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

std::string sha256_hex(std::string_view bytes);

} // namespace llmhost::hub::detail
