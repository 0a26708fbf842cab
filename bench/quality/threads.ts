// Chat disentanglement quality (threads.*) on the gold-annotated IRC logs in ../shared/data:
// the Ubuntu dev split (the main figures), then Channel Two (#linux) and the ALTA 2023 new domains.
// Also prints the inference speed of the shipped model over the Ubuntu dev logs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sharedDir } from '../../src/paths.js';
import { annotatedLogs, evalThreads } from '../../src/eval/threads.js';
import { parseIrcLog } from '../../src/eval/irc-log.js';
import { loadDisentangleModel } from '../../src/models/disentangle.js';
import { Disentangler } from '../../src/pipeline/disentangle/index.js';

export async function run(_args: string[]): Promise<void> {
  const root = join(sharedDir(), 'data', 'irc-disentanglement');
  const dev = join(root, 'ubuntu', 'dev');
  if (!existsSync(dev)) {
    console.log(`threads: skipped (no ${dev})`);
    return;
  }
  const model = loadDisentangleModel();
  for (const [name, value] of await evalThreads([dev], model)) console.log(`${name}: ${value}`);
  const domains: Array<[string, string]> = [
    ['channel_two', join(root, 'channel-two')],
    ['new_domains', join(root, 'new-domains')],
  ];
  for (const [label, dir] of domains) {
    if (!existsSync(dir)) continue;
    for (const [name, value] of await evalThreads([dir], model)) console.log(`${name.replace('threads.', `threads.${label}.`)}: ${value}`);
  }
  // Inference speed: every dev log streamed through a fresh Disentangler, best of 5 runs, by wall
  // clock and by this process's CPU time (steadier on a busy machine).
  const logs = await Promise.all((await annotatedLogs(dev)).map(async (f) => parseIrcLog(await readFile(f.log, 'utf8'))));
  let bestWall = Infinity;
  let bestCpu = Infinity;
  let lines = 0;
  for (let rep = 0; rep < 5; rep++) {
    lines = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const log of logs) {
      const d = new Disentangler(model);
      for (const l of log) d.push(l);
      lines += log.length;
    }
    const cpu = process.cpuUsage(c0);
    bestWall = Math.min(bestWall, performance.now() - t0);
    bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1000);
  }
  console.log(`threads.lines_per_s: ${Math.round((lines / bestWall) * 1000)}`);
  console.log(`threads.lines_per_cpu_s: ${Math.round((lines / Math.max(bestCpu, 1)) * 1000)}`);
}
