// Stop strings over streamed text. Text arrives in pieces (one per token); a stop string may
// span several pieces, so the matcher holds back the tail of the text that could still be the
// beginning of a stop string, and releases it as soon as it cannot. The stop string itself and
// everything after it are never released.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmhost::engine {

class StopStringMatcher {
public:
    explicit StopStringMatcher(std::vector<std::string> stops);

    struct Result {
        std::string text;     // safe to emit now
        bool stopped = false; // a stop string was completed: emit `text`, then stop
    };
    Result push(std::string_view piece);
    // At the end of generation (no stop matched): the held-back text.
    std::string flush();

private:
    std::vector<std::string> stops_;
    std::string pending_; // held back: a suffix that is a prefix of some stop string
};

} // namespace llmhost::engine
