// Parity with Hugging Face's Rust `tokenizers` (npm binding): reference.js prints the ids and
// decodes of every corpus line for each tokenizer.json; we compute the same with llmhost::tok and
// compare exactly. Skipped (exit 77, reported by ctest as skipped) when node or the npm packages
// are not installed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "test_support.hpp"
#include "variants.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;
using llmhost::tok::Tokenizer;

namespace {

const char *kCorpora[] = {"corpus.json", "corpus_generated.json"};
const char *kModels[] = {"llama2", "llama3", "qwen3", "gemma3", "deepseek_v3"};

// name -> tokenizer.json: the five real files, then the variants written at start-up.
std::vector<std::pair<std::string, fs::path>> &tokenizers() {
    static std::vector<std::pair<std::string, fs::path>> list;
    return list;
}

fs::path model_file(const std::string &name) {
    for (const auto &[n, p] : tokenizers())
        if (n == name) return p;
    return tok_test::model_file(name);
}

std::string run_reference() {
    std::string corpora;
    for (const char *c : kCorpora) corpora += (corpora.empty() ? "" : ",") + std::string(LLMHOST_TOKENIZER_TEST_DIR "/") + c;
    std::string cmd = std::string(LLMHOST_NODE) + " '" + LLMHOST_TOKENIZER_TEST_DIR "/reference.js' '" + corpora + "'";
    for (const auto &[name, path] : tokenizers()) cmd += " '" + name + "=" + path.string() + "'";
    FILE *p = popen(cmd.c_str(), "r");
    REQUIRE_MESSAGE(p != nullptr, "cannot run " << cmd);
    std::string out;
    char buf[65536];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int rc = pclose(p);
    REQUIRE_MESSAGE(rc == 0, "reference.js failed (exit " << rc << "): " << cmd);
    return out;
}

const nlohmann::json &reference() {
    static const nlohmann::json ref = nlohmann::json::parse(run_reference());
    return ref;
}

std::string show(const std::vector<int32_t> &ids) {
    std::ostringstream s;
    s << "[";
    for (std::size_t i = 0; i < ids.size(); ++i) s << (i ? "," : "") << ids[i];
    return s.str() + "]";
}

// The first position where two id lists differ, with both lists; empty when equal.
std::string first_difference(const std::vector<int32_t> &ours, const std::vector<int32_t> &theirs) {
    if (ours == theirs) return {};
    std::size_t i = 0;
    while (i < ours.size() && i < theirs.size() && ours[i] == theirs[i]) ++i;
    return "first difference at position " + std::to_string(i) + "\n  ours:   " + show(ours) + "\n  theirs: " + show(theirs);
}

void check_model(const std::string &name) {
    nlohmann::json corpus = nlohmann::json::array();
    for (const char *c : kCorpora) {
        auto file = nlohmann::json::parse(std::ifstream(std::string(LLMHOST_TOKENIZER_TEST_DIR "/") + c));
        for (const auto &l : file.at("lines")) corpus.push_back(l);
    }
    const auto &rows = reference().at(name);
    REQUIRE(rows.size() == corpus.size());
    Tokenizer tok = Tokenizer::from_file(model_file(name).string());
    int mismatches = 0;
    for (std::size_t line = 0; line < corpus.size(); ++line) {
        const std::string text = corpus[line];
        const auto &row = rows[line];
        for (bool special : {true, false}) {
            auto ours = tok.encode(text, special);
            auto theirs = row.at(special ? "with" : "without").get<std::vector<int32_t>>();
            std::string diff = first_difference(ours, theirs);
            if (!diff.empty() && mismatches++ < 3)
                FAIL_CHECK(std::string(name + " line " + std::to_string(line) + " (add_special_tokens=" + std::to_string(special) +
                           ") " + nlohmann::json(text).dump() + ": " + diff));
        }
        auto ids = row.at("with").get<std::vector<int32_t>>();
        for (bool skip : {false, true}) {
            std::string ours = tok.decode(ids, skip), theirs = row.at(skip ? "decoded_skip" : "decoded");
            if (ours != theirs && mismatches++ < 3)
                FAIL_CHECK(std::string(name + " line " + std::to_string(line) + " decode(skip_special_tokens=" + std::to_string(skip) +
                           "): ours " + nlohmann::json(ours).dump() + " theirs " + nlohmann::json(theirs).dump()));
        }
    }
    CHECK_MESSAGE(mismatches == 0, name << ": " << mismatches << " mismatches over " << corpus.size() << " lines");
}

} // namespace

TEST_CASE("parity with tokenizers (npm): llama2") { check_model("llama2"); }
TEST_CASE("parity with tokenizers (npm): llama3") { check_model("llama3"); }
TEST_CASE("parity with tokenizers (npm): qwen3") { check_model("qwen3"); }
TEST_CASE("parity with tokenizers (npm): gemma3") { check_model("gemma3"); }
TEST_CASE("parity with tokenizers (npm): deepseek_v3") { check_model("deepseek_v3"); }
TEST_CASE("parity with tokenizers (npm): variant gpt2_style (ByteLevel regex, prefix space, added-token flags)") { check_model("gpt2_style"); }
TEST_CASE("parity with tokenizers (npm): variant metaspace_style (Metaspace pre-tokenizer and decoder)") { check_model("metaspace_style"); }
TEST_CASE("parity with tokenizers (npm): variant split_behaviours (Strip, Digits, all Split behaviours)") { check_model("split_behaviours"); }

int main(int argc, char **argv) {
    std::string missing;
    if (std::string(LLMHOST_NODE).empty() || !fs::exists(LLMHOST_NODE)) missing = "node is not installed";
    else if (!fs::exists(fs::path(LLMHOST_NODE_MODULES) / "tokenizers"))
        missing = std::string("npm package 'tokenizers' is not installed in ") + LLMHOST_NODE_MODULES + " (scripts/deps.sh installs it)";
    else
        for (const char *m : kModels)
            if (!fs::exists(model_file(m))) missing = model_file(m).string() + " is missing (scripts/deps.sh installs it)";
    if (!missing.empty()) {
        std::cout << "SKIPPED tokenizer parity test: " << missing << "\n";
        return 77;
    }
    for (const char *m : kModels) tokenizers().emplace_back(m, tok_test::model_file(m));
    auto variants = write_tokenizer_variants(fs::path(LLMHOST_TOKENIZER_BUILD_DIR) / "variants");
    tokenizers().insert(tokenizers().end(), variants.begin(), variants.end());
    doctest::Context ctx(argc, argv);
    return ctx.run();
}
