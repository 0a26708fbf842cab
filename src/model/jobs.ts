// What each queue's jobs carry: one schema per queue, checked by the stage shell that takes the job
// (data from Redis is untrusted until then), and the type a caller adding a job must give.
import { z } from 'zod';
import { GapSchema, QuarantineEntrySchema, RawMessageSchema } from './index.js';

export const IngestPayloadSchema = z.object({
  sourceId: z.number().int(),
  platform: z.string(),
  messages: z.array(RawMessageSchema),
  raw: z.array(z.object({ externalId: z.string(), payload: z.string() })).optional(),
  normalizerVersion: z.number().int(),
  cursor: z.object({ key: z.string(), value: z.string() }).optional(),
  quarantine: z.array(QuarantineEntrySchema).optional(),
  gaps: z.array(GapSchema).optional(),
});
export type IngestPayload = z.infer<typeof IngestPayloadSchema>;

export const EnrichPayloadSchema = z.object({ conversationIds: z.array(z.number().int()).min(1) });
export type EnrichPayload = z.infer<typeof EnrichPayloadSchema>;

export const ClusterPayloadSchema = z.object({ itemIds: z.array(z.number().int()).min(1) });
export type ClusterPayload = z.infer<typeof ClusterPayloadSchema>;

export const DigestPayloadSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('weekly') }),
  z.object({ type: z.literal('send'), id: z.number().int() }),
  z.object({ type: z.literal('build'), periodStart: z.number().int(), periodEnd: z.number().int(), team: z.string().optional() }),
  // Outbound (src/outbound-jobs.ts): read linked issues back; post due webhook deliveries.
  z.object({ type: z.literal('tracker-sync') }),
  z.object({ type: z.literal('webhooks-deliver') }),
]);
export type DigestPayload = z.infer<typeof DigestPayloadSchema>;

/** Queue name -> what its jobs carry. */
export interface QueuePayloads {
  ingest: IngestPayload;
  enrich: EnrichPayload;
  cluster: ClusterPayload;
  digest: DigestPayload;
}
