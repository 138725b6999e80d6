// Sampling (see sampling.hpp).
#include <llmhost/engine/sampling.hpp>

#include <llmhost/kernels/activation.hpp>

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

double Sampler::next_unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

Sampler::Plain Sampler::plain() const {
    const bool penalties = (p_.repetition_penalty > 0 && p_.repetition_penalty != 1.0f) ||
                           p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f;
    if (penalties) return Plain::No;
    if (p_.temperature <= 0.0f) return Plain::Greedy;
    const bool cut = p_.top_k > 0 || (p_.top_p > 0.0f && p_.top_p < 1.0f) || p_.min_p > 0.0f;
    return cut ? Plain::Nucleus : Plain::Temperature;
}

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

    // The whole vocabulary, or under a mask one that allows at least an eighth of it (a free
    // string in a JSON schema allows nearly every id): draw_vocab's vectorised pass. The refused
    // ids are -inf (draw_masked), so their weight is 0 and the draw is the same as among the
    // allowed ids; a short allowed list is cheaper through the candidate path below.
    const std::size_t allowed = candidates ? order_.size() : std::size_t(V);
    const bool top_k = p_.top_k > 0 && std::size_t(p_.top_k) < allowed;
    if (!top_k && (!candidates || allowed * 8 >= std::size_t(V)))
        return draw_vocab(logits, candidates ? order_[0] : 0);
    // Candidates: every id, or (under a mask) the allowed ones in ascending order; the refused
    // ones are -inf and could never be drawn. Sorted by logit, descending (stable: ties keep the
    // lower id first).
    if (!candidates) {
        order_.resize(V);
        std::iota(order_.begin(), order_.end(), 0);
    }
    // NaN becomes -inf (never drawn), as in draw_vocab: the sorts below need a strict order.
    for (std::int32_t id : order_)
        logits[id] = std::isnan(logits[id]) ? -std::numeric_limits<float>::infinity()
                                            : logits[id] / p_.temperature;
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
        const double u = next_unit() * mass;
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
    const double u = next_unit() * mass;
    double cum = 0;
    for (std::int32_t i = 0; i < keep; ++i) {
        cum += probs_[i];
        if (u < cum) return order_[i];
    }
    return order_[keep - 1];
}

// The whole vocabulary at temperature > 0, plain or with top-p / min-p (not top-k, which sorts
// only k ids already): the same distribution as the candidate path of pick(), without its two
// costs per token. The weights e^(l - max) come from kernels::exp_shifted, vectorised, in id
// order, instead of a libm call per id (~190 us at 32,000 ids); and top-p / min-p order only as
// many of the best ids as their cut-off needs, a partial sort that grows 4x until the cut-off
// lies inside it, instead of sorting the whole vocabulary (~3 ms at 32,000 ids, ~14 ms at
// 128,256). Ties keep the lower id first, as the sort did; NaN logits are never drawn.
std::int32_t Sampler::draw_vocab(std::span<float> logits, std::int32_t fallback) {
    const std::int64_t V = static_cast<std::int64_t>(logits.size());
    float *l = logits.data();
    const float t = p_.temperature;
    float mx = -std::numeric_limits<float>::infinity();
    const float neg_inf = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
    for (std::int64_t i = 0; i < V; ++i) {
        // NaN becomes -inf: weight 0, and a strict order for the sort below (a NaN compares
        // false both ways, which breaks std::partial_sort's contract).
        l[i] = l[i] != l[i] ? neg_inf : l[i] / t;
        mx = l[i] > mx ? l[i] : mx;
    }
    probs_.resize(static_cast<std::size_t>(V));
    float *w = probs_.data(); // unnormalised weights, in id order
    const double total = kernels::exp_shifted(l, V, mx, w);
    if (!(total > 0)) return fallback; // every logit -inf or NaN
    const bool top_p = p_.top_p > 0.0f && p_.top_p < 1.0f;
    const bool min_p = p_.min_p > 0.0f;
    const double unit = next_unit();
    if (!top_p && !min_p) {
        // One draw in id order: whole blocks of 64 summed as vectors until the one where the
        // cumulative mass passes u, then id by id inside it.
        const double u = unit * total;
        double cum = 0;
        std::int64_t b = 0;
        for (; b + 64 <= V; b += 64) {
            double s = 0;
#pragma omp simd reduction(+ : s)
            for (std::int64_t i = b; i < b + 64; ++i) s += w[i];
            if (u < cum + s) break;
            cum += s;
        }
        for (std::int64_t i = b; i < V; ++i) {
            cum += w[i];
            if (u < cum) return static_cast<std::int32_t>(i);
        }
        for (std::int64_t i = V; i-- > 0;) // rounding: the last id with mass
            if (w[i] > 0) return static_cast<std::int32_t>(i);
        return fallback;
    }
    // The best ids in order, as many as the cut-offs need: top-p keeps the shortest prefix whose
    // probability reaches top_p, min-p stops at the first id below min_p x the best one's (never
    // the best itself), whichever comes first.
    order_.resize(static_cast<std::size_t>(V));
    std::iota(order_.begin(), order_.end(), 0);
    auto better = [&](std::int32_t a, std::int32_t b) {
        return l[a] > l[b] || (l[a] == l[b] && a < b);
    };
    auto prob = [&](std::int64_t i) { return static_cast<float>(w[order_[i]] / total); };
    std::int64_t keep = V;
    for (std::int64_t k = std::min<std::int64_t>(V, 64);; k = std::min(V, k * 4)) {
        std::partial_sort(order_.begin(), order_.begin() + k, order_.end(), better);
        const float floor = p_.min_p * prob(0);
        double cum = 0;
        std::int64_t cut = -1;
        for (std::int64_t i = 0; i < k; ++i) {
            if (min_p && i > 0 && prob(i) < floor) {
                cut = i;
                break;
            }
            cum += prob(i);
            if (top_p && cum >= p_.top_p) {
                cut = i + 1;
                break;
            }
        }
        if (cut >= 0) {
            keep = cut;
            break;
        }
        if (k == V) break; // no cut-off: every id stays
    }
    double mass = 0;
    for (std::int64_t i = 0; i < keep; ++i) mass += prob(i);
    const double u = unit * mass;
    double cum = 0;
    for (std::int64_t i = 0; i < keep; ++i) {
        cum += prob(i);
        if (u < cum) return order_[i];
    }
    for (std::int64_t i = keep; i-- > 0;)  // rounding: the last kept id with mass (never one
        if (prob(i) > 0) return order_[i]; // of weight 0, such as an id a mask refused)
    return fallback;
}

} // namespace llmhost::engine
