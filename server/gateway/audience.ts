import type { AccessLevel, SuggestionActivity, SuggestionItem } from '../../protocol';
import type { Memberships } from './memberships';
import { type IoServer, userChannel } from './types';

/** A signed-in viewer in a room on this node, as the recommender sees them. */
export interface AudienceMember {
  roomId: string;
  userId: string;
  /** The connection: suggestions go to it. */
  connectionId: string;
  joinedAt: number;
  access: AccessLevel;
}

/**
 * What the gateway offers the recommender: who is watching which room here, and a way to put
 * suggestions in front of them (and of the room's owner). The recommender decides when.
 */
export interface RoomAudience {
  members(): AudienceMember[];
  suggest(connectionId: string, payload: { roomId: string; items: SuggestionItem[]; modelVersion: string }): void;
  /** To the owner, on whichever node they are connected. */
  reportToOwner(ownerId: string, payload: { roomId: string; items: SuggestionActivity[]; modelVersion: string }): void;
}

/** The recommender's side of viewer feedback; the gateway validates and authorises first. */
export interface SuggestionFeedback {
  feedback(input: { userId: string; roomId: string; contentId: string; action: 'click' | 'dismiss' }): Promise<void>;
}

export function roomAudience(io: IoServer, memberships: Memberships): RoomAudience {
  return {
    members() {
      const out: AudienceMember[] = [];
      for (const roomId of memberships.roomIds()) {
        for (const m of memberships.inRoom(roomId)) {
          if (!m.user || m.role !== 'viewer') continue;
          out.push({ roomId, userId: m.user.id, connectionId: m.socket.id, joinedAt: m.joinedAt, access: m.access });
        }
      }
      return out;
    },
    suggest(connectionId, payload) {
      io.local.to(connectionId).emit('suggestion', payload);
    },
    reportToOwner(ownerId, payload) {
      io.to(userChannel(ownerId)).emit('suggestion:activity', payload);
    },
  };
}
