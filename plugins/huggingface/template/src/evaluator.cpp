#include "evaluator.hpp"

#include <cmath>

#include "builtins.hpp"
#include "errors.hpp"
#include "llmhost/template/chat_template.hpp"
#include "unicode.hpp"

namespace llmhost::tmpl::detail {

namespace {
struct BreakSignal {};
struct ContinueSignal {};

double as_number(const Value& v) { return v.kind == Kind::Bool ? (v.boolean ? 1 : 0) : v.number; }
}  // namespace

const Value* Scope::lookup(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

void Interpreter::fail_at(size_t pos, const std::string& msg) const {
  auto [line, col] = line_column(program_.source, pos);
  throw TemplateError("template error at " + std::to_string(line) + ":" + std::to_string(col) + ": " + msg, line, col);
}

std::string Interpreter::run(Scope& globals) {
  std::string out;
  try {
    exec_block(program_.body, globals, out);
  } catch (const BreakSignal&) {
    throw TemplateError("'break' outside of a for loop");
  } catch (const ContinueSignal&) {
    throw TemplateError("'continue' outside of a for loop");
  } catch (const RaisedByTemplate& e) {
    throw TemplateError(e.what(), 0, 0, /*raised=*/true);
  }
  return out;
}

std::string Interpreter::render_block(const Block& block, Scope& scope) {
  std::string out;
  exec_block(block, scope, out);
  return out;
}

void Interpreter::exec_block(const Block& block, Scope& scope, std::string& out) {
  for (const auto& s : block) exec(*s, scope, out);
}

void Interpreter::exec(const Stmt& s, Scope& scope, std::string& out) {
  try {
    exec_inner(s, scope, out);
  } catch (const EvalError& err) {
    fail_at(s.pos, err.what());
  }
}

void Interpreter::exec_inner(const Stmt& s, Scope& scope, std::string& out) {
  switch (s.kind) {
    case StmtKind::Text: out += s.text; return;
    case StmtKind::Comment: return;
    case StmtKind::Output: {
      const Value v = eval(*s.a, scope);
      if (!v.is_nullish()) out += display(v);  // none and undefined print nothing
      return;
    }
    case StmtKind::If:
      exec_block(truthy(eval(*s.a, scope)) ? s.body : s.alt, scope, out);
      return;
    case StmtKind::For: exec_for(s, scope, out); return;
    case StmtKind::Set: exec_set(s, scope); return;
    case StmtKind::Macro: define_macro(s, scope); return;
    case StmtKind::CallBlock: {
      const Value v = exec_call_block(s, scope);
      if (!v.is_nullish()) out += display(v);
      return;
    }
    case StmtKind::FilterBlock: {
      const Value body = Value::string(render_block(s.body, scope));
      const Value v = apply_filter(*this, body, *s.a, scope);
      if (!v.is_nullish()) out += display(v);
      return;
    }
    case StmtKind::Break: throw BreakSignal{};
    case StmtKind::Continue: throw ContinueSignal{};
  }
}

void Interpreter::exec_for(const Stmt& s, Scope& outer, std::string& out) {
  Scope scope(&outer);
  Value iterable = eval(*s.b, scope);
  if (iterable.kind == Kind::Object) {
    ArrayData keys;
    for (const auto& [k, v] : iterable.object->entries) keys.push_back(Value::string(k));
    iterable = Value::make_array(std::move(keys));
  } else if (iterable.kind != Kind::Array) {
    fail_at(s.b->pos, std::string("Expected iterable or object type in for loop: got ") + type_name(iterable));
  }
  const Expr& target = *s.a;
  auto bind = [&](Scope& into, const Value& item) {
    if (target.kind == ExprKind::Identifier) {
      into.set(target.text, item);
      return;
    }
    if (item.kind != Kind::Array) fail_at(target.pos, std::string("Cannot unpack non-iterable type: ") + type_name(item));
    if (item.array->size() != target.kids.size())
      fail_at(target.pos, std::string("Too ") + (target.kids.size() > item.array->size() ? "few" : "many") +
                              " items to unpack");
    for (size_t j = 0; j < target.kids.size(); ++j) {
      if (target.kids[j]->kind != ExprKind::Identifier) fail_at(target.kids[j]->pos, "Cannot unpack to a non-name");
      into.set(target.kids[j]->text, (*item.array)[j]);
    }
  };
  // The `if` filter of the loop picks the items first, so loop.length/last count only those.
  std::vector<Value> items;
  for (const Value& item : *iterable.array) {
    if (s.c) {
      Scope test_scope(&scope);
      bind(test_scope, item);
      if (!truthy(eval(*s.c, test_scope))) continue;
    }
    items.push_back(item);
  }
  bool no_iteration = true;
  const double n = static_cast<double>(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    ObjectData loop;
    loop.entries.reserve(9);
    const double d = static_cast<double>(i);
    loop.set("index", Value::integer(d + 1));
    loop.set("index0", Value::integer(d));
    loop.set("revindex", Value::integer(n - d));
    loop.set("revindex0", Value::integer(n - d - 1));
    loop.set("first", Value::from_bool(i == 0));
    loop.set("last", Value::from_bool(i + 1 == items.size()));
    loop.set("length", Value::integer(n));
    loop.set("previtem", i > 0 ? items[i - 1] : Value::undefined());
    loop.set("nextitem", i + 1 < items.size() ? items[i + 1] : Value::undefined());
    scope.set("loop", Value::make_object(std::move(loop)));
    bind(scope, items[i]);
    // Like the reference, an iteration cut short by break/continue contributes no output.
    const size_t mark = out.size();
    try {
      exec_block(s.body, scope, out);
    } catch (const ContinueSignal&) {
      out.resize(mark);
      continue;
    } catch (const BreakSignal&) {
      out.resize(mark);
      break;
    }
    no_iteration = false;
  }
  if (no_iteration) exec_block(s.alt, scope, out);
}

void Interpreter::exec_set(const Stmt& s, Scope& scope) {
  Value rhs = s.b ? eval(*s.b, scope) : Value::string(render_block(s.body, scope));
  const Expr& target = *s.a;
  switch (target.kind) {
    case ExprKind::Identifier: scope.set(target.text, std::move(rhs)); return;
    case ExprKind::Tuple: {
      if (rhs.kind != Kind::Array) fail_at(target.pos, std::string("Cannot unpack non-iterable type in set: ") + type_name(rhs));
      if (rhs.array->size() != target.kids.size())
        fail_at(target.pos, std::string("Too ") + (target.kids.size() > rhs.array->size() ? "few" : "many") +
                                " items to unpack in set");
      for (size_t i = 0; i < target.kids.size(); ++i) {
        if (target.kids[i]->kind != ExprKind::Identifier) fail_at(target.kids[i]->pos, "Cannot unpack to a non-name in set");
        scope.set(target.kids[i]->text, (*rhs.array)[i]);
      }
      return;
    }
    case ExprKind::Member: {
      const Value object = eval(*target.kids[0], scope);
      if (object.kind != Kind::Namespace)
        fail_at(target.pos, std::string("cannot assign attribute on non-namespace object (got ") + type_name(object) +
                                "); create it with namespace(...)");
      const Expr& prop = *target.kids[1];
      if (prop.kind != ExprKind::Identifier) fail_at(prop.pos, "Cannot assign to member with non-identifier property");
      object.object->set(prop.text, std::move(rhs));
      return;
    }
    default: fail_at(target.pos, "Invalid left-hand side of a set: assign to a name, a tuple of names or ns.attribute");
  }
}

void Interpreter::bind_arguments(const Stmt& s, const std::string& display_name, CallArgs& args, Scope& scope) {
  std::vector<std::pair<std::string, Value>> keyword = std::move(args.keyword);
  std::vector<std::pair<std::string, const Expr*>> pending_defaults;
  for (size_t i = 0; i < s.params.size(); ++i) {
    const Expr& p = *s.params[i];
    const std::string& name = p.text;
    std::optional<Value> value;
    if (i < args.positional.size()) value = args.positional[i];
    if (!value) {
      for (auto it = keyword.begin(); it != keyword.end(); ++it) {
        if (it->first == name) {
          value = std::move(it->second);
          keyword.erase(it);
          break;
        }
      }
    }
    if (!value && p.kind == ExprKind::KeywordArg) pending_defaults.emplace_back(name, p.kids[0].get());
    scope.set(name, value ? *value : Value::undefined());
  }
  if (s.uses_kwargs) {
    ObjectData kw;
    for (auto& [k, v] : keyword) kw.set(k, std::move(v));
    scope.set("kwargs", Value::make_object(std::move(kw)));
  } else if (!keyword.empty()) {
    throw EvalError("macro " + display_name + " takes no keyword argument '" + keyword.front().first + "'");
  }
  if (s.uses_varargs) {
    ArrayData rest;
    for (size_t i = s.params.size(); i < args.positional.size(); ++i) rest.push_back(args.positional[i]);
    scope.set("varargs", Value::make_array(std::move(rest)));
  } else if (args.positional.size() > s.params.size()) {
    throw EvalError("macro " + display_name + " takes not more than " + std::to_string(s.params.size()) + " argument(s)");
  }
  for (const auto& [name, def] : pending_defaults) scope.set(name, eval(*def, scope));
}

void Interpreter::define_macro(const Stmt& s, Scope& scope) {
  const Stmt* macro = &s;
  scope.set(s.text, Value::function([this, macro](CallArgs& args, Scope& caller_scope) {
    Scope local(&caller_scope);
    bind_arguments(*macro, "'" + macro->text + "'", args, local);
    return Value::string(render_block(macro->body, local));
  }));
}

Value Interpreter::exec_call_block(const Stmt& s, Scope& scope) {
  const Stmt* block = &s;
  Scope* defined_in = &scope;
  Value caller = Value::function([this, block, defined_in](CallArgs& args, Scope&) {
    Scope local(defined_in);
    bind_arguments(*block, "None", args, local);
    return Value::string(render_block(block->body, local));
  });
  const Expr& call_expr = *s.a;
  CallArgs args = eval_args(call_expr, 1, scope);
  const Value fn = eval(*call_expr.kids[0], scope);
  if (fn.kind != Kind::Function)
    fail_at(call_expr.pos, std::string("Cannot call something that is not a function: got ") + type_name(fn));
  Scope with_caller(&scope);
  with_caller.set("caller", std::move(caller));
  return call(fn, args, with_caller);
}

CallArgs Interpreter::eval_args(const Expr& node, size_t first, Scope& scope) {
  CallArgs out;
  // Like Python, every positional argument (incl. *spread) is evaluated before keyword values.
  for (size_t i = first; i < node.kids.size(); ++i) {
    const Expr& a = *node.kids[i];
    if (a.kind == ExprKind::Spread) {
      const Value v = eval(*a.kids[0], scope);
      if (v.kind != Kind::Array) fail_at(a.pos, std::string("Cannot unpack non-iterable type: ") + type_name(v));
      for (const auto& item : *v.array) out.positional.push_back(item);
    } else if (a.kind != ExprKind::KeywordArg && a.kind != ExprKind::KeywordSpread) {
      out.positional.push_back(eval(a, scope));
    }
  }
  auto add = [&](const std::string& key, Value v, size_t pos) {
    if (out.kw(key)) fail_at(pos, "Got multiple values for keyword argument '" + key + "'");
    out.keyword.emplace_back(key, std::move(v));
  };
  for (size_t i = first; i < node.kids.size(); ++i) {
    const Expr& a = *node.kids[i];
    if (a.kind == ExprKind::KeywordArg) {
      add(a.text, eval(*a.kids[0], scope), a.pos);
    } else if (a.kind == ExprKind::KeywordSpread) {
      const Value v = eval(*a.kids[0], scope);
      if (v.kind != Kind::Object) fail_at(a.pos, std::string("Argument after ** must be a mapping, not ") + type_name(v));
      for (const auto& [k, val] : v.object->entries) add(k, val, a.pos);
    }
  }
  return out;
}

Value Interpreter::call(const Value& fn, CallArgs& args, Scope& scope) {
  if (fn.kind != Kind::Function) throw EvalError(std::string("Cannot call something that is not a function: got ") + type_name(fn));
  constexpr int kMaxCallDepth = 100;
  if (call_depth_ >= kMaxCallDepth)
    throw EvalError("calls nested deeper than " + std::to_string(kMaxCallDepth) + " levels (runaway macro recursion?)");
  ++call_depth_;
  struct Leave { int& d; ~Leave() { --d; } } leave{call_depth_};
  return (*fn.fn)(args, scope);
}

Value Interpreter::eval(const Expr& e, Scope& scope) {
  try {
    return eval_inner(e, scope);
  } catch (const EvalError& err) {
    fail_at(e.pos, err.what());  // the innermost expression names the place
  }
}

Value Interpreter::eval_inner(const Expr& e, Scope& scope) {
  switch (e.kind) {
    case ExprKind::Integer: return Value::integer(e.number);
    case ExprKind::Float: return Value::floating(e.number);
    case ExprKind::String: return Value::string(e.text);
    case ExprKind::Identifier: {
      const Value* v = scope.lookup(e.text);
      return v ? *v : Value::undefined();
    }
    case ExprKind::Array: case ExprKind::Tuple: {
      ArrayData items;
      for (const auto& k : e.kids) items.push_back(eval(*k, scope));
      return Value::make_array(std::move(items), e.kind == ExprKind::Tuple);
    }
    case ExprKind::Object: {
      ObjectData data;
      for (size_t i = 0; i + 1 < e.kids.size(); i += 2) {
        const Value key = eval(*e.kids[i], scope);
        if (key.kind != Kind::String) fail_at(e.kids[i]->pos, std::string("Object keys must be strings: got ") + type_name(key));
        data.set(key.str, eval(*e.kids[i + 1], scope));
      }
      return Value::make_object(std::move(data));
    }
    case ExprKind::Member: return eval_member(e, scope);
    case ExprKind::Call: {
      CallArgs args = eval_args(e, 1, scope);
      const Value fn = eval(*e.kids[0], scope);
      if (fn.kind != Kind::Function)
        throw EvalError(std::string("Cannot call something that is not a function: got ") + type_name(fn));
      return call(fn, args, scope);
    }
    case ExprKind::Unary: {
      const Value v = eval(*e.kids[0], scope);
      if (e.text == "not") return Value::from_bool(!truthy(v));
      if (!v.is_numeric_like()) throw EvalError("Unknown operator \"" + e.text + "\" for " + type_name(v));
      const double r = (e.text == "-" ? -1 : 1) * as_number(v);
      return v.kind == Kind::Float ? Value::floating(r) : Value::integer(r);
    }
    case ExprKind::Binary: return eval_binary(e, scope);
    case ExprKind::Filter: return apply_filter(*this, eval(*e.kids[0], scope), e, scope);
    case ExprKind::Test: {
      const Value operand = eval(*e.kids[0], scope);
      std::vector<Value> args;
      for (size_t i = 1; i < e.kids.size(); ++i) args.push_back(eval(*e.kids[i], scope));
      const bool r = run_test(e.text, operand, args);
      return Value::from_bool(e.flag ? !r : r);
    }
    case ExprKind::Select:
      return truthy(eval(*e.kids[1], scope)) ? eval(*e.kids[0], scope) : Value::undefined();
    case ExprKind::Ternary:
      return truthy(eval(*e.kids[0], scope)) ? eval(*e.kids[1], scope) : eval(*e.kids[2], scope);
    case ExprKind::Slice: throw EvalError("a slice is only allowed inside [] after a value");
    case ExprKind::KeywordArg: case ExprKind::Spread: case ExprKind::KeywordSpread:
      throw EvalError("keyword arguments and * / ** unpacking are only allowed in call arguments");
  }
  throw EvalError("unknown expression");
}

Value Interpreter::eval_binary(const Expr& e, Scope& scope) {
  const std::string& op = e.text;
  const Value left = eval(*e.kids[0], scope);
  if (op == "and") return truthy(left) ? eval(*e.kids[1], scope) : left;
  if (op == "or") return truthy(left) ? left : eval(*e.kids[1], scope);
  const Value right = eval(*e.kids[1], scope);
  if (op == "==") return Value::from_bool(loose_equal(left, right));
  if (op == "!=") return Value::from_bool(!loose_equal(left, right));
  const bool membership = op == "in" || op == "not in";
  if (left.kind == Kind::Undefined || right.kind == Kind::Undefined) {
    if (right.kind == Kind::Undefined && membership) return Value::from_bool(op == "not in");
    throw EvalError("Cannot perform operation " + op + " on undefined values");
  }
  if (left.kind == Kind::Null || right.kind == Kind::Null) throw EvalError("Cannot perform operation on null values");
  if (op == "~") return Value::string(raw_string(left) + raw_string(right));
  if (op == "**" && left.is_numeric_like() && right.is_numeric_like()) {
    const double a = as_number(left), b = as_number(right);
    if (a == 0 && b < 0) throw EvalError("0.0 cannot be raised to a negative power");
    const double r = std::pow(a, b);
    if (!std::isfinite(r)) throw EvalError("Exponentiation result is not a finite real number");
    const bool is_float = left.kind == Kind::Float || right.kind == Kind::Float || b < 0;
    return is_float ? Value::floating(r) : Value::integer(r);
  }
  if (left.is_number() && right.is_number()) {
    const double a = left.number, b = right.number;
    const bool is_float = left.kind == Kind::Float || right.kind == Kind::Float;
    auto num = [&](double r) { return is_float ? Value::floating(r) : Value::integer(r); };
    if (op == "+") return num(a + b);
    if (op == "-") return num(a - b);
    if (op == "*") return num(a * b);
    if (op == "/") return Value::floating(a / b);
    if (op == "//") return num(std::floor(a / b));
    if (op == "%") return num(std::fmod(a, b));  // JS remainder: sign of the dividend
    if (op == "<") return Value::from_bool(a < b);
    if (op == ">") return Value::from_bool(a > b);
    if (op == "<=") return Value::from_bool(a <= b);
    if (op == ">=") return Value::from_bool(a >= b);
  } else if (left.kind == Kind::Array && right.kind == Kind::Array) {
    if (op == "+") {
      ArrayData joined = *left.array;
      joined.insert(joined.end(), right.array->begin(), right.array->end());
      return Value::make_array(std::move(joined));
    }
  } else if (right.kind == Kind::Array && membership) {
    bool found = false;
    for (const auto& x : *right.array) found = found || strict_equal(x, left);
    return Value::from_bool(op == "in" ? found : !found);
  }
  if ((left.kind == Kind::String || right.kind == Kind::String) && op == "+")
    return Value::string(raw_string(left) + raw_string(right));
  if (left.kind == Kind::String && right.kind == Kind::String && membership) {
    const bool found = right.str.find(left.str) != std::string::npos;
    return Value::from_bool(op == "in" ? found : !found);
  }
  if (left.kind == Kind::String && right.kind == Kind::Object && membership) {
    const bool found = right.object->find(left.str) != nullptr;
    return Value::from_bool(op == "in" ? found : !found);
  }
  throw EvalError("Unknown operator \"" + op + "\" between " + type_name(left) + " and " + type_name(right));
}

Value Interpreter::eval_slice(const Value& object, const Expr& slice, Scope& scope) {
  if (object.kind != Kind::Array && object.kind != Kind::String) throw EvalError("Slice object must be an array or string");
  std::optional<long long> part[3];
  static const char* names[] = {"start", "stop", "step"};
  for (int i = 0; i < 3; ++i) {
    if (!slice.kids[static_cast<size_t>(i)]) continue;
    const Value v = eval(*slice.kids[static_cast<size_t>(i)], scope);
    if (v.kind == Kind::Undefined) continue;
    if (v.kind != Kind::Int) throw EvalError(std::string("Slice ") + names[i] + " must be numeric or undefined");
    part[i] = static_cast<long long>(v.number);
  }
  const long long step = part[2].value_or(1);  // 0 gives an empty result, as in the reference
  std::vector<uint32_t> cps;
  const long long len = object.kind == Kind::Array ? static_cast<long long>(object.array->size())
                                                   : static_cast<long long>((cps = to_code_points(object.str)).size());
  long long start, stop;  // the reference's slice(): Python semantics
  if (step >= 0) {
    start = part[0].value_or(0);
    start = start < 0 ? std::max(len + start, 0LL) : std::min(start, len);
    stop = part[1].value_or(len);
    stop = stop < 0 ? std::max(len + stop, 0LL) : std::min(stop, len);
  } else {
    start = part[0].value_or(len - 1);
    start = start < 0 ? std::max(len + start, -1LL) : std::min(start, len - 1);
    stop = part[1].value_or(-1);
    stop = stop < -1 ? std::max(len + stop, -1LL) : std::min(stop, len - 1);
  }
  const long long dir = step > 0 ? 1 : step < 0 ? -1 : 0;  // with 0 the loops below do not run
  if (object.kind == Kind::Array) {
    ArrayData out;
    for (long long i = start; dir * i < dir * stop; i += step) out.push_back((*object.array)[static_cast<size_t>(i)]);
    return Value::make_array(std::move(out));
  }
  std::string out;
  for (long long i = start; dir * i < dir * stop; i += step) append_utf8(out, cps[static_cast<size_t>(i)]);
  return Value::string(std::move(out));
}

Value Interpreter::eval_member(const Expr& e, Scope& scope) {
  const Value object = eval(*e.kids[0], scope);
  const Expr& prop_expr = *e.kids[1];
  Value prop;
  if (e.flag) {
    if (prop_expr.kind == ExprKind::Slice) return eval_slice(object, prop_expr, scope);
    prop = eval(prop_expr, scope);
  } else if (prop_expr.kind == ExprKind::Integer) {
    prop = Value::integer(prop_expr.number);
  } else {
    prop = Value::string(prop_expr.text);
  }
  if (object.is_mapping()) {
    if (prop.kind != Kind::String) throw EvalError(std::string("Cannot access property with non-string: got ") + type_name(prop));
    if (const Value* v = object.object->find(prop.str)) return *v;
    return object.kind == Kind::Object ? builtin_member(object, prop.str) : Value::undefined();
  }
  if (object.kind == Kind::Array || object.kind == Kind::String) {
    if (prop.kind == Kind::Int) {  // .at(i): negative counts from the end
      const long long len = object.kind == Kind::Array ? static_cast<long long>(object.array->size())
                                                       : static_cast<long long>(code_point_count(object.str));
      long long i = static_cast<long long>(prop.number);
      if (i < 0) i += len;
      if (i < 0 || i >= len) return Value::undefined();
      if (object.kind == Kind::Array) return (*object.array)[static_cast<size_t>(i)];
      const auto cps = to_code_points(object.str);
      return Value::string(from_code_points(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
    }
    if (prop.kind == Kind::String) return builtin_member(object, prop.str);
    throw EvalError(std::string("Cannot access property with non-string/non-number: got ") + type_name(prop));
  }
  if (prop.kind != Kind::String) throw EvalError(std::string("Cannot access property with non-string: got ") + type_name(prop));
  return Value::undefined();
}

}  // namespace llmhost::tmpl::detail
