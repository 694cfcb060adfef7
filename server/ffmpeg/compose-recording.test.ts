import { randomBytes } from 'node:crypto';
import { stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RecordingTrack } from '../db';
import { composeRecording, type RecordedPart } from './index';
import { ffprobeStreams, grabFrame, makeMedia, meanColor, tempDir, tools } from './test-support';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

const track = (source: RecordingTrack['source'], stream: number): RecordingTrack => ({
  source,
  kind: source === 'camera' || source === 'screen' ? 'video' : 'audio',
  stream,
});

/** A part as the recorder writes it: Matroska, VP8 and Opus as they came from the browser. */
async function recordPart(name: string, inputs: string[], seconds: number, extra: string[] = []): Promise<string> {
  const file = tmp.file(name);
  await makeMedia([
    ...inputs.flatMap((input) => ['-f', 'lavfi', '-i', input]),
    ...inputs.flatMap((_, i) => ['-map', String(i)]),
    '-c:v',
    'libvpx',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-b:v',
    '400k',
    '-c:a',
    'libopus',
    '-t',
    String(seconds),
    ...extra,
    '-f',
    'matroska',
    file,
  ]);
  return file;
}

const RED = 'color=c=red:size=320x240:rate=30';
const GREEN = 'color=c=green:size=320x240:rate=30';
/** A 4:3 screen, so the 16:9 replay letterboxes it. */
const BLUE_SCREEN = 'color=c=blue:size=1024x768:rate=15';
const TONE = 'sine=f=440:sample_rate=48000';

const isRed = ([r, g, b]: number[]) => r > 180 && g < 80 && b < 80;
const isGreen = ([r, g, b]: number[]) => g > 90 && r < 60 && b < 60;
const isBlue = ([r, g, b]: number[]) => b > 180 && r < 80 && g < 80;
/** The stage colour (0x15171c) behind letterboxing and audio-only parts. */
const isStage = (rgb: number[]) => rgb.every((c) => c < 45);

const W = 640;
const H = 360;

describe('composeRecording', () => {
  it('lays each part out as the studio showed it, back to back, skipping unusable parts', async () => {
    const screenAndCamera = await recordPart('part0.mkv', [RED, BLUE_SCREEN, TONE, 'sine=f=660:sample_rate=48000'], 3);
    const cameraOnly = await recordPart('part1.mkv', [GREEN, TONE], 2);
    const audioOnly = await recordPart('part2.mkv', [TONE], 2);
    const garbage = tmp.file('part3.mkv');
    await writeFile(garbage, randomBytes(50_000));
    const empty = tmp.file('part4.mkv');
    await writeFile(empty, '');

    const parts: RecordedPart[] = [
      {
        file: screenAndCamera,
        tracks: [track('camera', 0), track('screen', 1), track('microphone', 2), track('screenAudio', 3)],
      },
      { file: garbage, tracks: [track('camera', 0), track('microphone', 1)] },
      { file: cameraOnly, tracks: [track('camera', 0), track('microphone', 1)] },
      { file: empty, tracks: [track('microphone', 0)] },
      // A track the file does not hold (the recorder's bookkeeping ran ahead) is ignored.
      { file: audioOnly, tracks: [track('microphone', 0), track('screen', 5)] },
    ];
    const out = tmp.file('replay');
    const seen: number[] = [];
    const result = await composeRecording(tools, parts, out, {
      segmentSeconds: 2,
      maxHeight: H,
      onProgress: (f) => seen.push(f),
    });

    expect(result).toMatchObject({ playlist: 'index.m3u8', width: W, height: H });
    expect(result.skipped.map((s) => s.file)).toEqual([garbage, empty]);
    expect(Math.abs(result.durationSeconds - 7)).toBeLessThanOrEqual(0.1);
    // Key frames on the replay's own grid: every segment but the last lasts segmentSeconds,
    // though the parts' joins (3 s, 5 s) fall inside segments.
    expect(result.segments.map((s) => s.uri)).toEqual(['seg_00000.ts', 'seg_00001.ts', 'seg_00002.ts', 'seg_00003.ts']);
    for (const s of result.segments.slice(0, -1)) expect(s.duration).toBeCloseTo(2, 1);
    expect(seen.at(-1)).toBe(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);

    const playlist = path.join(out, 'index.m3u8');
    const probed = await ffprobeStreams(playlist);
    expect(probed.streams.find((s) => s.codec_type === 'video')).toMatchObject({
      codec_name: 'h264',
      width: W,
      height: H,
    });
    expect(probed.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });

    // Screen and camera: the 4:3 screen letterboxed in the middle, the camera in the bottom-right corner.
    const both = await grabFrame(playlist, 1.5, W, H);
    expect(isBlue(meanColor(both, W, { x: 150, y: 40, width: 250, height: 260 }))).toBe(true);
    expect(isStage(meanColor(both, W, { x: 4, y: 20, width: 60, height: 320 }))).toBe(true);
    expect(isStage(meanColor(both, W, { x: 580, y: 20, width: 50, height: 180 }))).toBe(true);
    // The camera box: 160 wide (a quarter), 4:3 → 120 tall, 10 px from the edges.
    expect(isRed(meanColor(both, W, { x: 480, y: 240, width: 140, height: 100 }))).toBe(true);
    expect(isBlue(meanColor(both, W, { x: 480, y: 150, width: 70, height: 60 }))).toBe(true);

    // Camera alone fills the frame, letterboxed.
    const camera = await grabFrame(playlist, 4, W, H);
    expect(isGreen(meanColor(camera, W, { x: 100, y: 20, width: 440, height: 320 }))).toBe(true);
    expect(isStage(meanColor(camera, W, { x: 4, y: 20, width: 60, height: 320 }))).toBe(true);

    // Audio only: the dark stage.
    const dark = await grabFrame(playlist, 6, W, H);
    expect(isStage(meanColor(dark, W, { x: 0, y: 0, width: W, height: H }))).toBe(true);
  });

  it('uses a part whose writer was killed (no duration, no cues, a torn last cluster)', async () => {
    const file = await recordPart('killed.mkv', [RED, TONE], 3, ['-live', '1']);
    await truncate(file, Math.floor((await stat(file)).size * 0.8));
    expect((await ffprobeStreams(file)).format.duration).toBeUndefined();

    const result = await composeRecording(
      tools,
      [{ file, tracks: [track('camera', 0), track('microphone', 1)] }],
      tmp.file('killed-replay'),
      { segmentSeconds: 2, maxHeight: 240 },
    );
    expect(result.skipped).toEqual([]);
    expect(result.durationSeconds).toBeGreaterThan(1.5);
    expect(result.durationSeconds).toBeLessThan(3);
    expect(result).toMatchObject({ width: 426, height: 240 });
  });

  it('follows a browser changing its resolution mid-part', async () => {
    const big = await recordPart('screen-big.mkv', ['color=c=blue:size=800x600:rate=15', RED], 2);
    const small = await recordPart('screen-small.mkv', ['color=c=blue:size=400x300:rate=15', RED], 2);
    const list = tmp.file('screen.txt');
    await writeFile(list, `file '${big}'\nfile '${small}'\n`);
    const changing = tmp.file('screen-changing.mkv');
    await makeMedia(['-f', 'concat', '-safe', '0', '-i', list, '-map', '0', '-c', 'copy', changing]);

    const out = tmp.file('changing-replay');
    const result = await composeRecording(
      tools,
      [{ file: changing, tracks: [track('screen', 0), track('camera', 1)] }],
      out,
      { segmentSeconds: 2, maxHeight: H },
    );
    expect(Math.abs(result.durationSeconds - 4)).toBeLessThanOrEqual(0.15);
    const after = await grabFrame(path.join(out, 'index.m3u8'), 3, W, H);
    expect(isBlue(meanColor(after, W, { x: 150, y: 40, width: 250, height: 260 }))).toBe(true);
    expect(isRed(meanColor(after, W, { x: 480, y: 240, width: 140, height: 100 }))).toBe(true);
  });

  it('stops when aborted, leaving no output', async () => {
    const part = await recordPart('aborted.mkv', [RED, TONE], 1);
    const out = tmp.file('aborted-replay');
    const controller = new AbortController();
    const composing = composeRecording(tools, [{ file: part, tracks: [track('camera', 0)] }], out, {
      segmentSeconds: 2,
      maxHeight: H,
      signal: controller.signal,
    });
    controller.abort();
    await expect(composing).rejects.toMatchObject({ code: 'FFMPEG_FAILED', aborted: true, permanent: false });
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('says EMPTY_RECORDING when no part holds anything usable, leaving no output', async () => {
    const garbage = tmp.file('only-garbage.mkv');
    await writeFile(garbage, randomBytes(20_000));
    const empty = tmp.file('only-empty.mkv');
    await writeFile(empty, '');
    const stub = await recordPart('stub.mkv', [TONE], 0.1);
    const out = tmp.file('empty-replay');
    await expect(
      composeRecording(
        tools,
        [
          { file: garbage, tracks: [track('camera', 0)] },
          { file: empty, tracks: [track('microphone', 0)] },
          { file: stub, tracks: [track('microphone', 0)] },
        ],
        out,
        { segmentSeconds: 2, maxHeight: H },
      ),
    ).rejects.toMatchObject({ code: 'EMPTY_RECORDING', permanent: true });
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
