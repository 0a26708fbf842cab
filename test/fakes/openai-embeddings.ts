// A local fake of an OpenAI-compatible embeddings endpoint (node:http), in the way of ./openai.ts:
// `POST /v1/embeddings` answers one vector per input from the test's `embed` function, or fails the
// way servers do (500, a body that is not an embeddings answer). It records every request as received.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from './openai.js';

export interface FakeEmbeddings {
  /** Base URL up to and including /v1. */
  baseUrl: string;
  requests: RecordedRequest[];
  mode: 'ok' | '500' | 'garbage';
  close(): Promise<void>;
}

export async function startFakeEmbeddings(embed: (text: string) => number[]): Promise<FakeEmbeddings> {
  const fake: FakeEmbeddings = { baseUrl: '', requests: [], mode: 'ok', close: async () => {} };
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
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') return json(404, { error: { message: 'not found' } });
      if (fake.mode === '500') return json(500, { error: { message: 'internal error', type: 'server_error' } });
      if (fake.mode === 'garbage') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 bad gateway</html>');
      const input = (body as { input?: unknown }).input;
      const texts = Array.isArray(input) ? input.map(String) : [String(input)];
      json(200, { object: 'list', model: 'fake', data: texts.map((t, index) => ({ object: 'embedding', index, embedding: embed(t) })) });
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = () => new Promise<void>((ok) => server.close(() => ok()));
  return fake;
}
