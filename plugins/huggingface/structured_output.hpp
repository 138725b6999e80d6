// What a request asks of the shape of the output, as a constraint grammar for the engine's
// guided decoding (docs/structured-output.md):
//
//   response_format json_object        -> any JSON object
//   response_format json_schema        -> the schema (strict or not: always enforced)
//   grammar (GBNF) / regex             -> llmhost extensions (ABI 2.1)
//   tool_choice required / a function  -> one call in the model family's tool-call syntax, its
//                                         arguments following the tool's `parameters` schema
//
// A schema keyword or grammar construct the constraint engine cannot honour exactly is an
// error naming it (keyword + JSON pointer), never ignored. So is a combination whose output
// could not satisfy both sides (a JSON response_format with callable tools).
#pragma once

#include <llmhost/constraint/constraint.hpp>
#include <llmhost/plugin.hpp>
#include <llmhost/toolcall/toolcall.hpp>

#include <memory>
#include <string>

namespace llmhost::hf {

struct OutputConstraint {
    std::shared_ptr<const constraint::Grammar> grammar; // null: free output
    std::string what; // the request field it comes from, for messages ("response_format", ...)
};

// `tools`: the model's tool-call syntax (TemplateTraits); `model` names it in errors.
OutputConstraint output_constraint(const llmh::Request &req, toolcall::ToolFormat tools,
                                   const std::string &model);

// The JSON Schema of the call tool_choice asks for in `format`: {"name": const, "arguments" (or
// Llama's "parameters"): the tool's parameters}, an anyOf over the tools for "required", the
// tools' local $refs rewritten to where they are embedded. Exposed for tests.
std::string tool_call_schema(const llmh::Request &req, toolcall::ToolFormat format);

} // namespace llmhost::hf
