#include "metadata.hpp"

#include <charconv>

namespace llmhost::hub::detail {

// As huggingface_hub's _normalize_etag (file_download.py): etag.lstrip("W/").strip('"'), and no
// case change: it names the blob by the ETag as sent, so we keep the case too and both clients
// share one blob in a shared cache. Only hex names are then accepted (validate.hpp) and the
// checksum is compared without regard to case (downloader.cpp).
std::string normalize_etag(std::string etag) {
    std::size_t i = 0;
    while (i < etag.size() && (etag[i] == 'W' || etag[i] == '/')) ++i; // lstrip("W/")
    etag = etag.substr(i);
    while (!etag.empty() && etag.front() == '"') etag.erase(etag.begin());
    while (!etag.empty() && etag.back() == '"') etag.pop_back();
    return etag;
}

static std::optional<std::uint64_t> to_u64(const std::optional<std::string> &s) {
    if (!s) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || p == s->data()) return std::nullopt;
    return v;
}

bool is_relative_redirect(const net::Response &r) {
    if (r.status < 300 || r.status >= 400) return false;
    auto loc = r.headers.get("Location");
    return loc && !loc->empty() && (*loc)[0] == '/' && loc->substr(0, 2) != "//";
}

std::optional<FileMetadata> parse_file_metadata(const net::Response &r, const std::string &request_url) {
    FileMetadata m;
    m.commit = r.headers.get("X-Repo-Commit").value_or("");
    // `X-Linked-Etag or ETag` in huggingface_hub: an empty X-Linked-Etag falls back too.
    auto etag = r.headers.get("X-Linked-Etag");
    if (!etag || etag->empty()) etag = r.headers.get("ETag");
    m.etag = normalize_etag(etag.value_or(""));
    bool redirect = r.status >= 300 && r.status < 400;
    auto size = to_u64(r.headers.get("X-Linked-Size"));
    if (!size && !redirect) size = to_u64(r.headers.get("Content-Length"));
    auto loc = r.headers.get("Location");
    m.location = loc ? net::resolve_url(request_url, *loc) : request_url;
    if (m.commit.empty() || m.etag.empty() || !size) return std::nullopt;
    m.size = *size;
    return m;
}

} // namespace llmhost::hub::detail
