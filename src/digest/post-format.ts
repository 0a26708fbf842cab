// An approved edition as a chat message: Slack Block Kit (mrkdwn), Discord (markdown content and
// embeds) and Matrix (plain body and HTML formatted_body). Pure. Community text is untrusted and is
// escaped for each format: Slack's &, < and > (so no <!everyone>, <@U..> or <url|label> comes from it),
// Discord's markdown and mentions (and the post allows no pings), HTML for Matrix. Each platform's
// limits are kept: Slack 50 blocks and 3000 characters a section, Discord 2000 characters of content,
// 10 embeds, 256 a title, 4096 a description and 6000 in all.
import type { EditionJson } from '../model/digest.js';
import { applyCuration, parseCuration, EMPTY_CURATION, type CuratedCluster } from './curation.js';
import { safeUrl } from './render.js';
import { weekLabel } from '../pipeline/period.js';

export interface PostInput {
  json: string;
  curation: string | null;
  team: string;
  periodStart: number;
  periodEnd: number;
  archiveUrl: string;
  /** Entries at most (default 10). */
  top?: number;
  /** Entries given instead of the edition's (the public edition's, for a public channel). */
  override?: { entries: PostEntry[]; more: number };
}

export interface PostEntry {
  title: string;
  why: string | null;
  quote: { text: string; url: string | null } | null;
  note: string | null;
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1)).trimEnd()}…`);
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

function entriesOf(p: PostInput): { heading: string; entries: PostEntry[]; more: number } {
  const week = weekLabel({ start: p.periodStart, end: p.periodEnd });
  const heading = p.team === 'default' ? `Community feedback digest · ${week}` : `Community feedback digest · ${p.team} · ${week}`;
  if (p.override) return { heading, ...p.override };
  const json = JSON.parse(p.json) as EditionJson;
  const curated = applyCuration(json, p.curation ? parseCuration(p.curation) : EMPTY_CURATION);
  const top = p.top ?? 10;
  const entries = curated.clusters.slice(0, top).map((c: CuratedCluster) => {
    const q = c.quotes[0];
    return { title: oneLine(c.title), why: c.why ? oneLine(c.why) : null, quote: q ? { text: clip(oneLine(q.text), 300), url: safeUrl(q.url) } : null, note: c.note ? oneLine(c.note) : null };
  });
  return { heading, entries, more: Math.max(0, curated.clusters.length - top) };
}

// Slack ---------------------------------------------------------------------------------------------

/** Slack's mrkdwn escaping: the three characters it gives meaning to. */
export const slackEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackMessage(p: PostInput): { text: string; blocks: unknown[] } {
  const { heading, entries, more } = entriesOf(p);
  const blocks: unknown[] = [{ type: 'header', text: { type: 'plain_text', text: clip(heading, 150), emoji: false } }];
  entries.forEach((e, i) => {
    const lines = [`*${i + 1}. ${slackEscape(clip(e.title, 280))}*`];
    if (e.why) lines.push(slackEscape(clip(e.why, 500)));
    if (e.note) lines.push(`_${slackEscape(clip(e.note, 500))}_`);
    if (e.quote) lines.push(`> ${slackEscape(e.quote.text)}${e.quote.url ? ` <${e.quote.url}|source>` : ''}`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), 3000) } });
  });
  if (!entries.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: 'No feedback matched this week.' } });
  const archive = safeUrl(p.archiveUrl);
  const footer = `${more ? `${more} more in the full digest. ` : ''}${archive ? `<${archive}|Read the full digest>` : ''}`.trim();
  if (footer) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: footer }] });
  return { text: slackEscape(clip(heading, 3000)), blocks: blocks.slice(0, 50) };
}

// Discord -------------------------------------------------------------------------------------------

/** Discord markdown escaped, and @ defused (allowed_mentions is the real guard; this keeps the text readable). */
const discordEscape = (s: string): string => s.replace(/([\\*_~`|>#[\]()<:-])/g, '\\$1').replace(/@/g, '@\u200b');

export function discordMessage(p: PostInput): { content: string; embeds: Array<Record<string, unknown>> } {
  const { heading, entries, more } = entriesOf(p);
  const archive = safeUrl(p.archiveUrl);
  const content = clip(`**${discordEscape(heading)}**${more ? `\n${more} more in the full digest.` : ''}${archive ? `\n<${archive}>` : ''}`, 2000);
  const embeds: Array<Record<string, unknown>> = [];
  let total = 0;
  for (const [i, e] of entries.slice(0, 10).entries()) {
    const title = clip(`${i + 1}. ${e.title}`, 256);
    const parts = [
      e.why ? discordEscape(e.why) : null,
      e.note ? `*${discordEscape(e.note)}*` : null,
      e.quote ? `> ${discordEscape(e.quote.text)}${e.quote.url ? ` ([source](${e.quote.url}))` : ''}` : null,
    ].filter((x): x is string => x !== null);
    const description = clip(parts.join('\n'), 1000);
    if (total + title.length + description.length > 5500) break;
    total += title.length + description.length;
    embeds.push({ title, description, ...(archive ? { url: archive } : {}) });
  }
  return { content, embeds };
}

// Matrix --------------------------------------------------------------------------------------------

export const htmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

export function matrixMessage(p: PostInput): { msgtype: 'm.notice'; body: string; format: 'org.matrix.custom.html'; formatted_body: string } {
  const { heading, entries, more } = entriesOf(p);
  const archive = safeUrl(p.archiveUrl);
  const text: string[] = [heading, ''];
  const html: string[] = [`<h3>${htmlEscape(heading)}</h3>`, '<ol>'];
  for (const e of entries) {
    text.push(`- ${e.title}${e.why ? ` — ${e.why}` : ''}${e.quote ? `\n  > ${e.quote.text}${e.quote.url ? ` (${e.quote.url})` : ''}` : ''}`);
    html.push(
      `<li><strong>${htmlEscape(e.title)}</strong>${e.why ? `<br>${htmlEscape(e.why)}` : ''}${e.note ? `<br><em>${htmlEscape(e.note)}</em>` : ''}${e.quote ? `<blockquote>${htmlEscape(e.quote.text)}${e.quote.url ? ` <a href="${htmlEscape(e.quote.url)}">source</a>` : ''}</blockquote>` : ''}</li>`,
    );
  }
  html.push('</ol>');
  if (!entries.length) {
    text.push('No feedback matched this week.');
    html.push('<p>No feedback matched this week.</p>');
  }
  if (more) {
    text.push(`${more} more in the full digest.`);
    html.push(`<p>${more} more in the full digest.</p>`);
  }
  if (archive) {
    text.push(`Full digest: ${archive}`);
    html.push(`<p><a href="${htmlEscape(archive)}">Read the full digest</a></p>`);
  }
  return { msgtype: 'm.notice', body: text.join('\n'), format: 'org.matrix.custom.html', formatted_body: html.join('') };
}
