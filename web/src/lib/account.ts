import { h } from './dom';
import { applyLocale, LOCALE_NAMES, LOCALES, type Locale, locale, messages, setLocale } from './i18n';
import { clearSession, isCreator, type Session } from './session';

const t = messages({
  en: {
    studio: 'Studio',
    library: 'Library',
    orders: 'Orders',
    signedInAs: (name: string) => `Signed in as ${name}`,
    signOut: 'Sign out',
    signIn: 'Sign in',
    language: 'Language',
    close: 'Close',
  },
  'zh-CN': {
    studio: '直播间工作台',
    library: '我的内容',
    orders: '订单',
    signedInAs: (name: string) => `当前登录：${name}`,
    signOut: '退出登录',
    signIn: '登录',
    language: '语言',
    close: '关闭',
  },
});

/** The language switch of the top bar: every page, both languages, remembered. */
export function languageSwitch(): HTMLSelectElement {
  const select = h(
    'select',
    { class: 'language', 'aria-label': t.language, onchange: () => setLocale(select.value as Locale) },
    ...LOCALES.map((l) => h('option', { value: l, selected: l === locale() }, LOCALE_NAMES[l])),
  );
  return select;
}

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
  applyLocale();
  container.replaceChildren(
    ...(options.extra ?? []),
    ...(session
      ? [
          isCreator(session) && location.pathname !== '/studio'
            ? h('a', { href: '/studio', class: 'button ghost' }, t.studio)
            : null,
          location.pathname !== '/library' ? h('a', { href: '/library', class: 'button ghost' }, t.library) : null,
          location.pathname !== '/orders' ? h('a', { href: '/orders', class: 'button ghost' }, t.orders) : null,
          h('span', { class: 'who', title: t.signedInAs(session.user.username) }, session.user.username),
          h('button', { type: 'button', class: 'ghost', onclick: signOut }, t.signOut),
        ].filter((el): el is HTMLElement => el !== null)
      : [
          h(
            'button',
            { type: 'button', class: 'primary', onclick: options.onSignIn ?? (() => location.assign('/#signin')) },
            t.signIn,
          ),
        ]),
    languageSwitch(),
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
      h('button', { type: 'button', class: 'ghost icon', 'aria-label': t.close, onclick: () => dialog.close() }, '✕'),
    ),
    content,
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
