/* Users and kiosk tokens for office users (issue 11, docs/server.md "admin"): set a user's
 * password (which ends that user's sessions), remove a user, give a kiosk a new token
 * (shown once) or revoke its token. Loaded after app.js and fleet.js (fleetPost, confirmedPost,
 * formMsg, say, showFlash). A refused action says why beside it and keeps what was typed. */
'use strict';

async function adminRows(what) {
  const r = await call('GET', '/admin/' + what);
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || 'HTTP ' + r.status);
  return j.rows.map((row) => Object.fromEntries(j.columns.map((c, i) => [c, row[i]])));
}

/* A new password, typed twice, for user u; its own message line. */
function passwordForm(u) {
  const id = 'pw-' + u.user;
  const pw = el('input', { id, type: 'password', minlength: '8', maxlength: '256', required: true, autocomplete: 'new-password', placeholder: t('new_password'), 'aria-label': t('new_password') });
  const again = el('input', { id: id + '-again', type: 'password', required: true, autocomplete: 'new-password', placeholder: t('new_password_again'), 'aria-label': t('new_password_again') });
  const msg = formMsg(id + '-msg');
  return el('form', {
    class: 'inline-form', 'data-passwd': u.user,
    onsubmit: async (e) => {
      e.preventDefault();
      if (pw.value.length < 8) return say(msg, 'password_short');
      if (pw.value !== again.value) return say(msg, 'password_mismatch');
      try {
        await fleetPost('/admin/users/' + encodeURIComponent(u.user) + '/passwd', { password: pw.value });
        pw.value = again.value = '';
        say(msg, 'password_set', { user: u.user }, true);
      } catch (err) {
        if (!(err instanceof Expired)) say(msg, 'action_failed', { msg: err.message });
      }
    },
  }, pw, again, el('button', { type: 'submit', text: t('set_password') }), msg);
}

async function pageUsers(view) {
  const [users, kiosks] = await Promise.all([adminRows('users'), adminRows('kiosks')]);
  const msg = formMsg('users-msg');
  showFlash(msg);
  const remove = (name) => confirmedPost(t('confirm_remove_user', { user: name }),
    '/admin/users/' + encodeURIComponent(name) + '/remove', t('user_removed', { user: name }), msg, 'action_failed');
  const userRows = users.map((u) => el('tr', { 'data-user': u.user },
    el('td', { text: u.user }), el('td', { text: t('role_' + u.role) }), el('td', { text: stamp(u.created_ms) }),
    el('td', {}, u.role === 'office' ? passwordForm(u) : el('span', { class: 'note', text: t('staff_uses_token') })),
    el('td', {}, u.user === state.user ? el('span', { class: 'note', text: t('you') })
      : el('button', { type: 'button', class: 'danger', 'data-remove': u.user, text: t('remove_user'), onclick: () => remove(u.user) }))));

  const tokenBox = el('p', { class: 'token-box', id: 'token-box', hidden: true });
  const rotate = async (kiosk) => {
    const j = await confirmedPost(t('confirm_rotate', { kiosk }),
      '/admin/kiosks/' + encodeURIComponent(kiosk) + '/rotate', null, msg, 'action_failed');
    if (!j) return;
    tokenBox.replaceChildren(t('token_new', { kiosk }), el('br'), el('code', { 'data-token': kiosk, text: j.token }));
    tokenBox.hidden = false;
  };
  const revoke = (kiosk) => confirmedPost(t('confirm_revoke', { kiosk }),
    '/admin/kiosks/' + encodeURIComponent(kiosk) + '/revoke', t('revoked_done', { kiosk }), msg, 'action_failed');
  const kioskRows = kiosks.map((k) => el('tr', { 'data-kiosk': k.kiosk },
    el('td', { text: k.kiosk }), el('td', { text: k.venue }), el('td', { text: stamp(k.created_ms) }),
    el('td', { text: k.revoked_ms ? t('state_revoked', { when: stamp(k.revoked_ms) }) : t('token_active') }),
    el('td', {},
      el('button', { type: 'button', 'data-rotate': k.kiosk, text: t('rotate_token'), onclick: () => rotate(k.kiosk) }),
      k.revoked_ms ? null : el('button', { type: 'button', class: 'danger', 'data-revoke': k.kiosk, text: t('revoke_token'), onclick: () => revoke(k.kiosk) }))));

  const head = (...keys) => el('thead', {}, el('tr', {}, keys.map((k) => el('th', { scope: 'col', text: t(k) }))));
  view.append(msg,
    section(t('users_title'), null, el('p', { class: 'note', text: t('users_hint') }),
      el('table', { class: 'data', id: 'users-table' }, head('col_user', 'col_role', 'col_added', 'set_password', ''), el('tbody', {}, userRows))),
    section(t('tokens_title'), null, el('p', { class: 'note', text: t('tokens_hint') }), tokenBox,
      el('table', { class: 'data', id: 'tokens-table' }, head('col_kiosk', 'col_venue', 'col_added', 'col_token', ''), el('tbody', {}, kioskRows))));
}

PAGES.users = pageUsers;
NO_RANGE.add('users');
