// Runs the example agent against a real `llmhost serve` over the echo provider, which answers
// each turn with the turn's own prompt: so every reply must equal what the agent sent.
// Usage: node agent.test.mjs <path to llmhost> <node_modules dir>. Exit 77 = skipped.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
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
try {
  // agent.mjs imports 'openai' by name, as a user's script does: run a copy of it next to a
  // node_modules that links the test peers' package (nothing is written into the source tree).
  const dir = mkdtempSync(join(tmpdir(), 'llmhost-agent-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(join(nodeModules, 'openai'), join(dir, 'node_modules', 'openai'));
  copyFileSync(join(here, 'agent.mjs'), join(dir, 'agent.mjs'));
  const { runAgent } = await import(pathToFileURL(join(dir, 'agent.mjs')).href);
  const client = new OpenAI({ apiKey: 'agent-key', baseURL: `http://127.0.0.1:${server.port}/v1`, maxRetries: 0 });
  let streamed = '';
  const transcript = await runAgent({ client, model: 'echo', task: 'count to three', onToken: (t) => { streamed += t; } });
  assert.equal(transcript.length, 3);
  for (const turn of transcript) assert.equal(turn.reply, turn.prompt.trim()); // echo: reply == prompt
  assert.ok(transcript[0].reply.includes('count to three'));
  assert.ok(transcript[1].reply.includes(transcript[0].reply.split(' ')[0]));
  assert.ok(streamed.length > 0);
  console.log('openai-sdk-agent: 3 turns through llmhost serve');
} finally {
  const { code } = await server.stop();
  assert.equal(code, 0);
}
