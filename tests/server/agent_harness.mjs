// Shared by the agent-client tests (openai_tools, langchain_agent, vercel_ai_agent): the package
// check (exit 77 when missing), `llmhost serve` with two providers - "echo" (its deterministic
// agent rules, examples/echo-plugin-c/echo.c) and "up" (the openai plugin in front of the replay
// upstream, replay_upstream.mjs) - and a tiny test runner.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServe } from './serve_process.mjs';
import { startReplayUpstream } from './replay_upstream.mjs';

// Imports each module ("pkg" or "pkg/subpath") the way `import` would from a file inside
// nodeModules' project (ESM entries), or exits 77 naming the package missing.
export async function importPackages(nodeModules, names) {
  const out = {};
  for (const name of names) {
    const parts = name.split('/');
    const pkgName = parts.slice(0, name.startsWith('@') ? 2 : 1).join('/');
    const sub = parts.length > pkgName.split('/').length ? `./${parts.slice(pkgName.split('/').length).join('/')}` : '.';
    const dir = join(nodeModules, pkgName);
    if (!existsSync(join(dir, 'package.json'))) {
      console.log(`skipped: the npm package ${pkgName} is not installed in ${nodeModules} (scripts/deps.sh installs it)`);
      process.exit(77);
    }
    out[name] = await import(pathToFileURL(resolveEntry(dir, name, sub)).href);
  }
  return out;
}

// The file `import "<name>"` would load (the package's "exports" import entry of `sub`).
function resolveEntry(dir, name, sub) {
  const pkg = JSON.parse(readJson(join(dir, 'package.json')));
  let e = pkg.exports?.[sub] ?? (sub === '.' ? (pkg.exports ?? pkg.module ?? pkg.main ?? 'index.js') : undefined);
  for (let i = 0; i < 4 && typeof e === 'object' && e !== null; i++)
    e = e.import ?? e.node ?? e.default ?? e.require;
  if (typeof e !== 'string') throw new Error(`cannot find the entry of ${name}`);
  return join(dir, e);
}

function readJson(p) { return readFileSync(p, 'utf8'); }

export async function startAgentServe(llmhostBin) {
  const upstream = await startReplayUpstream();
  const up = { plugin: 'openai', config: { base_url: upstream.baseURL, model: 'gpt-4o-mini', max_retries: 0 } };
  const server = await startServe(llmhostBin, { providers: { echo: { plugin: 'echo', config: {} }, up } });
  return {
    upstream,
    server,
    baseURL: `http://127.0.0.1:${server.port}/v1`,
    async stop() {
      await server.stop();
      await upstream.close();
    },
  };
}

export function runner() {
  let failures = 0;
  return {
    async test(name, fn) {
      try {
        await fn();
        console.log(`ok   ${name}`);
      } catch (e) {
        failures++;
        console.log(`FAIL ${name}\n${e.stack}`);
      }
    },
    get failures() { return failures; },
  };
}
