// Writing to chat platforms through each source's own credentials and the client libraries its connector
// uses: @slack/web-api (chat.postMessage), @discordjs/rest (POST /channels/{id}/messages) and
// matrix-js-sdk's HTTP layer (PUT /rooms/{room}/send/m.room.message/{txnId}). Used by the digest's chat
// posts and the loop's replies. A failure says whether the platform may have taken the message
// (`maybe`: the request went out and no answer came back) or certainly did not (`no`: refused).
import { WebClient } from '@slack/web-api';
import { DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import { createClient, MatrixError, Method } from 'matrix-js-sdk';
import type { Config } from '../config/index.js';
import { slackConfigSchema, type SlackConfig } from '../../connectors/slack/config.js';
import { discordConfigSchema, type DiscordConfig } from '../../connectors/discord/config.js';
import { matrixConfigSchema, type MatrixConfig } from '../../connectors/matrix/config.js';
import { GleanerError } from '../errors.js';

export class ChatSendError extends GleanerError {
  constructor(
    message: string,
    /** Whether the platform may have taken the message. */
    readonly taken: 'no' | 'maybe',
    options?: { cause?: unknown },
  ) {
    super('send_failed', message, options);
    this.name = 'ChatSendError';
  }
}

export type ChatSource = { platform: 'slack'; name: string; cfg: SlackConfig } | { platform: 'discord'; name: string; cfg: DiscordConfig } | { platform: 'matrix'; name: string; cfg: MatrixConfig };

/** The configured source `name` with its platform's settings, or an error that says what is wrong. */
export function chatSource(config: Config, name: string): ChatSource {
  const src = config.sources.find((s) => s.name === name);
  if (!src) throw new ChatSendError(`there is no source named ${name} in the config (sources: ${config.sources.map((s) => s.name).join(', ') || 'none'})`, 'no');
  const { name: _n, platform, enabled: _e, public: _p, ...own } = src;
  const schema = platform === 'slack' ? slackConfigSchema : platform === 'discord' ? discordConfigSchema : platform === 'matrix' ? matrixConfigSchema : null;
  if (!schema) throw new ChatSendError(`source ${name} is a ${platform} source; Gleaner posts to slack, discord and matrix sources`, 'no');
  const parsed = schema.safeParse(own);
  if (!parsed.success) throw new ChatSendError(`source ${name}: invalid config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'no');
  return { platform, name, cfg: parsed.data } as ChatSource;
}

export interface Sent {
  /** Slack ts, Discord message id, Matrix event id. */
  id: string;
  /** A link to the message, when the platform gives one. */
  link: string | null;
}

// Slack ---------------------------------------------------------------------------------------------

export interface SlackPost {
  channel: string;
  text: string;
  blocks?: unknown[];
  threadTs?: string;
}

interface SlackCodedError extends Error {
  code?: string;
  data?: { error?: string };
  statusCode?: number;
}

export async function slackPost(cfg: SlackConfig, p: SlackPost): Promise<Sent> {
  // No retries of a post (a retry after a lost answer would post twice); 429s are refused, so they are waited out by the client.
  const client = new WebClient(cfg.token, { slackApiUrl: cfg.apiUrl, retryConfig: { retries: 0 } });
  let res: { ok?: boolean; ts?: string; channel?: string };
  try {
    res = await client.chat.postMessage({
      channel: p.channel,
      text: p.text,
      ...(p.blocks ? { blocks: p.blocks as never } : {}),
      ...(p.threadTs ? { thread_ts: p.threadTs } : {}),
      unfurl_links: false,
      unfurl_media: false,
    });
  } catch (err: unknown) {
    const e = err as SlackCodedError;
    if (e.code === 'slack_webapi_platform_error') throw new ChatSendError(`Slack refused chat.postMessage to ${p.channel}: ${e.data?.error ?? e.message}`, 'no', { cause: err });
    if (e.code === 'slack_webapi_http_error' && (e.statusCode ?? 500) < 500) throw new ChatSendError(`Slack answered chat.postMessage with HTTP ${e.statusCode}`, 'no', { cause: err });
    if (e.code === 'slack_webapi_rate_limited_error') throw new ChatSendError('Slack rate-limited chat.postMessage', 'no', { cause: err });
    throw new ChatSendError(`chat.postMessage to ${p.channel} got no answer: ${e.message}`, 'maybe', { cause: err });
  }
  if (!res.ts) throw new ChatSendError('Slack answered chat.postMessage without a ts', 'maybe');
  let link: string | null = null;
  try {
    const pl = (await client.chat.getPermalink({ channel: res.channel ?? p.channel, message_ts: res.ts })) as { permalink?: string };
    link = pl.permalink ?? null;
  } catch {
    /* the post stands; only the link is missing */
  }
  return { id: res.ts, link };
}

// Discord -------------------------------------------------------------------------------------------

export interface DiscordPost {
  channelId: string;
  content: string;
  embeds?: unknown[];
  /** Reply to this message (message_reference); its author is notified, nobody else. */
  replyTo?: string;
  /** Discord drops a second message with the same nonce sent shortly after (enforce_nonce). */
  nonce: string;
}

export async function discordPost(cfg: DiscordConfig, p: DiscordPost): Promise<Sent> {
  const rest = new REST({ api: cfg.apiUrl, version: '10', retries: 0, timeout: cfg.timeoutMs }).setToken(cfg.token);
  const body = {
    content: p.content,
    ...(p.embeds ? { embeds: p.embeds } : {}),
    // Community text may hold @everyone, role or user mentions: none of them pings anybody.
    allowed_mentions: { parse: [] as string[], replied_user: p.replyTo !== undefined },
    ...(p.replyTo ? { message_reference: { message_id: p.replyTo, channel_id: p.channelId, fail_if_not_exists: false } } : {}),
    nonce: p.nonce,
    enforce_nonce: true,
  };
  try {
    const m = (await rest.post(Routes.channelMessages(p.channelId), { body })) as { id: string; channel_id: string; guild_id?: string };
    return { id: m.id, link: `https://discord.com/channels/${cfg.guildId}/${m.channel_id ?? p.channelId}/${m.id}` };
  } catch (err: unknown) {
    if (err instanceof RateLimitError) throw new ChatSendError(`Discord rate-limited the post to channel ${p.channelId}`, 'no', { cause: err });
    if ((err instanceof DiscordAPIError || err instanceof HTTPError) && err.status < 500)
      throw new ChatSendError(`Discord refused the post to channel ${p.channelId}: ${err.status} ${err.message}`, 'no', { cause: err });
    throw new ChatSendError(`the post to Discord channel ${p.channelId} got no clear answer: ${(err as Error).message}`, 'maybe', { cause: err });
  }
}

// Matrix --------------------------------------------------------------------------------------------

export interface MatrixPost {
  room: string;
  content: Record<string, unknown>;
  /** The transaction id: the homeserver treats a repeat with the same one as the same event. */
  txnId: string;
}

/** The SDK logs every request on the console by default; failures reach the caller as errors instead. */
const QUIET = { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, getChild: () => QUIET };

export async function matrixPost(cfg: MatrixConfig, p: MatrixPost): Promise<Sent & { roomId: string }> {
  const client = createClient({ baseUrl: cfg.homeserver, accessToken: cfg.accessToken, userId: cfg.userId, localTimeoutMs: cfg.requestTimeoutMs, logger: QUIET });
  try {
    let roomId = p.room;
    if (roomId.startsWith('#')) roomId = (await client.getRoomIdForAlias(roomId)).room_id;
    const path = `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(p.txnId)}`;
    const r = await client.http.authedRequest<{ event_id: string }>(Method.Put, path, undefined, p.content, { inhibitLogoutEmit: true });
    return { id: r.event_id, roomId, link: `https://matrix.to/#/${roomId}/${r.event_id}` };
  } catch (err: unknown) {
    if (err instanceof MatrixError && err.httpStatus !== undefined && err.httpStatus < 500)
      throw new ChatSendError(`the homeserver refused the message to ${p.room}: ${err.httpStatus} ${err.errcode ?? ''} ${err.message}`, 'no', { cause: err });
    throw new ChatSendError(`the message to Matrix room ${p.room} got no clear answer: ${(err as Error).message}`, 'maybe', { cause: err });
  } finally {
    client.stopClient();
  }
}

/** Platforms where sending the same request again is harmless (a transaction id), so a stopped sender may retry. */
export const repeatable = (platform: string): boolean => platform === 'matrix';
