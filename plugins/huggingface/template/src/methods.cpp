// Methods of strings and dicts, tests (`is ...`), and the global functions.
#include <algorithm>
#include <cmath>
#include <ctime>

#include "builtins.hpp"
#include "errors.hpp"
#include "evaluator.hpp"
#include "unicode.hpp"

namespace llmhost::tmpl::detail {

namespace {

bool is_ascii_word(unsigned char c) { return std::isalnum(c) || c == '_'; }

// JS value.replace(/\b\w/g, toUpperCase): only ASCII word characters count as word characters.
std::string title_case(const std::string& s) {
  std::string out = s;
  for (size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (is_ascii_word(c) && (i == 0 || !is_ascii_word(static_cast<unsigned char>(out[i - 1]))))
      out[i] = static_cast<char>(std::toupper(c));
  }
  return out;
}

std::string capitalize(const std::string& s) {
  if (s.empty()) return s;
  size_t len = 0;
  const uint32_t first = decode_utf8(s, 0, len);
  std::string out;
  append_utf8(out, upper_cp(first));
  return out + s.substr(len);
}

// Python str.split(sep=None, maxsplit=-1) as the reference implements it.
Value split(const std::string& s, const CallArgs& args) {
  const Value* sep = args.positional.size() > 0 ? &args.positional[0] : nullptr;
  const Value* maxsplit_v = args.positional.size() > 1 ? &args.positional[1] : nullptr;
  if (sep && !(sep->kind == Kind::String || sep->kind == Kind::Null)) throw EvalError("sep argument must be a string or null");
  if (maxsplit_v && maxsplit_v->kind != Kind::Int) throw EvalError("maxsplit argument must be a number");
  const long long maxsplit = maxsplit_v ? static_cast<long long>(maxsplit_v->number) : -1;
  std::vector<std::string> parts;
  if (!sep || sep->kind == Kind::Null) {
    const std::string text = js_trim_start(s);
    size_t i = 0;
    while (i < text.size()) {
      size_t start = i;
      while (start < text.size() && js_space_at(text, start)) start += js_space_at(text, start);
      if (start >= text.size()) break;
      size_t end = start;
      size_t len = 0;
      while (end < text.size() && !is_js_space(decode_utf8(text, end, len))) end += len;
      if (maxsplit != -1 && static_cast<long long>(parts.size()) >= maxsplit) {
        parts.push_back(text.substr(start));
        break;
      }
      parts.push_back(text.substr(start, end - start));
      i = end;
    }
  } else {
    const std::string& d = sep->str;
    if (d.empty()) throw EvalError("empty separator");
    size_t from = 0;
    while (true) {
      const size_t at = s.find(d, from);
      if (at == std::string::npos) break;
      parts.push_back(s.substr(from, at - from));
      from = at + d.size();
    }
    parts.push_back(s.substr(from));
    if (maxsplit != -1 && static_cast<long long>(parts.size()) > maxsplit) {
      std::string rest;
      for (size_t i = static_cast<size_t>(maxsplit); i < parts.size(); ++i) rest += (i > static_cast<size_t>(maxsplit) ? d : "") + parts[i];
      parts.resize(static_cast<size_t>(maxsplit));
      parts.push_back(rest);
    }
  }
  ArrayData out;
  for (auto& p : parts) out.push_back(Value::string(std::move(p)));
  return Value::make_array(std::move(out));
}

// Python str.replace(old, new, count) (the reference's utils.replace; "" matches between code points).
std::string replace_all(const std::string& s, const std::string& from, const std::string& to, long long count) {
  if (count == 0) return s;
  long long remaining = count < 0 ? -1 : count;
  std::string out;
  if (from.empty()) {
    size_t i = 0, len = 0;
    while (true) {
      if (remaining != 0) {
        out += to;
        if (remaining > 0) --remaining;
      }
      if (i >= s.size()) break;
      decode_utf8(s, i, len);
      out.append(s, i, len);
      i += len;
    }
    return out;
  }
  size_t pos = 0;
  while (remaining != 0) {
    const size_t at = s.find(from, pos);
    if (at == std::string::npos) break;
    out.append(s, pos, at - pos);
    out += to;
    pos = at + from.size();
    if (remaining > 0) --remaining;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

Value string_method(const std::string& s, const std::string& name) {
  auto fn = [](auto f) { return Value::function([f](CallArgs& a, Scope&) { return f(a); }); };
  if (name == "length") return Value::integer(static_cast<double>(code_point_count(s)));
  if (name == "upper") return fn([s](CallArgs&) { return Value::string(to_upper(s)); });
  if (name == "lower") return fn([s](CallArgs&) { return Value::string(to_lower(s)); });
  // The reference ignores strip's argument and trims all whitespace (see docs/chat-templates.md).
  if (name == "strip") return fn([s](CallArgs&) { return Value::string(js_trim(s)); });
  if (name == "lstrip") return fn([s](CallArgs&) { return Value::string(js_trim_start(s)); });
  if (name == "rstrip") return fn([s](CallArgs&) { return Value::string(js_trim_end(s)); });
  if (name == "title") return fn([s](CallArgs&) { return Value::string(title_case(s)); });
  if (name == "capitalize") return fn([s](CallArgs&) { return Value::string(capitalize(s)); });
  if (name == "startswith" || name == "endswith") {
    const bool starts = name == "startswith";
    return fn([s, starts, name](CallArgs& a) {
      if (a.positional.empty()) throw EvalError(name + "() requires at least one argument");
      auto test = [&](const std::string& p) {
        return p.size() <= s.size() && (starts ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0);
      };
      const Value& pattern = a.positional[0];
      if (pattern.kind == Kind::String) return Value::from_bool(test(pattern.str));
      if (pattern.kind == Kind::Array) {
        for (const auto& item : *pattern.array) {
          if (item.kind != Kind::String) throw EvalError(name + "() tuple elements must be strings");
          if (test(item.str)) return Value::from_bool(true);
        }
        return Value::from_bool(false);
      }
      throw EvalError(name + "() argument must be a string or tuple of strings");
    });
  }
  if (name == "split") return fn([s](CallArgs& a) { return split(s, a); });
  if (name == "replace") {
    return fn([s](CallArgs& a) {
      if (a.positional.size() < 2) throw EvalError("replace() requires at least two arguments");
      if (a.positional[0].kind != Kind::String || a.positional[1].kind != Kind::String)
        throw EvalError("replace() arguments must be strings");
      const Value* count = a.arg(2, "count");
      if (count && !(count->kind == Kind::Int || count->kind == Kind::Null))
        throw EvalError("replace() count argument must be a number or null");
      const long long n = (count && count->kind == Kind::Int) ? static_cast<long long>(count->number) : -1;
      return Value::string(replace_all(s, a.positional[0].str, a.positional[1].str, n));
    });
  }
  return Value::undefined();
}

Value pairs(const ObjectData& o, int which) {  // 0: items, 1: keys, 2: values
  ArrayData out;
  for (const auto& [k, v] : o.entries) {
    if (which == 0) out.push_back(Value::make_array({Value::string(k), v}));
    else if (which == 1) out.push_back(Value::string(k));
    else out.push_back(v);
  }
  return Value::make_array(std::move(out));
}

Value object_method(const Value& object, const std::string& name) {
  auto data = object.object;
  if (name == "get") {
    return Value::function([data](CallArgs& a, Scope&) {
      const Value key = a.positional.empty() ? Value::undefined() : a.positional[0];
      if (key.kind != Kind::String) throw EvalError(std::string("Object key must be a string: got ") + type_name(key));
      if (const Value* v = data->find(key.str)) return *v;
      return a.positional.size() > 1 ? a.positional[1] : Value::null();
    });
  }
  if (name == "items" || name == "keys" || name == "values") {
    const int which = name == "items" ? 0 : name == "keys" ? 1 : 2;
    return Value::function([data, which](CallArgs&, Scope&) { return pairs(*data, which); });
  }
  if (name == "dictsort") {
    return Value::function([data](CallArgs& a, Scope&) {
      const Value* cs = a.arg(0, "case_sensitive");
      const Value* by = a.arg(1, "by");
      const Value* rev = a.arg(2, "reverse");
      if (cs && cs->kind != Kind::Bool) throw EvalError("case_sensitive must be a boolean");
      if (by && by->kind != Kind::String) throw EvalError("by must be a string");
      if (by && by->str != "key" && by->str != "value") throw EvalError("by must be either 'key' or 'value'");
      if (rev && rev->kind != Kind::Bool) throw EvalError("reverse must be a boolean");
      const size_t index = (by && by->str == "value") ? 1 : 0;
      const bool case_sensitive = cs && cs->boolean, reverse = rev && rev->boolean;
      Value items = pairs(*data, 0);
      std::stable_sort(items.array->begin(), items.array->end(), [&](const Value& x, const Value& y) {
        const int c = compare_values((*x.array)[index], (*y.array)[index], case_sensitive);
        return reverse ? c > 0 : c < 0;
      });
      return items;
    });
  }
  return Value::undefined();
}

}  // namespace

Value builtin_member(const Value& object, const std::string& name) {
  switch (object.kind) {
    case Kind::String: return string_method(object.str, name);
    case Kind::Object: return object_method(object, name);
    case Kind::Array:
      return name == "length" ? Value::integer(static_cast<double>(object.array->size())) : Value::undefined();
    default: return Value::undefined();
  }
}

int compare_values(const Value& a, const Value& b, bool case_sensitive) {
  if (a.kind == Kind::Null && b.kind == Kind::Null) return 0;
  if (a.kind == Kind::Null || b.kind == Kind::Null)
    throw EvalError(std::string("Cannot compare ") + type_name(a) + " with " + type_name(b));
  if (a.kind == Kind::Undefined && b.kind == Kind::Undefined) return 0;
  if (a.kind == Kind::Undefined || b.kind == Kind::Undefined)
    throw EvalError(std::string("Cannot compare ") + type_name(a) + " with " + type_name(b));
  if (a.is_numeric_like() && b.is_numeric_like()) {
    const double x = a.kind == Kind::Bool ? a.boolean : a.number, y = b.kind == Kind::Bool ? b.boolean : b.number;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.kind != b.kind) throw EvalError(std::string("Cannot compare different types: ") + type_name(a) + " and " + type_name(b));
  if (a.kind != Kind::String) throw EvalError(std::string("Cannot compare type: ") + type_name(a));
  const std::string x = case_sensitive ? a.str : to_lower(a.str), y = case_sensitive ? b.str : to_lower(b.str);
  return x < y ? -1 : x > y ? 1 : 0;
}

bool run_test(const std::string& name, const Value& v, const std::vector<Value>& args) {
  const Value other = args.empty() ? Value::undefined() : args[0];
  if (name == "boolean") return v.kind == Kind::Bool;
  if (name == "callable") return v.kind == Kind::Function;
  if (name == "odd" || name == "even") {
    if (v.kind != Kind::Int) throw EvalError("cannot " + name + " on " + type_name(v));
    const bool odd = std::fmod(v.number, 2) != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "false") return v.kind == Kind::Bool && !v.boolean;
  if (name == "true") return v.kind == Kind::Bool && v.boolean;
  if (name == "none") return v.kind == Kind::Null;
  if (name == "string") return v.kind == Kind::String;
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == Kind::Int;
  if (name == "iterable") return v.kind == Kind::Array || v.kind == Kind::String;
  if (name == "mapping") return v.kind == Kind::Object;
  if (name == "sequence") return v.kind == Kind::Array || v.kind == Kind::Object || v.kind == Kind::String;
  if (name == "lower") return v.kind == Kind::String && v.str == to_lower(v.str);
  if (name == "upper") return v.kind == Kind::String && v.str == to_upper(v.str);
  if (name == "defined") return v.kind != Kind::Undefined;
  if (name == "undefined") return v.kind == Kind::Undefined;
  if (name == "equalto" || name == "eq" || name == "sameas") return strict_equal(v, other);
  if (name == "divisibleby") {
    if (!v.is_number() || !other.is_number()) throw EvalError("divisibleby needs two numbers");
    return other.number != 0 && std::fmod(v.number, other.number) == 0;
  }
  throw EvalError("Unknown test: " + name);
}

namespace {
// Python's strftime for the few directives the reference supports (%Y %m %d %b %B %H %M %%).
std::string strftime_now(const std::string& format) {
  static const char* months[] = {"January", "February", "March", "April", "May", "June", "July",
                                 "August", "September", "October", "November", "December"};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  auto pad2 = [](int n) { return (n < 10 ? "0" : "") + std::to_string(n); };
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 >= format.size()) {
      out += format[i];
      continue;
    }
    const char d = format[i + 1];
    switch (d) {
      case 'Y': out += std::to_string(tm.tm_year + 1900); break;
      case 'm': out += pad2(tm.tm_mon + 1); break;
      case 'd': out += pad2(tm.tm_mday); break;
      case 'b': out += std::string(months[tm.tm_mon]).substr(0, 3); break;
      case 'B': out += months[tm.tm_mon]; break;
      case 'H': out += pad2(tm.tm_hour); break;
      case 'M': out += pad2(tm.tm_min); break;
      case '%': out += '%'; break;
      default: out += '%'; out += d; break;
    }
    ++i;
  }
  return out;
}
}  // namespace

void install_globals(Scope& g) {
  g.set("true", Value::from_bool(true));
  g.set("false", Value::from_bool(false));
  g.set("none", Value::null());
  g.set("True", Value::from_bool(true));
  g.set("False", Value::from_bool(false));
  g.set("None", Value::null());
  g.set("raise_exception", Value::function([](CallArgs& a, Scope&) -> Value {
    throw RaisedByTemplate(a.positional.empty() ? "" : raw_string(a.positional[0]));
  }));
  g.set("range", Value::function([](CallArgs& a, Scope&) {
    for (const auto& v : a.positional)
      if (!v.is_number()) throw EvalError(std::string("range() arguments must be numbers, got ") + type_name(v));
    double start = 0, stop = 0, step = 1;
    if (a.positional.size() == 1) stop = a.positional[0].number;
    if (a.positional.size() >= 2) { start = a.positional[0].number; stop = a.positional[1].number; }
    if (a.positional.size() >= 3) step = a.positional[2].number;
    if (step == 0) throw EvalError("range() step must not be zero");
    if (std::fabs((stop - start) / step) > 1e7) throw EvalError("range() is too long (over 10 million items)");
    ArrayData out;
    for (double i = start; step > 0 ? i < stop : i > stop; i += step)
      out.push_back(std::floor(i) == i ? Value::integer(i) : Value::floating(i));
    return Value::make_array(std::move(out));
  }));
  g.set("strftime_now", Value::function([](CallArgs& a, Scope&) {
    if (a.positional.empty() || a.positional[0].kind != Kind::String) throw EvalError("strftime_now() needs a format string");
    return Value::string(strftime_now(a.positional[0].str));
  }));
  g.set("namespace", Value::function([](CallArgs& a, Scope&) {
    if (a.positional.size() > 1)
      throw EvalError("namespace expected at most 1 argument, got " + std::to_string(a.positional.size()));
    ObjectData entries;
    if (a.positional.size() == 1) {
      const Value& src = a.positional[0];
      if (src.kind == Kind::Object) {
        for (const auto& [k, v] : src.object->entries) entries.set(k, v);
      } else if (src.kind == Kind::Array) {
        for (const auto& pair : *src.array) {
          if (pair.kind != Kind::Array || pair.array->size() != 2)
            throw EvalError("namespace expected an object or an iterable of [key, value] pairs");
          if ((*pair.array)[0].kind != Kind::String) throw EvalError("namespace keys must be strings");
          entries.set((*pair.array)[0].str, (*pair.array)[1]);
        }
      } else {
        throw EvalError(std::string("'") + type_name(src) + "' object is not iterable");
      }
    }
    for (const auto& [k, v] : a.keyword) entries.set(k, v);
    return Value::make_namespace(std::move(entries));
  }));
}

}  // namespace llmhost::tmpl::detail
