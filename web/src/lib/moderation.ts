import {
  type ChatMessage,
  type LecternClient,
  Limits,
  type ModerationList,
  type RestrictedUser,
  type Room,
  type RoomRole,
  type RoomSettings,
} from '@lectern/client-sdk';
import type { ChatPanel } from './chat';
import { busy, h, show } from './dom';
import { describeError } from './errors';
import { messages } from './i18n';
import { spanText, supportersText, untilText } from './moderation-text';
import { toast } from './toast';

const t = messages({
  en: {
    min1: '1 min',
    min5: '5 min',
    min10: '10 min',
    hour1: '1 hour',
    blockedWords: 'Blocked words',
    wordPlaceholder: 'spoiler, rude word…',
    moderatorsHint: 'To make someone a moderator, open ⋯ on one of their chat messages.',
    moderateMessage: (name: string) => `Moderate ${name}’s message`,
    moderate: 'Moderate',
    moderateUser: (name: string) => `Moderate ${name}`,
    deleteMessage: 'Delete message',
    deleteNamed: (name: string) => `Delete ${name}’s message`,
    deleted: 'Message deleted.',
    timedOutUntil: (until: string) => `Timed out until ${until}`,
    liftTimeout: 'Lift timeout',
    liftNamed: (name: string) => `Lift ${name}’s timeout`,
    canChatAgain: (name: string) => `${name} can chat again.`,
    timeOutNamed: (name: string) => `Time out ${name}`,
    timeOut: 'Time out',
    timeOutFor: (name: string, span: string) => `Time out ${name} for ${span}`,
    timedOutFor: (name: string, span: string) => `${name} is timed out for ${span}.`,
    unban: 'Unban',
    unbanNamed: (name: string) => `Unban ${name}`,
    mayComeBack: (name: string) => `${name} may come back.`,
    ban: 'Ban',
    banNamed: (name: string) => `Ban ${name} from this room`,
    banned: (name: string) => `${name} was removed from the room. Unban them under Moderation if you change your mind.`,
    removeModerator: 'Remove moderator',
    removeModeratorNamed: (name: string) => `Remove ${name} as moderator`,
    noLongerModerates: (name: string) => `${name} no longer moderates.`,
    makeModerator: 'Make moderator',
    makeModeratorNamed: (name: string) => `Make ${name} a moderator`,
    isModerator: (name: string) => `${name} is a moderator now.`,
    blockAWord: 'Block a word',
    block: 'Block',
    slowModeOn: (span: string) => `Slow mode on: one message every ${span}.`,
    slowModeOff: 'Slow mode off.',
    onlyNow: (who: string) => `Only ${who} can chat now.`,
    everyoneAgain: 'Everyone with access can chat again.',
    moderation: 'Moderation',
    intro: 'Open ⋯ on a chat message to delete it, time out or ban its author.',
    slowMode: 'Slow mode',
    subscribersOnly: 'Subscribers-only chat',
    onlyWrite: (who: string) => `Only ${who} (and moderators) can write.`,
    wordsHint: 'Messages, questions and tip messages with these words are refused (whole words, any case).',
    off: 'Off',
    oneEvery: (span: string) => `One message every ${span}`,
    allowAgain: (word: string) => `Allow “${word}” again`,
    allowed: (word: string) => `“${word}” is allowed again.`,
    noWords: 'No words blocked.',
    typeWord: 'Type a word to block.',
    wordTooLong: (n: number) => `A blocked word has at most ${n} characters.`,
    tooManyWords: (n: number) => `At most ${n} blocked words.`,
    wordBlocked: (word: string) => `“${word}” is blocked.`,
    wordsBlocked: (n: number) => `${n} words blocked.`,
    notSaved: (why: string) => `Not saved: ${why}`,
    timedOutTitle: (n: number) => `Timed out (${n})`,
    until: (when: string) => `until ${when}`,
    lift: 'Lift',
    nobodyTimedOut: 'Nobody is timed out.',
    bannedTitle: (n: number) => `Banned (${n})`,
    nobodyBanned: 'Nobody is banned.',
    moderatorsTitle: (n: number) => `Moderators (${n})`,
    noModerators: 'No moderators yet.',
    remove: 'Remove',
    you: (name: string) => `${name} (you)`,
  },
  'zh-CN': {
    min1: '1 分钟',
    min5: '5 分钟',
    min10: '10 分钟',
    hour1: '1 小时',
    blockedWords: '屏蔽词',
    wordPlaceholder: '剧透, 不文明用语…',
    moderatorsHint: '要任命管理员，请在对方的聊天消息上打开 ⋯。',
    moderateMessage: (name: string) => `管理 ${name} 的消息`,
    moderate: '管理',
    moderateUser: (name: string) => `管理 ${name}`,
    deleteMessage: '删除消息',
    deleteNamed: (name: string) => `删除 ${name} 的消息`,
    deleted: '消息已删除。',
    timedOutUntil: (until: string) => `禁言至 ${until}`,
    liftTimeout: '解除禁言',
    liftNamed: (name: string) => `解除 ${name} 的禁言`,
    canChatAgain: (name: string) => `${name} 可以重新发言了。`,
    timeOutNamed: (name: string) => `禁言 ${name}`,
    timeOut: '禁言',
    timeOutFor: (name: string, span: string) => `禁言 ${name} ${span}`,
    timedOutFor: (name: string, span: string) => `${name} 已被禁言 ${span}。`,
    unban: '解除封禁',
    unbanNamed: (name: string) => `解除 ${name} 的封禁`,
    mayComeBack: (name: string) => `${name} 可以回来了。`,
    ban: '封禁',
    banNamed: (name: string) => `将 ${name} 移出本直播间`,
    banned: (name: string) => `${name} 已被移出直播间。改变主意的话，可以在“管理”中解除封禁。`,
    removeModerator: '取消管理员',
    removeModeratorNamed: (name: string) => `取消 ${name} 的管理员身份`,
    noLongerModerates: (name: string) => `${name} 已不再是管理员。`,
    makeModerator: '设为管理员',
    makeModeratorNamed: (name: string) => `将 ${name} 设为管理员`,
    isModerator: (name: string) => `${name} 现在是管理员了。`,
    blockAWord: '屏蔽一个词',
    block: '屏蔽',
    slowModeOn: (span: string) => `慢速模式已开启：每 ${span}一条消息。`,
    slowModeOff: '慢速模式已关闭。',
    onlyNow: (who: string) => `现在只有${who}可以聊天。`,
    everyoneAgain: '所有有观看权限的人都可以聊天了。',
    moderation: '管理',
    intro: '在聊天消息上打开 ⋯，可以删除消息、禁言或封禁发送者。',
    slowMode: '慢速模式',
    subscribersOnly: '仅订阅者可聊天',
    onlyWrite: (who: string) => `只有${who}（和管理员）可以发言。`,
    wordsHint: '包含这些词的消息、提问和打赏留言都会被拒绝（整词匹配，不区分大小写）。',
    off: '关闭',
    oneEvery: (span: string) => `每 ${span}一条消息`,
    allowAgain: (word: string) => `重新允许“${word}”`,
    allowed: (word: string) => `“${word}”已重新允许。`,
    noWords: '没有屏蔽词。',
    typeWord: '请输入要屏蔽的词。',
    wordTooLong: (n: number) => `屏蔽词最多 ${n} 个字符。`,
    tooManyWords: (n: number) => `最多 ${n} 个屏蔽词。`,
    wordBlocked: (word: string) => `“${word}”已屏蔽。`,
    wordsBlocked: (n: number) => `已屏蔽 ${n} 个词。`,
    notSaved: (why: string) => `未保存：${why}`,
    timedOutTitle: (n: number) => `禁言中（${n}）`,
    until: (when: string) => `至 ${when}`,
    lift: '解除',
    nobodyTimedOut: '没有人被禁言。',
    bannedTitle: (n: number) => `已封禁（${n}）`,
    nobodyBanned: '没有人被封禁。',
    moderatorsTitle: (n: number) => `管理员（${n}）`,
    noModerators: '还没有管理员。',
    remove: '移除',
    you: (name: string) => `${name}（你）`,
  },
});

/**
 * Moderation for a room's owner and moderators, in the studio and on the watch page: a menu on
 * every chat line (delete, time out, ban, make moderator — each one click once the menu is
 * open) and a panel with the chat rules (slow mode, subscribers only, blocked words) and the
 * lists of what can be undone (timeouts, bans, moderators). Hidden for everyone else; a viewer
 * made moderator while watching gets it at once (`setRole`).
 */

const TIMEOUTS = [
  { minutes: 1, label: t.min1 },
  { minutes: 5, label: t.min5 },
  { minutes: 10, label: t.min10 },
  { minutes: 60, label: t.hour1 },
];
const SLOW_MODE_CHOICES = [0, 5, 10, 30, 60, 120, 300, 600];

const isStaff = (role: RoomRole) => role === 'owner' || role === 'moderator';

interface OpenMenu {
  message: ChatMessage;
  toggle: HTMLButtonElement;
  menu: HTMLElement;
}

export class ModerationTools {
  readonly element: HTMLElement;
  role: RoomRole;
  private settings: RoomSettings;
  private list: ModerationList = { bans: [], mutes: [], moderators: [] };
  private open: OpenMenu | undefined;
  private expiry: ReturnType<typeof setTimeout> | undefined;

  private readonly slowMode = h('select', { id: 'mod-slow-mode', name: 'slowModeSeconds' });
  private readonly subscribersOnly = h('input', { type: 'checkbox', id: 'mod-subscribers-only' });
  private readonly words = h('ul', { class: 'word-chips', 'aria-label': t.blockedWords });
  private readonly wordInput = h('input', {
    id: 'mod-word',
    maxLength: Limits.tagMax,
    autocomplete: 'off',
    placeholder: t.wordPlaceholder,
  });
  private readonly status = h('p', { class: 'muted small mod-status', role: 'status' });
  private readonly mutes = h('ul', { class: 'mod-people' });
  private readonly bans = h('ul', { class: 'mod-people' });
  private readonly moderators = h('ul', { class: 'mod-people' });
  private readonly mutesTitle = h('h3', {});
  private readonly bansTitle = h('h3', {});
  private readonly moderatorsTitle = h('h3', {});
  private readonly moderatorsHint = h('p', { class: 'muted small' }, t.moderatorsHint);

  constructor(
    private readonly client: LecternClient,
    private readonly room: Room,
    private readonly selfId: string,
    private readonly chat: ChatPanel,
    role: RoomRole,
  ) {
    this.role = role;
    this.settings = room.settings;
    this.element = this.build();
    client.on('moderation:updated', (p) => p.roomId === room.id && this.setList(p));
    client.on('room:settings', (p) => p.roomId === room.id && this.setSettings(p.settings));
    document.addEventListener('click', (event) => {
      if (this.open && !this.open.menu.parentElement?.contains(event.target as Node)) this.closeMenu();
    });
    this.renderSettings();
    this.setRole(role);
  }

  /** Shows the tools to the owner and moderators (and fetches the lists), hides them from others. */
  setRole(role: RoomRole): void {
    this.role = role;
    const staff = isStaff(role);
    show(this.element, staff);
    show(this.moderatorsHint, role === 'owner');
    this.closeMenu();
    this.chat.setLineActions(staff ? (m) => this.lineActions(m) : undefined);
    this.renderLists();
    if (staff) void this.refresh();
  }

  setSettings(settings: RoomSettings): void {
    this.settings = settings;
    this.renderSettings();
  }

  private async refresh(): Promise<void> {
    try {
      this.setList(await this.client.moderationList(this.room.id));
    } catch (err) {
      // Demoted meanwhile, or the connection dropped: the lists come back with the next update.
      console.warn('moderation list:', err);
    }
  }

  private setList(list: ModerationList): void {
    this.list = { bans: list.bans, mutes: list.mutes, moderators: list.moderators };
    this.renderLists();
    if (this.open) this.fillMenu(this.open);
  }

  // --- the chat line menu ----------------------------------------------------------------------

  /** The ⋯ button at the end of a line, or nothing where there is nothing this person may do. */
  private lineActions(message: ChatMessage): Node | null {
    const { id: userId, username } = message.user;
    // Nobody moderates the owner; the owner's own lines can still be deleted by the owner.
    if (userId === this.room.ownerId && userId !== this.selfId) return null;
    const toggle = h(
      'button',
      {
        type: 'button',
        class: 'line-toggle',
        'aria-expanded': 'false',
        'aria-label': t.moderateMessage(username),
        title: t.moderate,
      },
      '⋯',
    );
    toggle.addEventListener('click', () => {
      const wasOpen = this.open?.toggle === toggle;
      this.closeMenu();
      if (!wasOpen) this.openMenu(message, toggle);
    });
    return toggle;
  }

  private openMenu(message: ChatMessage, toggle: HTMLButtonElement): void {
    const menu = h('div', { class: 'mod-menu', role: 'group', 'aria-label': t.moderateUser(message.user.username) });
    menu.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.stopPropagation();
      this.closeMenu();
      toggle.focus();
    });
    this.open = { message, toggle, menu };
    this.fillMenu(this.open);
    toggle.after(menu);
    toggle.setAttribute('aria-expanded', 'true');
    menu.querySelector('button')?.focus();
    menu.scrollIntoView({ block: 'nearest' });
  }

  private closeMenu(): void {
    if (!this.open) return;
    this.open.toggle.setAttribute('aria-expanded', 'false');
    this.open.menu.remove();
    this.open = undefined;
  }

  /** (Re)draws an open menu from the current lists, keeping the focus on the same action. */
  private fillMenu({ message, menu }: OpenMenu): void {
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.action;
    const { id: userId, username } = message.user;
    const roomId = this.room.id;
    const items: Node[] = [
      this.action('delete', t.deleteMessage, t.deleteNamed(username), t.deleted, () =>
        this.client.deleteMessage(roomId, message.id),
      ),
    ];
    if (userId !== this.selfId) {
      const moderator = this.list.moderators.some((m) => m.userId === userId);
      // Only the owner acts on a moderator (beyond deleting a message).
      if (!moderator || this.role === 'owner') {
        const mute = this.activeMute(userId);
        items.push(
          mute?.until
            ? h(
                'span',
                { class: 'mod-group' },
                h('span', { class: 'muted small' }, t.timedOutUntil(untilText(mute.until))),
                this.action('unmute', t.liftTimeout, t.liftNamed(username), t.canChatAgain(username), () =>
                  this.client.unmute(roomId, userId),
                ),
              )
            : h(
                'span',
                { class: 'mod-group', role: 'group', 'aria-label': t.timeOutNamed(username) },
                h('span', { class: 'muted small', 'aria-hidden': 'true' }, t.timeOut),
                ...TIMEOUTS.map(({ minutes, label }) =>
                  this.action(
                    `mute-${minutes}`,
                    label,
                    t.timeOutFor(username, spanText(minutes * 60)),
                    t.timedOutFor(username, spanText(minutes * 60)),
                    () => this.client.mute(roomId, userId, minutes * 60),
                  ),
                ),
              ),
        );
        items.push(
          this.list.bans.some((b) => b.userId === userId)
            ? this.action('unban', t.unban, t.unbanNamed(username), t.mayComeBack(username), () =>
                this.client.unban(roomId, userId),
              )
            : this.action(
                'ban',
                t.ban,
                t.banNamed(username),
                t.banned(username),
                () => this.client.ban(roomId, userId),
                'danger',
              ),
        );
      }
      if (this.role === 'owner') {
        items.push(
          moderator
            ? this.action(
                'unmod',
                t.removeModerator,
                t.removeModeratorNamed(username),
                t.noLongerModerates(username),
                () => this.client.setModerator(roomId, userId, false),
              )
            : this.action('mod', t.makeModerator, t.makeModeratorNamed(username), t.isModerator(username), () =>
                this.client.setModerator(roomId, userId, true),
              ),
        );
      }
    }
    menu.replaceChildren(...items);
    if (focused) menu.querySelector<HTMLElement>(`[data-action="${focused}"]`)?.focus();
  }

  /** A button that does `work`, says `done` and closes the menu; a refusal is said in words. */
  private action(
    key: string,
    label: string,
    name: string,
    done: string,
    work: () => Promise<unknown>,
    kind = '',
  ): HTMLButtonElement {
    const button = h(
      'button',
      { type: 'button', class: `small ${kind}`.trim(), 'aria-label': name, 'data-action': key },
      label,
    );
    button.addEventListener('click', () => {
      void busy(button, async () => {
        try {
          await work();
          toast(done, 'success');
          const toggle = this.open?.toggle;
          this.closeMenu();
          if (toggle?.isConnected) toggle.focus();
        } catch (err) {
          toast(describeError(err), 'error');
        }
      });
    });
    return button;
  }

  private activeMute(userId: string): RestrictedUser | undefined {
    const now = Date.now();
    return this.list.mutes.find((m) => m.userId === userId && (!m.until || Date.parse(m.until) > now));
  }

  // --- the panel ---------------------------------------------------------------------------------

  private build(): HTMLElement {
    const wordForm = h(
      'form',
      { class: 'mod-word-form' },
      h('label', { for: 'mod-word', class: 'visually-hidden' }, t.blockAWord),
      this.wordInput,
      h('button', { type: 'submit' }, t.block),
    );
    wordForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.addWords(wordForm.querySelector('button') as HTMLButtonElement);
    });
    this.slowMode.addEventListener('change', () => {
      const seconds = Number(this.slowMode.value);
      void this.save({ slowModeSeconds: seconds }, seconds ? t.slowModeOn(spanText(seconds)) : t.slowModeOff);
    });
    this.subscribersOnly.addEventListener('change', () => {
      const on = this.subscribersOnly.checked;
      void this.save({ subscribersOnlyChat: on }, on ? t.onlyNow(supportersText(this.room)) : t.everyoneAgain);
    });
    return h(
      'section',
      { class: 'card moderation', 'aria-labelledby': 'mod-title', hidden: true },
      h('h2', { id: 'mod-title' }, t.moderation),
      h('p', { class: 'muted small' }, t.intro),
      h(
        'div',
        { class: 'mod-settings' },
        h('label', { for: 'mod-slow-mode' }, t.slowMode, this.slowMode),
        h(
          'label',
          { class: 'check', for: 'mod-subscribers-only' },
          this.subscribersOnly,
          h('span', {}, t.subscribersOnly, h('span', { class: 'hint' }, t.onlyWrite(supportersText(this.room)))),
        ),
        h(
          'div',
          { class: 'mod-words' },
          h('span', { class: 'label', id: 'mod-words-label' }, t.blockedWords),
          this.words,
          wordForm,
          h('span', { class: 'hint' }, t.wordsHint),
        ),
        this.status,
      ),
      this.mutesTitle,
      this.mutes,
      this.bansTitle,
      this.bans,
      this.moderatorsTitle,
      this.moderators,
      this.moderatorsHint,
    );
  }

  private renderSettings(): void {
    const { slowModeSeconds, subscribersOnlyChat, bannedWords } = this.settings;
    const choices = SLOW_MODE_CHOICES.includes(slowModeSeconds)
      ? SLOW_MODE_CHOICES
      : [...SLOW_MODE_CHOICES, slowModeSeconds].sort((a, b) => a - b);
    this.slowMode.replaceChildren(
      ...choices.map((s) =>
        h('option', { value: String(s), selected: s === slowModeSeconds }, s === 0 ? t.off : t.oneEvery(spanText(s))),
      ),
    );
    this.slowMode.value = String(slowModeSeconds);
    this.subscribersOnly.checked = subscribersOnlyChat;
    this.words.replaceChildren(
      ...(bannedWords.length
        ? bannedWords.map((word) =>
            h(
              'li',
              {},
              h('span', {}, word),
              h(
                'button',
                {
                  type: 'button',
                  class: 'chip-remove',
                  'aria-label': t.allowAgain(word),
                  onclick: (e: Event) =>
                    void this.save(
                      { bannedWords: this.settings.bannedWords.filter((w) => w !== word) },
                      t.allowed(word),
                      e.currentTarget as HTMLButtonElement,
                    ),
                },
                '×',
              ),
            ),
          )
        : [h('li', { class: 'empty muted small' }, t.noWords)]),
    );
  }

  private addWords(button: HTMLButtonElement): void {
    const typed = this.wordInput.value
      .split(',')
      .map((w) => w.trim().toLowerCase())
      .filter(Boolean);
    if (!typed.length) {
      this.status.textContent = t.typeWord;
      return;
    }
    const tooLong = typed.find((w) => w.length > Limits.tagMax);
    if (tooLong) {
      this.status.textContent = t.wordTooLong(Limits.tagMax);
      return;
    }
    const words = [...new Set([...this.settings.bannedWords, ...typed])];
    if (words.length > Limits.bannedWordsMax) {
      this.status.textContent = t.tooManyWords(Limits.bannedWordsMax);
      return;
    }
    void this.save(
      { bannedWords: words },
      typed.length === 1 ? t.wordBlocked(typed[0]) : t.wordsBlocked(typed.length),
      button,
    ).then((saved) => {
      if (saved) this.wordInput.value = '';
    });
  }

  private async save(patch: Partial<RoomSettings>, done: string, button?: HTMLButtonElement): Promise<boolean> {
    const run = async () => {
      try {
        this.setSettings(await this.client.updateRoomSettings(this.room.id, patch));
        this.status.textContent = done;
        return true;
      } catch (err) {
        this.status.textContent = t.notSaved(describeError(err));
        this.renderSettings(); // back to what the room really has
        return false;
      }
    };
    return button ? busy(button, run) : run();
  }

  private renderLists(): void {
    clearTimeout(this.expiry);
    const now = Date.now();
    const mutes = this.list.mutes.filter((m) => !m.until || Date.parse(m.until) > now);
    const roomId = this.room.id;
    this.mutesTitle.textContent = t.timedOutTitle(mutes.length);
    this.people(this.mutes, mutes, t.nobodyTimedOut, (u) => [
      h('span', { class: 'muted small' }, t.until(untilText(u.until ?? ''))),
      this.listAction(t.lift, t.liftNamed(u.username), t.canChatAgain(u.username), () =>
        this.client.unmute(roomId, u.userId),
      ),
    ]);
    this.bansTitle.textContent = t.bannedTitle(this.list.bans.length);
    this.people(this.bans, this.list.bans, t.nobodyBanned, (u) => [
      this.listAction(t.unban, t.unbanNamed(u.username), t.mayComeBack(u.username), () =>
        this.client.unban(roomId, u.userId),
      ),
    ]);
    this.moderatorsTitle.textContent = t.moderatorsTitle(this.list.moderators.length);
    this.people(this.moderators, this.list.moderators, t.noModerators, (u) =>
      this.role === 'owner'
        ? [
            this.listAction(t.remove, t.removeModeratorNamed(u.username), t.noLongerModerates(u.username), () =>
              this.client.setModerator(roomId, u.userId, false),
            ),
          ]
        : [],
    );
    // A timeout that runs out is not announced: drop it from the list when it ends.
    const next = Math.min(...mutes.map((m) => (m.until ? Date.parse(m.until) : Number.POSITIVE_INFINITY)));
    if (Number.isFinite(next)) this.expiry = setTimeout(() => this.renderLists(), Math.max(0, next - now) + 250);
  }

  private people<T extends { userId: string; username: string }>(
    list: HTMLElement,
    people: T[],
    empty: string,
    extra: (person: T) => Node[],
  ): void {
    list.replaceChildren(
      ...(people.length
        ? people.map((p) =>
            h(
              'li',
              { class: 'mod-person' },
              h('span', { class: 'mod-person-name' }, p.userId === this.selfId ? t.you(p.username) : p.username),
              h('span', { class: 'mod-person-actions' }, ...extra(p)),
            ),
          )
        : [h('li', { class: 'empty muted small' }, empty)]),
    );
  }

  private listAction(label: string, name: string, done: string, work: () => Promise<unknown>): HTMLButtonElement {
    const button = h('button', { type: 'button', class: 'small', 'aria-label': name }, label);
    button.addEventListener('click', () => {
      void busy(button, async () => {
        try {
          await work();
          toast(done, 'success');
        } catch (err) {
          toast(describeError(err), 'error');
        }
      });
    });
    return button;
  }
}
