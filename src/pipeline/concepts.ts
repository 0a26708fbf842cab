// A small thesaurus of what software feedback talks about: words and phrases that name the same thing
// or the same symptom ("freezes", "hangs", "locks up", "goes unresponsive"; "ssh", "shell", "terminal";
// "unmasked", "in plain text", "en clair"), in English and, where short, German, Spanish, Portuguese and
// French. Grouping adds a concept token for each concept a need mentions, so two reports that share no
// word but name the same symptom or object come closer. General vocabulary of the field only: no
// product, company or person names. Pure: no I/O.

/** Concept -> the words and phrases that name it (lower case; `\w*` endings allowed as written). */
const CONCEPTS: Record<string, readonly string[]> = {
  hang: [
    'freez\\w*',
    'froze',
    'frozen',
    'hangs?',
    'hanging',
    'hung',
    'unresponsive',
    'not responding',
    'locks? up',
    'locked up',
    'locking up',
    'stall\\w*',
    'gets? stuck',
    'is stuck',
    'congel\\w*',
    'trava\\w*',
    'bloqu\\w*',
    'h[äa]ngt',
  ],
  crash: ['crash\\w*', 'segfault\\w*', 'core dump\\w*', 'dies', 'died', 'kills? the', 'abort\\w*', 'panic\\w*', 'absturz\\w*', 'st[üu]rzt ab', 'plante'],
  slow: ['slow\\w*', 'sluggish', 'laggy', 'lag', 'takes? ages', 'takes? forever', 'painfully', 'latency', 'lent[oa]s?', 'lente', 'langsam\\w*', 'demora\\w*'],
  waiting: ['queue\\w*', 'waiting', 'wait', 'waits', 'waited', 'sits? in', 'sat in', 'pending', 'backlog', 'fila', 'cola', "file d'attente", 'warteschlange', 'attente'],
  memory: ['memory', 'ram', 'rss', 'heap', 'oom\\w*', 'out of memory', 'm[ée]moire', 'speicher\\w*', 'mem[óo]ria'],
  exposed: ['expos\\w*', 'unmasked', 'not masked', "isn'?t masked", 'plain ?text', 'in clear', 'cleartext', 'en clair', 'em claro', 'texto claro', 'revealed', 'showed up in', 'printed in'],
  credential: ['secrets?', 'tokens?', 'passwords?', 'credentials?', 'api keys?', 'private keys?', 'passw[öo]rter', 'contrase[ñn]as?', 'senhas?', 'mots? de passe'],
  shell: ['ssh', 'shell', 'terminal', 'console', 'tty', 'interactive', 'debug sessions?', 'debug mode', 'remote access'],
  arm: ['arm', 'arm64', 'aarch64', 'graviton', 'ampere', 'apple silicon', 'multi[- ]?arch'],
  mac: ['mac', 'macs', 'macos', 'osx', 'os x', 'ios', 'xcode'],
  windows: ['windows', 'win32', 'win64', 'powershell'],
  login: ['log ?in', 'logins', 'sign[- ]?in', 'sso', 'saml', 'oauth', 'openid', 'redirect loop', 'authenticat\\w*', 'anmeld\\w*', 'connexion', 'iniciar sesi[óo]n'],
  denied: ['permission denied', 'access ?denied', 'forbidden', '403', 'unauthori[sz]ed', 'not authori[sz]ed', 'not allowed', 'accessdenied'],
  download: ['download\\w*', 'export\\w*', 'save as', 'fetch the', 't[ée]l[ée]charg\\w*', 'descarg\\w*', 'baix\\w*', 'herunterlad\\w*'],
  notify: ['notif\\w*', 'alerts?', 'alerting', 'benachrichtig\\w*'],
  theme: ['dark mode', 'dark theme', 'night mode', 'light mode', 'themes?', 'mode sombre', 'modo oscuro', 'modo escuro', 'dunkelmodus'],
  billing: ['bill\\w*', 'invoic\\w*', 'charg\\w*', 'pricing', 'price\\w*', 'costs?', 'paying', 'pay for', 'factur\\w*', 'rechnung\\w*', 'cobr\\w*'],
  parallel: ['concurren\\w*', 'parallel\\w*', 'simultaneous\\w*', 'at the same time', 'capacity', 'at once'],
  schedule: ['cron\\w*', 'schedul\\w*', 'nightly', 'timezones?', 'time zones?', 'utc'],
  timeout: ['time ?outs?', 'timed out', 'times out', 'time limits?', 'cancell?ed after', 'killed after'],
  retention: ['retention', 'expir\\w*', 'kept', 'keep for', 'purg\\w*', 'vanish\\w*', 'deleted after', 'rétention'],
  approval: ['approv\\w*', 'reviewers?', 'gates?', 'gating', 'sign[- ]off', 'manual step', 'genehmig\\w*', 'aprova\\w*'],
  browser: ['browsers?', 'browser tabs?', 'the tab', 'chrome', 'chromium', 'firefox', 'safari', 'navigateur', 'navegador'],
  large: ['big', 'large', 'huge', 'massive', 'megabytes?', 'gigabytes?', '\\d+\\s?(?:k|m|g)b', '\\d+k lines', 'many lines', 'thousands of lines', 'gro(?:ß|ss)e?', 'grande?s?'],
  mobile: ['android', 'iphone', 'ipad', 'mobile', 'phone', 'app store', 'play store'],
  search: ['search\\w*', 'lookup', 'recherch\\w*', 'busca\\w*'],
  webhook: ['webhooks?', 'status checks?', 'commit status\\w*', 'statuses'],
  pr: ['pull requests?', 'merge requests?', 'prs?', 'mrs?'],
};

interface Compiled {
  re: RegExp;
  /** Capture group index -> concept. */
  groups: string[];
}

let compiled: Compiled | null = null;

function compile(): Compiled {
  const groups: string[] = [];
  const parts: string[] = [];
  for (const [concept, terms] of Object.entries(CONCEPTS)) {
    groups.push(concept);
    parts.push(`(${terms.join('|')})`);
  }
  // Word boundaries by letters and digits of any script.
  return { re: new RegExp(`(?<![\\p{L}\\p{N}])(?:${parts.join('|')})(?![\\p{L}\\p{N}])`, 'giu'), groups };
}

/** The index after `i` by code points (a surrogate pair is one step), as a unicode expression moves past an empty match. */
function advance(s: string, i: number): number {
  if (i + 1 >= s.length) return i + 1;
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff) return i + 1;
  const d = s.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff ? i + 2 : i + 1;
}

/** The concepts a text mentions, each once, in the order they first appear. */
export function conceptsOf(text: string): string[] {
  const c = (compiled ??= compile());
  const seen: string[] = [];
  const re = c.re;
  const lower = text.toLowerCase();
  // The matches matchAll would give, from the one compiled expression (matchAll copies it per call).
  re.lastIndex = 0;
  for (let m = re.exec(lower); m !== null; m = re.exec(lower)) {
    if (m[0] === '') re.lastIndex = advance(lower, re.lastIndex);
    for (let g = 1; g < m.length; g++) {
      if (m[g] !== undefined) {
        const concept = c.groups[g - 1]!;
        if (!seen.includes(concept)) seen.push(concept);
        break;
      }
    }
  }
  re.lastIndex = 0;
  return seen;
}
