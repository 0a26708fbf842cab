// Matrix source config, validated at start; the schema documents it.
import { z } from 'zod';

const ROOM_ID = /^![^:\s]+:\S+$/;
const ROOM_ALIAS = /^#[^:\s]+:\S+$/;

export const matrixConfigSchema = z
  .object({
    /** Client-server API base URL of the homeserver, e.g. `https://matrix-client.matrix.org`. */
    homeserver: z.url(),
    /** Secret: the account's access token (redacted in logs and the API, see MATRIX_SECRET_KEYS). */
    accessToken: z.string().min(1),
    /** The account's user id (`@bot:example.org`); optional, only used to tell the SDK who it is. */
    userId: z
      .string()
      .regex(/^@[^:\s]+:\S+$/, 'expected a Matrix user id like @bot:example.org')
      .optional(),
    /** Rooms to read, by id (`!abc:hs`) or alias (`#lumen:matrix.org`). Absent: every joined room. */
    rooms: z
      .array(z.string().refine((r) => ROOM_ID.test(r) || ROOM_ALIAS.test(r), 'expected a room id (!id:server) or alias (#name:server)'))
      .min(1)
      .optional(),
    /** First backfill goes back to this date (ISO 8601); absent: the whole visible history. */
    since: z
      .string()
      .refine((s) => Number.isFinite(Date.parse(s)), 'expected an ISO 8601 date, e.g. 2026-10-01')
      .optional(),
    /** Events asked for per `/messages` request (the server may return fewer). */
    pageSize: z.number().int().min(1).max(1000).default(100),
    /** Long-poll time of one live `/sync` request. */
    syncTimeoutMs: z.number().int().min(0).max(120_000).default(30_000),
    /** Local timeout of one request (a `/sync` gets its long-poll time on top). */
    requestTimeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
  })
  .strict();

export type MatrixConfig = z.output<typeof matrixConfigSchema>;
export type MatrixConfigInput = z.input<typeof matrixConfigSchema>;

/** Config keys holding secrets. */
export const MATRIX_SECRET_KEYS = ['accessToken'] as const;

export const isRoomAlias = (r: string): boolean => ROOM_ALIAS.test(r);
