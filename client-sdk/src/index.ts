/**
 * @lectern/client-sdk — connect to a Lectern server, join live rooms, chat, like, tip, buy and
 * moderate, with typed events and errors. See README.md.
 */

export type {
  AccessLevel,
  ChatMessage,
  Content,
  CreatorSummary,
  ErrorCode,
  FollowedCreator,
  FollowState,
  LeaderboardEntry,
  LiveReasonCode,
  ModerationList,
  Poll,
  PollOption,
  PublicUser,
  Purchase,
  Question,
  RestrictedUser,
  Room,
  RoomForYou,
  RoomJoinResult,
  RoomLeftReason,
  RoomListItem,
  RoomModerator,
  RoomRole,
  RoomSettings,
  RoomsForYou,
  Subscription,
  SuggestionItem,
  Tip,
  TipsSummed,
} from '../../protocol';
export { ErrorCode as ErrorCodes, Limits, PROTOCOL_VERSION, TIP_LIST_MAX } from '../../protocol';
export { type ClientEvents, LecternClient, type LecternClientOptions, type LecternSocket } from './client';
export { LecternError } from './errors';
export { newIdempotencyKey } from './ids';
export { LiveRoom, type RoomEvents, type RoomOptions, type RoomState } from './room';
