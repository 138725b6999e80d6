// bench/abi_overhead: what the plugin ABI costs.
//
//  1. Cost per streamed token, three ways, over the same work (the echo plugin's word loop):
//     - direct:  an equivalent echo loop compiled into this program, calling a C++ sink
//                (std::function) per token: what a provider linked into the application costs;
//     - ABI:     the real echo plugin (plugin.h, dlopen'd), one TEXT event (llmh_event through
//                request->on_event) per token;
//     - host:    the same plugin through llmhost::Host::generate (config, slot lookup,
//                serialization, text accumulation, the C++ TokenCallback).
//     Printed as ns/token, the ns added over direct, and the ratio. Target: < 1 µs added per token.
//  2. Swap latency: Host::swap of a live provider, N times: median and p99.
//
//   build/bin/llmhost_bench_abi_overhead [--tokens N] [--swaps N] [--repeat N] [--plugin PATH]
#include <llmhost/host.hpp>
#include <llmhost/plugin.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#ifndef ECHO_PLUGIN_PATH
#define ECHO_PLUGIN_PATH ""
#endif

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const char *kPrompt = "the quick brown fox jumps over the lazy dog";

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- 1a. direct: the echo plugin's loop, in process, with a C++ sink -------------------------

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

uint32_t count_words(const char *t) {
    uint32_t n = 0;
    while (*t) {
        while (*t && is_space(*t)) t++;
        if (*t) n++;
        while (*t && !is_space(*t)) t++;
    }
    return n;
}

using Sink = std::function<bool(std::string_view piece, uint32_t n_tokens)>;

// Same steps per token as examples/echo-plugin-c's generate with "loop": find the word and the
// whitespace after it, copy it into a fresh buffer, hand it to the sink.
[[gnu::noinline]] uint32_t echo_direct(const char *text, int32_t max_tokens, const Sink &sink) {
    uint32_t n = 0;
    const char *w = text;
    for (;;) {
        while (*w && is_space(*w)) w++;
        if (*w == '\0') {
            if (count_words(text) == 0) break; // as the plugin does when it wraps around
            w = text;
            continue;
        }
        if (static_cast<int32_t>(n) >= max_tokens) break;
        const char *end = w;
        while (*end && !is_space(*end)) end++;
        const char *next = end;
        while (*next && is_space(*next)) next++;
        bool join_space = *next == '\0' && next == end;
        size_t len = static_cast<size_t>(next - w);
        char *piece = static_cast<char *>(std::malloc(len + 2));
        std::memcpy(piece, w, len);
        if (join_space) piece[len++] = ' ';
        piece[len] = '\0';
        ++n;
        bool go_on = sink(std::string_view(piece, len), n);
        std::free(piece);
        if (!go_on) break;
        w = next;
    }
    return n;
}

// ---- 1b. ABI: the echo plugin through plugin.h only ------------------------------------------

// The host services the echo plugin uses: its config ("/loop" -> true) and nothing else.
int64_t svc_get_config(void *, const char *pointer, char *buf, size_t cap) {
    const char *v = std::strcmp(pointer, "/loop") == 0 ? "true" : nullptr;
    if (!v) return -1;
    size_t n = std::strlen(v);
    if (n < cap) std::memcpy(buf, v, n + 1);
    return static_cast<int64_t>(n);
}
int64_t svc_get_secret(void *, const char *, char *, size_t) { return -1; }
void svc_log(void *, llmh_log_level, const char *) {}
int svc_progress(void *, const char *, uint64_t, uint64_t) { return 0; }

struct Counter {
    uint64_t bytes = 0;
    uint32_t tokens = 0;
};

int on_event_c(void *user, const llmh_event *e) {
    auto *c = static_cast<Counter *>(user);
    if (e->type != LLMH_EVENT_TEXT) return 0;
    c->bytes += e->text_len;
    c->tokens = e->n_tokens;
    return 0;
}

class DirectPlugin {
public:
    explicit DirectPlugin(const std::string &path) {
        lib_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!lib_) throw std::runtime_error(std::string("dlopen: ") + ::dlerror());
        auto entry = reinterpret_cast<llmh_plugin_entry_fn>(::dlsym(lib_, LLMH_PLUGIN_ENTRY_NAME));
        if (!entry) throw std::runtime_error(path + ": no " LLMH_PLUGIN_ENTRY_NAME);
        services_ = {sizeof(llmh_host_services),
                     nullptr,
                     svc_get_secret,
                     svc_get_config,
                     svc_log,
                     svc_progress};
        llmh_error err;
        llmh_error_init(&err);
        if (entry(LLMH_ABI_MAJOR, LLMH_ABI_MINOR, &services_, &plugin_, &err) != LLMH_OK)
            throw std::runtime_error(err.message);
        if (plugin_->create("{\"loop\":true}", &services_, &provider_, &err) != LLMH_OK)
            throw std::runtime_error(err.message);
    }
    ~DirectPlugin() {
        if (provider_) plugin_->destroy(provider_);
        if (lib_) ::dlclose(lib_);
    }
    Counter generate(int32_t max_tokens) {
        Counter c;
        llmh_params params = llmh_default_params();
        params.max_tokens = max_tokens;
        params.stream = 1;
        llmh_request req{};
        req.struct_size = sizeof req;
        req.prompt = kPrompt;
        req.params = &params;
        req.parallel_tool_calls = -1;
        req.on_event = on_event_c;
        req.user = &c;
        llmh_result res{};
        res.struct_size = sizeof res;
        llmh_error err;
        llmh_error_init(&err);
        if (plugin_->generate(provider_, &req, &res, &err) != LLMH_OK)
            throw std::runtime_error(err.message);
        return c;
    }

private:
    void *lib_ = nullptr;
    llmh_host_services services_{};
    const llmh_plugin *plugin_ = nullptr;
    llmh_provider *provider_ = nullptr;
};

// ---- helpers ------------------------------------------------------------------------------------

template <class F>
double best_ns_per_token(int repeat, uint32_t tokens, F run) {
    double best = 1e300;
    for (int i = 0; i < repeat; ++i) {
        auto t0 = Clock::now();
        uint32_t got = run();
        double s = seconds_since(t0);
        if (got != tokens) {
            std::fprintf(stderr, "abi_overhead: expected %u tokens, got %u\n", tokens, got);
            std::exit(1);
        }
        best = std::min(best, s * 1e9 / tokens);
    }
    return best;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

struct Args {
    uint32_t tokens = 2'000'000;
    int swaps = 200;
    int repeat = 5;
    std::string plugin = ECHO_PLUGIN_PATH;
};

Args parse_args(int argc, char **argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "abi_overhead: %s needs a value\n", k.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (k == "--tokens")
            a.tokens = static_cast<uint32_t>(std::stoul(value()));
        else if (k == "--swaps")
            a.swaps = std::stoi(value());
        else if (k == "--repeat")
            a.repeat = std::stoi(value());
        else if (k == "--plugin")
            a.plugin = value();
        else {
            std::fprintf(stderr,
                         "usage: %s [--tokens N] [--swaps N] [--repeat N] [--plugin PATH]\n",
                         argv[0]);
            std::exit(k == "--help" || k == "-h" ? 0 : 2);
        }
    }
    if (a.tokens == 0 || a.swaps < 2 || a.repeat < 1) {
        std::fprintf(stderr, "abi_overhead: --tokens >= 1, --swaps >= 2, --repeat >= 1\n");
        std::exit(2);
    }
    return a;
}

} // namespace

int main(int argc, char **argv) {
    Args args = parse_args(argc, argv);
    if (args.plugin.empty() || !fs::exists(args.plugin)) {
        std::fprintf(stderr,
                     "abi_overhead: echo plugin not found at '%s' (build examples/echo-plugin-c, "
                     "or --plugin PATH)\n",
                     args.plugin.c_str());
        return 1;
    }
    const auto max_tokens = static_cast<int32_t>(args.tokens);
    std::printf("abi_overhead: %u tokens per run, best of %d runs, echo plugin %s\n", args.tokens,
                args.repeat, args.plugin.c_str());

    // 1a. direct
    Counter direct_counter;
    Sink sink = [&direct_counter](std::string_view piece, uint32_t n) {
        direct_counter.bytes += piece.size();
        direct_counter.tokens = n;
        return true;
    };
    double direct = best_ns_per_token(args.repeat, args.tokens,
                                      [&] { return echo_direct(kPrompt, max_tokens, sink); });

    // 1b. ABI
    DirectPlugin plugin(args.plugin);
    double abi = best_ns_per_token(args.repeat, args.tokens,
                                   [&] { return plugin.generate(max_tokens).tokens; });

    // 1c. through the host, from a config file naming the same plugin
    std::string tmpl = (fs::temp_directory_path() / "llmhost-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
        std::perror("mkdtemp");
        return 1;
    }
    fs::path dir = tmpl;
    fs::path config = dir / "llmhost.json";
    std::ofstream(config) << R"({"default_provider": "echo",
      "providers": {"echo": {"plugin": "echo", "config": {"loop": true}}}})";
    llmhost::HostOptions options;
    options.config_path = config.string();
    options.plugin_dirs = {fs::path(args.plugin).parent_path().string()};
    options.search_default_plugin_dirs = false;
    options.log_level = LLMH_LOG_WARN;
    std::unique_ptr<llmhost::Host> host;
    try {
        host = llmhost::Host::open(options);
    } catch (const llmhost::HostError &e) {
        std::fprintf(stderr, "abi_overhead: %s\n", e.what());
        return 1;
    }
    llmhost::GenerateRequest request;
    request.prompt = kPrompt;
    request.max_tokens = max_tokens;
    Counter host_counter;
    llmhost::TokenCallback on_token = [&host_counter](std::string_view piece, uint32_t n) {
        host_counter.bytes += piece.size();
        host_counter.tokens = n;
        return true;
    };
    double through_host = best_ns_per_token(args.repeat, args.tokens, [&] {
        return host->generate("echo", request, on_token).completion_tokens;
    });

    std::printf("\ncost per streamed token (lower is better)\n");
    std::printf("  direct C++ call (in-process echo, std::function sink) %8.1f ns/token\n", direct);
    std::printf("  ABI callback (echo plugin via plugin.h, dlopen)       %8.1f ns/token   +%.1f "
                "ns/token, %.2fx direct\n",
                abi, abi - direct, abi / direct);
    std::printf("  through the host (Host::generate, same plugin)        %8.1f ns/token   +%.1f "
                "ns/token, %.2fx direct\n",
                through_host, through_host - direct, through_host / direct);
    double worst_added = std::max(abi, through_host) - direct;
    std::printf("  target: < 1000 ns added per token: %s (worst: %.1f ns added)\n",
                worst_added < 1000.0 ? "met" : "NOT met", worst_added);

    // 2. swap latency: replace the live provider with a new instance, N times.
    std::vector<double> swap_us;
    swap_us.reserve(static_cast<size_t>(args.swaps));
    llmhost::GenerateRequest small;
    small.prompt = "ping";
    small.max_tokens = 1;
    for (int i = 0; i < args.swaps; ++i) {
        nlohmann::json entry = {{"plugin", "echo"},
                                {"config", {{"loop", true}, {"instance_id", std::to_string(i)}}}};
        auto t0 = Clock::now();
        host->swap("echo", entry);
        swap_us.push_back(seconds_since(t0) * 1e6);
        host->generate("echo", small); // the new instance serves
    }
    auto providers = host->providers();
    uint64_t generation = 0;
    for (const auto &p : providers)
        if (p.name == "echo") generation = p.generation;
    double med = percentile(swap_us, 0.5), p99 = percentile(swap_us, 0.99);
    std::printf(
        "\nswap latency (Host::swap of a live provider, %d swaps, %llu instances created)\n",
        args.swaps, static_cast<unsigned long long>(generation));
    std::printf("  median %.1f us, p99 %.1f us, max %.1f us; median = %.0f streamed tokens through "
                "the host\n",
                med, p99, *std::max_element(swap_us.begin(), swap_us.end()),
                med * 1000.0 / through_host);
    host.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
    return 0;
}
