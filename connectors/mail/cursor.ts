// IMAP cursor: per mailbox the UIDVALIDITY it was read under and the last UID read. Versioned JSON.
import { z } from 'zod';

export const mailboxStateSchema = z.object({
  /** UIDVALIDITY as a decimal string (imapflow gives a BigInt). */
  uidValidity: z.string().regex(/^\d+$/),
  lastUid: z.number().int().min(0),
});
export type MailboxState = z.infer<typeof mailboxStateSchema>;

export const mailCursorSchema = z.object({
  v: z.literal(1),
  mailboxes: z.record(z.string(), mailboxStateSchema),
});
export type MailCursor = z.infer<typeof mailCursorSchema>;

export function emptyMailCursor(): MailCursor {
  return { v: 1, mailboxes: {} };
}

/** Validates a stored cursor; throws with the zod issues when it is not a v1 mail cursor. */
export function parseMailCursor(value: unknown): MailCursor {
  return mailCursorSchema.parse(value);
}

/** A new cursor with one mailbox's state replaced (cursors handed out in pages are never mutated). */
export function withMailbox(cursor: MailCursor, path: string, state: MailboxState): MailCursor {
  return { v: 1, mailboxes: { ...cursor.mailboxes, [path]: { ...state } } };
}

/** Where to resume a mailbox: after `lastUid` when UIDVALIDITY is unchanged, else from the start. */
export function resumeUid(cursor: MailCursor, path: string, uidValidity: string): number {
  const state = cursor.mailboxes[path];
  return state && state.uidValidity === uidValidity ? state.lastUid : 0;
}
