// Reference renderer for the chat-template parity test: renders every case with npm
// @huggingface/jinja (the engine transformers.js uses) and prints {id: {ok} | {error}} as JSON.
//
//   node reference.mjs <node_modules dir> <tests/template dir> [random cases file]
//
// Cases are enumerated from conversations.json and snippets.json exactly as
// template_parity_test.cpp enumerates them; keep the two in step. The optional third argument
// is a JSON file {"context": {...}, "cases": [{"id", "t"}]} written by the test (random templates).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modulesDir, dataDir, randomFile] = process.argv.slice(2);
if (!modulesDir || !dataDir) {
  console.error("usage: node reference.mjs <node_modules dir> <tests/template dir>");
  process.exit(2);
}
const require = createRequire(pathToFileURL(path.join(modulesDir, "noop.js")));
const { Template } = await import(pathToFileURL(require.resolve("@huggingface/jinja")).href);

const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));
const results = {};
const run = (id, template, context) => {
  try {
    results[id] = { ok: new Template(template).render(context) };
  } catch (e) {
    results[id] = { error: String(e && e.message !== undefined ? e.message : e) };
  }
};

// Chat cases: the variables transformers.js' apply_chat_template passes, in its order.
const SPECIAL = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];
const tokenText = (t) => (typeof t === "string" ? t : t && typeof t.content === "string" ? t.content : "");
const conv = readJson(path.join(dataDir, "conversations.json"));
for (const [model, configPath] of Object.entries(conv.models)) {
  const config = readJson(path.join(modulesDir, configPath));
  const special = {};
  for (const key of SPECIAL) {
    const text = tokenText(config[key]);
    if (text) special[key] = text;
  }
  for (const [name, c] of Object.entries(conv.conversations)) {
    if (name.startsWith("_") || (c.models && !c.models.includes(model))) continue;
    const extras = c.extras ?? [{}];
    for (const agp of [true, false]) {
      extras.forEach((extra, i) => {
        const tools = c.tools ?? null;
        let template = config.chat_template;
        if (Array.isArray(template)) {
          const named = Object.fromEntries(template.map((t) => [t.name, t.template]));
          template = tools !== null && named.tool_use ? named.tool_use : named.default;
        }
        run(`${model}/${name}/agp=${agp ? 1 : 0}/x${i}`, template, {
          messages: c.messages,
          add_generation_prompt: agp,
          tools,
          documents: null,
          ...special,
          ...extra,
        });
      });
    }
  }
}

// Engine snippets.
const snip = readJson(path.join(dataDir, "snippets.json"));
snip.snippets.forEach((s, i) => run(`snippet/${i}`, s.t, s.c ?? snip.context));

// Generated templates.
if (randomFile) {
  const extra = readJson(randomFile);
  for (const c of extra.cases) run(c.id, c.t, extra.context);
}

process.stdout.write(JSON.stringify(results));
