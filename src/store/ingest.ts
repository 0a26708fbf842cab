// The ingest repository, read side: one transaction per batch (`ingestTransaction`), the channels and
// authors a batch names (made when new), and the lookups the ingest plan needs (src/pipeline/
// ingest-plan.ts): stored versions, originals, copy candidates, stream tails, conversations by
// reference and by subject. Writes of the plan: ./ingest-apply.ts. No pipeline logic here.
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { chunks, dbKind, StoreError } from './db.js';
import { inList, insertRows, runStatement } from './bulk.js';
import type { QuarantineEntry, RawMessage, Gap } from '../model/index.js';
import type { AuthorWanted, ChannelWanted, IngestRefs, StoredCopy, StoredStreamLine, StoredVersion } from '../model/ingest.js';
import type { Yielder } from '../yield.js';

export interface IngestBatch {
  sourceId: number;
  platform: string;
  messages: RawMessage[];
  raw?: Array<{ externalId: string; payload: string }>;
  normalizerVersion: number;
  cursor?: { key: string; value: string };
  quarantine?: QuarantineEntry[];
  gaps?: Gap[];
}

export interface IngestResult {
  new: number;
  updated: number;
  unchanged: number;
  copies: number;
  quarantined: number;
  /** Conversations created or changed by this batch: what the enrich stage should look at. */
  conversationIds: number[];
  /** Where this batch's time went, ms per stage (set by the ingest stage's shell). */
  stageMs?: Record<string, number>;
}

/**
 * Runs `work` in one write transaction, given the store ids of the batch's channels and authors.
 * SQLite: BEGIN IMMEDIATE takes the write lock first: several worker processes on one file then wait on
 * the busy timeout, where a deferred transaction whose read snapshot went stale fails with SQLITE_BUSY.
 * PostgreSQL: channels and authors first, in a short transaction of their own. Two workers meeting the
 * same new author or channel would otherwise wait for each other's whole batch (an insert of a
 * conflicting key waits for the other transaction to end). Both are idempotent: a batch that fails
 * after this leaves them for its retry.
 */
export async function ingestTransaction<T>(
  db: Kysely<Database>,
  sourceId: number,
  wanted: { channels: ChannelWanted[]; authors: AuthorWanted[] },
  now: number,
  work: (trx: Kysely<Database>, refs: IngestRefs) => Promise<T>,
): Promise<T> {
  const ensure = async (trx: Kysely<Database>): Promise<IngestRefs> => ({
    channelIds: await ensureChannels(trx, sourceId, wanted.channels),
    identityIds: await ensureIdentities(trx, wanted.authors, now),
  });
  if (dbKind(db) === 'sqlite') {
    return db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await work(conn, await ensure(conn));
        await sql`commit`.execute(conn);
        return result;
      } catch (err: unknown) {
        await sql`rollback`.execute(conn).catch(() => undefined); // SQLite may have rolled back already (disk full)
        throw await explainSqliteError(conn, err);
      }
    });
  }
  const refs = await db.transaction().execute(ensure);
  return db.transaction().execute((trx) => work(trx, refs));
}

/** A full disk names the database file and says what to do; the batch was rolled back whole. */
async function explainSqliteError(db: Kysely<Database>, err: unknown): Promise<unknown> {
  if ((err as { code?: unknown }).code !== 'SQLITE_FULL') return err;
  const list = await sql<{ file: string }>`pragma database_list`.execute(db).catch(() => null);
  const file = list?.rows[0]?.file || 'the SQLite database';
  return new StoreError(`${file}: the disk is full (SQLite could not write): nothing of this batch was stored; free space on that disk (or move the database) and the batch is retried`, {
    cause: err,
  });
}

/** What is already stored for these external ids of a source. */
export async function readStoredVersions(trx: Kysely<Database>, sourceId: number, externalIds: readonly string[], tick: Yielder): Promise<Map<string, StoredVersion>> {
  const out = new Map<string, StoredVersion>();
  for (const part of chunks([...externalIds])) {
    await tick();
    const l = inList(part);
    const rows = await runStatement<{ id: number; external_id: string; content_hash: string; conversation_id: number | null; edited_at: number | string | null; deleted: number }>(
      trx,
      `select "id", "external_id", "content_hash", "conversation_id", "edited_at", "deleted" from "messages" where "source_id" = ? and "external_id" in (${l.marks})`,
      [sourceId, ...l.values],
    );
    for (const r of rows)
      out.set(r.external_id, { id: r.id, contentHash: r.content_hash, conversationId: r.conversation_id, editedAt: r.edited_at === null ? null : Number(r.edited_at), deleted: Boolean(r.deleted) });
  }
  return out;
}

/** Stored originals (not copies) of these ref keys: the same mail stored from another source. */
export async function readOriginals(trx: Kysely<Database>, refKeys: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks([...refKeys])) {
    const l = inList(part);
    const rows = await runStatement<{ id: number; ref_key: string }>(trx, `select "id", "ref_key" from "messages" where "ref_key" in (${l.marks}) and "copy_of" is null`, l.values);
    for (const r of rows) if (!out.has(r.ref_key)) out.set(r.ref_key, r.id);
  }
  return out;
}

/** Stored messages in these copy slots, sent within [minAt, maxAt]. */
export async function readCopyCandidates(trx: Kysely<Database>, want: { slots: string[]; minAt: number; maxAt: number } | null): Promise<StoredCopy[]> {
  const out: StoredCopy[] = [];
  if (!want) return out;
  for (const part of chunks(want.slots)) {
    const l = inList(part);
    const rows = await runStatement<{
      id: number;
      ref_key: string;
      channel_id: number;
      identity_id: number;
      sent_at: number | string;
      copy_key: string | null;
      copy_of: number | null;
      relay: string | null;
      conversation_id: number | null;
    }>(
      trx,
      `select "id", "ref_key", "channel_id", "identity_id", "sent_at", "copy_key", "copy_of", "relay", "conversation_id" from "messages" where "copy_slot" in (${l.marks}) and "sent_at" >= ? and "sent_at" <= ?`,
      [...l.values, want.minAt, want.maxAt],
    );
    for (const r of rows)
      out.push({
        id: r.id,
        key: r.ref_key,
        copyKey: r.copy_key!,
        channelId: r.channel_id,
        identityId: r.identity_id,
        at: Number(r.sent_at),
        relay: r.relay !== null,
        copyOf: r.copy_of,
        conversationId: r.conversation_id,
      });
  }
  return out;
}

/** The newest `limit` lines of a channel's main stream sent at or before `at`, newest first. */
export async function readStreamTail(trx: Kysely<Database>, channelId: number, at: number, limit: number): Promise<StoredStreamLine[]> {
  // A fixed statement: run for every channel of every batch, where building it cost more than running it.
  const rows = await runStatement<{ ref_key: string; clean_text: string; sent_at: number | string; display_name: string | null; value: string }>(
    trx,
    'select "m"."ref_key", "m"."clean_text", "m"."sent_at", "idn"."display_name", "idn"."value" from "messages" as "m" inner join "identities" as "idn" on "idn"."id" = "m"."identity_id" where "m"."channel_id" = ? and "m"."stream" = 1 and "m"."sent_at" <= ? order by "m"."sent_at" desc, "m"."id" desc limit ?',
    [channelId, at, limit],
  );
  return rows.map((r) => ({ key: r.ref_key, text: r.clean_text, at: Number(r.sent_at), author: r.display_name ?? r.value }));
}

/** The conversation of each stored message of these ref keys (that has one). */
export async function readConversationsOfKeys(trx: Kysely<Database>, refKeys: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks([...refKeys])) {
    const l = inList(part);
    const rows = await runStatement<{ ref_key: string; conversation_id: number | null }>(
      trx,
      `select "ref_key", "conversation_id" from "messages" where "ref_key" in (${l.marks}) and "conversation_id" is not null`,
      l.values,
    );
    for (const r of rows) out.set(r.ref_key, r.conversation_id!);
    // A thread key with no message of its own (the starter is not stored): the conversation of a stored message in that thread.
    const missing = part.filter((k) => !out.has(k));
    if (!missing.length) continue;
    const lm = inList(missing);
    const inThread = await runStatement<{ ref_key: string; conversation_id: number | null }>(
      trx,
      `select "r"."ref_key", "m"."conversation_id" from "message_refs" as "r" inner join "messages" as "m" on "m"."id" = "r"."message_id" where "r"."ref_key" in (${lm.marks}) and "r"."kind" = ? and "m"."conversation_id" is not null order by "m"."id"`,
      [...lm.values, 'thread'],
    );
    for (const r of inThread) if (!out.has(r.ref_key)) out.set(r.ref_key, r.conversation_id!);
  }
  return out;
}

/** The oldest conversation per channel and subject key, among those active since `from`: `${channelId}\u0000${subjectKey}` -> id. */
export async function readConversationsOfSubjects(trx: Kysely<Database>, subjectKeys: readonly string[], from: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks([...subjectKeys])) {
    // Grouped here: a subject many threads share ("Re: build fails") returned thousands of rows a batch.
    const rows = await trx
      .selectFrom('conversations')
      .select((eb) => ['channel_id', 'subject_key', eb.fn.min<number>('id').as('id')])
      .where('subject_key', 'in', part)
      .where('last_at', '>=', from)
      .groupBy(['channel_id', 'subject_key'])
      .execute();
    for (const r of rows) {
      const k = `${r.channel_id}\u0000${r.subject_key}`;
      const id = Number(r.id);
      const had = out.get(k);
      if (had === undefined || id < had) out.set(k, id);
    }
  }
  return out;
}

async function ensureChannels(trx: Kysely<Database>, sourceId: number, channels: readonly ChannelWanted[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!channels.length) return out;
  // PostgreSQL: the stored ones read first, only new ones inserted. An insert of a stored channel's key
  // waits for any open transaction that updated that channel (another worker's batch, see touchChannels)
  // to end, to learn whether the key is still taken.
  const wanted = dbKind(trx) === 'postgres' ? await readChannels(trx, sourceId, channels, out) : channels;
  if (!wanted.length) return out;
  for (const part of chunks(wanted, 200)) {
    await insertRows(
      trx,
      'channels',
      ['source_id', 'external_id', 'name', 'first_at', 'last_at'],
      part.map((c) => [sourceId, c.externalId, c.name ?? c.externalId, null, null]),
      { onConflict: 'on conflict ("source_id", "external_id") do nothing' },
    );
  }
  await readChannels(trx, sourceId, wanted, out);
  return out;
}

/** Adds the stored ids of these channels to `out`; returns those not stored. */
async function readChannels(trx: Kysely<Database>, sourceId: number, channels: readonly ChannelWanted[], out: Map<string, number>): Promise<ChannelWanted[]> {
  for (const part of chunks(channels.map((c) => c.externalId))) {
    const l = inList(part);
    const rows = await runStatement<{ id: number; external_id: string }>(trx, `select "id", "external_id" from "channels" where "source_id" = ? and "external_id" in (${l.marks})`, [
      sourceId,
      ...l.values,
    ]);
    for (const r of rows) out.set(r.external_id, r.id);
  }
  return channels.filter((c) => !out.has(c.externalId));
}

const PERSON_COLUMNS = ['display_name', 'org_id', 'is_staff', 'created_at'] as const;
const IDENTITY_COLUMNS = ['kind', 'value', 'display_name', 'email', 'is_bot', 'person_id', 'link_evidence', 'created_at', 'org_hints'] as const;

/** author id -> identity id; new authors get an identity and a person (joined by the same email when one is known). */
async function ensureIdentities(trx: Kysely<Database>, authors: readonly AuthorWanted[], now: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const byKindValue = new Map<string, { id: number; personId: number; hints: string | null }>();
  for (const kind of new Set(authors.map((w) => w.kind))) {
    const values = authors.filter((w) => w.kind === kind).map((w) => w.value);
    for (const part of chunks(values)) {
      const l = inList(part);
      const rows = await runStatement<{ id: number; kind: string; value: string; person_id: number; org_hints: string | null }>(
        trx,
        `select "id", "kind", "value", "person_id", "org_hints" from "identities" where "kind" = ? and "value" in (${l.marks})`,
        [kind, ...l.values],
      );
      for (const r of rows) byKindValue.set(`${r.kind}\u0000${r.value}`, { id: r.id, personId: r.person_id, hints: r.org_hints });
    }
  }
  const pg = dbKind(trx) === 'postgres';
  const fresh = new Map<string, AuthorWanted>();
  for (const w of authors) {
    const k = `${w.kind}\u0000${w.value}`;
    const known = byKindValue.get(k);
    let id = known?.id;
    const h = w.hints;
    if (known && h !== null && h !== known.hints) {
      // The platform says something new (a role given or taken): the person's org is resolved again.
      await runStatement(trx, 'update "identities" set "org_hints" = ? where "id" = ?', [h, known.id]);
      await runStatement(trx, 'update "people" set "org_resolved_at" = null where "id" = ?', [known.personId]);
      known.hints = h;
    }
    if (id === undefined && pg) {
      // PostgreSQL: the batch's new authors are made together, below (a few statements, not three a new author).
      if (!fresh.has(k)) fresh.set(k, w);
      continue;
    }
    if (id === undefined) {
      // Three statements a new author (SQLite): fixed ones, not built per author (an import of a store's
      // first messages meets thousands of new authors).
      // The same email seen on another platform is clear evidence of the same person.
      let personId: number | undefined;
      let evidence: string | null = null;
      if (w.email) {
        const [other] = await runStatement<{ person_id: number }>(trx, 'select "person_id" from "identities" where "email" = ?', [w.email]);
        if (other) {
          personId = other.person_id;
          evidence = JSON.stringify({ rule: 'same-email', email: w.email });
        }
      }
      let newPerson: number | undefined;
      if (personId === undefined) {
        const [p] = await insertRows(trx, 'people', PERSON_COLUMNS, [[w.name || w.value, null, 0, now]], { returning: ['id'] });
        if (!p) throw new StoreError(`person for ${w.kind} ${w.value}: the insert returned no id`);
        personId = newPerson = Number(p.id);
      }
      const [row] = await insertRows(trx, 'identities', IDENTITY_COLUMNS, [[w.kind, w.value, w.name, w.email, w.isBot ? 1 : 0, personId, evidence, now, h]], {
        onConflict: 'on conflict ("kind", "value") do nothing',
        returning: ['id'],
      });
      if (!row) {
        // Another worker stored this author meanwhile (PostgreSQL, concurrent batches): use theirs.
        if (newPerson !== undefined) await trx.deleteFrom('people').where('id', '=', newPerson).execute();
        const theirs = await trx.selectFrom('identities').select(['id', 'person_id']).where('kind', '=', w.kind).where('value', '=', w.value).executeTakeFirstOrThrow();
        byKindValue.set(k, { id: theirs.id, personId: theirs.person_id, hints: h });
        out.set(w.authorId, theirs.id);
        continue;
      }
      id = Number(row.id);
      byKindValue.set(k, { id, personId, hints: h });
      // A new identity may place its person (joined by the same email) elsewhere: resolve again.
      if (evidence) await runStatement(trx, 'update "people" set "org_resolved_at" = null where "id" = ?', [personId]);
    }
    out.set(w.authorId, id);
  }
  if (fresh.size) {
    await createIdentitiesPg(trx, [...fresh.values()], now, byKindValue);
    for (const w of authors) if (!out.has(w.authorId)) out.set(w.authorId, byKindValue.get(`${w.kind}\u0000${w.value}`)!.id);
  }
  return out;
}

/**
 * PostgreSQL: a batch's new authors (one each, in batch order) get their identities and people in a
 * few statements, whatever their number: as ensureIdentities does one by one on SQLite. An author
 * whose email another identity has (stored, or an earlier new author of the batch) joins that person,
 * with the evidence; else a person of their own, its id taken from the sequence first. An author
 * another worker stored meanwhile takes theirs, and the people made for such authors go again.
 */
async function createIdentitiesPg(
  trx: Kysely<Database>,
  wanted: readonly AuthorWanted[],
  now: number,
  byKindValue: Map<string, { id: number; personId: number; hints: string | null }>,
): Promise<void> {
  const emails = [...new Set(wanted.flatMap((w) => (w.email ? [w.email] : [])))];
  const storedPersonOfEmail = new Map<string, number>();
  if (emails.length) {
    const rows = await runStatement<{ email: string; person_id: number }>(
      trx,
      'select distinct on ("email") "email", "person_id" from "identities" where "email" = any(?::text[]) order by "email", "id"',
      [emails],
    );
    for (const r of rows) storedPersonOfEmail.set(r.email, r.person_id);
  }
  // Who joins whom: a stored person (by id), or the new person of an earlier author of this batch (by position).
  const plans: Array<{ w: AuthorWanted; person: { id: number } | { fresh: number }; evidence: string | null }> = [];
  const freshOfEmail = new Map<string, number>();
  const newPeople: AuthorWanted[] = [];
  for (const w of wanted) {
    const evidence = w.email ? JSON.stringify({ rule: 'same-email', email: w.email }) : null;
    const stored = w.email ? storedPersonOfEmail.get(w.email) : undefined;
    const earlier = w.email ? freshOfEmail.get(w.email) : undefined;
    if (stored !== undefined) plans.push({ w, person: { id: stored }, evidence });
    else if (earlier !== undefined) plans.push({ w, person: { fresh: earlier }, evidence });
    else {
      if (w.email) freshOfEmail.set(w.email, newPeople.length);
      plans.push({ w, person: { fresh: newPeople.length }, evidence: null });
      newPeople.push(w);
    }
  }
  let personIds: number[] = [];
  if (newPeople.length) {
    personIds = (await runStatement<{ id: number }>(trx, "select nextval(pg_get_serial_sequence('people', 'id'))::integer as \"id\" from generate_series(1, ?::integer)", [newPeople.length]))
      .map((r) => Number(r.id))
      .sort((a, b) => a - b);
    await runStatement(
      trx,
      'insert into "people" ("id", "display_name", "org_id", "is_staff", "created_at") select "v"."id", "v"."name", null, 0, ? from unnest(?::integer[], ?::text[]) as "v"("id", "name")',
      [now, personIds, newPeople.map((w) => w.name || w.value)],
    );
  }
  const personOf = (p: (typeof plans)[number]) => ('id' in p.person ? p.person.id : personIds[p.person.fresh]!);
  const inserted = await runStatement<{ id: number; kind: string; value: string }>(
    trx,
    'insert into "identities" ("kind", "value", "display_name", "email", "is_bot", "person_id", "link_evidence", "created_at", "org_hints") select "v"."kind", "v"."value", "v"."name", "v"."email", "v"."is_bot", "v"."person_id", "v"."evidence", ?, "v"."hints" from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::integer[], ?::integer[], ?::text[], ?::text[]) with ordinality as "v"("kind", "value", "name", "email", "is_bot", "person_id", "evidence", "hints", "n") order by "v"."n" on conflict ("kind", "value") do nothing returning "id", "kind", "value"',
    [
      now,
      plans.map((p) => p.w.kind),
      plans.map((p) => p.w.value),
      plans.map((p) => p.w.name),
      plans.map((p) => p.w.email),
      plans.map((p) => (p.w.isBot ? 1 : 0)),
      plans.map(personOf),
      plans.map((p) => p.evidence),
      plans.map((p) => p.w.hints),
    ],
  );
  const made = new Map(inserted.map((r) => [`${r.kind}\u0000${r.value}`, Number(r.id)]));
  const usedPeople = new Set<number>();
  const theirs: Array<(typeof plans)[number]> = [];
  for (const p of plans) {
    const k = `${p.w.kind}\u0000${p.w.value}`;
    const id = made.get(k);
    if (id === undefined) theirs.push(p);
    else {
      usedPeople.add(personOf(p));
      byKindValue.set(k, { id, personId: personOf(p), hints: p.w.hints });
    }
  }
  // A new identity may place its stored person (joined by the same email) elsewhere: resolve again.
  const rejoined = [...new Set(plans.filter((p) => 'id' in p.person && made.has(`${p.w.kind}\u0000${p.w.value}`)).map(personOf))];
  if (rejoined.length) await runStatement(trx, 'update "people" set "org_resolved_at" = null where "id" = any(?::integer[])', [rejoined]);
  if (!theirs.length) return;
  // Another worker stored these authors meanwhile (concurrent batches): use theirs.
  const unused = personIds.filter((id) => !usedPeople.has(id));
  if (unused.length) await runStatement(trx, 'delete from "people" where "id" = any(?::integer[])', [unused]);
  const rows = await runStatement<{ id: number; kind: string; value: string; person_id: number }>(
    trx,
    'select "i"."id", "i"."kind", "i"."value", "i"."person_id" from "identities" as "i" inner join unnest(?::text[], ?::text[]) as "v"("kind", "value") on "i"."kind" = "v"."kind" and "i"."value" = "v"."value"',
    [theirs.map((p) => p.w.kind), theirs.map((p) => p.w.value)],
  );
  const found = new Map(rows.map((r) => [`${r.kind}\u0000${r.value}`, r]));
  for (const p of theirs) {
    const k = `${p.w.kind}\u0000${p.w.value}`;
    const r = found.get(k);
    if (!r) throw new StoreError(`identity ${p.w.kind} ${p.w.value}: neither stored here nor found stored by another worker`);
    byKindValue.set(k, { id: r.id, personId: r.person_id, hints: p.w.hints });
  }
}
