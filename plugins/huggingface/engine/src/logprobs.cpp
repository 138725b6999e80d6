// log_softmax of one logits row and its top-N (see logprobs.hpp).
#include <llmhost/engine/logprobs.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace llmhost::engine {

TokenLogprobs compute_logprobs(std::span<const float> logits, std::int32_t chosen, int top_n) {
    // log-sum-exp in double: the vocabulary is large and fp32 sums of 100k terms drift.
    float max = -std::numeric_limits<float>::infinity();
    for (float x : logits) max = std::max(max, x);
    double sum = 0;
    for (float x : logits) sum += std::exp(static_cast<double>(x) - max);
    const double lse = max + std::log(sum);
    auto logprob = [&](std::int32_t id) {
        return static_cast<float>(static_cast<double>(logits[static_cast<std::size_t>(id)]) - lse);
    };

    TokenLogprobs r;
    r.id = chosen;
    r.logprob = logprob(chosen);
    const std::size_t n = std::min<std::size_t>(top_n > 0 ? top_n : 0, logits.size());
    if (n == 0) return r;
    // A min-heap of the best n seen so far: O(V log n), no V-sized scratch.
    auto better = [&](std::int32_t a, std::int32_t b) {
        const float la = logits[a], lb = logits[b];
        return la > lb || (la == lb && a < b);
    };
    std::vector<std::int32_t> heap;
    heap.reserve(n + 1);
    for (std::int32_t id = 0; id < static_cast<std::int32_t>(logits.size()); ++id) {
        if (heap.size() == n && !better(id, heap.front())) continue;
        heap.push_back(id);
        std::push_heap(heap.begin(), heap.end(), better);
        if (heap.size() > n) {
            std::pop_heap(heap.begin(), heap.end(), better);
            heap.pop_back();
        }
    }
    std::sort(heap.begin(), heap.end(), better);
    r.top.reserve(n);
    for (std::int32_t id : heap) r.top.emplace_back(id, logprob(id));
    return r;
}

} // namespace llmhost::engine
