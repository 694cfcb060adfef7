import type { SerializedModel } from './scoring-model';

const MAGIC = 0x4c43544e; // "LCTN"

interface ArrayEntry {
  name: string;
  dtype: 'float32' | 'int32';
  length: number;
  offset: number;
}

/**
 * One byte blob for a checkpoint (a Postgres bytea, a file): magic, header length, a JSON header
 * with the metadata and an index of the arrays, then the arrays' raw little-endian bytes, each
 * 4-byte aligned. JSON for the weights would be ~3× larger and lose float32 exactness.
 */
export function encodeModel(model: SerializedModel): Uint8Array {
  const entries: ArrayEntry[] = [];
  let offset = 0;
  for (const [name, array] of Object.entries(model.weights)) {
    entries.push({ name, dtype: array instanceof Int32Array ? 'int32' : 'float32', length: array.length, offset });
    offset += array.length * 4;
  }
  const header = new TextEncoder().encode(JSON.stringify({ meta: model.meta, arrays: entries }));
  const headerPadded = Math.ceil(header.length / 4) * 4;
  const bytes = new Uint8Array(8 + headerPadded + offset);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, header.length, true);
  bytes.set(header, 8);
  const base = 8 + headerPadded;
  for (const entry of entries) {
    const array = model.weights[entry.name];
    bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), base + entry.offset);
  }
  if (!littleEndian()) throw new Error('checkpoints are little-endian; this platform is not');
  return bytes;
}

export function decodeModel(bytes: Uint8Array): SerializedModel {
  if (bytes.byteLength < 8) throw new Error('not a model checkpoint: too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new Error('not a model checkpoint: bad magic');
  const headerLength = view.getUint32(4, true);
  if (8 + headerLength > bytes.byteLength) throw new Error('model checkpoint is truncated');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as {
    meta: SerializedModel['meta'];
    arrays: ArrayEntry[];
  };
  const base = 8 + Math.ceil(headerLength / 4) * 4;
  const weights: SerializedModel['weights'] = {};
  for (const entry of header.arrays) {
    const start = base + entry.offset;
    const end = start + entry.length * 4;
    if (end > bytes.byteLength) throw new Error(`model checkpoint is truncated in "${entry.name}"`);
    // Copy into a fresh, aligned buffer: the blob may sit at any offset of a larger Buffer.
    const copy = bytes.slice(start, end).buffer;
    weights[entry.name] = entry.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
  }
  return { meta: header.meta, weights };
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
