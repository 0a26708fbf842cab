// Digest shell: the weekly job (from the BullMQ job scheduler) builds the drafts and, with
// autoApprove, dispatches their sends; a send job makes one attempt. A send that may succeed later
// throws so the queue retries it with backoff; one that cannot (no recipients, a permanent refusal,
// an unknown outcome waiting for a human) fails for good with its reason, which the edition keeps too.
import { DigestPayloadSchema } from '../model/jobs.js';
import { PermanentJobError } from '../queue/port.js';
import type { StageContext } from './context.js';
import { postEditionLogged, prepareEditions, runWeeklyDigest } from '../digest/workflow.js';
import { sendEdition } from '../digest/send.js';
import { runOutboundJob } from '../outbound-jobs.js';

export async function runDigest(ctx: StageContext, data: unknown): Promise<unknown> {
  const parsed = DigestPayloadSchema.safeParse(data);
  if (!parsed.success) throw new PermanentJobError(`bad digest job payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const p = parsed.data;
  if (p.type === 'weekly') return runWeeklyDigest(ctx);
  if (p.type === 'tracker-sync' || p.type === 'webhooks-deliver') return runOutboundJob(ctx, p.type);
  if (p.type === 'build') return prepareEditions(ctx, { start: p.periodStart, end: p.periodEnd }, p.team);
  const outcome = await sendEdition(ctx, p.id);
  // The team's chat posts go with the send, each once (they have their own claims).
  if (outcome.status !== 'not-approved') await postEditionLogged(ctx, p.id);
  switch (outcome.status) {
    case 'sent':
    case 'already-sent':
      return outcome;
    case 'failed':
      if (outcome.retryable) throw new Error(`digest ${p.id} not sent (will retry): ${outcome.error}`);
      throw new PermanentJobError(`digest ${p.id} not sent: ${outcome.error}`);
    case 'busy':
      // Another sender holds the lease; retry later so a stopped sender's edition is resolved.
      throw new Error(`digest ${p.id} is being sent by another worker`);
    case 'unknown':
      throw new PermanentJobError(`digest ${p.id}: ${outcome.error}`);
    case 'not-approved':
      throw new PermanentJobError(`digest ${p.id} is ${outcome.current}, not approved`);
  }
}
