// Loading tokenizer.json into a TokenizerImpl, with errors that name the file and the json path.
#include "json_util.hpp"
#include "tokenizer_impl.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace llmhost::tok {

Tokenizer::Tokenizer(std::unique_ptr<TokenizerImpl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer &&) noexcept = default;
Tokenizer &Tokenizer::operator=(Tokenizer &&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::string &path) {
    namespace fs = std::filesystem;
    fs::path p(path);
    std::error_code ec;
    if (fs::is_directory(p, ec)) p /= "tokenizer.json";
    std::ifstream in(p, std::ios::binary);
    if (!in)
        throw TokenizerError(p.string() + ": cannot open (give a tokenizer.json file or a model directory that contains one)");
    std::ostringstream buf;
    buf << in.rdbuf();
    return from_json(buf.str(), p.string());
}

Tokenizer Tokenizer::from_json(std::string_view text, std::string origin) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error &e) {
        throw TokenizerError(origin + ": not valid JSON: " + e.what());
    }
    auto impl = std::make_unique<TokenizerImpl>();
    impl->origin = origin;
    try {
        if (!j.is_object()) json_util::fail("", "expected a JSON object (a tokenizer.json)");
        // "truncation" and "padding" are ignored on purpose: encode() never drops or pads tokens
        // (the engine owns the context-length policy), so no prompt text is silently lost.
        const auto null = nlohmann::json();
        auto field = [&](const char *k) -> const nlohmann::json & {
            auto it = j.find(k);
            return it == j.end() ? null : *it;
        };
        impl->normalizer = make_normalizer(field("normalizer"), "/normalizer");
        impl->pre_tokenizer = make_pre_tokenizer(field("pre_tokenizer"), "/pre_tokenizer");
        const auto &model = json_util::member(j, "", "model");
        std::string model_type = model.contains("type") ? json_util::type_of(model, "/model") : "BPE";
        if (model_type != "BPE")
            json_util::fail("/model/type", "model '" + model_type + "' is not supported (supported: BPE)");
        bool byte_level = impl->pre_tokenizer && impl->pre_tokenizer->byte_level();
        impl->model = std::make_unique<BpeModel>(model, "/model", byte_level);
        impl->added = std::make_unique<AddedVocabulary>(field("added_tokens"), "/added_tokens", *impl->model,
                                                        impl->normalizer.get());
        impl->post = make_post_processor(field("post_processor"), "/post_processor");
        impl->decoder = make_decoder(field("decoder"), "/decoder");
    } catch (const TokenizerError &e) {
        throw TokenizerError(origin + ": " + e.what());
    } catch (const nlohmann::json::exception &e) {
        throw TokenizerError(origin + ": unexpected json value: " + e.what());
    }
    return Tokenizer(std::move(impl));
}

} // namespace llmhost::tok
