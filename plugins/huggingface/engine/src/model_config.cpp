// config.json / generation_config.json parsing (see model_config.hpp).
#include <llmhost/engine/model_config.hpp>
#include <llmhost/engine/safetensors.hpp> // ModelFileError

#include <nlohmann/json.hpp>

#include <fstream>

namespace llmhost::engine {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json read_json(const fs::path &file) {
    std::ifstream in(file);
    if (!in) throw ModelFileError("cannot read " + file.string());
    try {
        return json::parse(in);
    } catch (const std::exception &e) {
        throw ModelFileError(file.string() + " is not valid JSON: " + e.what());
    }
}

// Reads j[key] (or the first of several alias keys) as T when present and non-null.
template <class T>
std::optional<T> opt(const json &j, std::initializer_list<const char *> keys, const fs::path &file) {
    for (const char *k : keys) {
        auto it = j.find(k);
        if (it == j.end() || it->is_null()) continue;
        try {
            return it->get<T>();
        } catch (const std::exception &) {
            throw ModelFileError(file.string() + ": field \"" + k + "\" has the wrong type (" +
                                 it->dump() + ")");
        }
    }
    return std::nullopt;
}

std::vector<std::int64_t> ids_of(const json &j, const char *key, const fs::path &file) {
    std::vector<std::int64_t> ids;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return ids;
    if (it->is_number_integer()) ids.push_back(it->get<std::int64_t>());
    else if (it->is_array())
        for (const auto &v : *it) {
            if (!v.is_number_integer())
                throw ModelFileError(file.string() + ": \"" + key + "\" must hold integers");
            ids.push_back(v.get<std::int64_t>());
        }
    else
        throw ModelFileError(file.string() + ": \"" + key + "\" must be an integer or a list");
    return ids;
}

} // namespace

ModelConfig load_model_config(const fs::path &dir) {
    const fs::path file = dir / "config.json";
    if (!fs::exists(file))
        throw ModelFileError("no config.json in " + dir.string() +
                             " (is this a Hugging Face model directory?)");
    const json j = read_json(file);
    if (!j.is_object()) throw ModelFileError(file.string() + " is not a JSON object");
    ModelConfig c;
    if (auto a = j.find("architectures"); a != j.end() && a->is_array() && !a->empty() &&
                                          (*a)[0].is_string())
        c.architecture = (*a)[0].get<std::string>();
    else
        throw ModelFileError(file.string() + " has no \"architectures\" list naming the model class");
    c.model_type = opt<std::string>(j, {"model_type"}, file).value_or("");
    auto need = [&](std::initializer_list<const char *> keys) {
        auto v = opt<std::int64_t>(j, keys, file);
        if (!v || *v <= 0)
            throw ModelFileError(file.string() + ": missing or invalid \"" +
                                 std::string(*keys.begin()) + "\"");
        return *v;
    };
    c.vocab_size = need({"vocab_size"});
    c.hidden_size = need({"hidden_size", "n_embd"});
    c.num_hidden_layers = need({"num_hidden_layers", "n_layer"});
    c.num_attention_heads = need({"num_attention_heads", "n_head"});
    c.intermediate_size = opt<std::int64_t>(j, {"intermediate_size", "n_inner"}, file)
                              .value_or(4 * c.hidden_size); // GPT-2: n_inner null = 4 * n_embd
    c.num_key_value_heads =
        opt<std::int64_t>(j, {"num_key_value_heads"}, file).value_or(c.num_attention_heads);
    c.head_dim = opt<std::int64_t>(j, {"head_dim"}, file)
                     .value_or(c.hidden_size / c.num_attention_heads);
    c.max_position_embeddings =
        opt<std::int64_t>(j, {"max_position_embeddings", "n_positions"}, file).value_or(2048);
    c.rms_norm_eps = opt<double>(j, {"rms_norm_eps", "layer_norm_epsilon"}, file).value_or(1e-6);
    c.rope_theta = opt<double>(j, {"rope_theta"}, file).value_or(10000.0);
    c.tie_word_embeddings = opt<bool>(j, {"tie_word_embeddings"}, file)
                                .value_or(c.model_type == "gpt2"); // GPT-2 ties by default
    c.attention_bias = opt<bool>(j, {"attention_bias"}, file).value_or(false);
    c.hidden_act = opt<std::string>(j, {"hidden_act", "activation_function"}, file).value_or("silu");
    c.torch_dtype = opt<std::string>(j, {"torch_dtype", "dtype"}, file).value_or("");
    c.eos_token_ids = ids_of(j, "eos_token_id", file);
    c.bos_token_id = opt<std::int64_t>(j, {"bos_token_id"}, file);
    if (auto sw = opt<std::int64_t>(j, {"sliding_window"}, file)) {
        // Qwen2 carries a sliding_window that is off unless use_sliding_window is true.
        if (c.model_type != "qwen2" && c.model_type != "qwen3") c.sliding_window = sw;
        else if (opt<bool>(j, {"use_sliding_window"}, file).value_or(false)) c.sliding_window = sw;
    }
    if (auto rs = j.find("rope_scaling"); rs != j.end() && rs->is_object()) {
        c.rope_scaling.type = opt<std::string>(*rs, {"rope_type", "type"}, file).value_or("");
        if (c.rope_scaling.type == "default") c.rope_scaling.type.clear();
        c.rope_scaling.factor = opt<double>(*rs, {"factor"}, file).value_or(1.0);
        c.rope_scaling.low_freq_factor = opt<double>(*rs, {"low_freq_factor"}, file).value_or(1.0);
        c.rope_scaling.high_freq_factor = opt<double>(*rs, {"high_freq_factor"}, file).value_or(4.0);
        c.rope_scaling.original_max_position_embeddings =
            opt<double>(*rs, {"original_max_position_embeddings"}, file).value_or(8192);
        if (!c.rope_scaling.type.empty() && c.rope_scaling.type != "llama3" &&
            c.rope_scaling.type != "linear")
            throw ModelFileError(file.string() + ": rope_scaling type '" + c.rope_scaling.type +
                                 "' is not supported (supported: default, linear, llama3)");
    }
    if (c.num_attention_heads % c.num_key_value_heads != 0)
        throw ModelFileError(file.string() + ": num_attention_heads (" +
                             std::to_string(c.num_attention_heads) +
                             ") is not a multiple of num_key_value_heads (" +
                             std::to_string(c.num_key_value_heads) + ")");
    return c;
}

GenerationDefaults load_generation_defaults(const fs::path &dir) {
    GenerationDefaults g;
    const fs::path file = dir / "generation_config.json";
    if (!fs::exists(file)) return g;
    const json j = read_json(file);
    if (!j.is_object()) throw ModelFileError(file.string() + " is not a JSON object");
    g.eos_token_ids = ids_of(j, "eos_token_id", file);
    g.bos_token_id = opt<std::int64_t>(j, {"bos_token_id"}, file);
    g.do_sample = opt<bool>(j, {"do_sample"}, file);
    g.temperature = opt<double>(j, {"temperature"}, file);
    g.top_p = opt<double>(j, {"top_p"}, file);
    g.min_p = opt<double>(j, {"min_p"}, file);
    g.repetition_penalty = opt<double>(j, {"repetition_penalty"}, file);
    g.top_k = opt<std::int64_t>(j, {"top_k"}, file);
    g.max_new_tokens = opt<std::int64_t>(j, {"max_new_tokens"}, file);
    return g;
}

} // namespace llmhost::engine
