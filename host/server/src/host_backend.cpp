#include "host_backend.hpp"

#include <llmhost/host.hpp>

namespace llmhost::server {
namespace {

BackendError to_backend_error(const HostError &e) {
    return BackendError(e.code(), e.what(), e.hint(), e.retry_after_s(), e.http_status());
}

class HostBackend final : public Backend {
public:
    explicit HostBackend(Host &host) : host_(host) {}

    GenerateResult generate(const std::string &provider, const GenerateRequest &request) override {
        GenerateResult res;
        try {
            res = host_.generate(provider, request);
        } catch (const HostError &e) {
            throw to_backend_error(e);
        }
        if (res.finish_reason == LLMH_FINISH_CANCELLED)
            throw BackendError(LLMH_ERR_CANCELLED, "generation cancelled: the client went away");
        return res;
    }

    std::vector<std::string> providers() override {
        std::vector<std::string> names;
        for (const auto &p : host_.providers()) names.push_back(p.name);
        return names;
    }

    std::vector<std::tuple<std::string, std::string, double>> provider_stats() override {
        std::vector<std::tuple<std::string, std::string, double>> out;
        for (const auto &p : host_.providers())
            out.emplace_back(p.name, to_string(p.state), static_cast<double>(p.generation));
        return out;
    }

    std::vector<RouteTargetStatus> route_stats() override { return host_.route_status(); }

    std::vector<ProviderMetric> provider_metrics() override { return host_.provider_metrics(); }

    std::string default_provider() override { return host_.default_provider(); }

    std::vector<std::string> models(const std::string &provider) override {
        try {
            std::vector<std::string> ids;
            for (auto &m : host_.list_models(provider)) ids.push_back(std::move(m.id));
            return ids;
        } catch (const HostError &e) {
            throw to_backend_error(e);
        }
    }

    void swap(const std::string &name, const std::string &entry_json) override {
        nlohmann::json entry = nlohmann::json::parse(entry_json, nullptr, false);
        if (entry.is_discarded() || !entry.is_object())
            throw BackendError(LLMH_ERR_INVALID_ARGUMENT, "the provider entry is not a JSON object",
                               "send {\"plugin\": \"<name>\", \"config\": {...}}");
        try {
            host_.swap(name, entry);
        } catch (const HostError &e) {
            throw to_backend_error(e);
        }
    }

    void reload() override {
        try {
            host_.reload();
        } catch (const HostError &e) {
            throw to_backend_error(e);
        }
    }

    std::string redact(std::string_view text) override { return host_.redact(text); }

private:
    Host &host_;
};

} // namespace

std::shared_ptr<Backend> make_host_backend(Host &host) {
    return std::make_shared<HostBackend>(host);
}

} // namespace llmhost::server
