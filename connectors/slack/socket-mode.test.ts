// Slack Socket Mode: live() with an app token against the fake's apps.connections.open and its local
// WebSocket server. Events become the same RawMessages as history, envelopes are acknowledged after
// their page, a lost connection is reopened and the catch-up pull fills the gap, a bad app token stops
// the source, abort closes the socket.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../test/fakes/slack.js';
import { isSkip, type Page, type RawMessage } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import { createSlackConnector, slackConfigSchema, type SlackConfigInput, type SlackCursor } from './index.js';

interface Harness {
  deps: ConnectorDeps;
  slept: number[];
  logs: string[];
  /** Runs inside the next reconnect backoff, while no connection is open. */
  duringSleep: (() => void) | null;
}

function harness(): Harness {
  const h: Harness = {
    slept: [],
    logs: [],
    duringSleep: null,
    deps: {
      source: 'slack-socket-test',
      now: Date.now,
      sleep: async (ms: number, signal?: AbortSignal) => {
        if (signal?.aborted) return false;
        h.slept.push(ms);
        const f = h.duringSleep;
        h.duringSleep = null;
        f?.();
        await new Promise((r) => setTimeout(r, 5));
        return !signal?.aborted;
      },
      log: (level, msg) => {
        h.logs.push(`${level}: ${msg}`);
      },
    },
  };
  return h;
}

function connect(fake: FakeSlack, h: Harness, extra: Partial<SlackConfigInput> = {}) {
  const cfg = slackConfigSchema.parse({ token: fake.token, appToken: fake.appToken, apiUrl: fake.url, pageSize: 5, ...extra });
  return createSlackConnector(cfg, h.deps, { retryConfig: { retries: 0 }, socketBackoff: { minMs: 20, maxMs: 100 }, socketHelloTimeoutMs: 2000 });
}

/** Consumes live() in the background, normalizing every item. */
function runLive(conn: ReturnType<typeof connect>, since?: SlackCursor) {
  const ac = new AbortController();
  const messages: RawMessage[] = [];
  const pages: Array<Page<SlackCursor>> = [];
  let error: unknown = null;
  let done = false;
  const finished = (async () => {
    try {
      for await (const page of conn.live!(since, ac.signal)) {
        pages.push(page);
        for (const raw of page.items) {
          const m = await conn.normalize(raw, { source: 'slack-socket-test' });
          if (!isSkip(m)) messages.push(m);
        }
      }
    } catch (err: unknown) {
      error = err;
    } finally {
      done = true;
    }
  })();
  return {
    ac,
    messages,
    pages,
    finished,
    get error() {
      return error;
    },
    get done() {
      return done;
    },
    last: (externalId: string) => [...messages].reverse().find((m) => m.externalId === externalId),
  };
}

async function until(what: string, pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Messages a fresh history pull gives now, by external id. */
async function historyNow(fake: FakeSlack, h: Harness): Promise<Map<string, RawMessage>> {
  const conn = connect(fake, h, { appToken: undefined });
  const out = new Map<string, RawMessage>();
  for await (const page of conn.history(undefined, new AbortController().signal)) {
    for (const raw of page.items) {
      const m = await conn.normalize(raw, { source: 'slack-socket-test' });
      if (!isSkip(m)) out.set(m.externalId, m);
    }
  }
  return out;
}

function world(fake: FakeSlack) {
  fake.addUser({ id: 'U01PRIYA', name: 'priya', real_name: 'Priya Raman', display_name: 'Priya', email: 'priya@acme.io' });
  fake.addUser({ id: 'U01SAM', name: 'sam', real_name: 'Sam Okafor' });
  const general = fake.addChannel({ id: 'C01GENERAL', name: 'general' });
  fake.addChannel({ id: 'C01RANDOM', name: 'random' });
  return general.id;
}

describe('slack Socket Mode live()', () => {
  let fake: FakeSlack;
  let live: ReturnType<typeof runLive> | null = null;
  /** A fake workspace and live() on it, connected (the empty workspace's catch-up is over). */
  async function connected(): Promise<{ general: string; h: Harness; run: ReturnType<typeof runLive> }> {
    fake = await FakeSlack.start();
    const general = world(fake);
    const h = harness();
    const run = runLive(connect(fake, h));
    live = run;
    await until('socket', () => fake.openSockets === 1);
    await new Promise((r) => setTimeout(r, 50));
    return { general, h, run };
  }
  afterEach(async () => {
    live?.ac.abort();
    await live?.finished;
    live = null;
    await fake?.stop();
  });

  it('catches up, then events arrive live as the RawMessages history gives, and every envelope is acknowledged', async () => {
    fake = await FakeSlack.start();
    const general = world(fake);
    const before = fake.post(general, { user: 'U01PRIYA', text: 'posted before live started' });
    const h = harness();
    live = runLive(connect(fake, h, { includeChannels: ['general'] }));
    await until('catch-up', () => live!.messages.length === 1 && fake.openSockets === 1);
    expect(live.messages[0]!.externalId).toBe(`${general}/${before}`);
    expect(fake.calls('apps.connections.open')).toHaveLength(1);
    expect(fake.calls('apps.connections.open')[0]!.tokenVia).toBe('bearer');

    const hist0 = fake.calls('conversations.history').length;
    const parent = fake.post(general, { user: 'U01PRIYA', text: 'Export to CSV drops <@U01SAM> mentions' });
    const reply = fake.reply(general, parent, { user: 'U01SAM', text: 'confirmed on 2.4' });
    const bot = fake.post(general, { subtype: 'bot_message', bot_id: 'B0CI', username: 'ci-bot', text: '', attachments: [{ pretext: 'Build failed', text: 'main #812' }] });
    const elsewhere = fake.post('C01RANDOM', { user: 'U01SAM', text: 'not in an included channel' });
    await until('three live messages', () => live!.messages.length === 4);
    await until('acks', () => fake.acks.length === 4);

    // Pushed over the socket, not pulled: no history call since the catch-up.
    expect(fake.calls('conversations.history').length).toBe(hist0);
    expect(fake.envelopes.map((e) => e.envelope_id)).toEqual(fake.acks);
    expect(fake.unacked()).toEqual([]);
    expect(live.messages.map((m) => m.externalId)).toEqual([`${general}/${before}`, `${general}/${parent}`, `${general}/${reply}`, `${general}/${bot}`]);
    expect(live.messages.some((m) => m.externalId === `C01RANDOM/${elsewhere}`)).toBe(false);

    const hist = await historyNow(fake, h);
    for (const m of live.messages) {
      // The parent came (in both paths) before it had replies: history read at that moment has no threadId either.
      const want = m.externalId === `${general}/${parent}` ? { ...hist.get(m.externalId)!, threadId: null } : hist.get(m.externalId);
      expect(m).toEqual(want);
    }
    expect(live.last(`${general}/${reply}`)!.replyTo).toBe(`${general}/${parent}`);
    expect(live.last(`${general}/${bot}`)!.author).toMatchObject({ isBot: true, name: 'ci-bot' });
    expect(live.last(`${general}/${parent}`)!.text).toBe('Export to CSV drops @Sam Okafor mentions');
    // Tokens stay out of every log line.
    expect(h.logs.join('\n')).not.toContain(fake.appToken);
    expect(h.logs.join('\n')).not.toContain(fake.token);
  });

  it('acknowledges an envelope only after its page was taken', async () => {
    fake = await FakeSlack.start();
    const general = world(fake);
    const h = harness();
    const conn = connect(fake, h);
    const ac = new AbortController();
    const it = conn.live!(undefined, ac.signal)[Symbol.asyncIterator]();
    // The catch-up of an empty workspace yields empty pages; once it is over (live listed the channels),
    // a message is posted: the next page is the event's.
    let ts = '';
    let pending = it.next();
    let page: IteratorResult<Page<SlackCursor>> | null = null;
    while (!page) {
      const r = await Promise.race([pending, new Promise<null>((res) => setTimeout(() => res(null), 20))]);
      if (r === null) {
        if (!ts && fake.openSockets === 1 && fake.calls('conversations.list').length === 2) ts = fake.post(general, { user: 'U01SAM', text: 'hello live' });
        continue;
      }
      if (!r.done && r.value.items.length === 0) pending = it.next();
      else page = r;
    }
    expect(ts).not.toBe('');
    expect(page.done).toBe(false);
    expect(page.value!.items).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.acks).toEqual([]); // yielded, not yet taken
    const second = it.next();
    await until('ack', () => fake.acks.length === 1);
    expect(fake.acks[0]).toBe(fake.envelopes[0]!.envelope_id);
    ac.abort();
    expect((await second).done).toBe(true);
  });

  it('an edit and a delete via events update the same external ids (top level and a thread reply)', async () => {
    const { general, h, run } = await connected();
    live = run;
    const top = fake.post(general, { user: 'U01PRIYA', text: 'dark mode is unreadable' });
    const reply = fake.reply(general, top, { user: 'U01SAM', text: 'agreed, the contrast is too low' });
    await until('two messages', () => live!.messages.length === 2);

    fake.edit(general, top, 'dark mode is unreadable on Windows');
    fake.edit(general, reply, 'agreed, the contrast is far too low');
    await until('edits', () => live!.messages.length === 4);
    const editedTop = live.last(`${general}/${top}`)!;
    expect(editedTop.text).toBe('dark mode is unreadable on Windows');
    expect(editedTop.editedAt).not.toBeNull();
    const editedReply = live.last(`${general}/${reply}`)!;
    expect(editedReply.text).toBe('agreed, the contrast is far too low');
    expect(editedReply.replyTo).toBe(`${general}/${top}`);
    const hist = await historyNow(fake, h);
    expect(editedTop).toEqual(hist.get(editedTop.externalId));
    expect(editedReply).toEqual(hist.get(editedReply.externalId));

    fake.delete(general, reply);
    await until('delete', () => live!.messages.length === 5);
    const gone = live.last(`${general}/${reply}`)!;
    expect(gone.deleted).toBe(true);
    expect(gone.text).toBe('');
    expect(gone.replyTo).toBe(`${general}/${top}`);
    await until('acks', () => fake.unacked().length === 0);
    expect(fake.acks).toHaveLength(5);
    // The cursor knows the edit and forgot the deleted reply, so a later catch-up hands neither out again.
    const cursor = live.pages[live.pages.length - 1]!.cursor;
    expect(cursor.channels[general]!.recent[reply]).toBeUndefined();
    expect(cursor.channels[general]!.recent[top]).toBeDefined();
  });

  it('reconnects after a disconnect and a dropped connection; the catch-up pull fills what was sent meanwhile, without repeats', async () => {
    const { general, h, run } = await connected();
    live = run;
    const a = fake.post(general, { user: 'U01PRIYA', text: 'before the disconnect' });
    await until('a', () => live!.messages.length === 1);
    await until('ack a', () => fake.acks.length === 1);

    // Slack asks for a refresh: reconnect at once (no backoff), catch up, go on.
    fake.disconnectSockets('refresh_requested');
    await until('second connection', () => fake.socketConnects === 2 && fake.openSockets === 1);
    expect(fake.calls('apps.connections.open')).toHaveLength(2);
    expect(h.slept).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    const b = fake.post(general, { user: 'U01SAM', text: 'after the refresh' });
    await until('b', () => live!.messages.length === 2);

    // The network drops; while the client backs off, a message is posted (no connection: no event).
    h.duringSleep = () => {
      expect(fake.openSockets).toBe(0);
      fake.post(general, { user: 'U01PRIYA', text: 'sent while disconnected' });
    };
    const envelopesBefore = fake.envelopes.length;
    fake.dropSockets();
    await until('missed message', () => live!.messages.some((m) => m.text === 'sent while disconnected'));
    expect(fake.envelopes.length).toBe(envelopesBefore); // it never came as an event
    expect(h.slept.length).toBeGreaterThanOrEqual(1);
    await until('third connection', () => fake.socketConnects === 3 && fake.openSockets === 1);
    expect(fake.calls('apps.connections.open')).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 50));
    const c = fake.post(general, { user: 'U01SAM', text: 'after the drop' });
    await until('c', () => live!.messages.some((m) => m.text === 'after the drop'));

    // Every message exactly once: the catch-ups did not hand out the event-delivered ones again.
    const ids = live.messages.map((m) => m.externalId);
    expect(ids.filter((x) => x === `${general}/${a}`)).toHaveLength(1);
    expect(ids.filter((x) => x === `${general}/${b}`)).toHaveLength(1);
    expect(ids.filter((x) => x === `${general}/${c}`)).toHaveLength(1);
    expect(ids).toHaveLength(4);
    expect(h.logs.some((l) => l.includes('disconnect: refresh_requested'))).toBe(true);
  });

  it('a frame that is not JSON, an envelope without its event and one of another type are skipped; the session goes on', async () => {
    const { general, h, run } = await connected();
    live = run;
    expect(fake.pushFrame('{not json')).toBe(true);
    fake.pushFrame({ envelope_id: 'env-bad-1', type: 'events_api', payload: { type: 'event_callback' } });
    fake.pushFrame({ envelope_id: 'env-cmd-1', type: 'slash_commands', payload: { command: '/gleaner' } });
    const ts = fake.post(general, { user: 'U01PRIYA', text: 'after the bad frames' });
    await until('the message after them', () => live!.messages.some((m) => m.externalId === `${general}/${ts}`));
    // The slash command is not ours but is acknowledged, so Slack does not send it again.
    await until('acks', () => fake.acks.includes('env-cmd-1') && fake.unacked().length === 0);
    expect(fake.socketConnects).toBe(1);
    expect(live.error).toBeNull();
    expect(h.logs.some((l) => l.includes('not JSON'))).toBe(true);
    expect(h.logs.some((l) => l.includes('a frame was skipped'))).toBe(true);
  });

  it('a bad app token gives a ConnectorError of kind auth, without the token in it', async () => {
    fake = await FakeSlack.start();
    world(fake);
    const h = harness();
    for (const appToken of ['xapp-1-A0FAKE-1-wrongwrongwrong', fake.token]) {
      const run = runLive(connect(fake, h, { appToken }));
      await run.finished;
      expect(run.error).toBeInstanceOf(ConnectorError);
      const err = run.error as ConnectorError;
      expect(err.kind).toBe('auth');
      expect(err.message).toMatch(/app token/);
      expect(err.message).not.toContain(appToken);
      expect(String(err.cause)).not.toContain(appToken);
    }
    expect(fake.calls('apps.connections.open').map((r) => r.error)).toEqual(['invalid_auth', 'not_allowed_token_type']);
    expect(fake.socketConnects).toBe(0);
    expect(fake.calls('conversations.history')).toEqual([]);
  });

  it('abort closes the socket and ends live()', async () => {
    fake = await FakeSlack.start();
    world(fake);
    const h = harness();
    const run = runLive(connect(fake, h));
    live = run;
    await until('socket', () => fake.openSockets === 1);
    await new Promise((r) => setTimeout(r, 50));
    run.ac.abort();
    await run.finished;
    expect(run.error).toBeNull();
    await until('closed', () => fake.socketCloses === 1 && fake.openSockets === 0);
    expect(fake.socketConnects).toBe(1);
    expect(fake.calls('apps.connections.open')).toHaveLength(1);
  });

  it('without an app token live() polls as before', async () => {
    fake = await FakeSlack.start();
    const general = world(fake);
    fake.post(general, { user: 'U01PRIYA', text: 'polled' });
    const h = harness();
    live = runLive(connect(fake, h, { appToken: undefined }));
    await until('poll sleep', () => h.slept.length >= 1);
    expect(live.messages.map((m) => m.text)).toEqual(['polled']);
    expect(h.slept[0]).toBe(300_000);
    expect(fake.calls('apps.connections.open')).toEqual([]);
    expect(fake.socketConnects).toBe(0);
  });
});
