import type { RecordingTrack } from '../db';

/**
 * Where the recorder's output goes: the VOD service (server/vod) implements it. The recorder
 * only captures; deciding whether a room is recorded, keeping the parts and turning them into a
 * replay when the room ends belong to the sink.
 */
export interface RecordingSink {
  /**
   * The room's recording, created on the first call while the room is live and its creator left
   * recording on; null when it must not be recorded (recording off, room not live, replay deleted).
   */
  openRecording(roomId: string): Promise<{ assetId: string } | null>;
  /** Registers the next part (status `recording`) and returns its sequence number. */
  startPart(assetId: string, tracks: RecordingTrack[]): Promise<number>;
  /** Still being written: keeps a long part from looking abandoned (a dead node's part is reclaimed). */
  touchPart(assetId: string, seq: number): Promise<void>;
  /**
   * The part ended. With a file, it is complete at `localPath` and the sink takes it (moves it
   * into the MediaStore); with `error` and no file, nothing usable was captured.
   */
  finishPart(assetId: string, seq: number, result: { localPath: string } | { error: string }): Promise<void>;
}
