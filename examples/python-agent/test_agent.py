"""Runs the example agent end to end, with nothing but environment variables, the way a user of
the original framework would: initialize_from_env() -> openai provider -> `llmhost serve` -> echo.
Usage: python3 test_agent.py <llmhost binary> <libllmhost.so> <dir of llmhost.py>
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

llmhost_bin, libllmhost, python_dir = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))

with tempfile.TemporaryDirectory() as tmp:
    config = os.path.join(tmp, "llmhost.json")
    with open(config, "w") as f:
        json.dump({"providers": {"echo": {"plugin": "echo"}}}, f)
    server = subprocess.Popen([llmhost_bin, "--config", config, "serve", "--port", "0"],
                              env={**os.environ, "LLMHOST_API_KEYS": "py-key"},
                              stderr=subprocess.PIPE, text=True)
    try:
        port, log, deadline = None, "", time.time() + 15
        while port is None and time.time() < deadline:
            line = server.stderr.readline()
            log += line
            m = re.search(r"listening on http://[^:]+:(\d+)", line)
            if m:
                port = int(m.group(1))
            if not line and server.poll() is not None:
                break
        assert port, "llmhost serve did not start:\n" + log

        # The original framework's environment, nothing else.
        os.environ.update({"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "py-key",
                           "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
                           "LLMHOST_LIBRARY": libllmhost})
        os.environ.pop("LLMHOST_CONFIG", None)
        sys.path[:0] = [python_dir, here]
        import agent  # noqa: E402

        provider = agent.HuggingFaceProvider(model="echo")
        assert provider.name == "openai", provider.name
        streamed = []
        answer = agent.Agent(provider).run("name three colours", on_token=streamed.append)
        # echo answers each call with its own user message
        assert answer.startswith("Following the plan 'Plan in one line how to answer: name three colours'"), answer
        assert "".join(streamed).endswith(answer), "the answer was not streamed"
        print("python-agent: plan + answer through initialize_from_env -> openai -> llmhost serve")
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0
