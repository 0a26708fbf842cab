// Slack workspace export (PLATFORMS.md 1.10), as the zip Slack hands out or its unpacked folder:
// users.json, channels.json (+ groups.json, mpims.json, dms.json), one folder per conversation with
// one JSON array per day (`<name>/<YYYY-MM-DD>.json`). Each message becomes the same SlackItem the
// Web API connector yields, so one normalizer serves both. A day file that is not a JSON array, or a
// message that is not a message, is quarantined as `<file>` / `<file>:<index>` and the rest goes on.
// Files are unpacked one at a time under a size limit per file and for the whole export (a zip bomb: a
// 600 KB zip holding a 600 MB day file); a file over it is quarantined unread.
import { closeSync, openSync, readSync, statSync, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import yauzl from 'yauzl';
import type { QuarantineEntry } from '../../src/model/index.js';
import { MAX_JSON_DEPTH, shallowExcerpt, tooDeep } from '../json-depth.js';
import { DEFAULT_MAX_ENTRY_BYTES, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_TOTAL_BYTES, type ImportItem, type ImportOptions, type ImportPage, type Importer } from '../types.js';
import { normalizeSlack, SLACK_NORMALIZER_VERSION, type SlackItem, type SlackMessage, type SlackUserRef } from './normalize.js';

export const DEFAULT_EXPORT_PAGE_SIZE = 500;
/** How much of the export is scanned for the workspace's own URL (for permalinks) before reading. */
const WORKSPACE_SCAN_FILES = 50;
const DAY_FILE = /^(.+)\/(\d{4}-\d{2}-\d{2})\.json$/;
/** Links only a workspace's own pages have (files, integrations): they name its domain. */
const WORKSPACE_LINK = /https?:(?:\\?\/){2}([a-z0-9][a-z0-9-]*)\.slack\.com(?:\\?\/)(?:files|services|team|archives)(?:\\?\/)/i;

/** An export as a list of files, read one at a time (zip entries or files under a folder). */
interface ExportSource {
  /** Paths relative to the export root, `/`-separated, with their stored size. */
  files: Array<{ name: string; size: number }>;
  totalBytes: number;
  /** The file's bytes; rejects with an ExportLimitError, without holding them, when they are more than `maxBytes`. */
  read(name: string, maxBytes: number): Promise<Buffer>;
  close(): void;
}

/** A file of the export left unread because of a size limit (a zip bomb, or a file too big to hold). */
class ExportLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportLimitError';
  }
}

const overEntryLimit = (name: string, maxBytes: number, size?: number) =>
  new ExportLimitError(`${name} unpacks to ${size === undefined ? 'more than' : `${size} bytes, more than`} the ${maxBytes}-byte limit for one file (import.maxEntryBytes)`);

async function openZip(path: string): Promise<ExportSource> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(path, { lazyEntries: true, autoClose: false }, (err, z) => (err ? reject(err) : resolve(z))));
  const entries = new Map<string, yauzl.Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      if (!e.fileName.endsWith('/')) entries.set(e.fileName, e);
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  // Some tools wrap the export in one top folder: strip it.
  const anchor = [...entries.keys()].find((n) => /(^|\/)(channels|users)\.json$/.test(n));
  const prefix = anchor ? anchor.slice(0, anchor.lastIndexOf('/') + 1) : '';
  const files = [...entries.values()].filter((e) => e.fileName.startsWith(prefix)).map((e) => ({ name: e.fileName.slice(prefix.length), size: e.compressedSize }));
  return {
    files,
    totalBytes: statSync(path).size,
    read: (name, maxBytes) =>
      new Promise<Buffer>((resolve, reject) => {
        const e = entries.get(prefix + name);
        if (!e) return reject(new Error(`no ${name} in the zip`));
        // The size the zip declares is checked first; the bytes actually inflated are counted too, since
        // a crafted zip can declare less than it holds.
        if (e.uncompressedSize > maxBytes) return reject(overEntryLimit(name, maxBytes, e.uncompressedSize));
        zip.openReadStream(e, (err, stream) => {
          if (err) return reject(err);
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) {
              stream.destroy();
              chunks.length = 0;
              reject(overEntryLimit(name, maxBytes));
            } else chunks.push(c);
          });
          stream.on('end', () => resolve(Buffer.concat(chunks)));
          stream.on('error', reject);
        });
      }),
    close: () => zip.close(),
  };
}

async function openFolder(root: string): Promise<ExportSource> {
  const files: Array<{ name: string; size: number }> = [];
  for (const top of await readdir(root, { withFileTypes: true })) {
    if (top.isFile() && top.name.endsWith('.json')) files.push({ name: top.name, size: (await stat(join(root, top.name))).size });
    else if (top.isDirectory()) {
      for (const f of await readdir(join(root, top.name), { withFileTypes: true })) {
        if (f.isFile() && f.name.endsWith('.json')) files.push({ name: `${top.name}/${f.name}`, size: (await stat(join(root, top.name, f.name))).size });
      }
    }
  }
  const read = async (name: string, maxBytes: number): Promise<Buffer> => {
    const size = (await stat(join(root, name))).size;
    if (size > maxBytes) throw overEntryLimit(name, maxBytes, size);
    return readFile(join(root, name));
  };
  return { files, totalBytes: files.reduce((n, f) => n + f.size, 0), read, close: () => undefined };
}

interface ChannelMeta {
  id: string;
  name: string | null;
}

interface ExportUser {
  id?: string;
  name?: string;
  is_bot?: boolean;
  team_id?: string;
  is_admin?: boolean;
  is_owner?: boolean;
  is_primary_owner?: boolean;
  profile?: { display_name?: string; real_name?: string; email?: string };
}

const excerpt = (s: string) => s.slice(0, 500);

function parseJsonFile(buf: Buffer): unknown {
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return JSON.parse(text) as unknown;
}

/** The workspace URL from its own links in the export (file pages, integrations), or null. */
function workspaceUrlFrom(text: string): string | null {
  const m = WORKSPACE_LINK.exec(text);
  return m ? `https://${m[1]!.toLowerCase()}.slack.com/` : null;
}

function userIdsOf(m: SlackMessage): string[] {
  const ids: string[] = [];
  if (m.user) ids.push(m.user);
  if (m.comment?.user) ids.push(m.comment.user);
  const texts = [m.text, ...(m.attachments ?? []).flatMap((a) => [a.text, a.pretext])];
  for (const t of texts) if (typeof t === 'string') for (const x of t.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g)) ids.push(x[1]!);
  return ids;
}

export async function* readSlackExport(path: string, opts: ImportOptions, signal?: AbortSignal): AsyncGenerator<ImportPage> {
  const pageSize = opts.pageSize ?? DEFAULT_EXPORT_PAGE_SIZE;
  const maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxEntryBytes = opts.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const maxTotalBytes = opts.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
  const src = statSync(path).isDirectory() ? await openFolder(path) : await openZip(path);
  // Bytes unpacked so far, each file counted once (the first day files are read twice). A file that
  // takes the total past the limit is refused, and every file after it: the total can pass the limit
  // by at most one file, itself bounded by maxEntryBytes.
  let unpacked = 0;
  const counted = new Set<string>();
  const refused = new Set<string>();
  const readEntry = async (name: string): Promise<Buffer> => {
    const limitNote = `the export's files unpack to more than the ${maxTotalBytes}-byte limit (import.maxTotalBytes)`;
    if (refused.has(name) || (!counted.has(name) && unpacked > maxTotalBytes)) throw new ExportLimitError(`not read: ${limitNote}`);
    const buf = await src.read(name, maxEntryBytes);
    if (!counted.has(name)) {
      counted.add(name);
      unpacked += buf.length;
      if (unpacked > maxTotalBytes) {
        refused.add(name);
        throw new ExportLimitError(`not read: with ${name}, ${limitNote}`);
      }
    }
    return buf;
  };
  try {
    const names = new Set(src.files.map((f) => f.name));
    let quarantine: QuarantineEntry[] = [];
    let bytesRead = 0;

    // Users and conversations first: every message needs them.
    const users = new Map<string, SlackUserRef>();
    for (const file of ['users.json', 'org_users.json']) {
      if (!names.has(file)) continue;
      try {
        const list = parseJsonFile(await readEntry(file));
        if (!Array.isArray(list)) throw new Error('not a JSON array');
        for (const u of list as ExportUser[]) {
          if (!u || typeof u.id !== 'string') continue;
          const p = u.profile ?? {};
          users.set(u.id, {
            name: p.display_name || p.real_name || u.name || u.id,
            email: p.email ?? null,
            isBot: u.is_bot === true || u.id === 'USLACKBOT',
            team: typeof u.team_id === 'string' ? u.team_id : null,
            admin: u.is_admin === true || u.is_owner === true || u.is_primary_owner === true,
          });
        }
      } catch (err: unknown) {
        quarantine.push({ location: file, reason: `unreadable user list: ${(err as Error).message}`, excerpt: '' });
      }
    }
    const folders = new Map<string, ChannelMeta>();
    for (const file of ['channels.json', 'groups.json', 'mpims.json', 'dms.json']) {
      if (!names.has(file)) continue;
      try {
        const list = parseJsonFile(await readEntry(file));
        if (!Array.isArray(list)) throw new Error('not a JSON array');
        for (const c of list as Array<{ id?: string; name?: string }>) {
          if (!c || typeof c.id !== 'string') continue;
          // Channels, private channels and group DMs are folders by name; DMs by id.
          const folder = file === 'dms.json' ? c.id : (c.name ?? c.id);
          folders.set(folder, { id: c.id, name: file === 'dms.json' ? null : (c.name ?? null) });
        }
      } catch (err: unknown) {
        quarantine.push({ location: file, reason: `unreadable conversation list: ${(err as Error).message}`, excerpt: '' });
      }
    }

    const days = src.files
      .map((f) => ({ ...f, m: DAY_FILE.exec(f.name) }))
      .filter((f): f is typeof f & { m: RegExpExecArray } => f.m !== null && !f.m[1]!.includes('/'))
      .sort((a, b) => (a.m[1]! < b.m[1]! ? -1 : a.m[1]! > b.m[1]! ? 1 : a.m[2]! < b.m[2]! ? -1 : a.m[2]! > b.m[2]! ? 1 : 0));

    let workspaceUrl: string | null = null;
    for (const f of days.slice(0, WORKSPACE_SCAN_FILES)) {
      try {
        workspaceUrl = workspaceUrlFrom((await readEntry(f.name)).toString('utf8'));
      } catch {
        continue; // quarantined when its turn comes
      }
      if (workspaceUrl) break;
    }

    let items: ImportItem[] = [];
    for (const f of days) {
      if (signal?.aborted) return;
      const folder = f.m[1]!;
      const meta = folders.get(folder) ?? { id: folder, name: folder };
      let list: unknown;
      try {
        list = parseJsonFile(await readEntry(f.name));
        if (!Array.isArray(list)) throw new Error('not a JSON array of messages');
      } catch (err: unknown) {
        let head = '';
        if (!(err instanceof ExportLimitError)) {
          try {
            head = (await src.read(f.name, maxEntryBytes)).subarray(0, 4096).toString('utf8');
          } catch {
            /* the read itself failed: nothing to show */
          }
        }
        quarantine.push({ location: f.name, reason: `day file skipped: ${(err as Error).message}`, excerpt: excerpt(head) });
        bytesRead += f.size;
        continue;
      }
      (list as unknown[]).forEach((m, i) => {
        const location = `${f.name}:${i}`;
        // Checked before anything recurses into it (JSON.stringify below, normalize, storing).
        if (tooDeep(m)) {
          quarantine.push({ location, reason: `message nested deeper than ${MAX_JSON_DEPTH} levels`, excerpt: shallowExcerpt(m) });
          return;
        }
        const json = JSON.stringify(m) ?? '';
        if (!m || typeof m !== 'object' || Array.isArray(m)) {
          quarantine.push({ location, reason: 'not a message object', excerpt: excerpt(json) });
          return;
        }
        if (typeof (m as SlackMessage).ts !== 'string') {
          quarantine.push({ location, reason: 'message without a ts', excerpt: excerpt(json) });
          return;
        }
        if (Buffer.byteLength(json) > maxBytes) {
          quarantine.push({ location, reason: `message larger than ${maxBytes} bytes`, excerpt: excerpt(json) });
          return;
        }
        const message = m as SlackMessage;
        const refs: Record<string, SlackUserRef> = {};
        for (const id of userIdsOf(message)) {
          const u = users.get(id);
          if (u) refs[id] = u;
        }
        const raw: SlackItem = { kind: 'slack', channel: meta.id, channelName: meta.name, message, users: refs, workspaceUrl };
        items.push({ raw, location });
      });
      bytesRead += f.size;
      if (items.length >= pageSize) {
        yield { items, quarantine, bytesRead, totalBytes: src.totalBytes };
        items = [];
        quarantine = [];
      }
    }
    yield { items, quarantine, bytesRead: src.totalBytes, totalBytes: src.totalBytes };
  } finally {
    src.close();
  }
}

/** Whether `path` looks like a Slack export: a folder with users.json + channels.json, or a zip naming them. */
export function detectSlackExport(path: string, head: Buffer): boolean {
  try {
    if (statSync(path).isDirectory()) return existsSync(join(path, 'channels.json')) && existsSync(join(path, 'users.json'));
  } catch {
    return false;
  }
  if (head.length < 4 || head.readUInt32LE(0) !== 0x04034b50) return false;
  // The central directory at the end lists every name: look for the two lists there.
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const len = Math.min(size, 4 * 1024 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const s = buf.toString('latin1');
    return s.includes('channels.json') && s.includes('users.json');
  } finally {
    closeSync(fd);
  }
}

export const slackExportImporter: Importer = {
  format: 'slack-export',
  platform: 'slack',
  detect: detectSlackExport,
  read: readSlackExport,
  normalize: normalizeSlack,
  normalizerVersion: SLACK_NORMALIZER_VERSION,
};
