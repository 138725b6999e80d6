// Where a model comes from: a local directory, or a Hub repo id downloaded (or found offline) in
// the Hugging Face cache through llmhost::hub with the host's token.
//
// Rules, in order: a string naming an existing directory is used as is; one that looks like a
// path (starts with '/', '.', '~') but does not exist is "not found"; anything else of the form
// "name" or "org/name" is a repo id at config "revision". Only the files the engine reads are
// downloaded: *.json, *.safetensors, tokenizer.model.
//
// Each model also gets the id that /v1/models lists: the repo id for a Hub model, the
// directory's name for a local one — never a server path (requests may name it; the registry
// maps it back to the directory).
#pragma once

#include "provider_config.hpp"

#include <llmhost/plugin.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace llmhost::hf {

struct ResolvedModel {
    std::filesystem::path dir; // absolute
    std::string id;            // what list_models shows: "org/name" or the directory's name
    // A repo id resolved through the Hub client: what it fetched and what the cache already had.
    bool through_hub = false;
    std::uint64_t downloaded_bytes = 0, downloaded_files = 0, cached_files = 0;
};

ResolvedModel resolve_model(const std::string &model, const ProviderConfig &cfg,
                            const llmh::Host &host);

} // namespace llmhost::hf
