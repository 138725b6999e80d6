// Enumerates the parity cases from conversations.json and snippets.json in the same order and
// with the same ids as reference.mjs, so each of our renderings meets the reference's.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmhost::tmpl::test {

using ojson = nlohmann::ordered_json;

struct ChatCase {
  std::string id, model;
  std::filesystem::path config;
  ojson messages, tools, extra;
  bool add_generation_prompt;
};

struct SnippetCase {
  std::string id, source;
  ojson context;
};

inline ojson read_json(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  std::stringstream buf;
  buf << in.rdbuf();
  return ojson::parse(buf.str());
}

inline std::vector<ChatCase> chat_cases(const std::filesystem::path& data_dir, const std::filesystem::path& modules) {
  const ojson conv = read_json(data_dir / "conversations.json");
  std::vector<ChatCase> out;
  for (auto m = conv["models"].begin(); m != conv["models"].end(); ++m) {
    for (auto c = conv["conversations"].begin(); c != conv["conversations"].end(); ++c) {
      const ojson& spec = c.value();
      if (c.key().rfind("_", 0) == 0) continue;
      if (spec.contains("models")) {
        bool listed = false;
        for (const auto& name : spec["models"]) listed = listed || name == m.key();
        if (!listed) continue;
      }
      const ojson extras = spec.contains("extras") ? spec["extras"] : ojson::array({ojson::object()});
      for (bool agp : {true, false}) {
        for (size_t i = 0; i < extras.size(); ++i) {
          ChatCase k;
          k.id = m.key() + "/" + c.key() + "/agp=" + (agp ? "1" : "0") + "/x" + std::to_string(i);
          k.model = m.key();
          k.config = modules / m.value().get<std::string>();
          k.messages = spec["messages"];
          k.tools = spec.contains("tools") ? spec["tools"] : ojson(nullptr);
          k.extra = extras[i];
          k.add_generation_prompt = agp;
          out.push_back(std::move(k));
        }
      }
    }
  }
  return out;
}

inline std::vector<SnippetCase> snippet_cases(const std::filesystem::path& data_dir) {
  const ojson snip = read_json(data_dir / "snippets.json");
  std::vector<SnippetCase> out;
  size_t i = 0;
  for (const auto& s : snip["snippets"]) {
    out.push_back({"snippet/" + std::to_string(i++), s["t"].get<std::string>(),
                   s.contains("c") ? s["c"] : snip["context"]});
  }
  return out;
}

// Where two renderings first differ, with context, control characters made visible.
inline std::string first_difference(const std::string& expected, const std::string& actual) {
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  if (i == expected.size() && i == actual.size()) return "identical";
  int line = 1, col = 1;
  for (size_t k = 0; k < i; ++k) {
    if (expected[k] == '\n') { ++line; col = 1; } else { ++col; }
  }
  auto visible = [](const std::string& s, size_t from, size_t to) {
    std::string out;
    for (size_t k = from; k < to && k < s.size(); ++k) {
      const char c = s[k];
      if (c == '\n') out += "\\n";
      else if (c == '\t') out += "\\t";
      else if (c == '\r') out += "\\r";
      else if (static_cast<unsigned char>(c) < 0x20) out += "\\x" + std::to_string(static_cast<int>(c));
      else out += c;
    }
    return out;
  };
  const size_t from = i > 60 ? i - 60 : 0;
  std::ostringstream os;
  os << "first difference at byte " << i << " (line " << line << ", column " << col << ")\n"
     << "  reference: ..." << visible(expected, from, i) << "[[" << visible(expected, i, i + 60) << "]]\n"
     << "  ours:      ..." << visible(actual, from, i) << "[[" << visible(actual, i, i + 60) << "]]\n"
     << "  lengths: reference " << expected.size() << ", ours " << actual.size();
  return os.str();
}

}  // namespace llmhost::tmpl::test
