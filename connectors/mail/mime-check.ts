// What the mail importers check and show of a message's bytes: its text (UTF-8, else Latin-1), a safe
// excerpt for the quarantine, and a cheap check of its MIME structure (depth, charsets) on the text.

const EXCERPT_CHARS = 500;

/** Text of a message: UTF-8 when the bytes are valid UTF-8, else Latin-1 (byte-exact, re-encodable). */
export function decodeSource(bytes: Buffer): { text: string; encoding: 'utf8' | 'latin1' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: bytes.toString('latin1'), encoding: 'latin1' };
  }
}

export function excerptOf(bytes: Buffer): string {
  return (
    bytes
      .toString('utf8')
      .slice(0, EXCERPT_CHARS)
      // eslint-disable-next-line no-control-regex
      .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]/g, '.')
  );
}

export function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

// ---- MIME structure check (cheap, on the text; mailparser would silently accept both problems) ----

const MAX_MIME_DEPTH = 8;

export function inspectMime(source: string): { truncated: string | null; unknownCharsets: string[] } {
  const result = { truncated: null as string | null, unknownCharsets: [] as string[] };
  walkMime(source, 0, result);
  return result;
}

function splitHeaders(entity: string): { headers: string; body: string } {
  const m = /\r?\n\r?\n/.exec(entity);
  if (!m) return { headers: entity, body: '' };
  return { headers: entity.slice(0, m.index), body: entity.slice(m.index + m[0].length) };
}

function param(value: string, name: string): string | null {
  const m = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  if (!m) return null;
  return (m[1] ?? m[2] ?? '').trim();
}

function walkMime(entity: string, depth: number, result: { truncated: string | null; unknownCharsets: string[] }): void {
  if (depth > MAX_MIME_DEPTH || result.truncated) return;
  const { headers, body } = splitHeaders(entity);
  const unfolded = headers.replace(/\r?\n[ \t]+/g, ' ');
  const ct = /^content-type:[ \t]*(.*)$/im.exec(unfolded)?.[1] ?? '';
  const type = (ct.split(';', 1)[0] ?? '').trim().toLowerCase();
  const charset = param(ct, 'charset');
  if (charset && !isKnownCharset(charset) && !result.unknownCharsets.includes(charset)) result.unknownCharsets.push(charset);
  if (type.startsWith('multipart/')) {
    const boundary = param(ct, 'boundary');
    if (!boundary) return;
    const delimiter = `--${boundary}`;
    const lines = body.split('\n');
    let closed = false;
    const parts: string[] = [];
    let currentPart: string[] | null = null;
    for (const rawLine of lines) {
      const line = rawLine.replace(/\r$/, '').trimEnd();
      if (line === `${delimiter}--`) {
        closed = true;
        if (currentPart) parts.push(currentPart.join('\n'));
        break;
      }
      if (line === delimiter) {
        if (currentPart) parts.push(currentPart.join('\n'));
        currentPart = [];
        continue;
      }
      if (currentPart) currentPart.push(rawLine);
    }
    if (!closed) {
      result.truncated = `multipart boundary "${clip(boundary, 70)}" is never closed (the message is cut off)`;
      return;
    }
    for (const part of parts) walkMime(part, depth + 1, result);
  } else if (type === 'message/rfc822') {
    walkMime(body, depth + 1, result);
  }
}

const EXTRA_CHARSETS = new Set(['utf8', 'us-ascii', 'ascii', 'utf-7', 'unicode-1-1-utf-7', 'binary', '8bit', 'default']);

export function isKnownCharset(label: string): boolean {
  const l = label.trim().toLowerCase();
  if (EXTRA_CHARSETS.has(l) || /^(?:cp|ibm|windows-?|iso-?8859-?)\d+$/.test(l)) return true;
  try {
    new TextDecoder(l);
    return true;
  } catch {
    return false;
  }
}
