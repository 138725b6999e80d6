#include "dataset.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace llmhost::maskbench {

namespace {

// ordered_json keeps the schema's key order: property order is part of what a JSON Schema
// grammar generates, and MaskBench's instances follow the order of "properties".
using ojson = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string &origin, std::size_t line, const std::string &what) {
    throw DatasetError(origin + ":" + std::to_string(line) + ": " + what);
}

const ojson &field(const ojson &obj, const char *name, const std::string &origin,
                   std::size_t line) {
    auto it = obj.find(name);
    if (it == obj.end()) fail(origin, line, std::string("missing \"") + name + "\"");
    return *it;
}

SchemaCase parse_line(const std::string &text, const std::string &origin, std::size_t line) {
    ojson j = ojson::parse(text, nullptr, false);
    if (j.is_discarded()) fail(origin, line, "not valid JSON");
    if (!j.is_object()) fail(origin, line, "a line must be a JSON object");
    SchemaCase c;
    const auto &id = field(j, "id", origin, line);
    const auto &split = field(j, "split", origin, line);
    const auto &schema = field(j, "schema", origin, line);
    const auto &tests = field(j, "tests", origin, line);
    if (!id.is_string()) fail(origin, line, "\"id\" must be a string");
    if (!split.is_string()) fail(origin, line, "\"split\" must be a string");
    if (!schema.is_object() && !schema.is_boolean())
        fail(origin, line, "\"schema\" must be an object or a boolean");
    if (!tests.is_array()) fail(origin, line, "\"tests\" must be an array");
    c.id = id.get<std::string>();
    c.split = split.get<std::string>();
    c.schema = schema.dump();
    for (std::size_t i = 0; i < tests.size(); ++i) {
        const auto &t = tests[i];
        const std::string where = "tests[" + std::to_string(i) + "]";
        if (!t.is_object()) fail(origin, line, where + " must be an object");
        auto v = t.find("valid");
        auto x = t.find("text");
        if (v == t.end() || !v->is_boolean())
            fail(origin, line, where + ".valid must be a boolean");
        if (x == t.end() || !x->is_string()) fail(origin, line, where + ".text must be a string");
        c.tests.push_back(TestCase{v->get<bool>(), x->get<std::string>()});
    }
    return c;
}

} // namespace

std::vector<SchemaCase> parse_dataset(const std::string &jsonl, const std::string &origin) {
    std::vector<SchemaCase> out;
    std::size_t start = 0, line = 0;
    while (start < jsonl.size()) {
        std::size_t end = jsonl.find('\n', start);
        if (end == std::string::npos) end = jsonl.size();
        ++line;
        std::string text = jsonl.substr(start, end - start);
        start = end + 1;
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
        out.push_back(parse_line(text, origin, line));
    }
    return out;
}

std::vector<SchemaCase> load_dataset(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DatasetError(path + ": cannot open");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_dataset(ss.str(), path);
}

} // namespace llmhost::maskbench
