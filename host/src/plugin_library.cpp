#include "plugin_library.hpp"

#include "platform.hpp"

#include <cstring>

namespace llmhost::detail {

namespace {

// Library-wide services: the entry point has no provider, hence no secrets and no config.
int64_t lib_get_secret(void *, const char *, char *, size_t) { return -1; }
int64_t lib_get_config(void *, const char *, char *, size_t) { return -1; }
void lib_log(void *ctx, llmh_log_level level, const char *message) {
    auto *lib = static_cast<PluginLibrary *>(ctx);
    lib->core()->log(level, lib->info().name.empty() ? lib->path() : lib->info().name,
                     message ? message : "");
}
int lib_progress(void *ctx, const char *task, uint64_t done, uint64_t total) {
    auto *lib = static_cast<PluginLibrary *>(ctx);
    return lib->core()->progress(task ? task : "", done, total) ? 1 : 0;
}

std::string abi_string(uint32_t major, uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

} // namespace

void PluginLibrary::fail(PluginInfo &info, int code, const std::string &message,
                         const std::string &hint) {
    info.loaded = false;
    info.error_code = code;
    info.error = "plugin " + info.path + ": " + message;
    info.hint = hint;
}

std::shared_ptr<PluginLibrary>
PluginLibrary::load(const std::string &path, std::shared_ptr<HostCore> core, PluginInfo &info) {
    info = PluginInfo{};
    info.path = path;
    std::shared_ptr<PluginLibrary> lib(new PluginLibrary());
    lib->path_ = path;
    lib->core_ = std::move(core);
    try {
        // rtld_now: an unresolved symbol is reported now, naming this file, not mid-request.
        lib->lib_.load(boost::dll::fs::path(platform::u8path(path).native()),
                       boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::system_error &e) {
        fail(info, LLMHOST_ERR_PLUGIN,
             "cannot be loaded: " + platform::describe_load_error(e.code(), e.what()),
             "the file is not a loadable shared library for this system; rebuild it or remove "
             "it from the plugin directory");
        return nullptr;
    } catch (const std::exception &e) {
        fail(info, LLMHOST_ERR_PLUGIN, std::string("cannot be loaded: ") + e.what(),
             "the file is not a loadable shared library for this system; rebuild it or remove "
             "it from the plugin directory");
        return nullptr;
    }
    if (!lib->lib_.has(LLMH_PLUGIN_ENTRY_NAME)) {
        fail(info, LLMHOST_ERR_PLUGIN,
             "is a shared library but does not export the entry point '" LLMH_PLUGIN_ENTRY_NAME "'",
             "a plugin must export it with C linkage and default visibility (see "
             "docs/plugin-abi.md); if this is not a plugin, move it out of the plugin directory");
        return nullptr;
    }
    auto &entry =
        lib->lib_.get<std::remove_pointer_t<llmh_plugin_entry_fn>>(LLMH_PLUGIN_ENTRY_NAME);

    lib->services_.struct_size = sizeof(llmh_host_services);
    lib->services_.ctx = lib.get();
    lib->services_.get_secret = lib_get_secret;
    lib->services_.get_config = lib_get_config;
    lib->services_.log = lib_log;
    lib->services_.progress = lib_progress;

    const llmh_plugin *desc = nullptr;
    llmh_error err;
    llmh_error_init(&err);
    llmh_status st;
    try { // a C++ plugin not built with the SDK may let an exception escape
        st = entry(LLMH_ABI_MAJOR, LLMH_ABI_MINOR, &lib->services_, &desc, &err);
    } catch (...) {
        fail(info, LLMH_ERR_INTERNAL, "its entry point threw an exception across the C ABI",
             "this is a bug in the plugin: its entry point must catch every exception");
        return nullptr;
    }
    if (st != LLMH_OK) {
        std::string msg = err.message[0] ? err.message : llmh_status_name(st);
        fail(info, st,
             "its entry point refused to load (" + std::string(llmh_status_name(st)) + "): " + msg,
             err.hint[0] ? err.hint : "see the plugin's documentation");
        return nullptr;
    }
    if (desc == nullptr || desc->struct_size < offsetof(llmh_plugin, list_models)) {
        fail(info, LLMHOST_ERR_PLUGIN, "its entry point returned no descriptor or one too small",
             "the plugin is broken: rebuild it against plugin.h");
        return nullptr;
    }
    info.abi_major = desc->abi_major;
    info.abi_minor = desc->abi_minor;
    if (desc->abi_major != LLMH_ABI_MAJOR) {
        fail(info, LLMH_ERR_ABI_MISMATCH,
             "was built for llmhost plugin ABI " + abi_string(desc->abi_major, desc->abi_minor) +
                 ", but this host speaks ABI " + abi_string(LLMH_ABI_MAJOR, LLMH_ABI_MINOR) +
                 " (the major versions differ)",
             "rebuild the plugin against this host's plugin.h (ABI " +
                 std::to_string(LLMH_ABI_MAJOR) + ".x)");
        return nullptr;
    }
    // Copy what both sides know: a newer plugin's extra fields are ignored, an older plugin's
    // missing ones stay zero.
    std::memcpy(&lib->table_, desc, std::min<size_t>(desc->struct_size, sizeof(llmh_plugin)));
    lib->table_.struct_size = sizeof(llmh_plugin);
    const llmh_plugin &t = lib->table_;
    if (!t.name || !*t.name || !t.create || !t.destroy || !t.generate) {
        fail(info, LLMHOST_ERR_PLUGIN,
             "its descriptor lacks a name or one of create/destroy/generate",
             "the plugin is broken: fill every required field of llmh_plugin");
        return nullptr;
    }
    if (t.manifest_json) {
        // A broken manifest fails the load: silently dropping it would leave the plugin without
        // its environment bridge and its author without a clue.
        try {
            lib->manifest_ = std::make_shared<const Manifest>(parse_manifest(t.manifest_json));
        } catch (const std::exception &e) {
            fail(info, LLMHOST_ERR_PLUGIN, std::string("its manifest is not valid: ") + e.what(),
                 "fix manifest_json in the plugin's descriptor (docs/plugin-abi.md, \"Manifest\")");
            return nullptr;
        }
        info.manifest = lib->manifest_->json;
    }
    info.loaded = true;
    info.name = t.name;
    info.version = t.version ? t.version : "";
    info.description = t.description ? t.description : "";
    info.capabilities = t.capabilities;
    lib->info_ = info;
    return lib;
}

PluginLibrary::~PluginLibrary() = default; // lib_ unloads the file

} // namespace llmhost::detail
