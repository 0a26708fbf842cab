// Bridged lines on IRC (PLATFORMS.md 4.4): a relay bot posting `[protocol] <nick> text` / `<nick> text`
// (matterbridge, discord-irc), puppets such as matrix-appservice-irc's `nick[m]`, RELAYMSG `nick/proto`.
// Pure: a nick and a text in, the real author and the text they wrote out.

/** A configured bridge: the bot's nick (exact, case-insensitive) or `/regex/flags`, and how its lines look. */
export interface BridgeRule {
  bot: string;
  /** Regex with named groups `nick` and `text`, optional `protocol`; tried before the built-in forms. */
  pattern?: string;
  /** The platform on the other side when the line does not say it (e.g. `matrix`). */
  protocol?: string;
}

export interface Relayed {
  /** The person's name on the other platform. */
  nick: string;
  /** What the person wrote, without the bridge's prefix. */
  text: string;
  /** The other platform (`matrix`, `discord`, ...) or null when the line does not say. */
  protocol: string | null;
  /** The IRC nick that posted the line (bridge bot or puppet). */
  bot: string;
}

export type BridgeVerdict = { kind: 'relay'; relay: Relayed } | { kind: 'bridge-bot' } | { kind: 'none' };

// mIRC formatting: bold, colour (with up to two 1-2 digit numbers), hex colour, reset, reverse, italic,
// strikethrough, monospace, underline; U+200B is put in nicks by bridges to avoid pings.
// eslint-disable-next-line no-control-regex
const FORMATTING = /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x16\x1d\x1e\x1f\x11]|\u200b/g;

/** Removes mIRC colour and formatting codes and zero-width spaces. */
export function stripFormatting(text: string): string {
  return text.replace(FORMATTING, '');
}

/** Puppet suffix letters used by bridges (`nick[m]` matrix-appservice-irc, `nick[d]` Discord bridges, ...). */
const PUPPET_SUFFIX: Record<string, string> = { m: 'matrix', d: 'discord', t: 'telegram', s: 'slack', x: 'xmpp', w: 'whatsapp' };
const PUPPET = /^(.+?)\[([a-z])\]$/i;
/** matrix-appservice-irc's default nick template `M-$DISPLAY`. */
const MATRIX_DEFAULT_PUPPET = /^M-(.+)$/;
const KNOWN_PROTOCOLS = new Set([
  'discord',
  'slack',
  'matrix',
  'telegram',
  'irc',
  'mattermost',
  'xmpp',
  'zulip',
  'whatsapp',
  'rocketchat',
  'msteams',
  'gitter',
  'api',
  'sshchat',
  'keybase',
  'nctalk',
  'steam',
  'mumble',
  'vk',
]);
/** Nicks that are bridge bots unless configured otherwise. */
const DEFAULT_BRIDGE_BOT = /(?:bridge|relay|^matterbridge)/i;

// Built-in relay forms, in the order PLATFORMS.md 4.4 gives them.
const BUILTIN_FORMS: Array<{ re: RegExp; nick: number; text: number; protocol?: number }> = [
  { re: /^\[(\w[\w.-]*)\] <([^>]+)> ?([\s\S]*)$/, protocol: 1, nick: 2, text: 3 }, // matterbridge sample `[{PROTOCOL}] <{NICK}> `
  { re: /^<\((\w+)\)([^>]+)> ?([\s\S]*)$/, protocol: 1, nick: 2, text: 3 }, // `<({PROTOCOL}){NICK}> `
  { re: /^<([^>]+)> ?([\s\S]*)$/, nick: 1, text: 2 }, // discord-irc / generic `<{NICK}> `
  { re: /^(\S+) \((\w+)\): ([\s\S]*)$/, nick: 1, protocol: 2, text: 3 }, // `{NICK} ({PROTOCOL}): `
];

function botMatches(rule: BridgeRule, nick: string): boolean {
  const m = /^\/(.+)\/([a-z]*)$/.exec(rule.bot);
  if (m) {
    try {
      return new RegExp(m[1] ?? '', m[2]).test(nick);
    } catch {
      return false;
    }
  }
  return rule.bot.toLowerCase() === nick.toLowerCase();
}

const compiled = new Map<string, RegExp | null>();
function compile(pattern: string): RegExp | null {
  let re = compiled.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = null;
    }
    compiled.set(pattern, re);
  }
  return re;
}

/** A puppet nick's protocol and the person's name, or null when the nick is not a puppet. */
export function puppetOf(nick: string): { nick: string; protocol: string | null } | null {
  const p = PUPPET.exec(nick);
  if (p) return { nick: p[1] ?? nick, protocol: PUPPET_SUFFIX[(p[2] ?? '').toLowerCase()] ?? null };
  const m = MATRIX_DEFAULT_PUPPET.exec(nick);
  if (m) return { nick: m[1] ?? nick, protocol: 'matrix' };
  const slash = nick.lastIndexOf('/');
  if (slash > 0) {
    const proto = nick.slice(slash + 1).toLowerCase();
    if (KNOWN_PROTOCOLS.has(proto)) return { nick: nick.slice(0, slash), protocol: proto }; // RELAYMSG `alice/discord`
  }
  return null;
}

function relayedNick(raw: string, protocol: string | null): { nick: string; protocol: string | null } {
  const nick = raw.trim().replace(/^[@+%&~]/, '');
  const puppet = puppetOf(nick);
  if (puppet) return { nick: puppet.nick, protocol: protocol ?? puppet.protocol };
  return { nick, protocol };
}

/**
 * Who really wrote a line posted by `nick`. `text` must already be stripped of formatting.
 * Configured rules come first; then puppet nicks; then the built-in relay forms for bridge bots.
 */
export function detectRelay(nick: string, text: string, rules: readonly BridgeRule[] = []): BridgeVerdict {
  for (const rule of rules) {
    if (!botMatches(rule, nick)) continue;
    const protocolDefault = rule.protocol?.toLowerCase() ?? null;
    if (rule.pattern) {
      const re = compile(rule.pattern);
      const g = re?.exec(text)?.groups;
      if (g && g.nick !== undefined && g.text !== undefined) {
        const who = relayedNick(g.nick, g.protocol?.toLowerCase() ?? protocolDefault);
        return { kind: 'relay', relay: { nick: who.nick, text: g.text, protocol: who.protocol, bot: nick } };
      }
    }
    const r = matchBuiltin(text, nick, protocolDefault);
    return r ? { kind: 'relay', relay: r } : { kind: 'bridge-bot' };
  }
  const puppet = puppetOf(nick);
  if (puppet) return { kind: 'relay', relay: { nick: puppet.nick, text, protocol: puppet.protocol, bot: nick } };
  if (DEFAULT_BRIDGE_BOT.test(nick)) {
    const r = matchBuiltin(text, nick, null);
    return r ? { kind: 'relay', relay: r } : { kind: 'bridge-bot' };
  }
  return { kind: 'none' };
}

function matchBuiltin(text: string, bot: string, protocolDefault: string | null): Relayed | null {
  for (const form of BUILTIN_FORMS) {
    const m = form.re.exec(text);
    if (!m) continue;
    const protoRaw = form.protocol !== undefined ? m[form.protocol] : undefined;
    // `{NICK} ({PROTOCOL}): ` only counts with a protocol word, or ordinary sentences would match.
    if (form.protocol === 2 && (!protoRaw || !KNOWN_PROTOCOLS.has(protoRaw.toLowerCase()))) continue;
    const who = relayedNick(m[form.nick] ?? '', protoRaw?.toLowerCase() ?? protocolDefault);
    if (!who.nick) continue;
    return { nick: who.nick, text: m[form.text] ?? '', protocol: who.protocol, bot };
  }
  return null;
}
