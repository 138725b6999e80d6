"""A tool-using agent on llmhost: the model calls plain Python functions.

Each function is described to the model from its signature and docstring
(llmhost.function_tool); when the model answers with tool calls, the agent runs the functions,
sends each result back as a `tool` message, and asks again until the model gives its final
answer. The provider comes from the environment, as in the original framework:

    export LLM_PROVIDER=huggingface HF_MODEL_PATH=Qwen/Qwen2.5-0.5B-Instruct   # a local model
    #   or: LLM_PROVIDER=openai OPENAI_API_KEY=sk-...                          # any OpenAI endpoint
    python3 agent.py "What time is it in Tokyo?"

llmhost.py lives in host/python/ (installed under lib/llmhost/python); put it on PYTHONPATH.
A provider whose plugin cannot call tools refuses the request with a clear error
(llmhost.Error, code_name "unsupported") instead of answering without them.
"""
from __future__ import annotations

import datetime
import inspect
import json
import sys
import zoneinfo
from typing import Callable, Optional

import llmhost


# ---- the tools: ordinary Python functions -------------------------------------------------------

def get_time(timezone: str) -> str:
    """The current local time in a time zone.

    Args:
        timezone: an IANA time zone name, e.g. "Asia/Tokyo" or "UTC"
    """
    now = datetime.datetime.now(zoneinfo.ZoneInfo(timezone))
    return now.strftime(f"%H:%M on %A %d %B %Y ({timezone})")


def add(a: float, b: float) -> float:
    """Adds two numbers exactly (models are bad at arithmetic).

    Args:
        a: the first number
        b: the second number
    """
    return a + b


# ---- the agent loop -----------------------------------------------------------------------------

class Agent:
    """Runs a task to its final answer, calling `tools` (Python functions) as the model asks."""

    def __init__(self, host: llmhost.Host, tools: list[Callable], *, provider: Optional[str] = None,
                 model: Optional[str] = None, system: Optional[str] = None, max_steps: int = 8,
                 max_tokens: int = 512):
        self.host = host
        self.tools = {fn.__name__: fn for fn in tools}
        self.specs = [llmhost.function_tool(fn) for fn in tools]
        self.provider, self.model, self.system = provider, model, system
        self.max_steps, self.max_tokens = max_steps, max_tokens
        self.messages: list[dict] = []

    def run(self, task: str, on_token: Optional[Callable[[str], None]] = None,
            on_tool: Optional[Callable[[str, dict, str], None]] = None) -> str:
        self.messages = ([{"role": "system", "content": self.system}] if self.system else []) + \
                        [{"role": "user", "content": task}]
        for _ in range(self.max_steps):
            result = self.host.generate(messages=self.messages, tools=self.specs,
                                        provider=self.provider, model=self.model,
                                        max_tokens=self.max_tokens, on_token=on_token)
            self.messages.append(result.message)  # the assistant's turn, tool calls included
            if result.finish_reason != "tool_calls":
                return result.text
            for call in result.tool_calls:
                output = self.call_tool(call["name"], call["arguments"])
                if on_tool:
                    on_tool(call["name"], call["arguments"], output)
                self.messages.append({"role": "tool", "tool_call_id": call["id"],
                                      "content": output})
        raise RuntimeError(f"no final answer after {self.max_steps} steps")

    def call_tool(self, name: str, arguments: str) -> str:
        """Runs one call. The model's output is untrusted: an unknown function, arguments that are
        not a JSON object or do not fit the signature, or a function that raises all become an
        error text the model reads, never an exception that ends the run."""
        fn = self.tools.get(name)
        if fn is None:
            return f"error: there is no tool named {name!r}"
        try:
            args = json.loads(arguments or "{}")
        except json.JSONDecodeError as e:
            return f"error: the arguments are not valid JSON ({e})"
        if not isinstance(args, dict):
            return "error: the arguments must be a JSON object"
        try:
            inspect.signature(fn).bind(**args)
        except TypeError as e:
            return f"error: {name}: {e}"
        try:
            value = fn(**args)
        except Exception as e:  # the function's failure is the model's information
            return f"error: {name} failed: {type(e).__name__}: {e}"
        return value if isinstance(value, str) else json.dumps(value)


if __name__ == "__main__":
    task = " ".join(sys.argv[1:]) or "What time is it in Tokyo?"
    host = llmhost.initialize_from_env()
    print(f"[provider: {host.default_provider()}]", file=sys.stderr)
    agent = Agent(host, [get_time, add], system="Use the tools when they help.")
    answer = agent.run(task, on_token=lambda piece: print(piece, end="", flush=True),
                       on_tool=lambda n, a, out: print(f"\n→ {n}({a}) = {out}", file=sys.stderr))
    print()
