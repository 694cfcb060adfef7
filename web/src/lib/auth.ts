import { Limits } from '../../../protocol';
import { api } from './api';
import { busy, h } from './dom';
import { codeOf, describeError } from './errors';
import { messages } from './i18n';
import { type Session, saveSession } from './session';

const t = messages({
  en: {
    watchAndLearn: 'Watch and learn',
    teach: 'Teach: go live and sell content',
    iWantTo: 'I want to',
    createTitle: 'Create an account',
    signInTitle: 'Sign in',
    createButton: 'Create account',
    signInButton: 'Sign in',
    haveAccount: 'I already have an account',
    newHere: 'New here? Create an account',
    username: 'Username',
    password: 'Password',
    usernameHint: `${Limits.usernameMin}–${Limits.usernameMax} letters, digits, _ . or -`,
    passwordHint: `At least ${Limits.passwordMin} characters`,
    wrongPassword: 'Wrong username or password.',
    taken: 'That username is taken. Choose another one.',
    enterUsername: 'Enter your username.',
    enterPassword: 'Enter your password.',
    badUsername: `A username is ${Limits.usernameMin} to ${Limits.usernameMax} letters (A–Z), digits, _ . or -.`,
    shortPassword: `The password needs at least ${Limits.passwordMin} characters.`,
    longPassword: `The password can have at most ${Limits.passwordMax} characters.`,
    tooManyTries: 'Too many attempts. Wait a minute, then try again.',
  },
  'zh-CN': {
    watchAndLearn: '观看和学习',
    teach: '授课：开直播、卖内容',
    iWantTo: '我想要',
    createTitle: '注册账号',
    signInTitle: '登录',
    createButton: '注册',
    signInButton: '登录',
    haveAccount: '已有账号？去登录',
    newHere: '第一次来？注册账号',
    username: '用户名',
    password: '密码',
    usernameHint: `${Limits.usernameMin}–${Limits.usernameMax} 个字母、数字、_ . 或 -`,
    passwordHint: `至少 ${Limits.passwordMin} 个字符`,
    wrongPassword: '用户名或密码错误。',
    taken: '这个用户名已被占用，请换一个。',
    enterUsername: '请输入用户名。',
    enterPassword: '请输入密码。',
    badUsername: `用户名为 ${Limits.usernameMin}–${Limits.usernameMax} 个英文字母、数字、_ . 或 -。`,
    shortPassword: `密码至少需要 ${Limits.passwordMin} 个字符。`,
    longPassword: `密码最多 ${Limits.passwordMax} 个字符。`,
    tooManyTries: '尝试次数太多，请等一分钟后再试。',
  },
});

const USERNAME = /^[A-Za-z0-9_.-]+$/;

export interface AuthFormOptions {
  /** What a new account is for: viewers watch and pay; creators also go live. */
  role: 'viewer' | 'creator';
  /** Start on "create account" rather than "sign in". */
  register?: boolean;
  onSignedIn: (session: Session) => void;
}

let forms = 0;

/**
 * A sign-in / create-account form. The token is kept in localStorage so every page of the site
 * (home, studio, watch) is signed in at once. What is wrong is said in words next to the form:
 * a wrong password as such, a taken username as such (never the server's own text).
 */
export function authForm(options: AuthFormOptions): HTMLElement {
  let registering = options.register ?? false;
  const id = `auth-${++forms}`;
  const heading = h('h2', { id: `${id}-heading` });
  const username = h('input', {
    id: `${id}-username`,
    name: 'username',
    required: true,
    maxLength: Limits.usernameMax,
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: false,
  });
  const password = h('input', {
    id: `${id}-password`,
    name: 'password',
    type: 'password',
    required: true,
    maxLength: Limits.passwordMax,
  });
  const usernameHint = h('span', { class: 'hint', id: `${id}-username-hint` }, t.usernameHint);
  const passwordHint = h('span', { class: 'hint', id: `${id}-password-hint` }, t.passwordHint);
  const role = h(
    'select',
    { name: 'role', id: `${id}-role` },
    h('option', { value: 'viewer' }, t.watchAndLearn),
    h('option', { value: 'creator' }, t.teach),
  );
  role.value = options.role;
  const roleField = h('label', { for: role.id }, t.iWantTo, role);
  const error = h('p', { class: 'error', role: 'alert', id: `${id}-error` });
  const submit = h('button', { type: 'submit', class: 'primary' });
  const toggle = h('button', { type: 'button', class: 'link' });

  const invalid = (input: HTMLInputElement | null) => {
    for (const el of [username, password]) {
      if (el === input) el.setAttribute('aria-invalid', 'true');
      else el.removeAttribute('aria-invalid');
    }
  };
  const fail = (message: string, input: HTMLInputElement | null) => {
    error.textContent = message;
    invalid(input);
    input?.focus();
  };

  const render = () => {
    heading.textContent = registering ? t.createTitle : t.signInTitle;
    submit.textContent = registering ? t.createButton : t.signInButton;
    toggle.textContent = registering ? t.haveAccount : t.newHere;
    password.autocomplete = registering ? 'new-password' : 'current-password';
    roleField.hidden = !registering;
    // In a dialog the dialog's title is the heading (the form's own is hidden there by CSS).
    const dialog = heading.closest('dialog');
    const title = dialog?.querySelector('.dialog-head h2');
    if (dialog && title) {
      title.textContent = heading.textContent;
      dialog.setAttribute('aria-label', heading.textContent ?? '');
    }
    // The rules matter when choosing a name and a password, not when typing them again.
    usernameHint.hidden = !registering;
    passwordHint.hidden = !registering;
    username.setAttribute('aria-describedby', registering ? `${usernameHint.id} ${error.id}` : error.id);
    password.setAttribute('aria-describedby', registering ? `${passwordHint.id} ${error.id}` : error.id);
    error.textContent = '';
    invalid(null);
  };
  toggle.addEventListener('click', () => {
    registering = !registering;
    render();
  });

  /** Why the typed pair cannot be sent, checked in the page's language (the browser's own bubbles are in the browser's). */
  const problem = (name: string, secret: string): [string, HTMLInputElement] | undefined => {
    if (!name) return [t.enterUsername, username];
    if (registering && (name.length < Limits.usernameMin || !USERNAME.test(name))) return [t.badUsername, username];
    if (!secret) return [t.enterPassword, password];
    if (registering && secret.length < Limits.passwordMin) return [t.shortPassword, password];
    return undefined;
  };

  const form = h(
    'form',
    { class: 'card form auth', novalidate: true, 'aria-labelledby': heading.id },
    heading,
    h('div', {}, h('label', { for: username.id }, t.username, username), usernameHint),
    h('div', {}, h('label', { for: password.id }, t.password, password), passwordHint),
    roleField,
    error,
    h('div', { class: 'row' }, submit, toggle),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    invalid(null);
    const body = { username: username.value.trim(), password: password.value };
    const wrong = problem(body.username, body.password);
    if (wrong) return fail(...wrong);
    void busy(submit, async () => {
      try {
        const session = registering
          ? await api<Session>('POST', '/api/auth/register', { ...body, role: role.value })
          : await api<Session>('POST', '/api/auth/login', body);
        saveSession(session);
        options.onSignedIn(session);
      } catch (err) {
        const code = codeOf(err);
        if (!registering && code === 'UNAUTHENTICATED') return fail(t.wrongPassword, password);
        // Sign-in checks nothing but the pair: a malformed one is simply not an account.
        if (!registering && code === 'INVALID_ARGUMENT') return fail(t.wrongPassword, username);
        if (registering && code === 'CONFLICT') return fail(t.taken, username);
        if (registering && code === 'INVALID_ARGUMENT') {
          const field = invalidField(err);
          if (field === 'password') {
            return fail(body.password.length > Limits.passwordMax ? t.longPassword : t.shortPassword, password);
          }
          return fail(t.badUsername, username);
        }
        fail(code === 'RATE_LIMITED' ? t.tooManyTries : describeError(err), null);
      }
    });
  });
  render();
  return form;
}

/** Which field an INVALID_ARGUMENT names (`details.issues[].path`). */
function invalidField(err: unknown): string | undefined {
  const issues = (err as { details?: { issues?: { path?: unknown }[] } }).details?.issues;
  const path = issues?.[0]?.path;
  return Array.isArray(path) ? String(path[0]) : typeof path === 'string' ? path.split('.')[0] : undefined;
}
