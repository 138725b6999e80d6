#include "variants.hpp"

#include "test_support.hpp"

#include <fstream>

namespace {

using nlohmann::json;

json load(const std::string &name) { return json::parse(std::ifstream(tok_test::model_file(name))); }

void set_flags(json &added, const std::string &content, const json &flags) {
    for (auto &t : added)
        if (t["content"] == content)
            for (auto it = flags.begin(); it != flags.end(); ++it) t[it.key()] = it.value();
}

// llama3's vocabulary with GPT-2 pre-tokenization (regex inside ByteLevel, prefix space), a BOS
// template, and added tokens with lstrip / rstrip / single_word / normalized.
json gpt2_style() {
    json j = load("llama3");
    j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    j["post_processor"] = {{"type", "TemplateProcessing"},
                           {"single", {{{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}},
                                       {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                           {"pair", json::array()},
                           {"special_tokens", {{"<|begin_of_text|>", {{"id", "<|begin_of_text|>"}, {"ids", {128000}}, {"tokens", {"<|begin_of_text|>"}}}}}}};
    set_flags(j["added_tokens"], "<|eot_id|>", {{"lstrip", true}, {"rstrip", true}});
    set_flags(j["added_tokens"], "<|end_of_text|>", {{"single_word", true}});
    set_flags(j["added_tokens"], "<|reserved_special_token_5|>", {{"normalized", true}, {"special", false}});
    j["added_tokens"].push_back({{"id", 128256}, {"content", "quick"}, {"single_word", true}, {"lstrip", false},
                                 {"rstrip", false}, {"normalized", true}, {"special", false}});
    return j;
}

// llama2's vocabulary the older way: no normalizer, a Metaspace pre-tokenizer ("first") and a
// Metaspace decoder; </s> with lstrip.
json metaspace_style() {
    json j = load("llama2");
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", true}};
    j["decoder"] = {{"type", "Sequence"}, {"decoders", {{{"type", "ByteFallback"}}, {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", true}}}}};
    set_flags(j["added_tokens"], "</s>", {{"lstrip", true}});
    return j;
}

// qwen3's vocabulary with Strip + NFC, Digits, and Splits with each behaviour before ByteLevel.
json split_behaviours() {
    json j = load("qwen3");
    j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "Strip"}, {"strip_left", true}, {"strip_right", false}}, {{"type", "NFC"}}}}};
    auto split = [](const char *re, const char *behavior, bool invert) {
        return json{{"type", "Split"}, {"pattern", {{"Regex", re}}}, {"behavior", behavior}, {"invert", invert}};
    };
    j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {
        {{"type", "Digits"}, {"individual_digits", true}},
        split("[.,;]", "MergedWithPrevious", false),
        split("[(\\[{]", "MergedWithNext", false),
        split("\\s+", "Contiguous", false),
        split("-", "Removed", false),
        split("\\p{L}+", "Isolated", true),
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}};
    return j;
}

} // namespace

std::vector<std::pair<std::string, std::filesystem::path>> write_tokenizer_variants(const std::filesystem::path &dir) {
    std::filesystem::create_directories(dir);
    std::vector<std::pair<std::string, std::filesystem::path>> out;
    auto write = [&](const std::string &name, const std::string &base, json (*make)()) {
        if (!std::filesystem::exists(tok_test::model_file(base))) return;
        auto path = dir / (name + ".json");
        std::ofstream(path) << make().dump();
        out.emplace_back(name, path);
    };
    write("gpt2_style", "llama3", gpt2_style);
    write("metaspace_style", "llama2", metaspace_style);
    write("split_behaviours", "qwen3", split_behaviours);
    return out;
}
