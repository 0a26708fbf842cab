// Mailman 2 pipermail monthly archives (`2015-November.txt`, `.txt.gz`), PLATFORMS.md 5.2: From_ lines
// with two spaces and `user at host`, body lines starting "From " not escaped, attachments scrubbed into
// notices (those are turned into an attachments list by normalize).
import type { ImportOptions, ImportPage, Importer } from '../types.js';
import { looksLikePipermail, PIPERMAIL_FROM_LINE, readMailArchive } from './importer-mbox.js';
import { deobfuscateAddress, MAIL_NORMALIZER_VERSION, normalizeMail } from './normalize.js';

/** Restores `user at host` -> `user@host` in the From_ line and in the From: header's address token. */
export function restorePipermailAddresses(source: string, fromLine: string): { source: string; fromLine: string } {
  const fixedFromLine = fromLine.replace(/^From (\S+ at \S+)( {2})/, (_all, addr: string, gap: string) => `From ${deobfuscateAddress(addr)}${gap}`);
  const headEnd = /\r?\n\r?\n/.exec(source)?.index ?? source.length;
  const head = source.slice(0, headEnd).replace(/^(From:[ \t]*)(\S+ at \S+?)(?=[ \t]*(?:\(|\r?$))/im, (_all, label: string, addr: string) => `${label}${deobfuscateAddress(addr)}`);
  return { source: head + source.slice(headEnd), fromLine: fixedFromLine };
}

export const pipermailImporter: Importer = {
  format: 'pipermail',
  platform: 'mail',
  detect: looksLikePipermail,
  read(path: string, opts: ImportOptions, signal?: AbortSignal): AsyncIterable<ImportPage> {
    return readMailArchive(path, opts, { format: 'pipermail', separator: PIPERMAIL_FROM_LINE, unquote: 'none', transform: restorePipermailAddresses }, signal);
  },
  normalize: normalizeMail,
  normalizerVersion: MAIL_NORMALIZER_VERSION,
};
