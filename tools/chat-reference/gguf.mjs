// Minimal GGUF metadata reader: returns the metadata key/value pairs of a GGUF v2/v3 file
// (tensor infos are not read). Enough to pull tokenizer.chat_template out of a vocab file.
import { readFileSync } from "node:fs";

export function readGgufMetadata(path) {
  const buf = readFileSync(path);
  let off = 0;
  const u32 = () => { const v = buf.readUInt32LE(off); off += 4; return v; };
  const u64 = () => { const v = buf.readBigUInt64LE(off); off += 8; return Number(v); };
  const str = () => { const n = u64(); const s = buf.toString("utf8", off, off + n); off += n; return s; };
  const readers = {
    0: () => { const v = buf.readUInt8(off); off += 1; return v; },
    1: () => { const v = buf.readInt8(off); off += 1; return v; },
    2: () => { const v = buf.readUInt16LE(off); off += 2; return v; },
    3: () => { const v = buf.readInt16LE(off); off += 2; return v; },
    4: () => u32(),
    5: () => { const v = buf.readInt32LE(off); off += 4; return v; },
    6: () => { const v = buf.readFloatLE(off); off += 4; return v; },
    7: () => { const v = buf.readUInt8(off); off += 1; return v !== 0; },
    8: () => str(),
    10: () => u64(),
    11: () => { const v = buf.readBigInt64LE(off); off += 8; return Number(v); },
    12: () => { const v = buf.readDoubleLE(off); off += 8; return v; },
  };
  const value = (type) => {
    if (type === 9) {
      const et = u32(); const n = u64(); const out = [];
      for (let i = 0; i < n; i++) out.push(value(et));
      return out;
    }
    const r = readers[type];
    if (!r) throw new Error(`${path}: unknown GGUF value type ${type}`);
    return r();
  };
  if (buf.toString("latin1", 0, 4) !== "GGUF") throw new Error(`${path}: not a GGUF file`);
  off = 4;
  const version = u32();
  if (version < 2) throw new Error(`${path}: GGUF version ${version} unsupported`);
  u64(); // tensor count
  const nkv = u64();
  const kv = {};
  for (let i = 0; i < nkv; i++) { const k = str(); kv[k] = value(u32()); }
  return kv;
}
