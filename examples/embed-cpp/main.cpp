// Embedding llmhost in a C++ program: open the host (config file + environment), stream a chat
// answer from the default provider, let it call a C++ function (when its plugin can call tools),
// then reconfigure that provider live and ask again.
//
//   embed_cpp [config.json]          (default: the usual search, see docs/configuration.md)
//
// Build it in-tree (examples/CMakeLists.txt) or against an installed llmhost: link libllmhost
// and include <llmhost/host.hpp>.
#include <llmhost/host.hpp>

#include <iostream>

namespace {

llmhost::Message message(std::string role, std::string content) {
    llmhost::Message m;
    m.role = std::move(role);
    m.content = std::move(content);
    return m;
}

// The function the model may call; a real program would look the weather up.
std::string get_weather(const nlohmann::json &args) {
    const std::string city = args.value("city", "nowhere");
    return nlohmann::json{{"city", city}, {"sky", "clear"}, {"celsius", 18}}.dump();
}

bool provider_calls_tools(llmhost::Host &host, const std::string &provider) {
    std::string plugin;
    for (const auto &p : host.providers())
        if (p.name == provider) plugin = p.plugin;
    for (const auto &p : host.plugins())
        if (p.loaded && (p.name == plugin || p.path == plugin))
            return p.capabilities & LLMH_CAP_TOOLS;
    return false;
}

// One tool round trip: the model asks for get_weather, the program runs it and sends the result
// back as a tool message, the model answers with it.
void weather_agent(llmhost::Host &host, const std::string &provider) {
    llmhost::GenerateRequest request;
    request.messages = {message("user", "How is the weather? get_weather {\"city\": \"Lyon\"}")};
    request.tools = {{"get_weather", "The current weather in a city",
                      R"({"type": "object", "properties": {"city": {"type": "string"}}})", false}};
    for (int round = 0; round < 4; ++round) {
        auto r = host.generate(provider, request);
        if (r.finish_reason != LLMH_FINISH_TOOL_CALLS) {
            std::cout << "[agent] " << r.text << '\n';
            return;
        }
        llmhost::Message assistant = message("assistant", r.text);
        assistant.tool_calls = r.tool_calls;
        request.messages.push_back(assistant);
        for (const auto &call : r.tool_calls) {
            // The arguments come from the model: parse them defensively.
            const auto args = nlohmann::json::parse(call.arguments, nullptr, false);
            std::string result = call.name != "get_weather" ? "error: unknown function"
                                 : args.is_object()         ? get_weather(args)
                                                    : "error: the arguments are not a JSON object";
            std::cout << "[agent] -> " << call.name << '(' << call.arguments << ") = " << result
                      << '\n';
            llmhost::Message tool = message("tool", result);
            tool.tool_call_id = call.id;
            request.messages.push_back(tool);
        }
    }
    std::cout << "[agent] no answer after 4 rounds\n";
}

} // namespace

int main(int argc, char **argv) {
    try {
        llmhost::HostOptions options;
        if (argc > 1) options.config_path = argv[1];
        auto host = llmhost::Host::open(options);

        std::cout << "providers:";
        for (const auto &p : host->providers())
            std::cout << ' ' << p.name << (p.is_default ? "*" : "");
        std::cout << '\n';

        llmhost::GenerateRequest request;
        request.messages = {message("system", "You are a concise assistant."),
                            message("user", "Say hello to the embedding program")};
        request.max_tokens = 64;
        auto on_token = [](std::string_view piece, uint32_t) {
            std::cout << piece << std::flush;
            return true; // false would cancel
        };
        auto first = host->generate("", request, on_token);
        std::cout << "\n[" << first.provider << ": " << first.finish_reason_name() << ", "
                  << first.completion_tokens << " tokens]\n";

        if (provider_calls_tools(*host, first.provider)) weather_agent(*host, first.provider);

        // Live reconfiguration: the same provider name, a new instance; requests already running
        // on the old one would finish there.
        if (argc > 2) {
            host->swap(first.provider, nlohmann::json::parse(argv[2]));
            auto second = host->generate("", request, on_token);
            std::cout << "\n[after swap: " << second.finish_reason_name() << "]\n";
        }
        return 0;
    } catch (const llmhost::HostError &e) {
        std::cerr << "error: " << e.what() << '\n';
        if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << '\n';
        return 1;
    }
}
