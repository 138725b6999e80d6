// bench_generate: how close the CPU decode loop gets to the memory-bandwidth limit.
//
// Decoding one token reads every weight once (batch 1), so tok/s <= bandwidth / weight bytes.
// The bandwidth is measured in the same run (a multi-threaded sum over a buffer much larger than
// the caches, with libtorch's thread count, as the model uses). Prints prefill and decode tok/s
// for fp32 and bf16 and the ratio of decode to that roofline. Also RSS (anonymous vs file-backed)
// after loading, to show the weights are the mmap'd file, not a second copy.
//
// Then concurrency: aggregate tok/s of 1, 4 and 8 streams (threads calling generate at once)
// on the batch scheduler (max_batch 8) vs the serial path (max_batch 1: one request at a time,
// as before batching), same model files, same run, printed as a ratio.
//
// Then constrained decoding (constrained_row.cpp): decode tok/s under a JSON-schema constraint
// vs unconstrained, same model, same run, with the Llama-3.1 tokenizer's 128k vocabulary.
//
//   bench_generate [--dir /tmp/llmhost-bench-llama100m] [--prompt 128] [--decode 64]
//                  [--stream-prompt 32] [--stream-decode 32]
//                  [--constrained-decode 128] [--constrained-reps 3] [--tokenizer DIR]
//                  [--only single|streams|constrained]
#include "constrained_row.hpp"
#include "tiny_model.hpp"

#include <llmhost/engine/engine.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Read bandwidth in bytes/s: best of a few sums over a 1 GiB fp32 buffer.
double measure_read_bandwidth() {
    at::Tensor buf = at::ones({256L * 1024 * 1024}, at::kFloat); // 1 GiB, touched
    double best = 0;
    for (int i = 0; i < 5; ++i) {
        auto t0 = Clock::now();
        volatile float s = buf.sum().item<float>();
        (void)s;
        best = std::max(best, buf.numel() * 4.0 / seconds_since(t0));
    }
    return best;
}

std::pair<long, long> rss_anon_file_kb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    long anon = 0, file = 0;
    while (std::getline(in, line)) {
        if (line.rfind("RssAnon:", 0) == 0) anon = std::stol(line.substr(8));
        if (line.rfind("RssFile:", 0) == 0) file = std::stol(line.substr(8));
    }
    return {anon, file};
}

llmhost::tools::TinyModelSpec spec_100m(const std::string &dtype) {
    llmhost::tools::TinyModelSpec s;
    s.arch = "llama";
    s.seed = 100;
    s.vocab_size = 32000;
    s.hidden_size = 768;
    s.intermediate_size = 2048;
    s.num_layers = 10;
    s.num_heads = 12;
    s.num_kv_heads = 4; // GQA, as current Llamas
    s.max_position_embeddings = 1024;
    s.tie_word_embeddings = true;
    s.dtype = dtype;
    return s;
}

struct StreamRun {
    double tok_s = 0;         // generated tokens / wall time (prefills included)
    double decode_ms_sum = 0; // sum of the requests' decode_ms (meaningful when serial)
    long decode_tokens = 0;   // generated tokens minus the first of each (sampled by prefill)
};

// Aggregate generated tok/s of `streams` threads, each generating `decode` tokens greedily from
// its own prompt, all released at once; wall time from the release to the last one done.
StreamRun aggregate_tok_s(llmhost::engine::Engine &e, int streams, int prompt_len, int decode) {
    std::atomic<int> ready{0};
    std::atomic<long> tokens{0};
    std::mutex mu;
    StreamRun run;
    std::vector<std::thread> threads;
    Clock::time_point t0;
    for (int s = 0; s < streams; ++s)
        threads.emplace_back([&, s] {
            std::vector<std::int32_t> prompt(static_cast<std::size_t>(prompt_len));
            for (int i = 0; i < prompt_len; ++i) prompt[i] = (i * 7919 + 13 + 101 * s) % 32000;
            llmhost::engine::GenerateOptions o;
            o.max_tokens = decode;
            if (++ready == streams) t0 = Clock::now();
            while (ready.load() < streams) std::this_thread::yield();
            const auto r = e.generate(prompt, o);
            tokens += static_cast<long>(r.tokens.size());
            std::lock_guard lk(mu);
            run.decode_ms_sum += r.decode_ms;
            run.decode_tokens += static_cast<long>(r.tokens.size()) - 1;
        });
    for (auto &t : threads) t.join();
    run.tok_s = tokens.load() / seconds_since(t0);
    return run;
}

void bench_streams(const fs::path &root, int prompt_len, int decode) {
    std::printf(
        "\nconcurrent streams: aggregate decode+prefill tok/s (prompt %d, %d new tokens each)\n",
        prompt_len, decode);
    std::printf("%-9s %8s %13s %14s %7s | %14s %15s %7s %10s\n", "dtype", "streams", "serial tok/s",
                "batched tok/s", "ratio", "serial decode", "batched decode", "ratio", "rows/step");
    for (const char *dtype : {"F32", "BF16"}) {
        const fs::path dir = root / dtype;
        const std::string dt = std::string(dtype) == "F32" ? "float32" : "bfloat16";
        const std::int64_t ctx = prompt_len + decode + 1;
        auto serial = llmhost::engine::Engine::load(
            dir, {.device = "cpu", .dtype = dt, .max_context = ctx, .max_batch = 1});
        auto batched = llmhost::engine::Engine::load(
            dir, {.device = "cpu", .dtype = dt, .max_context = ctx, .max_batch = 8});
        (void)aggregate_tok_s(*serial, 1, prompt_len, 2); // warm-up: touch every weight page
        (void)aggregate_tok_s(*batched, 1, prompt_len, 2);
        for (int streams : {1, 4, 8}) {
            const auto before = batched->batch_stats();
            const StreamRun s = aggregate_tok_s(*serial, streams, prompt_len, decode);
            const StreamRun b = aggregate_tok_s(*batched, streams, prompt_len, decode);
            const auto after = batched->batch_stats();
            const double rows_decoded = double(after.decode_rows - before.decode_rows);
            const double rows =
                rows_decoded / std::max<std::int64_t>(1, after.decode_steps - before.decode_steps);
            // Decode only: tokens decoded per second spent in decode steps (prefills excluded).
            const double s_dec = s.decode_tokens / (s.decode_ms_sum / 1e3);
            const double b_dec = rows_decoded / ((after.decode_ms - before.decode_ms) / 1e3);
            std::printf("%-9s %8d %13.1f %14.1f %6.2fx | %14.1f %15.1f %6.2fx %10.2f\n",
                        serial->dtype().c_str(), streams, s.tok_s, b.tok_s, b.tok_s / s.tok_s,
                        s_dec, b_dec, b_dec / s_dec, rows);
            std::fflush(stdout);
        }
    }
    std::printf("serial = max_batch 1 (requests one at a time, the path before batching);\n"
                "batched = max_batch 8 (continuous batching); ratio = batched / serial.\n"
                "tok/s: all generated tokens / wall time (each stream's prefill included);\n"
                "decode: decoded tokens / time in decode steps (prefill excluded).\n");
}

} // namespace

int main(int argc, char **argv) {
    std::string root = "/tmp/llmhost-bench-llama100m";
    int prompt_len = 128, decode_len = 64, stream_prompt = 32, stream_decode = 32;
    int constrained_decode = 128, constrained_reps = 3;
    std::string only, tokenizer = LLMHOST_BENCH_TOKENIZER_DIR;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--dir")
            root = argv[i + 1];
        else if (a == "--prompt")
            prompt_len = std::stoi(argv[i + 1]);
        else if (a == "--decode")
            decode_len = std::stoi(argv[i + 1]);
        else if (a == "--stream-prompt")
            stream_prompt = std::stoi(argv[i + 1]);
        else if (a == "--stream-decode")
            stream_decode = std::stoi(argv[i + 1]);
        else if (a == "--only")
            only = argv[i + 1];
        else if (a == "--constrained-decode")
            constrained_decode = std::stoi(argv[i + 1]);
        else if (a == "--constrained-reps")
            constrained_reps = std::stoi(argv[i + 1]);
        else if (a == "--tokenizer")
            tokenizer = argv[i + 1];
    }
    std::printf("threads: %d (libtorch intra-op)\n", at::get_num_threads());
    if (only == "constrained") {
        bench::bench_constrained(root, tokenizer, 32, constrained_decode, constrained_reps);
        return 0;
    }
    for (const char *dtype : {"F32", "BF16"}) {
        const fs::path dir = fs::path(root) / dtype;
        if (!fs::exists(dir / "model.safetensors")) {
            std::fprintf(stderr, "writing %s ...\n", dir.c_str());
            llmhost::tools::write_model_dir(spec_100m(dtype), dir);
        }
    }
    if (only == "streams") {
        bench_streams(root, stream_prompt, stream_decode);
        return 0;
    }
    const double bw = measure_read_bandwidth();
    std::printf("measured read bandwidth: %.2f GB/s (sum over 1 GiB, best of 5)\n\n", bw / 1e9);
    std::printf("%-9s %9s %9s %14s %13s %15s %8s %12s %12s\n", "dtype", "params", "weights",
                "prefill tok/s", "decode tok/s", "roofline tok/s", "ratio", "RssAnon MB",
                "RssFile MB");
    for (const char *dtype : {"F32", "BF16"}) {
        const fs::path dir = fs::path(root) / dtype;
        const auto before = rss_anon_file_kb();
        auto e = llmhost::engine::Engine::load(
            dir, {.device = "cpu",
                  .dtype = std::string(dtype) == "F32" ? "float32" : "bfloat16",
                  .max_context = prompt_len + decode_len + 1});
        std::vector<std::int32_t> prompt(static_cast<std::size_t>(prompt_len));
        for (int i = 0; i < prompt_len; ++i) prompt[i] = (i * 7919 + 13) % 32000;
        // Warm-up (touches every weight page, so the timed runs are not measuring disk reads).
        llmhost::engine::GenerateOptions warm;
        warm.max_tokens = 2;
        e->generate(prompt, warm);
        const auto after = rss_anon_file_kb();

        double best_prefill = 0, best_decode = 0;
        for (int rep = 0; rep < 3; ++rep) {
            llmhost::engine::GenerateOptions o;
            o.max_tokens = decode_len;
            auto r = e->generate(prompt, o);
            best_prefill = std::max(best_prefill, prompt_len / (r.prefill_ms / 1e3));
            // decode_ms covers decode_len samples and decode_len - 1 forward passes.
            best_decode = std::max(best_decode, (r.tokens.size() - 1) / (r.decode_ms / 1e3));
        }
        const double bytes = static_cast<double>(e->weight_bytes());
        const double roofline = bw / bytes;
        std::printf("%-9s %8.1fM %7.0fMB %14.1f %13.1f %15.1f %7.0f%% %12.0f %12.0f\n",
                    e->dtype().c_str(), bytes / (std::string(dtype) == "F32" ? 4 : 2) / 1e6,
                    bytes / 1e6, best_prefill, best_decode, roofline, 100 * best_decode / roofline,
                    (after.first - before.first) / 1024.0, (after.second - before.second) / 1024.0);
        std::printf("          weights are %s\n", e->weights_mapped()
                                                      ? "views of the mmap'd safetensors (no copy)"
                                                      : "a converted copy");
    }
    std::printf("\nroofline = measured read bandwidth / weight bytes read per decoded token;\n"
                "ratio = decode tok/s / roofline. RssAnon/RssFile: growth after load + warm-up\n"
                "(anonymous = KV cache, activations, any copies; file = mmap'd weights).\n");
    if (only != "single") bench_streams(root, stream_prompt, stream_decode);
    if (only.empty())
        bench::bench_constrained(root, tokenizer, 32, constrained_decode, constrained_reps);
    return 0;
}
