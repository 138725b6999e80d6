// Starts `llmhost serve` on a free port with a config file, for the node tests and examples.
// Resolves to { port, child, stop() } once the server prints its "listening on" line.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function startServe(llmhostBin, config, env = {}, extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'llmhost-serve-'));
  const configPath = join(dir, 'llmhost.json');
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(llmhostBin, ['--config', configPath, 'serve', '--port', '0', ...extraArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`llmhost serve did not start:\n${log}`)), 15000);
    child.stderr.on('data', (d) => {
      log += d.toString();
      const m = log.match(/listening on http:\/\/[^:]+:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`llmhost serve exited ${code}:\n${log}`)); });
  });
  // The config may name keys: its folder goes when the server does, however the test ends.
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    rmSync(dir, { recursive: true, force: true });
    resolve({ code, signal });
  }));
  return {
    port,
    child,
    log: () => log,
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      return exited;
    },
  };
}
