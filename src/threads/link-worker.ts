// The link-ahead helper thread (see link-ahead.ts): links the channel streams of batches a bulk import
// has not stored yet, with the same model file as the thread that sent them.
import { AheadLinker, type AheadLinks } from '../pipeline/link-ahead.js';
import { loadDisentangleModel, disentangleModelVersion } from '../models/disentangle.js';
import { serveRequests } from './channel.js';
import type { LinkRequest } from './link-ahead.js';

let linker: AheadLinker | null = null;

serveRequests<LinkRequest, AheadLinks[]>((req) => {
  if (disentangleModelVersion() !== req.modelVersion) throw new Error(`disentanglement model ${disentangleModelVersion()} here, ${req.modelVersion} asked for`);
  const l = (linker ??= new AheadLinker(loadDisentangleModel()));
  if (req.kind === 'seed') {
    l.seed(req.channel, req.gen, req.context, req.lines);
    return req.relink.map((lines) => l.link(req.channel, lines));
  }
  return req.channels.map((c) => l.link(c.channel, c.lines));
});
