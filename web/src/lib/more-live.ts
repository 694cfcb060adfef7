import type { RoomsForYou } from '../../../protocol';
import { api } from './api';
import { byId, h, show } from './dom';
import { messages } from './i18n';
import { nothingOwned, type Owned, ownedAll } from './owned';
import { suggestedGrid } from './room-cards';

const t = messages({
  en: {
    loading: 'Looking for other live rooms…',
    none: 'No other room is live right now.',
    failed: 'Other live rooms could not be loaded.',
  },
  'zh-CN': {
    loading: '正在查找其他直播…',
    none: '现在没有其他直播。',
    failed: '其他直播加载失败。',
  },
});

/** Other live rooms shown on a room's page. */
const LIMIT = 6;

/**
 * "More live rooms" on the watch page: other rooms live now, ranked for the viewer with this
 * room as the page's context (`GET /api/rooms/for-you?contextRoomId=…`, which leaves the room
 * out). Opened by its button, and by the page when the room ends. Uses `#more-live` (the
 * section), `#more-live-list` and, when there is one, `#more-live-toggle` (its button).
 */
export class MoreLiveRooms {
  private readonly section = byId('more-live');
  private readonly list = byId('more-live-list');
  private readonly toggle = document.getElementById('more-live-toggle') as HTMLButtonElement | null;
  private owned: Owned = nothingOwned();
  private loading: Promise<number> | undefined;

  constructor(private readonly roomId: string) {
    this.toggle?.addEventListener('click', () => {
      if (this.isOpen) this.close();
      else void this.open();
    });
  }

  get isOpen(): boolean {
    return !this.section.hidden;
  }

  /** Shows the section and (re)loads it; resolves with how many rooms it shows. */
  open(): Promise<number> {
    show(this.section, true);
    this.toggle?.setAttribute('aria-expanded', 'true');
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  close(): void {
    show(this.section, false);
    this.toggle?.setAttribute('aria-expanded', 'false');
  }

  /** Hides the button (the section stays as it is): for a room that is over, the list is simply shown. */
  hideToggle(): void {
    if (this.toggle) show(this.toggle, false);
  }

  private async load(): Promise<number> {
    if (!this.list.childElementCount) this.list.replaceChildren(h('p', { class: 'empty muted' }, t.loading));
    try {
      const [answer, owned] = await Promise.all([
        api<RoomsForYou>('GET', `/api/rooms/for-you?contextRoomId=${encodeURIComponent(this.roomId)}&limit=${LIMIT}`),
        ownedAll().catch(() => this.owned),
      ]);
      this.owned = owned;
      const others = answer.rooms.filter((s) => s.room.id !== this.roomId && s.room.status === 'live');
      suggestedGrid(this.list, others, t.none, { owned: this.owned });
      this.section.dataset.loaded = 'true';
      return others.length;
    } catch {
      this.list.replaceChildren(h('p', { class: 'error' }, t.failed));
      return 0;
    }
  }
}
