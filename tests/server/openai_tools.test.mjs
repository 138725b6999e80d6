// The official `openai` npm SDK doing tool calls, reasoning and include_usage against
// `llmhost serve`: once on the echo provider (its deterministic agent rules), once through the
// openai plugin to an upstream that replays recorded OpenAI streams (replay_upstream.mjs).
// Usage: node openai_tools.test.mjs <path to llmhost> <node_modules dir>. Exit 77 = skipped.
import assert from 'node:assert/strict';
import { importPackages, runner, startAgentServe } from './agent_harness.mjs';
import { RECORDED_ANSWER, RECORDED_CALL_ID } from './replay_upstream.mjs';

const [llmhostBin, nodeModules] = process.argv.slice(2);
const { openai: { default: OpenAI } } = await importPackages(nodeModules, ['openai']);
const env = await startAgentServe(llmhostBin);
const client = new OpenAI({ apiKey: 'unused', baseURL: env.baseURL, maxRetries: 0 });
const t = runner();

const tools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}];
const ask = 'What is the weather? get_weather {"city": "Paris"}';

// Collects a streamed answer the way an agent does: content, reasoning, calls by index, usage.
async function collect(stream) {
  const out = { content: '', reasoning: '', calls: [], finish: null, usage: null, firstDeltas: [] };
  for await (const chunk of stream) {
    if (chunk.usage) out.usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    if (c.finish_reason) out.finish = c.finish_reason;
    out.content += c.delta.content ?? '';
    out.reasoning += c.delta.reasoning_content ?? '';
    for (const tc of c.delta.tool_calls ?? []) {
      if (tc.id) {
        out.firstDeltas.push(tc);
        out.calls[tc.index] = { id: tc.id, name: tc.function.name, arguments: '' };
      }
      out.calls[tc.index].arguments += tc.function?.arguments ?? '';
    }
  }
  return out;
}

for (const model of ['echo', 'up']) {
  const viaOpenai = model === 'up';
  const expectedArgs = viaOpenai ? '{"city":"Paris"}' : '{"city": "Paris"}';
  const expectedId = viaOpenai ? RECORDED_CALL_ID : 'call_1_0';

  await t.test(`${model}: a tool call, not streamed, then the tool result turn`, async () => {
    const messages = [{ role: 'user', content: ask }];
    const r = await client.chat.completions.create({ model, messages, tools });
    const m = r.choices[0].message;
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.equal(m.content, null);
    assert.equal(m.tool_calls.length, 1);
    assert.equal(m.tool_calls[0].type, 'function');
    assert.equal(m.tool_calls[0].id, expectedId);
    assert.equal(m.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(m.tool_calls[0].function.arguments), { city: 'Paris' });
    messages.push(m, { role: 'tool', tool_call_id: m.tool_calls[0].id, content: '{"temp_c":18,"sky":"sunny"}' });
    const r2 = await client.chat.completions.create({ model, messages, tools });
    assert.equal(r2.choices[0].finish_reason, 'stop');
    assert.equal(r2.choices[0].message.content,
      viaOpenai ? RECORDED_ANSWER : 'The tool get_weather returned: {"temp_c":18,"sky":"sunny"}');
  });

  await t.test(`${model}: a tool call, streamed with include_usage`, async () => {
    const stream = await client.chat.completions.create({
      model, messages: [{ role: 'user', content: ask }], tools, stream: true, stream_options: { include_usage: true },
    });
    const r = await collect(stream);
    assert.equal(r.finish, 'tool_calls');
    assert.equal(r.content, '');
    assert.equal(r.calls.length, 1);
    assert.equal(r.calls[0].id, expectedId);
    assert.equal(r.calls[0].name, 'get_weather');
    assert.equal(r.calls[0].arguments, expectedArgs);
    // The call's first delta: id, type, name and empty arguments (the SDK's accumulators need it).
    assert.equal(r.firstDeltas[0].type, 'function');
    assert.equal(r.firstDeltas[0].function.arguments, '');
    assert.ok(r.usage, 'include_usage: a usage chunk');
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    if (viaOpenai) assert.equal(r.usage.completion_tokens, 15);
    else assert.equal(r.usage.completion_tokens, 2);
  });

  await t.test(`${model}: the SDK's stream helper assembles the call`, async () => {
    const runner = client.chat.completions.stream({ model, messages: [{ role: 'user', content: ask }], tools });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0].message.tool_calls[0];
    assert.equal(call.function.name, 'get_weather');
    assert.equal(call.function.arguments, expectedArgs);
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
  });

  await t.test(`${model}: reasoning_content, streamed and not, with reasoning tokens in usage`, async () => {
    const messages = [{ role: 'user', content: 'Which is larger, 9.11 or 9.8?' }];
    const r = await client.chat.completions.create({ model, messages, reasoning_effort: 'low' });
    const m = r.choices[0].message;
    const expectedReasoning = viaOpenai ? 'The user asks 9.11 vs 9.8. 9.8 = 9.80, and 80 > 11.'
      : 'Thinking about: Which is larger, 9.11 or 9.8?';
    assert.equal(m.reasoning_content, expectedReasoning);
    assert.equal(m.content, viaOpenai ? '9.8 is larger.' : 'Which is larger, 9.11 or 9.8?');
    assert.equal(r.usage.completion_tokens_details.reasoning_tokens, viaOpenai ? 19 : 8);
    const s = await collect(await client.chat.completions.create({
      model, messages, reasoning_effort: 'high', stream: true, stream_options: { include_usage: true },
    }));
    assert.equal(s.reasoning, expectedReasoning);
    assert.equal(s.content, m.content);
    assert.equal(s.finish, 'stop');
    assert.equal(s.usage.completion_tokens_details.reasoning_tokens, viaOpenai ? 19 : 8);
  });
}

await t.test('up: the plugin forwarded the tools, the assistant call and the tool result upstream', async () => {
  const withTool = env.upstream.requests.find((q) => q.messages.at(-1).role === 'tool');
  assert.ok(withTool, 'a request ending in a tool message reached the upstream');
  assert.equal(withTool.tools[0].function.name, 'get_weather');
  const assistant = withTool.messages.at(-2);
  assert.equal(assistant.role, 'assistant');
  assert.equal(assistant.tool_calls[0].id, RECORDED_CALL_ID);
  assert.equal(assistant.tool_calls[0].function.name, 'get_weather');
  assert.equal(withTool.messages.at(-1).tool_call_id, RECORDED_CALL_ID);
});

await t.test('a malformed tool is a 400 the SDK raises as BadRequestError naming the param', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'bad name!' } }] }),
    (e) => e.status === 400 && e.param === 'tools[0].function.name');
});

await env.stop();
console.log(t.failures ? `${t.failures} failed` : 'all passed');
process.exit(t.failures ? 1 : 0);
