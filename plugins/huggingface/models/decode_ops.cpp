// Raw-memory CPU paths of RMSNorm, RoPE, the KV-cache write and attention for decode-sized
// inputs (decode_ops.hpp).
#include "decode_ops.hpp"
#include "parallel.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace llmhost::engine::decode_ops {

namespace {

using bf16 = at::BFloat16;

inline float to_f(float v) { return v; }
inline float to_f(bf16 v) { return static_cast<float>(v); }
template <class T> inline T from_f(float v) { return static_cast<T>(v); }

template <class T> void rms_norm_rows(const T *x, const T *w, T *out, std::int64_t rows,
                                      std::int64_t D, float eps) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const T *xr = x + r * D;
        float ss = 0;
        for (std::int64_t i = 0; i < D; ++i) ss += to_f(xr[i]) * to_f(xr[i]);
        const float inv = 1.0f / std::sqrt(ss / float(D) + eps);
        T *o = out + r * D;
        // h is rounded to x's dtype before the weight multiplies it, as in transformers.
        for (std::int64_t i = 0; i < D; ++i)
            o[i] = from_f<T>(to_f(w[i]) * to_f(from_f<T>(to_f(xr[i]) * inv)));
    }
}

template <class T>
void rope_rows(const T *x, const T *cos, const T *sin, const std::int64_t *pos, T *out,
               std::int64_t rows, std::int64_t heads, std::int64_t hd) {
    const std::int64_t half = hd / 2;
    for (std::int64_t r = 0; r < rows; ++r) {
        const T *c = cos + pos[r] * hd, *s = sin + pos[r] * hd;
        for (std::int64_t h = 0; h < heads; ++h) {
            const T *xi = x + (r * heads + h) * hd;
            T *o = out + (r * heads + h) * hd;
            // x * cos + rotate_half(x) * sin, each product rounded like the tensor ops.
            for (std::int64_t i = 0; i < hd; ++i) {
                const float rot = i < half ? -to_f(xi[i + half]) : to_f(xi[i - half]);
                const T a = from_f<T>(to_f(xi[i]) * to_f(c[i]));
                const T b = from_f<T>(rot * to_f(s[i]));
                o[i] = from_f<T>(to_f(a) + to_f(b));
            }
        }
    }
}

template <class T>
void attention_rows(const T *q, const T *kc, const T *vc, const bool *mask, T *out,
                    std::int64_t B, std::int64_t T_, std::int64_t H, std::int64_t KV,
                    std::int64_t hd, std::int64_t kv_len, std::int64_t cache_row_stride,
                    std::int64_t cache_head_stride) {
    const std::int64_t groups = H / KV;
    const float scale = 1.0f / std::sqrt(float(hd));
    // One task per (row, query head): scores over the visible cache positions, fp32 softmax.
    const std::int64_t tasks = B * T_ * H;
    const std::int64_t grain = std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(1, kv_len * hd));
    parallel_for(0, tasks, grain, [&](std::int64_t begin, std::int64_t end) {
        std::vector<float> p(static_cast<std::size_t>(kv_len));
        std::vector<float> acc(static_cast<std::size_t>(hd));
        for (std::int64_t task = begin; task < end; ++task) {
            const std::int64_t h = task % H, bt = task / H, b = bt / T_, t = bt % T_;
            const T *qv = q + (bt * H + h) * hd;
            const T *kb = kc + b * cache_row_stride + (h / groups) * cache_head_stride;
            const T *vb = vc + b * cache_row_stride + (h / groups) * cache_head_stride;
            const bool *m = mask + (b * T_ + t) * kv_len;
            float mx = -std::numeric_limits<float>::infinity();
            for (std::int64_t s = 0; s < kv_len; ++s) {
                if (!m[s]) {
                    p[s] = -std::numeric_limits<float>::infinity();
                    continue;
                }
                const T *kv = kb + s * hd;
                float d = 0;
                for (std::int64_t i = 0; i < hd; ++i) d += to_f(qv[i]) * to_f(kv[i]);
                p[s] = d * scale;
                mx = std::max(mx, p[s]);
            }
            float sum = 0;
            for (std::int64_t s = 0; s < kv_len; ++s) {
                p[s] = m[s] ? std::exp(p[s] - mx) : 0.0f;
                sum += p[s];
            }
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (std::int64_t s = 0; s < kv_len; ++s) {
                if (p[s] == 0.0f) continue;
                const float w = p[s] / sum;
                const T *vv = vb + s * hd;
                for (std::int64_t i = 0; i < hd; ++i) acc[i] += w * to_f(vv[i]);
            }
            T *o = out + (bt * H + h) * hd; // [B, T, H, hd] = [B, T, H * hd]
            for (std::int64_t i = 0; i < hd; ++i) o[i] = from_f<T>(acc[i]);
        }
    });
}

template <class T>
void write_rows(T *cache, const T *kv, const std::int64_t *pos, std::int64_t B, std::int64_t T_,
                std::int64_t KV, std::int64_t hd, std::int64_t row_stride,
                std::int64_t head_stride) {
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t t = 0; t < T_; ++t)
            for (std::int64_t h = 0; h < KV; ++h)
                std::copy_n(kv + ((b * T_ + t) * KV + h) * hd, hd,
                            cache + b * row_stride + h * head_stride + pos[b * T_ + t] * hd);
}

} // namespace

bool applies(const at::Tensor &x) {
    if (!x.is_cpu() || x.dim() < 1) return false;
    const auto t = x.scalar_type();
    if (t != at::kFloat && t != at::kBFloat16) return false;
    return x.numel() / std::max<std::int64_t>(1, x.size(-1)) <= kMaxRows;
}

at::Tensor rms_norm(const at::Tensor &x_in, const at::Tensor &weight, double eps) {
    const at::Tensor x = x_in.contiguous(), w = weight.contiguous();
    at::Tensor out = at::empty_like(x);
    const std::int64_t D = x.size(-1), rows = x.numel() / D;
    if (x.scalar_type() == at::kFloat)
        rms_norm_rows(x.data_ptr<float>(), w.data_ptr<float>(), out.data_ptr<float>(), rows, D,
                      float(eps));
    else
        rms_norm_rows(x.data_ptr<bf16>(), w.data_ptr<bf16>(), out.data_ptr<bf16>(), rows, D,
                      float(eps));
    return out;
}

at::Tensor rope(const at::Tensor &x_in, const at::Tensor &cos, const at::Tensor &sin,
                const at::Tensor &positions) {
    const at::Tensor x = x_in.contiguous(), pos = positions.contiguous();
    at::Tensor out = at::empty_like(x);
    const std::int64_t rows = x.size(0) * x.size(1), heads = x.size(2), hd = x.size(3);
    if (x.scalar_type() == at::kFloat)
        rope_rows(x.data_ptr<float>(), cos.data_ptr<float>(), sin.data_ptr<float>(),
                  pos.data_ptr<std::int64_t>(), out.data_ptr<float>(), rows, heads, hd);
    else
        rope_rows(x.data_ptr<bf16>(), cos.data_ptr<bf16>(), sin.data_ptr<bf16>(),
                  pos.data_ptr<std::int64_t>(), out.data_ptr<bf16>(), rows, heads, hd);
    return out;
}

void write_cache(at::Tensor &cache, const at::Tensor &kv_in, const at::Tensor &positions) {
    const at::Tensor kv = kv_in.contiguous(), pos = positions.contiguous();
    const std::int64_t B = kv.size(0), T = kv.size(1), KV = kv.size(2), hd = kv.size(3);
    if (cache.scalar_type() == at::kFloat)
        write_rows(cache.data_ptr<float>(), kv.data_ptr<float>(), pos.data_ptr<std::int64_t>(), B,
                   T, KV, hd, cache.stride(0), cache.stride(1));
    else
        write_rows(cache.data_ptr<bf16>(), kv.data_ptr<bf16>(), pos.data_ptr<std::int64_t>(), B, T,
                   KV, hd, cache.stride(0), cache.stride(1));
}

at::Tensor attention(const at::Tensor &q_in, const at::Tensor &k_cache, const at::Tensor &v_cache,
                     const at::Tensor &mask_in, std::int64_t kv_len) {
    const at::Tensor q = q_in.contiguous(), mask = mask_in.contiguous();
    const std::int64_t B = q.size(0), T = q.size(1), H = q.size(2), hd = q.size(3);
    const std::int64_t KV = k_cache.size(1);
    at::Tensor out = at::empty({B, T, H * hd}, q.options());
    if (q.scalar_type() == at::kFloat)
        attention_rows(q.data_ptr<float>(), k_cache.data_ptr<float>(), v_cache.data_ptr<float>(),
                       mask.data_ptr<bool>(), out.data_ptr<float>(), B, T, H, KV, hd, kv_len,
                       k_cache.stride(0), k_cache.stride(1));
    else
        attention_rows(q.data_ptr<bf16>(), k_cache.data_ptr<bf16>(), v_cache.data_ptr<bf16>(),
                       mask.data_ptr<bool>(), out.data_ptr<bf16>(), B, T, H, KV, hd, kv_len,
                       k_cache.stride(0), k_cache.stride(1));
    return out;
}

} // namespace llmhost::engine::decode_ops
