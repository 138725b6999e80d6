// A fake upstream OpenAI endpoint that replays the recorded chat-completion answers of
// tests/fixtures/openai_sse (see its README), for the agent-client tests that go
// client -> llmhost serve -> openai plugin -> here. It picks the recording by the request:
//   last message role "tool"        -> c_answer_after_tool (its tool_call_id must be the recorded call's)
//   tools given                     -> a_tool_call (get_weather {"city":"Paris"})
//   reasoning_effort given          -> d_deepseek_reasoning_content
// .sse when the request streams, .json otherwise; GET /v1/models lists one model. Every request
// body is kept in `requests`, so a test can check what the plugin sent upstream.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'openai_sse');
export const RECORDED_CALL_ID = 'call_q7Xb2LmN9sTfRk4VwZc1Hy8D';
export const RECORDED_ANSWER = "It's currently 18\u00b0C and sunny in Paris.";

function fail(res, status, message) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }));
}

export async function startReplayUpstream() {
  const requests = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (req.method === 'GET' && req.url.endsWith('/models')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'openai' }] }));
      }
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) return fail(res, 404, `no route ${req.url}`);
      let q;
      try { q = JSON.parse(body); } catch { return fail(res, 400, 'body is not JSON'); }
      requests.push(q);
      const last = q.messages?.[q.messages.length - 1];
      let name;
      if (last?.role === 'tool') {
        if (last.tool_call_id !== RECORDED_CALL_ID) return fail(res, 400, `tool_call_id ${last.tool_call_id} is not the recorded call's`);
        name = 'c_answer_after_tool';
      } else if (Array.isArray(q.tools) && q.tools.length > 0) {
        name = 'a_tool_call';
      } else if (q.reasoning_effort) {
        name = 'd_deepseek_reasoning_content';
      } else {
        return fail(res, 400, 'the replay upstream has no recording for this request');
      }
      if (q.stream) {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        return res.end(readFileSync(join(fixtures, `${name}.sse`)));
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(readFileSync(join(fixtures, `${name}.json`)));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    requests,
    baseURL: `http://127.0.0.1:${server.address().port}/v1`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
