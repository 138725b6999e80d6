// llmhost::constraint — grammar-constrained decoding: which tokens may come next.
//
// Three pieces, see docs/structured-output.md:
//  * Grammar: compiled once from a JSON Schema, a regex or a GBNF grammar; immutable, shared by
//    any number of sequences and threads (std::shared_ptr<const Grammar>).
//  * TokenVocabulary: the model's tokens as BYTES (not vocabulary strings) plus the EOS ids. Build
//    it from a tokenizer with vocabulary_from_tokenizer() (tokenizer_vocabulary.hpp), or directly.
//  * Matcher: the state of one sequence. fill_mask() gives the allowed next tokens, advance()
//    consumes the sampled one, rollback() undoes tokens (stop strings, fast-forward retries).
//
// The grammar is a byte-level context-free grammar whose terminals are DFAs (lexemes: string
// contents, numbers, literals, regexes). A Matcher keeps a set of parser stacks; a mask walks the
// vocabulary's byte trie, stepping only the top lexeme's DFA inside a lexeme and consulting the
// parser only where a lexeme may end.
//
// Errors: compiling throws CompileError (what, keyword, JSON pointer). Matching never throws on
// model output: a token that does not fit is simply refused (advance() returns false).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::constraint {

// A schema/grammar/regex that cannot be compiled exactly. `keyword()` is the JSON Schema keyword
// (or "regex"/"gbnf"/"grammar"), `pointer()` its JSON pointer in the schema ("" for the root;
// for GBNF "line:col"). what() reads "<pointer>: <keyword>: <reason>".
class CompileError : public std::runtime_error {
public:
    CompileError(std::string keyword, std::string pointer, const std::string &reason);
    const std::string &keyword() const noexcept { return keyword_; }
    const std::string &pointer() const noexcept { return pointer_; }

private:
    std::string keyword_;
    std::string pointer_;
};

struct JsonSchemaOptions {
    // true: no whitespace anywhere between JSON tokens (the compact form). false: whitespace as
    // JSON allows it ([ \t\n\r]*, at most max_whitespace bytes in one run).
    bool compact = false;
    std::size_t max_whitespace = 64;
    // Literal bytes before and after the JSON value: the tool-call syntax of a model family
    // around the arguments (e.g. "<tool_call>\n" ... "\n</tool_call>"). Empty: none.
    std::string prefix, suffix;
    // Generation mode: an object's properties in the order of `properties`, each at most once,
    // other members after them (as LLGuidance and XGrammar generate). Without it properties may
    // come in any order and repeat (every occurrence valid): what matching existing JSON needs,
    // but a model may then write a key twice, which tool-call parsers refuse.
    bool ordered_properties = false;
    // Generation mode: where validators read a schema differently, produce only what all of them
    // accept. "$ref" siblings count in every draft (drafts 3-7 validators ignore them, ajv
    // applies them); formats take their strictest common form (email with a dotted domain and
    // no stray dots, no leap seconds, URIs with "//" and %XX escapes only). Matching (MaskBench,
    // `llmhost grammar check`) leaves it off: it must accept what the draft accepts.
    bool generation = false;
};

struct GrammarImpl; // src/grammar.hpp

class Grammar {
public:
    // A JSON Schema document (draft-04/07/2019-09/2020-12 as used in practice). Local $ref only.
    static std::shared_ptr<const Grammar> from_json_schema(std::string_view schema_json,
                                                           const JsonSchemaOptions &options = {});
    // Any JSON object (response_format json_object).
    static std::shared_ptr<const Grammar> json_object(const JsonSchemaOptions &options = {});
    // The whole output must match `pattern` (anchored at both ends; ECMAScript-like syntax).
    static std::shared_ptr<const Grammar> from_regex(std::string_view pattern);
    // llama.cpp GBNF; `root` names the start rule.
    static std::shared_ptr<const Grammar> from_gbnf(std::string_view text,
                                                    std::string_view root = "root");

    // Debug text of the rules (one per line), for tests and `llmhost grammar`.
    std::string describe() const;
    // Fewest bytes of any complete output (0 when the empty output is accepted).
    std::size_t min_output_bytes() const;

    const GrammarImpl &impl() const { return *impl_; }
    explicit Grammar(std::unique_ptr<GrammarImpl> impl);
    ~Grammar();

private:
    std::unique_ptr<GrammarImpl> impl_;
};

struct VocabularyImpl; // src/vocabulary.hpp

// The model's tokens as bytes. Ids index `token_bytes`; the vocabulary size (mask width) is
// token_bytes.size(). A token with empty bytes (special/control tokens, unused ids) is never
// allowed, except an EOS id, which is allowed exactly when the grammar accepts.
class TokenVocabulary {
public:
    TokenVocabulary(std::vector<std::string> token_bytes, std::vector<int32_t> eos_ids);
    TokenVocabulary(TokenVocabulary &&) noexcept;
    TokenVocabulary &operator=(TokenVocabulary &&) noexcept;
    ~TokenVocabulary();

    std::size_t size() const;
    const std::string &token_bytes(int32_t id) const;
    bool is_eos(int32_t id) const;
    const std::vector<int32_t> &eos_ids() const;

    const VocabularyImpl &impl() const { return *impl_; }

private:
    std::unique_ptr<VocabularyImpl> impl_;
};

// A mask is a bitset of size() bits in 32-bit words: bit (id % 32) of word (id / 32) set =
// token id allowed. mask_words(n) is the word count for a vocabulary of n tokens.
constexpr std::size_t mask_words(std::size_t vocab_size) { return (vocab_size + 31) / 32; }
inline bool mask_test(std::span<const uint32_t> mask, int32_t id) {
    return (mask[static_cast<std::size_t>(id) >> 5] >> (id & 31)) & 1u;
}

struct ConstraintImpl; // src/constraint_impl.hpp

// A grammar bound to a vocabulary, with the per-state mask caches both need. Immutable from the
// outside and thread-safe (the caches are internally synchronised); share it across sequences.
class Constraint {
public:
    static std::shared_ptr<const Constraint>
    create(std::shared_ptr<const Grammar> grammar,
           std::shared_ptr<const TokenVocabulary> vocabulary);
    const Grammar &grammar() const;
    const TokenVocabulary &vocabulary() const;

    ConstraintImpl &impl() const { return *impl_; }
    explicit Constraint(std::unique_ptr<ConstraintImpl> impl);
    ~Constraint();

private:
    std::unique_ptr<ConstraintImpl> impl_;
};

struct MatcherState; // src/matcher_state.hpp

// The constraint state of one sequence. Not thread-safe itself; one per sequence/slot.
class Matcher {
public:
    explicit Matcher(std::shared_ptr<const Constraint> constraint);
    Matcher(Matcher &&) noexcept;
    Matcher &operator=(Matcher &&) noexcept;
    ~Matcher();

    // Writes the allowed next tokens into `mask` (mask_words(vocab size) words; every word is
    // overwritten). EOS ids are set exactly when is_accepting(). Returns the number of allowed ids.
    std::size_t fill_mask(std::span<uint32_t> mask);
    // Consumes a token. False (state unchanged) when the token is not allowed. Accepting EOS
    // terminates the matcher: nothing but rollback is allowed after it.
    bool advance(int32_t token_id);
    // Consumes raw bytes (a forced prefix). False (state unchanged) when not allowed.
    bool advance_bytes(std::string_view bytes);
    // Undoes the last n advance()/advance_bytes() calls (n > count() is clamped).
    void rollback(std::size_t n);
    // Back to the start state.
    void reset();
    // Number of advance()/advance_bytes() calls in effect.
    std::size_t count() const;

    // The output so far is a complete instance of the grammar (EOS allowed now).
    bool is_accepting() const;
    // EOS was consumed, or no continuation exists at all.
    bool is_terminated() const;
    // Bytes every continuation must start with (empty when there is a choice or when accepting).
    // The engine may fast-forward them (tokenized) without a forward pass.
    std::string forced_bytes() const;
    // Fewest bytes that complete the output from here (0 when accepting). Every vocabulary has
    // the single-byte tokens of byte-level BPE / byte fallback, so this bounds the token count.
    std::size_t min_bytes_to_accept() const;
    // The bytes of one shortest completion (what budget-aware closing steers to).
    std::string shortest_completion() const;

private:
    std::shared_ptr<const Constraint> constraint_;
    std::unique_ptr<MatcherState> state_;
};

} // namespace llmhost::constraint
