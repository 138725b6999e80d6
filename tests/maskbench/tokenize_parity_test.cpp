// The MaskBench subset's instances tokenized by llmhost::tok with the Llama-3.1 tokenizer.json
// must give exactly the ids of Hugging Face's Rust `tokenizers` (npm binding, reference_ids.js):
// MaskBench's numbers are only comparable if the token sequences are the same as upstream's.
// Skipped (77) when node or the npm packages are missing.
#include "dataset.hpp"

#include "llmhost/tokenizer/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string run(const std::string &cmd) {
    std::string out;
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[65536];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (pclose(p) != 0) out.clear();
    return out;
}

} // namespace

int main() {
    const std::string data = LLMHOST_MASKBENCH_SUBSET;
    const std::string tokenizer = LLMHOST_MASKBENCH_TOKENIZER;
    const std::string node = LLMHOST_NODE;
    if (node.empty() || !fs::exists(node)) {
        std::cout << "SKIP: node is not installed\n";
        return 77;
    }
    for (const std::string &p : {tokenizer, std::string(LLMHOST_NODE_MODULES "/tokenizers")}) {
        if (!fs::exists(p)) {
            std::cout << "SKIP: " << p << " is missing (npm ci in tests/node)\n";
            return 77;
        }
    }
    auto cases = llmhost::maskbench::load_dataset(data);
    auto tok = llmhost::tok::Tokenizer::from_file(tokenizer);
    std::string ref_text =
        run("'" + node + "' '" LLMHOST_MASKBENCH_TEST_DIR "/reference_ids.js' '" + data + "' '" +
            tokenizer + "'");
    if (ref_text.empty()) {
        std::cerr << "FAIL: reference_ids.js produced nothing\n";
        return 1;
    }
    auto ref = nlohmann::json::parse(ref_text);
    std::size_t k = 0, instances = 0, tokens = 0, mismatches = 0;
    for (const auto &c : cases) {
        for (std::size_t i = 0; i < c.tests.size(); ++i, ++k) {
            if (k >= ref.size()) {
                std::cerr << "FAIL: the reference has fewer instances than the data\n";
                return 1;
            }
            auto ours = tok.encode(c.tests[i].text, false);
            auto theirs = ref[k].get<std::vector<int32_t>>();
            ++instances;
            tokens += theirs.size();
            if (ours != theirs) {
                if (++mismatches <= 5)
                    std::cerr << "MISMATCH " << c.id << " test #" << i << ": " << ours.size()
                              << " ids vs " << theirs.size() << "\n";
            }
        }
    }
    if (k != ref.size()) {
        std::cerr << "FAIL: the reference has more instances than the data\n";
        return 1;
    }
    std::cout << instances << " instances, " << tokens << " reference tokens, " << mismatches
              << " mismatching instances\n";
    return mismatches == 0 && instances > 0 ? 0 : 1;
}
