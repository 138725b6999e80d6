#include "fixture.hpp"

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace mirror_test {

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "llmhost-mirror-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
}

void write_file(const fs::path &path, const std::string &content) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
}

std::string read_file(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string pseudo_random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (auto &c : s) c = static_cast<char>(gen() & 0xff);
    return s;
}

fs::path make_plain_repos(const fs::path &root) {
    write_file(root / "org/tiny/config.json", R"({"model_type": "llama", "hidden_size": 64})");
    write_file(root / "org/tiny/README.md", "# tiny\nA test repo.\n");
    write_file(root / "org/tiny/sub/dir/notes.txt", "nested file\n");
    write_file(root / "org/tiny/model.safetensors", pseudo_random_bytes(300000, 1));
    write_file(root / "org/private/config.json", R"({"private": true})");
    write_file(root / "org/private/.mirror.json", R"({"access": "private", "tokens": ["alice"]})");
    write_file(root / "org/gated/config.json", R"({"gated": true})");
    write_file(root / "org/gated/weights.bin", pseudo_random_bytes(5000, 2));
    write_file(root / "org/gated/.mirror.json", R"({"access": "gated", "revisions": ["v1.0"]})");
    write_file(root / "datasets/org/data/train.csv", "a,b\n1,2\n");
    fs::path tokens = root.parent_path() / (root.filename().string() + "-tokens.json");
    write_file(tokens, R"({"tokens": [
        {"name": "alice", "token": ")" + kAliceToken + R"(", "role": "read"},
        {"name": "bob", "token": ")" + kBobToken + R"(", "role": "read", "user": "bobby", "repos": ["org/gated"]},
        {"name": "carol", "token": ")" + kCarolToken + R"(", "role": "write"}]})");
    return tokens;
}

std::string make_hf_cache(const fs::path &root, std::string &config_content, std::string &weights_content) {
    const std::string commit = "0123456789abcdef0123456789abcdef01234567";
    fs::path repo = root / "models--org--cached";
    config_content = R"({"cached": true})";
    weights_content = pseudo_random_bytes(70000, 3);
    std::string config_etag = git_blob_sha1(config_content), weights_etag = sha256_hex(weights_content);
    write_file(repo / "blobs" / config_etag, config_content);
    write_file(repo / "blobs" / weights_etag, weights_content);
    fs::create_directories(repo / "snapshots" / commit);
    fs::create_symlink("../../blobs/" + config_etag, repo / "snapshots" / commit / "config.json");
    fs::create_symlink("../../blobs/" + weights_etag, repo / "snapshots" / commit / "weights.safetensors");
    write_file(repo / "refs/main", commit);
    write_file(repo / "refs/v1", commit);
    return commit;
}

Mirror::Mirror(llmhost::mirror::ServerOptions options, const std::function<void(const fs::path &)> &more) {
    fs::path root = dir.path / "repos";
    fs::create_directories(root);
    tokens = make_plain_repos(root);
    if (more) more(root);
    options.root = root;
    if (options.tokens_file.empty()) options.tokens_file = tokens;
    server = std::make_unique<llmhost::mirror::Server>(options);
    server->start();
    ep = server->endpoint();
}

Mirror::~Mirror() { server->stop(); }

std::string auth(const std::string &token) { return "Authorization: Bearer " + token; }

} // namespace mirror_test
