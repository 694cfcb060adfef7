import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { AppError, invalidArgument } from '../errors';

/** A file received from a request, on local disk; the caller moves or deletes it. */
export interface ReceivedFile {
  path: string;
  bytes: number;
  /** The name the client gave (multipart), if any. */
  filename: string | null;
  /** The Content-Type the client claimed (never trusted for what the file is). */
  claimedType: string;
}

export interface ReceiveOptions {
  dir: string;
  maxBytes: number;
  /** For a raw body: whether its Content-Type is acceptable (multipart parts are checked by content). */
  rawType: (contentType: string) => boolean;
  rawTypeHint: string;
}

export const tooLarge = (maxBytes: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `the file is larger than ${maxBytes} bytes`, { details: { maxBytes } });

/** Counts bytes through the pipe and fails past the limit, so a lying Content-Length changes nothing. */
function capped(maxBytes: number, seen: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen.bytes += chunk.length;
      if (seen.bytes > maxBytes) done(tooLarge(maxBytes));
      else done(null, chunk);
    },
  });
}

/**
 * Streams an upload to a temporary file: the raw body (`Content-Type` as `rawType` allows) or
 * the multipart field `file`. Refuses at once what announces itself too large, stops reading at
 * the limit otherwise, and leaves no file behind on any failure.
 */
export async function receiveFile(req: IncomingMessage, o: ReceiveOptions): Promise<ReceivedFile> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > o.maxBytes + 64 * 1024) throw tooLarge(o.maxBytes);
  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  await mkdir(o.dir, { recursive: true });
  const file = path.join(o.dir, `upload-${randomUUID()}`);
  const seen = { bytes: 0 };
  try {
    let filename: string | null = null;
    let claimedType = contentType.split(';')[0].trim();
    if (contentType.startsWith('multipart/form-data')) {
      ({ filename, claimedType } = await receiveMultipart(req, file, o.maxBytes, seen));
    } else {
      if (!o.rawType(claimedType)) {
        throw invalidArgument(
          `send the file as the body with Content-Type ${o.rawTypeHint}, or as the multipart field "file"`,
        );
      }
      await pipeline(req, capped(o.maxBytes, seen), createWriteStream(file));
    }
    if (seen.bytes === 0) throw invalidArgument('the file is empty');
    return { path: file, bytes: seen.bytes, filename, claimedType };
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}

function receiveMultipart(
  req: IncomingMessage,
  file: string,
  maxBytes: number,
  seen: { bytes: number },
): Promise<{ filename: string | null; claimedType: string }> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fileSize: maxBytes, parts: 11 } });
    } catch {
      reject(invalidArgument('the multipart body could not be read'));
      return;
    }
    let got: Promise<{ filename: string | null; claimedType: string }> | null = null;
    let failed: unknown = null;
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || got) {
        stream.resume();
        return;
      }
      stream.on('limit', () => {
        failed = tooLarge(maxBytes);
        stream.destroy(failed as Error);
      });
      got = pipeline(stream, capped(maxBytes, seen), createWriteStream(file)).then(() => ({
        filename: info.filename || null,
        claimedType: info.mimeType,
      }));
      got.catch(() => {});
    });
    parser.on('error', () => reject(failed ?? invalidArgument('the multipart body could not be read')));
    parser.on('close', () => {
      if (!got) reject(invalidArgument('the multipart body has no field "file"'));
      else got.then(resolve, (err) => reject(failed ?? err));
    });
    req.on('aborted', () => reject(invalidArgument('the upload was interrupted')));
    req.pipe(parser);
  });
}

/** What a file is, by its first bytes (what the client says is not trusted). */
export type SniffedType = 'application/pdf' | 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';

export async function sniff(file: string): Promise<SniffedType | null> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    const b = head.subarray(0, bytesRead);
    if (b.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
    if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
    if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
    if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP')
      return 'image/webp';
    if (/^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1'))) return 'image/gif';
    return null;
  } finally {
    await handle.close();
  }
}

/** A file name safe to store and to put in Content-Disposition: no paths, no control characters. */
export function safeFilename(name: string | null | undefined, fallback: string): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    .replace(/\p{Cc}/gu, '')
    .replace(/["<>:|?*]/g, '')
    .trim()
    .slice(0, 120);
  return cleaned && cleaned !== '.' && cleaned !== '..' ? cleaned : fallback;
}
