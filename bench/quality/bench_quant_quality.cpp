// bench_quant_quality: how much int8 / int4 weight quantization (and bf16) changes a model's
// next-token distributions, measured against float32 on the same weights, as llama.cpp's
// `perplexity --kl-divergence` does.
//
// For each model and dtype: teacher-forced forward passes over a fixed prompt set (the same ids
// for every dtype), then per position KL(p_fp32 || p_dtype) over the whole vocabulary, its mean,
// 99th percentile and maximum, the top-1 agreement (argmax equal), and the greedy agreement (the
// share of 32 greedily decoded tokens equal to fp32's before the first divergence). The fp32
// entropy is printed too: a near-uniform distribution would make any KL look small.
//
// Random weights give next-token distributions as flat or as peaked as their lm_head's scale
// makes them, and KL scales with that: the models here have an untied lm_head scaled by
// --head-scale (default 5) so that the fp32 entropy is in the range of a trained model's on text
// (a few nats), printed next to each row. Random weights have no outlier channels, which real
// checkpoints do: treat these figures as the formats' error on well-behaved weights.
//
//   bench_quant_quality [--dir /tmp/llmhost-bench-quality] [--prompts 8] [--len 64]
//                       [--models tiny,mid,100m] [--head-scale 5]
#include "tiny_model.hpp"

#include <llmhost/engine/engine.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using llmhost::engine::Engine;

namespace {

struct ModelCase {
    std::string name;
    llmhost::tools::TinyModelSpec spec;
};

std::vector<ModelCase> model_cases(const std::string &which, double head_scale) {
    std::vector<ModelCase> out;
    auto llama = [&](std::int64_t V, std::int64_t D, std::int64_t F, std::int64_t L,
                    std::int64_t H, std::int64_t KV) {
        llmhost::tools::TinyModelSpec s;
        s.arch = "llama";
        s.seed = 7;
        s.vocab_size = V;
        s.hidden_size = D;
        s.intermediate_size = F;
        s.num_layers = L;
        s.num_heads = H;
        s.num_kv_heads = KV;
        s.max_position_embeddings = 512;
        s.tie_word_embeddings = false;
        s.head_scale = head_scale;
        s.dtype = "F32";
        return s;
    };
    if (which.find("tiny") != std::string::npos)
        out.push_back({"tiny h64-l2 v512", llama(512, 64, 128, 2, 4, 2)});
    if (which.find("mid") != std::string::npos)
        out.push_back({"mid h256-l4 v32000", llama(32000, 256, 688, 4, 8, 4)});
    if (which.find("100m") != std::string::npos)
        out.push_back({"100m h768-l10 v32000", llama(32000, 768, 2048, 10, 12, 4)});
    return out;
}

std::vector<double> log_softmax(const float *logits, std::size_t V) {
    double mx = *std::max_element(logits, logits + V);
    double sum = 0;
    for (std::size_t i = 0; i < V; ++i) sum += std::exp(double(logits[i]) - mx);
    const double lse = mx + std::log(sum);
    std::vector<double> out(V);
    for (std::size_t i = 0; i < V; ++i) out[i] = double(logits[i]) - lse;
    return out;
}

struct Stats {
    std::vector<double> kl;
    long top1_equal = 0, positions = 0;
    double entropy_sum = 0;
    long greedy_equal = 0, greedy_total = 0;
};

std::vector<std::int32_t> greedy(Engine &e, const std::vector<std::int32_t> &prompt, int n) {
    llmhost::engine::GenerateOptions o;
    o.max_tokens = n;
    o.eos_ids = {}; // never stop early: compare n tokens
    return e.generate(prompt, o).tokens;
}

} // namespace

int main(int argc, char **argv) {
    fs::path root = "/tmp/llmhost-bench-quality";
    int prompts = 8, len = 64;
    std::string which = "tiny,mid,100m";
    double head_scale = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--dir") root = argv[i + 1];
        else if (a == "--prompts") prompts = std::stoi(argv[i + 1]);
        else if (a == "--len") len = std::stoi(argv[i + 1]);
        else if (a == "--models") which = argv[i + 1];
        else if (a == "--head-scale") head_scale = std::stod(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    std::printf("prompt set: %d prompts x %d tokens (fixed seed), teacher-forced; greedy: 32 "
                "tokens after each prompt's first 16\n\n",
                prompts, len);
    std::printf("%-22s %-9s %12s %12s %12s %9s %9s %10s\n", "model", "dtype", "mean KL", "p99 KL",
                "max KL", "top-1 %", "greedy %", "H(fp32)");
    std::printf("lm_head scale %.2f (--head-scale)\n\n", head_scale);
    for (const ModelCase &mc : model_cases(which, head_scale)) {
        const fs::path dir = root / (std::to_string(mc.spec.hidden_size) + "-" +
                                     std::to_string(mc.spec.num_layers) + "-s" +
                                     std::to_string(head_scale));
        if (!fs::exists(dir / "model.safetensors")) llmhost::tools::write_model_dir(mc.spec, dir);
        std::mt19937 rng(1234);
        std::uniform_int_distribution<std::int32_t> tok(3, int(mc.spec.vocab_size) - 1);
        std::vector<std::vector<std::int32_t>> set(prompts, std::vector<std::int32_t>(len));
        for (auto &p : set)
            for (auto &t : p) t = tok(rng);
        const std::int64_t ctx = len + 48;
        auto load = [&](const std::string &dtype) {
            return Engine::load(dir, {.device = "cpu", .dtype = dtype, .max_context = ctx,
                                      .max_batch = 1});
        };
        auto ref = load("float32");
        const std::size_t V = static_cast<std::size_t>(mc.spec.vocab_size);
        std::vector<std::vector<float>> ref_logits;
        std::vector<std::vector<std::int32_t>> ref_greedy;
        for (const auto &p : set) {
            ref_logits.push_back(ref->forward(p, 0, true));
            ref_greedy.push_back(greedy(*ref, {p.begin(), p.begin() + 16}, 32));
        }
        for (const std::string dtype : {"bfloat16", "int8", "int4"}) {
            auto e = load(dtype);
            Stats st;
            for (std::size_t k = 0; k < set.size(); ++k) {
                const std::vector<float> got = e->forward(set[k], 0, true);
                for (int pos = 0; pos < len; ++pos) {
                    const float *a = ref_logits[k].data() + pos * V;
                    const float *b = got.data() + pos * V;
                    const auto lp = log_softmax(a, V), lq = log_softmax(b, V);
                    double kl = 0, h = 0;
                    for (std::size_t i = 0; i < V; ++i) {
                        const double p = std::exp(lp[i]);
                        kl += p * (lp[i] - lq[i]);
                        h -= p * lp[i];
                    }
                    st.kl.push_back(std::max(kl, 0.0));
                    st.entropy_sum += h;
                    st.top1_equal += (std::max_element(a, a + V) - a) ==
                                     (std::max_element(b, b + V) - b);
                    ++st.positions;
                }
                const auto g = greedy(*e, {set[k].begin(), set[k].begin() + 16}, 32);
                std::size_t same = 0;
                while (same < g.size() && same < ref_greedy[k].size() &&
                       g[same] == ref_greedy[k][same])
                    ++same;
                st.greedy_equal += static_cast<long>(same);
                st.greedy_total += static_cast<long>(ref_greedy[k].size());
            }
            std::vector<double> sorted = st.kl;
            std::sort(sorted.begin(), sorted.end());
            double mean = 0;
            for (double x : sorted) mean += x;
            mean /= double(sorted.size());
            const double p99 = sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)];
            std::printf("%-22s %-9s %12.3e %12.3e %12.3e %8.1f%% %8.1f%% %10.3f\n", mc.name.c_str(),
                        dtype.c_str(), mean, p99, sorted.back(),
                        100.0 * st.top1_equal / st.positions,
                        100.0 * st.greedy_equal / st.greedy_total,
                        st.entropy_sum / st.positions);
            std::fflush(stdout);
        }
    }
    std::printf("\nH(fp32): mean entropy of the fp32 next-token distribution in nats (uniform over "
                "V would be ln V).\n");
    return 0;
}
