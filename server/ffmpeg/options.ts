/** Where the tools are; a section of the server config (`FFMPEG_PATH`, `FFPROBE_PATH`). */
export interface FfmpegOptions {
  ffmpegPath: string;
  ffprobePath: string;
  /**
   * Nice value added to every ffmpeg/ffprobe run (default 10): packaging is background work on a
   * node whose mediasoup workers forward live media, and a transcode would otherwise take every core.
   */
  niceness?: number;
}
