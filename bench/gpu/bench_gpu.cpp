// bench_gpu: the huggingface engine on a GPU against the bandwidth bound and transformers.
//
//   bench_gpu [--config 1b|small] [--device cuda|cpu] [--dir DIR] [--prompt 16] [--decode 128]
//             [--long-prompt 2048] [--streams 8,32] [--stream-decode 64] [--peer 1|0]
//             [--profile TOKENS] [--json FILE]
//
// The model has Llama-3.2-1B's shapes (hidden 2048, intermediate 8192, 16 layers, 32 query and 8
// KV heads of 64, vocab 128256, tied embeddings, RoPE theta 500000) with random bf16 weights
// written by tools/tiny_model into DIR (default /tmp/llmhost-bench-gpu/<config>) on the first
// run; `--config small` is a model small enough to practise the whole run on a CPU
// (tools/gpu/run-all.sh --dry-run). In one run:
//   - the device's copy bandwidth: a device-to-device at::Tensor copy, bytes read + written per
//     second, best of 10 rounds of 5 copies;
//   - decode at batch 1 (greedy, --decode tokens after --prompt), best of 3, next to its bound:
//     copy bandwidth / bytes one step reads (weights as computed on + the KV cache at the mean
//     position: bench/generate/roofline.cpp);
//   - prefill of a --long-prompt prompt, best of 2;
//   - aggregate tok/s of --streams concurrent requests (continuous batching, max_batch = the
//     largest count), each --stream-decode tokens after a 32-token prompt, after one untimed run
//     of the same shape (where the CUDA graphs it needs are captured);
//   - transformers' eager generate() on the same directory and prompt (transformers_peer.py), in a
//     child process after the engine is released; skipped, with the reason, when python3 lacks
//     torch or transformers.
//   - with --profile N: N batch-1 tokens, and one run of the largest stream count, under torch's
//     profiler (step_profile.hpp): the device time per token or step by kernel name, next to the
//     wall time, so the gap between them (launches, syncs, host work) shows;
//   - on CUDA, llmhost's batch-1 bf16 GEMV (models/cuda/) against cuBLAS (at::matmul) on the
//     step's matrix shapes: weight GB/s of each and their share of the copy bandwidth;
// Then the targets (decode >= 85 % of the bound and >= 3x transformers; 32 streams >= 10x
// batch-1 decode), each "met" or "missed".
#include "../../plugins/huggingface/models/device_gemv.hpp"
#include "args.hpp" // bench/common
#include "prompts.hpp"
#include "roofline.hpp"
#if LLMHOST_BENCH_PROFILE
#include "step_profile.hpp"
#endif
#include "streams.hpp"
#include "tiny_model.hpp"

#include <llmhost/engine/engine.hpp>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/wait.h>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

llmhost::tools::TinyModelSpec spec_for(const std::string &config) {
    llmhost::tools::TinyModelSpec s;
    s.arch = "llama";
    s.seed = 32;
    s.dtype = "BF16";
    s.tie_word_embeddings = true;
    s.rope_theta = 500000.0;
    if (config == "1b") { // meta-llama/Llama-3.2-1B's config.json
        s.vocab_size = 128256;
        s.hidden_size = 2048;
        s.intermediate_size = 8192;
        s.num_layers = 16;
        s.num_heads = 32;
        s.num_kv_heads = 8;
        s.head_dim = 64;
        s.max_position_embeddings = 131072;
    } else if (config == "small") {
        s.vocab_size = 32000;
        s.hidden_size = 256;
        s.intermediate_size = 704;
        s.num_layers = 4;
        s.num_heads = 8;
        s.num_kv_heads = 2;
        s.max_position_embeddings = 8192;
    } else {
        throw std::invalid_argument("--config must be 1b or small, got '" + config + "'");
    }
    return s;
}

// Bytes per second of `work` (bytes_per_call each), best of `rounds` rounds of `calls` calls,
// after one untimed call; `sync` (a read back) waits for the device around each round.
double best_rate(const std::function<void()> &work, const std::function<void()> &sync,
                 double bytes_per_call, int rounds, int calls) {
    work();
    sync();
    double best = 0;
    for (int r = 0; r < rounds; ++r) {
        const auto t0 = Clock::now();
        for (int i = 0; i < calls; ++i) work();
        sync();
        best = std::max(best, calls * bytes_per_call / seconds_since(t0));
    }
    return best;
}

// Bytes read + written per second by a device-to-device copy of `bytes`, best of 10 rounds of 5
// copies.
double copy_bandwidth(const at::Device &device, std::int64_t bytes) {
    const auto opts = at::TensorOptions().dtype(at::kByte).device(device);
    at::Tensor a = at::ones({bytes}, opts), b = at::empty({bytes}, opts);
    return best_rate([&] { b.copy_(a); }, [&] { (void)b[bytes - 1].item<std::uint8_t>(); },
                     2.0 * double(bytes), 10, 5);
}

// Runs the peer and returns its JSON line, or {"skipped": why}.
json run_peer(const fs::path &dir, const std::string &device, int prompt, int decode) {
    const std::string cmd = std::string("python3 '") + LLMHOST_BENCH_PEER + "' --dir '" +
                            dir.string() + "' --device " + device + " --prompt " +
                            std::to_string(prompt) + " --decode " + std::to_string(decode) +
                            " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return {{"skipped", "could not start python3"}};
    std::string out, last;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) {
        out += buf;
        std::string line = buf;
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        if (!line.empty()) last = line;
    }
    const int status = pclose(p);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) return {{"skipped", last}};
    if (status != 0) {
        const std::string tail = out.size() > 600 ? out.substr(out.size() - 600) : out;
        return {{"skipped", "transformers_peer.py failed (wait status " + std::to_string(status) +
                                "): " + tail}};
    }
    try {
        return json::parse(last);
    } catch (const std::exception &e) {
        return {{"skipped", std::string("unreadable peer output: ") + e.what()}};
    }
}

const char *verdict(bool met) { return met ? "met" : "missed"; }

// llmhost's GEMV against cuBLAS on the decode step's shapes (hidden 2048, intermediate 8192, the
// joined q/k/v and gate/up, the 128256-row head); prints and returns the rows.
json gemv_rows(const at::Device &dev, double copy_gbs) {
    json rows = json::array();
    if (!dev.is_cuda() || !llmhost::engine::device_gemv_available()) {
        std::printf("llmhost GEMV vs cuBLAS: not measured (%s)\n",
                    dev.is_cuda() ? "the kernels are not in this build, or LLMHOST_CUDA_GEMV=0"
                                  : "not a CUDA device");
        return rows;
    }
    std::printf("\nbatch-1 bf16 products, weight GB/s (share of the copy's %.0f GB/s):\n"
                "  %-16s %14s %14s %8s\n",
                copy_gbs, "n x k", "llmhost GEMV", "cuBLAS", "ratio");
    const auto opts = at::TensorOptions().dtype(at::kBFloat16).device(dev);
    const std::pair<std::int64_t, std::int64_t> shapes[] = {
        {3072, 2048}, {2048, 2048}, {16384, 2048}, {2048, 8192}, {128256, 2048}};
    for (const auto &[n, k] : shapes) {
        const at::Tensor w = at::randn({n, k}, opts), x = at::randn({1, k}, opts);
        at::Tensor out = at::empty({n}, opts);
        // Weight bytes a second, best of 5 rounds of 50 products.
        const double bytes = double(w.numel() * w.element_size());
        at::Tensor ref;
        const double ours =
            best_rate([&] { (void)llmhost::engine::device_gemv(x, w, {}, out, false); },
                      [&] { (void)out[0].item<float>(); }, bytes, 5, 50) /
            1e9;
        const double cublas =
            best_rate([&] { ref = at::matmul(x, w.t()); },
                      [&] { (void)ref.view({-1})[0].item<float>(); }, bytes, 5, 50) /
            1e9;
        std::printf("  %6lld x %-7lld %8.0f (%2.0f%%) %8.0f (%2.0f%%) %7.2fx\n", (long long)n,
                    (long long)k, ours, 100 * ours / copy_gbs, cublas, 100 * cublas / copy_gbs,
                    ours / cublas);
        rows.push_back({{"n", n}, {"k", k}, {"llmhost_gbs", ours}, {"cublas_gbs", cublas}});
    }
    return rows;
}

#if LLMHOST_BENCH_PROFILE
// Prints the profile per unit (a token, a step) with its `top` largest names; returns it as JSON.
json report_profile(const std::string &what, const bench::WorkProfile &p, double units,
                    const char *unit, std::size_t top = 25) {
    std::printf("\nprofile of %s (%s): wall %.3f ms/%s, device busy %.3f ms/%s (%.0f %% of the "
                "wall)\n",
                what.c_str(), p.what.c_str(), p.wall_us / 1e3 / units, unit,
                p.busy_us / 1e3 / units, unit, p.wall_us > 0 ? 100 * p.busy_us / p.wall_us : 0.0);
    std::printf("  ms/%-5s calls/%-5s share  name\n", unit, unit);
    json rows = json::array();
    for (std::size_t i = 0; i < p.by_name.size(); ++i) {
        const auto &n = p.by_name[i];
        rows.push_back({{"name", n.name}, {"calls", n.calls}, {"total_us", n.total_us}});
        if (i < top)
            std::printf("  %9.4f %11.1f %5.1f%%  %.110s\n", n.total_us / 1e3 / units,
                        double(n.calls) / units, p.busy_us > 0 ? 100 * n.total_us / p.busy_us : 0.0,
                        n.name.c_str());
    }
    if (p.by_name.size() > top) std::printf("  ... %zu more names\n", p.by_name.size() - top);
    if (p.by_name.empty())
        std::printf("  (no events: on a CPU torch's profiler sees the calling thread's operators "
                    "only, and the engine computes on its own thread; CUDA's device events are "
                    "seen whichever thread launched them)\n");
    return {{"what", p.what},       {"units", units},       {"unit", unit},
            {"wall_us", p.wall_us}, {"busy_us", p.busy_us}, {"by_name", rows}};
}
#endif

} // namespace

int main(int argc, char **argv) try {
    std::string config = "1b", device = at::hasCUDA() ? "cuda" : "cpu", json_out;
    fs::path dir;
    int prompt = 16, decode = 128, long_prompt = 2048, stream_decode = 64, profile_tokens = 0;
    std::vector<int> streams = {8, 32};
    bool peer = true;
    for (int i = 1; i < argc; i += 2) {
        const std::string a = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        const std::string v = argv[i + 1];
        // Each number parsed whole (bench/common/args.hpp): "5x" is refused, not read as 5.
        auto number = [&](int &out) {
            if (!bench::parse_int(v.c_str(), out))
                throw std::invalid_argument(a + " wants a number, got '" + v + "'");
        };
        if (a == "--config")
            config = v;
        else if (a == "--device")
            device = v;
        else if (a == "--dir")
            dir = v;
        else if (a == "--prompt")
            number(prompt);
        else if (a == "--decode")
            number(decode);
        else if (a == "--long-prompt")
            number(long_prompt);
        else if (a == "--streams") {
            std::vector<int> list;
            if (!bench::parse_int_list(v, list))
                throw std::invalid_argument("--streams wants numbers separated by commas, got '" +
                                            v + "'");
            streams = list;
        } else if (a == "--stream-decode")
            number(stream_decode);
        else if (a == "--profile") {
            number(profile_tokens);
#if !LLMHOST_BENCH_PROFILE
            if (profile_tokens > 0)
                throw std::invalid_argument("--profile: this bench_gpu was built without torch's "
                                            "profiler (-DLLMHOST_BENCH_PROFILE=OFF)");
#endif
        } else if (a == "--peer")
            peer = v == "1";
        else if (a == "--json")
            json_out = v;
        else
            throw std::invalid_argument("unknown option " + a);
    }
    if (prompt < 1 || decode < 2 || long_prompt < 1 || stream_decode < 1 || streams.empty() ||
        *std::min_element(streams.begin(), streams.end()) < 1 || profile_tokens < 0)
        throw std::invalid_argument(
            "--prompt, --long-prompt, --stream-decode and --streams must be "
            ">= 1, --decode >= 2, --profile >= 0");
    const auto spec = spec_for(config);
    if (dir.empty()) dir = fs::temp_directory_path() / "llmhost-bench-gpu" / config;
    if (!fs::exists(dir / "model.safetensors")) {
        std::fprintf(stderr, "writing %s ...\n", dir.c_str());
        const auto t0 = Clock::now();
        llmhost::tools::write_model_dir(spec, dir);
        std::fprintf(stderr, "  %.1f s\n", seconds_since(t0));
        std::fflush(stderr);
    }
    json result = {{"config", config}, {"device", device}, {"prompt", prompt}, {"decode", decode}};

    const int max_streams = *std::max_element(streams.begin(), streams.end());
    auto e = llmhost::engine::Engine::load(
        dir, {.device = device,
              .dtype = "bfloat16",
              // Room for the longest request: the long prompt, a decode rep, a stream's
              // 32-token prompt and its tokens.
              .max_context = std::max<std::int64_t>(
                  {long_prompt + 8, prompt + decode + 8, 32 + stream_decode + 8}),
              .max_batch = std::max(max_streams, 1),
              .prefix_cache = false}); // every rep repeats its prompt: no rep may be a cache hit
    const at::Device dev(e->device());
    const std::int64_t copy_bytes = dev.is_cuda() ? std::int64_t{2} << 30 : std::int64_t{512} << 20;
    const double bw = copy_bandwidth(dev, copy_bytes);
    const double step_bytes = bench::bytes_per_token(*e, dir, prompt + decode / 2.0);
    std::printf("bench_gpu: %s shapes (hidden %lld, %lld layers, %lld/%lld heads, vocab %lld, "
                "tied), random bf16 weights, on %s\n",
                config == "1b" ? "Llama-3.2-1B" : "small", (long long)spec.hidden_size,
                (long long)spec.num_layers, (long long)spec.num_heads, (long long)spec.num_kv_heads,
                (long long)spec.vocab_size, e->device().c_str());
    std::printf("copy bandwidth (device-to-device, %.0f MiB, read + written, best of 10 x 5): "
                "%.1f GB/s\n",
                copy_bytes / 1048576.0, bw / 1e9);
    std::printf("bytes per decode step at batch 1: %.3f GB (the weights a step computes on + KV "
                "at the mean position; all weights: %.3f GB)\n\n",
                step_bytes / 1e9, e->weight_bytes() / 1e9);
    result["copy_bandwidth_gbs"] = bw / 1e9;
    result["step_bytes"] = step_bytes;

    llmhost::engine::GenerateOptions warm;
    warm.max_tokens = 2;
    e->generate(bench::prompt_ids(prompt), warm);
    double best_decode = 0;
    for (int rep = 0; rep < 3; ++rep) {
        llmhost::engine::GenerateOptions o;
        o.max_tokens = decode;
        const auto r = e->generate(bench::prompt_ids(prompt), o);
        best_decode = std::max(best_decode, bench::decode_tok_s(r));
    }
    const double bound = bw / step_bytes;
    std::printf("decode, batch 1:        %9.1f tok/s   bound %.1f tok/s   %.0f %% of it\n",
                best_decode, bound, 100 * best_decode / bound);
    // A bound is only a bound if the copy measured the device's bandwidth: a model that fits in
    // a cache (the small config on a CPU) streams faster, and then the figure says nothing.
    if (best_decode > bound)
        std::printf("WARNING: decode streams %.1f GB/s, more than the copy's %.1f GB/s: the model "
                    "(or part of it) is served from a cache, and this bound is not one\n",
                    best_decode * step_bytes / 1e9, bw / 1e9);
    result["decode_tok_s"] = best_decode;
    result["bound_tok_s"] = bound;

    double best_prefill_ms = 0;
    for (int rep = 0; rep < 2; ++rep) {
        llmhost::engine::GenerateOptions o;
        o.max_tokens = 1;
        const auto r = e->generate(bench::prompt_ids(long_prompt), o);
        best_prefill_ms = rep == 0 ? r.prefill_ms : std::min(best_prefill_ms, r.prefill_ms);
    }
    std::printf("prefill, %d tokens:   %9.1f tok/s   (%.1f ms)\n", long_prompt,
                long_prompt / (best_prefill_ms / 1e3), best_prefill_ms);
    result["prefill_tok_s"] = long_prompt / (best_prefill_ms / 1e3);

    double last_aggregate = 0;
    for (int n : streams) {
        // Warm-up of the same shape: the decode graphs this run needs (every power-of-two row
        // count the streams pass through, every attended-length bucket) are captured there, not
        // in the timed run, as a server captures them once and serves from them after.
        (void)bench::aggregate_tok_s(*e, n, 32, stream_decode);
        const auto run = bench::aggregate_tok_s(*e, n, 32, stream_decode);
        std::printf("%3d streams:            %9.1f tok/s   aggregate, %.1fx batch-1 decode\n", n,
                    run.tok_s, run.tok_s / best_decode);
        result["streams"][std::to_string(n)] = run.tok_s;
        last_aggregate = run.tok_s;
    }
    result["gemv"] = gemv_rows(dev, bw / 1e9);

#if LLMHOST_BENCH_PROFILE
    if (profile_tokens > 0) {
        // After the timed runs, so the profiler's own cost touches none of them.
        llmhost::engine::GenerateOptions o;
        o.max_tokens = profile_tokens;
        const auto one = bench::profile_work(
            [&] { (void)e->generate(bench::prompt_ids(prompt), o); }, dev.is_cuda());
        result["profile"]["batch1"] =
            report_profile("decode, batch 1: " + std::to_string(profile_tokens) + " tokens after " +
                               std::to_string(prompt) + " (the prefill included)",
                           one, profile_tokens, "token");
        const auto many = bench::profile_work(
            [&] { (void)bench::aggregate_tok_s(*e, max_streams, 32, stream_decode); },
            dev.is_cuda());
        result["profile"]["streams"] =
            report_profile(std::to_string(max_streams) + " streams of " +
                               std::to_string(stream_decode) + " tokens (their prefills included)",
                           many, stream_decode, "step");
        std::printf("\n");
    }
#endif
    std::printf("decode step: %s; %lld of %lld decoded rows picked on the device\n",
                e->decode_graph_status().c_str(), (long long)e->batch_stats().device_picked_rows,
                (long long)e->batch_stats().decode_rows);
    result["decode_graphs"] = e->decode_graph_status();
    e.reset(); // the peer needs the device's memory

    json p = peer ? run_peer(dir, device, prompt, decode) : json{{"skipped", "--peer 0"}};
    result["peer"] = p;
    double vs_peer = 0;
    if (p.contains("decode_tok_s")) {
        vs_peer = best_decode / p["decode_tok_s"].get<double>();
        std::printf("transformers %s eager generate(): %.1f tok/s decode, %.1f ms prefill of %d; "
                    "llmhost %.2fx\n",
                    p.value("transformers", "?").c_str(), p["decode_tok_s"].get<double>(),
                    p.value("prefill_ms", 0.0), prompt, vs_peer);
    } else {
        std::printf("transformers peer skipped: %s\n", p.value("skipped", "?").c_str());
    }

    const bool has32 = std::find(streams.begin(), streams.end(), 32) != streams.end();
    std::printf("\ntargets: decode >= 85 %% of the bound: %s; >= 3x transformers: %s; "
                "32 streams >= 10x batch-1: %s\n",
                best_decode > bound ? "no valid bound" : verdict(best_decode >= 0.85 * bound),
                vs_peer > 0 ? verdict(vs_peer >= 3) : "not measured",
                has32 ? verdict(last_aggregate >= 10 * best_decode) : "not measured");
    if (!json_out.empty()) std::ofstream(json_out) << result.dump(2) << "\n";
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "bench_gpu: %s\n", e.what());
    return 2;
}
