// Embedding llmhost in a C++ program: open the host (config file + environment), stream a chat
// answer from the default provider, then reconfigure that provider live and ask again.
//
//   embed_cpp [config.json]          (default: the usual search, see docs/configuration.md)
//
// Build it in-tree (examples/CMakeLists.txt) or against an installed llmhost: link libllmhost
// and include <llmhost/host.hpp>.
#include <llmhost/host.hpp>

#include <iostream>

int main(int argc, char **argv) {
    try {
        llmhost::HostOptions options;
        if (argc > 1) options.config_path = argv[1];
        auto host = llmhost::Host::open(options);

        std::cout << "providers:";
        for (const auto &p : host->providers()) std::cout << ' ' << p.name << (p.is_default ? "*" : "");
        std::cout << '\n';

        llmhost::GenerateRequest request;
        request.messages = {{"system", "You are a concise assistant."},
                            {"user", "Say hello to the embedding program"}};
        request.max_tokens = 64;
        auto on_token = [](std::string_view piece, uint32_t) {
            std::cout << piece << std::flush;
            return true; // false would cancel
        };
        auto first = host->generate("", request, on_token);
        std::cout << "\n[" << first.provider << ": " << first.finish_reason_name() << ", "
                  << first.completion_tokens << " tokens]\n";

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
