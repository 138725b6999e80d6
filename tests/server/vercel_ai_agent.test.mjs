// The Vercel AI SDK (`generateText` and `streamText` from `ai`, through `createOpenAICompatible`
// from `@ai-sdk/openai-compatible`) running a multi-step tool loop against `llmhost serve`: a zod
// inputSchema, an execute function, stopWhen: stepCountIs(5). On the echo provider and through
// the openai plugin to a replayed upstream (replay_upstream.mjs).
// Usage: node vercel_ai_agent.test.mjs <path to llmhost> <node_modules dir>. Exit 77 = skipped.
import assert from 'node:assert/strict';
import { importPackages, runner, startAgentServe } from './agent_harness.mjs';
import { RECORDED_ANSWER, RECORDED_CALL_ID } from './replay_upstream.mjs';

const [llmhostBin, nodeModules] = process.argv.slice(2);
const mods = await importPackages(nodeModules, ['ai', '@ai-sdk/openai-compatible', 'zod']);
const { generateText, streamText, tool, stepCountIs } = mods.ai;
const { createOpenAICompatible } = mods['@ai-sdk/openai-compatible'];
const { z } = mods.zod;

const env = await startAgentServe(llmhostBin);
const llmhost = createOpenAICompatible({ name: 'llmhost', baseURL: env.baseURL, apiKey: 'unused', includeUsage: true });
const t = runner();
const ask = 'What is the weather? get_weather {"city": "Paris"}';

function weatherTool(executed) {
  return tool({
    description: 'The current weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      executed.push(city);
      return { temp_c: 18, sky: 'sunny' };
    },
  });
}

function checkSteps(model, result, executed) {
  assert.deepEqual(executed, ['Paris']);
  assert.equal(result.steps.length, 2); // the call, then the answer
  const first = result.steps[0];
  assert.equal(first.finishReason, 'tool-calls');
  assert.equal(first.toolCalls.length, 1);
  assert.equal(first.toolCalls[0].toolName, 'get_weather');
  assert.equal(first.toolCalls[0].toolCallId, model === 'up' ? RECORDED_CALL_ID : 'call_1_0');
  assert.deepEqual(first.toolCalls[0].input, { city: 'Paris' });
  assert.deepEqual(first.toolResults[0].output, { temp_c: 18, sky: 'sunny' });
  assert.equal(result.steps[1].finishReason, 'stop');
}

for (const model of ['echo', 'up']) {
  // What the final step answers: echo repeats the tool message it got (the SDK sends the
  // execute result as JSON text), the replayed upstream its recorded answer.
  const answer = (text) => {
    if (model === 'up') assert.equal(text, RECORDED_ANSWER);
    else assert.match(text, /^The tool get_weather returned: .*"temp_c":\s*18.*"sky":\s*"sunny"/);
  };

  await t.test(`${model}: generateText with tools runs the tool and answers in the next step`, async () => {
    const executed = [];
    const result = await generateText({
      model: llmhost.chatModel(model), tools: { get_weather: weatherTool(executed) }, stopWhen: stepCountIs(5),
      prompt: ask, maxRetries: 0,
    });
    checkSteps(model, result, executed);
    answer(result.text);
    assert.ok(result.totalUsage.inputTokens > 0, 'usage reaches the SDK');
  });

  await t.test(`${model}: streamText with tools, the same loop streamed`, async () => {
    const executed = [];
    const result = streamText({
      model: llmhost.chatModel(model), tools: { get_weather: weatherTool(executed) }, stopWhen: stepCountIs(5),
      prompt: ask, maxRetries: 0,
    });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    checkSteps(model, { steps: await result.steps }, executed);
    answer(text);
    assert.equal(await result.text, text);
  });
}

await env.stop();
console.log(t.failures ? `${t.failures} failed` : 'all passed');
process.exit(t.failures ? 1 : 0);
