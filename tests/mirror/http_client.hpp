// A minimal blocking HTTP client for the mirror's tests (libcurl easy): one request, no redirects
// followed, every response header kept, so that the tests see exactly what the server sent.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace mirror_test {

struct Reply {
    long status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    int curl_code = 0;                            // 0 when the transfer completed
    std::string header(const std::string &lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? "" : it->second;
    }
    bool has(const std::string &lower_name) const { return headers.count(lower_name) != 0; }
};

// method: "GET" or "HEAD". extra_headers: "Name: value" lines.
Reply request(const std::string &method, const std::string &url, const std::vector<std::string> &extra_headers = {});
inline Reply get(const std::string &url, const std::vector<std::string> &h = {}) { return request("GET", url, h); }
inline Reply head(const std::string &url, const std::vector<std::string> &h = {}) { return request("HEAD", url, h); }

std::string sha256_hex(const std::string &data);
std::string git_blob_sha1(const std::string &data);

} // namespace mirror_test
