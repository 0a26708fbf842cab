// The fast path of mail normalization: a message that is one text/plain part in UTF-8 or US-ASCII,
// with plain ASCII headers, is read here instead of by mailparser (which streams every message
// through mailsplit, libmime and several Transform streams, about 1 ms each). Everything outside
// that narrow case, and anything odd inside it, returns null and goes to mailparser unchanged.
// Each value is formed the way mailparser 3.14 / mailsplit 5.4 / nodemailer's addressparser form
// it, so that normalizeMail's output is identical either way (simple-parse.test.ts checks that on
// every fixture and archive message).

/** One raw header line as mailsplit reports it: lower-cased name, folded lines joined by CRLF. */
export interface MailHeaderLine {
  key: string;
  line: string;
}

/** What normalizeMail reads from a parsed message; mailparser's ParsedMail is one. */
export interface MailView {
  headerLines: ReadonlyArray<MailHeaderLine>;
  subject?: string | undefined;
  from?: { value: ReadonlyArray<{ address?: string | undefined; name: string }> } | undefined;
  text?: string | undefined;
  html?: string | boolean | undefined;
  attachments: ReadonlyArray<{ filename?: string | undefined; contentType?: string | undefined; size?: number | undefined }>;
}

/** Larger header blocks go to mailparser (its own limit counts at least 64 bytes per line, 1 MiB in all). */
const MAX_HEAD_CHARS = 64 * 1024;
const MAX_HEAD_LINES = 1000;

// Any character outside printable ASCII, tab, CR and LF (NUL, 8-bit, ...), or an RFC 2047 encoded word.
const HEAD_NOT_SIMPLE = /[^\t\n\r\x20-\x7e]|=\?/;
// A header name as RFC 5322 ftext: printable ASCII without ':' and without whitespace.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const SURROGATE = /[\uD800-\uDFFF]/;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Parses a simple message (see the file comment) as mailparser would; null for anything else.
 * `source` is the text normalizeMail would hand to mailparser, `encoding` how it turns into bytes.
 * Never throws.
 */
export function parseSimpleMail(source: string, encoding: 'utf8' | 'latin1'): MailView | null {
  try {
    return parse(source, encoding);
  } catch {
    return null;
  }
}

function parse(source: string, encoding: 'utf8' | 'latin1'): MailView | null {
  // mailsplit ends the header block at the first line that is exactly LF or CRLF.
  let headEnd = source.length;
  let bodyStart = source.length;
  for (let pos = 0; pos < source.length;) {
    const nl = source.indexOf('\n', pos);
    if (nl < 0) break;
    if (nl === pos || (nl === pos + 1 && source.charCodeAt(pos) === 0x0d)) {
      headEnd = pos;
      bodyStart = nl + 1;
      break;
    }
    if (nl > MAX_HEAD_CHARS) return null;
    pos = nl + 1;
  }
  // mailsplit drops the CRs and LFs that end the block, then splits it on CRLF or LF.
  let end = headEnd;
  while (end > 0 && (source.charCodeAt(end - 1) === 0x0a || source.charCodeAt(end - 1) === 0x0d)) end--;
  const head = source.slice(0, end);
  if (head === '' || head.length > MAX_HEAD_CHARS || HEAD_NOT_SIMPLE.test(head)) return null;
  const rawLines = head.split(/\r?\n/);
  if (rawLines.length > MAX_HEAD_LINES) return null;

  const headerLines: MailHeaderLine[] = [];
  for (const raw of rawLines) {
    if (raw.includes('\r')) return null; // a bare CR: mailsplit keeps it inside the line
    const c = raw.charCodeAt(0);
    if (c === 0x20 || c === 0x09) {
      const last = headerLines[headerLines.length - 1];
      if (!last) return null; // the block starts with a continuation line
      last.line += `\r\n${raw}`;
      continue;
    }
    const colon = raw.indexOf(':');
    if (colon <= 0) return null; // no name: mailsplit makes it a header named '' (or an mbox/POST line)
    const name = raw.slice(0, colon);
    if (!FIELD_NAME.test(name)) return null;
    headerLines.push({ key: name.toLowerCase(), line: raw });
  }

  let subject: string | undefined;
  let fromValue: string | undefined;
  let contentType: string | undefined;
  let transferEncoding: string | undefined;
  for (const h of headerLines) {
    switch (h.key) {
      case 'subject': {
        // mailparser keeps the first Subject that is not empty
        if (subject === undefined) {
          const v = headerValueOf(h.line);
          if (v) subject = v;
        }
        break;
      }
      case 'from':
        if (fromValue === undefined) fromValue = headerValueOf(h.line);
        break;
      case 'content-type':
        if (contentType !== undefined) return null;
        contentType = headerValueOf(h.line);
        break;
      case 'content-transfer-encoding':
        if (transferEncoding !== undefined) return null;
        transferEncoding = headerValueOf(h.line);
        break;
      case 'content-disposition':
        return null; // may make the body an attachment
      default:
        break;
    }
  }
  if (contentType !== undefined && !isSimpleContentType(contentType)) return null;
  if (transferEncoding !== undefined && !/^[78]bit$/i.test(transferEncoding)) return null;

  let from: MailView['from'];
  if (fromValue !== undefined) {
    const address = parseAddress(fromValue);
    if (!address) return null;
    from = { value: [address] };
  }

  let body = source.slice(bodyStart);
  if (encoding === 'utf8') {
    // Buffer.from(s, 'utf8') turns a lone surrogate into U+FFFD: leave those to mailparser.
    if (SURROGATE.test(body) && LONE_SURROGATE.test(body)) return null;
  } else if (NON_ASCII.test(body)) {
    // Latin-1 text stands for bytes: mailparser reads them as UTF-8, which they must be.
    try {
      body = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Buffer.from(body, 'latin1'));
    } catch {
      return null;
    }
  }
  // mailparser: the part's text with CRLF made LF, no text at all when the part is empty.
  const text = body.replace(/\r?\n/g, '\n');

  return {
    headerLines,
    ...(subject !== undefined ? { subject } : {}),
    ...(from ? { from } : {}),
    ...(text !== '' ? { text } : {}),
    html: false,
    attachments: [],
  };
}

/** The value as libmime's decodeHeader gives it (unfolded, after the first colon, trimmed). */
function headerValueOf(line: string): string {
  const unfolded = line.replace(/\r\n[ \t]*/g, ' ').trim();
  return unfolded.slice(unfolded.indexOf(':') + 1).trim();
}

const CT_PARAM = /;[ \t]*([A-Za-z][A-Za-z0-9-]*)=("[^"\\]*"|[^\s;"()\\]+)[ \t]*/y;

/** `text/plain` with at most charset (US-ASCII or UTF-8) and format=fixed; no comments, no RFC 2231. */
function isSimpleContentType(value: string): boolean {
  const type = /^text\/plain[ \t]*/i.exec(value);
  if (!type) return false;
  const seen = new Set<string>();
  let pos = type[0].length;
  while (pos < value.length) {
    CT_PARAM.lastIndex = pos;
    const m = CT_PARAM.exec(value);
    if (!m) return false;
    pos = CT_PARAM.lastIndex;
    const key = (m[1] ?? '').toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    let v = m[2] ?? '';
    if (v.startsWith('"')) v = v.slice(1, -1);
    v = v.trim().toLowerCase();
    if (key === 'charset') {
      // mailparser decodes nothing for these (names compared without punctuation)
      if (!['ascii', 'usascii', 'utf8'].includes(v.replace(/[^a-z0-9]+/g, ''))) return false;
    } else if (key === 'format') {
      if (v !== 'fixed') return false; // format=flowed is unwrapped by mailparser
    } else {
      return false;
    }
  }
  return true;
}

const ADDR_SPEC = /^[^\s"(),:;<>@[\]\\]+@[^\s"(),:;<>@[\]\\]+$/;

/**
 * One mailbox in the forms `Name <addr>`, `"Quoted, Name" <addr>`, `<addr>`, `addr (Comment)` and
 * `addr`, with the name and address addressparser and mailparser's decodeAddresses give; null for
 * anything else (groups, lists, escapes, routes, '@' or specials in a name, punycode domains).
 */
export function parseAddress(value: string): { address: string; name: string } | null {
  if (/xn--/i.test(value)) return null; // mailparser decodes punycode domains
  let address: string;
  let name: string;
  let m: RegExpExecArray | null;
  if ((m = /^"([^"\\]*)"[ \t]*<([^<>]*)>$/.exec(value))) {
    name = (m[1] ?? '').trim();
    address = m[2] ?? '';
    if (!name) return null; // an empty quoted string has rules of its own
  } else if ((m = /^([^"(),:;<>@[\]\\]*)<([^<>]*)>$/.exec(value))) {
    name = (m[1] ?? '').trim();
    address = m[2] ?? '';
  } else if ((m = /^([^\s()]+?)[ \t]*\(([^()\\"<>@]*)\)$/.exec(value))) {
    address = m[1] ?? '';
    name = (m[2] ?? '').trim();
  } else {
    address = value;
    name = '';
  }
  if (!ADDR_SPEC.test(address) || name.includes('@')) return null;
  return { address, name };
}
