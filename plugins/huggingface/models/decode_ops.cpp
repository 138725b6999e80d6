// Raw-memory CPU paths of RMSNorm, RoPE, SwiGLU, the KV-cache write and attention for
// decode-sized inputs (decode_ops.hpp).
#include "decode_ops.hpp"
#include "parallel.hpp"

#include <llmhost/kernels/activation.hpp>
#include <llmhost/kernels/attention.hpp>

#include <cmath>

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
        // A vector sum (libtorch's own reduction is one too): a left-to-right chain of D adds
        // was ~1 % of a small model's decode step, on the caller while the pool waits.
        float ss = 0;
#pragma omp simd reduction(+ : ss)
        for (std::int64_t i = 0; i < D; ++i) ss += to_f(xr[i]) * to_f(xr[i]);
        const float inv = 1.0f / std::sqrt(ss / float(D) + eps);
        T *o = out + r * D;
        // h is rounded to x's dtype before the weight multiplies it, as in transformers.
#pragma omp simd
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

// One task per (row, KV head): its `groups` query heads in one kernels::attend call, so the
// head's cached keys and values are read once for all of them.
void attention_rows(const at::Tensor &q, const at::Tensor &kc, const at::Tensor &vc,
                    const bool *mask, at::Tensor &out, std::int64_t kv_len) {
    const std::int64_t B = q.size(0), T_ = q.size(1), H = q.size(2), hd = q.size(3);
    const std::int64_t KV = kc.size(1), groups = H / KV;
    const auto act = q.scalar_type() == at::kFloat ? kernels::Act::F32 : kernels::Act::BF16;
    const auto kv_act = kc.scalar_type() == at::kFloat ? kernels::Act::F32 : kernels::Act::BF16;
    const std::size_t elem = q.element_size(), kv_elem = kc.element_size();
    const char *qp = static_cast<const char *>(q.data_ptr());
    const char *kp = static_cast<const char *>(kc.data_ptr());
    const char *vp = static_cast<const char *>(vc.data_ptr());
    char *op = static_cast<char *>(out.data_ptr());
    const float scale = 1.0f / std::sqrt(float(hd));
    const std::int64_t tasks = B * T_ * KV;
    // A chunk should read >= 64 KiB of cache (K and V) to be worth a thread's wake-up.
    const std::int64_t bytes = 2 * kv_len * hd * std::int64_t(kv_elem);
    const std::int64_t grain = std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(1, bytes));
    parallel_for(0, tasks, grain, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
            const std::int64_t kvh = task % KV, bt = task / KV, b = bt / T_;
            const std::size_t head0 = std::size_t((bt * H + kvh * groups) * hd);
            const std::size_t cache = std::size_t(b * kc.stride(0) + kvh * kc.stride(1));
            kernels::attend(qp + head0 * elem, act, groups, hd, kp + cache * kv_elem,
                            vp + cache * kv_elem, kv_act, hd, kv_len,
                            reinterpret_cast<const unsigned char *>(mask + bt * kv_len), scale,
                            op + head0 * elem, act);
        }
    });
}

// U: the cache's element type; T: the rows' (fp32 rows into a bf16 cache are rounded as
// at::Tensor::to rounds, to nearest even).
template <class U, class T>
void write_rows(U *cache, const T *kv, const std::int64_t *pos, std::int64_t B, std::int64_t T_,
                std::int64_t KV, std::int64_t hd, std::int64_t row_stride,
                std::int64_t head_stride) {
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t t = 0; t < T_; ++t)
            for (std::int64_t h = 0; h < KV; ++h) {
                const T *src = kv + ((b * T_ + t) * KV + h) * hd;
                U *dst = cache + b * row_stride + h * head_stride + pos[b * T_ + t] * hd;
                for (std::int64_t i = 0; i < hd; ++i) dst[i] = from_f<U>(to_f(src[i]));
            }
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

at::Tensor swiglu(const at::Tensor &gate_in, const at::Tensor &up_in) {
    const std::int64_t F = gate_in.size(-1);
    // Views of the rows: the fused output's halves reshape without a copy (uniform row stride).
    const at::Tensor gate = gate_in.reshape({-1, F}), up = up_in.reshape({-1, F});
    TORCH_CHECK(gate.sizes() == up.sizes() && gate.stride(1) == 1 && up.stride(1) == 1 &&
                    gate.scalar_type() == up.scalar_type(),
                "decode_ops::swiglu: gate and up differ in shape or dtype, or are not row-major");
    at::Tensor out = at::empty(gate_in.sizes(), gate_in.options());
    kernels::swiglu(gate.data_ptr(), gate.stride(0), up.data_ptr(), up.stride(0),
                    gate.scalar_type() == at::kFloat ? kernels::Act::F32 : kernels::Act::BF16,
                    gate.size(0), F, out.data_ptr());
    return out;
}

void write_cache(at::Tensor &cache, const at::Tensor &kv_in, const at::Tensor &positions) {
    const at::Tensor kv = kv_in.contiguous(), pos = positions.contiguous();
    const std::int64_t B = kv.size(0), T = kv.size(1), KV = kv.size(2), hd = kv.size(3);
    const std::int64_t *p = pos.data_ptr<std::int64_t>();
    const std::int64_t rs = cache.stride(0), hs = cache.stride(1);
    const bool f32_rows = kv.scalar_type() == at::kFloat;
    if (cache.scalar_type() == at::kFloat) {
        if (f32_rows)
            write_rows(cache.data_ptr<float>(), kv.data_ptr<float>(), p, B, T, KV, hd, rs, hs);
        else
            write_rows(cache.data_ptr<float>(), kv.data_ptr<bf16>(), p, B, T, KV, hd, rs, hs);
    } else if (f32_rows) {
        write_rows(cache.data_ptr<bf16>(), kv.data_ptr<float>(), p, B, T, KV, hd, rs, hs);
    } else {
        write_rows(cache.data_ptr<bf16>(), kv.data_ptr<bf16>(), p, B, T, KV, hd, rs, hs);
    }
}

at::Tensor attention(const at::Tensor &q_in, const at::Tensor &k_cache, const at::Tensor &v_cache,
                     const at::Tensor &mask_in, std::int64_t kv_len) {
    const at::Tensor q = q_in.contiguous(), mask = mask_in.contiguous();
    const std::int64_t B = q.size(0), T = q.size(1), H = q.size(2), hd = q.size(3);
    at::Tensor out = at::empty({B, T, H * hd}, q.options());
    // Cache rows: [S_max, hd] contiguous per (row, KV head), as write_cache makes them.
    TORCH_CHECK(k_cache.stride(3) == 1 && k_cache.stride(2) == hd &&
                    v_cache.strides() == k_cache.strides() &&
                    v_cache.scalar_type() == k_cache.scalar_type() &&
                    (k_cache.scalar_type() == at::kFloat || k_cache.scalar_type() == at::kBFloat16),
                "decode_ops::attention: unexpected KV-cache layout or dtype");
    attention_rows(q, k_cache, v_cache, mask.data_ptr<bool>(), out, kv_len);
    return out;
}

} // namespace llmhost::engine::decode_ops
