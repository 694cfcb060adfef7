import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingTrack } from '../db';
import { AppError } from '../errors';
import type { Logger } from '../log';
import type { RecordingConsumerParams, RecordingTap } from '../media';
import { type PortAllocator, type PortPair, portsBoundBy } from './ports';
import { recordingSdp } from './sdp';
import type { RecordingSink } from './sink';

export interface PartTimings {
  /** Longest wait for ffmpeg to bind its ports before the part counts as failed to start. */
  bindTimeoutMs: number;
  /** Key frame requests after the streams are resumed (besides the one right away). */
  keyFrameRetryMs: readonly number[];
  /** Grace after SIGINT before SIGKILL. */
  stopTimeoutMs: number;
  touchIntervalMs: number;
}

export interface PartDeps {
  readonly tap: RecordingTap;
  readonly sink: RecordingSink;
  readonly ports: PortAllocator;
  readonly ffmpegPath: string;
  readonly workDir: string;
  readonly log: Logger;
  readonly timings: PartTimings;
}

/**
 * What ended a part. `stopped`: we asked. `died`: it ended by itself, because ffmpeg crashed or
 * could not start (`crash`), ffmpeg gave up as no packet came for 10 s, its RTP input's timeout
 * (`idle`: the publisher's doing), or one of its streams went away while it started
 * (`interrupted`: a track change, handled as such).
 */
export type PartEnd =
  | { kind: 'stopped' }
  | { kind: 'died'; cause: 'crash' | 'idle' | 'interrupted'; reason: string; stderr: string[]; spawnError?: string };

/**
 * An RTCP BYE (with a 3-byte reason, as ffmpeg ignores RTCP packets under 12 bytes). Once every
 * stream of its SDP input got one, ffmpeg's input ends: it writes the file's trailer and exits 0.
 * A signal would not do: ffmpeg checks for one between packets, and when a room closes no
 * packet comes any more.
 */
function rtcpBye(ssrc: number): Buffer {
  const packet = Buffer.alloc(12);
  packet[0] = 0x81; // version 2, one source
  packet[1] = 203; // BYE
  packet.writeUInt16BE(2, 2); // length in 32-bit words, minus one
  packet.writeUInt32BE(ssrc >>> 0, 4);
  packet[8] = 3;
  packet.write('end', 9, 'ascii');
  return packet;
}

const STDERR_LINES = 30;
/** A file this small holds no more than Matroska's header. */
const MIN_USEFUL_BYTES = 1024;

interface PartStream {
  params: RecordingConsumerParams;
  ports: PortPair;
}

/**
 * One part of a room's recording: one ffmpeg process that receives the part's streams (every
 * active producer of the room when it started) as RTP described by an SDP file and copies them,
 * without transcoding, into `workDir/<assetId>/<seq>.mkv`. Matroska stays readable up to the
 * last complete cluster when ffmpeg dies, and clusters are kept short so little is lost.
 */
export class RecordingPart {
  state: 'starting' | 'running' | 'stopping' | 'ended' = 'starting';
  readonly startedAt = new Date();
  private child: ChildProcess | null = null;
  private exited: Promise<void> | null = null;
  private readonly stderr: string[] = [];
  /** Media time written so far (from ffmpeg's progress report), in microseconds. */
  private outTimeUs = 0;
  private timers: NodeJS.Timeout[] = [];
  private touchTimer: NodeJS.Timeout | null = null;
  private ended: Promise<PartEnd> | null = null;
  private endInfo: PartEnd | null = null;
  private resolveEnd!: (end: PartEnd) => void;
  /** Resolves once the part is finished with the sink (file handed over or error reported). */
  readonly done: Promise<PartEnd>;
  private stopRequested = false;

  private constructor(
    private readonly deps: PartDeps,
    readonly roomId: string,
    readonly assetId: string,
    readonly seq: number,
    private readonly streams: PartStream[],
    readonly tracks: RecordingTrack[],
  ) {
    this.done = new Promise((resolve) => {
      this.resolveEnd = resolve;
    });
  }

  get producerIds(): string[] {
    return this.streams.map((s) => s.params.producerId);
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get outputPath(): string {
    return join(this.deps.workDir, this.assetId, `${this.seq}.mkv`);
  }

  private get sdpPath(): string {
    return join(this.deps.workDir, this.assetId, `${this.seq}.sdp`);
  }

  /**
   * Registers the part with the sink and starts capturing. The consumers (created paused on the
   * tap) are resumed only once ffmpeg listens, and key frames are requested right away and again
   * shortly after, so the file starts with a key frame. The returned part ends by itself when
   * ffmpeg dies (`done` says so) or when `stop()` is called. Throws only when the sink refuses
   * the part; the streams are then closed.
   */
  static async start(
    deps: PartDeps,
    roomId: string,
    assetId: string,
    streams: Array<{ params: RecordingConsumerParams; ports: PortPair }>,
  ): Promise<RecordingPart> {
    const tracks: RecordingTrack[] = streams.map((s, stream) => ({
      source: s.params.source,
      kind: s.params.kind,
      stream,
    }));
    let seq: number;
    try {
      seq = await deps.sink.startPart(assetId, tracks);
    } catch (err) {
      for (const s of streams) deps.tap.closeConsumer(s.params.id);
      deps.ports.release(streams.map((s) => s.ports));
      throw err;
    }
    const part = new RecordingPart(deps, roomId, assetId, seq, streams, tracks);
    void part.run();
    return part;
  }

  private async run(): Promise<void> {
    const { tap, log } = this.deps;
    try {
      await mkdir(join(this.deps.workDir, this.assetId), { recursive: true });
      await writeFile(this.sdpPath, recordingSdp(this.streams, `lectern ${this.roomId} ${this.seq}`));
      if (this.ended) return; // stopped meanwhile: stop() finished the part
      const child = this.spawn();
      if (!(await this.waitUntilListening(child))) return; // it died (the exit handler finishes) or we stop
      for (const { params, ports } of this.streams) await tap.connect(params.id, ports);
      for (const { params } of this.streams) await tap.resume(params.id);
      if (this.state !== 'starting') return;
      this.state = 'running';
      this.requestKeyFrames();
      for (const delay of this.deps.timings.keyFrameRetryMs) {
        this.timers.push(setTimeout(() => this.requestKeyFrames(), delay));
      }
      this.touchTimer = setInterval(() => {
        this.deps.sink.touchPart(this.assetId, this.seq).catch((err) => log.warn({ err }, 'could not touch a part'));
      }, this.deps.timings.touchIntervalMs);
      log.info({ seq: this.seq, pid: child.pid, tracks: this.tracks }, 'recording part started');
    } catch (err) {
      if (this.state !== 'starting' || this.stopRequested || this.ended) return;
      // A stream (its producer) or the room's media went away meanwhile; else the disk or ffmpeg.
      const interrupted = (err instanceof AppError && err.code === 'NOT_FOUND') || tap.closed;
      if (!interrupted) log.warn({ err, seq: this.seq }, 'recording part could not start');
      void this.endWith({
        kind: 'died',
        cause: interrupted ? 'interrupted' : 'crash',
        reason: `could not start: ${(err as Error).message}`,
        stderr: [...this.stderr],
      });
    }
  }

  private spawn(): ChildProcess {
    const maps = this.streams.flatMap((_, i) => ['-map', `0:${i}`]);
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'warning',
      '-progress',
      'pipe:1',
      '-protocol_whitelist',
      'file,udp,rtp',
      // Listen on loopback only; RTCP receiver reports go back to mediasoup's RTCP port.
      '-localaddr',
      '127.0.0.1',
      '-sdp_flags',
      'rtcp_to_source',
      '-buffer_size',
      String(4 * 1024 * 1024),
      '-i',
      this.sdpPath,
      ...maps,
      '-c',
      'copy',
      '-f',
      'matroska',
      // Short clusters, each written out when complete: a killed ffmpeg loses at most the one
      // it was filling.
      '-cluster_time_limit',
      '1000',
      '-flush_packets',
      '1',
      '-y',
      this.outputPath,
    ];
    // No orphans: should the server die, the media stops and ffmpeg's RTP input gives up after
    // 10 s without packets, writing its trailer like on a stop.
    const child = spawn(this.deps.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.stdout!.setEncoding('utf8');
    let progress = '';
    child.stdout!.on('data', (chunk: string) => {
      progress += chunk;
      const lines = progress.split('\n');
      progress = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('out_time_us=')) continue;
        const value = Number(line.slice(12));
        if (Number.isFinite(value) && value > this.outTimeUs) this.outTimeUs = value;
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (!line.trim()) continue;
        this.stderr.push(line.trimEnd());
        if (this.stderr.length > STDERR_LINES) this.stderr.shift();
      }
    });
    let spawnError: string | undefined;
    child.once('error', (err: NodeJS.ErrnoException) => {
      spawnError = err.code ?? err.message;
    });
    child.once('close', (code, signal) => {
      if (this.stopRequested) return; // stop() finishes the part
      const idle = !spawnError && this.stderr.some((line) => line.includes('Connection timed out'));
      const reason = spawnError
        ? `ffmpeg could not be started (${spawnError})`
        : idle
          ? 'no media arrived for 10 s'
          : `ffmpeg exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`})`;
      void this.endWith({ kind: 'died', cause: idle ? 'idle' : 'crash', reason, stderr: [...this.stderr], spawnError });
    });
    return child;
  }

  /** True once ffmpeg holds every port; false if it exited or the part is being stopped first. */
  private async waitUntilListening(child: ChildProcess): Promise<boolean> {
    const ports = this.streams.flatMap((s) => [s.ports.rtpPort, s.ports.rtcpPort]);
    const deadline = Date.now() + this.deps.timings.bindTimeoutMs;
    for (;;) {
      if (this.stopRequested || this.ended || child.exitCode !== null || child.signalCode !== null) return false;
      if (child.pid === undefined) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const bound = await portsBoundBy(child.pid, ports);
      if (bound === null) {
        // No /proc to ask: give ffmpeg the time it takes to parse an SDP and bind.
        await new Promise((r) => setTimeout(r, 500));
        return !this.stopRequested && !this.ended && child.exitCode === null;
      }
      if (bound) return true;
      if (Date.now() > deadline) throw new Error('ffmpeg did not bind its RTP ports in time');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private requestKeyFrames(): void {
    if (this.state !== 'running') return;
    for (const { params } of this.streams) {
      if (params.kind !== 'video') continue;
      this.deps.tap.requestKeyFrame(params.id).catch(() => {
        // Its producer or the room closed: nothing to ask for any more.
      });
    }
  }

  /** Stops ffmpeg gracefully (SIGINT, then SIGKILL after the grace time) and finishes the part. Safe to call twice. */
  stop(): Promise<PartEnd> {
    if (!this.stopRequested && !this.ended) {
      this.stopRequested = true;
      void this.endWith({ kind: 'stopped' });
    }
    return this.done;
  }

  private endWith(end: PartEnd): Promise<PartEnd> {
    this.ended ??= this.shutdown(end);
    return this.ended;
  }

  private async shutdown(end: PartEnd): Promise<PartEnd> {
    this.state = 'stopping';
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    if (this.touchTimer) clearInterval(this.touchTimer);
    const child = this.child;
    if (child && this.exited && child.exitCode === null && child.signalCode === null) {
      // BYE ends ffmpeg's input cleanly; SIGINT (once: repeated signals make it drop its
      // trailer) is the fallback while packets still flow; SIGKILL the last resort.
      await this.sendByes();
      const interrupt = setTimeout(() => {
        child.kill('SIGINT');
        void this.sendByes();
      }, this.deps.timings.stopTimeoutMs / 2);
      const killer = setTimeout(() => child.kill('SIGKILL'), this.deps.timings.stopTimeoutMs);
      await this.exited;
      clearTimeout(interrupt);
      clearTimeout(killer);
    } else if (this.exited) {
      await this.exited;
    }
    await this.finish(end);
    return end;
  }

  private async sendByes(): Promise<void> {
    const socket = createSocket('udp4');
    try {
      for (const { params, ports } of this.streams) {
        const ssrc = params.rtpParameters.encodings?.[0]?.ssrc ?? 0;
        await new Promise<void>((resolve) => socket.send(rtcpBye(ssrc), ports.rtcpPort, '127.0.0.1', () => resolve()));
      }
    } catch (err) {
      this.deps.log.debug({ err }, 'could not send RTCP BYE to ffmpeg');
    } finally {
      socket.close();
    }
  }

  private async finish(end: PartEnd): Promise<void> {
    if (this.endInfo) return;
    this.endInfo = end;
    this.state = 'ended';
    const { tap, sink, ports, log } = this.deps;
    for (const { params } of this.streams) tap.closeConsumer(params.id);
    ports.release(this.streams.map((s) => s.ports));
    await rm(this.sdpPath, { force: true }).catch(() => {});
    const size = await stat(this.outputPath).then(
      (s) => s.size,
      () => 0,
    );
    const seconds = Math.round(this.outTimeUs / 1e5) / 10;
    try {
      if (size >= MIN_USEFUL_BYTES && this.outTimeUs > 0) {
        await sink.finishPart(this.assetId, this.seq, { localPath: this.outputPath });
        log.info({ seq: this.seq, bytes: size, seconds, end: end.kind }, 'recording part finished');
      } else {
        await rm(this.outputPath, { force: true }).catch(() => {});
        const why = end.kind === 'died' ? end.reason : 'stopped before any media arrived';
        const tail = end.kind === 'died' && end.stderr.length ? `: ${end.stderr.slice(-3).join(' | ')}` : '';
        await sink.finishPart(this.assetId, this.seq, { error: `nothing recorded (${why})${tail}` });
        log.warn(
          { seq: this.seq, end: end.kind, bytes: size, stderr: this.stderr.slice(-5) },
          'recording part ended empty',
        );
      }
    } catch (err) {
      log.error({ err, seq: this.seq, path: this.outputPath }, 'could not finish a recording part');
    }
    this.resolveEnd(end);
  }
}
