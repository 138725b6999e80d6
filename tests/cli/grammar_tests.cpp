// `llmhost generate --grammar/--regex` (the request fields arrive; a provider without the grammar
// capability refuses; hostile flags are usage errors) and `llmhost grammar compile|check` (the
// constraint library run from the CLI) with a small byte-level BPE tokenizer written by the test:
// every byte a token, plus merged tokens that straddle JSON's lexemes ({" ": ",), so a token
// boundary is not a lexeme boundary.
#include "sandbox.hpp"

#include <nlohmann/json.hpp>

#include <sstream>

using namespace cli_test;
using nlohmann::json;

namespace {

bool contains(const std::string &s, const std::string &needle) {
    return s.find(needle) != std::string::npos;
}

std::vector<json> json_lines(const std::string &out) {
    std::vector<json> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        json j = json::parse(line, nullptr, false);
        REQUIRE_MESSAGE(!j.is_discarded(), line);
        lines.push_back(j);
    }
    return lines;
}

// GPT-2's byte -> printable code point map, as byte-level BPE vocabularies store bytes.
std::string byte_char(int b) {
    int cp = b;
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    if (!printable) {
        int n = 0;
        for (int x = 0; x < b; ++x)
            n += !((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE));
        cp = 256 + n;
    }
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}

std::string tiny_tokenizer_json() {
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[byte_char(b)] = b;
    vocab["{\""] = 256;
    vocab["\":"] = 257;
    vocab["\","] = 258;
    json merges = {"{ \"", "\" :", "\" ,"};
    return json{{"version", "1.0"},
                {"added_tokens",
                 {{{"id", 259},
                   {"content", "<|endoftext|>"},
                   {"single_word", false},
                   {"lstrip", false},
                   {"rstrip", false},
                   {"normalized", false},
                   {"special", true}}}},
                {"normalizer", nullptr},
                {"pre_tokenizer",
                 {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
                {"post_processor", nullptr},
                {"decoder", {{"type", "ByteLevel"}}},
                {"model",
                 {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", nullptr},
                  {"byte_fallback", false},
                  {"vocab", vocab},
                  {"merges", merges}}}}
        .dump();
}

const char *kPerson = R"({"type": "object",
  "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
  "required": ["name", "age"], "additionalProperties": false})";

struct GrammarSandbox : Sandbox {
    GrammarSandbox() {
        write_echo_config();
        tokenizer = file("tokenizer.json", tiny_tokenizer_json());
        person = file("person.json", kPerson);
    }
    std::string file(const std::string &name, const std::string &text) {
        const auto p = (dir / name).string();
        write_file(p, text);
        return p;
    }
    std::string tokenizer, person;
};

} // namespace

TEST_CASE("generate --grammar / --regex: the constraint reaches a provider with the capability") {
    GrammarSandbox sb;
    fs::copy_file(RECORDING_PLUGIN_PATH, sb.plugins / fs::path(RECORDING_PLUGIN_PATH).filename());
    sb.write_config(R"({"default_provider": "rec", "providers": {"rec": {"plugin": "recording"},
                                                              "echo": {"plugin": "echo"}}})");
    const std::string gbnf = "root ::= answer\nanswer ::= \"yes\" | \"no\"\n";
    const auto g = sb.file("yesno.gbnf", gbnf);
    auto r = sb.llmhost({"generate", "--grammar", g, "Is it?"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    json seen = json::parse(r.out);
    CHECK(seen["grammar"] == gbnf);
    CHECK(seen["regex"] == nullptr);
    CHECK(seen["prompt"] == "Is it?");
    r = sb.llmhost({"generate", "--regex", "[0-9]{3}-[a-z]+", "x"});
    REQUIRE(r.exit_code == 0);
    seen = json::parse(r.out);
    CHECK(seen["regex"] == "[0-9]{3}-[a-z]+");
    CHECK(seen["grammar"] == nullptr);

    // echo has no grammar capability: refused naming the field, never answered unconstrained.
    r = sb.llmhost({"generate", "-p", "echo", "--grammar", g, "x"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "provider 'echo'"));
    CHECK(contains(r.err, "does not support grammar"));
    CHECK(r.out.empty());
    r = sb.llmhost({"generate", "-p", "echo", "--regex", "a+", "x"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "does not support regex"));
}

TEST_CASE("generate --grammar / --regex: hostile files and combinations are usage errors") {
    GrammarSandbox sb;
    const auto g = sb.file("g.gbnf", "root ::= \"a\"");
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    for (const auto &c : std::vector<Case>{
             {{"--grammar", (sb.dir / "none.gbnf").string()}, "cannot read it"},
             {{"--grammar", sb.file("empty.gbnf", " \n")}, "is empty"},
             {{"--grammar", sb.file("nul.gbnf", std::string("root ::= \"a\"\0", 13))}, "NUL"},
             {{"--grammar", sb.file("latin1.gbnf", "root ::= \"\xE9\"")}, "not valid UTF-8"},
             {{"--grammar", g, "--json"}, "excludes"},
             {{"--grammar", g, "--json-schema", sb.person}, "excludes"},
             {{"--grammar", g, "--regex", "a"}, "excludes"},
             {{"--regex", "a", "--json"}, "excludes"},
             {{"--regex", ""}, "--regex needs a pattern"}}) {
        std::vector<std::string> args = {"generate"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        args.push_back("x");
        CAPTURE(c.says);
        auto r = sb.llmhost(args);
        CHECK(r.exit_code == 2);
        CHECK(contains(r.err, c.says));
        CHECK(r.out.empty());
    }
}

TEST_CASE("grammar compile: supported, or the unsupported keyword and its JSON pointer") {
    GrammarSandbox sb;
    auto r = sb.llmhost({"grammar", "compile", "--schema", sb.person}, "", false);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "supported: the schema compiles"));

    const auto bad = sb.file("bad.json", R"({"type": "object", "properties": {"tags":
        {"type": "array", "items": {"type": "string"}, "uniqueItems": true}}})");
    r = sb.llmhost({"grammar", "compile", "--schema", bad}, "", false);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "/properties/tags/uniqueItems: uniqueItems:"));
    CHECK(contains(r.err, "keyword 'uniqueItems' at JSON pointer '/properties/tags/uniqueItems'"));
    r = sb.llmhost({"grammar", "compile", "--json", "--schema", bad}, "", false);
    CHECK(r.exit_code == 1);
    json j = json::parse(r.out);
    CHECK(j["supported"] == false);
    CHECK(j["keyword"] == "uniqueItems");
    CHECK(j["pointer"] == "/properties/tags/uniqueItems");
    r = sb.llmhost({"grammar", "compile", "--json", "--schema", sb.person}, "", false);
    CHECK(json::parse(r.out)["supported"] == true);

    // A schema that is not JSON is a compile error too (exit 1), naming the schema.
    r = sb.llmhost({"grammar", "compile", "--schema", sb.file("t.json", "{\"type\": ")}, "", false);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "invalid JSON"));

    CHECK(sb.llmhost({"grammar", "compile", "--regex", "[0-9]{3}-[a-z]+"}, "", false).exit_code ==
          0);
    r = sb.llmhost({"grammar", "compile", "--regex", "(ab"}, "", false);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "regex"));
    CHECK(sb.llmhost({"grammar", "compile", "--grammar", sb.file("ok.gbnf", "root ::= [a-z]+")}, "",
                     false)
              .exit_code == 0);
    r = sb.llmhost({"grammar", "compile", "--grammar", sb.file("no.gbnf", "root ::= undefined")},
                   "", false);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "undefined"));

    // Usage: nothing to compile, two things, a missing file.
    CHECK(sb.llmhost({"grammar", "compile"}, "", false).exit_code == 2);
    CHECK(sb.llmhost({"grammar", "compile", "--schema", sb.person, "--regex", "a"}, "", false)
              .exit_code == 2);
    r = sb.llmhost({"grammar", "compile", "--schema", (sb.dir / "none.json").string()}, "", false);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "cannot read it"));
    CHECK(sb.llmhost({"grammar"}, "", false).exit_code == 2);
}

TEST_CASE("grammar check: one line per instance, valid accepted, invalid rejected at its token") {
    GrammarSandbox sb;
    const std::string input = "{\"name\": \"Ann\", \"age\": 3}\n"
                              "{\"name\":\"Bob\",\"age\":40}\n"
                              "{\"name\": 5, \"age\": 1}\n"
                              "{\"name\": \"Cy\"}\n"
                              "this is not JSON\n"
                              "{\"name\": \"Di\", \"age\": 7}\r\n";
    auto r = sb.llmhost({"grammar", "check", "--schema", sb.person, "--tokenizer", sb.tokenizer},
                        input, false);
    INFO(r.out << "\n--- stderr\n" << r.err);
    CHECK(r.exit_code == 1); // some instance rejected
    auto lines = json_lines(r.out);
    REQUIRE(lines.size() == 7);
    CHECK(lines[0]["compile_ms"].is_number());
    CHECK(lines[0]["vocab_size"] == 260);
    for (int i : {1, 2, 3, 4, 6}) {
        CAPTURE(i);
        const json &l = lines[i];
        CHECK(l.size() == 5);
        for (const char *k :
             {"accepted", "rejected_at_token", "tokens", "mask_us_p50", "mask_us_max"})
            CHECK(l.contains(k));
        CHECK(l["mask_us_p50"].get<double>() <= l["mask_us_max"].get<double>());
    }
    CHECK(lines[1]["accepted"] == true);
    CHECK(lines[1]["rejected_at_token"] == nullptr);
    // {" n a m e ": Ġ " A n n ", Ġ " a g e ": Ġ 3 }: the merged tokens count once.
    CHECK(lines[1]["tokens"] == 21);
    CHECK(lines[2]["accepted"] == true);
    // {" n a m e ": Ġ 5: the digit is token 7, where a string must start.
    CHECK(lines[3]["accepted"] == false);
    CHECK(lines[3]["rejected_at_token"] == 7);
    // "age" is missing: rejected at the closing brace, {" n a m e ": Ġ " C y " }.
    CHECK(lines[4]["accepted"] == false);
    CHECK(lines[4]["rejected_at_token"] == 11);
    CHECK(lines[4]["tokens"] == 12);
    CHECK(lines[5] == json{{"line", 5}, {"error", "not a JSON text; not checked"}});
    CHECK(lines[6]["accepted"] == true); // the CR of a CRLF line is not part of the instance

    // Only valid instances: exit 0.
    r = sb.llmhost({"grammar", "check", "--schema", sb.person, "--tokenizer", sb.tokenizer},
                   "{\"name\": \"Ann\", \"age\": 3}\n", false);
    CHECK(r.exit_code == 0);
    // The same schema, compact: whitespace is no longer allowed.
    r = sb.llmhost(
        {"grammar", "check", "--compact", "--schema", sb.person, "--tokenizer", sb.tokenizer},
        "{\"name\":\"Bob\",\"age\":40}\n{\"name\": \"Ann\", \"age\": 3}\n", false);
    lines = json_lines(r.out);
    REQUIRE(lines.size() == 3);
    CHECK(lines[1]["accepted"] == true);
    CHECK(lines[2]["accepted"] == false);
    CHECK(lines[2]["rejected_at_token"] == 6); // the space after ":
}

TEST_CASE("grammar check --regex / --grammar: each line is the text itself") {
    GrammarSandbox sb;
    auto r =
        sb.llmhost({"grammar", "check", "--regex", "[0-9]+(-[a-z]+)?", "--tokenizer", sb.tokenizer},
                   "123\n12-ab\n12a\n\n12-\n", false);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    auto lines = json_lines(r.out);
    REQUIRE(lines.size() == 6);
    CHECK(lines[1]["accepted"] == true);
    CHECK(lines[2]["accepted"] == true);
    CHECK(lines[3]["accepted"] == false);
    CHECK(lines[4]["accepted"] == false); // the empty line: [0-9]+ needs a digit
    CHECK(lines[4]["tokens"] == 0);
    CHECK(lines[4]["rejected_at_token"] == 0);
    // 1 2 - : every token fits, but the output is unfinished: rejected at the end (= tokens).
    CHECK(lines[5]["accepted"] == false);
    CHECK(lines[5]["tokens"] == 3);
    CHECK(lines[5]["rejected_at_token"] == 3);
    const auto g = sb.file("yn.gbnf", "root ::= (\"yes\" | \"no\") \"!\"?");
    r = sb.llmhost({"grammar", "check", "--grammar", g, "--tokenizer", sb.tokenizer},
                   "yes!\nno\nmaybe\n", false);
    lines = json_lines(r.out);
    REQUIRE(lines.size() == 4);
    CHECK(lines[1]["accepted"] == true);
    CHECK(lines[2]["accepted"] == true);
    CHECK(lines[3]["accepted"] == false);
    CHECK(lines[3]["rejected_at_token"] == 0);
}

TEST_CASE("grammar check: hostile input - bad tokenizer, huge line, unsupported schema") {
    GrammarSandbox sb;
    const auto empty_dir = sb.dir / "model";
    fs::create_directories(empty_dir);
    auto r =
        sb.llmhost({"grammar", "check", "--schema", sb.person, "--tokenizer", empty_dir.string()},
                   "{}\n", false);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "--tokenizer " + empty_dir.string()));
    CHECK(r.out.empty());
    r = sb.llmhost(
        {"grammar", "check", "--schema", sb.person, "--tokenizer", (sb.dir / "missing").string()},
        "{}\n", false);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "does not exist"));
    r = sb.llmhost({"grammar", "check", "--schema", sb.person, "--tokenizer",
                    sb.file("garbage.json", "{\"model\": 1")},
                   "{}\n", false);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(sb.llmhost({"grammar", "check", "--schema", sb.person}, "", false).exit_code == 2);

    // A line over 16 MiB is reported and skipped; the next one is still checked.
    std::string huge = "\"" + std::string((16u << 20) + 10, 'a') + "\"\n";
    r = sb.llmhost({"grammar", "check", "--regex", "\"a*\"", "--tokenizer", sb.tokenizer},
                   huge + "\"aa\"\n", false);
    CHECK(r.exit_code == 1);
    auto lines = json_lines(r.out);
    REQUIRE(lines.size() == 3);
    CHECK(lines[1] == json{{"line", 1}, {"error", "longer than 16 MiB; not checked"}});
    CHECK(lines[2]["accepted"] == true);

    // An unsupported schema: the compile error as JSON, nothing walked.
    const auto bad = sb.file("bad.json", R"({"type": "array", "uniqueItems": true})");
    r = sb.llmhost({"grammar", "check", "--schema", bad, "--tokenizer", sb.tokenizer}, "[]\n",
                   false);
    CHECK(r.exit_code == 1);
    lines = json_lines(r.out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["keyword"] == "uniqueItems");
    CHECK(lines[0]["pointer"] == "/uniqueItems");
}
