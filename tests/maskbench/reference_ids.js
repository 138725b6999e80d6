// Reference token ids for the MaskBench instances: Hugging Face's Rust `tokenizers` (npm binding)
// on the Llama-3.1 tokenizer.json, no special tokens (MaskBench's runner:
// tokenizer.encode(instance, add_special_tokens=False)).
// usage: node reference_ids.js DATA.jsonl TOKENIZER.json > ids.json
// prints [[id, ...], ...]: one array per instance, in file order (schemas, then their tests).
'use strict';
const path = require('path');
const fs = require('fs');
const { Tokenizer } = require(path.join(__dirname, '..', 'node', 'node_modules', 'tokenizers'));

async function main() {
  const [dataPath, tokenizerPath] = process.argv.slice(2);
  if (!dataPath || !tokenizerPath) throw new Error('usage: node reference_ids.js DATA.jsonl TOKENIZER.json');
  const tok = Tokenizer.fromFile(tokenizerPath);
  const out = [];
  for (const line of fs.readFileSync(dataPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    for (const t of JSON.parse(line).tests) {
      out.push(Array.from((await tok.encode(t.text, null, { addSpecialTokens: false })).getIds()));
    }
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });
