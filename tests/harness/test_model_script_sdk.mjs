// test_model_script_sdk.mjs - the official OpenAI and Anthropic SDKs for
// Node read the scripted model's responses: stream helpers rebuild each
// message from the events, and raw streams are checked event by event.
//
// usage: node test_model_script_sdk.mjs BASE_URL chat|responses|messages
// The gateway must serve the script in test_model_script_sdk.sh.
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';

const base = process.argv[2];
const api = process.argv[3];
const openai = new OpenAI({
  baseURL: base + '/v1', apiKey: 'placeholder', maxRetries: 0,
});
const anthropic = new Anthropic({
  baseURL: base, apiKey: 'placeholder', maxRetries: 0,
});
const hello = 'Héllo wörld, this is turn one.';
const bashArgs = { command: 'ls -la /tmp', timeout: 30 };
const lastArgs = { x: [1, 2, { y: 'z' }] };
const user = [{ role: 'user', content: 'hi' }];

async function chat() {
  const c1 = await openai.chat.completions.stream({
    model: 'm', messages: user, stream_options: { include_usage: true },
  }).finalChatCompletion();
  assert.equal(c1.choices[0].message.content, hello);
  assert.equal(c1.choices[0].finish_reason, 'stop');
  assert.ok(c1.usage);

  const c2 = await openai.chat.completions.stream({
    model: 'm', messages: user,
  }).finalChatCompletion();
  const calls = c2.choices[0].message.tool_calls;
  assert.equal(c2.choices[0].message.content, 'Let me look.');
  assert.equal(calls.length, 2);
  assert.deepEqual(JSON.parse(calls[0].function.arguments), bashArgs);
  assert.equal(calls[1].function.name, 'read');
  assert.equal(c2.choices[0].finish_reason, 'tool_calls');

  const c3 = await openai.chat.completions.create({
    model: 'm', messages: [],
  });
  assert.equal(c3.choices[0].message.content, 'plain non-stream');

  const raw = await openai.chat.completions.create({
    model: 'm', messages: [], stream: true,
  });
  let args = '';
  for await (const chunk of raw) {
    for (const call of chunk.choices[0]?.delta?.tool_calls ?? [])
      args += call.function?.arguments ?? '';
  }
  assert.deepEqual(JSON.parse(args), lastArgs);

  await assert.rejects(
    openai.chat.completions.create({ model: 'm', messages: [] }),
    (e) => e.status === 400 && /no turn left/.test(e.message));
}

async function responses() {
  const r1 = await openai.responses.stream({ model: 'm', input: 'hi' })
    .finalResponse();
  assert.equal(r1.output_text, hello);

  const r2 = await openai.responses.stream({ model: 'm', input: 'hi' })
    .finalResponse();
  const calls = r2.output.filter((o) => o.type === 'function_call');
  assert.equal(calls.length, 2);
  assert.deepEqual(JSON.parse(calls[0].arguments), bashArgs);
  assert.equal(r2.output_text, 'Let me look.');
  assert.equal(r2.usage.input_tokens, 100);

  const r3 = await openai.responses.create({ model: 'm', input: 'x' });
  assert.equal(r3.output_text, 'plain non-stream');

  const raw = await openai.responses.create({
    model: 'm', input: 'x', stream: true,
  });
  let last = -1;
  let done = null;
  for await (const event of raw) {
    assert.equal(event.sequence_number, last + 1);
    last = event.sequence_number;
    if (event.type === 'response.function_call_arguments.done')
      done = event.arguments;
  }
  assert.deepEqual(JSON.parse(done), lastArgs);

  await assert.rejects(openai.responses.create({ model: 'm', input: 'x' }),
    (e) => e.status === 400);
}

async function messages() {
  const m1 = await anthropic.messages.stream({
    model: 'm', max_tokens: 10, messages: user,
  }).finalMessage();
  assert.equal(m1.content[0].text, hello);
  assert.equal(m1.stop_reason, 'end_turn');

  const m2 = await anthropic.messages.stream({
    model: 'm', max_tokens: 10, messages: user,
  }).finalMessage();
  assert.equal(m2.content[0].text, 'Let me look.');
  assert.deepEqual(m2.content[1].input, bashArgs);
  assert.deepEqual(m2.content[2].input, { path: 'a.c' });
  assert.equal(m2.stop_reason, 'tool_use');
  assert.equal(m2.usage.output_tokens, 20);

  const m3 = await anthropic.messages.create({
    model: 'm', max_tokens: 10, messages: [],
  });
  assert.equal(m3.content[0].text, 'plain non-stream');

  const m4 = await anthropic.messages.stream({
    model: 'm', max_tokens: 10, messages: [],
  }).finalMessage();
  assert.deepEqual(m4.content[0].input, lastArgs);

  await assert.rejects(
    anthropic.messages.create({ model: 'm', max_tokens: 10, messages: [] }),
    (e) => e.status === 400 &&
      e.error?.error?.type === 'invalid_request_error');
}

await ({ chat, responses, messages })[api]();
console.log(api + ': ok');
