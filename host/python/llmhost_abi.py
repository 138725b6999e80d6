"""The structs and enums of plugin.h (ABI 2.1) and host.h as ctypes types, field for field: the
C side of llmhost.py (kept apart so that the binding itself stays readable). Every struct carries
its struct_size, so the library reads exactly what Python wrote.
"""
import ctypes

LLMH_LOG_DEBUG, LLMH_LOG_INFO, LLMH_LOG_WARN, LLMH_LOG_ERROR = range(4)
_FINISH = {0: "none", 1: "stop", 2: "length", 3: "cancelled", 4: "error", 5: "tool_calls"}
_INVALID_ARGUMENT = 1
# plugin.h enums
_EVENT_NAMES = {1: "text", 2: "reasoning", 3: "tool_call_start", 4: "tool_call_args"}
_EVENT_LOGPROB = 5
_TOOL_CHOICE = {"auto": 0, "none": 1, "required": 2}
_RESPONSE = {"text": 0, "json_object": 1, "json_schema": 2}
_REASONING = {None: 0, "default": 0, False: 1, "off": 1, True: 2, "on": 2}

_S = ctypes.c_char_p


class _ToolCall(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("id", _S), ("name", _S), ("arguments", _S)]


class _Message(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("role", _S), ("content", _S), ("name", _S),
                ("tool_call_id", _S), ("tool_calls", ctypes.POINTER(ctypes.POINTER(_ToolCall))),
                ("n_tool_calls", ctypes.c_size_t), ("reasoning", _S)]


class _Tool(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("type", _S), ("name", _S), ("description", _S),
                ("parameters_json", _S), ("strict", ctypes.c_int32)]


class _ResponseFormat(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("type", ctypes.c_int32), ("name", _S),
                ("schema_json", _S), ("strict", ctypes.c_int32)]


class _Params(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("max_tokens", ctypes.c_int32),
                ("temperature", ctypes.c_float), ("top_p", ctypes.c_float), ("top_k", ctypes.c_int32),
                ("min_p", ctypes.c_float), ("repetition_penalty", ctypes.c_float),
                ("presence_penalty", ctypes.c_float), ("frequency_penalty", ctypes.c_float),
                ("has_seed", ctypes.c_int32), ("seed", ctypes.c_uint64),
                ("stop", ctypes.POINTER(_S)), ("n_stop", ctypes.c_size_t), ("stream", ctypes.c_int32)]


class _TokenLogprob(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("token", ctypes.POINTER(ctypes.c_char)),
                ("token_len", ctypes.c_size_t), ("logprob", ctypes.c_float)]


class _Event(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("type", ctypes.c_int32),
                ("text", ctypes.POINTER(ctypes.c_char)), ("text_len", ctypes.c_size_t),
                ("n_tokens", ctypes.c_uint32), ("tool_index", ctypes.c_uint32),
                ("tool_call_id", _S), ("tool_name", _S),
                ("logprob", ctypes.POINTER(_TokenLogprob)), ("top", ctypes.POINTER(_TokenLogprob)),
                ("n_top", ctypes.c_size_t)]


_EVENT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_Event))
_CANCEL_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class _Request(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("model", _S),
                ("messages", ctypes.POINTER(ctypes.POINTER(_Message))), ("n_messages", ctypes.c_size_t),
                ("prompt", _S), ("params", ctypes.POINTER(_Params)), ("on_event", _EVENT_FN),
                ("should_cancel", _CANCEL_FN), ("user", ctypes.c_void_p),
                ("logprobs", ctypes.c_int32), ("top_logprobs", ctypes.c_int32),
                ("tools", ctypes.POINTER(ctypes.POINTER(_Tool))), ("n_tools", ctypes.c_size_t),
                ("tool_choice", ctypes.c_int32), ("tool_choice_name", _S),
                ("parallel_tool_calls", ctypes.c_int32),
                ("response_format", ctypes.POINTER(_ResponseFormat)), ("reasoning", ctypes.c_int32),
                ("reasoning_effort", _S), ("next", ctypes.c_void_p),
                # ABI 2.1
                ("grammar", _S), ("regex", _S)]


class _Result(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("finish_reason", ctypes.c_int32),
                ("prompt_tokens", ctypes.c_uint32), ("completion_tokens", ctypes.c_uint32),
                ("reasoning_tokens", ctypes.c_uint32), ("cached_tokens", ctypes.c_uint32),
                ("time_to_first_token_ms", ctypes.c_double), ("total_ms", ctypes.c_double)]


class _OpenParams(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("config_path", _S),
                ("use_config_file", ctypes.c_int), ("plugin_dirs", ctypes.POINTER(_S)),
                ("n_plugin_dirs", ctypes.c_size_t), ("search_default_plugin_dirs", ctypes.c_int),
                ("default_provider", _S), ("log_level", ctypes.c_int)]


_LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
