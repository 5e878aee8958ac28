/* Users and kiosk tokens, for users with the admin role (issue 11, issue 16, docs/server.md
 * "admin"): add a user with its roles, change a user's roles (office, staff, admin: any
 * set of them), set a user's password (which ends that user's sessions), remove a user,
 * give a kiosk a new token (shown once) or revoke its token. A staff token made by adding
 * or changing roles is shown once, like a kiosk's. Loaded after app.js and fleet.js (fleetPost, confirmedPost,
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

const ROLES = ['office', 'staff', 'admin'];

/* The role names of a stored set ("office,admin"), in the reader's language. */
function roleWords(text) {
  return (text || '').split(',').filter(Boolean).map((r) => t('role_' + r)).join(t('role_sep'));
}

/* One checkbox per role, checked as in have; the admin box of oneself is fixed (an admin
 * cannot take it from itself). Returns [element, () => the checked roles]. */
function roleBoxes(idBase, have, self) {
  const boxes = ROLES.map((r) => el('input', {
    type: 'checkbox', id: idBase + '-' + r, value: r, checked: have.includes(r),
    disabled: self && r === 'admin', 'data-role': r,
  }));
  const wrap = el('span', { class: 'role-boxes' }, boxes.map((b, i) =>
    el('label', { for: b.id, class: 'role-box' }, b, ' ' + t('role_' + ROLES[i]))));
  return [wrap, () => boxes.filter((b) => b.checked).map((b) => b.value)];
}

function showToken(box, key, vars, token, attr) {
  box.replaceChildren(t(key, vars), el('br'), el('code', { [attr]: vars.user || vars.kiosk, text: token }));
  box.hidden = false;
}

/* The roles of user u, as checkboxes and a save button, with its message line. */
function rolesForm(u, tokenBox) {
  const have = (u.role || '').split(',');
  const [boxes, checked] = roleBoxes('roles-' + u.user, have, u.user === state.user);
  const msg = formMsg('roles-' + u.user + '-msg');
  return el('form', {
    class: 'inline-form', 'data-roles': u.user,
    onsubmit: async (e) => {
      e.preventDefault();
      const roles = checked();
      if (!roles.length) return say(msg, 'roles_none');
      try {
        const j = await fleetPost('/admin/users/' + encodeURIComponent(u.user) + '/roles', { roles });
        u.role = j.roles.join(',');
        say(msg, 'roles_set', { user: u.user, roles: roleWords(u.role) }, true);
        if (j.token) showToken(tokenBox, 'user_token_new', { user: u.user }, j.token, 'data-user-token');
      } catch (err) {
        if (!(err instanceof Expired)) say(msg, 'action_failed', { msg: err.message });
      }
    },
  }, boxes, el('button', { type: 'submit', text: t('save_roles') }), msg);
}

/* A new user: name, password (twice) and roles; a staff user's token shown once. */
function addUserForm(tokenBox) {
  const name = el('input', { id: 'new-user', required: true, maxlength: '64', autocomplete: 'off', placeholder: t('col_user'), 'aria-label': t('col_user') });
  const pw = el('input', { id: 'new-user-pw', type: 'password', minlength: '8', maxlength: '256', required: true, autocomplete: 'new-password', placeholder: t('new_password'), 'aria-label': t('new_password') });
  const again = el('input', { id: 'new-user-pw-again', type: 'password', required: true, autocomplete: 'new-password', placeholder: t('new_password_again'), 'aria-label': t('new_password_again') });
  const [boxes, checked] = roleBoxes('new-user-role', ['office'], false);
  const msg = formMsg('new-user-msg');
  return el('form', {
    class: 'inline-form', id: 'add-user',
    onsubmit: async (e) => {
      e.preventDefault();
      const roles = checked();
      if (pw.value.length < 8) return say(msg, 'password_short');
      if (pw.value !== again.value) return say(msg, 'password_mismatch');
      if (!roles.length) return say(msg, 'roles_none');
      try {
        const j = await fleetPost('/admin/users', { user: name.value, password: pw.value, roles });
        state.flash = t('user_added', { user: j.user, roles: roleWords(j.roles.join(',')) });
        state.userToken = j.token ? { user: j.user, token: j.token } : null;
        route();
      } catch (err) {
        if (!(err instanceof Expired)) say(msg, 'action_failed', { msg: err.message });
      }
    },
  }, name, pw, again, boxes, el('button', { type: 'submit', class: 'primary', text: t('add_user') }), msg);
}

async function pageUsers(view) {
  const [users, kiosks] = await Promise.all([adminRows('users'), adminRows('kiosks')]);
  const msg = formMsg('users-msg');
  showFlash(msg);
  const remove = (name) => confirmedPost(t('confirm_remove_user', { user: name }),
    '/admin/users/' + encodeURIComponent(name) + '/remove', t('user_removed', { user: name }), msg, 'action_failed');
  const userToken = el('p', { class: 'token-box', id: 'user-token-box', hidden: true });
  if (state.userToken) {
    showToken(userToken, 'user_token_new', { user: state.userToken.user }, state.userToken.token, 'data-user-token');
    state.userToken = null;
  }
  /* Only office and admin users log in with a password; staff use their token. */
  const logsIn = (u) => /(^|,)(office|admin)(,|$)/.test(u.role);
  const userRows = users.map((u) => el('tr', { 'data-user': u.user },
    el('td', { text: u.user }), el('td', {}, rolesForm(u, userToken)), el('td', { text: stamp(u.created_ms) }),
    el('td', {}, logsIn(u) ? passwordForm(u) : el('span', { class: 'note', text: t('staff_uses_token') })),
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
      el('p', { class: 'note', text: t('roles_hint') }), userToken, addUserForm(userToken),
      el('table', { class: 'data', id: 'users-table' }, head('col_user', 'col_role', 'col_added', 'set_password', ''), el('tbody', {}, userRows))),
    section(t('tokens_title'), null, el('p', { class: 'note', text: t('tokens_hint') }), tokenBox,
      el('table', { class: 'data', id: 'tokens-table' }, head('col_kiosk', 'col_venue', 'col_added', 'col_token', ''), el('tbody', {}, kioskRows))));
}

PAGES.users = pageUsers;
NO_RANGE.add('users');
