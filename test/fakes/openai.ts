// A local fake of an OpenAI-compatible chat-completions endpoint (node:http): `POST /v1/chat/completions`
// answers with the JSON the test's `answer` function returns, or fails the way servers do (500, 429,
// no answer within the client's timeout, a body that is not a completion, content that is not the
// schema). It records every request exactly as received.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeMode = 'ok' | '500' | '429' | 'timeout' | 'garbage' | 'bad-json-content' | 'off-schema';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeOpenAi {
  /** Base URL up to and including /v1. */
  baseUrl: string;
  requests: RecordedRequest[];
  mode: FakeMode;
  /** The answer content (an object, sent as JSON text in choices[0].message.content) for one request body. */
  answer: (body: unknown) => unknown;
  close(): Promise<void>;
}

export async function startFakeOpenAi(answer: (body: unknown) => unknown = () => ({ summary: 'ok' })): Promise<FakeOpenAi> {
  const fake: FakeOpenAi = { baseUrl: '', requests: [], mode: 'ok', answer, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // recorded as text
      }
      fake.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
      const completion = (content: string) =>
        json(200, { id: 'chatcmpl-fake', object: 'chat.completion', model: 'fake', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }] });
      switch (fake.mode) {
        case '500':
          json(500, { error: { message: 'internal error', type: 'server_error' } });
          return;
        case '429':
          json(429, { error: { message: 'rate limited', type: 'rate_limit' } }, { 'retry-after': '30' });
          return;
        case 'timeout':
          return; // never answers; the client gives up
        case 'garbage':
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 bad gateway</html>');
          return;
        case 'bad-json-content':
          completion('Sure! The kind is bug.');
          return;
        case 'off-schema':
          completion(JSON.stringify({ kind: 'catastrophe', confidence: 7 }));
          return;
        case 'ok':
          completion(JSON.stringify(fake.answer(body)));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  fake.baseUrl = `http://127.0.0.1:${port}/v1`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
