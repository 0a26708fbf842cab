// A scripted IRC server speaking just enough IRCv3 for the connector's CHATHISTORY path (no Debian
// server offers it, PLATFORMS.md 4.2): CAP LS/REQ/END with server-time, message-tags, batch,
// draft/chathistory and sasl; SASL PLAIN (900/903, or 904 once revoked); NICK/USER -> 001/005/376
// with CHATHISTORY=<page size>; PING; JOIN (echo, 353, 366); PRIVMSG/NOTICE fan-out with time and
// msgid tags; CHATHISTORY LATEST/BEFORE/AFTER/BETWEEN answered in `chathistory` batches (4.3).
// Throttling: `rateLimitNext(s)` answers the next CHATHISTORY with
// `FAIL CHATHISTORY MESSAGE_ERROR <cmd> <target> :Rate limited, retry after <s> seconds`.
import { createServer, type Server, type Socket } from 'node:net';

export interface StoredMessage {
  msgid: string;
  time: number;
  channel: string;
  nick: string;
  command: 'PRIVMSG' | 'NOTICE';
  text: string;
}

interface Conn {
  socket: Socket;
  nick: string | null;
  user: boolean;
  caps: Set<string>;
  capNegotiating: boolean;
  registered: boolean;
  channels: Set<string>;
  buf: string;
}

const SERVER = 'history.test.local';
const OFFERED_CAPS = ['server-time', 'message-tags', 'batch', 'draft/chathistory', 'sasl=PLAIN'];

export interface ChathistoryPeerOptions {
  /** `CHATHISTORY=<n>` in 005 and the most lines per batch. */
  pageSize?: number;
  /** SASL accounts (account -> password); without any, every PLAIN login is accepted. */
  accounts?: Record<string, string>;
  /** Nicks already taken on the server (433 on NICK). */
  takenNicks?: string[];
  /** Server clock (ms). */
  now?: () => number;
}

export class ChathistoryPeer {
  readonly messages: StoredMessage[] = [];
  /** Every line clients sent, for assertions. */
  readonly received: string[] = [];
  private server: Server | null = null;
  private conns = new Set<Conn>();
  private seq = 0;
  private throttleNext: number | null = null;
  private revoked = false;
  private refusing = false;
  port = 0;

  constructor(private readonly opts: ChathistoryPeerOptions = {}) {}

  get pageSize(): number {
    return this.opts.pageSize ?? 10;
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  async start(port = 0): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    this.conns.clear();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Closes every client connection and refuses new ones until `acceptAgain()` (a server outage). */
  goDown(): void {
    this.refusing = true;
    for (const c of this.conns) c.socket.destroy();
    this.conns.clear();
  }

  acceptAgain(): void {
    this.refusing = false;
  }

  rateLimitNext(seconds: number): void {
    this.throttleNext = seconds;
  }

  revokeAuth(): void {
    this.revoked = true;
  }

  /** Number of registered clients joined to a channel. */
  joined(channel: string): number {
    let n = 0;
    for (const c of this.conns) if (c.channels.has(channel.toLowerCase())) n++;
    return n;
  }

  /** Stores a message (as if someone said it) and relays it to joined clients. */
  say(channel: string, nick: string, text: string, opts: { time?: number; command?: 'PRIVMSG' | 'NOTICE' } = {}): StoredMessage {
    const m: StoredMessage = { msgid: `m${String(++this.seq).padStart(6, '0')}`, time: opts.time ?? this.now(), channel, nick, command: opts.command ?? 'PRIVMSG', text };
    this.messages.push(m);
    for (const c of this.conns) if (c.registered && c.channels.has(channel.toLowerCase())) this.send(c, this.format(c, m));
    return m;
  }

  private format(c: Conn, m: StoredMessage, batch?: string): string {
    const tags: string[] = [];
    if (batch) tags.push(`batch=${batch}`);
    if (c.caps.has('message-tags')) tags.push(`msgid=${m.msgid}`);
    if (c.caps.has('server-time')) tags.push(`time=${new Date(m.time).toISOString()}`);
    return `${tags.length ? `@${tags.join(';')} ` : ''}:${m.nick}!~${m.nick}@127.0.0.1 ${m.command} ${m.channel} :${m.text}`;
  }

  private send(c: Conn, line: string): void {
    if (!c.socket.destroyed) c.socket.write(`${line}\r\n`);
  }

  private accept(socket: Socket): void {
    if (this.refusing) {
      socket.destroy();
      return;
    }
    const c: Conn = { socket, nick: null, user: false, caps: new Set(), capNegotiating: false, registered: false, channels: new Set(), buf: '' };
    this.conns.add(c);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      c.buf += d;
      let i: number;
      while ((i = c.buf.indexOf('\n')) >= 0) {
        const line = c.buf.slice(0, i).replace(/\r$/, '');
        c.buf = c.buf.slice(i + 1);
        if (line) this.onLine(c, line);
      }
    });
    socket.on('close', () => this.conns.delete(c));
    socket.on('error', () => this.conns.delete(c));
  }

  private maybeWelcome(c: Conn): void {
    if (c.registered || c.capNegotiating || !c.nick || !c.user) return;
    c.registered = true;
    const n = c.nick;
    this.send(c, `:${SERVER} 001 ${n} :Welcome to the scripted history network ${n}`);
    this.send(c, `:${SERVER} 002 ${n} :Your host is ${SERVER}, running version scripted-1`);
    this.send(c, `:${SERVER} 005 ${n} CHANTYPES=# PREFIX=(ov)@+ CASEMAPPING=ascii CHATHISTORY=${this.pageSize} MSGREFTYPES=timestamp,msgid :are supported by this server`);
    this.send(c, `:${SERVER} 422 ${n} :MOTD File is missing`);
  }

  private onLine(c: Conn, line: string): void {
    this.received.push(line);
    const parts = splitParams(line);
    const cmd = (parts[0] ?? '').toUpperCase();
    const p = parts.slice(1);
    const n = c.nick ?? '*';
    switch (cmd) {
      case 'CAP': {
        const sub = (p[0] ?? '').toUpperCase();
        if (sub === 'LS') {
          c.capNegotiating = true;
          this.send(c, `:${SERVER} CAP * LS :${OFFERED_CAPS.join(' ')}`);
        } else if (sub === 'REQ') {
          const want = (p[1] ?? '').split(' ').filter(Boolean);
          const names = OFFERED_CAPS.map((x) => x.split('=')[0]);
          if (want.every((w) => names.includes(w))) {
            for (const w of want) c.caps.add(w);
            this.send(c, `:${SERVER} CAP ${n} ACK :${want.join(' ')}`);
          } else this.send(c, `:${SERVER} CAP ${n} NAK :${want.join(' ')}`);
        } else if (sub === 'END') {
          c.capNegotiating = false;
          this.maybeWelcome(c);
        }
        return;
      }
      case 'AUTHENTICATE': {
        const arg = p[0] ?? '';
        if (arg === 'PLAIN') return this.send(c, 'AUTHENTICATE +');
        const [, account, password] = Buffer.from(arg, 'base64').toString('utf8').split('\0');
        const accounts = this.opts.accounts;
        const ok = !this.revoked && (!accounts || (account !== undefined && accounts[account] === password));
        if (ok) {
          this.send(c, `:${SERVER} 900 ${n} ${n}!~${n}@127.0.0.1 ${account ?? ''} :You are now logged in as ${account ?? ''}`);
          this.send(c, `:${SERVER} 903 ${n} :SASL authentication successful`);
        } else this.send(c, `:${SERVER} 904 ${n} :SASL authentication failed`);
        return;
      }
      case 'NICK': {
        const want = p[0] ?? '';
        const taken = (this.opts.takenNicks ?? []).map((x) => x.toLowerCase()).includes(want.toLowerCase()) || [...this.conns].some((o) => o !== c && o.nick?.toLowerCase() === want.toLowerCase());
        if (taken) return this.send(c, `:${SERVER} 433 ${n} ${want} :Nickname is already in use`);
        c.nick = want;
        this.maybeWelcome(c);
        return;
      }
      case 'USER':
        c.user = true;
        this.maybeWelcome(c);
        return;
      case 'PING':
        return this.send(c, `:${SERVER} PONG ${SERVER} :${p[0] ?? ''}`);
      case 'QUIT':
        c.socket.end();
        return;
      case 'JOIN': {
        for (const ch of (p[0] ?? '').split(',').filter(Boolean)) {
          c.channels.add(ch.toLowerCase());
          this.send(c, `:${n}!~${n}@127.0.0.1 JOIN ${ch}`);
          this.send(c, `:${SERVER} 353 ${n} = ${ch} :${n}`);
          this.send(c, `:${SERVER} 366 ${n} ${ch} :End of /NAMES list.`);
        }
        return;
      }
      case 'PRIVMSG':
      case 'NOTICE': {
        const target = p[0] ?? '';
        const m: StoredMessage = { msgid: `m${String(++this.seq).padStart(6, '0')}`, time: this.now(), channel: target, nick: n, command: cmd, text: p[1] ?? '' };
        this.messages.push(m);
        for (const o of this.conns) if (o !== c && o.registered && o.channels.has(target.toLowerCase())) this.send(o, this.format(o, m));
        return;
      }
      case 'CHATHISTORY':
        return this.chathistory(c, p);
      default:
        if (c.registered) this.send(c, `:${SERVER} 421 ${n} ${cmd} :Unknown command`);
    }
  }

  private chathistory(c: Conn, p: string[]): void {
    const sub = (p[0] ?? '').toUpperCase();
    const target = p[1] ?? '';
    if (this.throttleNext !== null) {
      const s = this.throttleNext;
      this.throttleNext = null;
      return this.send(c, `FAIL CHATHISTORY MESSAGE_ERROR ${sub} ${target} :Rate limited, retry after ${s} seconds`);
    }
    const inChannel = this.messages.filter((m) => m.channel.toLowerCase() === target.toLowerCase());
    const pos = (ref: string | undefined, side: 'after' | 'before'): number | null => {
      if (!ref) return null;
      if (ref === '*') return side === 'before' ? inChannel.length : -1;
      const [kind, value] = ref.split('=');
      if (kind === 'msgid') {
        const i = inChannel.findIndex((m) => m.msgid === value);
        return i < 0 ? null : i;
      }
      if (kind === 'timestamp') {
        const t = Date.parse(value ?? '');
        if (Number.isNaN(t)) return null;
        // Exclusive: AFTER starts past every message at or before t; BEFORE ends before every one at or after t.
        if (side === 'after') {
          let i = -1;
          while (i + 1 < inChannel.length && (inChannel[i + 1]?.time ?? Infinity) <= t) i++;
          return i;
        }
        let i = 0;
        while (i < inChannel.length && (inChannel[i]?.time ?? -Infinity) < t) i++;
        return i;
      }
      return null;
    };
    let selected: StoredMessage[];
    const limitArg = Number(p[p.length - 1]);
    const limit = Math.min(Number.isFinite(limitArg) && limitArg > 0 ? limitArg : this.pageSize, this.pageSize);
    if (sub === 'AFTER') {
      const i = pos(p[2], 'after');
      if (i === null) return this.send(c, `FAIL CHATHISTORY INVALID_PARAMS ${sub} ${p[2] ?? ''} :Invalid message reference`);
      selected = inChannel.slice(i + 1, i + 1 + limit);
    } else if (sub === 'BEFORE' || sub === 'LATEST') {
      const i = pos(sub === 'LATEST' ? '*' : p[2], 'before');
      if (i === null) return this.send(c, `FAIL CHATHISTORY INVALID_PARAMS ${sub} ${p[2] ?? ''} :Invalid message reference`);
      selected = inChannel.slice(Math.max(0, i - limit), i);
    } else if (sub === 'BETWEEN') {
      const a = pos(p[2], 'after');
      const b = pos(p[3], 'before');
      if (a === null || b === null) return this.send(c, `FAIL CHATHISTORY INVALID_PARAMS ${sub} :Invalid message reference`);
      selected = inChannel.slice(a + 1, b).slice(0, limit);
    } else return this.send(c, `FAIL CHATHISTORY INVALID_PARAMS ${sub} :Unknown command`);
    const id = `h${++this.seq}`;
    this.send(c, `:${SERVER} BATCH +${id} chathistory ${target}`);
    for (const m of selected) this.send(c, this.format(c, m, id));
    this.send(c, `:${SERVER} BATCH -${id}`);
  }
}

/** Splits an IRC line (without tags or prefix, as clients send them) into its command and params. */
function splitParams(line: string): string[] {
  let rest = line;
  if (rest.startsWith('@')) rest = rest.slice(rest.indexOf(' ') + 1);
  if (rest.startsWith(':')) rest = rest.slice(rest.indexOf(' ') + 1);
  const out: string[] = [];
  while (rest.length) {
    if (rest.startsWith(':')) {
      out.push(rest.slice(1));
      break;
    }
    const sp = rest.indexOf(' ');
    if (sp < 0) {
      out.push(rest);
      break;
    }
    out.push(rest.slice(0, sp));
    rest = rest.slice(sp + 1).replace(/^ +/, '');
  }
  return out;
}

export async function startChathistoryPeer(opts: ChathistoryPeerOptions = {}): Promise<ChathistoryPeer> {
  const peer = new ChathistoryPeer(opts);
  await peer.start();
  return peer;
}
