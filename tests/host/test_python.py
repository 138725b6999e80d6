"""Tests of host/python/llmhost.py (ctypes over host.h), run by ctest with
LLMHOST_LIBRARY=<build>/lib/libllmhost.so and LLMHOST_TEST_PLUGIN_DIR=<test plugin dir>."""
import json
import os
import random
import string
import sys
import tempfile
import unittest

sys.path.insert(0, os.environ["LLMHOST_PYTHON_DIR"])
import llmhost  # noqa: E402

PLUGINS = os.environ["LLMHOST_TEST_PLUGIN_DIR"]


def fnv1a64(s: str) -> str:
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


class CleanEnv:
    VARS = ["LLM_PROVIDER", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HOME",
            "OPENAI_API_KEY", "LLMHOST_CONFIG", "LLMHOST_PLUGIN_PATH", "HF_DEVICE"]

    def __enter__(self):
        self.saved = dict(os.environ)
        for v in self.VARS:
            os.environ.pop(v, None)
        self.tmp = tempfile.TemporaryDirectory()
        os.environ["HOME"] = self.tmp.name
        os.environ["XDG_CONFIG_HOME"] = os.path.join(self.tmp.name, ".config")
        self.cwd = os.getcwd()
        os.chdir(self.tmp.name)
        return self

    def __exit__(self, *exc):
        os.chdir(self.cwd)
        os.environ.clear()
        os.environ.update(self.saved)
        self.tmp.cleanup()


class PythonModuleTest(unittest.TestCase):
    def test_initialize_from_env_and_generate(self):
        with CleanEnv():
            token = "hf_" + "".join(random.choice(string.ascii_letters) for _ in range(34))
            os.environ["HF_TOKEN"] = token
            os.environ["LLM_PROVIDER"] = "huggingface"
            host = llmhost.initialize_from_env(plugin_dirs=[PLUGINS], default_plugin_dirs=False)
            self.assertEqual(host.default_provider(), "huggingface")
            pieces = []
            r = llmhost.generate("hello from python", on_token=pieces.append, max_tokens=2)
            self.assertEqual(pieces, ["hello ", "from "])
            self.assertEqual(r.text, "hello from ")
            self.assertEqual(r.finish_reason, "length")
            self.assertEqual(r.completion_tokens, 2)
            cfg = host.config()
            self.assertNotIn(token, json.dumps(cfg))
            self.assertEqual(cfg["providers"]["huggingface"]["secrets"]["token"],
                             "hf_…(set, from HF_TOKEN)")
            self.assertEqual(host.redact("x " + token), "x [redacted]")
            # the token reached the plugin (checked by hash, never printed)
            host.swap("huggingface", {"plugin": "huggingface", "config": {"report_secret": "token"}})
            r = host.generate("x")
            self.assertEqual(r.text, f"secret token: present fnv1a64={fnv1a64(token)}\nx")
            host.close()

    def test_open_config_providers_swap_errors(self):
        with CleanEnv() as env:
            path = os.path.join(env.tmp.name, "c.json")
            with open(path, "w") as f:
                json.dump({"default_provider": "e",
                           "providers": {"e": {"plugin": "echo", "config": {"prefix": "> "}}}}, f)
            logs = []
            with llmhost.open(path, plugin_dirs=[PLUGINS], default_plugin_dirs=False,
                              log_level=llmhost.LLMH_LOG_DEBUG) as host:
                host.on_log(lambda level, msg: logs.append(msg))
                self.assertEqual(host.generate("a b").text, "> a b")
                r = host.generate(messages=[{"role": "user", "content": "chat"}], stop=["at"])
                self.assertEqual(r.text, "> ch")
                self.assertEqual(r.finish_reason, "stop")
                self.assertEqual([p["name"] for p in host.providers()], ["e"])
                host.swap("e", {"plugin": "echo", "config": {"prefix": "new ", "instance_id": "9"}})
                self.assertEqual(host.generate("x", provider="e").text, "new x")
                self.assertEqual(host.models("e")[0]["id"], "echo:9")
                cancelled = host.generate("a b c d", on_token=lambda p: False)
                self.assertEqual(cancelled.finish_reason, "cancelled")
                with self.assertRaises(llmhost.Error) as cm:
                    host.swap("e", {"plugin": "echo", "config": {"fail_create": True}})
                self.assertEqual(cm.exception.code_name, "invalid_argument")
                self.assertIn("fail_create", cm.exception.hint)
                self.assertEqual(host.generate("x").text, "new x")
                with self.assertRaises(llmhost.Error) as cm:
                    host.generate("x", provider="nope")
                self.assertEqual(cm.exception.code_name, "no_provider")
                self.assertTrue(any("created instance '9'" in m for m in logs))
            with open(path, "w") as f:
                f.write('{"providers": {"e": {"plugn": "echo"}}}')
            with self.assertRaises(llmhost.Error) as cm:
                llmhost.open(path)
            self.assertIn(":1:", str(cm.exception))
            self.assertIn("did you mean 'plugin'?", str(cm.exception))
            self.assertEqual(cm.exception.code_name, "config")


if __name__ == "__main__":
    unittest.main(verbosity=2)
