"""Runs the example agent end to end on the echo plugin, whose tool rules are deterministic
(examples/echo-plugin-c/echo.c): it calls a tool named in the user's text with the JSON object
after the name, and answers a tool result with "The tool <fn> returned: <content>".
Checks that the Python function really ran, with the model's arguments, and that the final
answer carries its result; and that a bad call becomes an error the model reads.
Usage: python3 test_agent.py <libllmhost.so> <dir of llmhost.py> <plugin dir with echo>
"""
import json
import os
import sys
import tempfile

libllmhost, python_dir, plugin_dir = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
os.environ["LLMHOST_LIBRARY"] = libllmhost
sys.path[:0] = [python_dir, here]
import agent  # noqa: E402
import llmhost  # noqa: E402

ran = []


def get_weather(city: str, unit: str = "C") -> dict:
    """The current weather in a city.

    Args:
        city: the city's name
        unit: "C" or "F"
    """
    ran.append((city, unit))
    return {"city": city, "sky": "sunny", "temperature": 21 if unit == "C" else 70}


with tempfile.TemporaryDirectory() as tmp:
    config = os.path.join(tmp, "llmhost.json")
    with open(config, "w") as f:
        json.dump({"default_provider": "echo", "providers": {"echo": {"plugin": "echo"}}}, f)
    with llmhost.open(config, plugin_dirs=[plugin_dir], default_plugin_dirs=False) as host:
        tools_seen = []
        bot = agent.Agent(host, [get_weather, agent.get_time, agent.add])
        answer = bot.run('How is it outside? get_weather {"city": "Paris"}',
                         on_tool=lambda name, args, out: tools_seen.append((name, out)))
        assert ran == [("Paris", "C")], f"the function did not run as asked: {ran}"
        expected = json.dumps(get_weather("Paris"))
        ran.clear()
        assert answer == f"The tool get_weather returned: {expected}", answer
        assert tools_seen == [("get_weather", expected)], tools_seen
        roles = [m["role"] for m in bot.messages]
        assert roles == ["user", "assistant", "tool", "assistant"], roles
        assert bot.messages[1]["tool_calls"][0]["function"]["name"] == "get_weather"
        assert bot.messages[2]["tool_call_id"] == bot.messages[1]["tool_calls"][0]["id"]

        # The example's own tools, really run: arithmetic and the clock.
        answer = bot.run('add {"a": 2.5, "b": 4} please')
        assert answer == "The tool add returned: 6.5", answer
        answer = bot.run('get_time {"timezone": "UTC"}')
        assert answer.startswith("The tool get_time returned: ") and answer.endswith("(UTC)"), answer

        # The model's arguments are untrusted: wrong ones reach the model as an error text, the
        # function does not run, the loop goes on to an answer.
        answer = bot.run('get_weather {"town": "Paris"}')
        assert ran == [], ran
        assert answer.startswith("The tool get_weather returned: error: get_weather: "), answer
        answer = bot.run('get_time {"timezone": "Not/AZone"}')
        assert "error: get_time failed: ZoneInfoNotFoundError" in answer, answer
        assert bot.call_tool("rm_rf", "{}") == "error: there is no tool named 'rm_rf'"
        assert bot.call_tool("add", "[1, 2]") == "error: the arguments must be a JSON object"
        assert bot.call_tool("add", "{not json").startswith("error: the arguments are not valid JSON")

        # No tool named: a plain answer in one step.
        assert bot.run("just talk") == "just talk"
        assert [m["role"] for m in bot.messages] == ["user", "assistant"]

print("python-agent: the model called get_weather, the function ran, the answer used its result")
