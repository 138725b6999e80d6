// A live provider instance: the plugin's handle plus the host services scoped to this provider
// (its own secrets only, its own config, logs prefixed with its name). Requests hold it by
// shared_ptr, so a swapped-out instance is destroyed by whichever request ends last — and
// because it holds its PluginLibrary, the file is unloaded only after that.
#pragma once

#include "plugin_library.hpp"
#include "provider_spec.hpp"

#include <mutex>

namespace llmhost::detail {

class ProviderInstance {
public:
    // Creates the instance via the plugin's create(). Throws HostError (redacted) on failure.
    static std::shared_ptr<ProviderInstance> create(std::shared_ptr<PluginLibrary> lib,
                                                    const ProviderSpec &spec);
    ~ProviderInstance();

    GenerateResult generate(const GenerateRequest &request, const std::string &default_model,
                            const TokenCallback &on_token);
    std::vector<ModelInfo> list_models();
    // The plugin's metrics (ABI 2.2; empty when it has none). Invalid samples are dropped and
    // counted in *dropped. Throws HostError when the plugin reports an error.
    std::vector<ProviderMetric> metrics(std::size_t *dropped = nullptr);

    bool thread_safe() const { return thread_safe_; }
    const std::string &name() const { return name_; }
    const PluginLibrary &library() const { return *lib_; }

    // Host services (static trampolines; ctx is the instance).
    int64_t get_secret(const char *name, char *buf, size_t cap) const;
    int64_t get_config(const char *pointer, char *buf, size_t cap) const;

private:
    ProviderInstance() = default;
    HostError error_from(llmh_status st, const llmh_error &err, const char *what) const;

    // Declared first so it is destroyed last: the plugin's code must outlive its instance.
    std::shared_ptr<PluginLibrary> lib_;
    std::shared_ptr<HostCore> core_;
    std::string name_;
    nlohmann::json config_;
    std::map<std::string, ResolvedSecret> secrets_;
    llmh_host_services services_{};
    llmh_provider *handle_ = nullptr;
    bool thread_safe_ = false;
    std::mutex serial_; // serializes calls when the instance is not thread-safe
};

} // namespace llmhost::detail
