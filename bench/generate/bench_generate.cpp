// bench_generate: how close the CPU decode loop gets to the memory-bandwidth limit.
//
// Decoding one token reads every weight once (batch 1), so tok/s <= bandwidth / weight bytes.
// The bandwidth is measured in the same run (a multi-threaded sum over a buffer much larger than
// the caches, with libtorch's thread count, as the model uses). Prints prefill and decode tok/s
// for fp32 and bf16 and the ratio of decode to that roofline. Also RSS (anonymous vs file-backed)
// after loading, to show the weights are the mmap'd file, not a second copy.
//
//   bench_generate [--dir /tmp/llmhost-bench-llama100m] [--prompt 128] [--decode 64]
#include "tiny_model.hpp"

#include <llmhost/engine/engine.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

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

} // namespace

int main(int argc, char **argv) {
    std::string root = "/tmp/llmhost-bench-llama100m";
    int prompt_len = 128, decode_len = 64;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--dir") root = argv[i + 1];
        else if (a == "--prompt") prompt_len = std::stoi(argv[i + 1]);
        else if (a == "--decode") decode_len = std::stoi(argv[i + 1]);
    }
    std::printf("threads: %d (libtorch intra-op)\n", at::get_num_threads());
    const double bw = measure_read_bandwidth();
    std::printf("measured read bandwidth: %.2f GB/s (sum over 1 GiB, best of 5)\n\n", bw / 1e9);
    std::printf("%-9s %9s %9s %14s %13s %15s %8s %12s %12s\n", "dtype", "params", "weights",
                "prefill tok/s", "decode tok/s", "roofline tok/s", "ratio", "RssAnon MB", "RssFile MB");
    for (const char *dtype : {"F32", "BF16"}) {
        const fs::path dir = fs::path(root) / dtype;
        if (!fs::exists(dir / "model.safetensors")) {
            std::fprintf(stderr, "writing %s ...\n", dir.c_str());
            llmhost::tools::write_model_dir(spec_100m(dtype), dir);
        }
        const auto before = rss_anon_file_kb();
        auto e = llmhost::engine::Engine::load(
            dir, {.device = "cpu", .dtype = std::string(dtype) == "F32" ? "float32" : "bfloat16",
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
        std::printf("          weights are %s\n",
                    e->weights_mapped() ? "views of the mmap'd safetensors (no copy)" : "a converted copy");
    }
    std::printf("\nroofline = measured read bandwidth / weight bytes read per decoded token;\n"
                "ratio = decode tok/s / roofline. RssAnon/RssFile: growth after load + warm-up\n"
                "(anonymous = KV cache, activations, any copies; file = mmap'd weights).\n");
    return 0;
}
