#include "roofline.hpp"

#include <llmhost/engine/safetensors.hpp>
#include <llmhost/kernels/bandwidth.hpp>
#include <llmhost/kernels/linear.hpp>

#include <cstdio>

namespace bench {

ReadBandwidth read_bandwidth(int threads, std::size_t bytes, int runs) {
    const auto b = llmhost::kernels::measure_read_bandwidth(threads, bytes, runs);
    return {b.threads, b.bytes_per_s};
}

double bytes_per_token(const llmhost::engine::Engine &e, const std::filesystem::path &model_dir,
                       double pos) {
    const auto &cfg = e.config();
    double bytes = static_cast<double>(e.weight_bytes());
    // On the CPU, bf16/int8/int4 projections are packed copies (models/weights.cpp): a tied
    // lm_head is then a packed copy next to the lookup table, which is read one row per token.
    const bool packed = e.device() == "cpu" &&
                        (e.dtype() == "bfloat16" || e.dtype() == "int8" || e.dtype() == "int4");
    if (!cfg.tie_word_embeddings || packed) {
        // The table is a lookup: one row per token. In memory it has the compute dtype when that
        // is a float type, else (quantized linears) the file's, as the engine keeps it.
        const auto ckpt = llmhost::engine::SafetensorsCheckpoint::open_dir(model_dir);
        const auto &t = ckpt.tensors();
        for (const char *name : {"model.embed_tokens.weight", "transformer.wte.weight"})
            if (auto it = t.find(name); it != t.end()) {
                const std::string dt = e.dtype();
                const double elt = dt == "float32" ? 4
                                   : dt == "bfloat16" || dt == "float16"
                                       ? 2
                                       : llmhost::engine::dtype_size(it->second.dtype);
                const double rows = static_cast<double>(it->second.shape.at(0));
                const double row_bytes = elt * static_cast<double>(it->second.shape.at(1));
                bytes -= row_bytes * (rows - 1);
            }
    }
    // KV cache: kv_cache_bytes covers max_batch slots x max_context positions (K and V, all
    // layers).
    const double per_pos = static_cast<double>(e.kv_cache_bytes()) /
                           static_cast<double>(e.max_batch() * e.max_context());
    return bytes + per_pos * pos;
}

std::vector<std::size_t> step_segments(const llmhost::engine::Engine &e) {
    using llmhost::kernels::Format;
    using llmhost::kernels::PackedMatrix;
    const auto &c = e.config();
    const std::string dt = e.dtype();
    if (e.device() != "cpu" || (dt != "bfloat16" && dt != "int8" && dt != "int4") ||
        c.model_type == "gpt2" || c.hidden_size <= 0 || c.num_hidden_layers <= 0)
        return {};
    const Format f = dt == "bfloat16" ? Format::BF16 : dt == "int8" ? Format::Q8 : Format::Q4;
    const std::int64_t D = c.hidden_size, hd = c.head_dim, Nq = c.num_attention_heads * hd,
                       Nkv = c.num_key_value_heads * hd, F = c.intermediate_size;
    auto bytes = [f](std::int64_t rows, std::int64_t cols) {
        return PackedMatrix::bytes_for(f, rows, cols);
    };
    std::vector<std::size_t> s;
    for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
        s.push_back(bytes(Nq, D) + 2 * bytes(Nkv, D)); // linear_concat: q, k, v
        s.push_back(bytes(D, Nq));
        s.push_back(2 * bytes(F, D)); // gate, up
        s.push_back(bytes(D, F));
    }
    s.push_back(bytes(c.vocab_size, D));
    return s;
}

std::string check_bound(const std::string &what, double tok_s, double bytes,
                        const ReadBandwidth &bw) {
    const double implied = tok_s * bytes;
    if (implied <= bw.bytes_per_s) return {};
    char line[320];
    std::snprintf(line, sizeof line,
                  "WARNING: %s streams %.1f GB/s, more than the %.1f GB/s read bandwidth measured "
                  "at %d thread(s): that measurement is too low, and so is its bound",
                  what.c_str(), implied / 1e9, bw.bytes_per_s / 1e9, bw.threads);
    return line;
}

} // namespace bench
