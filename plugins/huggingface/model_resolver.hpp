// Where a model comes from: a local directory, or a Hub repo id downloaded (or found offline) in
// the Hugging Face cache through llmhost::hub with the host's token.
//
// Rules, in order: a string naming an existing directory is used as is; one that looks like a
// path (starts with '/', '.', '~') but does not exist is "not found"; anything else of the form
// "name" or "org/name" is a repo id at config "revision". Only the files the engine reads are
// downloaded: *.json, *.safetensors, tokenizer.model.
#pragma once

#include "provider_config.hpp"

#include <llmhost/plugin.hpp>

#include <filesystem>
#include <string>

namespace llmhost::hf {

std::filesystem::path resolve_model(const std::string &model, const ProviderConfig &cfg,
                                    const llmh::Host &host);

} // namespace llmhost::hf
