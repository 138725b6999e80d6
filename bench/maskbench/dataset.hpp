// MaskBench data as JSONL (tests/fixtures/maskbench/make_subset.py writes it): one schema per line
// with its valid/invalid instances, already serialized the way MaskBench's Python runner does.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmhost::maskbench {

struct TestCase {
    bool valid = false;
    std::string text; // json.dumps(data, indent=None, ensure_ascii=False)
};

struct SchemaCase {
    std::string id;     // upstream file name, e.g. "Github_easy---o13947.json"
    std::string split;  // e.g. "Github_easy"
    std::string schema; // the schema as JSON text, keys in the file's order
    std::vector<TestCase> tests;
};

// A malformed file: what() names the file, the 1-based line and the problem.
class DatasetError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses JSONL text; `origin` names it in errors. Blank lines are skipped. Every line must be an
// object with string "id", string "split", object-or-boolean "schema" and an array "tests" of
// {"valid": bool, "text": string}; anything else is a DatasetError (the data is untrusted input).
std::vector<SchemaCase> parse_dataset(const std::string &jsonl, const std::string &origin);
std::vector<SchemaCase> load_dataset(const std::string &path);

} // namespace llmhost::maskbench
