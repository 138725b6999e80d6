// Filters (`value | name(args)`), dispatched exactly as the reference's applyFilter: first the
// filters that take any type, then by operand type; anything else is an error naming both.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "builtins.hpp"
#include "errors.hpp"
#include "evaluator.hpp"
#include "unicode.hpp"

namespace llmhost::tmpl::detail {

namespace {

[[noreturn]] void cannot_apply(const std::string& filter, const Value& v) {
  throw EvalError("Cannot apply filter \"" + filter + "\" to type: " + type_name(v));
}

// JS parseInt(s, 10) / parseFloat(s): leading whitespace, then the longest numeric prefix.
std::optional<double> parse_int_prefix(const std::string& text) {
  const std::string s = js_trim_start(text);
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  const size_t digits_from = i;
  double v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) v = v * 10 + (s[i++] - '0');
  if (i == digits_from) return std::nullopt;
  return neg ? -v : v;
}

std::optional<double> parse_float_prefix(const std::string& text) {
  const std::string s = js_trim_start(text);
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (s.compare(i, 8, "Infinity") == 0) return s[0] == '-' ? -INFINITY : INFINITY;
  size_t end = i;
  bool digits = false;
  while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) { ++end; digits = true; }
  if (end < s.size() && s[end] == '.') {
    ++end;
    while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) { ++end; digits = true; }
  }
  if (!digits) return std::nullopt;
  if (end < s.size() && (s[end] == 'e' || s[end] == 'E')) {
    size_t e = end + 1;
    if (e < s.size() && (s[e] == '+' || s[e] == '-')) ++e;
    if (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) {
      while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
      end = e;
    }
  }
  return std::strtod(s.substr(0, end).c_str(), nullptr);
}

Value call_without_args(const Value& fn) {
  CallArgs none;
  Scope unused;
  return (*fn.fn)(none, unused);
}

// Array.prototype.join element text: null and undefined become "".
std::string join_piece(const Value& v) { return v.is_nullish() ? "" : raw_string(v); }

std::string indent_lines(const std::string& s, const std::string& pad, bool first, bool blank) {
  std::string out;
  size_t start = 0;
  for (size_t line = 0;; ++line) {
    const size_t nl = s.find('\n', start);
    const std::string piece = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!((line == 0 && !first) || (piece.empty() && !blank))) out += pad;
    out += piece;
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
  }
  return out;
}

// The reference's getAttributeValue: "a.b.0" walks mappings and list indices.
Value attribute_path(const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v.is_mapping()) {
      const Value* f = v.object->find(part);
      v = f ? *f : Value::undefined();
    } else if (v.kind == Kind::Array) {
      char* end = nullptr;
      const long idx = std::strtol(part.c_str(), &end, 10);
      if (end == part.c_str() || idx < 0 || static_cast<size_t>(idx) >= v.array->size()) return Value::undefined();
      v = (*v.array)[static_cast<size_t>(idx)];
    } else {
      return Value::undefined();
    }
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

Value filter_without_args(const std::string& name, const Value& v) {
  if (v.kind == Kind::Array) {
    const ArrayData& a = *v.array;
    if (name == "list") return v;
    if (name == "first") return a.empty() ? Value::undefined() : a.front();
    if (name == "last") return a.empty() ? Value::undefined() : a.back();
    if (name == "length") return Value::integer(static_cast<double>(a.size()));
    if (name == "reverse") return Value::make_array(ArrayData(a.rbegin(), a.rend()));
    if (name == "sort") {
      ArrayData sorted = a;
      std::stable_sort(sorted.begin(), sorted.end(), [](const Value& x, const Value& y) { return compare_values(x, y, false) < 0; });
      return Value::make_array(std::move(sorted));
    }
    if (name == "join") {
      std::string out;
      for (const auto& x : a) out += join_piece(x);
      return Value::string(std::move(out));
    }
    if (name == "string") return Value::string(to_json(v, {}, false));
    if (name == "unique") {
      ArrayData out;
      for (const auto& x : a)
        if (std::none_of(out.begin(), out.end(), [&](const Value& y) { return strict_equal(x, y); })) out.push_back(x);
      return Value::make_array(std::move(out));
    }
    throw EvalError("Unknown ArrayValue filter: " + name);
  }
  if (v.kind == Kind::String) {
    if (name == "length" || name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
      const Value m = builtin_member(v, name);
      return m.kind == Kind::Function ? call_without_args(m) : m;
    }
    if (name == "trim") return Value::string(js_trim(v.str));
    if (name == "indent") return Value::string(indent_lines(v.str, "    ", false, false));
    if (name == "join" || name == "string") return v;
    if (name == "int") return Value::integer(parse_int_prefix(v.str).value_or(0));
    if (name == "float") return Value::floating(parse_float_prefix(v.str).value_or(0));
    throw EvalError("Unknown StringValue filter: " + name);
  }
  if (v.is_number()) {
    if (name == "abs") return v.kind == Kind::Int ? Value::integer(std::fabs(v.number)) : Value::floating(std::fabs(v.number));
    if (name == "int") return Value::integer(std::floor(v.number));
    if (name == "float") return Value::floating(v.number);
    if (name == "string") return Value::string(display(v));
    throw EvalError("Unknown NumericValue filter: " + name);
  }
  if (v.kind == Kind::Object) {
    if (name == "length") return Value::integer(static_cast<double>(v.object->size()));
    const Value m = builtin_member(v, name);  // items, keys, values, dictsort, get
    if (m.kind == Kind::Function) return call_without_args(m);
    if (m.kind != Kind::Undefined) return m;
    throw EvalError("Unknown ObjectValue filter: " + name);
  }
  if (v.kind == Kind::Bool) {
    if (name == "bool") return v;
    if (name == "int") return Value::integer(v.boolean ? 1 : 0);
    if (name == "float") return Value::floating(v.boolean ? 1 : 0);
    if (name == "string") return Value::string(v.boolean ? "true" : "false");
    throw EvalError("Unknown BooleanValue filter: " + name);
  }
  cannot_apply(name, v);
}

Value tojson_with_args(const Value& v, const CallArgs& args) {
  JsonOptions opts;
  if (const Value* indent = args.kw("indent")) {
    if (indent->kind == Kind::Int) opts.indent = static_cast<int>(indent->number);
    else if (indent->kind != Kind::Null) throw EvalError("If set, indent must be a number");
  }
  if (const Value* ea = args.kw("ensure_ascii")) {
    if (ea->kind != Kind::Bool) throw EvalError("If set, ensure_ascii must be a boolean");
    opts.ensure_ascii = ea->boolean;
  }
  if (const Value* sk = args.kw("sort_keys")) {
    if (sk->kind != Kind::Bool) throw EvalError("If set, sort_keys must be a boolean");
    opts.sort_keys = sk->boolean;
  }
  if (const Value* sep = args.kw("separators")) {
    if (sep->kind == Kind::Array) {
      if (sep->array->size() != 2 || (*sep->array)[0].kind != Kind::String || (*sep->array)[1].kind != Kind::String)
        throw EvalError("separators must be a tuple of two strings");
      opts.separators = std::make_pair((*sep->array)[0].str, (*sep->array)[1].str);
    } else if (sep->kind != Kind::Null) {
      throw EvalError("If set, separators must be a tuple of two strings");
    }
  }
  return Value::string(to_json(v, opts));
}

Value select_or_reject(Interpreter& in, const Value& v, const Expr& filter, Scope& scope, bool select) {
  const std::string& name = filter.text;
  for (const auto& item : *v.array)
    if (!item.is_mapping()) throw EvalError("`" + name + "` can only be applied to array of objects");
  std::vector<Value> args;
  for (size_t i = 1; i < filter.kids.size(); ++i) {
    if (filter.kids[i]->kind != ExprKind::String) throw EvalError("arguments of `" + name + "` must be strings");
    args.push_back(in.eval(*filter.kids[i], scope));
  }
  if (args.empty()) throw EvalError("`" + name + "` needs the attribute name as its first argument");
  const std::string attr = args[0].str;
  std::vector<Value> test_args;
  if (args.size() > 2) test_args.push_back(args[2]);
  ArrayData out;
  for (const auto& item : *v.array) {
    const Value* a = item.object->find(attr);
    bool result = false;
    if (a) result = args.size() > 1 ? run_test(args[1].str, *a, test_args) : truthy(*a);
    if (result == select) out.push_back(item);
  }
  return Value::make_array(std::move(out));
}

}  // namespace

Value apply_filter(Interpreter& in, const Value& v, const Expr& filter, Scope& scope) {
  const std::string& name = filter.text;
  if (!filter.flag) {  // written without parentheses
    if (name == "safe") return v;
    if (name == "tojson") return Value::string(to_json(v, {}));
    return filter_without_args(name, v);
  }
  CallArgs args = in.eval_args(filter, 1, scope);
  if (name == "tojson") return tojson_with_args(v, args);
  if (name == "join") {
    std::vector<std::string> pieces;
    if (v.kind == Kind::String) {
      for (uint32_t cp : to_code_points(v.str)) {
        std::string s;
        append_utf8(s, cp);
        pieces.push_back(std::move(s));
      }
    } else if (v.kind == Kind::Array) {
      for (const auto& x : *v.array) pieces.push_back(join_piece(x));
    } else {
      cannot_apply(name, v);
    }
    const Value* sep = args.arg(0, "separator");
    if (sep && sep->kind != Kind::String) throw EvalError("separator must be a string");
    std::string out;
    for (size_t i = 0; i < pieces.size(); ++i) out += (i && sep ? sep->str : "") + pieces[i];
    return Value::string(std::move(out));
  }
  if (name == "int" || name == "float") {
    const bool is_int = name == "int";
    const Value* def = args.arg(0, "default");
    if (v.kind == Kind::String) {
      const auto parsed = is_int ? parse_int_prefix(v.str) : parse_float_prefix(v.str);
      if (!parsed) return def ? *def : (is_int ? Value::integer(0) : Value::floating(0));
      return is_int ? Value::integer(*parsed) : Value::floating(*parsed);
    }
    if (v.is_number()) return v;
    if (v.kind == Kind::Bool) return is_int ? Value::integer(v.boolean) : Value::floating(v.boolean);
    cannot_apply(name, v);
  }
  if (name == "default") {
    const Value def = args.positional.empty() ? Value::string("") : args.positional[0];
    const Value* flag = args.arg(1, "boolean");
    if (flag && flag->kind != Kind::Bool) throw EvalError("`default` filter flag must be a boolean");
    if (v.kind == Kind::Undefined || (flag && flag->boolean && !truthy(v))) return def;
    return v;
  }
  if (v.kind == Kind::Array) {
    if (name == "sort") {
      const Value* rev = args.arg(0, "reverse");
      const Value* cs = args.arg(1, "case_sensitive");
      const Value* attr = args.arg(2, "attribute");
      if (rev && rev->kind != Kind::Bool) throw EvalError("reverse must be a boolean");
      if (cs && cs->kind != Kind::Bool) throw EvalError("case_sensitive must be a boolean");
      if (attr && !(attr->kind == Kind::String || attr->kind == Kind::Int || attr->kind == Kind::Null))
        throw EvalError("attribute must be a string, integer, or null");
      const bool reverse = rev && rev->boolean, case_sensitive = cs && cs->boolean;
      auto key = [&](const Value& item) {
        if (!attr || attr->kind == Kind::Null) return item;
        return attribute_path(item, attr->kind == Kind::Int ? js_number(attr->number) : attr->str);
      };
      ArrayData sorted = *v.array;
      std::stable_sort(sorted.begin(), sorted.end(), [&](const Value& x, const Value& y) {
        const int c = compare_values(key(x), key(y), case_sensitive);
        return reverse ? c > 0 : c < 0;
      });
      return Value::make_array(std::move(sorted));
    }
    if (name == "selectattr" || name == "rejectattr") return select_or_reject(in, v, filter, scope, name == "selectattr");
    if (name == "map") {
      const Value* attr = args.kw("attribute");
      if (!attr) throw EvalError("`map` expressions without `attribute` set are not currently supported.");
      if (attr->kind != Kind::String) throw EvalError("attribute must be a string");
      const Value* def = args.kw("default");
      ArrayData out;
      for (const auto& item : *v.array) {
        if (!item.is_mapping()) throw EvalError("items in map must be an object");
        Value got = attribute_path(item, attr->str);
        out.push_back(got.kind == Kind::Undefined && def ? *def : got);
      }
      return Value::make_array(std::move(out));
    }
    throw EvalError("Unknown ArrayValue filter: " + name);
  }
  if (v.kind == Kind::String) {
    if (name == "indent") {
      const Value* width = args.arg(0, "width");
      if (width && width->kind != Kind::Int) throw EvalError("width must be a number");
      const Value* first = args.arg(1, "first");
      const Value* blank = args.arg(2, "blank");
      const int w = width ? static_cast<int>(width->number) : 4;
      return Value::string(indent_lines(v.str, std::string(static_cast<size_t>(std::max(w, 0)), ' '),
                                        first && truthy(*first), blank && truthy(*blank)));
    }
    if (name == "replace") {
      Value method = builtin_member(v, "replace");
      return (*method.fn)(args, scope);
    }
    throw EvalError("Unknown StringValue filter: " + name);
  }
  if (v.kind == Kind::Object) {
    const Value m = builtin_member(v, name);
    if (m.kind == Kind::Function) return (*m.fn)(args, scope);
    throw EvalError("Unknown ObjectValue filter: " + name);
  }
  cannot_apply(name, v);
}

}  // namespace llmhost::tmpl::detail
