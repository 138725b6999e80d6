// LangChain JS (@langchain/openai ChatOpenAI.bindTools) running an agent loop against
// `llmhost serve`: the model calls get_weather, the loop executes it and sends a ToolMessage back,
// until a final answer. On the echo provider and through the openai plugin to a replayed
// upstream (replay_upstream.mjs), non-streamed and streamed.
// Usage: node langchain_agent.test.mjs <path to llmhost> <node_modules dir>. Exit 77 = skipped.
import assert from 'node:assert/strict';
import { importPackages, runner, startAgentServe } from './agent_harness.mjs';
import { RECORDED_ANSWER, RECORDED_CALL_ID } from './replay_upstream.mjs';

const [llmhostBin, nodeModules] = process.argv.slice(2);
const mods = await importPackages(nodeModules,
  ['@langchain/openai', '@langchain/core/messages', '@langchain/core/tools', 'zod']);
const { ChatOpenAI } = mods['@langchain/openai'];
const { HumanMessage, ToolMessage } = mods['@langchain/core/messages'];
const { tool } = mods['@langchain/core/tools'];
const { z } = mods.zod;

const env = await startAgentServe(llmhostBin);
const t = runner();
const ask = 'What is the weather? get_weather {"city": "Paris"}';
const toolResult = '{"temp_c":18,"sky":"sunny"}';

// .stream() and the chunks concatenated, as a streaming agent UI does. (invoke() with
// streaming: true would also count tokens with tiktoken, which it downloads: not offline.)
async function streamed(agent, messages) {
  let all = null;
  let chunks = 0;
  for await (const chunk of await agent.stream(messages)) {
    all = all ? all.concat(chunk) : chunk;
    chunks++;
  }
  assert.ok(chunks > 2, `streamed in pieces (${chunks} chunks)`);
  return all;
}

for (const model of ['echo', 'up']) {
  for (const streaming of [false, true]) {
    await t.test(`${model}${streaming ? ', streamed' : ''}: bindTools and a tool loop until the final answer`, async () => {
      const executed = [];
      const getWeather = tool(async ({ city }) => {
        executed.push(city);
        return toolResult;
      }, { name: 'get_weather', description: 'The current weather in a city', schema: z.object({ city: z.string() }) });
      const llm = new ChatOpenAI({ model, apiKey: 'unused', configuration: { baseURL: env.baseURL }, maxRetries: 0 });
      const agent = llm.bindTools([getWeather]);
      const messages = [new HumanMessage(ask)];
      let final = null;
      for (let step = 0; step < 5 && !final; step++) {
        const ai = streaming ? await streamed(agent, messages) : await agent.invoke(messages);
        messages.push(ai);
        if (!ai.tool_calls?.length) {
          final = ai;
          break;
        }
        for (const call of ai.tool_calls) {
          assert.equal(call.name, 'get_weather');
          assert.equal(call.id, model === 'up' ? RECORDED_CALL_ID : 'call_1_0');
          const out = await getWeather.invoke(call.args);
          messages.push(new ToolMessage({ content: out, tool_call_id: call.id }));
        }
      }
      assert.ok(final, 'the loop ended with an answer');
      assert.deepEqual(executed, ['Paris']);
      assert.equal(messages.length, 4); // question, call, result, answer
      assert.equal(final.content, model === 'up' ? RECORDED_ANSWER : `The tool get_weather returned: ${toolResult}`);
    });
  }
}

await env.stop();
console.log(t.failures ? `${t.failures} failed` : 'all passed');
process.exit(t.failures ? 1 : 0);
