import { type ProbeResult, parsePlaylist, planUpload } from './index';

describe('parsePlaylist', () => {
  it('pairs each EXTINF with the URI after it, skipping other tags', () => {
    const text = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXTINF:4.000000,',
      'seg_00000.ts',
      '#EXTINF:3.966667,intro',
      '#EXT-X-BYTERANGE:1000@0',
      'seg_00001.ts',
      '',
      '#EXT-X-DISCONTINUITY',
      '#EXTINF:1.5',
      'https://cdn.example.com/seg_00002.ts?sig=abc',
      '#EXT-X-ENDLIST',
    ].join('\r\n');
    expect(parsePlaylist(text)).toEqual([
      { uri: 'seg_00000.ts', duration: 4 },
      { uri: 'seg_00001.ts', duration: 3.966667 },
      { uri: 'https://cdn.example.com/seg_00002.ts?sig=abc', duration: 1.5 },
    ]);
  });

  it('finds nothing in a master playlist or an empty text', () => {
    expect(parsePlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow/index.m3u8\n')).toEqual([]);
    expect(parsePlaylist('')).toEqual([]);
  });
});

describe('planUpload', () => {
  const probed = (
    video: Partial<NonNullable<ProbeResult['video']>>,
    audio: ProbeResult['audio'] = null,
  ): ProbeResult => ({
    durationSeconds: 10,
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    sizeBytes: 1000,
    video: { codec: 'h264', width: 1280, height: 720, pixFmt: 'yuv420p', profile: 'High', fps: 30, ...video },
    audio,
  });
  const aac = { codec: 'aac', channels: 2, sampleRate: 48000 };

  it('copies what HLS players take as it is', () => {
    expect(planUpload(probed({}, aac), 720)).toEqual({ copyVideo: true, copyAudio: true, width: 1280, height: 720 });
    expect(planUpload(probed({}), 720)).toMatchObject({ copyVideo: true, copyAudio: null });
  });

  it('re-encodes a video whose bitrate would stall viewers', () => {
    // 20 Mbit/s at 720p: well above the 2.9 Mbit/s cap a re-encode would have.
    const heavy = { ...probed({}, aac), sizeBytes: 25_000_000, durationSeconds: 10 };
    expect(planUpload(heavy, 720)).toMatchObject({ copyVideo: false, copyAudio: true, width: 1280, height: 720 });
    const light = { ...probed({}, aac), sizeBytes: 2_500_000, durationSeconds: 10 };
    expect(planUpload(light, 720).copyVideo).toBe(true);
  });

  it('re-encodes only the stream that needs it', () => {
    expect(planUpload(probed({}, { codec: 'opus', channels: 2, sampleRate: 48000 }), 720)).toMatchObject({
      copyVideo: true,
      copyAudio: false,
    });
    expect(planUpload(probed({}, { codec: 'aac', channels: 6, sampleRate: 48000 }), 720).copyAudio).toBe(false);
    expect(planUpload(probed({ codec: 'vp9' }, aac), 720)).toMatchObject({ copyVideo: false, copyAudio: true });
    expect(planUpload(probed({ pixFmt: 'yuv420p10le' }), 720).copyVideo).toBe(false);
  });

  it('scales down to maxHeight keeping the displayed aspect, in even sizes', () => {
    expect(planUpload(probed({ width: 1920, height: 1080 }), 720)).toMatchObject({
      copyVideo: false,
      width: 1280,
      height: 720,
    });
    expect(planUpload(probed({ codec: 'vp8', width: 854, height: 480 }), 240)).toMatchObject({
      width: 428,
      height: 240,
    });
    // Never up.
    expect(planUpload(probed({ codec: 'vp8', width: 321, height: 241 }), 720)).toMatchObject({
      width: 320,
      height: 240,
    });
    // Anamorphic: 720x576 stored, shown 16:9.
    expect(planUpload(probed({ codec: 'mpeg2video', width: 720, height: 576, sar: 64 / 45 }), 720)).toMatchObject({
      width: 1024,
      height: 576,
    });
  });

  it('turns a phone video upright (MPEG-TS cannot carry the rotation, so it is never copied)', () => {
    expect(planUpload(probed({ width: 1920, height: 1080, rotation: 90 }), 720)).toEqual({
      copyVideo: false,
      copyAudio: null,
      width: 406,
      height: 720,
    });
    expect(planUpload(probed({ width: 640, height: 360, rotation: 180 }), 720)).toMatchObject({
      copyVideo: false,
      width: 640,
      height: 360,
    });
  });
});
