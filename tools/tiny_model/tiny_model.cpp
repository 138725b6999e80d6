// Tiny random-weight model writer (see tiny_model.hpp).
#include "tiny_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>

namespace llmhost::tools {
namespace fs = std::filesystem;
using nlohmann::json;

// ---- spec <-> json ------------------------------------------------------------------------------

json TinyModelSpec::to_json() const {
    json j = {{"arch", arch}, {"seed", seed}, {"vocab_size", vocab_size},
              {"hidden_size", hidden_size}, {"intermediate_size", intermediate_size},
              {"num_layers", num_layers}, {"num_heads", num_heads}, {"num_kv_heads", num_kv_heads},
              {"head_dim", head_dim}, {"max_position_embeddings", max_position_embeddings},
              {"rms_norm_eps", rms_norm_eps}, {"rope_theta", rope_theta},
              {"rope_scaling", rope_scaling}, {"tie_word_embeddings", tie_word_embeddings},
              {"dtype", dtype}, {"shards", shards}, {"eos_token_ids", eos_token_ids},
              {"bos_token_id", bos_token_id}};
    if (sliding_window) j["sliding_window"] = *sliding_window;
    if (head_scale != 1.0) j["head_scale"] = head_scale;
    return j;
}

TinyModelSpec TinyModelSpec::from_json(const json &j) {
    TinyModelSpec s;
    auto get = [&](const char *k, auto &field) {
        if (j.contains(k)) field = j.at(k).get<std::decay_t<decltype(field)>>();
    };
    get("arch", s.arch); get("seed", s.seed); get("vocab_size", s.vocab_size);
    get("hidden_size", s.hidden_size); get("intermediate_size", s.intermediate_size);
    get("num_layers", s.num_layers); get("num_heads", s.num_heads);
    get("num_kv_heads", s.num_kv_heads); get("head_dim", s.head_dim);
    get("max_position_embeddings", s.max_position_embeddings);
    get("rms_norm_eps", s.rms_norm_eps); get("rope_theta", s.rope_theta);
    get("rope_scaling", s.rope_scaling); get("tie_word_embeddings", s.tie_word_embeddings);
    get("dtype", s.dtype); get("shards", s.shards); get("eos_token_ids", s.eos_token_ids);
    get("bos_token_id", s.bos_token_id); get("head_scale", s.head_scale);
    if (j.contains("sliding_window")) s.sliding_window = j.at("sliding_window").get<std::int64_t>();
    return s;
}

// ---- deterministic values -------------------------------------------------------------------

namespace {

std::uint64_t splitmix64(std::uint64_t &state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::uint64_t fnv1a(const std::string &s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

// Uniform in [-1, 1) from 24 random bits: exact in float, the same everywhere.
float uniform_pm1(std::uint64_t &state) {
    return static_cast<float>(static_cast<std::int32_t>(splitmix64(state) >> 40) - (1 << 23)) /
           static_cast<float>(1 << 23);
}

std::uint16_t float_to_f16(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, 4);
    const std::uint32_t sign = (x >> 16) & 0x8000;
    std::int32_t exp = static_cast<std::int32_t>((x >> 23) & 0xff) - 127 + 15;
    std::uint32_t mant = x & 0x7fffff;
    if (exp >= 31) return static_cast<std::uint16_t>(sign | 0x7c00); // overflow -> inf
    if (exp <= 0) {                                                  // subnormal or zero
        if (exp < -10) return static_cast<std::uint16_t>(sign);
        mant |= 0x800000;
        const int shift = 14 - exp;
        std::uint32_t half = mant >> shift;
        const std::uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) ++half;
        return static_cast<std::uint16_t>(sign | half);
    }
    std::uint32_t half = sign | (static_cast<std::uint32_t>(exp) << 10) | (mant >> 13);
    const std::uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half; // may carry into the exponent: ok
    return static_cast<std::uint16_t>(half);
}

float f16_to_float(std::uint16_t h) {
    const std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float f;
    if (exp == 0) f = std::ldexp(static_cast<float>(mant), -24);
    else if (exp == 31) f = mant ? NAN : INFINITY;
    else f = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    u |= sign;
    std::memcpy(&f, &u, 4);
    return f;
}

} // namespace

std::uint16_t float_to_bf16(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffff) > 0x7f800000) return 0x7fc0; // NaN
    u += 0x7fff + ((u >> 16) & 1);                    // round to nearest even
    return static_cast<std::uint16_t>(u >> 16);
}

float bf16_to_float(std::uint16_t b) {
    std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

float round_to_dtype(float v, const std::string &dtype) {
    if (dtype == "BF16") return bf16_to_float(float_to_bf16(v));
    if (dtype == "F16") return f16_to_float(float_to_f16(v));
    return v;
}

// ---- tokenizer-derived fields -----------------------------------------------------------------

TinyModelSpec resolve_spec(TinyModelSpec s) {
    if (s.head_dim == 0) s.head_dim = s.hidden_size / s.num_heads;
    if (s.arch == "gpt2") s.num_kv_heads = s.num_heads;
    if (!s.tokenizer_dir) return s;
    const fs::path tj = *s.tokenizer_dir / "tokenizer.json";
    const fs::path tc = *s.tokenizer_dir / "tokenizer_config.json";
    std::ifstream in(tj);
    if (!in) throw std::runtime_error("cannot read " + tj.string());
    json tok = json::parse(in);
    std::int64_t max_id = -1;
    std::map<std::string, std::int64_t> added;
    for (auto &[piece, id] : tok.at("model").at("vocab").items()) max_id = std::max<std::int64_t>(max_id, id);
    for (const auto &a : tok.value("added_tokens", json::array())) {
        added[a.at("content").get<std::string>()] = a.at("id").get<std::int64_t>();
        max_id = std::max<std::int64_t>(max_id, a.at("id").get<std::int64_t>());
    }
    s.vocab_size = max_id + 1;
    json cfg = json::object();
    if (std::ifstream c(tc); c) cfg = json::parse(c);
    auto token_text = [&](const char *key) -> std::string {
        if (!cfg.contains(key) || cfg[key].is_null()) return "";
        return cfg[key].is_string() ? cfg[key].get<std::string>() : cfg[key].value("content", "");
    };
    if (auto b = added.find(token_text("bos_token")); b != added.end()) s.bos_token_id = b->second;
    s.eos_token_ids.clear();
    if (auto e = added.find(token_text("eos_token")); e != added.end()) s.eos_token_ids.push_back(e->second);
    // End-of-turn markers of chat templates also end a reply, as in the real generation configs.
    for (const char *t : {"<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<end_of_turn>"})
        if (auto e = added.find(t); e != added.end() &&
            std::find(s.eos_token_ids.begin(), s.eos_token_ids.end(), e->second) == s.eos_token_ids.end())
            s.eos_token_ids.push_back(e->second);
    return s;
}

// ---- weights ------------------------------------------------------------------------------

std::vector<TinyTensor> make_weights(const TinyModelSpec &s) {
    std::vector<TinyTensor> out;
    // kind: 'e' embedding (std 1), 'w' matrix (std 1/sqrt(fan_in)), 'h' lm_head ('w' times
    // head_scale), 'n' norm (1 +- 0.1),
    // 'b' bias (+-0.1), 'p' positions (std 0.1). The scales keep activations O(1) so that
    // greedy decoding is not decided by rounding noise.
    auto add = [&](const std::string &name, std::vector<std::int64_t> shape, char kind) {
        TinyTensor t{name, shape, {}};
        std::int64_t n = 1;
        for (auto d : shape) n *= d;
        t.values.resize(static_cast<std::size_t>(n));
        std::uint64_t state = s.seed ^ fnv1a(name);
        const double sqrt3 = std::sqrt(3.0);
        const float scale = kind == 'e' ? float(sqrt3)
                            : kind == 'w' ? float(sqrt3 / std::sqrt(double(shape.back())))
                            : kind == 'h' ? float(s.head_scale * sqrt3 / std::sqrt(double(shape.back())))
                            : kind == 'p' ? float(0.1 * sqrt3)
                                          : 0.1f;
        for (auto &v : t.values) {
            float r = uniform_pm1(state) * scale;
            v = round_to_dtype(kind == 'n' ? 1.0f + r : r, s.dtype);
        }
        out.push_back(std::move(t));
    };
    const std::int64_t D = s.hidden_size, F = s.intermediate_size, V = s.vocab_size;
    if (s.arch == "gpt2") {
        add("transformer.wte.weight", {V, D}, 'e');
        add("transformer.wpe.weight", {s.max_position_embeddings, D}, 'p');
        for (std::int64_t i = 0; i < s.num_layers; ++i) {
            const std::string p = "transformer.h." + std::to_string(i) + ".";
            add(p + "ln_1.weight", {D}, 'n');
            add(p + "ln_1.bias", {D}, 'b');
            // Conv1D weights are [in, out]: the fan-in is the first dimension.
            add(p + "attn.c_attn.weight", {3 * D, D}, 'w');
            out.back().shape = {D, 3 * D};
            add(p + "attn.c_attn.bias", {3 * D}, 'b');
            add(p + "attn.c_proj.weight", {D, D}, 'w');
            add(p + "attn.c_proj.bias", {D}, 'b');
            add(p + "ln_2.weight", {D}, 'n');
            add(p + "ln_2.bias", {D}, 'b');
            add(p + "mlp.c_fc.weight", {F, D}, 'w');
            out.back().shape = {D, F};
            add(p + "mlp.c_fc.bias", {F}, 'b');
            add(p + "mlp.c_proj.weight", {D, F}, 'w');
            out.back().shape = {F, D};
            add(p + "mlp.c_proj.bias", {D}, 'b');
        }
        add("transformer.ln_f.weight", {D}, 'n');
        add("transformer.ln_f.bias", {D}, 'b');
        if (!s.tie_word_embeddings) add("lm_head.weight", {V, D}, 'h');
        return out;
    }
    if (s.arch != "llama" && s.arch != "mistral" && s.arch != "qwen2" && s.arch != "qwen3")
        throw std::runtime_error("unknown arch '" + s.arch + "' (llama, mistral, qwen2, qwen3, gpt2)");
    const std::int64_t H = s.num_heads, KV = s.num_kv_heads, hd = s.head_dim;
    add("model.embed_tokens.weight", {V, D}, 'e');
    for (std::int64_t i = 0; i < s.num_layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        add(p + "input_layernorm.weight", {D}, 'n');
        add(p + "self_attn.q_proj.weight", {H * hd, D}, 'w');
        add(p + "self_attn.k_proj.weight", {KV * hd, D}, 'w');
        add(p + "self_attn.v_proj.weight", {KV * hd, D}, 'w');
        if (s.arch == "qwen2") {
            add(p + "self_attn.q_proj.bias", {H * hd}, 'b');
            add(p + "self_attn.k_proj.bias", {KV * hd}, 'b');
            add(p + "self_attn.v_proj.bias", {KV * hd}, 'b');
        }
        if (s.arch == "qwen3") {
            add(p + "self_attn.q_norm.weight", {hd}, 'n');
            add(p + "self_attn.k_norm.weight", {hd}, 'n');
        }
        add(p + "self_attn.o_proj.weight", {D, H * hd}, 'w');
        add(p + "post_attention_layernorm.weight", {D}, 'n');
        add(p + "mlp.gate_proj.weight", {F, D}, 'w');
        add(p + "mlp.up_proj.weight", {F, D}, 'w');
        add(p + "mlp.down_proj.weight", {D, F}, 'w');
    }
    add("model.norm.weight", {D}, 'n');
    if (!s.tie_word_embeddings) add("lm_head.weight", {V, D}, 'h');
    return out;
}

// ---- files ----------------------------------------------------------------------------------

void write_safetensors(const fs::path &file, const std::vector<const TinyTensor *> &ts,
                       const std::string &dtype) {
    const std::size_t esize = dtype == "F32" ? 4 : 2;
    json header = json::object();
    std::size_t offset = 0;
    for (const TinyTensor *t : ts) {
        const std::size_t n = t->values.size() * esize;
        header[t->name] = {{"dtype", dtype}, {"shape", t->shape}, {"data_offsets", {offset, offset + n}}};
        offset += n;
    }
    header["__metadata__"] = {{"format", "pt"}};
    std::string h = header.dump();
    while ((8 + h.size()) % 8 != 0) h.push_back(' '); // align the data section, as safetensors does
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + file.string());
    const std::uint64_t len = h.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((len >> (8 * i)) & 0xff));
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const TinyTensor *t : ts) {
        if (dtype == "F32") {
            out.write(reinterpret_cast<const char *>(t->values.data()),
                      static_cast<std::streamsize>(t->values.size() * 4));
            continue;
        }
        std::vector<std::uint16_t> half(t->values.size());
        for (std::size_t i = 0; i < half.size(); ++i)
            half[i] = dtype == "BF16" ? float_to_bf16(t->values[i]) : float_to_f16(t->values[i]);
        out.write(reinterpret_cast<const char *>(half.data()),
                  static_cast<std::streamsize>(half.size() * 2));
    }
    if (!out) throw std::runtime_error("write failed: " + file.string());
}

namespace {

json hf_config(const TinyModelSpec &s) {
    const std::string torch_dtype = s.dtype == "F32" ? "float32" : s.dtype == "BF16" ? "bfloat16" : "float16";
    json eos = s.eos_token_ids.size() == 1 ? json(s.eos_token_ids[0]) : json(s.eos_token_ids);
    if (s.arch == "gpt2")
        return {{"architectures", {"GPT2LMHeadModel"}}, {"model_type", "gpt2"},
                {"vocab_size", s.vocab_size}, {"n_embd", s.hidden_size}, {"n_layer", s.num_layers},
                {"n_head", s.num_heads}, {"n_positions", s.max_position_embeddings},
                {"n_ctx", s.max_position_embeddings}, {"n_inner", s.intermediate_size},
                {"activation_function", "gelu_new"}, {"layer_norm_epsilon", s.rms_norm_eps},
                {"tie_word_embeddings", s.tie_word_embeddings}, {"bos_token_id", s.bos_token_id},
                {"eos_token_id", eos}, {"torch_dtype", torch_dtype}};
    static const std::map<std::string, std::pair<const char *, const char *>> names = {
        {"llama", {"LlamaForCausalLM", "llama"}}, {"mistral", {"MistralForCausalLM", "mistral"}},
        {"qwen2", {"Qwen2ForCausalLM", "qwen2"}}, {"qwen3", {"Qwen3ForCausalLM", "qwen3"}}};
    const auto &[architecture, model_type] = names.at(s.arch);
    json c = {{"architectures", {architecture}}, {"model_type", model_type},
              {"vocab_size", s.vocab_size}, {"hidden_size", s.hidden_size},
              {"intermediate_size", s.intermediate_size}, {"num_hidden_layers", s.num_layers},
              {"num_attention_heads", s.num_heads}, {"num_key_value_heads", s.num_kv_heads},
              {"head_dim", s.head_dim}, {"max_position_embeddings", s.max_position_embeddings},
              {"rms_norm_eps", s.rms_norm_eps}, {"rope_theta", s.rope_theta},
              {"hidden_act", "silu"}, {"tie_word_embeddings", s.tie_word_embeddings},
              {"attention_bias", false}, {"bos_token_id", s.bos_token_id}, {"eos_token_id", eos},
              {"torch_dtype", torch_dtype}, {"rope_scaling", nullptr}};
    if (s.rope_scaling == "llama3")
        c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                             {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 64}};
    if (s.arch == "mistral") c["sliding_window"] = s.sliding_window ? json(*s.sliding_window) : json(nullptr);
    if (s.arch == "qwen2" || s.arch == "qwen3") {
        c["use_sliding_window"] = false;
        c["sliding_window"] = 4096;
    }
    return c;
}

} // namespace

TinyModelSpec write_model_dir(const TinyModelSpec &spec, const fs::path &dir) {
    const TinyModelSpec s = resolve_spec(spec);
    fs::create_directories(dir);
    auto write_json = [&](const fs::path &f, const json &j) {
        std::ofstream out(f, std::ios::trunc);
        out << j.dump(2) << "\n";
        if (!out) throw std::runtime_error("cannot write " + f.string());
    };
    write_json(dir / "config.json", hf_config(s));
    json gen = {{"bos_token_id", s.bos_token_id},
                {"eos_token_id", s.eos_token_ids.size() == 1 ? json(s.eos_token_ids[0]) : json(s.eos_token_ids)},
                {"do_sample", false}};
    write_json(dir / "generation_config.json", gen);
    const std::vector<TinyTensor> weights = make_weights(s);
    if (s.shards <= 1) {
        std::vector<const TinyTensor *> all;
        for (const auto &t : weights) all.push_back(&t);
        write_safetensors(dir / "model.safetensors", all, s.dtype);
    } else {
        json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", json::object()}};
        std::size_t total = 0;
        for (int k = 0; k < s.shards; ++k) {
            char name[64];
            std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", k + 1, s.shards);
            std::vector<const TinyTensor *> part;
            for (std::size_t i = k; i < weights.size(); i += static_cast<std::size_t>(s.shards)) {
                part.push_back(&weights[i]);
                index["weight_map"][weights[i].name] = name;
                total += weights[i].values.size() * (s.dtype == "F32" ? 4 : 2);
            }
            write_safetensors(dir / name, part, s.dtype);
        }
        index["metadata"]["total_size"] = total;
        write_json(dir / "model.safetensors.index.json", index);
    }
    if (s.tokenizer_dir)
        for (const char *f : {"tokenizer.json", "tokenizer_config.json"})
            if (fs::exists(*s.tokenizer_dir / f))
                fs::copy_file(*s.tokenizer_dir / f, dir / f, fs::copy_options::overwrite_existing);
    return s;
}

void write_llama2c_checkpoint(const TinyModelSpec &s, const std::vector<TinyTensor> &w,
                              const fs::path &file) {
    if (s.arch != "llama" || s.dtype != "F32" || s.head_dim * s.num_heads != s.hidden_size ||
        s.rope_scaling != "" || s.rms_norm_eps != 1e-5 || s.rope_theta != 10000.0)
        throw std::runtime_error("llama2.c export needs arch llama, F32, head_dim * heads == hidden, "
                                 "no rope_scaling, rms_norm_eps 1e-5 and rope_theta 10000 "
                                 "(run.c hard-codes the last two)");
    std::map<std::string, const TinyTensor *> by_name;
    for (const auto &t : w) by_name[t.name] = &t;
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    auto put_i32 = [&](std::int64_t v) {
        const std::int32_t x = static_cast<std::int32_t>(v);
        out.write(reinterpret_cast<const char *>(&x), 4);
    };
    auto put = [&](const std::vector<float> &v) {
        out.write(reinterpret_cast<const char *>(v.data()), static_cast<std::streamsize>(v.size() * 4));
    };
    // transformers' rotate-half rows (half h, index j) -> llama2.c's interleaved row 2j + h.
    auto unpermute = [&](const TinyTensor &t, std::int64_t heads) {
        const std::int64_t rows = t.shape[0], cols = t.shape[1], hd = rows / heads;
        std::vector<float> r(t.values.size());
        for (std::int64_t h = 0; h < heads; ++h)
            for (std::int64_t half = 0; half < 2; ++half)
                for (std::int64_t j = 0; j < hd / 2; ++j) {
                    const std::int64_t src = h * hd + half * (hd / 2) + j, dst = h * hd + 2 * j + half;
                    std::copy_n(t.values.begin() + src * cols, cols, r.begin() + dst * cols);
                }
        return r;
    };
    const std::int64_t L = s.num_layers;
    auto layer = [&](std::int64_t i, const std::string &suffix) -> const TinyTensor & {
        return *by_name.at("model.layers." + std::to_string(i) + "." + suffix);
    };
    put_i32(s.hidden_size);
    put_i32(s.intermediate_size);
    put_i32(L);
    put_i32(s.num_heads);
    put_i32(s.num_kv_heads);
    put_i32(s.tie_word_embeddings ? s.vocab_size : -s.vocab_size); // negative: separate classifier
    put_i32(s.max_position_embeddings);
    put(by_name.at("model.embed_tokens.weight")->values);
    for (std::int64_t i = 0; i < L; ++i) put(layer(i, "input_layernorm.weight").values);
    for (std::int64_t i = 0; i < L; ++i) put(unpermute(layer(i, "self_attn.q_proj.weight"), s.num_heads));
    for (std::int64_t i = 0; i < L; ++i) put(unpermute(layer(i, "self_attn.k_proj.weight"), s.num_kv_heads));
    for (std::int64_t i = 0; i < L; ++i) put(layer(i, "self_attn.v_proj.weight").values);
    for (std::int64_t i = 0; i < L; ++i) put(layer(i, "self_attn.o_proj.weight").values);
    for (std::int64_t i = 0; i < L; ++i) put(layer(i, "post_attention_layernorm.weight").values);
    for (std::int64_t i = 0; i < L; ++i) put(layer(i, "mlp.gate_proj.weight").values);
    for (std::int64_t i = 0; i < L; ++i) put(layer(i, "mlp.down_proj.weight").values);
    for (std::int64_t i = 0; i < L; ++i) put(layer(i, "mlp.up_proj.weight").values);
    put(by_name.at("model.norm.weight")->values);
    // Two unused legacy RoPE tables (freq_cis_real, freq_cis_imag) that run.c skips.
    put(std::vector<float>(static_cast<std::size_t>(s.max_position_embeddings * s.head_dim), 0.0f));
    if (!s.tie_word_embeddings) put(by_name.at("lm_head.weight")->values);
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

} // namespace llmhost::tools
