#include "llmhost/constraint/constraint.hpp"

#include "constraint_impl.hpp"
#include "grammar.hpp"

namespace llmhost::constraint {

Grammar::Grammar(std::unique_ptr<GrammarImpl> impl) : impl_(std::move(impl)) {}
Grammar::~Grammar() = default;
std::string Grammar::describe() const { return impl_->describe(); }
std::size_t Grammar::min_output_bytes() const { return impl_->rules[impl_->root].min_len; }

std::shared_ptr<const Grammar> Grammar::from_regex(std::string_view pattern) {
    GrammarBuilder b;
    int32_t root = b.rule("root");
    Re re = parse_regex(pattern, false, "regex", "");
    b.alt(root, {b.regex(re, ReMode::Raw, std::string(pattern), "regex", "")});
    return std::make_shared<const Grammar>(b.finish(root, "regex"));
}

Constraint::Constraint(std::unique_ptr<ConstraintImpl> impl) : impl_(std::move(impl)) {}
Constraint::~Constraint() = default;
const Grammar &Constraint::grammar() const { return *impl_->grammar; }
const TokenVocabulary &Constraint::vocabulary() const { return *impl_->vocabulary; }

std::shared_ptr<const Constraint>
Constraint::create(std::shared_ptr<const Grammar> grammar,
                   std::shared_ptr<const TokenVocabulary> vocabulary) {
    if (!grammar || !vocabulary)
        throw std::invalid_argument("Constraint::create: null grammar or vocabulary");
    auto impl = std::make_unique<ConstraintImpl>();
    impl->grammar = std::move(grammar);
    impl->vocabulary = std::move(vocabulary);
    return std::make_shared<const Constraint>(std::move(impl));
}

} // namespace llmhost::constraint
