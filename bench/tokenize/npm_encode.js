// Peer measurement for bench_tokenize: MB/s of Hugging Face's Rust `tokenizers` (npm binding)
// encoding one text with one tokenizer.json. Load time is excluded; the best of N runs counts.
// usage: node npm_encode.js TOKENIZERS_PKG_DIR TOKENIZER_JSON TEXT_FILE RUNS
// prints: {"mb_per_s": X, "ids": N, "seconds": S}
'use strict';
const fs = require('fs');
const [pkg, tokenizerJson, textFile, runsArg] = process.argv.slice(2);
const { Tokenizer } = require(pkg);

async function main() {
  const tok = Tokenizer.fromFile(tokenizerJson);
  const text = fs.readFileSync(textFile, 'utf8');
  const bytes = Buffer.byteLength(text, 'utf8');
  const runs = Number(runsArg || 3);
  await tok.encode('warm up', null, { addSpecialTokens: false });
  let best = Infinity, ids = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    const enc = await tok.encode(text, null, { addSpecialTokens: false });
    const t1 = process.hrtime.bigint();
    ids = enc.getIds().length;
    best = Math.min(best, Number(t1 - t0) / 1e9);
  }
  process.stdout.write(JSON.stringify({ mb_per_s: bytes / 1e6 / best, ids, seconds: best }));
}
main().catch((e) => { console.error(e); process.exit(1); });
