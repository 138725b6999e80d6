#include "openai_client.hpp"

#include "errors.hpp"
#include "retry_rules.hpp"
#include "wire.hpp"

#include <condition_variable>
#include <deque>
#include <memory>
#include <thread>

namespace llmhost::openai {
namespace {

constexpr std::size_t kMaxErrorBody = 64 * 1024;
constexpr std::size_t kMaxBody = 64ull * 1024 * 1024;
constexpr auto kPollInterval = std::chrono::milliseconds(20);

// What the transport's io thread hands to the calling thread.
struct Channel {
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::string> chunks;
    bool have_headers = false;
    int status = 0;
    net::Headers headers;
    std::optional<net::Response> done;
};

llmh::Error cancelled_error() {
    return {LLMH_ERR_CANCELLED, "request cancelled by the caller"};
}

} // namespace

struct OpenAiClient::Attempt {
    int status = 0;
    net::Headers headers;
    std::string body;            // the whole body (non-streamed or non-2xx)
    net::Error error = net::Error::none;
    std::string error_message;
    bool stream_started = false; // a 2xx stream delivered at least one byte
};

OpenAiClient::OpenAiClient(ClientConfig config, llmh::Host host)
    : config_(std::move(config)), host_(host),
      http_([] {
          net::ClientOptions o;
          o.user_agent = "llmhost-openai/0.1";
          o.max_connections_per_host = 256; // many concurrent streams to one local server
          o.max_total_connections = 512;
          return o;
      }()) {}

net::Request OpenAiClient::make_request(const std::string &method, const std::string &path,
                                        const std::string &body, bool stream,
                                        int retry_count) const {
    net::Request r;
    r.method = method;
    r.url = config_.base_url + path;
    r.body = body;
    r.timeouts.connect = config_.connect_timeout;
    r.timeouts.total = config_.timeout;
    r.bearer_token = config_.api_key; // sent only to base_url's origin; never logged by llmhost::net
    if (!body.empty()) r.headers.add("Content-Type", "application/json");
    r.headers.add("Accept", "application/json"); // the SDKs send it also when streaming
    if (stream) r.headers.add("Cache-Control", "no-cache");
    if (!config_.organization.empty()) r.headers.add("OpenAI-Organization", config_.organization);
    if (!config_.project.empty()) r.headers.add("OpenAI-Project", config_.project);
    r.headers.add("X-Stainless-Retry-Count", std::to_string(retry_count));
    return r;
}

void OpenAiClient::run_attempt(Attempt &a, net::Request request, const EventFn *on_event,
                               const CancelFn &cancelled) {
    auto ch = std::make_shared<Channel>();
    net::Handlers h;
    h.on_headers = [ch](int status, const net::Headers &headers) {
        std::lock_guard lk(ch->m);
        ch->have_headers = true;
        ch->status = status;
        ch->headers = headers;
        return true;
    };
    h.on_data = [ch](std::string_view chunk) {
        {
            std::lock_guard lk(ch->m);
            ch->chunks.emplace_back(chunk);
        }
        ch->cv.notify_one();
        return true;
    };
    h.on_complete = [ch](const net::Response &r) {
        {
            std::lock_guard lk(ch->m);
            ch->done = r;
        }
        ch->cv.notify_one();
    };
    net::Transfer transfer = http_.start(std::move(request), std::move(h));

    SseParser parser;
    try {
        for (;;) {
            std::deque<std::string> chunks;
            bool finished = false;
            {
                std::unique_lock lk(ch->m);
                ch->cv.wait_for(lk, kPollInterval, [&] { return !ch->chunks.empty() || ch->done; });
                chunks.swap(ch->chunks);
                finished = ch->done.has_value();
                if (ch->have_headers) {
                    a.status = ch->status;
                    a.headers = ch->headers;
                }
            }
            if (cancelled && cancelled()) throw cancelled_error();
            // An endpoint may answer a stream request with one JSON document (some proxies and
            // servers ignore "stream"): that body is collected and decoded as a whole.
            const bool streaming = on_event && a.status >= 200 && a.status < 300 &&
                                   a.headers.get("content-type").value_or("").find("json") == std::string::npos;
            for (auto &c : chunks) {
                if (streaming) {
                    a.stream_started = true;
                    parser.feed(c, *on_event);
                } else {
                    if (a.status >= 200 && a.status < 300 && a.body.size() + c.size() > kMaxBody)
                        throw llmh::Error(LLMH_ERR_NETWORK, "the response from " + config_.base_url +
                                                                " is larger than 64 MiB",
                                          "check that base_url points at an OpenAI-compatible server");
                    if (a.body.size() < kMaxErrorBody || (a.status >= 200 && a.status < 300))
                        a.body += c; // an error body is kept only as far as it explains the error
                }
            }
            if (finished && chunks.empty()) {
                std::lock_guard lk(ch->m);
                if (!ch->chunks.empty()) continue; // bytes raced in with on_complete
                a.error = ch->done->error;
                a.error_message = ch->done->error_message;
                if (ch->done->status) a.status = ch->done->status;
                return;
            }
        }
    } catch (...) {
        transfer.cancel(); // the handlers own `ch`, so nothing dangles after we leave
        throw;
    }
}

void OpenAiClient::wait_before_retry(std::chrono::milliseconds delay, const CancelFn &cancelled) {
    auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until) {
        if (cancelled && cancelled()) throw cancelled_error();
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            kPollInterval, until - std::chrono::steady_clock::now()));
    }
}

std::string OpenAiClient::run(const std::string &method, const std::string &path,
                              const std::string &body, const std::string &model,
                              const EventFn *on_event, const CancelFn &cancelled) {
    const std::string where = config_.base_url + path;
    for (int retries = 0;; ++retries) {
        Attempt a;
        run_attempt(a, make_request(method, path, body, on_event != nullptr, retries), on_event,
                    cancelled);
        const bool can_retry = retries < config_.max_retries && !a.stream_started;
        if (a.error == net::Error::cancelled) throw cancelled_error();
        if (a.error != net::Error::none && a.error != net::Error::aborted) {
            if (a.stream_started)
                throw llmh::Error(LLMH_ERR_NETWORK,
                                  "the stream from " + where + " broke off: " + a.error_message,
                                  "the endpoint closed the connection mid-response; retry the request");
            if (can_retry && net::is_retryable_error(a.error)) {
                std::chrono::milliseconds d;
                {
                    std::lock_guard lk(rng_mutex_);
                    d = retry_delay(retries, {}, rng_);
                }
                host_.debug("openai: " + where + ": " + a.error_message + "; retrying in " +
                            std::to_string(d.count()) + " ms");
                wait_before_retry(d, cancelled);
                continue;
            }
            const bool timeout = a.error == net::Error::timeout;
            throw llmh::Error(timeout ? LLMH_ERR_TIMEOUT : LLMH_ERR_NETWORK,
                              "cannot reach " + where + ": " + a.error_message,
                              timeout ? "the endpoint did not answer in time; raise timeout_s in the "
                                        "provider's config or try later"
                                      : "check base_url and that the server is running");
        }
        auto request_id = a.headers.get("x-request-id").value_or("");
        host_.debug("openai: " + method + " " + where + " -> " + std::to_string(a.status) +
                    (request_id.empty() ? "" : " (request id " + request_id + ")"));
        if (a.status >= 200 && a.status < 300) return std::move(a.body);
        if (can_retry && should_retry_status(a.status, a.headers)) {
            std::chrono::milliseconds d;
            {
                std::lock_guard lk(rng_mutex_);
                d = retry_delay(retries, a.headers, rng_);
            }
            host_.info("openai: " + where + " answered " + std::to_string(a.status) +
                       "; retry " + std::to_string(retries + 1) + " of " +
                       std::to_string(config_.max_retries) + " in " + std::to_string(d.count()) + " ms");
            wait_before_retry(d, cancelled);
            continue;
        }
        HttpFailure f{a.status, a.body, 0, request_id};
        if (auto ra = net::parse_retry_after(a.headers)) f.retry_after_s = ra->count() / 1000.0;
        std::vector<std::string> models;
        if (is_model_not_found(f) && path != "/models") models = model_ids_for_hint();
        throw map_http_failure(f, config_.base_url, model, models);
    }
}

std::string OpenAiClient::post(const std::string &path, const std::string &body,
                               const std::string &model, const CancelFn &cancelled) {
    return run("POST", path, body, model, nullptr, cancelled);
}

std::optional<std::string> OpenAiClient::post_stream(const std::string &path, const std::string &body,
                                                     const std::string &model, const EventFn &on_event,
                                                     const CancelFn &cancelled) {
    std::string whole = run("POST", path, body, model, &on_event, cancelled);
    if (whole.empty()) return std::nullopt;
    return whole;
}

std::string OpenAiClient::get(const std::string &path, const CancelFn &cancelled) {
    return run("GET", path, "", "", nullptr, cancelled);
}

std::vector<std::string> OpenAiClient::model_ids_for_hint() {
    try {
        std::vector<std::string> ids;
        for (auto &m : decode_models(get("/models", nullptr))) ids.push_back(std::move(m.id));
        return ids;
    } catch (const std::exception &) {
        return {};
    }
}

} // namespace llmhost::openai
