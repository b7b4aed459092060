// Load test of `nibble serve`: 300 requests from 8 concurrent clients on 4 slots (chat and
// completions, streamed and not, a quarter of the streams aborted by the client after two
// chunks), plus malformed HTTP on raw sockets. Afterwards: every request answered correctly,
// no slot left busy, aborted streams cancelled on the server, the server still answering, and
// a clean exit on SIGTERM.
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, health, run } from './server.mjs';

const TOTAL = 300;
const CONCURRENCY = 8;
const s = await startServer(['--parallel', '4', '--queue', '16', '--ctx', '256', '--threads', '1']);

const post = (path, body, signal) => fetch(`${s.url}${path}`, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal,
});

// Reads an SSE stream; returns the data payloads (stops early after `abortAfter` events).
async function readEvents(res, abortAfter, controller) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const events = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      events.push(buf.slice(0, i).replace(/^data: /, ''));
      buf = buf.slice(i + 2);
      if (abortAfter && events.length >= abortAfter) {
        controller.abort();
        return events;
      }
    }
  }
  return events;
}

const stats = { ok: 0, aborted: 0, byKind: [0, 0, 0, 0] };

async function one(i) {
  const kind = i % 4;
  const topic = ['dog', 'cat', 'bird', 'fish'][i % 3];
  if (kind === 0) {  // chat, whole answer
    const r = await post('/v1/chat/completions', {
      messages: [{ role: 'user', content: `A story about a ${topic}.` }], max_tokens: 8, seed: i,
    });
    assert.equal(r.status, 200);
    const b = await r.json();
    assert.equal(typeof b.choices[0].message.content, 'string');
    assert.ok(b.usage.completion_tokens <= 8);
  } else if (kind === 1) {  // chat, streamed to the end
    const r = await post('/v1/chat/completions', {
      messages: [{ role: 'user', content: `Tell me about a ${topic}.` }], max_tokens: 16, stream: true, seed: i,
    });
    assert.equal(r.status, 200);
    const ev = await readEvents(r);
    assert.equal(ev[ev.length - 1], '[DONE]');
    const last = JSON.parse(ev[ev.length - 2]);
    assert.ok(['stop', 'length'].includes(last.choices[0].finish_reason));
  } else if (kind === 2) {  // completion stream the client abandons after two events
    const controller = new AbortController();
    const r = await post('/v1/completions', {
      prompt: `Once upon a time a ${topic}`, max_tokens: 200, stream: true, logit_bias: { 2: -100 },
    }, controller.signal);
    assert.equal(r.status, 200);
    try {
      await readEvents(r, 2, controller);
    } catch (e) {
      if (e.name !== 'AbortError') throw e;
    }
    stats.aborted++;
  } else {  // completion, whole
    const r = await post('/v1/completions', { prompt: `The ${topic} was`, max_tokens: 8, temperature: 0 });
    assert.equal(r.status, 200);
    const b = await r.json();
    assert.equal(b.object, 'text_completion');
  }
  stats.ok++;
  stats.byKind[kind]++;
}

// Raw bytes on a socket; resolves with the response head (or what came before the server
// closed, or nothing after 1.5 s).
function raw(bytes) {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(s.url);
    const sock = net.connect(Number(port), hostname);
    let got = '';
    sock.on('data', (d) => {
      got += d;
      if (got.includes('\r\n\r\n')) { sock.destroy(); resolve(got); }
    });
    sock.on('error', () => resolve(got));
    sock.on('close', () => resolve(got));
    sock.setTimeout(1500, () => { sock.destroy(); resolve(got); });
    sock.write(bytes);
  });
}

await run([
  ['300 requests, 8 at a time, a quarter aborted mid-stream', async () => {
    let next = 0;
    const errors = [];
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        try { await one(i); } catch (e) { errors.push(`request ${i}: ${e.stack ?? e}`); }
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    console.log(`  ${TOTAL} requests in ${Date.now() - t0} ms; by kind ${stats.byKind}; aborted ${stats.aborted}`);
    assert.deepEqual(errors, []);
    assert.equal(stats.ok, TOTAL);
  }],
  ['no slot leaked, aborted streams were cancelled', async () => {
    let h;
    for (let tries = 0; tries < 50; tries++) {
      h = await health(s.url);
      if (h.slots_busy === 0 && h.queue === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`  health: ${JSON.stringify(h)}`);
    assert.equal(h.slots_busy, 0);
    assert.equal(h.queue, 0);
    assert.equal(h.rejected, 0);
    assert.equal(h.served, TOTAL);
    // A stream is cancelled when a write fails; of 75 abandoned 200-token streams nearly all
    // end that way (a few may finish first on a fast machine).
    assert.ok(h.cancelled >= stats.aborted / 2, `${h.cancelled} of ${stats.aborted} cancelled`);
  }],
  ['malformed HTTP gets a 400 and the server carries on', async () => {
    const garbage = await raw('GARBAGE\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400/);
    const longHeader = await raw(`GET /health HTTP/1.1\r\nX: ${'a'.repeat(20000)}\r\n\r\n`);
    assert.ok(!/^HTTP\/1\.1 200/.test(longHeader), longHeader.slice(0, 80));
    const many = await raw(`GET /health HTTP/1.1\r\n${'X-A: b\r\n'.repeat(500)}\r\n`);
    assert.match(many, /^HTTP\/1\.1 431/);
    const ranged = await raw('GET /nope HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n');  // ranges ignored
    assert.match(ranged, /^HTTP\/1\.1 404/);
    assert.match(ranged, /Content-Length: [0-9]{3}\r\n/);  // the whole error body
    assert.ok(!ranged.includes('Content-Range'), ranged);
    const badLength = await raw('POST /v1/completions HTTP/1.1\r\nContent-Length: -5\r\n\r\n{}');
    assert.ok(!/^HTTP\/1\.1 200/.test(badLength), badLength.slice(0, 80));
    const truncated = await raw('POST /v1/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"prompt"');
    assert.ok(!/^HTTP\/1\.1 200/.test(truncated), truncated.slice(0, 80));
  }],
  ['still answering', async () => {
    const r = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 });
    assert.equal(r.status, 200);
    assert.equal((await health(s.url)).slots_busy, 0);
  }],
], async () => {
  const st = await s.stop();
  if (st.code !== 0 || st.signal) {
    console.log(`FAIL server exit ${JSON.stringify(st)}: ${s.stderr()}`);
    process.exit(1);
  }
});
