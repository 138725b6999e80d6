// llmhost::Host: opening (config + environment + discovery), lazy provider creation, requests,
// live swap and reload.
#include "host_impl.hpp"

#include "environment.hpp"

namespace llmhost {

using namespace detail;

// ---- Impl ------------------------------------------------------------------------------------

void Host::Impl::learn_secrets(const ProviderSpec &spec) {
    for (const auto &[name, s] : spec.secrets) core->redactor.add(s.value);
    for (const auto &v : spec.redact_also) core->redactor.add(v);
}

void Host::Impl::update_plugin_dirs() {
    std::vector<std::string> config_dirs;
    {
        std::shared_lock lock(mu);
        config_dirs = config.plugin_dirs;
    }
    catalog.set_dirs(plugin_search_dirs(options, config_dirs));
}

void Host::Impl::apply_config(ResolvedConfig rc) {
    for (const auto &v : rc.redact_also) core->redactor.add(v);
    for (const auto &[name, spec] : rc.providers) {
        learn_secrets(spec);
        auto s = std::make_shared<ProviderSlot>();
        s->spec = spec;
        slots[name] = std::move(s);
    }
    config = std::move(rc);
}

std::shared_ptr<ProviderSlot> Host::Impl::slot(std::string_view name) const {
    std::shared_lock lock(mu);
    std::string wanted(name.empty() ? config.default_provider : std::string(name));
    if (auto it = slots.find(wanted); it != slots.end()) return it->second;
    std::string names;
    for (const auto &[n, s] : slots) names += (names.empty() ? "" : ", ") + n;
    if (wanted.empty())
        throw HostError(LLMHOST_ERR_NO_PROVIDER,
                        "no provider was named and there is no default provider; configured: " +
                            (names.empty() ? "none" : names),
                        "name one (--provider), set LLM_PROVIDER, or set \"default_provider\" in "
                        "the configuration (docs/configuration.md)");
    std::string why = name.empty() ? " (the default provider, from " + config.default_provider_source + ")" : "";
    throw HostError(
        LLMHOST_ERR_NO_PROVIDER,
        core->redactor.redact("no provider named '" + wanted + "'" + why +
                              " is configured; configured: " + (names.empty() ? "none" : names)),
        config.file.empty()
            ? "without a config file the providers are those of the plugins that come "
              "up from the environment (`llmhost providers`; pick one with "
              "LLM_PROVIDER), or write llmhost.json (docs/configuration.md)"
            : "add it under \"providers\" in " + config.file + " or pick a configured one");
}

std::shared_ptr<ProviderInstance> Host::Impl::create_instance(const ProviderSpec &spec) {
    try {
        auto lib = catalog.acquire(spec.plugin);
        // An expected secret that is missing: one warning per provider, in the plugin's words
        // (its manifest), taken from the library actually loaded.
        if (const auto &m = lib->manifest())
            for (const auto &[name, decl] : m->secrets) {
                if (!decl.expected || spec.secrets.count(name)) continue;
                std::lock_guard lock(warned_mu);
                if (warned_missing_secret.insert(spec.name + '\n' + name).second)
                    core->log(LLMH_LOG_WARN, spec.name,
                              !decl.warning.empty()
                                  ? decl.warning
                                  : "secret '" + name + "' is not set" +
                                        (decl.hint.empty() ? "" : ": " + decl.hint));
            }
        return ProviderInstance::create(std::move(lib), spec);
    } catch (const HostError &e) {
        throw core->redacted(e);
    }
}

std::shared_ptr<Route> Host::Impl::route_of(ProviderSlot &s) {
    std::lock_guard lock(s.mu);
    if (!s.spec.route) return nullptr;
    if (!s.route) s.route = std::make_shared<Route>(s.spec.name, *s.spec.route);
    return s.route;
}

GenerateResult Host::Impl::run_target(const RouteTarget &target, const GenerateRequest &request,
                                      const TokenCallback &on_token) {
    auto s = slot(target.provider); // removed by a reload since: NO_PROVIDER, the route moves on
    auto inst = instance(*s);
    return inst->generate(request, options.model, on_token);
}

void Host::Impl::check_swapped_route(const std::string &name, const ProviderSpec &spec) const {
    std::shared_lock lock(mu);
    std::vector<std::string> names;
    for (const auto &[n, s] : slots) names.push_back(n);
    auto kind = [&](const std::string &n) -> std::optional<bool> {
        auto it = slots.find(n);
        if (it == slots.end()) return std::nullopt;
        std::lock_guard slock(it->second->mu);
        return it->second->spec.route != nullptr;
    };
    check_route_targets(name, *spec.route, kind, names, "/" + json_pointer_escape(name), {});
}

std::shared_ptr<ProviderInstance> Host::Impl::instance(ProviderSlot &s) {
    {
        std::lock_guard lock(s.mu);
        if (s.current) return s.current;
    }
    std::lock_guard creating(s.create_mu);
    for (;;) {
        ProviderSpec spec;
        uint64_t version;
        {
            std::lock_guard lock(s.mu);
            if (s.current) return s.current; // another thread created it meanwhile
            spec = s.spec;
            version = s.spec_version;
        }
        if (spec.route) // a route's target turned into a route by a reload or swap
            throw HostError(LLMHOST_ERR_NO_PROVIDER,
                            "provider '" + spec.name + "' is a route, not a plugin provider",
                            "routes do not nest: target plugin providers");
        try {
            auto inst = create_instance(spec);
            std::lock_guard lock(s.mu);
            if (s.current) return s.current; // a concurrent swap installed one: keep that
            // A reload replaced the spec while we were creating: this instance would serve the old
            // configuration forever (later reloads see no change). Build again from the new spec.
            if (s.spec_version != version) continue;
            s.current = inst;
            s.state = ProviderState::ready;
            s.error.clear();
            ++s.generation;
            return s.current;
        } catch (const HostError &e) {
            std::lock_guard lock(s.mu);
            s.state = ProviderState::failed;
            s.error = e.what();
            throw;
        }
    }
}

void Host::Impl::swap_slot(ProviderSlot &s, const ProviderSpec &spec) {
    if (spec.route) { // nothing to create: a fresh route object (fresh state) takes over
        auto fresh = std::make_shared<Route>(spec.name, *spec.route);
        std::lock_guard lock(s.mu);
        s.spec = spec;
        s.route = std::move(fresh); // requests on the old route finish there
        s.current.reset();
        s.state = ProviderState::ready;
        s.error.clear();
        ++s.spec_version;
        ++s.generation;
        return;
    }
    learn_secrets(spec);
    std::shared_ptr<ProviderInstance> fresh;
    try {
        fresh = create_instance(spec);
    } catch (const HostError &e) { // the old instance (if any) keeps serving
        bool had_instance;
        {
            std::lock_guard lock(s.mu);
            had_instance = s.current != nullptr;
        }
        core->log(LLMH_LOG_WARN, spec.name,
                  std::string("swap failed") +
                      (had_instance ? "; the previous instance keeps serving: " : ": ") + e.what());
        throw;
    }
    std::shared_ptr<ProviderInstance> old;
    {
        std::lock_guard lock(s.mu);
        old = std::exchange(s.current, std::move(fresh));
        s.route.reset(); // it was a route before
        s.spec = spec;
        s.state = ProviderState::ready;
        s.error.clear();
        ++s.generation;
    }
    // `old` is released here; requests still running on it hold their own references, and the
    // last of them destroys it (then its library is unloaded if nothing else uses it).
}

// ---- Host ------------------------------------------------------------------------------------

Host::Host(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Host::~Host() = default;

std::unique_ptr<Host> Host::open(const HostOptions &options) {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->core->set_log_level(options.log_level);
    // Everything the environment knows is redacted from the first message on, assigned or not.
    for (const auto &v : environment_secret_values()) impl->core->redactor.add(v);
    try {
        impl->apply_config(resolve_config(options, impl->catalog));
    } catch (const HostError &e) {
        throw impl->core->redacted(e);
    }
    impl->update_plugin_dirs();
    return std::unique_ptr<Host>(new Host(std::move(impl)));
}

std::unique_ptr<Host> Host::initialize_from_env(HostOptions options) {
    options.use_config_file = false;
    options.config_path.clear();
    return open(options);
}

std::vector<PluginInfo> Host::plugins() const { return impl_->catalog.scan(); }
std::vector<std::string> Host::plugin_search_path() const { return impl_->catalog.dirs(); }

std::vector<ProviderInfo> Host::providers() const {
    std::shared_lock lock(impl_->mu);
    std::vector<ProviderInfo> out;
    for (const auto &[name, s] : impl_->slots) {
        std::lock_guard slock(s->mu);
        ProviderInfo p;
        p.name = name;
        p.plugin = s->spec.plugin;
        p.is_default = name == impl_->config.default_provider;
        p.state = s->state;
        if (s->spec.route) {
            p.plugin = "route";
            p.state = ProviderState::ready; // nothing to create
            for (const auto &t : s->spec.route->targets) p.route_targets.push_back(t.label());
        }
        p.error = s->error;
        p.thread_safe = s->current && s->current->thread_safe();
        p.generation = s->generation;
        out.push_back(std::move(p));
    }
    return out;
}

std::string Host::default_provider() const {
    std::shared_lock lock(impl_->mu);
    return impl_->config.default_provider;
}

std::string Host::config_path() const {
    std::shared_lock lock(impl_->mu);
    return impl_->config.file;
}

void Host::start(std::string_view provider) {
    auto s = impl_->slot(provider);
    if (auto route = impl_->route_of(*s)) { // a route starts its targets
        for (const auto &t : route->config().targets) impl_->instance(*impl_->slot(t.provider));
        return;
    }
    impl_->instance(*s);
}

GenerateResult Host::generate(std::string_view provider, const GenerateRequest &request,
                              const TokenCallback &on_token) {
    auto s = impl_->slot(provider);
    if (auto route = impl_->route_of(*s)) // held until the request ends, even across a swap
        return route->generate(request, on_token,
                               [this](const RouteTarget &t, const GenerateRequest &r,
                                      const TokenCallback &tok) {
                                   return impl_->run_target(t, r, tok);
                               });
    auto inst = impl_->instance(*s);
    if (request.on_target) request.on_target(inst->name());
    GenerateResult r = inst->generate(request, impl_->options.model, on_token);
    r.served_by = r.provider;
    return r;
}

std::vector<ModelInfo> Host::list_models(std::string_view provider) {
    auto s = impl_->slot(provider);
    auto route = impl_->route_of(*s);
    if (!route) return impl_->instance(*s)->list_models();
    std::vector<ModelInfo> out;
    std::set<std::string> seen;
    for (const auto &t : route->config().targets) {
        std::vector<ModelInfo> models;
        if (!t.model.empty()) models.push_back({t.model, "route target " + t.label()});
        else models = impl_->instance(*impl_->slot(t.provider))->list_models();
        for (auto &m : models)
            if (seen.insert(m.id).second) out.push_back(std::move(m));
    }
    return out;
}

std::vector<RouteTargetStatus> Host::route_status() const {
    std::vector<std::shared_ptr<Route>> routes;
    {
        std::shared_lock lock(impl_->mu);
        for (const auto &[name, s] : impl_->slots) {
            std::lock_guard slock(s->mu);
            if (s->route) routes.push_back(s->route);
        }
    }
    std::vector<RouteTargetStatus> out;
    for (const auto &r : routes)
        for (auto &st : r->status()) out.push_back(std::move(st));
    return out;
}

void Host::swap(std::string_view name, const nlohmann::json &provider_entry) {
    if (name.empty())
        throw HostError(LLMHOST_ERR_NO_PROVIDER, "swap: the provider name is empty",
                        "name the provider to replace or add");
    ProviderSpec spec;
    try {
        std::vector<std::string> seen;
        spec = resolve_swap_entry(std::string(name), provider_entry, impl_->options, impl_->catalog,
                                  seen);
        for (const auto &v : seen) impl_->core->redactor.add(v);
        if (spec.route) impl_->check_swapped_route(std::string(name), spec);
    } catch (const HostError &e) {
        throw impl_->core->redacted(e);
    }
    std::shared_ptr<ProviderSlot> s;
    {
        std::shared_lock lock(impl_->mu);
        if (auto it = impl_->slots.find(name); it != impl_->slots.end()) s = it->second;
    }
    if (!s) {
        // A new provider: its slot becomes visible only once its instance exists.
        auto fresh = std::make_shared<ProviderSlot>();
        impl_->swap_slot(*fresh, spec);
        std::unique_lock lock(impl_->mu);
        auto &entry = impl_->slots[std::string(name)];
        if (!entry) {
            entry = fresh;
            impl_->config.providers[std::string(name)] = spec;
            return;
        }
        s = entry; // another swap added it meanwhile: replace that one too
    }
    impl_->swap_slot(*s, spec);
    std::unique_lock lock(impl_->mu);
    impl_->config.providers[std::string(name)] = spec;
}

void Host::reload() {
    ResolvedConfig fresh;
    try {
        fresh = resolve_config(impl_->options, impl_->catalog);
    } catch (const HostError &e) {
        throw impl_->core->redacted(e); // nothing changes
    }
    for (const auto &v : environment_secret_values()) impl_->core->redactor.add(v);
    for (const auto &v : fresh.redact_also) impl_->core->redactor.add(v);
    std::vector<std::pair<std::shared_ptr<ProviderSlot>, ProviderSpec>> to_swap;
    {
        std::unique_lock lock(impl_->mu);
        for (auto it = impl_->slots.begin(); it != impl_->slots.end();) // removed providers
            it = fresh.providers.count(it->first) ? std::next(it) : impl_->slots.erase(it);
        for (const auto &[name, spec] : fresh.providers) {
            impl_->learn_secrets(spec);
            auto &s = impl_->slots[name];
            if (!s) {
                s = std::make_shared<ProviderSlot>();
                s->spec = spec;
                continue;
            }
            std::lock_guard slock(s->mu);
            if (s->spec.same_as(spec)) {
                s->spec = spec; // sources may differ
            } else if (spec.route || s->spec.route) {
                // A route changed, or a provider became or stopped being one: nothing to
                // create now; requests running on the old route or instance finish there.
                s->spec = spec;
                s->route.reset();
                s->current.reset();
                ++s->spec_version;
                ++s->generation;
                s->state = spec.route ? ProviderState::ready : ProviderState::configured;
                s->error.clear();
            } else if (!s->current) {
                s->spec = spec; // not started: the first request creates it from the new spec
                ++s->spec_version; // a creation already under way must not install the old spec
                s->state = ProviderState::configured;
                s->error.clear();
            } else {
                to_swap.emplace_back(s, spec);
            }
        }
        impl_->config = fresh;
    }
    impl_->update_plugin_dirs();
    std::string failures;
    for (auto &[s, spec] : to_swap) {
        try {
            impl_->swap_slot(*s, spec);
            impl_->core->log(LLMH_LOG_INFO, spec.name, "reloaded");
        } catch (const HostError &e) {
            failures += std::string(failures.empty() ? "" : "; ") + e.what();
        }
    }
    if (!failures.empty())
        throw HostError(LLMH_ERR_INVALID_ARGUMENT,
                        impl_->core->redactor.redact("reload: some providers keep their previous "
                                                     "instance: " + failures),
                        "fix their entries in the configuration and reload again");
}

nlohmann::json Host::resolved_config_for_display() const {
    nlohmann::json out;
    {
        std::shared_lock lock(impl_->mu);
        out = display_config(impl_->config);
    }
    out["plugin_search_path"] = impl_->catalog.dirs();
    // Defence in depth: a secret pasted into an ordinary config value is hidden as well.
    std::function<void(nlohmann::json &)> scrub = [&](nlohmann::json &v) {
        if (v.is_string()) v = impl_->core->redactor.redact(v.get<std::string>());
        else if (v.is_structured())
            for (auto &c : v) scrub(c);
    };
    scrub(out);
    return out;
}

std::optional<ResolvedSecret> Host::secret(std::string_view provider, std::string_view name) const {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->slots.find(provider);
    if (it == impl_->slots.end()) return std::nullopt;
    std::lock_guard slock(it->second->mu);
    auto s = it->second->spec.secrets.find(std::string(name));
    if (s == it->second->spec.secrets.end()) return std::nullopt;
    return s->second;
}

std::optional<nlohmann::json> Host::provider_config(std::string_view provider) const {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->slots.find(provider);
    if (it == impl_->slots.end()) return std::nullopt;
    std::lock_guard slock(it->second->mu);
    return it->second->spec.config;
}

nlohmann::json Host::provider_manifest(std::string_view provider) const {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->slots.find(provider);
    if (it == impl_->slots.end()) return nullptr;
    std::lock_guard slock(it->second->mu);
    const auto &m = it->second->spec.manifest;
    return m ? m->json : nlohmann::json(nullptr);
}

std::string Host::redact(std::string_view text) const { return impl_->core->redactor.redact(text); }

void Host::set_log_sink(LogSink sink) { impl_->core->set_log_sink(std::move(sink)); }
void Host::set_log_level(llmh_log_level level) { impl_->core->set_log_level(level); }
void Host::set_progress_sink(ProgressSink sink) { impl_->core->set_progress_sink(std::move(sink)); }

} // namespace llmhost
