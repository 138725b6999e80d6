// safetensors reader: the file is mmapped read-only, its JSON header parsed and checked, and each
// tensor exposed as a view (pointer + shape + dtype) into the mapping — nothing is copied here.
//
// Format (https://huggingface.co/docs/safetensors): 8-byte little-endian header length N, N bytes
// of JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__":
// {...}}, then the data section; offsets are relative to the data section.
//
// A header that lies is refused before any tensor is touched: offsets out of the file, tensors
// that overlap, end - begin != product(shape) * dtype size. Every error names the file and, when
// it applies, the tensor. Torch-free on purpose: the engine wraps the views in at::Tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmhost::engine {

// Thrown for unreadable or malformed model files; the message names the file (and tensor).
class ModelFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class DType { F32, F16, BF16 };
const char *dtype_name(DType t);
std::size_t dtype_size(DType t);

// A read-only memory mapping of a whole file, unmapped when the last owner goes.
class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path &path);
    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;
    const std::uint8_t *data() const { return data_; }
    std::size_t size() const { return size_; }
    const std::filesystem::path &path() const { return path_; }

private:
    std::filesystem::path path_;
    const std::uint8_t *data_ = nullptr;
    std::size_t size_ = 0;
};

struct TensorView {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    const void *data = nullptr;                // inside `file`'s mapping
    std::size_t nbytes = 0;
    std::shared_ptr<const MappedFile> file;    // keeps the mapping alive while the view is used
};

// One checkpoint: a single model.safetensors or the shards listed by model.safetensors.index.json.
class SafetensorsCheckpoint {
public:
    // `dir` holds model.safetensors or model.safetensors.index.json (+ its shards).
    static SafetensorsCheckpoint open_dir(const std::filesystem::path &dir);
    // One .safetensors file.
    static SafetensorsCheckpoint open_file(const std::filesystem::path &file);

    bool contains(const std::string &name) const { return tensors_.count(name) != 0; }
    // Throws ModelFileError naming the tensor and the checkpoint when it is absent.
    const TensorView &get(const std::string &name) const;
    const std::map<std::string, TensorView> &tensors() const { return tensors_; }
    std::size_t total_bytes() const;
    const std::string &origin() const { return origin_; }

private:
    void add_file(const std::filesystem::path &file);
    std::map<std::string, TensorView> tensors_;
    std::map<std::string, std::string> unsupported_; // name -> dtype we cannot compute with
    std::string origin_;
};

} // namespace llmhost::engine
