// bench_sampling: microseconds per sampled token over a whole vocabulary (32,000 and 128,256 ids,
// Gaussian logits), for Sampler (vectorised weights, a top-p cut-off found by a growing partial
// sort) and, in the same run, the plain algorithm it replaced: one libm exp per id, and for
// top-p a sort of the whole vocabulary; and under a wide mask (constrained decoding), one libm
// exp per allowed id. Both copy the logits first (the sampler edits them).
//
//   bench_sampling [--reps 50]
#include <llmhost/engine/sampling.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

using llmhost::engine::Sampler;
using llmhost::engine::SamplingParams;

namespace {

// The plain algorithm (what Sampler::pick did for these parameters until 2026-11-27).
struct Plain {
    std::mt19937_64 rng{1};
    std::vector<std::int32_t> order;
    std::vector<float> probs;
    // Under a mask (refused ids -inf, `allowed` ascending): one libm exp per allowed id.
    std::int32_t draw_allowed(std::vector<float> &l, const std::vector<std::int32_t> &allowed,
                              float t) {
        const double unit = static_cast<double>(rng() >> 11) * 0x1.0p-53;
        float mx = -INFINITY;
        for (std::int32_t id : allowed) mx = std::max(mx, l[id] /= t);
        probs.resize(allowed.size());
        double mass = 0;
        for (std::size_t i = 0; i < allowed.size(); ++i)
            mass += probs[i] = std::exp(l[allowed[i]] - mx);
        double cum = 0;
        for (std::size_t i = 0; i < allowed.size(); ++i)
            if (unit * mass < (cum += probs[i])) return allowed[i];
        return allowed.back();
    }
    std::int32_t draw(std::vector<float> &l, float t, float top_p) {
        const auto V = static_cast<std::int32_t>(l.size());
        order.resize(l.size());
        std::iota(order.begin(), order.end(), 0);
        for (float &x : l) x /= t;
        const double unit = static_cast<double>(rng() >> 11) * 0x1.0p-53;
        if (top_p <= 0.0f) {
            float mx = -INFINITY;
            for (float x : l) mx = std::max(mx, x);
            probs.resize(l.size());
            double mass = 0;
            for (std::int32_t i = 0; i < V; ++i) mass += probs[i] = std::exp(l[i] - mx);
            double cum = 0;
            for (std::int32_t i = 0; i < V; ++i)
                if (unit * mass < (cum += probs[i])) return i;
            return V - 1;
        }
        std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
            return l[a] > l[b] || (l[a] == l[b] && a < b);
        });
        probs.resize(l.size());
        const float mx = l[order[0]];
        double sum = 0;
        for (std::int32_t i = 0; i < V; ++i) sum += probs[i] = std::exp(l[order[i]] - mx);
        double cum = 0;
        std::int32_t keep = 0;
        while (keep < V && (cum += probs[keep++] / sum) < top_p) {}
        double mass = 0;
        for (std::int32_t i = 0; i < keep; ++i) mass += probs[i];
        cum = 0;
        for (std::int32_t i = 0; i < keep; ++i)
            if (unit * mass < (cum += probs[i])) return order[i];
        return order[keep - 1];
    }
};

template <class F>
double us_per_call(int reps, const F &f) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
               .count() /
           reps;
}

// Sampler's and the plain algorithm's µs per call, interleaved, best of 3 each: the machine's
// speed drifts.
template <class A, class B>
std::pair<double, double> best_of_3(int reps, const A &sampler, const B &plain) {
    double a = 1e30, b = 1e30;
    for (int round = 0; round < 3; ++round) {
        a = std::min(a, us_per_call(reps, sampler));
        b = std::min(b, us_per_call(reps, plain));
    }
    return {a, b};
}

} // namespace

int main(int argc, char **argv) {
    int reps = 50;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = std::max(1, std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr, "usage: bench_sampling [--reps 50]\n");
            return 2;
        }
    }
    std::printf("| vocab | parameters | Sampler us/token | plain us/token | speed-up |\n"
                "|---|---|---|---|---|\n");
    for (int V : {32000, 128256}) {
        std::mt19937 gen(7);
        std::normal_distribution<float> d(0.0f, 3.0f);
        std::vector<float> base(static_cast<std::size_t>(V));
        for (float &x : base) x = d(gen);
        // Constrained decoding's draw under a mask that allows 60 % of the ids (a free string
        // in a JSON schema allows nearly all): Sampler::draw_masked against the plain loop.
        std::vector<std::uint32_t> mask(static_cast<std::size_t>((V + 31) / 32), 0);
        std::vector<std::int32_t> allowed;
        for (std::int32_t i = 0; i < V; ++i)
            if ((i * 7919) % 5 < 3) {
                mask[std::size_t(i / 32)] |= 1u << (i % 32);
                allowed.push_back(i);
            }
        struct Row {
            const char *name;
            float t, top_p;
            bool masked;
        };
        for (const Row r : {Row{"temperature 0.8", 0.8f, 0.0f, false},
                            Row{"temperature 0.8, top_p 0.9", 0.8f, 0.9f, false},
                            Row{"temperature 0.8, a mask allowing 60 %", 0.8f, 0.0f, true}}) {
            SamplingParams p;
            p.temperature = r.t;
            p.top_p = r.top_p;
            p.seed = 1;
            Sampler s(p);
            Plain plain;
            std::vector<float> l;
            long sink = 0;
            const auto [a, b] = best_of_3(
                reps,
                [&] {
                    l = base;
                    sink += r.masked ? s.draw_masked(l, {}, mask) : s.sample(l, {});
                },
                [&] {
                    l = base;
                    if (!r.masked) {
                        sink += plain.draw(l, r.t, r.top_p);
                        return;
                    }
                    for (std::size_t w = 0; w < mask.size(); ++w)           // refused ids -inf, as
                        for (int k = 0; k < 32 && int(w * 32) + k < V; ++k) // draw_masked does
                            if (!((mask[w] >> k) & 1u)) l[w * 32 + k] = -INFINITY;
                    sink += plain.draw_allowed(l, allowed, r.t);
                });
            std::printf("| %d | %s | %.1f | %.1f | %.1fx |\n", V, r.name, a, b, b / a);
            if (sink == -1) std::puts(""); // keeps the draws
        }
    }
    return 0;
}
