// Sign in: e-mail and password; the token is kept for this tab. `notice`
// says why the person was signed out, when they were; "Try it without
// Outlook" is open from here without an account.

import * as api from '../api.js';
import { h, replace } from '../dom.js';

export function renderSignIn(main, done, notice = null) {
  const error = h('p', { class: 'message error', role: 'alert', id: 'signin-error', hidden: true });
  const email = h('input', { id: 'signin-email', type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'signin-password', type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', id: 'signin-submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'card signin',
      on: {
        submit: async (e) => {
          e.preventDefault();
          error.hidden = true;
          submit.disabled = true;
          try {
            const user = await api.signIn(email.value.trim(), password.value);
            await done(user);
          } catch (err) {
            error.textContent = err.status === 401 ? 'Wrong e-mail address or password.' : `Cannot sign in: ${err.message}`;
            error.hidden = false;
            password.focus();
          } finally {
            submit.disabled = false;
          }
        },
      },
    },
    h('h1', {}, 'Sign in to invitelink CRM'),
    notice ? h('p', { class: 'message info', role: 'status', id: 'signin-notice' }, notice) : null,
    h('label', { for: 'signin-email' }, 'E-mail address'),
    email,
    h('label', { for: 'signin-password' }, 'Password'),
    password,
    error,
    submit,
  );
  const tryIt = h(
    'p',
    { class: 'signin-aside' },
    'No account yet? ',
    h('a', { href: '#/try', id: 'try-public' }, 'Try it without Outlook'),
    ': see what the CRM would do with a meeting e-mail, decided in your browser.',
  );
  replace(main, form, tryIt);
  email.focus();
}
