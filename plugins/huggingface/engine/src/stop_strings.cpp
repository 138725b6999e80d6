// Stop strings across token boundaries (see stop_strings.hpp).
#include <llmhost/engine/stop_strings.hpp>

#include <algorithm>

namespace llmhost::engine {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
    for (auto &s : stops)
        if (!s.empty()) stops_.push_back(std::move(s)); // an empty stop string would stop at once
}

StopStringMatcher::Result StopStringMatcher::push(std::string_view piece) {
    Result r;
    pending_.append(piece);
    if (stops_.empty()) {
        r.text.swap(pending_);
        return r;
    }
    // Earliest complete stop string wins.
    std::size_t first = std::string::npos;
    for (const auto &s : stops_) first = std::min(first, pending_.find(s));
    if (first != std::string::npos) {
        r.text = pending_.substr(0, first);
        r.stopped = true;
        pending_.clear();
        return r;
    }
    // Hold back the longest suffix that is a proper prefix of some stop string.
    std::size_t hold = 0;
    for (const auto &s : stops_) {
        const std::size_t max_len = std::min(s.size() - 1, pending_.size());
        for (std::size_t len = max_len; len > hold; --len)
            if (pending_.compare(pending_.size() - len, len, s, 0, len) == 0) {
                hold = len;
                break;
            }
    }
    r.text = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return r;
}

std::string StopStringMatcher::flush() {
    std::string out;
    out.swap(pending_);
    return out;
}

} // namespace llmhost::engine
