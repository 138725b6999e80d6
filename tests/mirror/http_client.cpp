#include "http_client.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace mirror_test {
namespace {

std::size_t on_body(char *data, std::size_t size, std::size_t n, void *user) {
    static_cast<std::string *>(user)->append(data, size * n);
    return size * n;
}

std::size_t on_header(char *data, std::size_t size, std::size_t n, void *user) {
    std::string line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon), value = line.substr(colon + 1);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        while (!value.empty() && (value.front() == ' ')) value.erase(value.begin());
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
        (*static_cast<std::map<std::string, std::string> *>(user))[name] = value;
    }
    return size * n;
}

std::string digest(const EVP_MD *md, const std::string &data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
    static const char *hex = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < len; ++i) {
        s += hex[out[i] >> 4];
        s += hex[out[i] & 15];
    }
    return s;
}

} // namespace

Reply request(const std::string &method, const std::string &url, const std::vector<std::string> &extra_headers) {
    Reply reply;
    CURL *curl = curl_easy_init();
    curl_slist *list = nullptr;
    for (auto &h : extra_headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
    reply.curl_code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return reply;
}

std::string sha256_hex(const std::string &data) { return digest(EVP_sha256(), data); }

std::string git_blob_sha1(const std::string &data) {
    std::string blob = "blob " + std::to_string(data.size());
    blob.push_back('\0');
    return digest(EVP_sha1(), blob + data);
}

} // namespace mirror_test
