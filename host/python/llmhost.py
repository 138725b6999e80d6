"""llmhost — Python bindings over the C API (host.h) with ctypes; no compilation needed.

    import llmhost
    host = llmhost.initialize_from_env()          # LLM_PROVIDER, HF_TOKEN, OPENAI_API_KEY, ...
    result = host.generate("Hello", on_token=lambda piece: print(piece, end=""), max_tokens=64)
    print(result.finish_reason, result.completion_tokens)

    host = llmhost.open("llmhost.json")           # or open() for the default config search
    host.swap("local", {"plugin": "huggingface", "config": {"model": "..."}})

The shared library is found through $LLMHOST_LIBRARY, then next to this file (../lib, ../../lib
in the install and build trees), then the system's library path. Errors raise llmhost.Error
with .code, .code_name, .hint; messages never contain secrets.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import inspect
import json
import os
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

__all__ = ["Error", "Event", "Result", "Host", "open", "initialize_from_env", "generate",
           "function_tool", "load_library"]

# The ctypes mirror of plugin.h / host.h (llmhost_abi.py, next to this file).
from llmhost_abi import (  # LLMH_LOG_* are re-exported as llmhost.LLMH_LOG_*
    LLMH_LOG_DEBUG, LLMH_LOG_INFO, LLMH_LOG_WARN, LLMH_LOG_ERROR, _FINISH, _INVALID_ARGUMENT,
    _EVENT_NAMES, _EVENT_LOGPROB, _TOOL_CHOICE, _RESPONSE, _REASONING, _S, _ToolCall, _Message,
    _Tool, _ResponseFormat, _Params, _EVENT_FN, _Request, _Result, _OpenParams, _LOG_FN)

_lib = None


def _candidates() -> Iterable[str]:
    env = os.environ.get("LLMHOST_LIBRARY")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    for rel in ("../lib", "../../lib", "../../../lib", "../../build/lib", "."):
        yield os.path.normpath(os.path.join(here, rel, "libllmhost.so"))
    found = ctypes.util.find_library("llmhost")
    if found:
        yield found


def load_library(path: Optional[str] = None) -> ctypes.CDLL:
    """Loads libllmhost.so once (path, $LLMHOST_LIBRARY, paths relative to this file, system)."""
    global _lib
    if _lib is not None and path is None:
        return _lib
    tried = []
    for cand in ([path] if path else list(_candidates())):
        if os.sep in cand and not os.path.exists(cand):
            tried.append(cand)
            continue
        try:
            lib = ctypes.CDLL(cand)
            break
        except OSError as e:
            tried.append(f"{cand} ({e})")
    else:
        raise Error(101, "cannot find libllmhost.so (tried: " + ", ".join(tried) + ")",
                    "set LLMHOST_LIBRARY to the library's path, e.g. build/lib/libllmhost.so")
    _declare(lib)
    if path is None:
        _lib = lib
    return lib


def _declare(lib: ctypes.CDLL) -> None:
    P = ctypes.c_void_p
    lib.llmhost_open_default_params.restype = _OpenParams
    lib.llmhost_open_ext.argtypes = [ctypes.POINTER(_OpenParams)]
    lib.llmhost_open_ext.restype = P
    lib.llmhost_close.argtypes = [P]
    for name in ("llmhost_generate", "llmhost_generate_message"):
        getattr(lib, name).argtypes = [P, ctypes.c_char_p, ctypes.POINTER(_Request),
                                       ctypes.POINTER(_Result), ctypes.POINTER(ctypes.c_void_p)]
        getattr(lib, name).restype = ctypes.c_int
    for name in ("llmhost_providers_json", "llmhost_plugins_json", "llmhost_config_json",
                 "llmhost_default_provider"):
        getattr(lib, name).argtypes = [P]
        getattr(lib, name).restype = P  # a malloc'd char*: read, then llmhost_free
    lib.llmhost_models_json.argtypes = [P, ctypes.c_char_p]
    lib.llmhost_models_json.restype = P
    lib.llmhost_redact.argtypes = [P, ctypes.c_char_p]
    lib.llmhost_redact.restype = P
    lib.llmhost_swap.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p]
    lib.llmhost_swap.restype = ctypes.c_int
    lib.llmhost_reload.argtypes = [P]
    lib.llmhost_reload.restype = ctypes.c_int
    lib.llmhost_set_log_callback.argtypes = [P, _LOG_FN, P]
    lib.llmhost_free.argtypes = [P]
    for name in ("llmhost_last_error", "llmhost_last_error_hint", "llmhost_version",
                 "llmhost_last_served_by"):
        getattr(lib, name).restype = ctypes.c_char_p
    lib.llmhost_last_error_code.restype = ctypes.c_int
    lib.llmhost_status_name.argtypes = [ctypes.c_int]
    lib.llmhost_status_name.restype = ctypes.c_char_p


class Error(Exception):
    """A failure reported by llmhost: .code (llmh_status or LLMHOST_ERR_*), .code_name, .hint."""

    def __init__(self, code: int, message: str, hint: str = ""):
        super().__init__(message)
        self.code = code
        self.hint = hint
        self.code_name = (_lib.llmhost_status_name(code).decode() if _lib is not None else str(code))


def _last_error(lib) -> Error:
    return Error(lib.llmhost_last_error_code(), lib.llmhost_last_error().decode("utf-8", "replace"),
                 lib.llmhost_last_error_hint().decode("utf-8", "replace"))


@dataclass
class Event:
    """One output event: type "text", "reasoning", "tool_call_start" (index, id, name) or
    "tool_call_args" (index, text: a piece of that call's JSON arguments)."""
    type: str
    text: str = ""
    index: int = 0
    id: str = ""
    name: str = ""
    n_tokens: int = 0


@dataclass
class Result:
    text: str
    finish_reason: str  # "stop", "length", "tool_calls", "cancelled"
    prompt_tokens: int
    completion_tokens: int  # reasoning included
    time_to_first_token_ms: float
    total_ms: float
    reasoning: str = ""
    tool_calls: list = field(default_factory=list)  # [{"id", "name", "arguments" (JSON text)}]
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    message: dict = field(default_factory=dict)  # the assistant message, ready to append
    served_by: str = ""  # the provider that answered; for a route its target ("provider[/model]")

    @property
    def usage(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens,
                "reasoning_tokens": self.reasoning_tokens, "cached_tokens": self.cached_tokens}


# ---- Python values -> plugin.h structs (hostile input refused naming the field) --------------

def _utf8(value, what: str) -> bytes:
    if not isinstance(value, str):
        raise Error(_INVALID_ARGUMENT, f"{what} must be a string, not {type(value).__name__}")
    if "\0" in value:  # would silently cut the C string
        raise Error(_INVALID_ARGUMENT, f"{what} contains a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not text any provider can take
        raise Error(_INVALID_ARGUMENT, f"{what} is not valid Unicode text") from None


def _opt_utf8(d: dict, key: str, what: str):
    v = d.get(key)
    return None if v is None else _utf8(v, f"{what}.{key}")


def _content_text(content, what: str):
    """OpenAI content: a string, None, or a list of {"type": "text", "text": ...} parts."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for i, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or \
                    not isinstance(part.get("text"), str):
                raise Error(_INVALID_ARGUMENT, f"{what}.content[{i}] is not a text part "
                            "({\"type\": \"text\", \"text\": ...}); only text reaches a provider")
            texts.append(part["text"])
        return "".join(texts)
    raise Error(_INVALID_ARGUMENT, f"{what}.content must be a string, a list of text parts or None")


def _marshal_tool_call(c, what: str, keep: list):
    if not isinstance(c, dict):
        raise Error(_INVALID_ARGUMENT, f"{what} must be a dict")
    fn = c.get("function", c)  # OpenAI's {"id", "function": {"name", "arguments"}} or flat
    if not isinstance(fn, dict):
        raise Error(_INVALID_ARGUMENT, f"{what}.function must be a dict")
    args = fn.get("arguments", "{}")
    if not isinstance(args, str):
        args = json.dumps(args)  # a dict of arguments, as a Python caller may keep it
    tc = _ToolCall(ctypes.sizeof(_ToolCall), _utf8(c.get("id", ""), f"{what}.id"),
                   _utf8(fn.get("name", ""), f"{what}.name"), _utf8(args, f"{what}.arguments"))
    keep.append(tc)
    return ctypes.pointer(tc)


def _marshal_messages(messages: list, keep: list):
    if not isinstance(messages, (list, tuple)):
        raise Error(_INVALID_ARGUMENT, "messages must be a list of dicts")
    ptrs = (ctypes.POINTER(_Message) * len(messages))()
    for i, m in enumerate(messages):
        what = f"messages[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise Error(_INVALID_ARGUMENT, f"{what} must be a dict with a string 'role'")
        msg = _Message()
        msg.struct_size = ctypes.sizeof(_Message)
        msg.role = _utf8(m["role"], f"{what}.role")
        content = _content_text(m.get("content"), what)
        msg.content = None if content is None else _utf8(content, f"{what}.content")
        msg.name = _opt_utf8(m, "name", what)
        msg.tool_call_id = _opt_utf8(m, "tool_call_id", what)
        reasoning = m.get("reasoning_content", m.get("reasoning"))
        msg.reasoning = None if reasoning is None else _utf8(reasoning, f"{what}.reasoning")
        calls = m.get("tool_calls") or []
        if not isinstance(calls, (list, tuple)):
            raise Error(_INVALID_ARGUMENT, f"{what}.tool_calls must be a list")
        if calls:
            arr = (ctypes.POINTER(_ToolCall) * len(calls))(
                *[_marshal_tool_call(c, f"{what}.tool_calls[{k}]", keep) for k, c in enumerate(calls)])
            keep.append(arr)
            msg.tool_calls, msg.n_tool_calls = arr, len(calls)
        elif msg.content is None:
            msg.content = b""  # a message without content or calls: empty text
        keep.append(msg)
        ptrs[i] = ctypes.pointer(msg)
    keep.append(ptrs)
    return ptrs, len(messages)


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array",
               dict: "object"}


def function_tool(fn: Callable) -> dict:
    """An OpenAI-style tool describing a Python function: its name, the docstring's first paragraph
    as description, its parameters (str/int/float/bool/list/dict annotations; those without a
    default are required) and their descriptions from a Google-style "Args:" section."""
    doc = inspect.getdoc(fn) or ""
    description = doc.split("\n\n")[0].replace("\n", " ").strip()
    arg_docs, in_args = {}, False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
        elif in_args and ":" in stripped and line.startswith((" ", "\t")):
            name, _, text = stripped.partition(":")
            arg_docs[name.split("(")[0].strip()] = text.strip()
        elif in_args and stripped and not line.startswith((" ", "\t")):
            in_args = False
    props, required = {}, []
    hints = getattr(fn, "__annotations__", {})
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        schema = {}
        t = hints.get(p.name)
        if isinstance(t, str):  # from __future__ import annotations
            t = {"str": str, "int": int, "float": float, "bool": bool, "list": list,
                 "dict": dict}.get(t)
        if t in _JSON_TYPES:
            schema["type"] = _JSON_TYPES[t]
        if p.name in arg_docs:
            schema["description"] = arg_docs[p.name]
        props[p.name] = schema
        if p.default is p.empty:
            required.append(p.name)
    return {"type": "function",
            "function": {"name": fn.__name__, "description": description,
                         "parameters": {"type": "object", "properties": props,
                                        "required": required}}}


def _marshal_tools(tools: list, keep: list):
    if not isinstance(tools, (list, tuple)):
        raise Error(_INVALID_ARGUMENT, "tools must be a list")
    ptrs = (ctypes.POINTER(_Tool) * len(tools))()
    for i, t in enumerate(tools):
        what = f"tools[{i}]"
        if callable(t) and not isinstance(t, dict):
            t = function_tool(t)
        if not isinstance(t, dict) or t.get("type", "function") != "function" or \
                not isinstance(t.get("function"), dict):
            raise Error(_INVALID_ARGUMENT, f"{what} must be a Python function or "
                        "{\"type\": \"function\", \"function\": {\"name\": ...}}")
        fn = t["function"]
        params = fn.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise Error(_INVALID_ARGUMENT, f"{what}.function.parameters must be a JSON Schema "
                        "object (a dict)")
        tool = _Tool(ctypes.sizeof(_Tool), b"function", _utf8(fn.get("name", ""), f"{what}.name"),
                     _opt_utf8(fn, "description", what),
                     None if params is None else json.dumps(params).encode(),
                     1 if fn.get("strict") else 0)
        keep.append(tool)
        ptrs[i] = ctypes.pointer(tool)
    keep.append(ptrs)
    return ptrs, len(tools)


def _tool_choice(choice):
    if choice is None:
        return 0, None
    if isinstance(choice, dict):
        fn = choice.get("function")
        if choice.get("type") != "function" or not isinstance(fn, dict):
            raise Error(_INVALID_ARGUMENT, "tool_choice must be \"auto\", \"none\", \"required\", "
                        "a function's name or {\"type\": \"function\", \"function\": {\"name\": ...}}")
        choice = fn.get("name")
    if not isinstance(choice, str):
        raise Error(_INVALID_ARGUMENT, f"tool_choice must be a string or a dict, not "
                    f"{type(choice).__name__}")
    if choice in _TOOL_CHOICE:
        return _TOOL_CHOICE[choice], None
    return 3, _utf8(choice, "tool_choice")  # LLMH_TOOL_CHOICE_FUNCTION


def _marshal_response_format(rf: dict, keep: list):
    if not isinstance(rf, dict) or rf.get("type") not in _RESPONSE:
        raise Error(_INVALID_ARGUMENT, "response_format must be {\"type\": \"text\"}, "
                    "{\"type\": \"json_object\"} or {\"type\": \"json_schema\", \"json_schema\": ...}")
    out = _ResponseFormat(ctypes.sizeof(_ResponseFormat), _RESPONSE[rf["type"]])
    if rf["type"] == "json_schema":
        js = rf.get("json_schema")
        if not isinstance(js, dict) or not isinstance(js.get("schema", {}), dict):
            raise Error(_INVALID_ARGUMENT, "response_format json_schema needs a \"json_schema\" "
                        "object whose \"schema\" is an object")
        out.name = _opt_utf8(js, "name", "response_format.json_schema")
        out.schema_json = json.dumps(js.get("schema", {})).encode()
        out.strict = 1 if js.get("strict") else 0
    keep.append(out)
    return ctypes.pointer(out)


class Host:
    """An open llmhost host. Use open() or initialize_from_env() to create one."""

    def __init__(self, handle: int, lib: ctypes.CDLL):
        self._h = handle
        self._lib = lib
        self._log_cb = None  # keeps the ctypes callback alive

    def close(self) -> None:
        if self._h:
            self._lib.llmhost_close(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _string(self, ptr) -> str:
        if not ptr:
            raise _last_error(self._lib)
        try:
            return ctypes.string_at(ptr).decode("utf-8")
        finally:
            self._lib.llmhost_free(ptr)

    def generate(self, prompt: Optional[str] = None, provider: Optional[str] = None,
                 on_token: Optional[Callable[[str], Optional[bool]]] = None, *,
                 messages: Optional[list] = None, model: Optional[str] = None,
                 max_tokens: int = 0, temperature: float = -1.0, top_p: float = 0.0, top_k: int = 0,
                 min_p: float = 0.0, repetition_penalty: float = 0.0, presence_penalty: float = 0.0,
                 frequency_penalty: float = 0.0, seed: Optional[int] = None,
                 stop: Optional[list] = None, logprobs: bool = False, top_logprobs: int = 0,
                 on_logprob: Optional[Callable[[bytes, float, list], Optional[bool]]] = None,
                 response_format: Optional[dict] = None, tools: Optional[list] = None,
                 tool_choice=None, parallel_tool_calls: Optional[bool] = None,
                 reasoning=None, reasoning_effort: Optional[str] = None,
                 grammar: Optional[str] = None, regex: Optional[str] = None,
                 on_event: Optional[Callable[[Event], Optional[bool]]] = None) -> Result:
        """Runs one request. on_token(piece) gets each piece of the answer, on_event(Event) every
        event (reasoning and tool calls too); either returning False cancels.
        messages: OpenAI-style dicts (role, content, name, tool_call_id, tool_calls as OpenAI or
        as Result.tool_calls writes them), else prompt is used.
        tools: OpenAI-style {"type": "function", "function": {...}} dicts or plain Python
        functions (described by function_tool). tool_choice: "auto", "none", "required", a
        function's name or {"type": "function", "function": {"name": ...}}.
        response_format: OpenAI's object. reasoning: None (default), True/"on", False/"off";
        reasoning_effort: "low", "medium", "high".
        grammar: a llama.cpp GBNF grammar (root rule "root") the whole output follows; regex: a
        regular expression the whole output matches. At most one, and neither with a JSON
        response_format or a forced tool_choice; the provider's plugin needs the grammar
        capability.
        logprobs: on_logprob(token_bytes, logprob, [(bytes, logprob), ...top_logprobs]) per token,
        before the piece carrying it. A field the provider's plugin cannot honour refuses the
        request (Error, code_name "unsupported"); a malformed one raises Error "invalid_argument"."""
        keep = []  # every buffer the request points at, alive during the call
        req = _Request()
        req.struct_size = ctypes.sizeof(_Request)
        params = _Params(ctypes.sizeof(_Params), max_tokens, temperature, top_p, top_k, min_p,
                         repetition_penalty, presence_penalty, frequency_penalty)
        params.stream = 1
        if seed is not None:
            params.has_seed, params.seed = 1, seed
        if stop:
            stops = (_S * len(stop))(*[_utf8(s, "stop") for s in stop])
            keep.append(stops)
            params.stop, params.n_stop = stops, len(stop)
        req.params = ctypes.pointer(params)
        keep.append(params)
        req.model = _utf8(model, "model") if model else None
        if messages:
            req.messages, req.n_messages = _marshal_messages(messages, keep)
        else:
            req.prompt = _utf8(prompt or "", "prompt")
        req.logprobs, req.top_logprobs = (1 if logprobs else 0), top_logprobs
        if tools:
            req.tools, req.n_tools = _marshal_tools(tools, keep)
        req.tool_choice, req.tool_choice_name = _tool_choice(tool_choice)
        req.parallel_tool_calls = -1 if parallel_tool_calls is None else int(bool(parallel_tool_calls))
        if response_format is not None:
            req.response_format = _marshal_response_format(response_format, keep)
        if reasoning not in _REASONING:
            raise Error(_INVALID_ARGUMENT, f"reasoning must be None, True/False or 'on'/'off'/"
                        f"'default', not {reasoning!r}")
        req.reasoning = _REASONING[reasoning]
        req.reasoning_effort = _utf8(reasoning_effort, "reasoning_effort") if reasoning_effort else None
        for name, value in (("grammar", grammar), ("regex", regex)):
            if value is None:
                continue
            if value == "":  # as in serve's JSON: present but empty is a mistake, not "none"
                raise Error(_INVALID_ARGUMENT, f"{name} is empty; pass None for no constraint")
            setattr(req, name, _utf8(value, name))

        error = []
        pending = bytearray()  # pieces never split a UTF-8 character, but be safe anyway

        def deliver(e) -> bool:
            if e.type == _EVENT_LOGPROB:
                if on_logprob is None or not e.logprob:
                    return True
                tok = lambda t: (ctypes.string_at(t.token, t.token_len), t.logprob)  # noqa: E731
                alternatives = [tok(e.top[i]) for i in range(e.n_top)]
                token, lp = tok(e.logprob.contents)
                return on_logprob(token, lp, alternatives) is not False
            kind = _EVENT_NAMES.get(e.type)
            if kind is None:
                return True  # a newer event type: ignored
            text = ""
            if e.text_len:
                pending.extend(ctypes.string_at(e.text, e.text_len))
                try:
                    text = pending.decode("utf-8")
                except UnicodeDecodeError:
                    return True
                pending.clear()
            if kind == "text" and on_token is not None and on_token(text) is False:
                return False
            if on_event is None:
                return True
            ev = Event(kind, text, e.tool_index, (e.tool_call_id or b"").decode("utf-8", "replace"),
                       (e.tool_name or b"").decode("utf-8", "replace"), e.n_tokens)
            return on_event(ev) is not False

        def trampoline(_user, event_ptr):
            try:
                return 0 if deliver(event_ptr.contents) else 1
            except BaseException as e:  # never unwind through C
                error.append(e)
                return 1

        req.on_event = _EVENT_FN(trampoline)
        res = _Result()
        msg_ptr = ctypes.c_void_p()
        rc = self._lib.llmhost_generate_message(self._h, provider.encode() if provider else None,
                                                ctypes.byref(req), ctypes.byref(res),
                                                ctypes.byref(msg_ptr))
        if error:
            raise error[0]
        if rc != 0:
            raise _last_error(self._lib)
        served_by = (self._lib.llmhost_last_served_by() or b"").decode("utf-8", "replace")
        message = json.loads(self._string(msg_ptr.value))
        calls = [{"id": c["id"], "name": c["function"]["name"],
                  "arguments": c["function"]["arguments"]} for c in message.get("tool_calls", [])]
        return Result(message.get("content") or "", _FINISH.get(res.finish_reason, "unknown"),
                      res.prompt_tokens, res.completion_tokens, res.time_to_first_token_ms,
                      res.total_ms, message.get("reasoning_content", ""), calls,
                      res.reasoning_tokens, res.cached_tokens, message, served_by)

    def providers(self) -> list:
        return json.loads(self._string(self._lib.llmhost_providers_json(self._h)))

    def plugins(self) -> list:
        return json.loads(self._string(self._lib.llmhost_plugins_json(self._h)))

    def models(self, provider: Optional[str] = None) -> list:
        return json.loads(self._string(self._lib.llmhost_models_json(
            self._h, provider.encode() if provider else None)))

    def config(self) -> dict:
        """The resolved configuration; secrets appear as 'hf_…(set, from HF_TOKEN)'."""
        return json.loads(self._string(self._lib.llmhost_config_json(self._h)))

    def default_provider(self) -> str:
        return self._string(self._lib.llmhost_default_provider(self._h))

    def swap(self, name: str, entry: dict) -> None:
        """Replaces or adds provider `name` live; on failure the old instance keeps serving."""
        if self._lib.llmhost_swap(self._h, name.encode(), json.dumps(entry).encode()) != 0:
            raise _last_error(self._lib)

    def reload(self) -> None:
        if self._lib.llmhost_reload(self._h) != 0:
            raise _last_error(self._lib)

    def redact(self, text: str) -> str:
        return self._string(self._lib.llmhost_redact(self._h, text.encode()))

    def on_log(self, fn: Optional[Callable[[int, str], None]]) -> None:
        """fn(level, message) receives every (redacted) log line; None restores stderr."""
        if fn is None:
            self._log_cb = None
            self._lib.llmhost_set_log_callback(self._h, _LOG_FN(), None)
            return
        self._log_cb = _LOG_FN(lambda _u, level, msg: fn(level, msg.decode("utf-8", "replace")))
        self._lib.llmhost_set_log_callback(self._h, self._log_cb, None)


def _open(config_path: Optional[str], use_config_file: bool, plugin_dirs, default_plugin_dirs: bool,
          default_provider: Optional[str], lib_path: Optional[str], log_level: int) -> Host:
    lib = load_library(lib_path)
    op = lib.llmhost_open_default_params()
    op.config_path = config_path.encode() if config_path else None
    op.use_config_file = 1 if use_config_file else 0
    dirs = [d.encode() for d in (plugin_dirs or [])]
    arr = (ctypes.c_char_p * max(1, len(dirs)))(*dirs)
    op.plugin_dirs = arr
    op.n_plugin_dirs = len(dirs)
    op.search_default_plugin_dirs = 1 if default_plugin_dirs else 0
    op.default_provider = default_provider.encode() if default_provider else None
    op.log_level = log_level
    h = lib.llmhost_open_ext(ctypes.byref(op))
    if not h:
        raise _last_error(lib)
    global _default_host
    _default_host = Host(h, lib)
    return _default_host


_default_host: Optional[Host] = None


def open(config_path: Optional[str] = None, *, plugin_dirs=None, default_plugin_dirs: bool = True,
         default_provider: Optional[str] = None, library: Optional[str] = None,
         log_level: int = LLMH_LOG_INFO) -> Host:
    """Opens a host from a config file (None: $LLMHOST_CONFIG, ./llmhost.json, XDG) + environment."""
    return _open(config_path, True, plugin_dirs, default_plugin_dirs, default_provider, library,
                 log_level)


def initialize_from_env(*, plugin_dirs=None, default_plugin_dirs: bool = True,
                        default_provider: Optional[str] = None, library: Optional[str] = None,
                        log_level: int = LLMH_LOG_INFO) -> Host:
    """The environment bridge only: LLM_PROVIDER, HF_TOKEN, OPENAI_API_KEY, ... (no config file)."""
    return _open(None, False, plugin_dirs, default_plugin_dirs, default_provider, library, log_level)


def generate(prompt: Optional[str] = None, provider: Optional[str] = None,
             on_token: Optional[Callable[[str], Optional[bool]]] = None, **params) -> Result:
    """generate() on the host opened last (initialize_from_env() first if none is open)."""
    host = _default_host if _default_host is not None and _default_host._h else initialize_from_env()
    return host.generate(prompt, provider, on_token, **params)
