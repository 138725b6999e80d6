#include "value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "errors.hpp"
#include "unicode.hpp"

namespace llmhost::tmpl::detail {

// Small objects (messages, loop, most schemas) are searched linearly; the hash index is built only
// for large ones, to spare an allocation per object.
constexpr size_t kIndexThreshold = 12;

const Value* ObjectData::find(std::string_view key) const {
  if (index.empty()) {
    for (const auto& e : entries)
      if (e.first == key) return &e.second;
    return nullptr;
  }
  auto it = index.find(std::string(key));
  return it == index.end() ? nullptr : &entries[it->second].second;
}

void ObjectData::set(const std::string& key, Value value) {
  if (Value* existing = const_cast<Value*>(find(key))) {
    *existing = std::move(value);
    return;
  }
  entries.emplace_back(key, std::move(value));
  if (!index.empty()) {
    index.emplace(key, entries.size() - 1);
  } else if (entries.size() > kIndexThreshold) {
    for (size_t i = 0; i < entries.size(); ++i) index.emplace(entries[i].first, i);
  }
}

const Value* CallArgs::kw(std::string_view name) const {
  for (const auto& [k, v] : keyword)
    if (k == name) return &v;
  return nullptr;
}

const Value* CallArgs::arg(size_t i, std::string_view name) const {
  if (i < positional.size()) return &positional[i];
  return kw(name);
}

Value Value::make_array(ArrayData items, bool tuple) {
  Value v;
  v.kind = Kind::Array;
  v.is_tuple = tuple;
  v.array = std::make_shared<ArrayData>(std::move(items));
  return v;
}

Value Value::make_object(ObjectData data) {
  Value v;
  v.kind = Kind::Object;
  v.object = std::make_shared<ObjectData>(std::move(data));
  return v;
}

Value Value::make_namespace(ObjectData data) {
  Value v = make_object(std::move(data));
  v.kind = Kind::Namespace;
  return v;
}

Value Value::function(NativeFn f) {
  Value v;
  v.kind = Kind::Function;
  v.fn = std::make_shared<const NativeFn>(std::move(f));
  return v;
}

const char* type_name(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined: return "UndefinedValue";
    case Kind::Null: return "NullValue";
    case Kind::Bool: return "BooleanValue";
    case Kind::Int: return "IntegerValue";
    case Kind::Float: return "FloatValue";
    case Kind::String: return "StringValue";
    case Kind::Array: return v.is_tuple ? "TupleValue" : "ArrayValue";
    case Kind::Object: return "ObjectValue";
    case Kind::Namespace: return "NamespaceValue";
    case Kind::Function: return "FunctionValue";
  }
  return "?";
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined: case Kind::Null: return false;
    case Kind::Bool: return v.boolean;
    case Kind::Int: case Kind::Float: return v.number != 0 && !std::isnan(v.number);
    case Kind::String: return !v.str.empty();
    case Kind::Array: return !v.array->empty();
    case Kind::Object: return !v.object->empty();
    case Kind::Namespace: case Kind::Function: return true;  // JS objects are truthy
  }
  return false;
}

std::string js_number(double n) {
  if (std::isnan(n)) return "NaN";
  if (std::isinf(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (n == 0) return "0";
  std::string sign = n < 0 ? "-" : "";
  n = std::fabs(n);
  // Shortest round-trip digits, then JS's layout rules (ECMA-262 Number::toString).
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, n, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e_pos; ++i)
    if (sci[i] != '.') digits += sci[i];
  const int k = static_cast<int>(digits.size());
  const int exp10 = std::atoi(sci.c_str() + e_pos + 1);
  const int e = exp10 + 1;  // value = 0.digits * 10^e
  std::string out;
  if (k <= e && e <= 21) {
    out = digits + std::string(static_cast<size_t>(e - k), '0');
  } else if (0 < e && e <= 21) {
    out = digits.substr(0, static_cast<size_t>(e)) + "." + digits.substr(static_cast<size_t>(e));
  } else if (-6 < e && e <= 0) {
    out = "0." + std::string(static_cast<size_t>(-e), '0') + digits;
  } else {
    const int x = e - 1;
    out = digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += x < 0 ? "e-" : "e+";
    out += std::to_string(std::abs(x));
  }
  return sign + out;
}

double js_string_to_number(std::string_view text) {
  const std::string s = js_trim(text);
  if (s.empty()) return 0;
  if (s == "Infinity" || s == "+Infinity") return INFINITY;
  if (s == "-Infinity") return -INFINITY;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'o' || s[1] == 'O' || s[1] == 'b' || s[1] == 'B')) {
    const int base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
    double v = 0;
    for (size_t i = 2; i < s.size(); ++i) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
      const int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : 99;
      if (d >= base) return NAN;
      v = v * base + d;
    }
    return v;
  }
  // Decimal literal only: digits, one '.', exponent; strtod alone would also take "nan", "inf", hex.
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return NAN;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return (end == s.c_str() + s.size()) ? v : NAN;
}

std::string raw_string(const Value& v) {
  switch (v.kind) {
    // The reference's NullValue holds JS undefined, so String(value) is "undefined" for both.
    case Kind::Undefined: case Kind::Null: return "undefined";
    case Kind::Bool: return v.boolean ? "true" : "false";
    case Kind::Int: case Kind::Float: return js_number(v.number);
    case Kind::String: return v.str;
    case Kind::Array: {  // Array.prototype.toString joins the elements' toString() with ","
      std::string out;
      for (size_t i = 0; i < v.array->size(); ++i) {
        if (i) out += ',';
        out += display((*v.array)[i]);
      }
      return out;
    }
    case Kind::Object: case Kind::Namespace: return "[object Map]";
    case Kind::Function: return "[function]";
  }
  return "";
}

std::string display(const Value& v) {
  switch (v.kind) {
    case Kind::Float:
      if (v.number == 0 && std::signbit(v.number)) return "-0.0";
      if (std::isfinite(v.number) && std::fmod(v.number, 1.0) == 0) {
        std::string s = js_number(v.number);  // toFixed(1) of an integral value
        return s.find('e') == std::string::npos ? s + ".0" : s;
      }
      return js_number(v.number);
    case Kind::Array: case Kind::Object: case Kind::Namespace:
      return to_json(v, {}, /*undefined_as_null=*/false);
    default:
      return raw_string(v);
  }
}

static bool is_object_like(const Value& v) {
  return v.kind == Kind::Array || v.kind == Kind::Object || v.kind == Kind::Namespace || v.kind == Kind::Function;
}

static const void* identity(const Value& v) {
  if (v.kind == Kind::Array) return v.array.get();
  if (v.kind == Kind::Function) return v.fn.get();
  return v.object.get();
}

bool strict_equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return a.number == b.number;
  if (is_object_like(a) || is_object_like(b)) return is_object_like(a) && is_object_like(b) && identity(a) == identity(b);
  if (a.is_nullish() || b.is_nullish()) return a.is_nullish() && b.is_nullish();  // both hold JS undefined
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::Bool: return a.boolean == b.boolean;
    case Kind::String: return a.str == b.str;
    default: return false;
  }
}

bool loose_equal(const Value& a, const Value& b) {
  if (a.is_nullish() || b.is_nullish()) return a.is_nullish() && b.is_nullish();
  if (is_object_like(a) && is_object_like(b)) return identity(a) == identity(b);
  if (a.kind == Kind::Bool) return loose_equal(Value::integer(a.boolean ? 1 : 0), b);
  if (b.kind == Kind::Bool) return loose_equal(a, Value::integer(b.boolean ? 1 : 0));
  if (is_object_like(a)) return loose_equal(Value::string(raw_string(a)), b);  // ToPrimitive
  if (is_object_like(b)) return loose_equal(a, Value::string(raw_string(b)));
  if (a.is_number() && b.is_number()) return a.number == b.number;
  if (a.kind == Kind::String && b.kind == Kind::String) return a.str == b.str;
  if (a.is_number()) return a.number == js_string_to_number(b.str);
  return js_string_to_number(a.str) == b.number;
}

// JSON.stringify of a string, optionally with the reference's ensure_ascii pass (\u escapes of
// every UTF-16 unit from 0x7F up).
static void json_quote(std::string& out, const std::string& s, bool ensure_ascii) {
  static const char* hex = "0123456789abcdef";
  auto u_escape = [&](uint32_t unit) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(unit >> shift) & 0xF];
  };
  out += '"';
  for (size_t i = 0, len = 0; i < s.size(); i += len) {
    const uint32_t cp = decode_utf8(s, i, len);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (cp < 0x20) {
      u_escape(cp);
    } else if (ensure_ascii && cp >= 0x7F) {
      if (cp >= 0x10000) {
        u_escape(0xD800 + ((cp - 0x10000) >> 10));
        u_escape(0xDC00 + ((cp - 0x10000) & 0x3FF));
      } else {
        u_escape(cp);
      }
    } else {
      out.append(s, i, len);
    }
  }
  out += '"';
}

std::string to_json(const Value& v, const JsonOptions& opts, bool undefined_as_null, int depth) {
  const bool indenting = opts.indent && *opts.indent != 0;
  std::string item_sep = ", ", key_sep = ": ";
  if (opts.separators) {
    item_sep = opts.separators->first;
    key_sep = opts.separators->second;
  } else if (indenting) {
    item_sep = ",";
  }
  switch (v.kind) {
    case Kind::Null: return "null";
    case Kind::Undefined: return undefined_as_null ? "null" : "undefined";
    case Kind::Bool: return v.boolean ? "true" : "false";
    case Kind::Int: case Kind::Float: return std::isfinite(v.number) ? js_number(v.number) : "null";
    case Kind::String: {
      std::string out;
      json_quote(out, v.str, opts.ensure_ascii);
      return out;
    }
    case Kind::Function: throw EvalError("Cannot convert to JSON: FunctionValue");
    default: break;
  }
  const std::string unit = indenting && *opts.indent > 0 ? std::string(static_cast<size_t>(*opts.indent), ' ') : "";
  std::string base = "\n";
  for (int i = 0; i < depth; ++i) base += unit;
  const std::string child = base + unit;
  std::string out;
  if (v.kind == Kind::Array) {
    const auto& items = *v.array;
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += item_sep;
      if (indenting) out += child;
      out += to_json(items[i], opts, undefined_as_null, depth + 1);
    }
    if (indenting && !items.empty()) out += base;
    out += ']';
    return out;
  }
  std::vector<const std::pair<std::string, Value>*> entries;
  for (const auto& e : v.object->entries) entries.push_back(&e);
  if (opts.sort_keys)  // code-point order (the reference uses localeCompare; see docs)
    std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
  out += '{';
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) out += item_sep;
    if (indenting) out += child;
    json_quote(out, entries[i]->first, opts.ensure_ascii);
    out += key_sep;
    out += to_json(entries[i]->second, opts, undefined_as_null, depth + 1);
  }
  if (indenting && !entries.empty()) out += base;
  out += '}';
  return out;
}

Value from_json(const nlohmann::ordered_json& j) {
  using T = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case T::null: case T::discarded: return Value::null();
    case T::boolean: return Value::from_bool(j.get<bool>());
    case T::number_integer: return Value::integer(static_cast<double>(j.get<int64_t>()));
    case T::number_unsigned: return Value::integer(static_cast<double>(j.get<uint64_t>()));
    case T::number_float: {
      const double d = j.get<double>();
      return (std::isfinite(d) && std::floor(d) == d) ? Value::integer(d) : Value::floating(d);
    }
    case T::string: return Value::string(j.get<std::string>());
    case T::array: {
      ArrayData items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return Value::make_array(std::move(items));
    }
    case T::object: {
      ObjectData data;
      for (auto it = j.begin(); it != j.end(); ++it) data.set(it.key(), from_json(it.value()));
      return Value::make_object(std::move(data));
    }
    case T::binary: throw EvalError("binary JSON values are not supported in a template context");
  }
  return Value::null();
}

}  // namespace llmhost::tmpl::detail
