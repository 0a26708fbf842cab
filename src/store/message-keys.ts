// Every stored message with the keys labels name it by (external id, channel), its conversation and
// its author's person: what `gleaner eval feedback` joins hand labels to. Copies resolve to their
// original (a copy is never counted; its label stands for the original's).
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface MessageKeyRow {
  messageId: number;
  externalId: string;
  channelName: string | null;
  channelExternalId: string;
  conversationId: number | null;
  personId: number;
  copyOf: number | null;
}

export async function messageKeys(db: Kysely<Database>): Promise<MessageKeyRow[]> {
  const rows = await db
    .selectFrom('messages as m')
    .innerJoin('identities as i', 'i.id', 'm.identity_id')
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .select(['m.id', 'm.external_id', 'ch.name', 'ch.external_id as channel_external_id', 'm.conversation_id', 'i.person_id', 'm.copy_of'])
    .orderBy('m.id')
    .execute();
  return rows.map((r) => ({
    messageId: Number(r.id),
    externalId: r.external_id,
    channelName: r.name,
    channelExternalId: r.channel_external_id,
    conversationId: r.conversation_id == null ? null : Number(r.conversation_id),
    personId: Number(r.person_id),
    copyOf: r.copy_of == null ? null : Number(r.copy_of),
  }));
}
