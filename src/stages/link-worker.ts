// The link-ahead helper thread (see link-ahead.ts): links the channel streams of batches a bulk import
// has not stored yet, with the same model file as the thread that sent them.
import { parentPort } from 'node:worker_threads';
import { AheadLinker } from '../pipeline/link-ahead.js';
import { loadDisentangleModel, disentangleModelVersion } from '../models/disentangle.js';
import type { LinkReply, LinkRequest } from './link-ahead.js';

let linker: AheadLinker | null = null;

parentPort?.on('message', (req: LinkRequest) => {
  try {
    if (disentangleModelVersion() !== req.modelVersion) throw new Error(`disentanglement model ${disentangleModelVersion()} here, ${req.modelVersion} asked for`);
    linker ??= new AheadLinker(loadDisentangleModel());
    if (req.kind === 'seed') {
      linker.seed(req.channel, req.gen, req.context, req.lines);
      if (req.relink) parentPort!.postMessage({ seq: req.relink.seq, ok: true, channels: req.relink.batches.map((lines) => linker!.link(req.channel, lines)) } satisfies LinkReply);
      return;
    }
    const reply: LinkReply = { seq: req.seq, ok: true, channels: req.channels.map((c) => linker!.link(c.channel, c.lines)) };
    parentPort!.postMessage(reply);
  } catch (err: unknown) {
    const seq = req.kind === 'link' ? req.seq : req.relink?.seq;
    if (seq !== undefined) parentPort!.postMessage({ seq, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies LinkReply);
  }
});
