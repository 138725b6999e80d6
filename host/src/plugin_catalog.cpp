#include "plugin_catalog.hpp"

#include "environment.hpp"
#include "platform.hpp"

#include <boost/dll/runtime_symbol_info.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace llmhost::detail {

using platform::plugin_file_prefix;
using platform::plugin_file_suffix;

// The conventional file of plugin <name> in <dir>.
static fs::path conventional_file(const std::string &dir, const std::string &name) {
    return platform::u8path(dir) / platform::u8path(std::string(plugin_file_prefix) + name +
                                                    std::string(plugin_file_suffix));
}

std::vector<std::string> default_plugin_dirs() {
    std::vector<std::string> dirs;
    if (auto v = env_value("LLMHOST_PLUGIN_PATH")) {
        size_t start = 0;
        for (;;) {
            size_t colon = v->find(platform::path_list_separator, start);
            std::string d = v->substr(start, colon - start);
            if (!d.empty()) dirs.push_back(d);
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
    }
    try {
        fs::path exe(boost::dll::program_location().native()); // Boost or std path
        dirs.push_back(platform::to_utf8(
            (exe.parent_path() / ".." / "lib" / "llmhost" / "plugins").lexically_normal()));
    } catch (...) { // no /proc: skip this one
    }
    try {
        fs::path self(boost::dll::this_line_location().native());
        dirs.push_back(platform::to_utf8(
            (self.parent_path() / platform::u8path(platform::library_relative_plugin_dir))
                .lexically_normal()));
    } catch (...) {}
#ifndef _WIN32 // Windows installs are relocatable: the two directories above cover them
    dirs.push_back(LLMHOST_INSTALL_PLUGIN_DIR);
#endif
    return dirs;
}

void PluginCatalog::set_dirs(std::vector<std::string> dirs) {
    // Drop duplicates (the exe- and lib-relative dirs usually coincide), keeping the first.
    std::vector<std::string> unique;
    std::set<std::string> seen;
    for (auto &d : dirs) {
        std::error_code ec;
        fs::path canon = fs::weakly_canonical(platform::u8path(d), ec);
        std::string key = ec ? d : platform::to_utf8(canon);
        if (seen.insert(key).second) unique.push_back(d);
    }
    std::lock_guard lock(mu_);
    dirs_ = std::move(unique);
}

std::vector<std::string> PluginCatalog::dirs() const {
    std::lock_guard lock(mu_);
    return dirs_;
}

std::vector<std::string> plugin_search_dirs(const HostOptions &options,
                                            const std::vector<std::string> &config_dirs) {
    std::vector<std::string> dirs = options.plugin_dirs;
    dirs.insert(dirs.end(), config_dirs.begin(), config_dirs.end());
    if (options.search_default_plugin_dirs) {
        auto d = default_plugin_dirs();
        dirs.insert(dirs.end(), d.begin(), d.end());
    }
    return dirs;
}

std::vector<std::string> PluginCatalog::plugin_files(const std::vector<std::string> &dirs) {
    std::vector<std::string> files;
    for (const auto &dir : dirs) {
        std::error_code ec;
        std::vector<std::string> here;
        for (fs::directory_iterator it(platform::u8path(dir), ec), end; !ec && it != end;
             it.increment(ec)) {
            std::string name = platform::to_utf8(it->path().filename());
            if (name.size() > plugin_file_prefix.size() + plugin_file_suffix.size() &&
                name.starts_with(plugin_file_prefix) && name.ends_with(plugin_file_suffix) &&
                !it->is_directory())
                here.push_back(platform::to_utf8(it->path()));
        }
        std::sort(here.begin(), here.end()); // stable order within a directory
        files.insert(files.end(), here.begin(), here.end());
    }
    return files;
}

std::shared_ptr<PluginLibrary> PluginCatalog::open(const std::string &path, PluginInfo &info) {
    {
        std::lock_guard lock(mu_);
        if (auto it = loaded_.find(path); it != loaded_.end())
            if (auto lib = it->second.lock()) {
                info = lib->info();
                return lib;
            }
    }
    auto lib = PluginLibrary::load(path, core_, info);
    if (lib) {
        std::lock_guard lock(mu_);
        for (auto it = loaded_.begin(); it != loaded_.end();) // forget unloaded ones
            it = it->second.expired() ? loaded_.erase(it) : std::next(it);
        loaded_[path] = lib;
    }
    return lib;
}

std::vector<PluginInfo> PluginCatalog::scan() {
    std::vector<PluginInfo> out;
    std::vector<std::shared_ptr<PluginLibrary>> hold; // keep each loaded until the scan ends
    std::map<std::string, std::string> winner;        // plugin name -> first path
    for (const auto &path : plugin_files()) {
        PluginInfo info;
        auto lib = open(path, info);
        if (lib) {
            hold.push_back(lib);
            auto [it, first] = winner.emplace(info.name, path);
            if (!first) info.shadowed_by = it->second;
        } else {
            info.error = core_->redactor.redact(info.error);
            info.hint = core_->redactor.redact(info.hint);
        }
        out.push_back(std::move(info));
    }
    return out;
}

std::shared_ptr<PluginLibrary> PluginCatalog::acquire(const std::string &name_or_path) {
    PluginInfo info;
    if (platform::looks_like_path(name_or_path)) {
        if (!fs::exists(platform::u8path(name_or_path)))
            throw HostError(LLMHOST_ERR_PLUGIN, "plugin file " + name_or_path + " does not exist",
                            "check the \"plugin\" path in the configuration");
        if (auto lib = open(name_or_path, info)) return lib;
        throw HostError(info.error_code, info.error, info.hint);
    }
    const auto search = dirs();
    // Fast path: the conventional file name (libllmhost_<name>.so, llmhost_<name>.dll).
    for (const auto &dir : search) {
        fs::path file = conventional_file(dir, name_or_path);
        if (!fs::exists(file)) continue;
        std::string path = platform::to_utf8(file);
        auto lib = open(path, info);
        if (lib && lib->info().name == name_or_path) return lib;
        if (!lib) throw HostError(info.error_code, info.error, info.hint);
    }
    // Otherwise any file whose descriptor has this name.
    std::string failures;
    for (const auto &path : plugin_files()) {
        auto lib = open(path, info);
        if (lib && lib->info().name == name_or_path) return lib;
        if (!lib) failures += "\n  " + info.error;
    }
    std::string searched;
    for (const auto &d : search) searched += (searched.empty() ? "" : ", ") + d;
    throw HostError(
        LLMHOST_ERR_PLUGIN,
        "no plugin named '" + name_or_path +
            "' was found (searched: " + (searched.empty() ? "no directories" : searched) + ")" +
            (failures.empty() ? "" : "; files that failed to load:" + failures),
        "build or install the plugin, or add its directory to \"plugin_dirs\" in the "
        "configuration or to $LLMHOST_PLUGIN_PATH; `llmhost plugins` lists what is found");
}

std::optional<PluginManifest> PluginCatalog::describe(const std::string &path) {
    std::error_code ec;
    const fs::path file = platform::u8path(path);
    auto mtime = fs::last_write_time(file, ec);
    auto size = ec ? 0 : fs::file_size(file, ec);
    if (ec) return std::nullopt;
    {
        std::lock_guard lock(mu_);
        if (auto it = described_.find(path);
            it != described_.end() && it->second.mtime == mtime && it->second.size == size)
            return it->second.plugin;
    }
    Described d{mtime, size, std::nullopt};
    const auto mtime_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
    if (auto hit = disk_.find(path, mtime_ns, size)) {
        try {
            std::shared_ptr<const Manifest> m;
            if (hit->manifest_json)
                m = std::make_shared<const Manifest>(parse_manifest(*hit->manifest_json));
            d.plugin = PluginManifest{hit->plugin, path, std::move(m)};
        } catch (const std::exception &) {
            d.plugin.reset(); // a damaged entry: load the plugin itself below
        }
    }
    if (!d.plugin) {
        PluginInfo info;
        if (auto lib = open(path, info)) {
            d.plugin = PluginManifest{lib->info().name, path, lib->manifest()};
            std::optional<std::string> text;
            if (lib->manifest()) text = lib->manifest()->json.dump();
            disk_.store(path, mtime_ns, size, {lib->info().name, text});
        }
    }
    std::lock_guard lock(mu_);
    described_[path] = d;
    return d.plugin;
}

std::optional<PluginManifest> PluginCatalog::manifest(const std::string &name_or_path,
                                                      const std::vector<std::string> &dirs) {
    if (platform::looks_like_path(name_or_path)) return describe(name_or_path);
    for (const auto &dir : dirs) { // the conventional file name first, as acquire() does
        fs::path file = conventional_file(dir, name_or_path);
        if (!fs::exists(file)) continue;
        std::string path = platform::to_utf8(file);
        if (auto d = describe(path); d && d->plugin == name_or_path) return d;
    }
    for (const auto &path : plugin_files(dirs))
        if (auto d = describe(path); d && d->plugin == name_or_path) return d;
    return std::nullopt;
}

std::vector<PluginManifest>
PluginCatalog::environment_plugins(const std::vector<std::string> &dirs) {
    std::vector<PluginManifest> out;
    std::set<std::string> seen;
    for (const auto &path : plugin_files(dirs)) {
        auto d = describe(path);
        if (!d || !seen.insert(d->plugin).second) continue; // the first file of a name wins
        if (d->manifest && !d->manifest->from_environment.empty()) out.push_back(*d);
    }
    return out;
}

} // namespace llmhost::detail
