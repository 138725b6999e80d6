// Shared by the two halves of the OpenAI request mapping: request_parser.cpp (the top-level
// fields of both endpoints) and chat_parser.cpp (messages, tools, tool_choice). Together they
// are the one place that maps an OpenAI body onto llmhost::GenerateRequest.
#pragma once

#include "openai_api.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace llmhost::server::parser_detail {

// Fills err with a 400 naming `param`; returns false so callers can `return fail(...)`.
bool fail(ApiError &err, std::string message, std::string param, std::string code = {});

// messages[] -> request.messages (roles, text parts, assistant tool_calls, tool results).
bool read_messages(const nlohmann::json &body, GenerateRequest &g, ApiError &err);
// tools, tool_choice and parallel_tool_calls -> request.tools/tool_choice/parallel_tool_calls.
bool read_tools(const nlohmann::json &body, GenerateRequest &g, ApiError &err);

} // namespace llmhost::server::parser_detail
