import { writeFile } from 'node:fs/promises';
import { checkFfmpeg, MediaToolError, probe } from './index';
import { makeMedia, tempDir, tools } from './test-support';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err as MediaToolError,
  );

describe('probe', () => {
  it('reads an H.264/AAC mp4', async () => {
    const file = tmp.file('clip.mp4');
    await makeMedia([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-f',
      'lavfi',
      '-i',
      'sine=f=440:sample_rate=44100',
      '-t',
      '2',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-ac',
      '2',
      file,
    ]);
    const result = await probe(tools, file);
    expect(result.durationSeconds).toBeCloseTo(2, 0);
    expect(result.formatName).toContain('mp4');
    expect(result.sizeBytes).toBeGreaterThan(1000);
    expect(result.video).toMatchObject({
      codec: 'h264',
      width: 320,
      height: 240,
      pixFmt: 'yuv420p',
      fps: 25,
      rotation: 0,
      sar: 1,
    });
    expect(result.video?.profile).toEqual(expect.any(String));
    expect(result.audio).toEqual({ codec: 'aac', channels: 2, sampleRate: 44100 });
  });

  it('says NOT_A_VIDEO, permanently, for a text file', async () => {
    const file = tmp.file('notes.mp4');
    await writeFile(file, 'these are my lesson notes, not a video\n'.repeat(50));
    const err = await rejection(probe(tools, file));
    expect(err).toBeInstanceOf(MediaToolError);
    expect(err).toMatchObject({ code: 'NOT_A_VIDEO', permanent: true });
  });

  it('says NOT_A_VIDEO for an audio-only file', async () => {
    const file = tmp.file('talk.m4a');
    await makeMedia(['-f', 'lavfi', '-i', 'sine=f=440', '-t', '1', '-c:a', 'aac', file]);
    await expect(probe(tools, file)).rejects.toMatchObject({ code: 'NOT_A_VIDEO', permanent: true });
  });

  it('refuses containers that are not videos (a still picture, a playlist naming other files)', async () => {
    const png = tmp.file('still.png');
    await makeMedia(['-f', 'lavfi', '-i', 'testsrc2=size=64x64', '-frames:v', '1', png]);
    await expect(probe(tools, png)).rejects.toMatchObject({ code: 'NOT_A_VIDEO', permanent: true });

    const playlist = tmp.file('sneaky.mkv');
    await writeFile(playlist, `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile://${png}\n#EXT-X-ENDLIST\n`);
    await expect(probe(tools, playlist)).rejects.toMatchObject({ code: 'NOT_A_VIDEO', permanent: true });
  });

  it('blames the machine, not the video, when ffprobe or the file is missing', async () => {
    const file = tmp.file('clip.mp4');
    await expect(probe({ ...tools, ffprobePath: '/nonexistent/ffprobe' }, file)).rejects.toMatchObject({
      code: 'FFMPEG_FAILED',
      permanent: false,
    });
    await expect(probe(tools, tmp.file('never-written.mp4'))).rejects.toMatchObject({
      code: 'FFMPEG_FAILED',
      permanent: false,
    });
  });
});

describe('checkFfmpeg', () => {
  it('finds the installed ffmpeg and its version', async () => {
    const status = await checkFfmpeg(tools);
    expect(status).toEqual({ available: true, reason: null, version: expect.stringMatching(/^\d/) });
  });

  it('says why when a binary is missing, without throwing', async () => {
    const status = await checkFfmpeg({ ...tools, ffmpegPath: 'ffmpeg-not-installed' });
    expect(status).toEqual({
      available: false,
      reason: "ffmpeg-not-installed not found at 'ffmpeg-not-installed' (apt-get install ffmpeg)",
      version: null,
    });
    const noProbe = await checkFfmpeg({ ...tools, ffprobePath: '/nowhere/ffprobe' });
    expect(noProbe.available).toBe(false);
    expect(noProbe.reason).toContain("ffprobe not found at '/nowhere/ffprobe'");
    expect(noProbe.version).toEqual(expect.any(String));
  });
});
