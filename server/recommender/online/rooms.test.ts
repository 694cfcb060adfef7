import { newEvent } from '../../events';
import { RoomSignals } from './rooms';

const ROOM = '00000000-0000-4000-8000-000000000001';
const OTHER_ROOM = '00000000-0000-4000-8000-000000000002';
const VIEWER = '00000000-0000-4000-8000-00000000000a';
const CREATOR = '00000000-0000-4000-8000-00000000000c';
const id = '00000000-0000-4000-8000-0000000000ff';

describe('RoomSignals', () => {
  it("counts a viewer's likes, chat messages and tips per room from the events recorded", () => {
    let t = 1000;
    const signals = new RoomSignals(3600_000, () => t);
    signals.observe(newEvent('likes.sent', { roomId: ROOM, userId: VIEWER, data: { count: 5 } }));
    signals.observe(newEvent('likes.sent', { roomId: ROOM, data: { count: 50 } })); // a room total: nobody's
    signals.observe(newEvent('chat.sent', { roomId: ROOM, userId: VIEWER, data: { messageId: id, length: 12 } }));
    signals.observe(newEvent('chat.sent', { roomId: ROOM, userId: VIEWER, data: { messageId: id, length: 3 } }));
    signals.observe(
      newEvent('tip.sent', {
        roomId: ROOM,
        userId: VIEWER,
        creatorId: CREATOR,
        data: { tipId: id, amount: 300, currency: 'USD' },
      }),
    );
    signals.observe(newEvent('likes.sent', { roomId: OTHER_ROOM, userId: VIEWER, data: { count: 2 } }));
    expect(signals.of(ROOM, VIEWER, null)).toEqual({ likes: 5, chats: 2, tipped: 300 });
    expect(signals.of(OTHER_ROOM, VIEWER, null)).toEqual({ likes: 2, chats: 0, tipped: 0 });
    expect(signals.of(ROOM, CREATOR, null)).toEqual({ likes: 0, chats: 0, tipped: 0 });

    // Engagement from before the current session does not count; old entries are forgotten.
    expect(signals.of(ROOM, VIEWER, 2000)).toEqual({ likes: 0, chats: 0, tipped: 0 });
    t += 3600_001;
    signals.sweep();
    expect(signals.of(ROOM, VIEWER, null)).toEqual({ likes: 0, chats: 0, tipped: 0 });
  });
});
