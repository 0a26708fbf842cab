// The Debian packages the test suite starts on loopback ports, found the way test/support finds them:
// redis-server, PostgreSQL (and, as root, its `postgres` user), Dovecot IMAP, ngircd (IRC), Chromium.
// `npm test` (scripts/test.js) installs the missing ones when it can (root and apt-get), saying which;
// otherwise it stops with the exact command. `node scripts/test-deps.js` does only this step.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PG_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/14/bin'];

function onPath(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}
const inDirs = (name, dirs) => dirs.some((d) => existsSync(join(d, name)));
function userExists(name) {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const isRoot = () => process.getuid?.() === 0;

/** Each package with how to tell it is there, and when it is not needed (a server given from outside). */
export const TEST_PACKAGES = [
  { pkg: 'redis-server', why: 'Redis for the queue tests', present: () => onPath('redis-server'), notNeeded: () => Boolean(process.env.REDIS_URL) },
  {
    pkg: 'postgresql',
    why: 'PostgreSQL for the store tests (as root, also its postgres user)',
    present: () => (onPath('initdb') || inDirs('initdb', PG_DIRS)) && (onPath('postgres') || inDirs('postgres', PG_DIRS)) && (!isRoot() || userExists('postgres')),
    notNeeded: () => Boolean(process.env.GLEANER_TEST_PG_URL),
  },
  { pkg: 'dovecot-imapd', why: 'Dovecot for the IMAP tests', present: () => onPath('dovecot') || existsSync('/usr/sbin/dovecot'), notNeeded: () => false },
  { pkg: 'ngircd', why: 'ngircd for the IRC tests', present: () => onPath('ngircd') || existsSync('/usr/sbin/ngircd'), notNeeded: () => false },
  { pkg: 'chromium', why: 'Chromium for the browser tests', present: () => existsSync('/usr/bin/chromium'), notNeeded: () => false },
];

export function missingTestPackages() {
  return TEST_PACKAGES.filter((p) => !p.notNeeded() && !p.present()).map((p) => p.pkg);
}

const installLine = (pkgs) => `apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;

/**
 * Makes sure the packages are there: installs the missing ones as root with apt-get, printing what and
 * why. Returns null when all are there, else the message saying what is missing and the command.
 */
export function ensureTestPackages(log = (line) => console.log(line)) {
  const missing = missingTestPackages();
  if (!missing.length) return null;
  const why = TEST_PACKAGES.filter((p) => missing.includes(p.pkg))
    .map((p) => `  ${p.pkg}: ${p.why}`)
    .join('\n');
  if (!isRoot() || !onPath('apt-get')) {
    const how = onPath('apt-get') ? `sudo sh -c '${installLine(missing)}'` : `(no apt-get here) install with your package manager: ${missing.join(' ')}`;
    return `The tests need Debian packages that are not installed:\n${why}\nInstall them, then run npm test again:\n  ${how}`;
  }
  log(`Installing the Debian packages the tests need (as root, with apt-get):\n${why}\n+ ${installLine(missing)}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env }) : update;
  const still = missingTestPackages();
  if (install.status !== 0 || still.length) {
    return `Installing the test packages failed (apt-get exit ${install.status ?? install.signal}); still missing: ${still.join(' ') || 'none'}.\nRun it yourself, then npm test again:\n  ${installLine(still.length ? still : missing)}`;
  }
  log(`Installed: ${missing.join(' ')}`);
  return null;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problem = ensureTestPackages();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  console.log('The Debian packages the tests need are installed.');
}
