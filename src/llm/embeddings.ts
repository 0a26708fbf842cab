// Need vectors from an optional OpenAI-compatible `/v1/embeddings` endpoint (a local model server),
// off by default and never required: when it cannot be reached or answers nonsense, grouping uses the
// shipped representation and the run goes on. Only the need texts are sent (no names, no channels,
// no ids), as with the `llm:` option.
import { z } from 'zod';
import { LlmError, postJson, type LlmEndpoint } from './client.js';

const embeddingsSchema = z.object({
  data: z.array(z.object({ index: z.number().int().min(0), embedding: z.array(z.number()).min(1) })).min(1),
});

/** One vector per text, in the order given; throws LlmError on any failure. */
export async function embedTexts(endpoint: LlmEndpoint, texts: readonly string[], fetchImpl: typeof fetch = fetch): Promise<Float32Array[]> {
  const { url, text } = await postJson(endpoint, 'embeddings', { model: endpoint.model, input: texts }, fetchImpl);
  let body: z.infer<typeof embeddingsSchema>;
  try {
    body = embeddingsSchema.parse(JSON.parse(text));
  } catch (err: unknown) {
    throw new LlmError('invalid_answer', `${url}: not an embeddings answer: ${text.slice(0, 200)}`, { cause: err });
  }
  const out: Array<Float32Array | undefined> = new Array(texts.length);
  for (const d of body.data) if (d.index < texts.length) out[d.index] = Float32Array.from(d.embedding);
  const dim = out[0]?.length;
  if (out.some((v) => v === undefined || v.length !== dim)) throw new LlmError('invalid_answer', `${url}: expected ${texts.length} vectors of one dimension`);
  return out as Float32Array[];
}

/**
 * Need vectors for these items, in batches of `batch`; on the first failure, none more are asked for
 * and the failure is returned beside what was embedded so far (grouping falls back per item).
 */
export async function embedNeeds(
  endpoint: LlmEndpoint,
  docs: ReadonlyArray<{ itemId: number; need: string }>,
  batch = 64,
  fetchImpl: typeof fetch = fetch,
): Promise<{ vectors: Map<number, Float32Array>; error: LlmError | null }> {
  const vectors = new Map<number, Float32Array>();
  const todo = docs.filter((d) => d.need.trim() !== '');
  for (let i = 0; i < todo.length; i += batch) {
    const part = todo.slice(i, i + batch);
    try {
      const v = await embedTexts(
        endpoint,
        part.map((d) => d.need),
        fetchImpl,
      );
      part.forEach((d, k) => vectors.set(d.itemId, v[k]!));
    } catch (err: unknown) {
      return { vectors, error: err instanceof LlmError ? err : new LlmError('network', String(err), { cause: err }) };
    }
  }
  return { vectors, error: null };
}
