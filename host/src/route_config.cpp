#include "route_config.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace llmhost::detail {

const char *to_string(RouteStrategy s) {
    switch (s) {
    case RouteStrategy::fallback: return "fallback";
    case RouteStrategy::round_robin: return "round_robin";
    case RouteStrategy::least_busy: return "least_busy";
    case RouteStrategy::latency: return "latency";
    }
    return "fallback";
}

namespace {

const std::vector<std::string> kStrategies = {"fallback", "round_robin", "least_busy", "latency"};

void check_keys(const nlohmann::json &obj, const std::string &pointer,
                const std::vector<std::string> &valid, const Locate &locate,
                const std::string &where) {
    for (const auto &[key, value] : obj.items()) {
        if (std::find(valid.begin(), valid.end(), key) != valid.end()) continue;
        std::string s = closest_match(key, valid);
        std::string list;
        for (const auto &v : valid) list += (list.empty() ? "'" : ", '") + v + "'";
        config_error(locate, pointer + "/" + json_pointer_escape(key), true,
                     "unknown key '" + key + "' in " + where + " ('" + pointer + "/" +
                         json_pointer_escape(key) + "')" +
                         (s.empty() ? "" : "; did you mean '" + s + "'?"),
                     "valid keys here: " + list + " (docs/configuration.md, Routes)");
    }
}

// A whole number in [1, max]: limits and sizes. Zero, negatives, fractions, strings and values
// beyond `max` are refused (a typo such as an extra zero is caught rather than obeyed).
uint64_t positive_int(const nlohmann::json &v, const std::string &pointer, uint64_t max,
                      const Locate &locate, const std::string &what) {
    const bool whole = v.is_number_unsigned() || v.is_number_integer() ||
                       (v.is_number_float() && std::isfinite(v.get<double>()) &&
                        v.get<double>() == std::floor(v.get<double>()));
    const double d = v.is_number() ? v.get<double>() : 0;
    if (!whole || d < 1 || d > static_cast<double>(max))
        config_error(locate, pointer, false,
                     "'" + pointer + "' (" + what + ") must be a whole number from 1 to " +
                         std::to_string(max) + ", not " + v.dump(),
                     "leave the key out for no limit; see docs/configuration.md, Routes");
    return static_cast<uint64_t>(d);
}

double positive_seconds(const nlohmann::json &v, const std::string &pointer, const Locate &locate) {
    const double d = v.is_number() ? v.get<double>() : -1;
    if (!v.is_number() || !std::isfinite(d) || d < 0.001 || d > kMaxCooldownSeconds)
        config_error(locate, pointer, false,
                     "'" + pointer + "' must be a number of seconds from 0.001 to 86400, not " +
                         v.dump(),
                     "see docs/configuration.md, Routes");
    return d;
}

bool printable(const std::string &s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
}

RouteTarget parse_target(const nlohmann::json &t, const std::string &p, const Locate &locate) {
    RouteTarget out;
    if (t.is_string()) { // shorthand: the provider's name
        out.provider = t.get<std::string>();
        if (out.provider.empty())
            config_error(
                locate, p, false, "'" + p + "' is an empty provider name",
                "name a configured provider, or write {\"provider\": ..., \"model\": ...}");
        return out;
    }
    if (!t.is_object())
        config_error(locate, p, false,
                     "'" + p + "' must be a provider name or an object {\"provider\": ...}, not " +
                         std::string(t.type_name()),
                     "see docs/configuration.md, Routes");
    check_keys(t, p, {"provider", "model", "context", "max_concurrent", "rpm", "tpm"}, locate,
               "a route target");
    if (!t.contains("provider") || !t["provider"].is_string() ||
        t["provider"].get<std::string>().empty())
        config_error(locate, t.contains("provider") ? p + "/provider" : p, !t.contains("provider"),
                     "route target '" + p + "' needs \"provider\": a configured provider's name",
                     "add \"provider\": \"<name>\" (one of the entries under \"providers\")");
    out.provider = t["provider"].get<std::string>();
    if (t.contains("model")) {
        const auto &m = t["model"];
        // The label "provider/model" becomes a response header and a metrics label.
        if (!m.is_string() || m.get<std::string>().empty() || m.get<std::string>().size() > 256 ||
            !printable(m.get<std::string>()))
            config_error(locate, p + "/model", false,
                         "'" + p + "/model' must be a model name (1-256 printable characters)",
                         "leave it out to pass the request's model through");
        out.model = m.get<std::string>();
    }
    if (t.contains("context"))
        out.context = positive_int(t["context"], p + "/context", kMaxRouteContext, locate,
                                   "the target's context window in tokens");
    if (t.contains("max_concurrent"))
        out.max_concurrent =
            static_cast<uint32_t>(positive_int(t["max_concurrent"], p + "/max_concurrent",
                                               kMaxRouteConcurrent, locate, "requests at once"));
    if (t.contains("rpm"))
        out.rpm = static_cast<uint32_t>(
            positive_int(t["rpm"], p + "/rpm", kMaxRouteRpm, locate, "requests per minute"));
    if (t.contains("tpm"))
        out.tpm = positive_int(t["tpm"], p + "/tpm", kMaxRouteTpm, locate, "tokens per minute");
    return out;
}

} // namespace

RouteConfig parse_route(const nlohmann::json &entry, const std::string &pointer,
                        const Locate &locate) {
    RouteConfig rc;
    check_keys(entry, pointer, {"route"}, locate,
               "a route entry (a route lists targets instead of a plugin)");
    const std::string rp = pointer + "/route";
    const auto &r = entry.at("route");
    if (!r.is_object())
        config_error(locate, rp, false,
                     "'" + rp +
                         "' must be an object {\"strategy\": ..., \"targets\": [...]}, not " +
                         std::string(r.type_name()),
                     "see docs/configuration.md, Routes");
    check_keys(r, rp, {"strategy", "targets", "cooldown"}, locate, "a route");
    rc.entry = r;
    if (r.contains("strategy")) {
        const auto &s = r["strategy"];
        const std::string name = s.is_string() ? s.get<std::string>() : s.dump();
        auto it = std::find(kStrategies.begin(), kStrategies.end(), name);
        if (!s.is_string() || it == kStrategies.end()) {
            std::string sug = closest_match(name, kStrategies);
            config_error(locate, rp + "/strategy", false,
                         "unknown route strategy '" + name + "' at '" + rp + "/strategy'" +
                             (sug.empty() ? "" : "; did you mean '" + sug + "'?"),
                         "one of: fallback, round_robin, least_busy, latency");
        }
        rc.strategy = static_cast<RouteStrategy>(it - kStrategies.begin());
    }
    if (!r.contains("targets"))
        config_error(locate, rp, false, "route '" + rp + "' has no \"targets\"",
                     "add \"targets\": [{\"provider\": \"<name>\"}, ...] (at least one)");
    const auto &targets = r["targets"];
    if (!targets.is_array() || targets.empty())
        config_error(locate, rp + "/targets", false,
                     "'" + rp + "/targets' must be a non-empty array of targets",
                     "list at least one provider: [{\"provider\": \"<name>\"}, ...]");
    if (targets.size() > kMaxRouteTargets)
        config_error(locate, rp + "/targets", false,
                     "'" + rp + "/targets' lists " + std::to_string(targets.size()) +
                         " targets; at most " + std::to_string(kMaxRouteTargets) + " are allowed",
                     "split the route");
    std::set<std::string> labels;
    for (size_t i = 0; i < targets.size(); ++i) {
        const std::string p = rp + "/targets/" + std::to_string(i);
        RouteTarget t = parse_target(targets[i], p, locate);
        if (!labels.insert(t.label()).second)
            config_error(locate, p, false,
                         "route target '" + t.label() + "' is listed twice ('" + p + "')",
                         "list each provider (or provider/model) once");
        rc.targets.push_back(std::move(t));
    }
    if (r.contains("cooldown")) {
        const auto &c = r["cooldown"];
        const std::string cp = rp + "/cooldown";
        if (!c.is_object())
            config_error(locate, cp, false,
                         "'" + cp + "' must be an object {\"failures\", \"window_s\", \"seconds\"}",
                         "see docs/configuration.md, Routes");
        check_keys(c, cp, {"failures", "window_s", "seconds"}, locate, "a route's cooldown");
        if (c.contains("failures"))
            rc.cooldown.failures = static_cast<uint32_t>(
                positive_int(c["failures"], cp + "/failures", kMaxCooldownFailures, locate,
                             "failures that start a cooldown"));
        if (c.contains("window_s"))
            rc.cooldown.window_s = positive_seconds(c["window_s"], cp + "/window_s", locate);
        if (c.contains("seconds"))
            rc.cooldown.seconds = positive_seconds(c["seconds"], cp + "/seconds", locate);
    }
    return rc;
}

void check_route_targets(const std::string &name, const RouteConfig &route,
                         const std::function<std::optional<bool>(const std::string &)> &kind,
                         const std::vector<std::string> &known, const std::string &pointer,
                         const Locate &locate) {
    for (size_t i = 0; i < route.targets.size(); ++i) {
        const std::string &target = route.targets[i].provider;
        const std::string p = pointer + "/route/targets/" + std::to_string(i);
        if (target == name)
            config_error(locate, p, false,
                         "route '" + name + "' lists itself as a target ('" + p + "')",
                         "targets are plugin providers; remove this target");
        auto k = kind(target);
        if (!k) {
            std::string s = closest_match(target, known);
            config_error(locate, p, false,
                         "route '" + name + "' targets '" + target + "' ('" + p +
                             "'), which is not a configured provider" +
                             (s.empty() ? "" : "; did you mean '" + s + "'?"),
                         "add the provider under \"providers\" or remove the target");
        }
        if (*k)
            config_error(locate, p, false,
                         "route '" + name + "' targets '" + target + "' ('" + p +
                             "'), which is a route; routes do not nest (that could loop)",
                         "list that route's targets here instead");
    }
}

} // namespace llmhost::detail
