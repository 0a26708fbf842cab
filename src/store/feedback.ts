// The feedback repository, read side: what the enrich stage detects on (conversations' messages) and
// what its save plan (src/pipeline/enrich-plan.ts) needs read in the transaction it is applied in
// (src/store/feedback-apply.ts): the conversations' items, human tags, conversations still alive.
import type { Kysely } from 'kysely';
import { chunks, dbKind } from './db.js';
import type { Database } from './schema.js';
import { messagesWithAuthors } from './authors.js';
import type { ConversationMessage } from '../model/records.js';
import type { HumanTags, StoredItem } from '../model/enrich.js';
import { isListHostAddress } from '../model/people.js';

/**
 * The conversations' messages as detection reads them. Staff: the person's flag (config, org, or the
 * maintainer rules of src/pipeline/people.ts, see resolveOrgs), or an address at the list's own domain.
 */
export async function loadConversationMessages(db: Kysely<Database>, conversationIds: number[]): Promise<Map<number, ConversationMessage[]>> {
  const out = new Map<number, ConversationMessage[]>();
  for (let i = 0; i < conversationIds.length; i += 400) {
    const part = conversationIds.slice(i, i + 400);
    const rows = await messagesWithAuthors(db)
      .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
      .select([
        'm.id',
        'm.conversation_id',
        'm.clean_text',
        'm.subject',
        'ch.name as channel',
        'ch.external_id as channelExternal',
        'm.is_bot',
        'i.is_bot as identityBot',
        'i.kind as identityKind',
        'i.value as identityValue',
        'i.email as identityEmail',
        'p.id as personId',
        'p.is_staff',
        'o.segment as orgSegment',
        'm.labels',
      ])
      .where('m.conversation_id', 'in', part)
      .where('m.copy_of', 'is', null)
      .where('m.deleted', '=', 0)
      .orderBy('m.sent_at')
      .orderBy('m.id')
      .execute();
    for (const r of rows) {
      const list = out.get(r.conversation_id!) ?? [];
      const email = r.identityEmail ?? (r.identityKind === 'email' ? r.identityValue : null);
      const isStaff = r.is_staff === 1 || r.orgSegment === 'staff' || (r.identityKind === 'email' && isListHostAddress(email, r.channelExternal));
      list.push({
        id: r.id,
        text: r.clean_text,
        subject: r.subject,
        channel: r.channel ?? '',
        isBot: r.is_bot === 1 || r.identityBot === 1,
        isStaff,
        labels: r.labels ? (JSON.parse(r.labels) as string[]) : [],
      });
      out.set(r.conversation_id!, list);
    }
  }
  return out;
}

/** One transaction for a batch of detections: read, plan and apply inside it. */
export async function detectionTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(work);
}

/** The feedback item of each conversation that has one. */
export async function readItemsOfConversations(trx: Kysely<Database>, conversationIds: readonly number[]): Promise<Map<number, StoredItem>> {
  const existing = new Map<number, StoredItem>();
  for (const part of chunks(conversationIds)) {
    for (const r of await trx.selectFrom('feedback_items').select(['id', 'conversation_id', 'status']).where('conversation_id', 'in', part).execute()) existing.set(r.conversation_id, r);
  }
  return existing;
}

/** The human tags of these items: which items a human tagged, and the tags a human removed. */
export async function readHumanTags(trx: Kysely<Database>, itemIds: readonly number[]): Promise<HumanTags> {
  const removed = new Map<number, Set<string>>();
  const tagged = new Set<number>();
  for (const part of chunks(itemIds)) {
    for (const h of await trx.selectFrom('tags').select(['item_id', 'tag', 'state']).where('item_id', 'in', part).where('provenance', '=', 'human').execute()) {
      tagged.add(h.item_id);
      if (h.state !== 'removed') continue;
      const set = removed.get(h.item_id) ?? new Set<string>();
      set.add(h.tag);
      removed.set(h.item_id, set);
    }
  }
  return { tagged, removed };
}

/**
 * Which of these conversations still exist (one merged into another by a concurrent ingest gets no
 * item). On PostgreSQL the rows are held (FOR SHARE) until the transaction ends, so an ingest merging
 * one away waits for the item written for it rather than leaving it on a deleted conversation; SQLite
 * runs one writer at a time anyway.
 */
export async function readLiveConversations(trx: Kysely<Database>, conversationIds: readonly number[]): Promise<Set<number>> {
  const pg = dbKind(trx) === 'postgres';
  const alive = new Set<number>();
  for (const part of chunks(conversationIds)) {
    const q = trx.selectFrom('conversations').select('id').where('id', 'in', part).orderBy('id');
    for (const r of await (pg ? q.forShare() : q).execute()) alive.add(r.id);
  }
  return alive;
}
