// The MaskBench JSONL loader: the data is read from a file, so every malformed shape is a clear
// DatasetError naming the line, never a crash or a silently dropped schema.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "dataset.hpp"

#include <doctest/doctest.h>

#include <string>

using llmhost::maskbench::DatasetError;
using llmhost::maskbench::parse_dataset;

namespace {

std::string error_of(const std::string &text) {
    try {
        parse_dataset(text, "t.jsonl");
    } catch (const DatasetError &e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("a well-formed line keeps the schema's key order and the instance text as is") {
    auto cases = parse_dataset("{\"id\":\"Github_easy---a.json\",\"split\":\"Github_easy\","
                               "\"schema\":{\"type\":\"object\","
                               "\"properties\":{\"zeta\":{},\"alpha\":{}}},\"tests\":[{\"valid\":"
                               "true,\"text\":\"{\\\"zeta\\\": 1.0}\"},"
                               "{\"valid\":false,\"text\":\"[]\"}]}\n\n",
                               "t.jsonl");
    REQUIRE(cases.size() == 1);
    CHECK(cases[0].id == "Github_easy---a.json");
    CHECK(cases[0].split == "Github_easy");
    // "zeta" before "alpha": a sorted map would reorder them and change the grammar.
    CHECK(cases[0].schema == "{\"type\":\"object\",\"properties\":{\"zeta\":{},\"alpha\":{}}}");
    REQUIRE(cases[0].tests.size() == 2);
    CHECK(cases[0].tests[0].valid);
    CHECK(cases[0].tests[0].text == "{\"zeta\": 1.0}");
    CHECK_FALSE(cases[0].tests[1].valid);
}

TEST_CASE("boolean schemas are schemas") {
    auto cases =
        parse_dataset("{\"id\":\"x\",\"split\":\"s\",\"schema\":true,\"tests\":[]}", "t.jsonl");
    REQUIRE(cases.size() == 1);
    CHECK(cases[0].schema == "true");
}

TEST_CASE("malformed lines are errors naming the file and line") {
    const std::string ok = "{\"id\":\"x\",\"split\":\"s\",\"schema\":{},\"tests\":[]}\n";
    CHECK(error_of(ok + "{not json\n") == "t.jsonl:2: not valid JSON");
    CHECK(error_of("[1,2]") == "t.jsonl:1: a line must be a JSON object");
    CHECK(error_of("{\"split\":\"s\",\"schema\":{},\"tests\":[]}") == "t.jsonl:1: missing \"id\"");
    CHECK(error_of("{\"id\":1,\"split\":\"s\",\"schema\":{},\"tests\":[]}") ==
          "t.jsonl:1: \"id\" must be a string");
    CHECK(error_of("{\"id\":\"x\",\"split\":\"s\",\"schema\":\"str\",\"tests\":[]}") ==
          "t.jsonl:1: \"schema\" must be an object or a boolean");
    CHECK(error_of("{\"id\":\"x\",\"split\":\"s\",\"schema\":{},\"tests\":{}}") ==
          "t.jsonl:1: \"tests\" must be an array");
    CHECK(error_of("{\"id\":\"x\",\"split\":\"s\",\"schema\":{},\"tests\":[{\"valid\":1,\"text\":"
                   "\"1\"}]}") == "t.jsonl:1: tests[0].valid must be a boolean");
    CHECK(error_of("{\"id\":\"x\",\"split\":\"s\",\"schema\":{},\"tests\":[{\"valid\":true}]}") ==
          "t.jsonl:1: tests[0].text must be a string");
    CHECK(error_of("{\"id\":\"x\",\"split\":\"s\",\"schema\":{},\"tests\":[7]}") ==
          "t.jsonl:1: tests[0] must be an object");
    // Truncated file: the last line cut mid-object.
    CHECK(error_of(ok + "{\"id\":\"y\",\"split\"") == "t.jsonl:2: not valid JSON");
}

TEST_CASE("a missing file is an error, not an empty data set") {
    CHECK_THROWS_AS(llmhost::maskbench::load_dataset("/nonexistent/maskbench.jsonl"), DatasetError);
}
