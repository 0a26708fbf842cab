// Sends an approved loop reply, exactly once (the loop_replies row is claimed like a chat post, see
// src/digest/once.ts): a Slack thread reply (thread_ts), a Discord reply (message_reference), a Matrix
// reply (m.relates_to m.in_reply_to, with a transaction id per reply so a repeat is the same event),
// a mail reply to the list thread (In-Reply-To and References) through the digest's SMTP settings, and
// with `loop.irc` a line to the reporter in the IRC channel (src/loop/irc.ts).
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Config } from '../config/index.js';
import { getReply, listReplies } from '../store/loop.js';
import { chatSource, discordPost, matrixPost, slackPost, ChatSendError, type Sent } from '../digest/chat-clients.js';
import { htmlEscape, slackEscape } from '../digest/post-format.js';
import { connect, mailDomain, notTaken, smtpMessage, transmit } from '../digest/send.js';
import { sendOnce, type OnceDeps, type OnceOutcome } from '../digest/once.js';
import type { ReplyTarget } from './target.js';
import { ircSay } from './irc.js';

/** The Message-ID of a loop reply: the same on every attempt. */
const replyMessageId = (config: Config, id: number): string => `<loop.${id}@${mailDomain(config)}>`;

async function mailReply(config: Config, id: number, t: Extract<ReplyTarget, { platform: 'mail' }>, text: string): Promise<Sent> {
  const from = config.smtp?.from ?? `gleaner@${mailDomain(config)}`;
  const messageId = replyMessageId(config, id);
  const node = new MailComposer({ from, to: t.to, subject: t.subject, text, messageId, inReplyTo: t.inReplyTo, references: t.references, headers: { 'Auto-Submitted': 'auto-replied' } }).compile();
  const raw = await node.build();
  const env = node.getEnvelope();
  let conn;
  try {
    conn = await connect(config);
  } catch (err: unknown) {
    throw new ChatSendError(`SMTP connection failed: ${smtpMessage(err)}`, 'no', { cause: err });
  }
  try {
    await transmit(conn, { from: env.from || from, to: env.to }, raw);
    return { id: messageId, link: null };
  } catch (err: unknown) {
    throw new ChatSendError(`the SMTP server ${notTaken(err) ? 'refused' : 'may have taken'} the reply: ${smtpMessage(err)}`, notTaken(err) ? 'no' : 'maybe', { cause: err });
  } finally {
    conn.quit();
  }
}

function deliver(config: Config, id: number, t: ReplyTarget, text: string): Promise<Sent> {
  if (t.platform === 'mail') return mailReply(config, id, t, text);
  if (t.platform === 'irc') return ircSay(config, t, text);
  const src = chatSource(config, t.source);
  if (t.platform === 'slack' && src.platform === 'slack') return slackPost(src.cfg, { channel: t.channel, text: slackEscape(text), threadTs: t.threadTs });
  if (t.platform === 'discord' && src.platform === 'discord') return discordPost(src.cfg, { channelId: t.channelId, content: text.slice(0, 2000), replyTo: t.messageId, nonce: `loop${id}` });
  if (t.platform === 'matrix' && src.platform === 'matrix')
    return matrixPost(src.cfg, {
      room: t.roomId,
      content: {
        msgtype: 'm.text',
        body: text,
        format: 'org.matrix.custom.html',
        formatted_body: htmlEscape(text).replace(/\n/g, '<br>'),
        'm.relates_to': { 'm.in_reply_to': { event_id: t.eventId } },
      },
      txnId: `gleaner-loop-${id}`,
    });
  throw new ChatSendError(`source ${t.source} is a ${src.platform} source now, but the reply was drafted for ${t.platform}`, 'no');
}

/** One attempt to send an approved (or failed) reply. Safe to call from several processes at once. */
export async function sendReply(deps: OnceDeps, id: number): Promise<OnceOutcome> {
  const r = await getReply(deps.db, id);
  if (!r) throw new Error(`there is no loop reply ${id}`);
  if (r.status === 'draft' || r.status === 'dismissed') return { status: 'not-ready', id, current: r.status };
  const target = JSON.parse(r.target) as ReplyTarget;
  const load = async () => {
    const x = await getReply(deps.db, id);
    return x ? { status: x.status, platform: x.platform, externalId: x.externalId, lastError: x.lastError } : null;
  };
  return sendOnce(deps, 'loop_replies', id, load, () => deliver(deps.config, id, target, r.text), `loop reply ${id} (${r.platform})`);
}

/** Sends every approved (and failed) reply, of one cluster or all. */
export async function sendApproved(deps: OnceDeps, clusterId?: number): Promise<OnceOutcome[]> {
  const out: OnceOutcome[] = [];
  for (const r of await listReplies(deps.db, { clusterId, status: ['approved', 'failed', 'sending'] })) out.push(await sendReply(deps, r.id));
  return out;
}
