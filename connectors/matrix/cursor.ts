// Matrix cursor: per room the /messages tokens to resume from, plus the live /sync position. Versioned JSON.
//
// A room's first read paginates backwards (`dir=b`) from the live edge; `end` is set to the live edge
// at that moment, and `back` holds the token to continue backwards from until the configured start
// date or the room's creation is reached (then `back` is removed). Later runs read forwards
// (`dir=f`) from `end`. Tokens make resume exact: no timestamps, so equal timestamps cannot collide.
//
// While a backfill is unfinished, reactions and edits already seen (they are newer than their
// targets, so they arrive first when reading backwards) wait in `pendingReactions`/`pendingEdits`
// until their target is read, so an interrupted backfill still counts them.
import { z } from 'zod';

export const pendingEditSchema = z.object({
  event_id: z.string(),
  sender: z.string(),
  origin_server_ts: z.number().int(),
  content: z.record(z.string(), z.unknown()),
});
export type PendingEdit = z.infer<typeof pendingEditSchema>;

export const roomStateSchema = z.object({
  /** Read forwards from here on the next run (a /messages `end` or a /sync `next_batch`). */
  end: z.string().optional(),
  /** The first backfill is unfinished: continue backwards from here. */
  back: z.string().optional(),
  /** Backfill only: target event id -> reaction key -> distinct senders. */
  pendingReactions: z.record(z.string(), z.record(z.string(), z.array(z.string()))).optional(),
  /** Backfill only: target event id -> the latest edit seen. */
  pendingEdits: z.record(z.string(), pendingEditSchema).optional(),
  /** Encrypted rooms: the time up to which the unreadable period has been reported as a gap. */
  gapReportedTo: z.number().int().optional(),
});
export type RoomState = z.infer<typeof roomStateSchema>;

export const matrixCursorSchema = z.object({
  v: z.literal(1),
  rooms: z.record(z.string(), roomStateSchema),
  /** The live side's `/sync` position. */
  nextBatch: z.string().optional(),
});
export type MatrixCursor = z.infer<typeof matrixCursorSchema>;

export function emptyMatrixCursor(): MatrixCursor {
  return { v: 1, rooms: {} };
}

/** Validates a stored cursor; throws with the zod issues when it is not a v1 Matrix cursor. */
export function parseMatrixCursor(value: unknown): MatrixCursor {
  return matrixCursorSchema.parse(value);
}

/** A deep copy, so cursors handed out in pages never change afterwards. */
export function snapshotCursor(c: MatrixCursor): MatrixCursor {
  return structuredClone(c);
}
