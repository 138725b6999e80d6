// safetensors: mmap + header validation. See safetensors.hpp for the format and the guarantees.
#include <llmhost/engine/safetensors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <fcntl.h>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llmhost::engine {
namespace fs = std::filesystem;

const char *dtype_name(DType t) {
    switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    }
    return "?";
}

std::size_t dtype_size(DType t) { return t == DType::F32 ? 4 : 2; }

MappedFile::MappedFile(const fs::path &path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw ModelFileError("cannot open " + path.string() + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        throw ModelFileError("cannot stat " + path.string() + ": " + std::strerror(e));
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
        void *p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            ::close(fd);
            throw ModelFileError("cannot mmap " + path.string() + ": " + std::strerror(e));
        }
        data_ = static_cast<const std::uint8_t *>(p);
    }
    ::close(fd); // the mapping stays valid without the descriptor
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<std::uint8_t *>(data_), size_);
}

namespace {

bool parse_dtype(const std::string &s, DType &out) {
    if (s == "F32") out = DType::F32;
    else if (s == "F16") out = DType::F16;
    else if (s == "BF16") out = DType::BF16;
    else return false;
    return true;
}

std::size_t element_size_any(const std::string &s) {
    static const std::map<std::string, std::size_t> sizes = {
        {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
        {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"U16", 2}, {"U32", 4}, {"U64", 8},
        {"F8_E4M3", 1}, {"F8_E5M2", 1}};
    auto it = sizes.find(s);
    return it == sizes.end() ? 0 : it->second;
}

} // namespace

void SafetensorsCheckpoint::add_file(const fs::path &file) {
    auto mapped = std::make_shared<const MappedFile>(file);
    const std::string where = file.string();
    const std::size_t size = mapped->size();
    if (size < 8)
        throw ModelFileError(where + " is truncated: " + std::to_string(size) +
                             " bytes, not even the 8-byte header length");
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | mapped->data()[i];
    if (header_len > size - 8)
        throw ModelFileError(where + " is truncated or not a safetensors file: the header claims " +
                             std::to_string(header_len) + " bytes but the file has " +
                             std::to_string(size - 8) + " after the length");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(mapped->data() + 8, mapped->data() + 8 + header_len);
    } catch (const std::exception &e) {
        throw ModelFileError(where + ": the safetensors header is not valid JSON (" + e.what() + ")");
    }
    if (!header.is_object())
        throw ModelFileError(where + ": the safetensors header is not a JSON object");
    const std::uint8_t *data_start = mapped->data() + 8 + header_len;
    const std::size_t data_size = size - 8 - header_len;

    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges; // to detect overlaps
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> range_owner;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string &name = it.key();
        if (name == "__metadata__") continue;
        const auto &t = it.value();
        auto bad = [&](const std::string &why) {
            return ModelFileError(where + ": tensor '" + name + "': " + why);
        };
        if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") ||
            !t.contains("data_offsets"))
            throw bad("header entry lacks dtype, shape or data_offsets");
        const auto &offs = t["data_offsets"];
        if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() ||
            !offs[1].is_number_unsigned())
            throw bad("data_offsets must be two non-negative integers");
        std::uint64_t begin = offs[0].get<std::uint64_t>(), end = offs[1].get<std::uint64_t>();
        if (begin > end) throw bad("data_offsets begin > end");
        if (end > data_size)
            throw bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                      ") run past the end of the data (" + std::to_string(data_size) +
                      " bytes): the file is truncated or the header is wrong");
        std::vector<std::int64_t> shape;
        std::uint64_t count = 1;
        if (!t["shape"].is_array()) throw bad("shape must be an array");
        for (const auto &d : t["shape"]) {
            if (!d.is_number_unsigned()) throw bad("shape entries must be non-negative integers");
            shape.push_back(d.get<std::int64_t>());
            count *= d.get<std::uint64_t>();
        }
        const std::string dtype_s = t["dtype"].is_string() ? t["dtype"].get<std::string>() : "";
        std::size_t esize = element_size_any(dtype_s);
        if (esize == 0) throw bad("unknown dtype '" + dtype_s + "'");
        if (count * esize != end - begin)
            throw bad("size mismatch: shape and dtype " + dtype_s + " need " +
                      std::to_string(count * esize) + " bytes, data_offsets give " +
                      std::to_string(end - begin));
        if (tensors_.count(name) || unsupported_.count(name))
            throw bad("defined twice in the checkpoint");
        if (end > begin) ranges.emplace_back(begin, end), range_owner[{begin, end}] = name;
        DType dt;
        if (!parse_dtype(dtype_s, dt)) {
            unsupported_[name] = dtype_s; // refused only if the model asks for it
            continue;
        }
        TensorView v;
        v.name = name;
        v.dtype = dt;
        v.shape = std::move(shape);
        v.data = data_start + begin;
        v.nbytes = end - begin;
        v.file = mapped;
        tensors_.emplace(name, std::move(v));
    }
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i)
        if (ranges[i].first < ranges[i - 1].second)
            throw ModelFileError(where + ": tensors '" + range_owner[ranges[i - 1]] + "' and '" +
                                 range_owner[ranges[i]] +
                                 "' overlap in the data section: the header is corrupt");
}

SafetensorsCheckpoint SafetensorsCheckpoint::open_file(const fs::path &file) {
    SafetensorsCheckpoint c;
    c.origin_ = file.string();
    c.add_file(file);
    return c;
}

SafetensorsCheckpoint SafetensorsCheckpoint::open_dir(const fs::path &dir) {
    const fs::path index = dir / "model.safetensors.index.json";
    const fs::path single = dir / "model.safetensors";
    if (fs::exists(index)) {
        SafetensorsCheckpoint c;
        c.origin_ = index.string();
        nlohmann::json j;
        try {
            std::ifstream in(index);
            j = nlohmann::json::parse(in);
        } catch (const std::exception &e) {
            throw ModelFileError(index.string() + " is not valid JSON: " + e.what());
        }
        if (!j.contains("weight_map") || !j["weight_map"].is_object())
            throw ModelFileError(index.string() + " has no \"weight_map\" object");
        std::set<std::string> shards;
        for (auto &[name, shard] : j["weight_map"].items()) {
            if (!shard.is_string())
                throw ModelFileError(index.string() + ": weight_map entry '" + name +
                                     "' is not a file name");
            shards.insert(shard.get<std::string>());
        }
        for (const auto &s : shards) {
            if (s.find("..") != std::string::npos || (!s.empty() && s[0] == '/'))
                throw ModelFileError(index.string() + ": shard name '" + s + "' leaves the model directory");
            if (!fs::exists(dir / s))
                throw ModelFileError(index.string() + " lists shard '" + s +
                                     "' which is missing from " + dir.string());
            c.add_file(dir / s);
        }
        for (auto &[name, shard] : j["weight_map"].items())
            if (!c.tensors_.count(name) && !c.unsupported_.count(name))
                throw ModelFileError(index.string() + " maps tensor '" + name + "' to '" +
                                     shard.get<std::string>() + "', which does not contain it");
        return c;
    }
    if (fs::exists(single)) return open_file(single);
    throw ModelFileError("no model.safetensors or model.safetensors.index.json in " + dir.string() +
                         " (only safetensors checkpoints are supported; convert .bin/.pt files "
                         "with transformers' save_pretrained(safe_serialization=True))");
}

const TensorView &SafetensorsCheckpoint::get(const std::string &name) const {
    auto it = tensors_.find(name);
    if (it != tensors_.end()) return it->second;
    auto u = unsupported_.find(name);
    if (u != unsupported_.end())
        throw ModelFileError(origin_ + ": tensor '" + name + "' has dtype " + u->second +
                             ", which llmhost does not support (supported: F32, F16, BF16)");
    throw ModelFileError(origin_ + ": missing tensor '" + name +
                         "' (the checkpoint does not match its config.json architecture)");
}

std::size_t SafetensorsCheckpoint::total_bytes() const {
    std::size_t n = 0;
    for (const auto &[_, v] : tensors_) n += v.nbytes;
    return n;
}

} // namespace llmhost::engine
