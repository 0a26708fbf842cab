// The ingest repository, write side: applies an ingest plan (src/pipeline/ingest-plan.ts) inside the
// batch's transaction (./ingest.ts): edits, new conversations and messages in bulk, originals set once
// ids are known, references kept, stored replies pulled into a parent that arrived late, counts and
// pending enrichment recorded, then raw items, quarantine, gaps and the cursor.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { chunks, dbKind } from './db.js';
import { inList, insertRows, insertUnnest, runStatement, type PgType } from './bulk.js';
import type { Yielder } from '../yield.js';
import type { RawMessage } from '../model/index.js';
import type { IngestPlan } from '../model/ingest.js';
import type { IngestBatch, IngestResult } from './ingest.js';

const MESSAGE_COLUMNS = [
  'source_id',
  'channel_id',
  'external_id',
  'ref_key',
  'identity_id',
  'text',
  'clean_text',
  'content_hash',
  'sent_at',
  'edited_at',
  'deleted',
  'is_bot',
  'subject',
  'permalink',
  'reactions',
  'attachments',
  'labels',
  'relay',
  'copy_key',
  'copy_slot',
  'stream',
  'copy_of',
  'conversation_id',
  'created_at',
  'updated_at',
] as const;

const CONVERSATION_COLUMNS = [
  'channel_id',
  'root_message_id',
  'root_key',
  'subject',
  'subject_key',
  'started_at',
  'last_at',
  'message_count',
  'participant_count',
  'updated_at',
  'enrich_pending',
] as const;

/** Rows per multi-row insert. */
const ROWS = 200;

/** `msgs`: the batch's messages (last version of each), for the channels' time spans. */
export async function applyIngest(
  trx: Kysely<Database>,
  batch: IngestBatch,
  msgs: readonly RawMessage[],
  channelIds: ReadonlyMap<string, number>,
  plan: IngestPlan,
  now: number,
  tick: Yielder,
): Promise<IngestResult> {
  const { sourceId } = batch;
  const touched = new Set(plan.touched);
  for (const u of plan.updates) {
    await tick();
    const m = u.m;
    await trx
      .updateTable('messages')
      .set({
        text: m.text,
        clean_text: m.cleanText ?? m.text,
        content_hash: u.hash,
        edited_at: m.editedAt ?? null,
        deleted: m.deleted ? 1 : 0,
        subject: m.subject ?? null,
        permalink: m.permalink ?? null,
        reactions: m.reactions ? JSON.stringify(m.reactions) : null,
        attachments: m.attachments?.length ? JSON.stringify(m.attachments) : null,
        labels: m.labels?.length ? JSON.stringify(m.labels) : null,
        updated_at: now,
      })
      .where('id', '=', u.id)
      .execute();
  }

  // New conversations with their counts as planned, and the messages with their conversation and
  // (when stored) their original, in time order.
  const pg = dbKind(trx) === 'postgres';
  const { conversations: freshConvIds, messages: insertedIds } = pg ? await insertFreshPg(trx, sourceId, plan, now) : await insertFresh(trx, sourceId, plan, now, tick);
  const convOf = (r: IngestPlan['messages'][number]) => ('existing' in r.conversation ? r.conversation.existing : freshConvIds[r.conversation.fresh]!);

  // Copies whose original is new in this batch: its id is known only now (PostgreSQL: set with the
  // insert, the ids taken first). Stored messages whose standing changed (a relay stored before its
  // original) are re-pointed, their threads recounted.
  if (!pg) {
    for (const [i, orig] of plan.copyFixes) {
      const id = insertedIds[orig];
      if (id !== undefined && id !== insertedIds[i]) await trx.updateTable('messages').set({ copy_of: id }).where('id', '=', insertedIds[i]!).execute();
    }
  }
  for (const st of plan.repoint) {
    const want = 'id' in st.to ? st.to.id : insertedIds[st.to.fresh]!;
    await trx.updateTable('messages').set({ copy_of: want, updated_at: now }).where('id', '=', st.id).execute();
    // Anything that pointed at it now points at the new original.
    await trx.updateTable('messages').set({ copy_of: want }).where('copy_of', '=', st.id).execute();
    if (st.conversationId !== null) touched.add(st.conversationId);
  }
  const freshIds = freshConvIds.filter((id) => id !== undefined);
  if (!pg) {
    for (const part of chunks(freshIds)) {
      const l = inList(part);
      await runStatement(
        trx,
        `update "conversations" set "root_message_id" = (select "messages"."id" from "messages" where "messages"."ref_key" = "conversations"."root_key" limit 1) where "id" in (${l.marks})`,
        l.values,
      );
    }
  }

  // References, kept so that a parent arriving later can pull its replies into its conversation.
  const idOfFreshKey = new Map(plan.messages.map((r, i) => [r.key, insertedIds[i]!]));
  const refRows = plan.refs.map((r) => [idOfFreshKey.get(plan.messages[r.fresh]!.key)!, r.refKey, r.kind] as const);
  if (pg)
    await insertUnnest(
      trx,
      'message_refs',
      [
        ['message_id', 'integer'],
        ['ref_key', 'text'],
        ['kind', 'text'],
      ],
      refRows,
      { onConflict: 'on conflict do nothing' },
    );
  else for (const part of chunks(refRows, 300)) await insertRows(trx, 'message_refs', ['message_id', 'ref_key', 'kind'], part, { onConflict: 'on conflict do nothing' });
  // What the batch just stored: a reference between two of its messages in one conversation needs no lookup.
  const batchConv = { ofId: new Map<number, number>(), ofKey: new Map<string, number>() };
  plan.messages.forEach((r, i) => {
    batchConv.ofId.set(insertedIds[i]!, convOf(r));
    // A source's own key names this message only (a global key may name stored copies too).
    if (!r.m.globalKey) batchConv.ofKey.set(r.key, convOf(r));
  });
  await pullInReplies(
    trx,
    plan.messages.map((r) => r.key),
    touched,
    tick,
    batchConv,
  );

  // Enrichment owed, recorded with the batch: a run that dies before enriching leaves it findable.
  if (pg) await refreshAndMarkPendingPg(trx, [...touched], now);
  else {
    await refreshConversations(trx, [...touched], now, tick);
    await markEnrichPending(trx, [...touched]);
  }
  await touchChannels(trx, sourceId, msgs, channelIds);
  const quarantined = await keepBatchRecords(trx, batch, now, tick);
  return { ...plan.counts, quarantined, conversationIds: [...new Set([...touched, ...freshIds])].sort((a, b) => a - b) };
}

/** A new message's row, in the order of MESSAGE_COLUMNS. */
function messageRow(sourceId: number, r: IngestPlan['messages'][number], copyOf: number | null, conversationId: number, now: number): unknown[] {
  return [
    sourceId,
    r.channelId,
    r.m.externalId,
    r.key,
    r.identityId,
    r.m.text,
    r.m.cleanText ?? r.m.text,
    r.hash,
    r.m.sentAt,
    r.m.editedAt ?? null,
    r.m.deleted ? 1 : 0,
    r.m.author.isBot ? 1 : 0,
    r.m.subject ?? null,
    r.m.permalink ?? null,
    r.m.reactions && Object.keys(r.m.reactions).length ? JSON.stringify(r.m.reactions) : null,
    r.m.attachments?.length ? JSON.stringify(r.m.attachments) : null,
    r.m.labels?.length ? JSON.stringify(r.m.labels) : null,
    r.m.relay ? JSON.stringify(r.m.relay) : null,
    r.copyKey,
    r.copySlot,
    r.stream ? 1 : 0,
    copyOf,
    conversationId,
    now,
    now,
  ];
}

/** SQLite: the batch's new conversations, then its messages, in multi-row inserts; their ids by position. */
async function insertFresh(trx: Kysely<Database>, sourceId: number, plan: IngestPlan, now: number, tick: Yielder): Promise<{ conversations: number[]; messages: number[] }> {
  const freshConvIds = new Array<number>(plan.conversations.length);
  for (let c = 0; c < plan.conversations.length; c += ROWS) {
    await tick();
    const part = plan.conversations.slice(c, c + ROWS);
    const rows = await insertRows(
      trx,
      'conversations',
      CONVERSATION_COLUMNS,
      part.map((f) => [f.channelId, null, f.rootKey, f.subject, f.subjectKey, f.startedAt, f.lastAt, f.messageCount, f.participantCount, now, 1]),
      { returning: ['id', 'root_key'] },
    );
    const idOfRoot = new Map(rows.map((r) => [r.root_key as string, Number(r.id)]));
    part.forEach((f, j) => (freshConvIds[c + j] = idOfRoot.get(f.rootKey)!));
  }
  const convOf = (r: IngestPlan['messages'][number]) => ('existing' in r.conversation ? r.conversation.existing : freshConvIds[r.conversation.fresh]!);
  const insertedIds: number[] = [];
  for (let c = 0; c < plan.messages.length; c += ROWS) {
    await tick();
    const part = plan.messages.slice(c, c + ROWS);
    const rows = await insertRows(
      trx,
      'messages',
      MESSAGE_COLUMNS,
      part.map((r) => messageRow(sourceId, r, r.copyOf, convOf(r), now)),
      { returning: ['id', 'ref_key'] },
    );
    const idOfKey = new Map(rows.map((r) => [r.ref_key as string, Number(r.id)]));
    part.forEach((r) => insertedIds.push(idOfKey.get(r.key)!));
  }
  return { conversations: freshConvIds, messages: insertedIds };
}

const MESSAGE_TYPES: Record<(typeof MESSAGE_COLUMNS)[number], PgType> = {
  source_id: 'integer',
  channel_id: 'integer',
  external_id: 'text',
  ref_key: 'text',
  identity_id: 'integer',
  text: 'text',
  clean_text: 'text',
  content_hash: 'text',
  sent_at: 'bigint',
  edited_at: 'bigint',
  deleted: 'integer',
  is_bot: 'integer',
  subject: 'text',
  permalink: 'text',
  reactions: 'text',
  attachments: 'text',
  labels: 'text',
  relay: 'text',
  copy_key: 'text',
  copy_slot: 'text',
  stream: 'integer',
  copy_of: 'integer',
  conversation_id: 'integer',
  created_at: 'bigint',
  updated_at: 'bigint',
};
const MESSAGE_COLUMNS_PG: ReadonlyArray<readonly [string, PgType]> = [['id', 'integer'], ...MESSAGE_COLUMNS.map((c) => [c, MESSAGE_TYPES[c]] as const)];

/**
 * PostgreSQL: the batch's new conversations and messages, each row written once. Their ids are taken
 * from the sequences first (in plan order, as the inserts would have numbered them), so a conversation
 * is inserted with its root message (a stored message of its root key if there is one, as the
 * lookup by key after the insert found; else its first new message) and a copy with its new original:
 * no update of either afterwards. Two statements of arrays (unnest), whatever the batch's size.
 */
async function insertFreshPg(trx: Kysely<Database>, sourceId: number, plan: IngestPlan, now: number): Promise<{ conversations: number[]; messages: number[] }> {
  const [ids] = await runStatement<{ c: number[]; m: number[] }>(
    trx,
    `select array(select nextval(pg_get_serial_sequence('conversations', 'id'))::integer from generate_series(1, ?::integer)) as "c", array(select nextval(pg_get_serial_sequence('messages', 'id'))::integer from generate_series(1, ?::integer)) as "m"`,
    [plan.conversations.length, plan.messages.length],
  );
  const convIds = ids!.c.map(Number).sort((a, b) => a - b);
  const msgIds = ids!.m.map(Number).sort((a, b) => a - b);
  const key = new Map<string, number>();
  plan.messages.forEach((r, i) => {
    if (!key.has(r.key)) key.set(r.key, msgIds[i]!);
  });
  if (plan.conversations.length) {
    await runStatement(
      trx,
      'insert into "conversations" ("id", "channel_id", "root_message_id", "root_key", "subject", "subject_key", "started_at", "last_at", "message_count", "participant_count", "updated_at", "enrich_pending") select "v"."id", "v"."channel_id", coalesce((select "m"."id" from "messages" as "m" where "m"."ref_key" = "v"."root_key" limit 1), "v"."root_id"), "v"."root_key", "v"."subject", "v"."subject_key", "v"."started_at", "v"."last_at", "v"."message_count", "v"."participant_count", ?, 1 from unnest(?::integer[], ?::integer[], ?::integer[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::integer[], ?::integer[]) with ordinality as "v"("id", "channel_id", "root_id", "root_key", "subject", "subject_key", "started_at", "last_at", "message_count", "participant_count", "n") order by "v"."n"',
      [
        now,
        convIds,
        plan.conversations.map((f) => f.channelId),
        plan.conversations.map((f) => key.get(f.rootKey) ?? null),
        plan.conversations.map((f) => f.rootKey),
        plan.conversations.map((f) => f.subject),
        plan.conversations.map((f) => f.subjectKey),
        plan.conversations.map((f) => f.startedAt),
        plan.conversations.map((f) => f.lastAt),
        plan.conversations.map((f) => f.messageCount),
        plan.conversations.map((f) => f.participantCount),
      ],
    );
  }
  const copyOf = plan.messages.map((r) => r.copyOf);
  for (const [i, orig] of plan.copyFixes) if (orig !== i && msgIds[orig] !== undefined) copyOf[i] = msgIds[orig]!;
  await insertUnnest(
    trx,
    'messages',
    MESSAGE_COLUMNS_PG,
    plan.messages.map((r, i) => [msgIds[i]!, ...messageRow(sourceId, r, copyOf[i] ?? null, 'existing' in r.conversation ? r.conversation.existing : convIds[r.conversation.fresh]!, now)]),
  );
  return { conversations: convIds, messages: msgIds };
}

/**
 * Replies stored before their parent arrived (`keys`: the batch's new messages): their conversations
 * merge into the parent's. `batch`: the conversation of each message the batch stored (by id, and by
 * key where the key names that message only), valid until a merge here.
 */
async function pullInReplies(
  trx: Kysely<Database>,
  keys: readonly string[],
  touched: Set<number>,
  tick: Yielder,
  batch: { ofId: ReadonlyMap<number, number>; ofKey: ReadonlyMap<string, number> },
): Promise<void> {
  if (dbKind(trx) === 'postgres') return pullInRepliesPg(trx, keys, touched, tick);
  let merged = false;
  for (const part of chunks([...keys])) {
    await tick();
    // Three indexed lookups rather than one join: PostgreSQL planned the join as scans of messages.
    const l = inList(part);
    const found = await runStatement<{ message_id: number; ref_key: string }>(trx, `select "message_id", "ref_key" from "message_refs" where "ref_key" in (${l.marks})`, l.values);
    // A reply stored with its parent in this batch, in the parent's conversation: nothing to merge.
    const refs = merged ? found : found.filter((r) => batch.ofId.get(r.message_id) === undefined || batch.ofId.get(r.message_id) !== batch.ofKey.get(r.ref_key));
    if (!refs.length) continue;
    const childConv = new Map<number, number | null>();
    for (const ids of chunks([...new Set(refs.map((r) => r.message_id))])) {
      const li = inList(ids);
      for (const m of await runStatement<{ id: number; conversation_id: number | null }>(trx, `select "id", "conversation_id" from "messages" where "id" in (${li.marks})`, li.values))
        childConv.set(m.id, m.conversation_id);
    }
    const parentConvs = new Map<string, Array<number | null>>();
    const lr = inList([...new Set(refs.map((r) => r.ref_key))]);
    for (const m of await runStatement<{ ref_key: string; conversation_id: number | null }>(trx, `select "ref_key", "conversation_id" from "messages" where "ref_key" in (${lr.marks})`, lr.values)) {
      parentConvs.set(m.ref_key, [...(parentConvs.get(m.ref_key) ?? []), m.conversation_id]);
    }
    const orphans = refs.flatMap((r) => (parentConvs.get(r.ref_key) ?? []).map((parentConv) => ({ childConv: childConv.get(r.message_id) ?? null, parentConv })));
    for (const o of orphans) {
      if (o.childConv === null || o.parentConv === null || o.childConv === o.parentConv) continue;
      await mergeConversations(trx, o.parentConv, o.childConv);
      merged = true;
      touched.delete(o.childConv);
      touched.add(o.parentConv);
    }
  }
}

/**
 * PostgreSQL: pullInReplies with one statement a chunk that returns only what merges (a reference to a
 * new message from a message in another conversation), not every reference with two lookups more:
 * nearly every batch finds none. The same pairs, merged in the same way.
 */
async function pullInRepliesPg(trx: Kysely<Database>, keys: readonly string[], touched: Set<number>, tick: Yielder): Promise<void> {
  for (const part of chunks([...new Set(keys)])) {
    await tick();
    // Each key probed on the index of references (the subquery's OFFSET 0 keeps it a probe): given the
    // whole list, PostgreSQL scanned every reference (a thread root's key has many).
    const orphans = await runStatement<{ message_id: number; ref_key: string; parent_id: number; child: number; parent: number }>(
      trx,
      'select "r"."message_id", "r"."ref_key", "p"."id" as "parent_id", "c"."conversation_id" as "child", "p"."conversation_id" as "parent" from unnest(?::text[]) as "k"("key") cross join lateral (select "message_id", "ref_key" from "message_refs" where "ref_key" = "k"."key" offset 0) as "r" inner join "messages" as "c" on "c"."id" = "r"."message_id" inner join "messages" as "p" on "p"."ref_key" = "r"."ref_key" where "c"."conversation_id" <> "p"."conversation_id"',
      [part],
    );
    orphans.sort((a, b) => a.message_id - b.message_id || (a.ref_key < b.ref_key ? -1 : a.ref_key > b.ref_key ? 1 : 0) || a.parent_id - b.parent_id);
    const pairs = orphans.filter((o) => o.child !== o.parent).map((o) => ({ into: o.parent, from: o.child }));
    if (!pairs.length) continue;
    await mergeConversationsPg(trx, pairs);
    for (const p of pairs) {
      touched.delete(p.from);
      touched.add(p.into);
    }
  }
}

/**
 * PostgreSQL: mergeConversations for each pair in turn, as a few statements whatever the number of
 * pairs (it was four or more statements a pair, a round trip each, with the rows locked meanwhile).
 * The end state is the sequence's: where each conversation's messages end up and which items move or
 * go is worked out here from the items the conversations have, then written once. The same order as
 * mergeConversations: conversation rows first (read after, the items include those of an enrich that
 * held a row), items before their placements and tags.
 */
async function mergeConversationsPg(trx: Kysely<Database>, pairs: ReadonlyArray<{ into: number; from: number }>): Promise<void> {
  const froms = [...new Set(pairs.map((p) => p.from))].sort((a, b) => a - b);
  await runStatement(trx, 'delete from "conversations" where "id" = any(?::integer[])', [froms]);
  const involved = [...new Set(pairs.flatMap((p) => [p.into, p.from]))].sort((a, b) => a - b);
  const items = await runStatement<{ id: number; conversation_id: number }>(trx, 'select "id", "conversation_id" from "feedback_items" where "conversation_id" = any(?::integer[])', [involved]);
  // Where each conversation's messages are (by the conversation they were in), and each conversation's item.
  const label = new Map<number, number>(involved.map((c) => [c, c]));
  const itemAt = new Map<number, number>(items.map((r) => [r.conversation_id, r.id]));
  const gone: number[] = [];
  for (const { into, from } of pairs) {
    for (const [c, at] of label) if (at === from) label.set(c, into);
    const it = itemAt.get(from);
    if (it === undefined) continue;
    itemAt.delete(from);
    if (itemAt.has(into)) gone.push(it);
    else itemAt.set(into, it);
  }
  const startOf = new Map(items.map((r) => [r.id, r.conversation_id]));
  const moved = [...itemAt].filter(([conv, id]) => startOf.get(id) !== conv);
  // One UPDATE checks the unique conversation_id row by row: an item moving to where another item
  // still is (possible only when a merge goes into a conversation merged away before) is done in turn.
  const leaving = new Set(moved.map(([, id]) => startOf.get(id)!));
  if (moved.some(([conv]) => leaving.has(conv))) {
    for (const { into, from } of pairs) await mergeConversations(trx, into, from);
    return;
  }
  const relabel = [...label].filter(([c, at]) => c !== at);
  if (relabel.length)
    await runStatement(trx, 'update "messages" set "conversation_id" = "v"."to" from unnest(?::integer[], ?::integer[]) as "v"("from", "to") where "messages"."conversation_id" = "v"."from"', [
      relabel.map(([c]) => c),
      relabel.map(([, at]) => at),
    ]);
  if (gone.length) await runStatement(trx, 'delete from "feedback_items" where "id" = any(?::integer[])', [gone]);
  if (moved.length)
    await runStatement(trx, 'update "feedback_items" set "conversation_id" = "v"."conv" from unnest(?::integer[], ?::integer[]) as "v"("id", "conv") where "feedback_items"."id" = "v"."id"', [
      moved.map(([, id]) => id),
      moved.map(([conv]) => conv),
    ]);
  if (gone.length) {
    await runStatement(trx, 'delete from "cluster_items" where "item_id" = any(?::integer[])', [gone]);
    await runStatement(trx, 'delete from "tags" where "item_id" = any(?::integer[])', [gone]);
  }
}

/** Raw items, quarantine entries, gaps and the cursor of a batch; returns how many entries were quarantined. */
async function keepBatchRecords(trx: Kysely<Database>, batch: IngestBatch, now: number, tick: Yielder): Promise<number> {
  const { sourceId } = batch;
  if (dbKind(trx) === 'postgres' && batch.raw?.length) {
    // One statement; a payload given twice is stored once, as its last copy (what consecutive upserts leave).
    const last = new Map(batch.raw.map((r) => [r.externalId, r.payload]));
    await insertUnnest(
      trx,
      'raw_items',
      [
        ['source_id', 'integer'],
        ['external_id', 'text'],
        ['payload', 'text'],
        ['normalizer_version', 'integer'],
        ['fetched_at', 'bigint'],
      ],
      [...last].map(([externalId, payload]) => [sourceId, externalId, payload, batch.normalizerVersion, now]),
      {
        onConflict:
          'on conflict ("source_id", "external_id") do update set "payload" = "excluded"."payload", "normalizer_version" = "excluded"."normalizer_version", "fetched_at" = "excluded"."fetched_at"',
      },
    );
  }
  for (const part of dbKind(trx) === 'postgres' ? [] : chunks(batch.raw ?? [], 200)) {
    await tick();
    await trx
      .insertInto('raw_items')
      .values(part.map((r) => ({ source_id: sourceId, external_id: r.externalId, payload: r.payload, normalizer_version: batch.normalizerVersion, fetched_at: now })))
      .onConflict((oc) =>
        oc
          .columns(['source_id', 'external_id'])
          .doUpdateSet((eb) => ({ payload: eb.ref('excluded.payload'), normalizer_version: eb.ref('excluded.normalizer_version'), fetched_at: eb.ref('excluded.fetched_at') })),
      )
      .execute();
  }
  let quarantined = 0;
  for (const q of batch.quarantine ?? []) {
    await trx
      .insertInto('quarantine')
      .values({ source_id: sourceId, location: q.location, reason: q.reason, excerpt: q.excerpt.slice(0, 2000), created_at: now })
      .execute();
    quarantined++;
  }
  for (const g of batch.gaps ?? []) {
    await trx
      .insertInto('gaps')
      .values({ source_id: sourceId, channel: g.channel ?? null, from_at: g.from, to_at: g.to ?? null, reason: g.reason, created_at: now })
      .execute();
  }
  const cursor = batch.cursor;
  if (cursor) {
    await trx
      .insertInto('checkpoints')
      .values({ source_id: sourceId, key: cursor.key, cursor: cursor.value, updated_at: now })
      .onConflict((oc) => oc.columns(['source_id', 'key']).doUpdateSet({ cursor: cursor.value, updated_at: now }))
      .execute();
  }
  return quarantined;
}

/**
 * Moves conversation `from` into `into`. Its feedback item moves along when `into` has none (keeping
 * its cluster and tags); otherwise it goes, with its placement and tags. The order matters with
 * concurrent workers on PostgreSQL: the conversation row goes first (an enrich holding it FOR SHARE
 * finishes first, or sees it gone), and the items before their placements (a cluster worker holding
 * an item FOR SHARE commits its placement first, which the last statements then remove).
 */
async function mergeConversations(trx: Kysely<Database>, into: number, from: number): Promise<void> {
  await trx.deleteFrom('conversations').where('id', '=', from).execute();
  await trx.updateTable('messages').set({ conversation_id: into }).where('conversation_id', '=', from).execute();
  await trx
    .updateTable('feedback_items')
    .set({ conversation_id: into })
    .where('conversation_id', '=', from)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('feedback_items as f2').select('f2.id').where('f2.conversation_id', '=', into))))
    .execute();
  const gone = (await trx.deleteFrom('feedback_items').where('conversation_id', '=', from).returning('id').execute()).map((r) => r.id);
  if (gone.length) {
    await trx.deleteFrom('cluster_items').where('item_id', 'in', gone).execute();
    await trx.deleteFrom('tags').where('item_id', 'in', gone).execute();
  }
}

/** Conversations whose messages changed: their feedback is detected again (see migration 0010). */
export async function markEnrichPending(trx: Kysely<Database>, ids: readonly number[]): Promise<void> {
  // A fixed statement (built once, not per batch); the padded list repeats its last id, which is updated once.
  for (const part of chunks([...ids].sort((a, b) => a - b))) {
    const l = inList(part);
    await runStatement(trx, `update "conversations" set "enrich_pending" = "enrich_pending" + 1 where "id" in (${l.marks})`, l.values);
  }
}

/** Recomputes counts and time span; copies and deleted messages do not count. */
export async function refreshConversations(trx: Kysely<Database>, ids: number[], now: number, tick: Yielder = async () => {}): Promise<void> {
  for (const part of chunks(ids)) {
    await tick();
    // Set-based: two statements a chunk, whatever its size (it was a statement per conversation, a
    // round trip each on PostgreSQL). UPDATE ... FROM: SQLite 3.33+, PostgreSQL.
    const l = inList(part);
    await runStatement(
      trx,
      `update "conversations" set "message_count" = "s"."n", "participant_count" = "s"."people", "started_at" = "s"."first", "last_at" = "s"."last", "updated_at" = ? from (select "conversation_id" as "cid", count(*) as "n", count(distinct "identity_id") as "people", min("sent_at") as "first", max("sent_at") as "last" from "messages" where "conversation_id" in (${l.marks}) and "copy_of" is null and "deleted" = 0 group by "conversation_id") as "s" where "conversations"."id" = "s"."cid"`,
      [now, ...l.values],
    );
    // Conversations left with no counted message (all copies or deleted).
    await runStatement(
      trx,
      `update "conversations" set "message_count" = 0, "participant_count" = 0, "updated_at" = ? where "id" in (${l.marks}) and not exists (select 1 from "messages" where "messages"."conversation_id" = "conversations"."id" and "copy_of" is null and "deleted" = 0)`,
      [now, ...l.values],
    );
  }
}

/**
 * PostgreSQL: refreshConversations and markEnrichPending in one statement whatever the number of
 * conversations, each row written once: recounted (its time span kept when nothing counts any more)
 * and marked as owing enrichment.
 */
async function refreshAndMarkPendingPg(trx: Kysely<Database>, ids: readonly number[], now: number): Promise<void> {
  if (!ids.length) return;
  const sorted = [...ids].sort((a, b) => a - b);
  await runStatement(
    trx,
    `update "conversations" set "message_count" = coalesce("s"."n", 0), "participant_count" = coalesce("s"."people", 0), "started_at" = coalesce("s"."first", "conversations"."started_at"), "last_at" = coalesce("s"."last", "conversations"."last_at"), "updated_at" = ?, "enrich_pending" = "conversations"."enrich_pending" + 1 from unnest(?::integer[]) as "t"("id") left join (select "conversation_id" as "cid", count(*) as "n", count(distinct "identity_id") as "people", min("sent_at") as "first", max("sent_at") as "last" from "messages" where "conversation_id" = any(?::integer[]) and "copy_of" is null and "deleted" = 0 group by "conversation_id") as "s" on "s"."cid" = "t"."id" where "conversations"."id" = "t"."id"`,
    [now, sorted, sorted],
  );
}

async function touchChannels(trx: Kysely<Database>, sourceId: number, msgs: readonly RawMessage[], ids: ReadonlyMap<string, number>): Promise<void> {
  const span = new Map<string, { first: number; last: number }>();
  for (const m of msgs) {
    const s = span.get(m.channel);
    if (!s) span.set(m.channel, { first: m.sentAt, last: m.sentAt });
    else {
      s.first = Math.min(s.first, m.sentAt);
      s.last = Math.max(s.last, m.sentAt);
    }
  }
  // One fixed statement per channel: the span widened where it was set, taken as it is where not.
  for (const [ch, s] of span) {
    await runStatement(
      trx,
      'update "channels" set "first_at" = case when "first_at" is null or "first_at" > ? then ? else "first_at" end, "last_at" = case when "last_at" is null or "last_at" < ? then ? else "last_at" end where "id" = ? and "source_id" = ?',
      [s.first, s.first, s.last, s.last, ids.get(ch)!, sourceId],
    );
  }
}
