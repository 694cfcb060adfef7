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
import { spanText, supportersText, untilText } from './moderation-text';
import { toast } from './toast';

/**
 * Moderation for a room's owner and moderators, in the studio and on the watch page: a menu on
 * every chat line (delete, time out, ban, make moderator — each one click once the menu is
 * open) and a panel with the chat rules (slow mode, subscribers only, blocked words) and the
 * lists of what can be undone (timeouts, bans, moderators). Hidden for everyone else; a viewer
 * made moderator while watching gets it at once (`setRole`).
 */

const TIMEOUTS = [
  { minutes: 1, label: '1 min' },
  { minutes: 5, label: '5 min' },
  { minutes: 10, label: '10 min' },
  { minutes: 60, label: '1 hour' },
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
  private role: RoomRole;
  private settings: RoomSettings;
  private list: ModerationList = { bans: [], mutes: [], moderators: [] };
  private open: OpenMenu | undefined;
  private expiry: ReturnType<typeof setTimeout> | undefined;

  private readonly slowMode = h('select', { id: 'mod-slow-mode', name: 'slowModeSeconds' });
  private readonly subscribersOnly = h('input', { type: 'checkbox', id: 'mod-subscribers-only' });
  private readonly words = h('ul', { class: 'word-chips', 'aria-label': 'Blocked words' });
  private readonly wordInput = h('input', {
    id: 'mod-word',
    maxLength: Limits.tagMax,
    autocomplete: 'off',
    placeholder: 'spoiler, rude word…',
  });
  private readonly status = h('p', { class: 'muted small mod-status', role: 'status' });
  private readonly mutes = h('ul', { class: 'mod-people' });
  private readonly bans = h('ul', { class: 'mod-people' });
  private readonly moderators = h('ul', { class: 'mod-people' });
  private readonly mutesTitle = h('h3', {});
  private readonly bansTitle = h('h3', {});
  private readonly moderatorsTitle = h('h3', {});
  private readonly moderatorsHint = h(
    'p',
    { class: 'muted small' },
    'To make someone a moderator, open ⋯ on one of their chat messages.',
  );

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
        'aria-label': `Moderate ${username}’s message`,
        title: 'Moderate',
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
    const menu = h('div', { class: 'mod-menu', role: 'group', 'aria-label': `Moderate ${message.user.username}` });
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
      this.action('delete', 'Delete message', `Delete ${username}’s message`, 'Message deleted.', () =>
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
                h('span', { class: 'muted small' }, `Timed out until ${untilText(mute.until)}`),
                this.action('unmute', 'Lift timeout', `Lift ${username}’s timeout`, `${username} can chat again.`, () =>
                  this.client.unmute(roomId, userId),
                ),
              )
            : h(
                'span',
                { class: 'mod-group', role: 'group', 'aria-label': `Time out ${username}` },
                h('span', { class: 'muted small', 'aria-hidden': 'true' }, 'Time out'),
                ...TIMEOUTS.map(({ minutes, label }) =>
                  this.action(
                    `mute-${minutes}`,
                    label,
                    `Time out ${username} for ${spanText(minutes * 60)}`,
                    `${username} is timed out for ${spanText(minutes * 60)}.`,
                    () => this.client.mute(roomId, userId, minutes * 60),
                  ),
                ),
              ),
        );
        items.push(
          this.list.bans.some((b) => b.userId === userId)
            ? this.action('unban', 'Unban', `Unban ${username}`, `${username} may come back.`, () =>
                this.client.unban(roomId, userId),
              )
            : this.action(
                'ban',
                'Ban',
                `Ban ${username} from this room`,
                `${username} was removed from the room. Unban them under Moderation if you change your mind.`,
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
                'Remove moderator',
                `Remove ${username} as moderator`,
                `${username} no longer moderates.`,
                () => this.client.setModerator(roomId, userId, false),
              )
            : this.action(
                'mod',
                'Make moderator',
                `Make ${username} a moderator`,
                `${username} is a moderator now.`,
                () => this.client.setModerator(roomId, userId, true),
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
      h('label', { for: 'mod-word', class: 'visually-hidden' }, 'Block a word'),
      this.wordInput,
      h('button', { type: 'submit' }, 'Block'),
    );
    wordForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.addWords(wordForm.querySelector('button') as HTMLButtonElement);
    });
    this.slowMode.addEventListener('change', () => {
      const seconds = Number(this.slowMode.value);
      void this.save(
        { slowModeSeconds: seconds },
        seconds ? `Slow mode on: one message every ${spanText(seconds)}.` : 'Slow mode off.',
      );
    });
    this.subscribersOnly.addEventListener('change', () => {
      const on = this.subscribersOnly.checked;
      void this.save(
        { subscribersOnlyChat: on },
        on ? `Only ${supportersText(this.room)} can chat now.` : 'Everyone with access can chat again.',
      );
    });
    return h(
      'section',
      { class: 'card moderation', 'aria-labelledby': 'mod-title', hidden: true },
      h('h2', { id: 'mod-title' }, 'Moderation'),
      h('p', { class: 'muted small' }, 'Open ⋯ on a chat message to delete it, time out or ban its author.'),
      h(
        'div',
        { class: 'mod-settings' },
        h('label', { for: 'mod-slow-mode' }, 'Slow mode', this.slowMode),
        h(
          'label',
          { class: 'check', for: 'mod-subscribers-only' },
          this.subscribersOnly,
          h(
            'span',
            {},
            'Subscribers-only chat',
            h('span', { class: 'hint' }, `Only ${supportersText(this.room)} (and moderators) can write.`),
          ),
        ),
        h(
          'div',
          { class: 'mod-words' },
          h('span', { class: 'label', id: 'mod-words-label' }, 'Blocked words'),
          this.words,
          wordForm,
          h(
            'span',
            { class: 'hint' },
            'Messages, questions and tip messages with these words are refused (whole words, any case).',
          ),
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
        h(
          'option',
          { value: String(s), selected: s === slowModeSeconds },
          s === 0 ? 'Off' : `One message every ${spanText(s)}`,
        ),
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
                  'aria-label': `Allow “${word}” again`,
                  onclick: (e: Event) =>
                    void this.save(
                      { bannedWords: this.settings.bannedWords.filter((w) => w !== word) },
                      `“${word}” is allowed again.`,
                      e.currentTarget as HTMLButtonElement,
                    ),
                },
                '×',
              ),
            ),
          )
        : [h('li', { class: 'empty muted small' }, 'No words blocked.')]),
    );
  }

  private addWords(button: HTMLButtonElement): void {
    const typed = this.wordInput.value
      .split(',')
      .map((w) => w.trim().toLowerCase())
      .filter(Boolean);
    if (!typed.length) {
      this.status.textContent = 'Type a word to block.';
      return;
    }
    const tooLong = typed.find((w) => w.length > Limits.tagMax);
    if (tooLong) {
      this.status.textContent = `A blocked word has at most ${Limits.tagMax} characters.`;
      return;
    }
    const words = [...new Set([...this.settings.bannedWords, ...typed])];
    if (words.length > Limits.bannedWordsMax) {
      this.status.textContent = `At most ${Limits.bannedWordsMax} blocked words.`;
      return;
    }
    void this.save(
      { bannedWords: words },
      typed.length === 1 ? `“${typed[0]}” is blocked.` : `${typed.length} words blocked.`,
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
        this.status.textContent = `Not saved: ${describeError(err)}`;
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
    this.mutesTitle.textContent = `Timed out (${mutes.length})`;
    this.people(this.mutes, mutes, 'Nobody is timed out.', (u) => [
      h('span', { class: 'muted small' }, `until ${untilText(u.until ?? '')}`),
      this.listAction('Lift', `Lift ${u.username}’s timeout`, `${u.username} can chat again.`, () =>
        this.client.unmute(roomId, u.userId),
      ),
    ]);
    this.bansTitle.textContent = `Banned (${this.list.bans.length})`;
    this.people(this.bans, this.list.bans, 'Nobody is banned.', (u) => [
      this.listAction('Unban', `Unban ${u.username}`, `${u.username} may come back.`, () =>
        this.client.unban(roomId, u.userId),
      ),
    ]);
    this.moderatorsTitle.textContent = `Moderators (${this.list.moderators.length})`;
    this.people(this.moderators, this.list.moderators, 'No moderators yet.', (u) =>
      this.role === 'owner'
        ? [
            this.listAction('Remove', `Remove ${u.username} as moderator`, `${u.username} no longer moderates.`, () =>
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
              h('span', { class: 'mod-person-name' }, p.userId === this.selfId ? `${p.username} (you)` : p.username),
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
