// GenerateRequest -> llmh_request: the one place where the host's request becomes the plugin ABI's.
// Every field of GenerateRequest is mapped here or refused here; tests/host/test_request_fields.cpp
// sends every field through a recording plugin and checks that it arrives.
#pragma once

#include <llmhost/host.hpp>
#include <llmhost/plugin.h>

#include <memory>
#include <string>
#include <vector>

namespace llmhost::detail {

// The C request and everything it points to. Not copyable or movable: llmh_request holds
// pointers into the vectors below.
class MarshalledRequest {
public:
    // `model` is the model to ask for (already defaulted); `caps` the plugin's LLMH_CAP_* bits.
    // The capability-gated fields are set only when `caps` has the capability (check_request
    // refused the request otherwise).
    MarshalledRequest(const GenerateRequest &r, const std::string &model, uint32_t caps);
    MarshalledRequest(const MarshalledRequest &) = delete;
    MarshalledRequest &operator=(const MarshalledRequest &) = delete;

    llmh_request &request() { return req_; }

private:
    llmh_request req_{};
    llmh_params params_{};
    llmh_response_format format_{};
    std::vector<std::vector<llmh_tool_call>> call_storage_;
    std::vector<std::vector<const llmh_tool_call *>> call_ptrs_;
    std::vector<llmh_message> messages_;
    std::vector<const llmh_message *> message_ptrs_;
    std::vector<llmh_tool> tools_;
    std::vector<const llmh_tool *> tool_ptrs_;
    std::vector<const char *> stops_;
};

// Throws HostError: invalid_argument for a malformed request (naming the field and the fix),
// unsupported for a field the plugin's capabilities cannot honour (naming `who` and the field).
void check_request(const GenerateRequest &r, uint32_t caps, const std::string &who);

} // namespace llmhost::detail
