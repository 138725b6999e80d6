// Variants of the real tokenizer.json files that exercise the parts those files do not use
// (GPT-2 style ByteLevel regex and prefix space, Metaspace pre-tokenizer and decoder, Digits,
// every Split behaviour, Strip normalizer, lstrip / rstrip / single_word / normalized added
// tokens). Written to `dir`; the parity test compares them with the Rust library like the rest.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

// (name, path of the written tokenizer.json) for each variant whose base file exists.
std::vector<std::pair<std::string, std::filesystem::path>> write_tokenizer_variants(const std::filesystem::path &dir);
