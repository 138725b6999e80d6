#include "command_registry.hpp"

namespace llmhost::cli {

// A function-local static, so registrars in other translation units may run in any order.
std::vector<std::pair<std::string, RegisterFn>> &command_registry() {
    static std::vector<std::pair<std::string, RegisterFn>> registry;
    return registry;
}

} // namespace llmhost::cli
