// safetensors reader: valid files, sharded checkpoints, and every kind of lying header.
#include "test_util.hpp"

#include <llmhost/engine/engine.hpp>
#include <llmhost/engine/safetensors.hpp>
#include <llmhost/plugin.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace llmhost::engine;
namespace fs = std::filesystem;

namespace {

// Writes 8-byte length + header text + `data_bytes` zero bytes.
void write_raw(const fs::path &f, const std::string &header, std::size_t data_bytes) {
    std::ofstream out(f, std::ios::binary);
    const std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out.put(char((n >> (8 * i)) & 0xff));
    out << header;
    out << std::string(data_bytes, '\0');
}

std::string error_of(const fs::path &f) {
    try {
        SafetensorsCheckpoint::open_file(f);
    } catch (const ModelFileError &e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("safetensors: a valid file is viewed in place, without copying") {
    test::TempDir d;
    llmhost::tools::TinyTensor a{"a", {2, 3}, {1, 2, 3, 4, 5, 6}}, b{"b", {4}, {-1, -2, -3, -4}};
    llmhost::tools::write_safetensors(d / "x.safetensors", {&a, &b}, "F32");
    auto c = SafetensorsCheckpoint::open_file(d / "x.safetensors");
    const TensorView &va = c.get("a");
    CHECK(va.dtype == DType::F32);
    CHECK(va.shape == std::vector<std::int64_t>{2, 3});
    CHECK(static_cast<const float *>(va.data)[5] == 6.0f);
    // The pointer lies inside the mapping: nothing was copied.
    const auto *base = va.file->data();
    CHECK(static_cast<const std::uint8_t *>(va.data) >= base);
    CHECK(static_cast<const std::uint8_t *>(va.data) < base + va.file->size());
    CHECK(static_cast<const float *>(c.get("b").data)[3] == -4.0f);
    CHECK(c.total_bytes() == 40);
}

TEST_CASE("safetensors: truncated files are refused with the file named") {
    test::TempDir d;
    { std::ofstream(d / "tiny.safetensors") << "abc"; }
    CHECK(error_of(d / "tiny.safetensors").find("truncated") != std::string::npos);
    CHECK(error_of(d / "tiny.safetensors").find("tiny.safetensors") != std::string::npos);

    // The header claims more bytes than the file has.
    write_raw(d / "short.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8);
    fs::resize_file(d / "short.safetensors", 20);
    CHECK(error_of(d / "short.safetensors").find("truncated") != std::string::npos);

    // Data section shorter than the offsets say.
    write_raw(d / "data.safetensors", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 12);
    std::string e = error_of(d / "data.safetensors");
    CHECK(e.find("'a'") != std::string::npos);
    CHECK(e.find("past the end") != std::string::npos);
}

TEST_CASE("safetensors: a header that lies about offsets is refused") {
    test::TempDir d;
    write_raw(d / "overlap.safetensors",
              R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12);
    std::string e = error_of(d / "overlap.safetensors");
    CHECK(e.find("overlap") != std::string::npos);
    CHECK(e.find("'a'") != std::string::npos);
    CHECK(e.find("'b'") != std::string::npos);

    write_raw(d / "size.safetensors", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8);
    CHECK(error_of(d / "size.safetensors").find("size mismatch") != std::string::npos);

    write_raw(d / "rev.safetensors", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8);
    CHECK(error_of(d / "rev.safetensors").find("begin > end") != std::string::npos);

    write_raw(d / "json.safetensors", "{not json", 0);
    CHECK(error_of(d / "json.safetensors").find("not valid JSON") != std::string::npos);

    write_raw(d / "unk.safetensors", R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}})", 2);
    CHECK(error_of(d / "unk.safetensors").find("unknown dtype 'Q4'") != std::string::npos);
}

TEST_CASE("safetensors: a dtype we cannot compute with is refused when the model needs it") {
    test::TempDir d;
    write_raw(d / "i8.safetensors", R"({"q":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}})", 4);
    auto c = SafetensorsCheckpoint::open_file(d / "i8.safetensors"); // parsing is fine
    try {
        c.get("q");
        FAIL("expected an error");
    } catch (const ModelFileError &e) {
        std::string m = e.what();
        CHECK(m.find("'q'") != std::string::npos);
        CHECK(m.find("I8") != std::string::npos);
        CHECK(m.find("F32, F16, BF16") != std::string::npos);
    }
}

TEST_CASE("safetensors: a missing tensor is named, through the engine") {
    test::TempDir d;
    auto s = llmhost::tools::resolve_spec(test::spec("llama"));
    llmhost::tools::write_model_dir(s, d.path);
    auto w = llmhost::tools::make_weights(s);
    std::vector<const llmhost::tools::TinyTensor *> keep;
    for (const auto &t : w)
        if (t.name != "model.layers.1.mlp.up_proj.weight") keep.push_back(&t);
    llmhost::tools::write_safetensors(d / "model.safetensors", keep, "F32");
    try {
        Engine::load(d.path, {.device = "cpu"});
        FAIL("expected an error");
    } catch (const llmh::Error &e) {
        CHECK(e.code() == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(std::string(e.what()).find("model.layers.1.mlp.up_proj.weight") != std::string::npos);
    }
}

TEST_CASE("safetensors: sharded checkpoints load through the index, and a missing shard is named") {
    test::TempDir d;
    auto s = test::spec("llama");
    s.shards = 3;
    llmhost::tools::write_model_dir(s, d.path);
    CHECK(fs::exists(d / "model-00002-of-00003.safetensors"));
    auto c = SafetensorsCheckpoint::open_dir(d.path);
    CHECK(c.contains("model.embed_tokens.weight"));
    CHECK(c.contains("model.norm.weight"));
    auto e = Engine::load(d.path, {.device = "cpu"});
    CHECK(e->config().architecture == "LlamaForCausalLM");

    fs::remove(d / "model-00002-of-00003.safetensors");
    try {
        SafetensorsCheckpoint::open_dir(d.path);
        FAIL("expected an error");
    } catch (const ModelFileError &err) {
        CHECK(std::string(err.what()).find("model-00002-of-00003.safetensors") != std::string::npos);
    }
}
