// Reference ids from Hugging Face's Rust `tokenizers` (npm binding) for the parity test.
// usage: node reference.js CORPUS.json[,MORE.json...] MODEL_NAME=PATH/tokenizer.json...
// (the lines of several corpus files are concatenated in order)
// prints {"<name>": [{"with": [...], "without": [...], "decoded": "...", "decoded_skip": "..."}, ...]}
'use strict';
const path = require('path');
const fs = require('fs');
const nodeModules = path.join(__dirname, '..', 'node', 'node_modules');
const { Tokenizer } = require(path.join(nodeModules, 'tokenizers'));

async function main() {
  const [corpusPath, ...models] = process.argv.slice(2);
  const corpus = corpusPath.split(',').flatMap((f) => JSON.parse(fs.readFileSync(f, 'utf8')).lines);
  const out = {};
  for (const spec of models) {
    const eq = spec.indexOf('=');
    const name = spec.slice(0, eq), file = spec.slice(eq + 1);
    const tok = Tokenizer.fromFile(file);
    const rows = [];
    for (const line of corpus) {
      const withSpecial = Array.from((await tok.encode(line, null, { addSpecialTokens: true })).getIds());
      const without = Array.from((await tok.encode(line, null, { addSpecialTokens: false })).getIds());
      rows.push({
        with: withSpecial,
        without,
        decoded: await tok.decode(withSpecial, false),
        decoded_skip: await tok.decode(withSpecial, true),
      });
    }
    out[name] = rows;
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });
