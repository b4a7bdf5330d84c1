// gateway_limit_sdk.mjs - the official SDKs for Node read the error
// event that ends a stream cut at --max-response-body as an API error
// whose message names the limit.
//
// usage: node gateway_limit_sdk.mjs BASE_URL
// The gateway must forward to upstream.py with a limit of a few hundred
// bytes, below each of its model streams.
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';

const base = process.argv[2];
const user = [{ role: 'user', content: 'hi' }];
const limit = /response body over the limit of 700 bytes/;

const anthropic = new Anthropic({
  baseURL: base, apiKey: 'placeholder', maxRetries: 0,
});
await assert.rejects(
  anthropic.messages.stream({
    model: 'm', max_tokens: 10, messages: user,
  }).finalMessage(),
  (e) => e instanceof Anthropic.APIError && limit.test(e.message));
console.log('messages: ok');

const openai = new OpenAI({
  baseURL: base + '/v1', apiKey: 'placeholder', maxRetries: 0,
});
await assert.rejects(
  openai.chat.completions.stream({ model: 'm', messages: user })
    .finalChatCompletion(),
  (e) => e instanceof OpenAI.APIError && limit.test(e.message));
console.log('chat: ok');
