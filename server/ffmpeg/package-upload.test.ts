import { readdir, readFile, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { type MediaToolError, packageUpload, probe } from './index';
import { ffprobeStreams, makeMedia, processesMentioning, tempDir, tools } from './test-support';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** A progress callback that remembers every report. */
const recorder = () => {
  const seen: number[] = [];
  return { seen, onProgress: (f: number) => seen.push(f) };
};
const expectProgressDone = (seen: number[]) => {
  expect(seen.at(-1)).toBe(1);
  expect(seen.filter((f) => f === 1)).toHaveLength(1);
  for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
};

describe('packageUpload', () => {
  it('copies an H.264/AAC upload into HLS without re-encoding', async () => {
    const src = tmp.file('lesson.mp4');
    await makeMedia([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=30',
      '-f',
      'lavfi',
      '-i',
      'sine=f=440:sample_rate=48000',
      '-t',
      '6',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '30',
      '-g',
      '30',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-movflags',
      '+faststart',
      src,
    ]);
    const out = tmp.file('copied');
    const progress = recorder();
    const result = await packageUpload(tools, { file: src, probe: await probe(tools, src) }, out, {
      segmentSeconds: 2,
      maxHeight: 720,
      onProgress: progress.onProgress,
    });

    expect(result).toMatchObject({
      playlist: 'index.m3u8',
      width: 320,
      height: 240,
      transcoded: { video: false, audio: false },
    });
    expect(result.durationSeconds).toBeGreaterThan(5.5);
    expect(result.durationSeconds).toBeLessThan(6.5);
    expect(result.segments.map((s) => s.uri)).toEqual(['seg_00000.ts', 'seg_00001.ts', 'seg_00002.ts']);
    for (const s of result.segments) expect(s.duration).toBeCloseTo(2, 1);
    const playlist = await readFile(path.join(out, 'index.m3u8'), 'utf8');
    expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(playlist).toContain('#EXT-X-ENDLIST');
    expect((await readdir(out)).sort()).toEqual(['index.m3u8', 'seg_00000.ts', 'seg_00001.ts', 'seg_00002.ts']);

    const segment = await ffprobeStreams(path.join(out, 'seg_00001.ts'));
    expect(segment.format.format_name).toBe('mpegts');
    expect(segment.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    // The very bitstream of the source: its encoder's settings (x264 writes them in a SEI) made it
    // through, where a re-encode would carry packaging's own (veryfast, crf 23).
    const encoderSettings = (bytes: Buffer) => /x264 - core [^\0]*?options: [^\0]*/.exec(bytes.toString('latin1'))?.[0];
    const sourceSettings = encoderSettings(await readFile(src));
    expect(sourceSettings).toContain('crf=30.0');
    // MPEG-TS cuts the SEI into 188-byte packets: read it from the segment's raw H.264 stream.
    const raw = tmp.file('seg_00000.h264');
    await makeMedia(['-i', path.join(out, 'seg_00000.ts'), '-map', '0:v', '-c', 'copy', '-f', 'h264', raw]);
    expect(encoderSettings(await readFile(raw))).toBe(sourceSettings);
    expectProgressDone(progress.seen);
  });

  it('transcodes a VP8/Opus WebM to H.264/AAC, scaled down to maxHeight', async () => {
    const src = tmp.file('lesson.webm');
    await makeMedia([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=854x480:rate=30',
      '-f',
      'lavfi',
      '-i',
      'sine=f=440:sample_rate=48000',
      '-t',
      '5',
      '-c:v',
      'libvpx',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-b:v',
      '500k',
      '-c:a',
      'libopus',
      src,
    ]);
    const out = tmp.file('transcoded');
    const progress = recorder();
    const result = await packageUpload(tools, { file: src, probe: await probe(tools, src) }, out, {
      segmentSeconds: 2,
      maxHeight: 240,
      onProgress: progress.onProgress,
    });

    expect(result).toMatchObject({ width: 428, height: 240, transcoded: { video: true, audio: true } });
    expect(Math.abs(result.durationSeconds - 5)).toBeLessThanOrEqual(0.5);
    // Key frames every segmentSeconds: every segment but the last is exactly that long.
    expect(result.segments).toHaveLength(3);
    for (const s of result.segments.slice(0, -1)) expect(s.duration).toBeCloseTo(2, 2);
    expect(await readFile(path.join(out, 'index.m3u8'), 'utf8')).toContain('#EXT-X-PLAYLIST-TYPE:VOD');

    const segment = await ffprobeStreams(path.join(out, 'seg_00000.ts'));
    const video = segment.streams.find((s) => s.codec_type === 'video');
    expect(video).toMatchObject({ codec_name: 'h264', width: 428, height: 240, pix_fmt: 'yuv420p' });
    expect(segment.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });
    expectProgressDone(progress.seen);
    expect(progress.seen.length).toBeGreaterThan(1);
  });

  it('turns a phone video upright', async () => {
    const shot = tmp.file('shot.mp4');
    await makeMedia([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=30',
      '-t',
      '2',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      shot,
    ]);
    // As a phone held upright stores it: landscape pixels and a 90° display matrix.
    const src = tmp.file('portrait.mp4');
    await makeMedia(['-i', shot, '-c', 'copy', '-metadata:s:v', 'rotate=90', src]);
    const probed = await probe(tools, src);
    expect(probed.video).toMatchObject({ width: 320, height: 240 });
    // A quarter turn; which way depends on how this ffmpeg writes the `rotate` tag into the matrix.
    expect([90, 270]).toContain(probed.video?.rotation);

    const out = tmp.file('portrait');
    const result = await packageUpload(tools, { file: src, probe: probed }, out, { segmentSeconds: 2, maxHeight: 720 });
    expect(result).toMatchObject({ width: 240, height: 320, transcoded: { video: true, audio: false } });
    const segment = await ffprobeStreams(path.join(out, 'seg_00000.ts'));
    expect(segment.streams).toEqual([expect.objectContaining({ codec_name: 'h264', width: 240, height: 320 })]);
  });

  it('fails a truncated upload as CORRUPT and leaves no output behind', async () => {
    const src = tmp.file('cut.mp4');
    await makeMedia([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=30',
      '-f',
      'lavfi',
      '-i',
      'sine=f=440:sample_rate=48000',
      '-t',
      '4',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-movflags',
      '+faststart',
      src,
    ]);
    // The index (moov, at the front) still promises 4 s; the data stops at 60%.
    await truncate(src, Math.floor((await stat(src)).size * 0.6));
    const probed = await probe(tools, src);
    expect(probed.durationSeconds).toBeCloseTo(4, 0);

    for (const maxHeight of [720, 144]) {
      // 720: the copy path; 144: the transcode path.
      const out = tmp.file(`cut-${maxHeight}`);
      await expect(
        packageUpload(tools, { file: src, probe: probed }, out, { segmentSeconds: 2, maxHeight }),
      ).rejects.toMatchObject({
        code: 'CORRUPT',
        permanent: true,
      });
      expect(await exists(out)).toBe(false);
    }
  });

  it('kills ffmpeg when aborted and rejects, leaving nothing behind', async () => {
    const src = tmp.file('long.mp4');
    // MPEG-4 part 2 encodes fast, so making the input is cheap, and it must be transcoded.
    await makeMedia([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=640x360:rate=30',
      '-t',
      '30',
      '-c:v',
      'mpeg4',
      '-q:v',
      '12',
      src,
    ]);
    const out = tmp.file('aborted');
    const controller = new AbortController();
    const running = packageUpload(tools, { file: src, probe: await probe(tools, src) }, out, {
      segmentSeconds: 2,
      maxHeight: 360,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    const err = (await running.catch((e: unknown) => e)) as MediaToolError;
    expect(err).toMatchObject({ name: 'MediaToolError', code: 'FFMPEG_FAILED', permanent: false, aborted: true });
    expect(await processesMentioning(out)).toEqual([]);
    expect(await exists(out)).toBe(false);
  });

  it('rejects at once when the signal was already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const src = tmp.file('lesson.mp4');
    const out = tmp.file('never');
    await expect(
      packageUpload(tools, { file: src, probe: await probe(tools, src) }, out, {
        segmentSeconds: 2,
        maxHeight: 720,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ aborted: true, permanent: false });
    expect(await exists(out)).toBe(false);
  });
});
