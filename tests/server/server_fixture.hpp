// Helpers of the server tests: a Host over the echo plugin built from an inline config file,
// a running llmhost::server::Server on an ephemeral loopback port, and a small synchronous
// HTTP client (Beast) that returns the status, headers and the whole (de-chunked) body.
#pragma once

#include <llmhost/host.hpp>
#include <llmhost/server/server.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llmhost::test {

struct HttpReply {
    int status = 0;
    std::map<std::string, std::string> headers; // names lower-cased
    std::string body;
    std::string error; // transport failure, empty when a response arrived
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
    std::string header(const std::string &n) const {
        auto it = headers.find(n);
        return it == headers.end() ? "" : it->second;
    }
};

// One request on a fresh connection. `bearer` empty: no Authorization header.
HttpReply http(unsigned short port, const std::string &method, const std::string &target,
               const std::string &body = "", const std::string &bearer = "",
               const std::string &host = "127.0.0.1");

// The data: payloads of an SSE body, in order.
std::vector<std::string> sse_data(const std::string &body);

// A config file in a fresh temporary directory; removed with the object.
class TempConfig {
public:
    explicit TempConfig(const nlohmann::json &config);
    ~TempConfig();
    std::string path() const { return path_.string(); }

private:
    std::filesystem::path dir_, path_;
};

// Host options that look only at the build's plugin directory.
HostOptions host_options(const std::string &config_path);

// An echo provider entry: {"plugin":"echo","config":{...}}.
nlohmann::json echo_entry(nlohmann::json config = nlohmann::json::object());

// Host + server on an ephemeral port, stopped in the destructor.
struct ServerFixture {
    explicit ServerFixture(const nlohmann::json &config, server::ServerOptions options = {});
    ~ServerFixture();
    TempConfig config;
    std::unique_ptr<Host> host;
    std::unique_ptr<server::Server> server;
    unsigned short port = 0;
    std::vector<std::string> log_lines() const;

private:
    std::shared_ptr<std::vector<std::string>> logs_;
    std::shared_ptr<std::mutex> logs_mutex_;
};

} // namespace llmhost::test
