// A real ngircd (Debian package `ngircd`) for the IRC live tests: loopback only, a free port, its own
// temp dir, run in the foreground. Based on shared/fixtures/irc/ngircd-minimal.conf. ngircd offers no
// server-time, msgid or CHATHISTORY (PLATFORMS.md 4.2): those are tested against test/fakes/irc-chathistory.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, stopProcess, waitForPort } from './servers.js';

export interface RunningNgircd {
  host: string;
  port: number;
  stop(): Promise<void>;
  /** Kills the server (as a crash would) and starts it again on the same port. */
  restart(): Promise<void>;
  /** Kills the server and leaves it down until `start()`. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

export async function startNgircd(): Promise<RunningNgircd> {
  let bin: string;
  try {
    bin = findBinary('ngircd', 'ngircd', ['/usr/sbin']);
  } catch (err: unknown) {
    throw new Error("The IRC tests need 'ngircd', which is not installed. Install it with: apt-get install -y ngircd", { cause: err });
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-ngircd-'));
  const me = userInfo();
  const conf = `[Global]
Name = irc.test.local
Info = Gleaner test server
Listen = 127.0.0.1
Ports = ${port}
MotdPhrase = "hello"
PidFile = ${join(dir, 'ngircd.pid')}
ServerUID = ${me.uid}
ServerGID = ${me.gid}
[Limits]
PingTimeout = 120
MaxNickLength = 20
[Options]
Ident = no
PAM = no
DNS = no
[Channel]
Name = #test
Topic = test channel
`;
  const confPath = join(dir, 'ngircd.conf');
  writeFileSync(confPath, conf);

  let child: ChildProcess | null = null;
  let stderr = '';
  const start = async () => {
    stderr = '';
    const c = spawn(bin, ['-n', '-f', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child = c;
    try {
      await waitForPort(port, 15_000);
    } catch (err: unknown) {
      await stopProcess(c, 'SIGKILL');
      throw new Error(`ngircd did not start: ${(err as Error).message}\n${stderr}`, { cause: err });
    }
  };
  const kill = async () => {
    if (child) await stopProcess(child, 'SIGKILL');
    child = null;
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    start,
    kill,
    restart: async () => {
      await kill();
      await start();
    },
    stop: async () => {
      if (child) await stopProcess(child);
      child = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
