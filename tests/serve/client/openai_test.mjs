// `nibble serve` driven by the official openai npm client (pinned in package.json): chat,
// streaming, completions, stop strings, prefix reuse, json_object / json_schema / tools under a
// grammar, and the errors a client sees (400, 401, 404, 413, 429, context overflow).
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, health, run } from './server.mjs';

const main = await startServer(['--parallel', '2', '--ctx', '512', '--threads', '1']);
const client = new OpenAI({ baseURL: `${main.url}/v1`, apiKey: 'unused', maxRetries: 0 });
const story = [{ role: 'user', content: 'Tell me a story about a dog.' }];

async function expectError(promise, status, check = () => {}) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, `not an APIError: ${e}`);
    assert.equal(e.status, status, e.message);
    assert.equal(typeof e.error?.message, 'string');
    check(e);
    return e;
  }
  assert.fail(`expected HTTP ${status}`);
}

function validateColorCount(text) {
  const doc = JSON.parse(text);
  assert.deepEqual(Object.keys(doc).sort(), ['color', 'count'], text);
  assert.ok(['red', 'blue'].includes(doc.color), text);
  assert.ok(Number.isInteger(doc.count), text);
}

const colorSchema = {
  type: 'object',
  properties: { color: { enum: ['red', 'blue'] }, count: { type: 'integer' } },
  required: ['color', 'count'],
  additionalProperties: false,
};

await run([
  ['models.list names the model', async () => {
    const page = await client.models.list();
    assert.equal(page.data.length, 1);
    assert.equal(page.data[0].id, 'stories260K-f32');
  }],
  ['chat completion with usage', async () => {
    const r = await client.chat.completions.create({ model: 'm', messages: story, max_tokens: 24, temperature: 0 });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.ok(r.choices[0].message.content.length > 0);
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
    assert.ok(r.usage.prompt_tokens > 5);
    assert.ok(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 24);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  }],
  ['streaming equals the whole answer and ends with usage', async () => {
    const whole = await client.chat.completions.create({ model: 'm', messages: story, max_tokens: 32, temperature: 0 });
    const stream = await client.chat.completions.create({
      model: 'm', messages: story, max_tokens: 32, temperature: 0, stream: true,
      stream_options: { include_usage: true },
    });
    let text = '', finish = null, usage = null, chunks = 0;
    for await (const c of stream) {
      chunks++;
      assert.equal(c.object, 'chat.completion.chunk');
      if (c.usage) usage = c.usage;
      for (const ch of c.choices) {
        text += ch.delta.content ?? '';
        if (ch.finish_reason) finish = ch.finish_reason;
      }
    }
    assert.ok(chunks > 3, `only ${chunks} chunks`);
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(finish, whole.choices[0].finish_reason);
    assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
  }],
  ['seeded sampling repeats; other seeds differ', async () => {
    const ask = (seed) => client.chat.completions.create({ model: 'm', messages: story, max_tokens: 40, temperature: 1, seed });
    const [a, b, c] = [await ask(7), await ask(7), await ask(8)];
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    assert.notEqual(a.choices[0].message.content, c.choices[0].message.content);
  }],
  ['completions with a stop string', async () => {
    const r = await client.completions.create({ model: 'm', prompt: 'Once upon a time', max_tokens: 40, temperature: 0 });
    assert.ok(r.choices[0].text.startsWith(', there was a little girl named Lily.'), r.choices[0].text);
    const s = await client.completions.create({ model: 'm', prompt: 'Once upon a time', max_tokens: 40, temperature: 0, stop: ['Lily'] });
    assert.equal(s.choices[0].text, ', there was a little girl named ');
    assert.equal(s.choices[0].finish_reason, 'stop');
  }],
  ['a second turn reuses the first turn\'s KV cache', async () => {
    const first = await client.chat.completions.create({ model: 'm', messages: story, max_tokens: 16, temperature: 0 });
    const turn2 = [...story, first.choices[0].message, { role: 'user', content: 'And then?' }];
    const second = await client.chat.completions.create({ model: 'm', messages: turn2, max_tokens: 8, temperature: 0 });
    const cached = second.usage.prompt_tokens_details.cached_tokens;
    assert.ok(cached >= first.usage.prompt_tokens, `cached ${cached} of ${second.usage.prompt_tokens}`);
  }],
  ['response_format json_schema gives a valid document', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await client.chat.completions.create({
        model: 'm', messages: [{ role: 'user', content: 'Pick a color.' }], max_tokens: 48, temperature: 1, seed,
        response_format: { type: 'json_schema', json_schema: { name: 'pick', schema: colorSchema } },
      });
      validateColorCount(r.choices[0].message.content);
    }
  }],
  ['response_format json_schema streamed', async () => {
    const stream = await client.chat.completions.create({
      model: 'm', messages: [{ role: 'user', content: 'Pick a color.' }], max_tokens: 48, temperature: 1, seed: 5,
      stream: true, response_format: { type: 'json_schema', json_schema: { name: 'pick', schema: colorSchema } },
    });
    let text = '';
    for await (const c of stream) for (const ch of c.choices) text += ch.delta.content ?? '';
    validateColorCount(text);
  }],
  ['response_format json_object gives an object', async () => {
    const r = await client.chat.completions.create({
      model: 'm', messages: story, max_tokens: 64, temperature: 0.8, seed: 3, response_format: { type: 'json_object' },
    });
    const doc = JSON.parse(r.choices[0].message.content);
    assert.equal(typeof doc, 'object');
    assert.ok(doc !== null && !Array.isArray(doc));
  }],
  ['tools: a required call comes back as tool_calls', async () => {
    const tools = [{
      type: 'function',
      function: {
        name: 'get_weather', description: 'Weather in a city',
        parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 } }, required: ['city'], additionalProperties: false },
      },
    }];
    const r = await client.chat.completions.create({
      model: 'm', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'required',
      max_tokens: 64, temperature: 0.7, seed: 11,
    });
    const msg = r.choices[0].message;
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.ok(msg.tool_calls.length >= 1);
    assert.equal(msg.tool_calls[0].type, 'function');
    assert.equal(msg.tool_calls[0].function.name, 'get_weather');
    const args = JSON.parse(msg.tool_calls[0].function.arguments);
    assert.equal(typeof args.city, 'string');
    // The call and its result go back in the next turn.
    const next = await client.chat.completions.create({
      model: 'm', max_tokens: 8, temperature: 0,
      messages: [{ role: 'user', content: 'Weather in Paris?' }, msg,
        { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: 'sunny' }],
    });
    assert.equal(typeof next.choices[0].message.content, 'string');
  }],
  ['tools: streamed call, and tool_choice auto answers one way or the other', async () => {
    const tools = [{ type: 'function', function: { name: 'add', parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'], additionalProperties: false } } }];
    const stream = await client.chat.completions.create({
      model: 'm', messages: [{ role: 'user', content: 'Add 2 and 3.' }], tools, tool_choice: { type: 'function', function: { name: 'add' } },
      max_tokens: 64, temperature: 0.7, seed: 4, stream: true,
    });
    const calls = [];
    let finish = null;
    for await (const c of stream) for (const ch of c.choices) {
      for (const tc of ch.delta.tool_calls ?? []) calls.push(tc);
      if (ch.finish_reason) finish = ch.finish_reason;
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(calls[0].function.name, 'add');
    const args = JSON.parse(calls[0].function.arguments);
    assert.ok(Number.isInteger(args.a) && Number.isInteger(args.b), calls[0].function.arguments);
    for (const seed of [1, 2, 3, 4]) {
      const r = await client.chat.completions.create({
        model: 'm', messages: [{ role: 'user', content: 'Add 2 and 3.' }], tools, tool_choice: 'auto', max_tokens: 64, temperature: 1, seed,
      });
      const m = r.choices[0].message;
      if (r.choices[0].finish_reason === 'tool_calls') assert.equal(m.tool_calls[0].function.name, 'add');
      else assert.equal(typeof m.content, 'string');
    }
  }],
  ['400: bad parameters name the parameter', async () => {
    await expectError(client.chat.completions.create({ model: 'm', messages: story, temperature: 3 }), 400,
      (e) => assert.equal(e.param, 'temperature'));
    await expectError(client.chat.completions.create({ model: 'm', messages: story, n: 2 }), 400,
      (e) => assert.equal(e.param, 'n'));
    await expectError(client.chat.completions.create({ model: 'm', messages: story, logit_bias: { 999999: 5 } }), 400,
      (e) => assert.equal(e.param, 'logit_bias'));
    await expectError(client.chat.completions.create({ model: 'm', messages: [] }), 400,
      (e) => assert.equal(e.param, 'messages'));
    await expectError(client.chat.completions.create({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] }), 400,
      (e) => assert.equal(e.param, 'messages[0].role'));
    await expectError(client.chat.completions.create({
      model: 'm', messages: story, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', patternProperties: { a: {} } } } },
    }), 400, (e) => assert.match(e.message, /patternProperties/));
  }],
  ['400: bad JSON', async () => {
    const r = await fetch(`${main.url}/v1/chat/completions`, { method: 'POST', body: '{"messages": [' });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.equal(body.error.code, 'invalid_json');
    assert.equal(body.error.type, 'invalid_request_error');
  }],
  ['400: context overflow is reported', async () => {
    const long = 'the dog ran to the park and '.repeat(200);
    await expectError(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: long }] }), 400,
      (e) => assert.equal(e.code, 'context_length_exceeded'));
    const h = await health(main.url);
    assert.equal(h.slots_busy, 0);
  }],
  ['404: unknown route', async () => {
    await expectError(client.models.retrieve('no-such-model'), 404, (e) => assert.equal(e.code, 'not_found'));
  }],
  ['401 without the key, 413 past the body limit, 429 past the queue', async () => {
    const s = await startServer(['--api-key', 'sekrit', '--max-body', '65536', '--parallel', '1', '--queue', '1', '--ctx', '512', '--threads', '1']);
    try {
      const wrong = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'guess', maxRetries: 0 });
      await expectError(wrong.models.list(), 401, (e) => assert.equal(e.code, 'invalid_api_key'));
      const r401 = await fetch(`${s.url}/v1/models`);
      assert.equal(r401.status, 401);
      assert.equal((await fetch(`${s.url}/health`)).status, 200);
      const right = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'sekrit', maxRetries: 0 });
      assert.equal((await right.models.list()).data.length, 1);
      const big = await fetch(`${s.url}/v1/completions`, {
        method: 'POST', headers: { Authorization: 'Bearer sekrit' }, body: JSON.stringify({ prompt: 'x'.repeat(100000) }),
      });
      assert.equal(big.status, 413);
      assert.equal((await big.json()).error.code, 'request_too_large');
      // One slot, a queue of one: of 12 simultaneous long requests (end of text banned), the
      // ones that find the slot and the queue taken are refused with 429 at once; every other
      // one completes in full.
      const ask = () => fetch(`${s.url}/v1/completions`, {
        method: 'POST', headers: { Authorization: 'Bearer sekrit' },
        body: JSON.stringify({ prompt: 'Once', max_tokens: 400, logit_bias: { 2: -100 } }),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
      const results = await Promise.all(Array.from({ length: 12 }, ask));
      const ok = results.filter((r) => r.status === 200);
      const limited = results.filter((r) => r.status === 429);
      assert.equal(ok.length + limited.length, 12, JSON.stringify(results.map((r) => r.status)));
      assert.ok(limited.length >= 1 && ok.length >= 1, `${ok.length} ok, ${limited.length} limited`);
      for (const r of ok) assert.equal(r.body.usage.completion_tokens, 400);
      for (const r of limited) assert.equal(r.body.error.code, 'rate_limit_exceeded');
      const h = await health(s.url);
      assert.equal(h.slots_busy, 0);
      assert.equal(h.rejected, limited.length);
    } finally {
      const st = await s.stop();
      assert.deepEqual(st, { code: 0, signal: null });
    }
  }],
], async () => {
  const st = await main.stop();
  if (st.code !== 0) {
    console.log(`FAIL server exit ${JSON.stringify(st)}: ${main.stderr()}`);
    process.exit(1);
  }
});
