// Structured output through the official `openai` npm SDK against `llmhost serve` on the
// huggingface provider with tiny RANDOM-weight models (issue 12): chat.completions.parse with a
// zod schema (zodResponseFormat) gets a parsed object, a named tool_choice with a zodFunction
// tool gets arguments that parse and match, the llmhost `grammar` / `regex` extensions travel as
// extra body fields, and an unsupported schema keyword is a 400 BadRequestError naming it.
// A random model follows none of this by itself: guided decoding is what is tested.
// Usage: node openai_structured.test.mjs <llmhost> <llmhost-tiny-model> <node_modules> [unused]
// Exit 77 = skipped (a package or a tokenizer is missing).
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { startServe } from './serve_process.mjs';
import { writeTinyModel } from './tiny_hf_model.mjs';

const [llmhostBin, tinyModelBin, nodeModules] = process.argv.slice(2);
for (const p of ['openai', 'zod']) {
  if (!existsSync(join(nodeModules, p))) {
    console.log(`skipped: the ${p} npm package is not installed in ${nodeModules} (scripts/deps.sh installs it)`);
    process.exit(77);
  }
}
// One module system for the SDK's zod helper and zod itself, so both see the same zod classes.
const require = createRequire(join(nodeModules, 'noop.js'));
const { default: OpenAI } = require('openai');
const { zodResponseFormat, zodFunction } = require('openai/helpers/zod');
const { z } = require('zod');

const llama = writeTinyModel(tinyModelBin, nodeModules, 'llama3_1', { maxPos: 2048 });
const qwen = writeTinyModel(tinyModelBin, nodeModules, 'qwen3', { arch: 'qwen3', seed: 78, maxPos: 2048 });
for (const m of [llama, qwen]) if (!m.dir) { console.log(`skipped: ${m.why}`); process.exit(77); }

const hf = (dir) => ({ plugin: 'huggingface', config: { model_path: dir, device: 'cpu', max_context: 2048 } });
const server = await startServe(llmhostBin, { providers: { llama: hf(llama.dir), qwen: hf(qwen.dir) } });
const client = new OpenAI({ apiKey: 'unused', baseURL: `http://127.0.0.1:${server.port}/v1`, maxRetries: 0 });
let failures = 0;
async function test(name, fn) {
  try { await fn(); console.log(`ok   ${name}`); } catch (e) { failures++; console.log(`FAIL ${name}\n${e.stack}`); }
}

// Bounded on purpose: parse() throws LengthFinishReasonError on finish "length", so the object
// must END by itself (bounded strings, enums, ranges, maxItems) within max_tokens. The budget is
// large because generation allows whitespace as JSON does (runs of at most 64 bytes between any
// two JSON tokens) and a random model picks whitespace tokens most of the time: these answers
// take 200-300 tokens, ~30 of them not whitespace.
const Person = z.object({
  name: z.string().max(12),
  age: z.number().int().min(0).max(120),
  role: z.enum(['admin', 'user', 'guest']),
  tags: z.array(z.enum(['a', 'b', 'c'])).max(3),
  manager: z.object({ name: z.string().max(8) }).nullable(),
});

for (const seed of [1, 2, 3]) {
  await test(`chat.completions.parse + zodResponseFormat (seed ${seed})`, async () => {
    const r = await client.chat.completions.parse({
      model: 'llama', messages: [{ role: 'user', content: 'Describe a person.' }],
      response_format: zodResponseFormat(Person, 'person'), temperature: 1, seed, max_tokens: 600,
    });
    const msg = r.choices[0].message;
    assert.equal(r.choices[0].finish_reason, 'stop', msg.content);
    assert.ok(msg.parsed, `message.parsed is ${msg.parsed} for ${msg.content}`);
    assert.deepEqual(Person.parse(msg.parsed), msg.parsed); // throws if it does not match
    assert.deepEqual(JSON.parse(msg.content), msg.parsed);
  });
}

const Weather = z.object({
  city: z.string().max(16),
  unit: z.enum(['celsius', 'fahrenheit']),
  days: z.number().int().min(1).max(7),
});
const Search = z.object({ query: z.string() });
for (const seed of [1, 2]) {
  await test(`tool_choice named function with zodFunction tools (qwen3, seed ${seed})`, async () => {
    const r = await client.chat.completions.parse({
      model: 'qwen', messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [zodFunction({ name: 'search', parameters: Search }), zodFunction({ name: 'get_weather', parameters: Weather })],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      temperature: 1, seed, max_tokens: 600,
    });
    const msg = r.choices[0].message;
    assert.equal(r.choices[0].finish_reason, 'tool_calls', JSON.stringify(msg));
    assert.equal(msg.tool_calls?.length, 1, JSON.stringify(msg));
    const call = msg.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    const args = JSON.parse(call.function.arguments);
    assert.deepEqual(Weather.parse(args), args);
    assert.deepEqual(call.function.parsed_arguments, args);
  });
}

await test('tool_choice "required" picks one of the tools with valid arguments (qwen3)', async () => {
  const r = await client.chat.completions.create({
    model: 'qwen', messages: [{ role: 'user', content: 'Do something.' }],
    tools: [zodFunction({ name: 'search', parameters: z.object({ query: z.string().max(20) }) }),
      zodFunction({ name: 'get_weather', parameters: Weather })],
    tool_choice: 'required', temperature: 1, seed: 5, max_tokens: 600,
  });
  const call = r.choices[0].message.tool_calls?.[0];
  assert.ok(call, JSON.stringify(r.choices[0].message));
  const args = JSON.parse(call.function.arguments);
  if (call.function.name === 'get_weather') Weather.parse(args);
  else { assert.equal(call.function.name, 'search'); z.object({ query: z.string().max(20) }).strict().parse(args); }
});

await test('grammar (GBNF) as an extra body field', async () => {
  const grammar = 'root ::= "order " num " " item\nnum ::= [1-9] [0-9]?\nitem ::= "apple" | "pear" | "plum"';
  for (const seed of [1, 2, 3]) {
    const r = await client.chat.completions.create({
      model: 'llama', messages: [{ role: 'user', content: 'Order fruit.' }], grammar, temperature: 1, seed, max_tokens: 32,
    });
    assert.match(r.choices[0].message.content, /^order [1-9][0-9]? (apple|pear|plum)$/);
    assert.equal(r.choices[0].finish_reason, 'stop');
  }
});

await test('regex as an extra body field', async () => {
  const r = await client.chat.completions.create({
    model: 'llama', messages: [{ role: 'user', content: 'A code.' }], regex: '[A-Z]{3}-[0-9]{4}', temperature: 1, seed: 9, max_tokens: 32,
  });
  assert.match(r.choices[0].message.content, /^[A-Z]{3}-[0-9]{4}$/);
});

await test('an unsupported schema keyword is a 400 BadRequestError naming it', async () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } }, minProperties: 1, additionalProperties: false };
  await assert.rejects(client.chat.completions.create({
    model: 'llama', messages: [{ role: 'user', content: 'x' }], max_tokens: 16,
    response_format: { type: 'json_schema', json_schema: { name: 'h', schema, strict: true } },
  }), (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /minProperties/.test(e.message));
  // the same through parse() and a zod schema: .multipleOf() is JSON Schema's multipleOf
  await assert.rejects(client.chat.completions.parse({
    model: 'llama', messages: [{ role: 'user', content: 'x' }], max_tokens: 16,
    response_format: zodResponseFormat(z.object({ n: z.number().multipleOf(5) }), 'h'),
  }), (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /multipleOf/.test(e.message)
    && /\/properties\/n\/multipleOf/.test(e.message));
});

await test('a malformed grammar is a 400 BadRequestError, not a 200', async () => {
  await assert.rejects(client.chat.completions.create({
    model: 'llama', messages: [{ role: 'user', content: 'x' }], max_tokens: 8, grammar: 'root ::= ( "a"',
  }), (e) => e instanceof OpenAI.BadRequestError && /grammar/.test(e.message));
});

await server.stop();
for (const m of [llama, qwen]) rmSync(dirname(m.dir), { recursive: true, force: true });
if (failures) { console.log(`${failures} test(s) failed`); process.exit(1); }
