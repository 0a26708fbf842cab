// A real Dovecot IMAP server for tests: plaintext on a free loopback port, one user, maildir in a temp dir.
// Modelled on shared/fixtures/mail/dovecot/dovecot-minimal.conf (Dovecot 2.3, Debian dovecot-imapd).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, stopProcess, waitForPort } from './servers.js';

export interface RunningDovecot {
  host: string;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

export async function startDovecot(): Promise<RunningDovecot> {
  const bin = findBinary('dovecot', 'dovecot-imapd', ['/usr/sbin']);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-dovecot-'));
  // The mail processes run as the userdb user (nobody when we are root): they must reach the home dir.
  chmodSync(dir, 0o755);
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o777 });
  chmodSync(home, 0o777);
  const user = 'gleaner';
  const password = randomBytes(9).toString('base64url');
  writeFileSync(join(dir, 'users'), `${user}:{PLAIN}${password}\n`, { mode: 0o644 });

  const me = userInfo();
  const root = me.uid === 0;
  // As root Dovecot drops to its own users (created by the Debian package); otherwise everything runs as us.
  const accounts = root ? 'default_internal_user = dovecot\ndefault_login_user = dovenull\n' : `default_internal_user = ${me.username}\ndefault_login_user = ${me.username}\n`;
  const userdbArgs = root ? `uid=nobody gid=nogroup home=${home}/%u` : `uid=${me.uid} gid=${me.gid} home=${home}/%u`;
  const conf = `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
${accounts}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = ${userdbArgs}
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`;
  const confPath = join(dir, 'dovecot.conf');
  writeFileSync(confPath, conf);
  const child = spawn(bin, ['-F', '-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => {
      let log = '';
      try {
        log = readFileSync(join(dir, 'dovecot.log'), 'utf8');
      } catch {
        // no log yet
      }
      reject(new Error(`dovecot exited with code ${code} before listening on ${port}: ${stderr}${log}`));
    });
  });
  try {
    await Promise.race([waitForPort(port), exited]);
  } catch (err: unknown) {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  exited.catch(() => undefined);
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    stop: async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
