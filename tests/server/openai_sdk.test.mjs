// llmhost serve against the official `openai` npm SDK: streaming and not, the stream helper,
// legacy completions, model listing, errors (bad model, bad request, wrong key) and SIGTERM.
// Usage: node openai_sdk.test.mjs <path to llmhost> <node_modules dir>. Exit 77 = skipped.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { startServe } from './serve_process.mjs';

const [llmhostBin, nodeModules] = process.argv.slice(2);
const pkg = join(nodeModules, 'openai');
if (!existsSync(pkg)) {
  console.log(`skipped: the openai npm package is not installed in ${nodeModules} (scripts/deps.sh installs it)`);
  process.exit(77);
}
const { default: OpenAI } = await import(pathToFileURL(join(pkg, 'index.mjs')).href);

// A fake upstream OpenAI endpoint with logprobs, behind provider "up" (the openai plugin).
const entry = (token, logprob) => ({ token, logprob, bytes: [...Buffer.from(token)],
  top_logprobs: [{ token, logprob, bytes: [...Buffer.from(token)] }] });
const upstream = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    if (req.url.endsWith('/models')) {
      res.setHeader('Content-Type', 'application/json');
      return res.end(JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model', created: 0, owned_by: 'x' }] }));
    }
    const q = JSON.parse(body);
    const lp = q.logprobs ? { content: [entry('Hi', -0.25), entry(' there', -0.5)], refusal: null } : null;
    if (q.stream) {
      res.setHeader('Content-Type', 'text/event-stream');
      const chunk = (delta, logprobs, finish) => `data: ${JSON.stringify({ id: 'u', object: 'chat.completion.chunk', created: 1, model: 'm',
        choices: [{ index: 0, delta, logprobs, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }, null, null));
      res.write(chunk({ content: 'Hi' }, lp && { content: [lp.content[0]], refusal: null }, null));
      res.write(chunk({ content: ' there' }, lp && { content: [lp.content[1]], refusal: null }, null));
      res.write(chunk({}, null, 'stop'));
      return res.end('data: [DONE]\n\n');
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ id: 'u', object: 'chat.completion', created: 1, model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there' }, logprobs: lp, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }));
  });
});
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const up = { plugin: 'openai', config: { base_url: `http://127.0.0.1:${upstream.address().port}/v1`, model: 'm', max_retries: 0 } };

const echo = (prefix) => ({ plugin: 'echo', config: { prefix } });
const server = await startServe(llmhostBin, { providers: { echo: echo(''), echo2: echo('TWO '), up } },
  { LLMHOST_API_KEYS: 'sdk-key-1,sdk-key-2' });
const baseURL = `http://127.0.0.1:${server.port}/v1`;
const client = new OpenAI({ apiKey: 'sdk-key-2', baseURL, maxRetries: 0 });
let failures = 0;
async function test(name, fn) {
  try { await fn(); console.log(`ok   ${name}`); } catch (e) { failures++; console.log(`FAIL ${name}\n${e.stack}`); }
}

await test('models.list', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.ok(ids.some((id) => id.startsWith('echo')), ids.join(','));
  assert.ok(ids.some((id) => id.startsWith('echo2')), ids.join(','));
});

await test('chat.completions.create (non-streaming)', async () => {
  const r = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'hello from node' }] });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.content, 'hello from node');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.total_tokens > 0);
});

await test('chat.completions.create (streaming, include_usage)', async () => {
  const stream = await client.chat.completions.create({
    model: 'echo2', messages: [{ role: 'user', content: 'streamed words here' }], stream: true,
    stream_options: { include_usage: true },
  });
  let text = ''; let finish = null; let usage = null; let chunks = 0;
  for await (const c of stream) {
    chunks++;
    if (c.choices.length) { text += c.choices[0].delta.content ?? ''; finish = c.choices[0].finish_reason ?? finish; }
    if (c.usage) usage = c.usage;
  }
  assert.equal(text, 'TWO streamed words here');
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.completion_tokens >= 3);
  assert.ok(chunks >= 5);
});

await test('chat.completions.stream helper (checks role and finish_reason)', async () => {
  const s = client.chat.completions.stream({ model: 'echo', messages: [{ role: 'user', content: 'helper works' }] });
  const final = await s.finalChatCompletion();
  assert.equal(final.choices[0].message.content, 'helper works');
  assert.equal(final.choices[0].message.role, 'assistant');
});

await test('completions.create (legacy)', async () => {
  const r = await client.completions.create({ model: 'echo', prompt: 'legacy prompt', max_tokens: 10 });
  assert.equal(r.choices[0].text, 'legacy prompt');
});

await test('unknown model -> NotFoundError 404', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'nosuch/model', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && /nosuch\/model/.test(e.message));
});

await test('invalid parameter -> BadRequestError 400 naming the param', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x' }], n: 3 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'n');
});

await test('bad JSON -> 400 with the error envelope', async () => {
  const r = await fetch(`${baseURL}/chat/completions`, {
    method: 'POST', headers: { Authorization: 'Bearer sdk-key-1', 'Content-Type': 'application/json' }, body: '{"model":',
  });
  assert.equal(r.status, 400);
  const j = await r.json();
  for (const k of ['message', 'type', 'param', 'code']) assert.ok(k in j.error, k);
});

await test('wrong key -> AuthenticationError 401', async () => {
  const bad = new OpenAI({ apiKey: 'not-a-key', baseURL, maxRetries: 0 });
  await assert.rejects(bad.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === 'invalid_api_key');
});

await test('models.retrieve: an id from models.list (with "/") - unknown -> NotFoundError', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  for (const id of ids) {
    const m = await client.models.retrieve(id);
    assert.equal(m.id, id);
    assert.equal(m.object, 'model');
  }
  assert.ok(ids.includes('up/m'), ids.join(','));
  await assert.rejects(client.models.retrieve('echo/no-such-model'),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404);
});

await test('logprobs (non-streaming) through the openai plugin', async () => {
  const r = await client.chat.completions.create({ model: 'up', messages: [{ role: 'user', content: 'x' }],
    logprobs: true, top_logprobs: 1 });
  const c = r.choices[0].logprobs.content;
  assert.deepEqual(c.map((e) => e.token), ['Hi', ' there']);
  assert.equal(c[0].logprob, -0.25);
  assert.deepEqual(c[1].bytes, [...Buffer.from(' there')]);
  assert.equal(c[0].top_logprobs.length, 1);
});

await test('logprobs (streaming, the stream helper accumulates them)', async () => {
  const s = client.chat.completions.stream({ model: 'up', messages: [{ role: 'user', content: 'x' }],
    logprobs: true, top_logprobs: 1 });
  const final = await s.finalChatCompletion();
  assert.equal(final.choices[0].message.content, 'Hi there');
  assert.deepEqual(final.choices[0].logprobs.content.map((e) => e.token), ['Hi', ' there']);
});

await test('what echo cannot honour -> BadRequestError, never ignored', async () => {
  const base = { model: 'echo', messages: [{ role: 'user', content: 'x' }] };
  await assert.rejects(client.chat.completions.create({ ...base, logprobs: true }),
    (e) => e instanceof OpenAI.BadRequestError && e.code === 'unsupported' && /logprobs/.test(e.message));
  // echo honours json_object but not json_schema (examples/echo-plugin-c/echo.c).
  await assert.rejects(client.chat.completions.create({ ...base,
    response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object' } } } }),
    (e) => e instanceof OpenAI.BadRequestError && e.code === 'unsupported' && /json_schema/.test(e.message));
  await assert.rejects(client.chat.completions.create({ ...base,
    tools: [{ type: 'function', function: { name: 'f', parameters: 'not a schema' } }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'tools[0].function.parameters');
  // llmhost's grammar/regex extensions travel as extra body fields; echo lacks the capability.
  await assert.rejects(client.chat.completions.create({ ...base, grammar: 'root ::= "x"' }),
    (e) => e instanceof OpenAI.BadRequestError && e.code === 'unsupported' &&
      /provider 'echo'/.test(e.message) && /grammar/.test(e.message));
  await assert.rejects(client.chat.completions.create({ ...base, regex: 42 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'regex');
});

await test('legacy completions honour max_tokens', async () => {
  const r = await client.completions.create({ model: 'echo', prompt: 'one two three four five', max_tokens: 2 });
  assert.equal(r.choices[0].text, 'one two ');
  assert.equal(r.choices[0].finish_reason, 'length');
});

await test('SIGTERM stops the server cleanly', async () => {
  const { code } = await server.stop('SIGTERM');
  assert.equal(code, 0, server.log());
  assert.ok(!server.log().includes('sdk-key'), 'a key leaked into the log');
});

upstream.close();
if (failures) { console.log(`${failures} test(s) failed`); process.exit(1); }
console.log('all openai SDK tests passed');
