// Slack cursor: per channel, the newest top-level `ts` fully read, an in-progress history window,
// the threads still watched for new replies, and fingerprints of recent messages (edits/deletes).
// Versioned JSON. Slack `ts` strings are unique per channel and compared exactly (fixed-point), never as floats.
import { z } from 'zod';

const TS = z.string().regex(/^\d+\.\d{6}$/, 'a Slack ts "<seconds>.<6 digits>"');

export const channelStateSchema = z.object({
  /** Newest top-level message ts read completely; the next window starts after it. */
  latestTs: TS.nullable(),
  /**
   * A history window being read newest-first: `(oldest, latest)` exclusive. `latest` is the oldest ts
   * already handed out (null before the first page), `top` the newest. Resuming continues below `latest`;
   * when the window is done `latestTs` becomes `top`.
   */
  pending: z
    .object({
      oldest: TS.nullable(),
      latest: TS.nullable(),
      top: TS.nullable(),
      /** Known ts (at or before `latestTs`) seen again in this window: the rest were deleted. */
      seen: z.array(TS),
    })
    .optional(),
  /** Watched threads: parent ts -> newest reply ts handed out. */
  threads: z.record(TS, TS).default({}),
  /** Recent messages: ts -> fingerprint (`<hash>` top-level, `<hash>@<thread ts>` for replies). */
  recent: z.record(TS, z.string()).default({}),
});
export type ChannelState = z.infer<typeof channelStateSchema>;

export const slackCursorSchema = z.object({
  v: z.literal(1),
  channels: z.record(z.string(), channelStateSchema),
});
export type SlackCursor = z.infer<typeof slackCursorSchema>;

export function emptySlackCursor(): SlackCursor {
  return { v: 1, channels: {} };
}

export function emptyChannelState(): ChannelState {
  return { latestTs: null, threads: {}, recent: {} };
}

/** Validates a stored cursor; throws with the zod issues when it is not a v1 Slack cursor. */
export function parseSlackCursor(value: unknown): SlackCursor {
  return slackCursorSchema.parse(value);
}

// ---- ts arithmetic ----

/** `"1512085950.000216"` -> 1512085950000216n (microseconds), exact. */
export function tsToMicros(ts: string): bigint {
  const [s, f = ''] = ts.split('.');
  return BigInt(s ?? '0') * 1_000_000n + BigInt((f + '000000').slice(0, 6));
}

export function microsToTs(us: bigint): string {
  const s = us / 1_000_000n;
  const f = us % 1_000_000n;
  return `${s}.${f.toString().padStart(6, '0')}`;
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function compareTs(a: string, b: string): number {
  const x = tsToMicros(a);
  const y = tsToMicros(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export const maxTs = (a: string | null | undefined, b: string | null | undefined): string | null => (a == null ? (b ?? null) : b == null ? a : compareTs(a, b) >= 0 ? a : b);
export const minTs = (a: string | null | undefined, b: string | null | undefined): string | null => (a == null ? (b ?? null) : b == null ? a : compareTs(a, b) <= 0 ? a : b);

/** PLATFORMS.md 1.9: ms since epoch. */
export function tsToMs(ts: string): number {
  const [s, f = '0'] = ts.split('.');
  return Number(s) * 1000 + Math.floor(Number((f + '000000').slice(0, 6)) / 1000);
}

export function msToTs(ms: number): string {
  return microsToTs(BigInt(Math.floor(ms)) * 1000n);
}

export const isTs = (x: unknown): x is string => typeof x === 'string' && /^\d+\.\d+$/.test(x);
