"""A Python agent on llmhost, in the shape of the original framework: initialize_from_env() picks
the provider from the environment (LLM_PROVIDER, HF_TOKEN, OPENAI_API_KEY, OPENAI_BASE_URL, ...),
then a small provider class exposes generate() to the agent code.

    export LLM_PROVIDER=huggingface HF_MODEL_PATH=Qwen/Qwen2.5-0.5B-Instruct   # a local model
    #   or: LLM_PROVIDER=openai OPENAI_API_KEY=sk-...                          # any OpenAI endpoint
    python3 agent.py "What is a provider plugin?"

llmhost.py lives in host/python/ (installed under lib/llmhost/python); put it on PYTHONPATH.
"""
from __future__ import annotations

import sys
from typing import Callable, Optional

import llmhost


class HuggingFaceProvider:
    """The original framework's provider class, now a thin shell over llmhost: the host resolves
    the token, the model, the device and the endpoint; this class only keeps the agent's API."""

    def __init__(self, model: Optional[str] = None, max_tokens: int = 256):
        self.host = llmhost.initialize_from_env()
        self.model = model
        self.max_tokens = max_tokens

    @property
    def name(self) -> str:
        return self.host.default_provider()

    def generate(self, prompt: str, system: Optional[str] = None,
                 on_token: Optional[Callable[[str], None]] = None) -> str:
        messages = ([{"role": "system", "content": system}] if system else []) + \
                   [{"role": "user", "content": prompt}]
        result = self.host.generate(messages=messages, model=self.model, max_tokens=self.max_tokens,
                                    on_token=on_token)
        return result.text


class Agent:
    """Plan, then answer: two calls, the second one sees the first one's plan."""

    def __init__(self, provider: HuggingFaceProvider):
        self.provider = provider
        self.history: list[tuple[str, str]] = []

    def run(self, task: str, on_token: Optional[Callable[[str], None]] = None) -> str:
        plan = self.provider.generate(f"Plan in one line how to answer: {task}",
                                      system="You are a planner.", on_token=on_token)
        self.history.append(("plan", plan))
        answer = self.provider.generate(f"Following the plan '{plan}', answer: {task}",
                                        system="You are a helpful assistant.", on_token=on_token)
        self.history.append(("answer", answer))
        return answer


if __name__ == "__main__":
    task = " ".join(sys.argv[1:]) or "Say hello."
    provider = HuggingFaceProvider()
    print(f"[provider: {provider.name}]", file=sys.stderr)
    Agent(provider).run(task, on_token=lambda piece: print(piece, end="", flush=True))
    print()
