// Small zod helpers for route params, query strings and form bodies (all of them outside data).
import { z } from 'zod';

export const idParam = z.object({ id: z.coerce.number().int().positive() });

/** A form field that may come once (string) or repeated (array). */
export const intList = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
  .pipe(z.array(z.coerce.number().int().positive()));

export const checkbox = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => v !== undefined && v !== '' && v !== '0');

export const optionalText = (max: number) =>
  z
    .string()
    .max(max)
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined));

/** Fixed notices shown after a form redirect; the query string carries a code, never free text. */
export const NOTICES: Record<string, string> = {
  renamed: 'The cluster was renamed.',
  pushed: 'The cluster was pushed to the tracker: its issue is linked below.',
  curated: 'The draft was updated: order, hidden entries, titles and notes.',
  pinned: 'The title is pinned: later runs keep it.',
  unpinned: 'The title is no longer pinned.',
  merged: 'The clusters were merged.',
  merge_undone: 'The automatic merge was undone: these conversations are a cluster of their own again, and later runs keep the two apart.',
  split: 'The items were split out into a new cluster.',
  moved: 'The item was moved.',
  tagged: 'The tag was added.',
  untagged: 'The tag was removed.',
  confirmed: 'The item was accepted as feedback.',
  notfeedback: 'The item was marked as not feedback.',
  people_merged: 'The people were merged; every identity keeps its evidence.',
  unmerged: 'The identity now belongs to a new person.',
  approved: 'The digest was approved.',
  token_revoked: 'The token was revoked.',
  user_added: 'The user was added.',
  role_changed: 'The role was changed.',
  password_changed: 'Your password was changed and every session of yours ended, this one too: log in with the new password.',
  password_set: "The password was set; that user's sessions and API tokens ended.",
  user_disabled: 'The user was disabled; their sessions and API tokens ended.',
  user_enabled: 'The user was enabled again (their old API tokens stay revoked).',
  user_removed: 'The user was removed.',
  logged_out: 'You are logged out.',
  resolved: 'The cluster is resolved; a reply to each thread where it was reported is drafted below.',
  reply_saved: 'The reply was saved.',
  reply_dismissed: 'The reply was dismissed; it will not be sent.',
  reply_sent: 'The reply was approved and sent.',
};

export function notice(query: unknown): string | null {
  const code = (query as { done?: unknown } | undefined)?.done;
  return typeof code === 'string' ? (NOTICES[code] ?? null) : null;
}
