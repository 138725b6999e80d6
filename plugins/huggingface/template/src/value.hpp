// Runtime values of the template language. They mirror @huggingface/jinja's RuntimeValue classes
// (IntegerValue, FloatValue, StringValue, ArrayValue, ObjectValue, NamespaceValue, ...) so that
// truthiness, printing, equality and JSON output come out the same. Numbers are doubles with an
// "integer" flag, exactly like the JS numbers behind IntegerValue/FloatValue.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmhost::tmpl::detail {

struct Value;
struct Scope;

enum class Kind : uint8_t { Undefined, Null, Bool, Int, Float, String, Array, Object, Namespace, Function };

// Insertion-ordered string map (JS Map): key order is visible through tojson and items().
struct ObjectData {
  std::vector<std::pair<std::string, Value>> entries;
  std::unordered_map<std::string, size_t> index;  // key -> position; empty for small objects

  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value value);
  bool empty() const { return entries.empty(); }
  size_t size() const { return entries.size(); }
};

using ArrayData = std::vector<Value>;

// Arguments of a call: positional values, then keyword arguments in source order.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  const Value* kw(std::string_view name) const;
  // Positional argument `i`, else keyword `name`, else null.
  const Value* arg(size_t i, std::string_view name) const;
};

using NativeFn = std::function<Value(CallArgs&, Scope&)>;

struct Value {
  Kind kind = Kind::Undefined;
  bool is_tuple = false;  // a TupleValue (an ArrayValue subtype in the reference)
  bool boolean = false;
  double number = 0;
  std::string str;
  std::shared_ptr<ArrayData> array;
  std::shared_ptr<ObjectData> object;  // Object and Namespace
  std::shared_ptr<const NativeFn> fn;

  static Value undefined() { return {}; }
  static Value null() { Value v; v.kind = Kind::Null; return v; }
  static Value from_bool(bool b) { Value v; v.kind = Kind::Bool; v.boolean = b; return v; }
  static Value integer(double n) { Value v; v.kind = Kind::Int; v.number = n; return v; }
  static Value floating(double n) { Value v; v.kind = Kind::Float; v.number = n; return v; }
  static Value string(std::string s) { Value v; v.kind = Kind::String; v.str = std::move(s); return v; }
  static Value make_array(ArrayData items = {}, bool tuple = false);
  static Value make_object(ObjectData data = {});
  static Value make_namespace(ObjectData data = {});
  static Value function(NativeFn f);

  bool is(Kind k) const { return kind == k; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float; }
  bool is_numeric_like() const { return is_number() || kind == Kind::Bool; }
  bool is_mapping() const { return kind == Kind::Object || kind == Kind::Namespace; }
  bool is_nullish() const { return kind == Kind::Null || kind == Kind::Undefined; }
};

// "StringValue", "ArrayValue", ...: the reference's type names, used in error messages.
const char* type_name(const Value& v);

// JS truthiness as @huggingface/jinja's __bool__ (empty arrays and objects are false).
bool truthy(const Value& v);

// What {{ v }} prints (RuntimeValue.toString()): 3.0 prints "3.0", arrays/objects print JSON.
std::string display(const Value& v);
// String(v.value) in JS: what `~` and `+` concatenate (3.0 gives "3", objects "[object Map]").
std::string raw_string(const Value& v);
// JS Number.prototype.toString().
std::string js_number(double n);
// JS Number(string) (used by loose equality).
double js_string_to_number(std::string_view s);

// JS `==` on the underlying values (reference: BinaryExpression "==").
bool loose_equal(const Value& a, const Value& b);
// JS `===` on the underlying values (used by `in`, unique, equalto).
bool strict_equal(const Value& a, const Value& b);

struct JsonOptions {
  std::optional<int> indent;
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::optional<std::pair<std::string, std::string>> separators;
};
// The reference's toJSON(): Python json.dumps separators (", " and ": "), no escaping beyond
// JSON.stringify's, `undefined` printed as null (or "undefined" when !undefined_as_null).
std::string to_json(const Value& v, const JsonOptions& opts, bool undefined_as_null = true, int depth = 0);

// Conversion of context data, like convertToRuntimeValues() after JSON.parse (integral floats
// become integers, as they do in JS).
Value from_json(const nlohmann::ordered_json& j);

}  // namespace llmhost::tmpl::detail
