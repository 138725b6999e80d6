#include "post_processor.hpp"

#include "json_util.hpp"

namespace llmhost::tok {

using json_util::fail;

namespace {

std::vector<int32_t> special_ids(const nlohmann::json &special_tokens, const std::string &name, const std::string &where) {
    auto it = special_tokens.find(name);
    if (it == special_tokens.end()) fail(where, "special token '" + name + "' is not in special_tokens");
    const auto &ids = json_util::member(*it, where + "/" + name, "ids");
    std::vector<int32_t> out;
    for (const auto &id : ids) out.push_back(id.get<int32_t>());
    return out;
}

void add_template(const nlohmann::json &j, const std::string &where, PostProcessor &pp) {
    const auto &single = json_util::member(j, where, "single");
    const auto &special_tokens = json_util::member(j, where, "special_tokens");
    bool seen_a = false;
    std::vector<int32_t> prefix, suffix;
    for (std::size_t i = 0; i < single.size(); ++i) {
        std::string at = where + "/single/" + std::to_string(i);
        const auto &item = single[i];
        if (item.contains("Sequence")) {
            if (json_util::get_string(item["Sequence"], at + "/Sequence", "id") != "A")
                fail(at, "a single-sequence template may only use sequence A");
            if (seen_a) fail(at, "sequence A appears twice");
            seen_a = true;
        } else if (item.contains("SpecialToken")) {
            auto ids = special_ids(special_tokens, json_util::get_string(item["SpecialToken"], at + "/SpecialToken", "id"),
                                   where + "/special_tokens");
            auto &dst = seen_a ? suffix : prefix;
            dst.insert(dst.end(), ids.begin(), ids.end());
        } else {
            fail(at, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
        }
    }
    if (!seen_a) fail(where + "/single", "the template has no sequence A");
    // Like the Rust library, a later processor wraps what the earlier ones produced.
    pp.prefix.insert(pp.prefix.begin(), prefix.begin(), prefix.end());
    pp.suffix.insert(pp.suffix.end(), suffix.begin(), suffix.end());
}

void add_processor(const nlohmann::json &j, const std::string &where, PostProcessor &pp) {
    const std::string type = json_util::type_of(j, where);
    if (type == "TemplateProcessing") return add_template(j, where, pp);
    if (type == "ByteLevel") return; // only adjusts offsets
    if (type == "Sequence") {
        const auto &list = json_util::member(j, where, "processors");
        for (std::size_t i = 0; i < list.size(); ++i) add_processor(list[i], where + "/processors/" + std::to_string(i), pp);
        return;
    }
    if (type == "BertProcessing" || type == "RobertaProcessing") {
        const auto &cls = json_util::member(j, where, "cls"), &sep = json_util::member(j, where, "sep");
        pp.prefix.insert(pp.prefix.begin(), cls[1].get<int32_t>());
        pp.suffix.push_back(sep[1].get<int32_t>());
        return;
    }
    fail(where + "/type", "post-processor '" + type +
                              "' is not supported (supported: TemplateProcessing, ByteLevel, Sequence, BertProcessing, RobertaProcessing)");
}

} // namespace

PostProcessor make_post_processor(const nlohmann::json &j, const std::string &where) {
    PostProcessor pp;
    if (!j.is_null()) add_processor(j, where, pp);
    return pp;
}

} // namespace llmhost::tok
