#include "server_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <random>

namespace llmhost::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http_ns = beast::http;
using tcp = asio::ip::tcp;

HttpReply http(unsigned short port, const std::string &method, const std::string &target,
               const std::string &body, const std::string &bearer, const std::string &host) {
    HttpReply out;
    try {
        asio::io_context ioc;
        beast::tcp_stream stream(ioc);
        stream.expires_after(std::chrono::seconds(30));
        stream.connect(tcp::endpoint(asio::ip::make_address(host), port));
        http_ns::request<http_ns::string_body> req(http_ns::string_to_verb(method), target, 11);
        req.set(http_ns::field::host, host);
        if (!bearer.empty()) req.set(http_ns::field::authorization, "Bearer " + bearer);
        if (!body.empty() || method == "POST") {
            req.set(http_ns::field::content_type, "application/json");
            req.body() = body;
        }
        req.prepare_payload();
        http_ns::write(stream, req);
        beast::flat_buffer buf;
        http_ns::response_parser<http_ns::string_body> parser;
        parser.body_limit(256u << 20);
        http_ns::read(stream, buf, parser);
        auto res = parser.release();
        out.status = static_cast<int>(res.result_int());
        for (const auto &f : res) {
            std::string n(f.name_string());
            std::transform(n.begin(), n.end(), n.begin(), ::tolower);
            out.headers[n] = std::string(f.value());
        }
        out.body = res.body();
        beast::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    } catch (const std::exception &e) {
        out.error = e.what();
    }
    return out;
}

std::vector<std::string> sse_data(const std::string &body) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while ((pos = body.find("data: ", pos)) != std::string::npos) {
        std::size_t end = body.find("\n\n", pos);
        if (end == std::string::npos) break;
        out.push_back(body.substr(pos + 6, end - pos - 6));
        pos = end + 2;
    }
    return out;
}

TempConfig::TempConfig(const nlohmann::json &config) {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("llmhost-server-test-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "llmhost.json";
    std::ofstream(path_) << config.dump(2);
}

TempConfig::~TempConfig() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

HostOptions host_options(const std::string &config_path) {
    HostOptions o;
    o.config_path = config_path;
    o.plugin_dirs = {LLMHOST_TEST_PLUGIN_DIR, LLMHOST_SERVER_TEST_PLUGIN_DIR};
    o.search_default_plugin_dirs = false;
    o.log_level = LLMH_LOG_WARN;
    return o;
}

nlohmann::json echo_entry(nlohmann::json config) {
    return {{"plugin", "echo"}, {"config", std::move(config)}};
}

ServerFixture::ServerFixture(const nlohmann::json &cfg, server::ServerOptions options)
    : config(cfg), logs_(std::make_shared<std::vector<std::string>>()),
      logs_mutex_(std::make_shared<std::mutex>()) {
    host = Host::open(host_options(config.path()));
    options.host = "127.0.0.1";
    options.port = 0;
    options.log = [logs = logs_, m = logs_mutex_](std::string_view line) {
        std::lock_guard lk(*m);
        logs->emplace_back(line);
    };
    server = std::make_unique<server::Server>(*host, options);
    server->start();
    port = server->port();
}

ServerFixture::~ServerFixture() {
    server.reset(); // before the host it serves
    host.reset();
}

std::vector<std::string> ServerFixture::log_lines() const {
    std::lock_guard lk(*logs_mutex_);
    return *logs_;
}

} // namespace llmhost::test
