// PackedMatrix: conversion and quantization of a weight matrix into the streamed layouts
// (described in linear.hpp), and dequantization back to fp32.
#include "detail.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmhost::kernels {
namespace {

using detail::bf16_to_f32;
using detail::f32_to_bf16;
using detail::f32_to_fp16;
using detail::fp16_to_f32;
using detail::kGroup;

void check_shape(const void *src, int64_t rows, int64_t cols, const char *fn) {
    if (!src) throw std::invalid_argument(std::string(fn) + ": src is null");
    if (rows <= 0) throw std::invalid_argument(std::string(fn) + ": rows must be > 0");
    if (cols <= 0) throw std::invalid_argument(std::string(fn) + ": cols must be > 0");
    // rows * padded cols * 2 bytes must not overflow (and would never fit in memory anyway).
    if (rows > (int64_t(1) << 40) / (cols + 2 * kGroup))
        throw std::invalid_argument(std::string(fn) + ": rows * cols too large");
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// The smallest fp16 scale s >= target such that amax / s <= qmax (the fp16 rounding may go below
// the target; stepping up keeps every quantized value inside the range, so |w - q s| <= s / 2).
uint16_t scale_for(float amax, float qmax) {
    float target = amax / qmax;
    uint16_t h = f32_to_fp16(target);
    if ((h & 0x7c00u) == 0x7c00u)
        throw std::invalid_argument("quantize: weight magnitude " + std::to_string(amax) +
                                    " exceeds the fp16 scale range");
    while (fp16_to_f32(h) * qmax < amax) ++h; // positive fp16 bits are ordered like the values
    return h;
}

// Quantizes one row into signed codes q[0, kp) (zero padded) and one fp16 scale per group.
template <class Load>
void quantize_row(Load load, int64_t cols, int64_t kp, Format f, int8_t *q, uint16_t *scales) {
    float buf[kGroup];
    for (int64_t g0 = 0, g = 0; g0 < kp; g0 += kGroup, ++g) {
        int64_t n = std::min(kGroup, cols - g0);
        float amax = 0.0f, vmax = 0.0f;
        for (int64_t j = 0; j < kGroup; ++j) {
            float v = j < n ? load(g0 + j) : 0.0f;
            if (!std::isfinite(v))
                throw std::invalid_argument("quantize: non-finite weight at column " +
                                            std::to_string(g0 + j));
            buf[j] = v;
            if (std::fabs(v) > amax) amax = std::fabs(v), vmax = v;
        }
        // Q8: symmetric, amax -> 127. Q4: Q4_0-style symmetric, the value of largest magnitude
        // maps exactly to -8 so the whole [-8, 7] range is used (amax / 7 would waste a code).
        const bool q8 = f == Format::Q8;
        uint16_t h = amax > 0 ? scale_for(amax, q8 ? 127.0f : 8.0f) : 0;
        float sc = fp16_to_f32(h);
        if (!q8 && vmax > 0) sc = -sc, h |= 0x8000u; // sign chosen so vmax -> -8
        const float inv = sc != 0 ? 1.0f / sc : 0.0f, lo = q8 ? -127.0f : -8.0f,
                    hi = q8 ? 127.0f : 7.0f;
        scales[g] = h;
        for (int64_t j = 0; j < kGroup; ++j)
            q[g0 + j] = static_cast<int8_t>(std::clamp(std::nearbyint(buf[j] * inv), lo, hi));
    }
}

// n bytes for a matrix: from the arena (which the storage then keeps alive), or an allocation of
// its own (huge pages when it is big enough to have any: detail::allocate_streamed).
struct Storage {
    std::shared_ptr<void> owner;
    void *p;
};
Storage storage_for(std::size_t n, const std::shared_ptr<WeightArena> &arena) {
    if (arena) {
        void *p = arena->allocate(n);
        return {std::shared_ptr<void>(arena, p), p};
    }
    const detail::StreamedMemory m = detail::allocate_streamed(n);
    return {std::shared_ptr<void>(m.p, std::free), m.p};
}

struct Packed {
    Storage storage;
    int64_t padded_cols;
};

int64_t padded_rows(int64_t rows) { return round_up(rows, detail::kBlockRows); }

// BF16's blocks (linear.hpp); bits(r, c) gives the source's bf16 bits. Padding is zeros.
template <class Bits>
Packed pack_bf16(Bits bits, int64_t rows, int64_t cols, const std::shared_ptr<WeightArena> &arena) {
    const int64_t kp = detail::padded_cols_for(Format::BF16, cols);
    const std::size_t n = std::size_t(padded_rows(rows) * kp);
    Storage st = storage_for(n * 2, arena);
    auto *p = static_cast<uint16_t *>(st.p);
    std::memset(p, 0, n * 2);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) p[detail::bf16_at(kp, r, c)] = bits(r, c);
    return {std::move(st), kp};
}

// One packing routine for both source types; load(r, c) reads the source as fp32.
template <class Load>
Packed pack_from(Load load, int64_t rows, int64_t cols, Format f,
                 const std::shared_ptr<WeightArena> &arena) {
    if (f == Format::BF16)
        return pack_bf16([&](int64_t r, int64_t c) { return f32_to_bf16(load(r, c)); }, rows, cols,
                         arena);
    if (f != Format::Q8 && f != Format::Q4)
        throw std::invalid_argument("PackedMatrix: unknown format " + std::to_string(int(f)));
    const int64_t kp = detail::padded_cols_for(f, cols), groups = kp / kGroup;
    const int64_t blocks = (rows + detail::kBlockRows - 1) / detail::kBlockRows;
    const int64_t chunk = detail::chunk_bytes(f), chunks = blocks * groups / 2;
    Storage st = storage_for(std::size_t(chunks * chunk), arena);
    auto *p = static_cast<unsigned char *>(st.p);
    // Padding rows: scale 0 and q = 0 (stored as the offset).
    for (int64_t i = 0; i < chunks; ++i) {
        unsigned char *c = p + i * chunk;
        std::memset(c, 0, 2 * detail::kScaleBytes);
        std::memset(c + 2 * detail::kScaleBytes, f == Format::Q4 ? 0x88 : 0x80,
                    std::size_t(chunk - 2 * detail::kScaleBytes));
    }
    {
        std::vector<int8_t> q(static_cast<std::size_t>(kp));
        std::vector<uint16_t> s(static_cast<std::size_t>(groups));
        for (int64_t r = 0; r < rows; ++r) {
            quantize_row([&](int64_t c) { return load(r, c); }, cols, kp, f, q.data(), s.data());
            for (int64_t c = 0; c < kp; ++c) {
                detail::CodeAt at = detail::code_at(f, groups, r, c);
                if (f == Format::Q8)
                    p[at.byte] = static_cast<unsigned char>(q[std::size_t(c)] + 128);
                else
                    p[at.byte] =
                        static_cast<unsigned char>((p[at.byte] & (at.high ? 0x0f : 0xf0)) |
                                                   (q[std::size_t(c)] + 8) << (at.high ? 4 : 0));
            }
            for (int64_t g = 0; g < groups; ++g)
                std::memcpy(p + detail::scale_at(f, groups, r, g), &s[std::size_t(g)], 2);
        }
    }
    return {std::move(st), kp};
}

} // namespace

PackedMatrix::PackedMatrix() = default;
PackedMatrix::~PackedMatrix() = default;
PackedMatrix::PackedMatrix(PackedMatrix &&o) noexcept { *this = std::move(o); }
PackedMatrix &PackedMatrix::operator=(PackedMatrix &&o) noexcept {
    format_ = o.format_;
    rows_ = o.rows_;
    cols_ = o.cols_;
    padded_cols_ = o.padded_cols_;
    storage_ = std::move(o.storage_);
    data_ = o.data_;
    o.rows_ = o.cols_ = o.padded_cols_ = 0;
    o.data_ = nullptr;
    return *this;
}

int64_t PackedMatrix::row_bytes() const {
    switch (format_) {
    case Format::BF16: return padded_cols_ * 2;
    case Format::Q8: return padded_cols_;
    case Format::Q4: return padded_cols_ / 2;
    }
    return 0;
}

std::size_t PackedMatrix::bytes() const {
    if (!data_) return 0;
    return bytes_for(format_, rows_, cols_);
}

PackedMatrix PackedMatrix::from_f32(const float *src, int64_t rows, int64_t cols, Format f,
                                    const std::shared_ptr<WeightArena> &arena) {
    check_shape(src, rows, cols, "PackedMatrix::from_f32");
    Packed p =
        pack_from([&](int64_t r, int64_t c) { return src[r * cols + c]; }, rows, cols, f, arena);
    PackedMatrix m;
    m.storage_ = std::move(p.storage.owner);
    m.format_ = f;
    m.rows_ = rows;
    m.cols_ = cols;
    m.padded_cols_ = p.padded_cols;
    m.data_ = p.storage.p;
    return m;
}

PackedMatrix PackedMatrix::from_bf16(const uint16_t *src, int64_t rows, int64_t cols, Format f,
                                     const std::shared_ptr<WeightArena> &arena) {
    check_shape(src, rows, cols, "PackedMatrix::from_bf16");
    Packed p =
        f == Format::BF16
            ? pack_bf16([&](int64_t r, int64_t c) { return src[r * cols + c]; }, rows, cols, arena)
            : pack_from([&](int64_t r, int64_t c) { return bf16_to_f32(src[r * cols + c]); }, rows,
                        cols, f, arena);
    PackedMatrix m;
    m.storage_ = std::move(p.storage.owner);
    m.format_ = f;
    m.rows_ = rows;
    m.cols_ = cols;
    m.padded_cols_ = p.padded_cols;
    m.data_ = p.storage.p;
    return m;
}

PackedMatrix PackedMatrix::clone(const std::shared_ptr<WeightArena> &arena) const {
    PackedMatrix m;
    if (!data_) return m;
    Storage st = storage_for(bytes(), arena); // one run of bytes() (pack)
    std::memcpy(st.p, data_, bytes());
    m.storage_ = std::move(st.owner);
    m.format_ = format_;
    m.rows_ = rows_;
    m.cols_ = cols_;
    m.padded_cols_ = padded_cols_;
    m.data_ = st.p;
    return m;
}

uint16_t PackedMatrix::scale_bits(int64_t r, int64_t g) const {
    if (format_ == Format::BF16 || !data_)
        throw std::invalid_argument("PackedMatrix::scale_bits: the matrix has no scales (" +
                                    std::string(data_ ? "bf16" : "empty") + ")");
    const int64_t groups = padded_cols_ / kGroup;
    if (r < 0 || r >= rows_ || g < 0 || g >= groups)
        throw std::invalid_argument(
            "PackedMatrix::scale_bits: row " + std::to_string(r) + ", group " + std::to_string(g) +
            " outside [0, " + std::to_string(rows_) + ") x [0, " + std::to_string(groups) + ")");
    uint16_t h;
    std::memcpy(
        &h, static_cast<const unsigned char *>(data_) + detail::scale_at(format_, groups, r, g), 2);
    return h;
}

namespace {
void check_rows(const char *fn, const void *out, const void *data, int64_t r0, int64_t n,
                int64_t rows) {
    if (!out) throw std::invalid_argument(std::string(fn) + ": out is null");
    if (!data) throw std::invalid_argument(std::string(fn) + ": empty matrix");
    if (r0 < 0 || n < 0 || r0 > rows || n > rows - r0)
        throw std::invalid_argument(std::string(fn) + ": rows [" + std::to_string(r0) + ", " +
                                    std::to_string(r0) + "+" + std::to_string(n) +
                                    ") outside [0, " + std::to_string(rows) + ")");
}
} // namespace

void PackedMatrix::unpack_bf16(int64_t r0, int64_t n, uint16_t *out) const {
    check_rows("PackedMatrix::unpack_bf16", out, data_, r0, n, rows_);
    if (format_ != Format::BF16)
        throw std::invalid_argument(std::string("PackedMatrix::unpack_bf16: the matrix is ") +
                                    format_name(format_) + ", not bf16");
    const auto *w = static_cast<const uint16_t *>(data_);
    // Row by row: the 16 rows of a block read the same cache lines, which stay in the L1/L2.
    for (int64_t i = 0; i < n; ++i) {
        const int64_t r = r0 + i;
        uint16_t *o = out + i * cols_;
        for (int64_t c = 0; c < cols_; ++c) o[c] = w[detail::bf16_at(padded_cols_, r, c)];
    }
}

void PackedMatrix::dequantize(int64_t r0, int64_t n, float *out) const {
    check_rows("PackedMatrix::dequantize", out, data_, r0, n, rows_);
    int64_t groups = padded_cols_ / kGroup;
    for (int64_t i = 0; i < n; ++i) {
        int64_t r = r0 + i;
        float *o = out + i * cols_;
        if (format_ == Format::BF16) {
            auto *w = static_cast<const uint16_t *>(data_);
            for (int64_t c = 0; c < cols_; ++c)
                o[c] = bf16_to_f32(w[detail::bf16_at(padded_cols_, r, c)]);
        } else {
            auto *q = static_cast<const unsigned char *>(data_);
            for (int64_t c = 0; c < cols_; ++c) {
                detail::CodeAt at = detail::code_at(format_, groups, r, c);
                int v = format_ == Format::Q8 ? int(q[at.byte]) - 128
                                              : ((q[at.byte] >> (at.high ? 4 : 0)) & 15) - 8;
                uint16_t h;
                std::memcpy(&h, q + detail::scale_at(format_, groups, r, c / kGroup), 2);
                o[c] = float(v) * fp16_to_f32(h);
            }
        }
    }
}

} // namespace llmhost::kernels
