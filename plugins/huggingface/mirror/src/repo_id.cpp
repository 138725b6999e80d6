#include "repo_id.hpp"

namespace fs = std::filesystem;

namespace llmhost::mirror {
namespace {

bool word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// One side of the id: `\b[\w\-.]+\b` with re.ASCII, i.e. word characters at both ends.
bool valid_part(std::string_view part, std::size_t max_length) {
    if (part.empty() || part.size() > max_length || !word_char(part.front()) ||
        !word_char(part.back()))
        return false;
    for (char c : part)
        if (!word_char(c) && c != '-' && c != '.') return false;
    return true;
}

bool control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

} // namespace

bool valid_repo_id(std::string_view id) {
    auto slash = id.find('/');
    if (slash == std::string_view::npos || id.find('/', slash + 1) != std::string_view::npos)
        return false;
    // The regex bounds only the name ({1,96}); the namespace has no bound of its own there.
    if (!valid_part(id.substr(0, slash), id.size()) || !valid_part(id.substr(slash + 1), 96))
        return false;
    if (id.find("--") != std::string_view::npos || id.find("..") != std::string_view::npos)
        return false;
    return !(id.size() >= 4 && id.substr(id.size() - 4) == ".git");
}

bool valid_revision(std::string_view revision) {
    if (revision.empty() || revision.size() > 255 || revision.front() == '/' ||
        revision.back() == '/')
        return false;
    if (revision.find("..") != std::string_view::npos ||
        revision.find("//") != std::string_view::npos)
        return false;
    for (std::size_t i = 0; i < revision.size(); ++i) {
        char c = revision[i];
        if (control(c) || c == '\\') return false;
        if (c == '.' && (i == 0 || revision[i - 1] == '/')) return false; // ".hidden" components
    }
    return true;
}

bool valid_repo_path(std::string_view path) {
    if (path.empty() || path.size() > 4096) return false;
    std::size_t start = 0;
    while (true) {
        std::size_t end = path.find('/', start);
        std::string_view part = path.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (part.empty() || part == "." || part == "..") return false;
        for (char c : part)
            if (control(c)) return false;
        if (end == std::string_view::npos) return true;
        start = end + 1;
    }
}

bool inside_folder(const fs::path &folder, const fs::path &file) {
    std::error_code ec;
    fs::path root = fs::canonical(folder, ec);
    if (ec) return false;
    fs::path target = fs::canonical(file, ec);
    if (ec) return false;
    fs::path rel = target.lexically_relative(root);
    return !rel.empty() && *rel.begin() != ".." && *rel.begin() != ".";
}

} // namespace llmhost::mirror
