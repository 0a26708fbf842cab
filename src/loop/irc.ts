// An IRC reply (only with `loop.irc: true`): IRC has no threads, so the reply is one line in the channel
// addressed to the reporter (`nick: text`), said from the source's own network settings (TLS, SASL) by a
// short-lived client that joins, says it and quits. IRC gives no receipt: once the line is handed to the
// server it counts as sent.
import { Client } from 'irc-framework';
import type { Config } from '../config/index.js';
import { ircConfigSchema } from '../../connectors/irc/config.js';
import { ChatSendError, type Sent } from '../digest/chat-clients.js';

const TIMEOUT_MS = 30_000;
/** An IRC line is at most 512 bytes with its prefix and command; the text keeps well under it. */
const MAX_TEXT = 380;

export interface IrcReply {
  source: string;
  network: string | null;
  channel: string;
  nick: string;
}

export async function ircSay(config: Config, t: IrcReply, text: string): Promise<Sent> {
  const src = config.sources.find((s) => s.name === t.source);
  if (!src || src.platform !== 'irc') throw new ChatSendError(`there is no IRC source named ${t.source} in the config`, 'no');
  const { name: _n, platform: _p, enabled: _e, public: _pub, ...own } = src;
  const parsed = ircConfigSchema.safeParse(own);
  if (!parsed.success) throw new ChatSendError(`source ${t.source}: invalid config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'no');
  const net = parsed.data.networks.find((n) => n.name === t.network) ?? (parsed.data.networks.length === 1 || t.network === null ? parsed.data.networks[0] : undefined);
  if (!net) throw new ChatSendError(`source ${t.source} has no network ${t.network ?? ''}`, 'no');
  const line = `${t.nick}: ${text.replace(/[\r\n]+/g, ' ')}`.slice(0, MAX_TEXT);
  const client = new Client();
  return new Promise<Sent>((resolve, reject) => {
    let said = false;
    const timer = setTimeout(() => fail(new ChatSendError(`IRC ${net.host}:${net.port} did not let ${net.nick} join ${t.channel} within ${TIMEOUT_MS / 1000} s`, 'no')), TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      client.removeAllListeners();
      client.on('error', () => undefined); // a late socket error after the outcome is settled
    };
    function fail(err: ChatSendError): void {
      done();
      try {
        client.quit('gleaner');
      } catch {
        /* already closed */
      }
      reject(err);
    }
    client.on('registered', () => client.join(t.channel));
    client.on('join', (e: { nick: string; channel: string }) => {
      if (said || e.nick !== client.user.nick || e.channel.toLowerCase() !== t.channel.toLowerCase()) return;
      said = true;
      client.say(t.channel, line);
      // QUIT after the PRIVMSG on the same connection: the server handles them in order.
      client.quit('gleaner: reply sent');
      done();
      resolve({ id: `${net.name}/${t.channel}/${Date.now()}`, link: null });
    });
    client.on('irc error', (e: { error?: string; reason?: string }) => fail(new ChatSendError(`IRC ${net.host}: ${e.error ?? ''} ${e.reason ?? ''}`.trim(), 'no')));
    client.on('close', () => fail(new ChatSendError(`IRC ${net.host}:${net.port} closed the connection before the line was said`, 'no')));
    client.connect({
      host: net.host,
      port: net.port,
      tls: net.tls,
      rejectUnauthorized: net.rejectUnauthorized,
      nick: net.nick,
      username: net.username ?? 'gleaner',
      gecos: net.gecos,
      account: net.sasl ? { account: net.sasl.account, password: net.sasl.password } : undefined,
      sasl_mechanism: 'PLAIN',
      auto_reconnect: false,
      version: null,
    });
  });
}
