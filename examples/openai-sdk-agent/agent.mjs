// A tool-calling agent on the official OpenAI SDK, pointed at `llmhost serve`. JavaScript
// functions are described to the model as tools; when it calls them (streamed tool_calls deltas,
// assembled by index), the agent runs them, sends each result back as a `tool` message, and asks
// again until the model answers in text. Any OpenAI-compatible framework works the same way: set
// the base URL and a key.
//
//   llmhost serve &                                   # http://127.0.0.1:8080/v1
//   OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=unused \
//   LLMHOST_MODEL=echo node agent.mjs "What time is it in Tokyo?"
//
// A provider whose plugin cannot call tools answers HTTP 400 naming the field, never a reply
// that ignores the tools.
import OpenAI from 'openai';

// The tools: a description and a JSON Schema for the model, and the function that runs.
export const defaultTools = {
  get_time: {
    description: 'The current local time in an IANA time zone',
    parameters: {
      type: 'object',
      properties: { timezone: { type: 'string', description: 'e.g. "Asia/Tokyo" or "UTC"' } },
      required: ['timezone'],
    },
    run: ({ timezone }) =>
      `${new Date().toLocaleString('en-GB', { timeZone: timezone, dateStyle: 'full', timeStyle: 'short' })} (${timezone})`,
  },
  add: {
    description: 'Adds two numbers exactly',
    parameters: {
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
      required: ['a', 'b'],
    },
    run: ({ a, b }) => a + b,
  },
};

// Runs one call. The model's output is untrusted: an unknown function, arguments that are not a
// JSON object or miss a required field, and a function that throws all become an error text the
// model reads, never an exception that ends the run.
export async function callTool(tools, name, argumentsText) {
  const tool = Object.hasOwn(tools, name) ? tools[name] : undefined;
  if (!tool) return `error: there is no tool named ${JSON.stringify(name)}`;
  let args;
  try {
    args = JSON.parse(argumentsText || '{}');
  } catch (e) {
    return `error: the arguments are not valid JSON (${e.message})`;
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args))
    return 'error: the arguments must be a JSON object';
  for (const field of tool.parameters?.required ?? [])
    if (!(field in args)) return `error: ${name}: missing required argument ${JSON.stringify(field)}`;
  try {
    const value = await tool.run(args);
    return typeof value === 'string' ? value : JSON.stringify(value);
  } catch (e) {
    return `error: ${name} failed: ${e.message}`;
  }
}

export async function runAgent({ client, model, task, tools = defaultTools, onToken = () => {},
                                 onTool = () => {}, maxSteps = 8 }) {
  const specs = Object.entries(tools).map(([name, t]) => ({
    type: 'function',
    function: { name, description: t.description, parameters: t.parameters },
  }));
  const messages = [
    { role: 'system', content: 'You are a careful assistant. Use the tools when they help.' },
    { role: 'user', content: task },
  ];
  for (let step = 0; step < maxSteps; step++) {
    const stream = await client.chat.completions.create({ model, messages, tools: specs, stream: true, max_tokens: 256 });
    let content = '';
    let finish = null;
    const calls = [];
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      const delta = choice.delta ?? {};
      if (delta.content) {
        content += delta.content;
        onToken(delta.content);
      }
      for (const tc of delta.tool_calls ?? []) {
        // A call's first delta carries its id and name; the arguments follow in pieces.
        const call = (calls[tc.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
        if (tc.id) call.id = tc.id;
        if (tc.function?.name) call.function.name = tc.function.name;
        if (tc.function?.arguments) call.function.arguments += tc.function.arguments;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    messages.push({ role: 'assistant', content: content || null, ...(calls.length ? { tool_calls: calls } : {}) });
    if (finish !== 'tool_calls') {
      if (content) onToken('\n');
      return { answer: content, messages };
    }
    for (const call of calls) {
      const output = await callTool(tools, call.function.name, call.function.arguments);
      onTool(call.function.name, call.function.arguments, output);
      messages.push({ role: 'tool', tool_call_id: call.id, content: output });
    }
  }
  throw new Error(`no final answer after ${maxSteps} steps`);
}

// Run as a script: node agent.mjs "task"
if (import.meta.url === `file://${process.argv[1]}`) {
  const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1:8080/v1' });
  const model = process.env.LLMHOST_MODEL ?? 'echo';
  const task = process.argv[2] ?? 'What time is it in Tokyo?';
  await runAgent({
    client, model, task,
    onToken: (t) => process.stdout.write(t),
    onTool: (name, args, out) => process.stderr.write(`→ ${name}(${args}) = ${out}\n`),
  });
}
