// The engine's A/B switches (LLMHOST_DEVICE_FUSION, LLMHOST_CUDA_GEMV, ...): on unless the
// variable is "0". Each caller reads its switch once and keeps the answer.
#pragma once

#include <cstdlib>
#include <cstring>

namespace llmhost::engine {

inline bool env_switch_on(const char *name) {
    const char *v = std::getenv(name);
    return !(v && std::strcmp(v, "0") == 0);
}

} // namespace llmhost::engine
