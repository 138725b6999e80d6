// A scriptable fake OpenAI endpoint for the plugin's tests (Boost.Beast, synchronous, one thread
// per connection, 127.0.0.1 on an ephemeral port). Each request is answered by the handler given
// to the constructor, which can inject faults: error statuses with retry headers, streams that
// drop mid-event, malformed SSE, answers that never come.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace llmhost::test {

struct FakeRequest {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers; // names lower-cased
    std::string body;
    std::string header(const std::string &name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

struct FakeReply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;                   // a plain answer (Content-Length)
    bool sse = false;                   // a chunked text/event-stream answer made of `pieces`
    std::vector<std::string> pieces;    // each sent as one HTTP chunk, flushed
    int piece_delay_ms = 0;
    bool drop = false;                  // close the connection before the last chunk
    bool hang = false;                  // never answer (until the server stops)

    static FakeReply json(int status, std::string body) {
        FakeReply r;
        r.status = status;
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = std::move(body);
        return r;
    }
    static FakeReply stream(std::vector<std::string> pieces) {
        FakeReply r;
        r.sse = true;
        r.pieces = std::move(pieces);
        return r;
    }
};

class FakeOpenAiServer {
public:
    // `index` counts requests from 0 across all connections.
    using Handler = std::function<FakeReply(const FakeRequest &, int index)>;
    explicit FakeOpenAiServer(Handler handler);
    ~FakeOpenAiServer();

    std::string base_url() const; // http://127.0.0.1:<port>/v1
    unsigned short port() const { return port_; }
    std::vector<FakeRequest> requests() const;
    int request_count() const { return count_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    unsigned short port_ = 0;
    std::atomic<int> count_{0};
};

} // namespace llmhost::test
