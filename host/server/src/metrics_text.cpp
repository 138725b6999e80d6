// The Prometheus text exposition format, version 0.0.4: per family a HELP and a TYPE line, then
// one line per sample, `name{label="value",...} value`. Label values escape \ " and newline;
// HELP text escapes \ and newline.
#include "metrics.hpp"

#include <cmath>
#include <cstdio>

namespace llmhost::server::metrics {

namespace {

std::string escape_help(const std::string &v) {
    std::string out;
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    // Integers (counts) exactly; other values with round-trip precision.
    if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.0f", v);
        return buf;
    }
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

} // namespace

std::string format_bound(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

std::string escape_label_value(const std::string &v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string write_text(const std::vector<FamilySnapshot> &families) {
    std::string out;
    for (const auto &f : families) {
        out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
        out += "# TYPE " + f.name + " " + f.type + "\n";
        for (const auto &s : f.samples) {
            out += f.name;
            out += s.suffix;
            if (!s.labels.empty()) {
                out += '{';
                bool first = true;
                for (const auto &[k, v] : s.labels) {
                    if (!first) out += ',';
                    first = false;
                    out += k + "=\"" + escape_label_value(v) + "\"";
                }
                out += '}';
            }
            out += ' ';
            out += format_value(s.value);
            out += '\n';
        }
    }
    return out;
}

} // namespace llmhost::server::metrics
