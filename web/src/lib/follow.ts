import type { FollowState } from '../../../protocol';
import { api } from './api';
import { busy, h } from './dom';
import { describeError } from './errors';
import { formatNumber, messages } from './i18n';
import { toast } from './toast';

const t = messages({
  en: {
    follow: 'Follow',
    following: 'Following',
    followName: (name: string) => `Follow ${name}`,
    followers: (n: number, shown: string) => `${shown} ${n === 1 ? 'follower' : 'followers'}`,
    followed: (name: string) => `You follow ${name}: their live rooms come first for you.`,
    notFollowing: (name: string) => `You no longer follow ${name}.`,
  },
  'zh-CN': {
    follow: '关注',
    following: '已关注',
    followName: (name: string) => `关注 ${name}`,
    followers: (_n: number, shown: string) => `${shown} 位关注者`,
    followed: (name: string) => `已关注 ${name}，TA 的直播会优先推荐给你。`,
    notFollowing: (name: string) => `已取消关注 ${name}。`,
  },
});

export interface FollowButtonOptions {
  creatorId: string;
  /** The creator's name, for the button's accessible name and the toasts. */
  name: string;
  /** Whether the viewer follows them now (from `GET /api/creators/:id`). */
  following: boolean;
  /** Guests are asked to sign in instead. */
  signedIn: boolean;
  signIn: () => void;
  /** Told the followers count after each change (the page shows it). */
  onChange?: (state: FollowState) => void;
}

/**
 * A Follow / Following toggle (`aria-pressed`): `PUT` or `DELETE /api/creators/:id/follow`. Its
 * name is its visible text (the mark before it is hidden from screen readers); its title names
 * the creator. A guest's click opens the sign-in dialog.
 */
export function followButton(options: FollowButtonOptions): HTMLButtonElement {
  let following = options.following;
  const button = h('button', {
    type: 'button',
    class: 'follow small',
    id: 'follow',
    title: t.followName(options.name),
  }) as HTMLButtonElement;
  const render = () => {
    button.setAttribute('aria-pressed', String(following));
    button.classList.toggle('primary', !following);
    button.replaceChildren(
      h('span', { 'aria-hidden': 'true' }, following ? '✓ ' : '+ '),
      following ? t.following : t.follow,
    );
    button.dataset.following = String(following);
  };
  render();
  button.addEventListener('click', () => {
    if (!options.signedIn) return options.signIn();
    const next = !following;
    void busy(button, async () => {
      try {
        const state = await api<FollowState>(next ? 'PUT' : 'DELETE', `/api/creators/${options.creatorId}/follow`);
        following = state.following;
        render();
        options.onChange?.(state);
        toast(following ? t.followed(options.name) : t.notFollowing(options.name), 'success');
      } catch (err) {
        toast(describeError(err), 'error');
      }
    });
  });
  return button;
}

/** "1,234 followers" / "1,234 位关注者". */
export function followersText(n: number): string {
  return t.followers(n, formatNumber(n));
}
