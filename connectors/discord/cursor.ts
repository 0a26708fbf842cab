// Discord cursor: per channel (text channel, thread or forum post) the newest message id read, plus what the
// edit/delete re-check needs. Versioned JSON; snowflakes stay strings and are compared as BigInt.
import { z } from 'zod';

/** Discord's epoch (2015-01-01T00:00:00Z), PLATFORMS.md 2.2. */
export const DISCORD_EPOCH_MS = 1420070400000;

const snowflake = z.string().regex(/^\d{1,20}$/, 'a snowflake (decimal string)');

export const channelStateSchema = z.object({
  /** Newest message id read in this channel; '0' when the channel was read and was empty. */
  lastId: snowflake,
  /**
   * The newest `timestamp`/`edited_timestamp` (ms, Discord's clock, so no skew with ours) seen when the newest
   * messages were last re-read: an `edited_timestamp` after it is an edit not yet reported.
   */
  editsSeenUpTo: z.number().int().optional(),
  /** Ids of the newest messages read (at most the re-check window): a missing one was deleted. */
  recent: z.array(snowflake).optional(),
});
export type ChannelState = z.infer<typeof channelStateSchema>;

export const discordCursorSchema = z.object({
  v: z.literal(1),
  channels: z.record(z.string(), channelStateSchema),
});
export type DiscordCursor = z.infer<typeof discordCursorSchema>;

export function emptyDiscordCursor(): DiscordCursor {
  return { v: 1, channels: {} };
}

/** Validates a stored cursor (undefined/null = start from the beginning); throws with the zod issues otherwise. */
export function parseDiscordCursor(value: unknown): DiscordCursor {
  if (value === undefined || value === null) return emptyDiscordCursor();
  return discordCursorSchema.parse(value);
}

/** A new cursor with one channel's state replaced (cursors handed out in pages are never mutated). */
export function withChannel(cursor: DiscordCursor, channelId: string, state: ChannelState): DiscordCursor {
  return { v: 1, channels: { ...cursor.channels, [channelId]: state } };
}

export function compareSnowflakes(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function snowflakeToMs(id: string): number {
  return Number(BigInt(id) >> 22n) + DISCORD_EPOCH_MS;
}

/** The snowflake right after `id` (for an inclusive `before`). */
export function nextSnowflake(id: string): string {
  return (BigInt(id) + 1n).toString();
}
