// Set a password with a one-time link (`#/set-password/SECRET`), made by an
// administrator for a new associate or a reset. No sign-in needed: the link
// is the credential, used once.

import * as api from '../api.js';
import { h, replace, setMessage } from '../dom.js';

export async function render(main, secret) {
  const box = h('p', { id: 'set-password-status', class: 'message', role: 'alert', hidden: true });
  let info;
  try {
    info = await api.linkInfo(secret);
  } catch (e) {
    replace(
      main,
      h(
        'div',
        { class: 'card signin' },
        h('h1', {}, 'Set your password'),
        h('p', { class: 'message error', role: 'alert' }, e.code === 'link_not_found' ? 'This link no longer works: it was used, it expired, or a newer one replaced it. Ask your administrator for a new one.' : `The link cannot be checked: ${e.message}`),
        h('p', {}, h('a', { href: '#/diary' }, 'Go to sign-in')),
      ),
    );
    return;
  }
  const password = h('input', { id: 'set-password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10, 'aria-describedby': 'set-password-help' });
  const again = h('input', { id: 'set-password-again', type: 'password', autocomplete: 'new-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'set-password-submit' }, 'Set password');
  const form = h(
    'form',
    { class: 'card signin' },
    h('h1', {}, 'Set your password'),
    h('p', {}, `For ${info.name} (${info.email}).`),
    h('input', { type: 'email', value: info.email, autocomplete: 'username', hidden: true, readonly: true }),
    h('label', { for: 'set-password' }, 'New password'),
    h('p', { class: 'hint', id: 'set-password-help' }, 'At least 10 characters, not a common password. A long phrase is easiest to remember.'),
    password,
    h('label', { for: 'set-password-again' }, 'The same password again'),
    again,
    box,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (password.value !== again.value) {
      setMessage(box, 'error', 'The two passwords differ.');
      again.focus();
      return;
    }
    submit.disabled = true;
    try {
      await api.useLink(secret, password.value);
      replace(
        main,
        h('div', { class: 'card signin' }, h('h1', {}, 'Password set'), h('p', { class: 'message success', role: 'status' }, `You can now sign in as ${info.email}.`), h('p', {}, h('a', { href: '#/diary', id: 'set-password-done' }, 'Sign in'))),
      );
    } catch (err) {
      setMessage(box, 'error', err.code === 'weak_password' ? `Choose another password: ${err.message}.` : `Not set: ${err.message}`);
      submit.disabled = false;
    }
  });
  replace(main, form);
  password.focus();
}
