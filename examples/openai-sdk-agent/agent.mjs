// A small tool-free agent loop on the official OpenAI SDK, pointed at `llmhost serve`:
// the agent drafts an answer, critiques its own draft, then revises it, streaming every turn.
// Any OpenAI-compatible framework works the same way: set the base URL and a key.
//
//   llmhost serve &                                   # http://127.0.0.1:8080/v1
//   OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=unused \
//   LLMHOST_MODEL=echo node agent.mjs "Why is the sky blue?"
import OpenAI from 'openai';

export async function runAgent({ client, model, task, onToken = () => {} }) {
  const steps = [
    (history) => `Task: ${task}\nWrite a first draft answer.`,
    (history) => `Critique this draft in one sentence: ${history.at(-1).content}`,
    (history) => `Rewrite the draft using the critique: ${history.at(-1).content}`,
  ];
  const messages = [{ role: 'system', content: 'You are a careful assistant. Answer briefly.' }];
  const transcript = [];
  for (const step of steps) {
    messages.push({ role: 'user', content: step(messages) });
    const stream = await client.chat.completions.create({ model, messages, stream: true, max_tokens: 256 });
    let reply = '';
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta?.content ?? '';
      reply += piece;
      onToken(piece);
    }
    onToken('\n');
    messages.push({ role: 'assistant', content: reply });
    transcript.push({ prompt: messages.at(-2).content, reply });
  }
  return transcript;
}

// Run as a script: node agent.mjs "task"
if (import.meta.url === `file://${process.argv[1]}`) {
  const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1:8080/v1' });
  const model = process.env.LLMHOST_MODEL ?? 'echo';
  const task = process.argv[2] ?? 'Explain what llmhost does in one sentence.';
  await runAgent({ client, model, task, onToken: (t) => process.stdout.write(t) });
}
