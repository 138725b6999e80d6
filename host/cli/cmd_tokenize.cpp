// `llmhost tokenize -m DIR_OR_TOKENIZER_JSON [--no-special] [--json] [TEXT]`: encodes TEXT (or
// stdin) with a model's tokenizer.json and prints the ids and the pieces. Needs no plugin and no
// network: handy to check what a prompt costs or why a model sees text the way it does.
#include "command_registry.hpp"

#include "llmhost/tokenizer/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <iterator>

#include <unistd.h>

namespace llmhost::cli {
namespace {

struct TokenizeOptions {
    std::string model;
    std::string text;
    bool no_special = false;
    bool json = false;
};

int run_tokenize(const TokenizeOptions &o) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(o.model, ec)) {
        std::cerr << "error: " << o.model << " does not exist\nhint: give a model directory or its tokenizer.json\n";
        return kExitNotFound;
    }
    std::string text = o.text;
    if (text.empty() && isatty(STDIN_FILENO)) {
        std::cerr << "error: no text to tokenize\nhint: llmhost tokenize -m MODEL \"some text\", or pipe the text on stdin\n";
        return kExitUsage;
    }
    if (text.empty()) text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    try {
        auto tok = tok::Tokenizer::from_file(o.model);
        auto ids = tok.encode(text, !o.no_special);
        if (o.json) {
            nlohmann::json pieces = nlohmann::json::array();
            for (int32_t id : ids) pieces.push_back(tok.id_to_token(id));
            nlohmann::json out = {{"count", ids.size()}, {"ids", ids}, {"pieces", pieces}};
            // Pieces of byte-level vocabularies are valid UTF-8; replace anything else rather than throw.
            std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        } else {
            for (int32_t id : ids)
                std::cout << id << "\t"
                          << nlohmann::json(tok.id_to_token(id)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                          << (tok.is_special(id) ? "\tspecial" : "") << "\n";
            std::cout << ids.size() << " tokens\n";
        }
    } catch (const tok::TokenizerError &e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitFailure;
    }
    return kExitOk;
}

void register_tokenize_commands(CLI::App &app, Context &ctx) {
    auto opts = std::make_shared<TokenizeOptions>();
    auto *cmd = app.add_subcommand("tokenize", "Encode text with a model's tokenizer.json; print ids and pieces");
    cmd->add_option("-m,--model", opts->model, "Model directory or tokenizer.json")->required();
    cmd->add_flag("--no-special", opts->no_special, "Do not add the tokenizer's special tokens (e.g. BOS)");
    cmd->add_flag("--json", opts->json, "Print {\"count\", \"ids\", \"pieces\"} as JSON");
    cmd->add_option("text", opts->text, "Text to encode (default: read stdin)");
    cmd->callback([opts, &ctx] { ctx.exit_code = run_tokenize(*opts); });
}

} // namespace
} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(tokenize, llmhost::cli::register_tokenize_commands)
