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
            self.assertEqual(r.served_by, "huggingface")  # the provider itself (no route)
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


WEATHER = {"type": "function",
           "function": {"name": "get_weather", "description": "Current weather in a city",
                        "parameters": {"type": "object",
                                       "properties": {"city": {"type": "string"}},
                                       "required": ["city"]}}}


def get_time(city: str, utc_offset: int = 0) -> str:
    """The local time in a city.

    Args:
        city: the city's name
        utc_offset: hours from UTC
    """
    return f"12:00 in {city}"


class AgentFeaturesTest(unittest.TestCase):
    """ABI 2 features through the module, against the echo plugin's deterministic rules
    (examples/echo-plugin-c/echo.c): tool calls named in the user's text, tool-result sentences,
    reasoning, json_object."""

    def setUp(self):
        self.env = CleanEnv()
        self.env.__enter__()
        path = os.path.join(self.env.tmp.name, "c.json")
        with open(path, "w") as f:
            json.dump({"default_provider": "e",
                       "providers": {"e": {"plugin": "echo"}, "lim": {"plugin": "limited"}}}, f)
        self.host = llmhost.open(path, plugin_dirs=[PLUGINS], default_plugin_dirs=False)

    def tearDown(self):
        self.host.close()
        self.env.__exit__(None, None, None)

    def test_tool_call_round_trip_with_events(self):
        events = []
        messages = [{"role": "user", "content": 'Check get_weather {"city": "Paris"} please'}]
        r = self.host.generate(messages=messages, tools=[WEATHER], on_event=events.append)
        self.assertEqual(r.finish_reason, "tool_calls")
        self.assertEqual(r.text, "")
        self.assertEqual(len(r.tool_calls), 1)
        call = r.tool_calls[0]
        self.assertEqual((call["id"], call["name"]), ("call_1_0", "get_weather"))
        self.assertEqual(json.loads(call["arguments"]), {"city": "Paris"})
        self.assertEqual([e.type for e in events],
                         ["tool_call_start", "tool_call_args", "tool_call_args"])
        self.assertEqual((events[0].index, events[0].id, events[0].name), (0, "call_1_0", "get_weather"))
        self.assertEqual(events[1].text + events[2].text, call["arguments"])
        # The assistant message goes back as returned, then the tool's result.
        self.assertEqual(r.message["tool_calls"][0]["function"]["name"], "get_weather")
        messages += [r.message, {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
        pieces = []
        r2 = self.host.generate(messages=messages, tools=[WEATHER], on_token=pieces.append)
        self.assertEqual(r2.text, "The tool get_weather returned: sunny")
        self.assertEqual("".join(pieces), r2.text)
        self.assertEqual(r2.finish_reason, "stop")
        self.assertEqual(r2.tool_calls, [])
        # The flat form of Result.tool_calls (arguments as a dict even) is accepted as history.
        flat = [messages[0], {"role": "assistant", "content": None,
                              "tool_calls": [{"id": "c9", "name": "get_weather",
                                              "arguments": {"city": "Rome"}}]},
                {"role": "tool", "tool_call_id": "c9", "content": [{"type": "text", "text": "rain"}]}]
        self.assertEqual(self.host.generate(messages=flat, tools=[WEATHER]).text,
                         "The tool get_weather returned: rain")

    def test_tool_choice_and_parallel_calls(self):
        text = 'get_time {"city": "Oslo"} and get_weather {"city": "Lima"}'
        msgs = [{"role": "user", "content": text}]
        tools = [WEATHER, get_time]
        r = self.host.generate(messages=msgs, tools=tools)
        self.assertEqual([c["name"] for c in r.tool_calls], ["get_time", "get_weather"])
        self.assertEqual(r.tool_calls[1]["id"], "call_1_1")
        r = self.host.generate(messages=msgs, tools=tools, parallel_tool_calls=False)
        self.assertEqual([c["name"] for c in r.tool_calls], ["get_time"])
        r = self.host.generate(messages=msgs, tools=tools, tool_choice="get_weather")
        self.assertEqual([c["name"] for c in r.tool_calls], ["get_weather"])
        r = self.host.generate(messages=msgs, tools=tools,
                               tool_choice={"type": "function", "function": {"name": "get_time"}})
        self.assertEqual(json.loads(r.tool_calls[0]["arguments"]), {"city": "Oslo"})
        r = self.host.generate(messages=msgs, tools=tools, tool_choice="none")
        self.assertEqual((r.finish_reason, r.text), ("stop", text))
        plain = [{"role": "user", "content": "no names here"}]
        r = self.host.generate(messages=plain, tools=tools, tool_choice="required")
        self.assertEqual([(c["name"], c["arguments"]) for c in r.tool_calls], [("get_weather", "{}")])
        self.assertEqual(self.host.generate(messages=plain, tools=tools).text, "no names here")

    def test_function_tool_describes_a_python_function(self):
        t = llmhost.function_tool(get_time)
        fn = t["function"]
        self.assertEqual(fn["name"], "get_time")
        self.assertEqual(fn["description"], "The local time in a city.")
        self.assertEqual(fn["parameters"]["properties"],
                         {"city": {"type": "string", "description": "the city's name"},
                          "utc_offset": {"type": "integer", "description": "hours from UTC"}})
        self.assertEqual(fn["parameters"]["required"], ["city"])

    def test_reasoning_and_usage(self):
        msgs = [{"role": "user", "content": "two words"}]
        for kwargs in ({"reasoning": True}, {"reasoning": "on"}, {"reasoning_effort": "high"}):
            events = []
            r = self.host.generate(messages=msgs, on_event=events.append, **kwargs)
            self.assertEqual(r.reasoning, "Thinking about: two words")
            self.assertEqual(r.text, "two words")
            self.assertEqual(r.reasoning_tokens, 4)
            self.assertEqual(r.completion_tokens, 6)
            self.assertEqual(r.usage["reasoning_tokens"], 4)
            self.assertEqual(r.usage["total_tokens"], r.prompt_tokens + 6)
            self.assertEqual(r.message["reasoning_content"], r.reasoning)
            self.assertEqual(events[0].type, "reasoning")
            self.assertEqual(events[-1].type, "text")
        for off in (False, "off", None, "default"):
            r = self.host.generate(messages=msgs, reasoning=off)
            self.assertEqual((r.reasoning, r.reasoning_tokens), ("", 0))
        with self.assertRaises(llmhost.Error) as cm:
            self.host.generate(messages=msgs, reasoning="maybe")
        self.assertEqual(cm.exception.code_name, "invalid_argument")
        with self.assertRaises(llmhost.Error) as cm:
            self.host.generate(messages=msgs, reasoning=False, reasoning_effort="low")
        self.assertIn("reasoning is off", str(cm.exception))
        with self.assertRaises(llmhost.Error) as cm:
            self.host.generate(messages=msgs, reasoning_effort="extreme")
        self.assertEqual(cm.exception.code_name, "invalid_argument")

    def test_structured_output(self):
        r = self.host.generate('say "hi"', response_format={"type": "json_object"})
        self.assertEqual(json.loads(r.text), {"echo": 'say "hi"'})
        schema = {"type": "json_schema",
                  "json_schema": {"name": "w", "schema": {"type": "object"}}}
        with self.assertRaises(llmhost.Error) as cm:
            self.host.generate("x", response_format=schema)
        self.assertEqual(cm.exception.code_name, "unsupported")
        self.assertIn("json_schema is not supported", str(cm.exception))
        self.assertEqual(self.host.generate("x", response_format={"type": "text"}).text, "x")

    def test_cancel_from_on_event(self):
        r = self.host.generate("a b c d", on_event=lambda e: False)
        self.assertEqual(r.finish_reason, "cancelled")

        def boom(_e):
            raise KeyError("from the callback")
        with self.assertRaises(KeyError):
            self.host.generate("a b", on_event=boom)

    def test_a_plugin_without_the_capability_refuses(self):
        msgs = [{"role": "user", "content": "get_weather"}]
        for kwargs, field in (({"tools": [WEATHER]}, "tools"),
                              ({"response_format": {"type": "json_object"}}, "response_format"),
                              ({"reasoning": True}, "reasoning")):
            with self.assertRaises(llmhost.Error) as cm:
                self.host.generate(messages=msgs, provider="lim", **kwargs)
            self.assertEqual(cm.exception.code_name, "unsupported")
            self.assertIn("provider 'lim'", str(cm.exception))
            self.assertIn(field, str(cm.exception))
        self.assertEqual(self.host.generate(messages=msgs, provider="lim").text, "get_weather")

    def test_hostile_requests(self):
        user = {"role": "user", "content": "x"}
        bad = [
            {"tools": "get_weather"},
            {"tools": [42]},
            {"tools": [{"type": "retrieval"}]},
            {"tools": [{"type": "function", "function": {"name": "bad name"}}]},
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": [1]}}]},
            {"tools": [WEATHER, WEATHER]},
            {"tools": [WEATHER], "tool_choice": "not_a_tool"},
            {"tools": [WEATHER], "tool_choice": 5},
            {"tools": [WEATHER], "tool_choice": {"type": "function"}},
            {"tool_choice": "required"},
            {"messages": [{"content": "no role"}]},
            {"messages": "hello"},
            {"messages": [{"role": "user", "content": "nul\0inside"}]},
            {"messages": [{"role": "user", "content": "lone \ud800 surrogate"}]},
            {"messages": [{"role": "user", "content": 42}]},
            {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            {"messages": [user, {"role": "tool", "content": "42"}], "tools": [WEATHER]},
            {"messages": [user, {"role": "assistant", "tool_calls": "x"}]},
            {"response_format": {"type": "xml"}},
            {"response_format": {"type": "json_schema", "json_schema": {"schema": [1]}}},
        ]
        for kwargs in bad:
            with self.subTest(kwargs=kwargs):
                kwargs.setdefault("messages", [user])
                with self.assertRaises(llmhost.Error) as cm:
                    self.host.generate(**kwargs)
                self.assertIn(cm.exception.code_name, ("invalid_argument", "unsupported"))
                self.assertTrue(str(cm.exception))
        self.assertEqual(self.host.generate(messages=[user]).text, "x")


class GrammarTest(unittest.TestCase):
    """ABI 2.1's grammar= / regex= keyword arguments: they reach a plugin with the grammar
    capability (the recording fixture answers with the request it received), a plugin without it
    refuses them, and contradictory or malformed values are refused."""

    def setUp(self):
        self.env = CleanEnv()
        self.env.__enter__()
        path = os.path.join(self.env.tmp.name, "c.json")
        with open(path, "w") as f:
            json.dump({"default_provider": "rec",
                       "providers": {"rec": {"plugin": "recording"}, "e": {"plugin": "echo"}}}, f)
        self.host = llmhost.open(path, plugin_dirs=[PLUGINS], default_plugin_dirs=False)

    def tearDown(self):
        self.host.close()
        self.env.__exit__(None, None, None)

    def test_grammar_and_regex_arrive(self):
        seen = json.loads(self.host.generate("q").text)
        self.assertIsNone(seen["grammar"])
        self.assertIsNone(seen["regex"])
        seen = json.loads(self.host.generate("q", grammar='root ::= "é" | "no"').text)
        self.assertEqual(seen["grammar"], 'root ::= "é" | "no"')
        self.assertIsNone(seen["regex"])
        seen = json.loads(self.host.generate("q", regex="[0-9]{2}").text)
        self.assertEqual(seen["regex"], "[0-9]{2}")
        self.assertIsNone(seen["grammar"])

    def test_refusals(self):
        with self.assertRaises(llmhost.Error) as cm:
            self.host.generate("q", provider="e", grammar='root ::= "a"')
        self.assertEqual(cm.exception.code_name, "unsupported")
        self.assertIn("provider 'e'", str(cm.exception))
        self.assertIn("grammar", str(cm.exception))
        bad = [{"grammar": 'root ::= "a"', "regex": "a"},
               {"grammar": 'root ::= "a"', "response_format": {"type": "json_object"}},
               {"regex": "a", "tools": [WEATHER], "tool_choice": "required"},
               {"grammar": ""}, {"regex": ""}, {"grammar": 5}, {"regex": b"a"},
               {"grammar": "root ::= \0"}]
        for kwargs in bad:
            with self.subTest(kwargs=kwargs):
                with self.assertRaises(llmhost.Error) as cm:
                    self.host.generate("q", **kwargs)
                self.assertEqual(cm.exception.code_name, "invalid_argument")
        with self.assertRaises(llmhost.Error) as cm:
            self.host.generate("q", grammar='root ::= "a"', regex="a")
        self.assertIn("grammar", str(cm.exception))
        self.assertIn("regex", str(cm.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
