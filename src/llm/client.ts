// A minimal client for OpenAI-compatible chat completions (local model servers such as llama.cpp,
// vLLM, Ollama): one request through fetch with a timeout, a JSON-schema'd answer, validated with zod.
import { z } from 'zod';

export interface LlmEndpoint {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
}

export type LlmFailure = 'timeout' | 'rate_limited' | 'http' | 'network' | 'invalid_answer';

export class LlmError extends Error {
  readonly code: LlmFailure;
  readonly status: number | undefined;
  constructor(code: LlmFailure, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'LlmError';
    this.code = code;
    this.status = options.status;
  }
}

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

/** The request body, exactly as sent (tests assert on it). */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature: number;
  response_format: { type: 'json_schema'; json_schema: { name: string; strict: true; schema: Record<string, unknown> } };
}

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
});

/** Some servers wrap JSON in a Markdown fence even when asked not to. */
function unfence(s: string): string {
  const m = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(s);
  return m ? m[1]! : s;
}

/**
 * POSTs a JSON body to `<baseUrl>/<path>` of an OpenAI-compatible server and returns the answer's text;
 * throws LlmError (timeout, network, rate_limited, http) naming the URL.
 */
export async function postJson(endpoint: LlmEndpoint, path: string, body: unknown, fetchImpl: typeof fetch = fetch): Promise<{ url: string; text: string }> {
  const url = `${endpoint.baseUrl.replace(/\/+$/, '')}/${path}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
  let res: Response;
  let text: string;
  try {
    res = await fetchImpl(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(endpoint.timeoutMs) });
    text = await res.text();
  } catch (err: unknown) {
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new LlmError('timeout', `no answer from ${url} within ${endpoint.timeoutMs} ms`, { cause: err });
    throw new LlmError('network', `cannot reach ${url}: ${(err as Error).message}`, { cause: err });
  }
  if (res.status === 429) throw new LlmError('rate_limited', `${url} answered 429 (rate limited)`, { status: 429 });
  if (!res.ok) throw new LlmError('http', `${url} answered ${res.status}: ${text.slice(0, 200)}`, { status: res.status });
  return { url, text };
}

export async function chatJson<T>(endpoint: LlmEndpoint, request: ChatRequest, answer: z.ZodType<T>, fetchImpl: typeof fetch = fetch): Promise<T> {
  const { url, text } = await postJson(endpoint, 'chat/completions', request, fetchImpl);
  let content: string | null;
  try {
    const body = completionSchema.parse(JSON.parse(text));
    content = body.choices[0]!.message.content;
  } catch (err: unknown) {
    throw new LlmError('invalid_answer', `${url}: not a chat completion: ${text.slice(0, 200)}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(unfence(content ?? ''));
  } catch (err: unknown) {
    throw new LlmError('invalid_answer', `${url}: the answer is not JSON: ${(content ?? '').slice(0, 200)}`, { cause: err });
  }
  const parsed = answer.safeParse(value);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new LlmError('invalid_answer', `${url}: the answer does not follow the schema: ${why}`, { cause: parsed.error });
  }
  return parsed.data;
}
