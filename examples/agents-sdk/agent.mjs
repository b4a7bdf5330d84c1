// agent.mjs - a coding agent built with the OpenAI Agents SDK: it gives
// the model a shell tool and file tools, and runs until the model replies
// with text only.
//
// usage: node agent.mjs [TASK]
//
// Environment:
//   OPENAI_BASE_URL   the model endpoint, read by the SDK's OpenAI client
//                     (runbundle record sets it to its gateway)
//   OPENAI_API_KEY    read by the client; the gateway hands the agent a
//                     placeholder and keeps the real key outside
//   AGENT_API         "responses" (the SDK's default) or
//                     "chat_completions"
//   AGENT_MODEL       the model name, "gpt-4.1" by default
//   AGENT_MAX_TURNS   the maximum number of model calls, 12 by default
//   AGENT_TRACING     "1" leaves the SDK's tracing on
// Tracing is off by default, because its exporter would post every run
// to api.openai.com.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  Agent, run, setOpenAIAPI, setTracingDisabled, tool,
} from '@openai/agents';

// AGENT_TRACING=1 leaves tracing on, so that a test can check that
// egress-guard.mjs reports the export.
if (process.env.AGENT_TRACING !== '1')
  setTracingDisabled(true);

const api = process.env.AGENT_API ?? 'responses';
if (api !== 'responses' && api !== 'chat_completions') {
  console.error(`agent: unknown AGENT_API: '${api}'`);
  console.error('hint: use "responses" or "chat_completions"');
  process.exit(2);
}
setOpenAIAPI(api);

// Every tool logs its call on stderr, so that the run shows what the
// model requested.
function logCall(name, args) {
  console.error(`agent: ${name} ${JSON.stringify(args)}`);
}

const runCommand = tool({
  name: 'run_command',
  description: 'Run a shell command in the workspace and return its ' +
    'output and exit status',
  parameters: {
    type: 'object',
    properties: { command: { type: 'string' } },
    required: ['command'],
    additionalProperties: false,
  },
  strict: true,
  execute: async ({ command }) => {
    logCall('run_command', { command });
    try {
      const out = execFileSync('sh', ['-c', command + ' 2>&1'], {
        encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
      });
      return `${out}[exit status 0]`;
    } catch (e) {
      if (e.status === null || e.status === undefined)
        return `cannot run '${command}': ${e.message}`;
      return `${e.stdout ?? ''}[exit status ${e.status}]`;
    }
  },
});

const readFile = tool({
  name: 'read_file',
  description: 'Read a text file of the workspace',
  parameters: {
    type: 'object',
    properties: { path: { type: 'string' } },
    required: ['path'],
    additionalProperties: false,
  },
  strict: true,
  execute: async ({ path }) => {
    logCall('read_file', { path });
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      return `cannot read '${path}': ${e.message}`;
    }
  },
});

// The edit replaces one exact occurrence, so that a stale or ambiguous
// edit fails instead of changing the wrong lines.
const editFile = tool({
  name: 'edit_file',
  description: 'Replace the one occurrence of old_text in a file with ' +
    'new_text',
  parameters: {
    type: 'object',
    properties: {
      path: { type: 'string' },
      old_text: { type: 'string' },
      new_text: { type: 'string' },
    },
    required: ['path', 'old_text', 'new_text'],
    additionalProperties: false,
  },
  strict: true,
  execute: async ({ path, old_text: oldText, new_text: newText }) => {
    logCall('edit_file', { path });
    let text;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      return `cannot read '${path}': ${e.message}`;
    }
    const at = text.indexOf(oldText);
    if (at < 0)
      return `'${path}' does not contain old_text`;
    if (text.indexOf(oldText, at + 1) >= 0)
      return `'${path}' contains old_text more than once`;
    writeFileSync(path, text.slice(0, at) + newText +
      text.slice(at + oldText.length));
    return `edited '${path}'`;
  },
});

const agent = new Agent({
  name: 'fixer',
  instructions: 'You are a careful coding agent. Run the tests, read ' +
    'the code, fix the bug with the smallest edit, and run the tests ' +
    'again.',
  model: process.env.AGENT_MODEL ?? 'gpt-4.1',
  tools: [runCommand, readFile, editFile],
});

const task = process.argv[2] ?? 'The tests fail: make them pass.';
const maxTurns = Number(process.env.AGENT_MAX_TURNS ?? 12);
try {
  const result = await run(agent, task, { maxTurns });
  console.log(result.finalOutput);
} catch (e) {
  console.error(`agent: the run failed: ${e.message}`);
  process.exitCode = 1;
}
