// HostError and the small name tables of the public API.
#include <llmhost/host.hpp>

namespace llmhost {

HostError::HostError(int code, const std::string &message, std::string hint,
                     std::optional<SourceLocation> location, double retry_after_s, int http_status)
    : std::runtime_error(location ? location->file + ":" + std::to_string(location->line) + ":" +
                                        std::to_string(location->column) + ": " + message
                                  : message),
      code_(code), hint_(std::move(hint)), location_(std::move(location)),
      retry_after_s_(retry_after_s), http_status_(http_status) {}

std::string capability_names(uint32_t caps) {
    static const std::pair<uint32_t, const char *> names[] = {
        {LLMH_CAP_CHAT, "chat"},           {LLMH_CAP_COMPLETION, "completion"},
        {LLMH_CAP_STREAMING, "streaming"}, {LLMH_CAP_EMBEDDINGS, "embeddings"},
        {LLMH_CAP_LIST_MODELS, "list_models"}, {LLMH_CAP_LOGPROBS, "logprobs"},
        {LLMH_CAP_STRUCTURED_OUTPUT, "structured_output"}, {LLMH_CAP_TOOLS, "tools"},
        {LLMH_CAP_REASONING, "reasoning"}, {LLMH_CAP_GRAMMAR, "grammar"}};
    std::string out;
    for (const auto &[bit, name] : names)
        if (caps & bit) out += (out.empty() ? "" : ",") + std::string(name);
    return out;
}

const char *to_string(ProviderState s) {
    switch (s) {
    case ProviderState::configured: return "configured";
    case ProviderState::ready: return "ready";
    case ProviderState::failed: return "failed";
    }
    return "unknown";
}

} // namespace llmhost

extern "C" {

LLMHOST_API const char *llmhost_status_name(int code) {
    switch (code) {
    case LLMHOST_ERR_CONFIG: return "config";
    case LLMHOST_ERR_PLUGIN: return "plugin";
    case LLMHOST_ERR_NO_PROVIDER: return "no_provider";
    default: return llmh_status_name(static_cast<llmh_status>(code));
    }
}

LLMHOST_API const char *llmhost_finish_reason_name(int reason) {
    switch (reason) {
    case LLMH_FINISH_NONE: return "none";
    case LLMH_FINISH_STOP: return "stop";
    case LLMH_FINISH_LENGTH: return "length";
    case LLMH_FINISH_CANCELLED: return "cancelled";
    case LLMH_FINISH_ERROR: return "error";
    case LLMH_FINISH_TOOL_CALLS: return "tool_calls";
    }
    return "unknown";
}

LLMHOST_API const char *llmhost_version(void) { return LLMHOST_VERSION_STRING; }

} // extern "C"
