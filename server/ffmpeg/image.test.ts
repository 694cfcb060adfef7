import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { fitWithin, reencodeImage } from './index';
import { ffprobeStreams, grabFrame, makeMedia, meanColor, tempDir, tools } from './test-support';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

const COVER = { maxWidth: 1280, maxHeight: 720 };

describe('reencodeImage', () => {
  it('scales a large PNG down into the box as a JPEG', async () => {
    const png = tmp.file('cover.png');
    await makeMedia(['-f', 'lavfi', '-i', 'testsrc2=size=2000x1000', '-frames:v', '1', png]);
    const out = tmp.file('cover.jpg');
    expect(await reencodeImage(tools, png, out, COVER)).toEqual({ width: 1280, height: 640 });
    const written = await ffprobeStreams(out);
    expect(written.streams[0]).toMatchObject({ codec_name: 'mjpeg', width: 1280, height: 640 });
  });

  it('never scales up, and reads JPEG, WebP and the first frame of a GIF', async () => {
    for (const [name, args] of [
      ['small.jpg', []],
      ['small.webp', ['-c:v', 'libwebp']],
      ['small.gif', []],
    ] as const) {
      const src = tmp.file(name);
      await makeMedia([
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=300x200:rate=10',
        '-frames:v',
        name.endsWith('.gif') ? '5' : '1',
        ...args,
        src,
      ]);
      expect(await reencodeImage(tools, src, tmp.file(`${name}.out.jpg`), COVER)).toEqual({ width: 300, height: 200 });
    }
  });

  it('turns a phone photo upright from its EXIF orientation', async () => {
    const plain = tmp.file('photo.jpg');
    // Red on the left half, blue on the right, as stored.
    await makeMedia([
      '-f',
      'lavfi',
      '-i',
      'color=c=red:size=150x200',
      '-f',
      'lavfi',
      '-i',
      'color=c=blue:size=150x200',
      '-filter_complex',
      'hstack',
      '-frames:v',
      '1',
      plain,
    ]);
    // EXIF orientation 6, what a phone held upright writes: show it turned 90° clockwise.
    const tiff = Buffer.from([
      ...[0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8], // big-endian TIFF header, first IFD at 8
      ...[0, 1], // one entry
      ...[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0], // Orientation (SHORT) = 6
      ...[0, 0, 0, 0], // no next IFD
    ]);
    const app1 = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
    const header = Buffer.from([0xff, 0xe1, (app1.length + 2) >> 8, (app1.length + 2) & 0xff]);
    const jpeg = await readFile(plain);
    const photo = tmp.file('upright.jpg');
    await writeFile(photo, Buffer.concat([jpeg.subarray(0, 2), header, app1, jpeg.subarray(2)]));

    const out = tmp.file('upright.out.jpg');
    expect(await reencodeImage(tools, photo, out, COVER)).toEqual({ width: 200, height: 300 });
    // Turned clockwise, the left (red) half is now on top.
    const frame = await grabFrame(out, 0, 200, 300);
    const [r, , b] = meanColor(frame, 200, { x: 20, y: 20, width: 160, height: 100 });
    expect(r).toBeGreaterThan(180);
    expect(b).toBeLessThan(80);
  });

  it('puts transparent areas on white', async () => {
    const png = tmp.file('transparent.png');
    await makeMedia(['-f', 'lavfi', '-i', 'color=c=black@0.0:size=64x64,format=rgba', '-frames:v', '1', png]);
    const out = tmp.file('transparent.jpg');
    await reencodeImage(tools, png, out, COVER);
    const [r, g, b] = meanColor(await grabFrame(out, 0, 64, 64), 64, { x: 0, y: 0, width: 64, height: 64 });
    expect(Math.min(r, g, b)).toBeGreaterThan(240);
  });

  it('says NOT_AN_IMAGE for garbage or a video, writing nothing', async () => {
    const garbage = tmp.file('garbage.png');
    await writeFile(garbage, randomBytes(4096));
    const video = tmp.file('clip.mp4');
    await makeMedia([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240',
      '-t',
      '1',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      video,
    ]);
    for (const src of [garbage, video]) {
      await expect(reencodeImage(tools, src, tmp.file('never.jpg'), COVER)).rejects.toMatchObject({
        code: 'NOT_AN_IMAGE',
        permanent: true,
      });
    }
    expect((await readdir(tmp.dir)).filter((f) => f.startsWith('never'))).toEqual([]);
  });
});

describe('fitWithin', () => {
  it('keeps the aspect ratio inside the box', () => {
    expect(fitWithin({ width: 2000, height: 1000 }, COVER)).toEqual({ width: 1280, height: 640 });
    expect(fitWithin({ width: 1000, height: 2000 }, COVER)).toEqual({ width: 360, height: 720 });
    expect(fitWithin({ width: 4000, height: 1 }, COVER)).toEqual({ width: 1280, height: 1 });
  });
});
