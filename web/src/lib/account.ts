import { h } from './dom';
import { clearSession, isCreator, type Session } from './session';

/**
 * The account corner of the top bar: who is signed in, a studio link for creators, the library,
 * sign out — or a sign-in button.
 */
export function renderAccount(
  container: HTMLElement,
  session: Session | null,
  options: { onSignIn?: () => void; extra?: HTMLElement[] } = {},
): void {
  const signOut = () => {
    clearSession();
    location.reload();
  };
  container.replaceChildren(
    ...(options.extra ?? []),
    ...(session
      ? [
          isCreator(session) && location.pathname !== '/studio'
            ? h('a', { href: '/studio', class: 'button ghost' }, 'Studio')
            : null,
          location.pathname !== '/library' ? h('a', { href: '/library', class: 'button ghost' }, 'Library') : null,
          h('span', { class: 'who', title: `Signed in as ${session.user.username}` }, session.user.username),
          h('button', { type: 'button', class: 'ghost', onclick: signOut }, 'Sign out'),
        ].filter((el): el is HTMLElement => el !== null)
      : [
          h(
            'button',
            { type: 'button', class: 'primary', onclick: options.onSignIn ?? (() => location.assign('/#signin')) },
            'Sign in',
          ),
        ]),
  );
}

/** A modal dialog holding `content`; closes on Escape or the close button. */
export function openDialog(title: string, content: HTMLElement): HTMLDialogElement {
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-label': title },
    h(
      'div',
      { class: 'dialog-head' },
      h('h2', {}, title),
      h('button', { type: 'button', class: 'ghost icon', 'aria-label': 'Close', onclick: () => dialog.close() }, '✕'),
    ),
    content,
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
