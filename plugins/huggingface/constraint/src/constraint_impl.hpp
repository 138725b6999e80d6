// A grammar bound to a vocabulary. Holds shared ownership of both; the place for per-state mask
// caches shared by all matchers of the constraint.
#pragma once

#include "llmhost/constraint/constraint.hpp"

#include <memory>

namespace llmhost::constraint {

struct ConstraintImpl {
    std::shared_ptr<const Grammar> grammar;
    std::shared_ptr<const TokenVocabulary> vocabulary;
};

} // namespace llmhost::constraint
