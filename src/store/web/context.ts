// The one join behind the web's lists and filters: a message in its context (channel, source, author's
// identity, person and org), and a feedback item with its report message in that context. Aliases:
// m messages, ch channels, s sources, i identities, p people, o orgs (left-joined), f feedback_items.
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './tables.js';
import { messagesWithAuthors } from '../authors.js';

/** Messages with their channel (ch), source (s), author's identity (i), person (p) and org (o, may be null). */
export function messagesInContext(db: Db) {
  return messagesWithAuthors(db).innerJoin('channels as ch', 'ch.id', 'm.channel_id').innerJoin('sources as s', 's.id', 'ch.source_id');
}

/** Feedback items (f) with their report message (m) in context; items marked not feedback are left out. */
export function itemsInContext(db: Db) {
  return messagesInContext(db).innerJoin('feedback_items as f', 'f.message_id', 'm.id').where('f.status', '!=', 'not_feedback');
}

/** On the join above: the author is in the segment (staff; community: no org segment; else the org's). */
export function inSegment(segment: string): RawBuilder<boolean> {
  if (segment === 'staff') return sql<boolean>`p.is_staff = 1`;
  if (segment === 'community') return sql<boolean>`(p.is_staff = 0 and o.segment is null)`;
  return sql<boolean>`(p.is_staff = 0 and o.segment = ${segment})`;
}

/** On the join above: the message is in the channel (by name or by the platform's id). */
export function inChannel(channel: string): RawBuilder<boolean> {
  return sql<boolean>`(ch.name = ${channel} or ch.external_id = ${channel})`;
}
