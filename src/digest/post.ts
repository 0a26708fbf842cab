// Posts a team's approved edition to the chat channels in `teams[].post`, through each source's own
// credentials: Slack Block Kit (chat.postMessage), Discord (content and embeds), Matrix (HTML body).
// Exactly once per edition and destination: a digest_posts row per pair, claimed like the email send
// (src/digest/once.ts). A Matrix post carries a transaction id derived from the edition and room, so a
// stopped sender's repeat is the same event; Slack and Discord have no such guard, and a post whose
// answer was lost is left `unknown` for a human (`gleaner digest posts --settle`).
import { createHash } from 'node:crypto';
import type { Config } from '../config/index.js';
import { ensureDigestPost, getDigestPost, type DigestPostRow } from '../store/outbound.js';
import { getEdition } from '../store/digests.js';
import { archiveUrl } from './send.js';
import { chatSource, discordPost, matrixPost, slackPost, ChatSendError } from './chat-clients.js';
import { discordMessage, matrixMessage, slackMessage, type PostInput } from './post-format.js';
import { publicUrl } from './public-render.js';
import { sendOnce, type OnceDeps, type OnceOutcome } from './once.js';
import type { EditionRow } from '../store/digests.js';
import { isPublicChannel, publicEditionOf } from './public.js';

export type PostDeps = OnceDeps;
export type PostOutcome = OnceOutcome & { source: string; channel: string };

/** Statuses of an edition that a curator approved (a post may go out whatever became of the email). */
const APPROVED = new Set(['approved', 'sending', 'sent', 'failed', 'unknown']);

function destinationsOf(config: Config, team: string): Array<{ source: string; channel: string }> {
  return config.teams.find((t) => t.name === team)?.post ?? [];
}

/** The Matrix transaction id of an edition's post to a room: the same on every attempt. */
const postTxnId = (editionId: number, room: string): string => `gleaner-digest-${editionId}-${createHash('sha256').update(room).digest('hex').slice(0, 16)}`;

function platformOf(config: Config, source: string): string {
  return config.sources.find((s) => s.name === source)?.platform ?? 'unknown';
}

/**
 * What a post says. To a channel the config calls public (`sources[].public`), the public edition's
 * entries (no sentence with customer names, no notes, only public quotes, names scrubbed) and its public
 * page; elsewhere the edition as the team reads it.
 */
async function inputFor(deps: PostDeps, e: EditionRow, row: DigestPostRow): Promise<PostInput> {
  const input: PostInput = { json: e.json, curation: e.curation, team: e.team, periodStart: e.periodStart, periodEnd: e.periodEnd, archiveUrl: archiveUrl(deps.config, e.id) };
  if (!isPublicChannel(deps.config, row.source, { externalId: row.channel, name: row.channel })) return input;
  const pub = await publicEditionOf(deps.db, deps.config, e);
  const entries = pub.entries.slice(0, 10).map((x) => ({
    title: x.title,
    why: `${x.reporters} ${x.reporters === 1 ? 'person' : 'people'} this week${x.resolution ? ` · resolved: ${x.resolution.text}` : ''}`,
    note: null,
    quote: x.quotes[0] ? { text: x.quotes[0].text, url: x.quotes[0].url } : null,
  }));
  const published = deps.config.teams.some((t) => t.name === e.team && t.public);
  return { ...input, archiveUrl: published ? publicUrl(deps.config.web.baseUrl, e.id) : '', override: { entries, more: Math.max(0, pub.entries.length - entries.length) } };
}

async function postOne(deps: PostDeps, e: EditionRow, row: DigestPostRow): Promise<OnceOutcome> {
  const input = await inputFor(deps, e, row);
  const send = async () => {
    const src = chatSource(deps.config, row.source);
    switch (src.platform) {
      case 'slack':
        return slackPost(src.cfg, { channel: row.channel, ...slackMessage(input) });
      case 'discord':
        if (!/^\d{1,20}$/.test(row.channel)) throw new ChatSendError(`Discord posts need the channel id, not ${row.channel}`, 'no');
        return discordPost(src.cfg, { channelId: row.channel, ...discordMessage(input), nonce: `d${e.id}p${row.id}`.slice(0, 25) });
      case 'matrix':
        return matrixPost(src.cfg, { room: row.channel, content: matrixMessage(input), txnId: postTxnId(e.id, row.channel) });
    }
  };
  const load = async () => {
    const r = await getDigestPost(deps.db, row.id);
    return r ? { status: r.status, platform: r.platform, externalId: r.externalId, lastError: r.lastError } : null;
  };
  return sendOnce(deps, 'digest_posts', row.id, load, send, `digest ${e.id} post to ${row.source} ${row.channel}`);
}

/**
 * Posts an approved edition to each of its team's destinations that has not had it yet. A post that
 * failed `queue.attempts` times is left for a human (`gleaner digest post`, which passes `force`), so a
 * wrong channel is not tried again on every sweep.
 */
export async function postEdition(deps: PostDeps, editionId: number, opts: { force?: boolean } = {}): Promise<PostOutcome[]> {
  const e = await getEdition(deps.db, editionId);
  if (!e) throw new Error(`there is no digest edition ${editionId}`);
  const dests = destinationsOf(deps.config, e.team);
  if (!dests.length) return [];
  if (!APPROVED.has(e.status)) return dests.map((d) => ({ status: 'not-ready', id: 0, current: e.status, ...d }));
  const out: PostOutcome[] = [];
  for (const d of dests) {
    const row = await ensureDigestPost(deps.db, { digestId: e.id, source: d.source, channel: d.channel, platform: platformOf(deps.config, d.source), now: deps.now() });
    if (row.status === 'failed' && row.attempts >= deps.config.queue.attempts && !opts.force) {
      out.push({ status: 'failed', id: row.id, error: `${row.lastError ?? 'failed'} (${row.attempts} attempts; retry with gleaner digest post)`, ...d });
      continue;
    }
    out.push({ ...(await postOne(deps, e, row)), ...d });
  }
  return out;
}
