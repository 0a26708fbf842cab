// IRC cursor, versioned JSON: per network channel the last message seen (time, msgid and the ids
// sharing that time, as the tie-breaker), and per network until when the connector was connected.
import { z } from 'zod';

export const channelStateSchema = z.object({
  /** ms of the newest message seen. */
  lastTime: z.number().int(),
  /** Its msgid, when the server gives msgids (CHATHISTORY AFTER msgid=...). */
  lastMsgid: z.string().nullable(),
  /** External ids of the messages at exactly lastTime, so a resume by timestamp repeats none. */
  idsAtLastTime: z.array(z.string()),
});
export type ChannelState = z.infer<typeof channelStateSchema>;

export const ircCursorSchema = z.object({
  v: z.literal(1),
  /** Key `<network>/<#channel lower-cased>`. */
  channels: z.record(z.string(), channelStateSchema),
  /** Per network: the last time (ms) the live connection was known to be up. */
  connectedUntil: z.record(z.string(), z.number().int()).default({}),
});
export type IrcCursor = z.infer<typeof ircCursorSchema>;

export function emptyIrcCursor(): IrcCursor {
  return { v: 1, channels: {}, connectedUntil: {} };
}

/** Validates a stored cursor; undefined/null means "from the start". */
export function parseIrcCursor(value: unknown): IrcCursor {
  if (value === undefined || value === null) return emptyIrcCursor();
  return ircCursorSchema.parse(value);
}

export const channelKey = (network: string, channel: string): string => `${network}/${channel.toLowerCase()}`;

/** A new cursor advanced past one message (cursors handed out in pages are never mutated). */
export function advance(cursor: IrcCursor, key: string, time: number, externalId: string, msgid: string | null): IrcCursor {
  const prev = cursor.channels[key];
  let next: ChannelState;
  if (!prev || time > prev.lastTime) next = { lastTime: time, lastMsgid: msgid, idsAtLastTime: [externalId] };
  else if (time === prev.lastTime) {
    next = prev.idsAtLastTime.includes(externalId) ? prev : { lastTime: time, lastMsgid: msgid ?? prev.lastMsgid, idsAtLastTime: [...prev.idsAtLastTime, externalId] };
  } else next = prev; // older than what we have: already covered
  return next === prev ? cursor : { ...cursor, channels: { ...cursor.channels, [key]: next } };
}

export function withConnectedUntil(cursor: IrcCursor, network: string, at: number): IrcCursor {
  return { ...cursor, connectedUntil: { ...cursor.connectedUntil, [network]: at } };
}

/** True when a message at `time` with this id was already handed out under the cursor. */
export function seen(cursor: IrcCursor, key: string, time: number, externalId: string): boolean {
  const s = cursor.channels[key];
  if (!s) return false;
  return time < s.lastTime || (time === s.lastTime && s.idsAtLastTime.includes(externalId));
}
