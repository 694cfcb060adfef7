import { api } from './api';
import { busy, h } from './dom';
import { describeError } from './errors';
import { type Session, saveSession } from './session';

export interface AuthFormOptions {
  /** What a new account is for: viewers watch and pay; creators also go live. */
  role: 'viewer' | 'creator';
  /** Start on "create account" rather than "sign in". */
  register?: boolean;
  onSignedIn: (session: Session) => void;
}

/**
 * A sign-in / create-account form. The token is kept in localStorage so every page of the site
 * (home, studio, watch) is signed in at once.
 */
export function authForm(options: AuthFormOptions): HTMLElement {
  let registering = options.register ?? false;
  const heading = h('h2');
  const username = h('input', {
    name: 'username',
    required: true,
    minLength: 3,
    maxLength: 32,
    pattern: '[A-Za-z0-9_.\\-]+',
    autocomplete: 'username',
  });
  const password = h('input', { name: 'password', type: 'password', required: true, minLength: 8 });
  const role = h(
    'select',
    { name: 'role' },
    h('option', { value: 'viewer' }, 'Watch and learn'),
    h('option', { value: 'creator' }, 'Teach: go live and sell content'),
  );
  role.value = options.role;
  const roleField = h('label', {}, 'I want to', role);
  const error = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' });
  const toggle = h('button', { type: 'button', class: 'link' });

  const render = () => {
    heading.textContent = registering ? 'Create an account' : 'Sign in';
    submit.textContent = registering ? 'Create account' : 'Sign in';
    toggle.textContent = registering ? 'I already have an account' : 'New here? Create an account';
    password.autocomplete = registering ? 'new-password' : 'current-password';
    roleField.hidden = !registering;
    error.textContent = '';
  };
  toggle.addEventListener('click', () => {
    registering = !registering;
    render();
  });

  const form = h(
    'form',
    { class: 'card form auth', novalidate: false },
    heading,
    h('label', {}, 'Username', username),
    h('label', {}, 'Password', password),
    roleField,
    error,
    h('div', { class: 'row' }, submit, toggle),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    void busy(submit, async () => {
      try {
        const body = { username: username.value.trim(), password: password.value };
        const session = registering
          ? await api<Session>('POST', '/api/auth/register', { ...body, role: role.value })
          : await api<Session>('POST', '/api/auth/login', body);
        saveSession(session);
        options.onSignedIn(session);
      } catch (err) {
        error.textContent = describeError(err);
      }
    });
  });
  render();
  return form;
}
