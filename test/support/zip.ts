// A small zip writer for tests (no zip library is a dependency): stored or deflated entries, and entries
// given as repeated pieces of deflate data, so a zip bomb (a 600 MB file in 600 KB) is made at test time in
// a second without holding or compressing the 600 MB.
import { writeFileSync } from 'node:fs';
import { constants, crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** The file's contents, deflated here. */
  data?: Buffer | string;
  /** Or: the contents as pieces, each repeated `times` (crc and sizes computed piecewise). */
  pieces?: Array<{ bytes: Buffer; times: number }>;
  /** The uncompressed size written in the headers, when it should lie (default: the true size). */
  declaredSize?: number;
}

function deflated(e: ZipEntry): { comp: Buffer[]; crc: number; size: number } {
  if (e.data !== undefined) {
    const raw = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    return { comp: [deflateRawSync(raw)], crc: crc32(raw), size: raw.length };
  }
  // Each piece is deflated on its own and ended with a sync flush (a byte-aligned, non-final block), so
  // its compressed form can be repeated; a final empty block ends the stream. Back references only reach
  // into the same piece or the identical data before it.
  const comp: Buffer[] = [];
  let crc = 0;
  let size = 0;
  for (const p of e.pieces ?? []) {
    const c = deflateRawSync(p.bytes, { finishFlush: constants.Z_SYNC_FLUSH });
    for (let i = 0; i < p.times; i++) {
      comp.push(c);
      crc = crc32(p.bytes, crc);
      size += p.bytes.length;
    }
  }
  comp.push(deflateRawSync(Buffer.alloc(0)));
  return { comp, crc, size };
}

export function writeZip(path: string, entries: ZipEntry[]): void {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const { comp, crc, size } = deflated(e);
    const compSize = comp.reduce((n, b) => n + b.length, 0);
    const declared = e.declaredSize ?? size;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compSize, 18);
    local.writeUInt32LE(declared, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0, 8);
    cd.writeUInt16LE(8, 10);
    cd.writeUInt16LE(0, 12);
    cd.writeUInt16LE(0x21, 14);
    cd.writeUInt32LE(crc >>> 0, 16);
    cd.writeUInt32LE(compSize, 20);
    cd.writeUInt32LE(declared, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    parts.push(local, name, ...comp);
    offset += local.length + name.length + compSize;
  }
  const cdSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(path, Buffer.concat([...parts, ...central, end]));
}
