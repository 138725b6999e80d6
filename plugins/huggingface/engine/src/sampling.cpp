// Sampling (see sampling.hpp).
#include <llmhost/engine/sampling.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_set>

namespace llmhost::engine {

namespace {

// The first index of the largest logit, as std::max_element gives it: a vectorisable pass for the
// maximum, then the first position holding it (std::max_element's compare-and-select chain took
// ~4 % of a small model's decode step over a 32k vocabulary). NaNs: std::max_element's answer.
std::int32_t first_argmax(std::span<const float> v) {
    float m = -std::numeric_limits<float>::infinity();
    int nan = 0; // an int, not a bool: GCC 12 left the loop scalar with a bool reduction
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (std::size_t i = 0; i < v.size(); ++i) {
        m = v[i] > m ? v[i] : m;
        nan |= int(v[i] != v[i]);
    }
    if (!nan) {
        // The first maximum: whole blocks of 64 tested as vectors until one holds it (a scalar
        // scan to a random model's argmax was ~1.7 % of an int4 step at 2 threads).
        const std::size_t n = v.size();
        std::size_t b = 0;
        for (; b + 64 <= n; b += 64) {
            int hit = 0;
#pragma omp simd reduction(| : hit)
            for (std::size_t i = b; i < b + 64; ++i) hit |= int(v[i] == m);
            if (hit) break;
        }
        for (std::size_t i = b; i < n; ++i)
            if (v[i] == m) return static_cast<std::int32_t>(i);
    }
    return static_cast<std::int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

} // namespace

Sampler::Sampler(const SamplingParams &p) : p_(p), rng_(p.seed) {}

std::int32_t Sampler::sample(std::span<float> logits, std::span<const std::int32_t> history) {
    const std::int32_t id = pick(logits, history);
    if (p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f) ++generated_[id];
    return id;
}

std::int32_t Sampler::draw_masked(std::span<float> logits, std::span<const std::int32_t> history,
                                  std::span<const std::uint32_t> mask) {
    // One pass over the mask's words: refused ids get -inf, allowed ones become the candidate
    // list, so the draw below looks at the allowed ids only (a mask is mostly zero words).
    const std::size_t V = logits.size();
    const std::size_t covered = std::min(V, mask.size() * 32);
    constexpr float kNegInf = -std::numeric_limits<float>::infinity();
    order_.clear();
    for (std::size_t base = 0; base < covered; base += 32) {
        const std::uint32_t bits = mask[base >> 5];
        const std::size_t n = std::min<std::size_t>(32, covered - base);
        if (bits == 0) {
            std::fill_n(logits.begin() + static_cast<std::ptrdiff_t>(base), n, kNegInf);
            continue;
        }
        for (std::size_t k = 0; k < n; ++k) {
            if ((bits >> k) & 1u)
                order_.push_back(static_cast<std::int32_t>(base + k));
            else
                logits[base + k] = kNegInf;
        }
    }
    std::fill(logits.begin() + static_cast<std::ptrdiff_t>(covered), logits.end(), kNegInf);
    if (order_.empty()) return pick(logits, history); // nothing allowed: the caller's error
    return pick(logits, history, /*candidates=*/true);
}

void Sampler::note_generated(std::int32_t id) {
    if (p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f) ++generated_[id];
}

std::int32_t Sampler::pick(std::span<float> logits, std::span<const std::int32_t> history,
                           bool candidates) {
    const std::int32_t V = static_cast<std::int32_t>(logits.size());
    if (p_.repetition_penalty > 0 && p_.repetition_penalty != 1.0f) {
        // transformers' RepetitionPenaltyLogitsProcessor: each distinct id once.
        std::unordered_set<std::int32_t> seen(history.begin(), history.end());
        for (std::int32_t id : seen) {
            if (id < 0 || id >= V) continue;
            float &l = logits[id];
            l = l > 0 ? l / p_.repetition_penalty : l * p_.repetition_penalty;
        }
    }
    for (const auto &[id, count] : generated_) { // empty unless a penalty is set
        if (id < 0 || id >= V) continue;
        logits[id] -= p_.presence_penalty + p_.frequency_penalty * static_cast<float>(count);
    }
    if (p_.temperature <= 0.0f) {
        if (!candidates) return first_argmax(logits);
        std::int32_t best = order_[0]; // ascending ids: the first maximum is the lowest id
        for (std::int32_t id : order_)
            if (logits[id] > logits[best]) best = id;
        return best;
    }

    // Candidates: every id, or (under a mask) the allowed ones in ascending order; the refused
    // ones are -inf and could never be drawn. Sorted by logit, descending (stable: ties keep the
    // lower id first).
    if (!candidates) {
        order_.resize(V);
        std::iota(order_.begin(), order_.end(), 0);
    }
    for (std::int32_t id : order_) logits[id] /= p_.temperature;
    const auto n_candidates = static_cast<std::int32_t>(order_.size());
    const bool truncates = (p_.top_k > 0 && p_.top_k < n_candidates) ||
                           (p_.top_p > 0.0f && p_.top_p < 1.0f) || p_.min_p > 0.0f;
    if (!truncates) {
        // Plain temperature sampling needs no order: one softmax pass and one draw over the
        // candidates in id order (sorting 128k logits per token was most of a small model's
        // decode time).
        float mx = -std::numeric_limits<float>::infinity();
        for (std::int32_t id : order_) mx = std::max(mx, logits[id]);
        probs_.resize(static_cast<std::size_t>(n_candidates));
        double mass = 0;
        for (std::int32_t i = 0; i < n_candidates; ++i)
            mass += probs_[i] = std::exp(logits[order_[i]] - mx);
        const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * mass;
        double cum = 0;
        for (std::int32_t i = 0; i < n_candidates; ++i) {
            cum += probs_[i];
            if (u < cum) return order_[i];
        }
        for (std::int32_t i = n_candidates; i-- > 0;) // rounding: the last id with mass
            if (probs_[i] > 0) return order_[i];
        return order_[0];
    }
    std::int32_t keep = n_candidates;
    if (p_.top_k > 0 && p_.top_k < n_candidates) {
        keep = p_.top_k;
        std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(),
                          [&](std::int32_t a, std::int32_t b) {
                              return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                          });
    } else {
        std::sort(order_.begin(), order_.end(), [&](std::int32_t a, std::int32_t b) {
            return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
        });
    }
    // Softmax over the kept candidates.
    probs_.resize(keep);
    const float mx = logits[order_[0]];
    double sum = 0;
    for (std::int32_t i = 0; i < keep; ++i) sum += probs_[i] = std::exp(logits[order_[i]] - mx);
    for (std::int32_t i = 0; i < keep; ++i) probs_[i] = static_cast<float>(probs_[i] / sum);
    if (p_.top_p > 0.0f && p_.top_p < 1.0f) {
        // Smallest prefix whose mass reaches top_p (always at least one token).
        double cum = 0;
        std::int32_t n = 0;
        while (n < keep) {
            cum += probs_[n++];
            if (cum >= p_.top_p) break;
        }
        keep = n;
    }
    if (p_.min_p > 0.0f) {
        const float floor = p_.min_p * probs_[0];
        std::int32_t n = 1;
        while (n < keep && probs_[n] >= floor) ++n;
        keep = n;
    }
    double mass = 0;
    for (std::int32_t i = 0; i < keep; ++i) mass += probs_[i];
    // Our own uniform in [0, 1) from 53 random bits: identical on every platform.
    const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * mass;
    double cum = 0;
    for (std::int32_t i = 0; i < keep; ++i) {
        cum += probs_[i];
        if (u < cum) return order_[i];
    }
    return order_[keep - 1];
}

} // namespace llmhost::engine
