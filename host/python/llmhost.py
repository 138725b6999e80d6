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
import json
import os
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

__all__ = ["Error", "Result", "Host", "open", "initialize_from_env", "generate", "load_library"]

LLMH_LOG_DEBUG, LLMH_LOG_INFO, LLMH_LOG_WARN, LLMH_LOG_ERROR = range(4)
_FINISH = {0: "none", 1: "stop", 2: "length", 3: "cancelled", 4: "error"}


class _Message(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("role", ctypes.c_char_p), ("content", ctypes.c_char_p)]


class _Params(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("max_tokens", ctypes.c_int32),
                ("temperature", ctypes.c_float), ("top_p", ctypes.c_float), ("top_k", ctypes.c_int32),
                ("min_p", ctypes.c_float), ("repetition_penalty", ctypes.c_float),
                ("has_seed", ctypes.c_int32), ("seed", ctypes.c_uint64),
                ("stop", ctypes.POINTER(ctypes.c_char_p)), ("n_stop", ctypes.c_size_t),
                ("stream", ctypes.c_int32)]


class _Result(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("finish_reason", ctypes.c_int32),
                ("prompt_tokens", ctypes.c_uint32), ("completion_tokens", ctypes.c_uint32),
                ("time_to_first_token_ms", ctypes.c_double), ("total_ms", ctypes.c_double)]


class _OpenParams(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("config_path", ctypes.c_char_p),
                ("use_config_file", ctypes.c_int), ("plugin_dirs", ctypes.POINTER(ctypes.c_char_p)),
                ("n_plugin_dirs", ctypes.c_size_t), ("search_default_plugin_dirs", ctypes.c_int),
                ("default_provider", ctypes.c_char_p), ("log_level", ctypes.c_int)]


class _GenerateParams(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("provider", ctypes.c_char_p),
                ("model", ctypes.c_char_p), ("prompt", ctypes.c_char_p),
                ("messages", ctypes.POINTER(_Message)), ("n_messages", ctypes.c_size_t),
                ("params", _Params)]


class _TokenLogprob(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("token", ctypes.POINTER(ctypes.c_char)),
                ("token_len", ctypes.c_size_t), ("logprob", ctypes.c_float)]


_LOGPROB_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_TokenLogprob),
                               ctypes.POINTER(_TokenLogprob), ctypes.c_size_t)


class _GenerateOptions(ctypes.Structure):  # llmhost_generate_options (ABI 1.1 request fields)
    _fields_ = [("struct_size", ctypes.c_uint32), ("logprobs", ctypes.c_int32),
                ("top_logprobs", ctypes.c_int32), ("on_logprob", _LOGPROB_FN),
                ("response_format_json", ctypes.c_char_p)]


_TOKEN_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_char),
                             ctypes.c_size_t, ctypes.c_uint32)
_LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)

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
    lib.llmhost_generate_default_params.restype = _GenerateParams
    lib.llmhost_generate.argtypes = [P, ctypes.POINTER(_GenerateParams), _TOKEN_FN, P,
                                     ctypes.POINTER(_Result), ctypes.POINTER(ctypes.c_void_p)]
    lib.llmhost_generate.restype = ctypes.c_int
    lib.llmhost_generate_ext.argtypes = [P, ctypes.POINTER(_GenerateParams),
                                         ctypes.POINTER(_GenerateOptions), _TOKEN_FN, P,
                                         ctypes.POINTER(_Result), ctypes.POINTER(ctypes.c_void_p)]
    lib.llmhost_generate_ext.restype = ctypes.c_int
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
    for name in ("llmhost_last_error", "llmhost_last_error_hint", "llmhost_version"):
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
class Result:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    time_to_first_token_ms: float
    total_ms: float


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
                 min_p: float = 0.0, repetition_penalty: float = 0.0, seed: Optional[int] = None,
                 stop: Optional[list] = None, logprobs: bool = False, top_logprobs: int = 0,
                 on_logprob: Optional[Callable[[bytes, float, list], Optional[bool]]] = None,
                 response_format: Optional[dict] = None) -> Result:
        """Runs one request. on_token(piece) is called per piece; returning False cancels.
        messages: [{"role": ..., "content": ...}] for chat, else prompt is used.
        logprobs: on_logprob(token_bytes, logprob, [(bytes, logprob), ...top_logprobs]) per token,
        before the piece carrying it. response_format: OpenAI's object. A provider whose plugin
        cannot honour either refuses the request (Error, code "unsupported")."""
        gp = self._lib.llmhost_generate_default_params()
        keep = []  # keeps every buffer alive during the call
        gp.provider = provider.encode() if provider else None
        gp.model = model.encode() if model else None
        if messages:
            arr = (_Message * len(messages))()
            for i, m in enumerate(messages):
                role, content = m["role"].encode(), m["content"].encode()
                keep += [role, content]
                arr[i] = _Message(ctypes.sizeof(_Message), role, content)
            gp.messages = arr
            gp.n_messages = len(messages)
            keep.append(arr)
        else:
            gp.prompt = (prompt or "").encode()
        p = gp.params
        p.max_tokens, p.temperature, p.top_p, p.top_k = max_tokens, temperature, top_p, top_k
        p.min_p, p.repetition_penalty = min_p, repetition_penalty
        if seed is not None:
            p.has_seed, p.seed = 1, seed
        if stop:
            stops = (ctypes.c_char_p * len(stop))(*[s.encode() for s in stop])
            keep.append(stops)
            p.stop, p.n_stop = stops, len(stop)
        gp.params = p

        error = []
        pending = bytearray()  # pieces never split a UTF-8 character, but be safe anyway

        def trampoline(_user, piece, length, _n):
            if on_token is None:
                return 0
            try:
                pending.extend(ctypes.string_at(piece, length))
                try:
                    text = pending.decode("utf-8")
                except UnicodeDecodeError:
                    return 0
                pending.clear()
                return 1 if on_token(text) is False else 0
            except BaseException as e:  # never unwind through C
                error.append(e)
                return 1

        def logprob_trampoline(_user, chosen, top, n_top):
            if on_logprob is None:
                return 0
            try:
                def tok(t):
                    return ctypes.string_at(t.token, t.token_len), t.logprob
                alternatives = [tok(top[i]) for i in range(n_top)]
                token, lp = tok(chosen.contents)
                return 1 if on_logprob(token, lp, alternatives) is False else 0
            except BaseException as e:  # never unwind through C
                error.append(e)
                return 1

        cb = _TOKEN_FN(trampoline)
        opts = _GenerateOptions(ctypes.sizeof(_GenerateOptions), 1 if logprobs else 0, top_logprobs,
                                _LOGPROB_FN(logprob_trampoline),
                                json.dumps(response_format).encode() if response_format else None)
        res = _Result()
        text_ptr = ctypes.c_void_p()
        rc = self._lib.llmhost_generate_ext(self._h, ctypes.byref(gp), ctypes.byref(opts), cb,
                                            None, ctypes.byref(res), ctypes.byref(text_ptr))
        if error:
            raise error[0]
        if rc != 0:
            raise _last_error(self._lib)
        text = self._string(text_ptr.value)
        return Result(text, _FINISH.get(res.finish_reason, "unknown"), res.prompt_tokens,
                      res.completion_tokens, res.time_to_first_token_ms, res.total_ms)

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
