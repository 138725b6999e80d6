// Test helpers: a byte vocabulary (every single byte a token, plus multi-byte tokens) and a walk
// that checks the mask agrees with advance() at every step.
#pragma once

#include "llmhost/constraint/constraint.hpp"

#include <memory>
#include <string>
#include <vector>

namespace ctest_util {

using namespace llmhost::constraint;

// Ids 0..255: the single bytes; then `extra` tokens; the last id is EOS.
std::shared_ptr<const TokenVocabulary> byte_vocab(const std::vector<std::string> &extra = {});
int32_t eos_of(const TokenVocabulary &v);

// Walks `text` one byte-token at a time (checking each is set in the mask first), then checks
// EOS. Returns true when every byte was accepted and the end is accepting.
bool accepts(const std::shared_ptr<const Grammar> &g, const std::string &text);
// Same for a JSON schema (text).
bool schema_accepts(const std::string &schema, const std::string &instance,
                    const JsonSchemaOptions &o = {});

// Walks `text` byte by byte through a matcher of `schema` over `vocab`, checking before every
// byte and at the end that the mask holds exactly the tokens advance() takes (REQUIRE). Returns
// whether the whole text was accepted and the end is accepting.
bool walk_checking_every_token(const std::shared_ptr<const TokenVocabulary> &vocab,
                               const std::string &schema, const std::string &text);

} // namespace ctest_util
