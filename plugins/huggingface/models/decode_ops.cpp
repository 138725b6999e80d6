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

// ldx, ldo: the row strides of x and out in elements (a row: `heads` heads of hd).
template <class T>
void rope_rows(const T *x, std::int64_t ldx, const T *cos, const T *sin, const std::int64_t *pos,
               T *out, std::int64_t ldo, std::int64_t rows, std::int64_t heads, std::int64_t hd) {
    const std::int64_t half = hd / 2;
    for (std::int64_t r = 0; r < rows; ++r) {
        const T *c = cos + pos[r] * hd, *s = sin + pos[r] * hd;
        for (std::int64_t h = 0; h < heads; ++h) {
            const T *xi = x + r * ldx + h * hd;
            T *o = out + r * ldo + h * hd;
            // x * cos + rotate_half(x) * sin, each product rounded like the tensor ops; the two
            // halves as two loops (rotate_half is -x2 there, x1 here), so that each vectorizes.
#pragma omp simd
            for (std::int64_t i = 0; i < half; ++i) {
                const T a = from_f<T>(to_f(xi[i]) * to_f(c[i]));
                const T b = from_f<T>(-to_f(xi[i + half]) * to_f(s[i]));
                o[i] = from_f<T>(to_f(a) + to_f(b));
            }
#pragma omp simd
            for (std::int64_t i = half; i < hd; ++i) {
                const T a = from_f<T>(to_f(xi[i]) * to_f(c[i]));
                const T b = from_f<T>(to_f(xi[i - half]) * to_f(s[i]));
                o[i] = from_f<T>(to_f(a) + to_f(b));
            }
        }
    }
}

// U: the cache's element type; T: the rows' (fp32 rows into a bf16 cache are rounded as
// at::Tensor::to rounds, to nearest even).
// ldkv: the row stride of kv in elements (a row: one token's KV heads).
template <class U, class T>
void write_rows(U *cache, const T *kv, std::int64_t ldkv, const std::int64_t *pos, std::int64_t B,
                std::int64_t T_, std::int64_t KV, std::int64_t hd, std::int64_t row_stride,
                std::int64_t head_stride) {
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t t = 0; t < T_; ++t)
            for (std::int64_t h = 0; h < KV; ++h) {
                const T *src = kv + (b * T_ + t) * ldkv + h * hd;
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

// ---- raw memory ---------------------------------------------------------------------------

void rms_norm(Act t, const void *x, const void *w, void *out, std::int64_t rows, std::int64_t D,
              float eps) {
    if (t == Act::F32)
        rms_norm_rows(static_cast<const float *>(x), static_cast<const float *>(w),
                      static_cast<float *>(out), rows, D, eps);
    else
        rms_norm_rows(static_cast<const bf16 *>(x), static_cast<const bf16 *>(w),
                      static_cast<bf16 *>(out), rows, D, eps);
}

void rope(Act t, const void *x, std::int64_t ldx, const void *cos, const void *sin,
          const std::int64_t *pos, void *out, std::int64_t ldo, std::int64_t rows,
          std::int64_t heads, std::int64_t hd) {
    if (t == Act::F32)
        rope_rows(static_cast<const float *>(x), ldx, static_cast<const float *>(cos),
                  static_cast<const float *>(sin), pos, static_cast<float *>(out), ldo, rows, heads,
                  hd);
    else
        rope_rows(static_cast<const bf16 *>(x), ldx, static_cast<const bf16 *>(cos),
                  static_cast<const bf16 *>(sin), pos, static_cast<bf16 *>(out), ldo, rows, heads,
                  hd);
}

void write_cache(Act cache_t, void *cache, std::int64_t rs, std::int64_t hs, Act kv_t,
                 const void *kv, std::int64_t ldkv, const std::int64_t *pos, std::int64_t B,
                 std::int64_t T, std::int64_t KV, std::int64_t hd) {
    auto rows = [&](auto *dst) {
        if (kv_t == Act::F32)
            write_rows(dst, static_cast<const float *>(kv), ldkv, pos, B, T, KV, hd, rs, hs);
        else
            write_rows(dst, static_cast<const bf16 *>(kv), ldkv, pos, B, T, KV, hd, rs, hs);
    };
    if (cache_t == Act::F32)
        rows(static_cast<float *>(cache));
    else
        rows(static_cast<bf16 *>(cache));
}

// One task per (row, KV head): its `groups` query heads in one kernels::attend call, so the
// head's cached keys and values are read once for all of them.
void attention(Act t, const void *q, std::int64_t B, std::int64_t T, std::int64_t H,
               std::int64_t hd, const CacheRows &c, std::int64_t KV, const bool *mask,
               std::int64_t kv_len, void *out) {
    const std::int64_t groups = H / KV;
    const std::size_t elem = t == Act::F32 ? 4 : 2, kv_elem = c.type == Act::F32 ? 4 : 2;
    const char *qp = static_cast<const char *>(q);
    const char *kp = static_cast<const char *>(c.k), *vp = static_cast<const char *>(c.v);
    char *op = static_cast<char *>(out);
    const float scale = 1.0f / std::sqrt(float(hd));
    const std::int64_t tasks = B * T * KV;
    // A chunk should read >= 64 KiB of cache (K and V) to be worth a thread's wake-up.
    const std::int64_t bytes = 2 * kv_len * hd * std::int64_t(kv_elem);
    const std::int64_t grain = std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(1, bytes));
    parallel_for(0, tasks, grain, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
            const std::int64_t kvh = task % KV, bt = task / KV, b = bt / T;
            const std::size_t head0 = std::size_t((bt * H + kvh * groups) * hd);
            const std::size_t cache = std::size_t(b * c.row_stride + kvh * c.head_stride);
            kernels::attend(qp + head0 * elem, t, groups, hd, kp + cache * kv_elem,
                            vp + cache * kv_elem, c.type, hd, kv_len,
                            reinterpret_cast<const unsigned char *>(mask + bt * kv_len), scale,
                            op + head0 * elem, t);
        }
    });
}

// ---- tensors --------------------------------------------------------------------------------

namespace {
Act act_of(const at::Tensor &t) { return t.scalar_type() == at::kFloat ? Act::F32 : Act::BF16; }
} // namespace

at::Tensor rms_norm(const at::Tensor &x_in, const at::Tensor &weight, double eps) {
    const at::Tensor x = x_in.contiguous(), w = weight.contiguous();
    at::Tensor out = at::empty_like(x);
    const std::int64_t D = x.size(-1);
    rms_norm(act_of(x), x.data_ptr(), w.data_ptr(), out.data_ptr(), x.numel() / D, D, float(eps));
    return out;
}

at::Tensor rope(const at::Tensor &x_in, const at::Tensor &cos, const at::Tensor &sin,
                const at::Tensor &positions) {
    const at::Tensor x = x_in.contiguous(), pos = positions.contiguous();
    at::Tensor out = at::empty_like(x);
    const std::int64_t rows = x.size(0) * x.size(1), heads = x.size(2), hd = x.size(3);
    rope(act_of(x), x.data_ptr(), heads * hd, cos.data_ptr(), sin.data_ptr(),
         pos.data_ptr<std::int64_t>(), out.data_ptr(), heads * hd, rows, heads, hd);
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
    kernels::swiglu(gate.data_ptr(), gate.stride(0), up.data_ptr(), up.stride(0), act_of(gate),
                    gate.size(0), F, out.data_ptr());
    return out;
}

void write_cache(at::Tensor &cache, const at::Tensor &kv_in, const at::Tensor &positions) {
    const at::Tensor kv = kv_in.contiguous(), pos = positions.contiguous();
    const std::int64_t B = kv.size(0), T = kv.size(1), KV = kv.size(2), hd = kv.size(3);
    write_cache(act_of(cache), cache.data_ptr(), cache.stride(0), cache.stride(1), act_of(kv),
                kv.data_ptr(), KV * hd, pos.data_ptr<std::int64_t>(), B, T, KV, hd);
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
    const CacheRows c{k_cache.data_ptr(), v_cache.data_ptr(), act_of(k_cache), k_cache.stride(0),
                      k_cache.stride(1)};
    attention(act_of(q), q.data_ptr(), B, T, H, hd, c, k_cache.size(1), mask.data_ptr<bool>(),
              kv_len, out.data_ptr());
    return out;
}

} // namespace llmhost::engine::decode_ops
