// Starts `nibble serve` on a free loopback port (--port 0; the server prints the port it got)
// for the client tests, and a tiny test runner. Environment: NIBBLE_CLI (the nibble program),
// NIBBLE_MODEL (a GGUF file).
import { spawn } from 'node:child_process';

export const cli = process.env.NIBBLE_CLI;
export const model = process.env.NIBBLE_MODEL;
if (!cli || !model) {
  console.error('set NIBBLE_CLI and NIBBLE_MODEL');
  process.exit(2);
}

export async function startServer(extra = []) {
  const args = ['serve', '-m', model, '--host', '127.0.0.1', '--port', '0', ...extra];
  const proc = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.]+:[0-9]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${stderr}`)); });
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    url,
    proc,
    stderr: () => stderr,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    // SIGTERM; resolves with the exit status (a crash shows as a signal or a non-zero code).
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

export async function health(url) {
  const r = await fetch(`${url}/health`);
  return r.json();
}

// Runs the named async cases in order; prints one line each; exits non-zero on any failure.
export async function run(cases, cleanup = async () => {}) {
  let failed = 0;
  for (const [name, fn] of cases) {
    const t0 = Date.now();
    try {
      await fn();
      console.log(`PASS ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    }
  }
  await cleanup();
  console.log(failed ? `${failed} of ${cases.length} failed` : `all ${cases.length} passed`);
  process.exit(failed ? 1 : 0);
}
