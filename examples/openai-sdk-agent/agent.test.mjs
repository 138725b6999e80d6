// Runs the example agent against a real `llmhost serve` over the echo provider, whose tool rules
// are deterministic (examples/echo-plugin-c/echo.c): it calls a tool named in the user's text with
// the JSON object after the name, and answers a tool result with "The tool <fn> returned: <content>".
// Checks that the JavaScript function really ran with the model's arguments and that the final
// answer carries its result; and that bad calls become error text the model reads.
// Usage: node agent.test.mjs <path to llmhost> <node_modules dir>. Exit 77 = skipped.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const [llmhostBin, nodeModulesArg] = process.argv.slice(2);
const nodeModules = resolve(nodeModulesArg);
if (!existsSync(join(nodeModules, 'openai'))) {
  console.log(`skipped: the openai npm package is not installed in ${nodeModules}`);
  process.exit(77);
}
const { default: OpenAI } = await import(pathToFileURL(join(nodeModules, 'openai', 'index.mjs')).href);
const { startServe } = await import(pathToFileURL(join(here, '..', '..', 'tests', 'server', 'serve_process.mjs')).href);
const server = await startServe(llmhostBin, { providers: { echo: { plugin: 'echo' } } }, { LLMHOST_API_KEYS: 'agent-key' });
// agent.mjs imports 'openai' by name, as a user's script does: run a copy of it next to a
// node_modules that links the test peers' package (nothing is written into the source tree).
const dir = mkdtempSync(join(tmpdir(), 'llmhost-agent-'));
try {
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(join(nodeModules, 'openai'), join(dir, 'node_modules', 'openai'));
  copyFileSync(join(here, 'agent.mjs'), join(dir, 'agent.mjs'));
  const { runAgent, callTool } = await import(pathToFileURL(join(dir, 'agent.mjs')).href);
  const client = new OpenAI({ apiKey: 'agent-key', baseURL: `http://127.0.0.1:${server.port}/v1`, maxRetries: 0 });
  const ran = [];
  const tools = {
    get_weather: {
      description: 'The current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      run: ({ city }) => { ran.push(city); return { city, sky: 'sunny', celsius: 21 }; },
    },
  };
  let streamed = '';
  const seen = [];
  const { answer, messages } = await runAgent({
    client, model: 'echo', task: 'How is it outside? get_weather {"city": "Paris"}', tools,
    onToken: (t) => { streamed += t; }, onTool: (name, args, out) => seen.push([name, JSON.parse(args), out]),
  });
  const expected = JSON.stringify({ city: 'Paris', sky: 'sunny', celsius: 21 });
  assert.deepEqual(ran, ['Paris']); // the function ran, with the model's arguments
  assert.deepEqual(seen, [['get_weather', { city: 'Paris' }, expected]]);
  assert.equal(answer, `The tool get_weather returned: ${expected}`);
  assert.equal(streamed, answer + '\n');
  assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'assistant']);
  assert.equal(messages[3].tool_call_id, messages[2].tool_calls[0].id);

  // The example's own tools, really run.
  let r = await runAgent({ client, model: 'echo', task: 'add {"a": 2.5, "b": 4}' });
  assert.equal(r.answer, 'The tool add returned: 6.5');
  r = await runAgent({ client, model: 'echo', task: 'get_time {"timezone": "UTC"}' });
  assert.match(r.answer, /^The tool get_time returned: .* \(UTC\)$/);

  // Untrusted calls: missing argument, a function that throws, an unknown function.
  r = await runAgent({ client, model: 'echo', task: 'get_weather {"town": "Paris"}', tools });
  assert.equal(r.answer, 'The tool get_weather returned: error: get_weather: missing required argument "city"');
  assert.deepEqual(ran, ['Paris']);
  r = await runAgent({ client, model: 'echo', task: 'get_time {"timezone": "Not/AZone"}' });
  assert.match(r.answer, /^The tool get_time returned: error: get_time failed: /);
  assert.equal(await callTool(tools, 'rm_rf', '{}'), 'error: there is no tool named "rm_rf"');
  assert.equal(await callTool(tools, 'get_weather', '[1]'), 'error: the arguments must be a JSON object');
  assert.match(await callTool(tools, 'get_weather', '{oops'), /^error: the arguments are not valid JSON/);
  assert.match(await callTool(tools, 'constructor', '{}'), /^error: there is no tool named/);

  // No tool named: a plain answer in one step.
  r = await runAgent({ client, model: 'echo', task: 'just talk' });
  assert.equal(r.answer, 'just talk');
  console.log('openai-sdk-agent: the model called get_weather through llmhost serve, the function ran, the answer used its result');
} finally {
  rmSync(dir, { recursive: true, force: true });
  const { code } = await server.stop();
  assert.equal(code, 0);
}
