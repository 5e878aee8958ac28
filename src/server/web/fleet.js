/* Running the fleet from the office (issue 17): the kiosks page (state, tags, commands,
 * the latest screenshot), notices (紧急插播) and the settings overlay with opening hours.
 * Loaded after app.js and uses its helpers (el, call, section, table, stamp, ago, route);
 * the calls are docs/server.md section 4a. Text from the server only as textContent. */
'use strict';

/* A table of one of the fleet routes (/tags, /commands, /settings, /notices) as objects. */
async function fleetRows(p) {
  const r = await call('GET', p);
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || 'HTTP ' + r.status);
  return j.rows.map((row) => Object.fromEntries(j.columns.map((c, i) => [c, row[i]])));
}

/* A POST whose answer is JSON; throws the server's one-line error on a refusal. */
async function fleetPost(p, body) {
  const r = await call('POST', p, body);
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || 'HTTP ' + r.status);
  return j;
}

/* Asks question; if yes, POSTs to p. On success the page is drawn again showing done
 * (when given) and the answer is returned; on a refusal msg says why (failKey). */
async function confirmedPost(question, p, done, msg, failKey) {
  if (!window.confirm(question)) return null;
  try {
    const j = await fleetPost(p, {});
    if (done) {
      state.flash = done;
      route();
    }
    return j;
  } catch (err) {
    if (!(err instanceof Expired)) say(msg, failKey, { msg: err.message });
    return null;
  }
}

function formMsg(id) {
  return el('p', { class: 'form-msg', role: 'status', id, 'aria-live': 'polite' });
}

function say(msg, key, vars, good) {
  msg.textContent = t(key, vars);
  msg.className = 'form-msg ' + (good ? 'good' : 'bad');
}

/* Shows state.flash (what the last action did) in msg once. */
function showFlash(msg) {
  if (state.flash) {
    msg.textContent = state.flash;
    msg.className = 'form-msg good';
    state.flash = null;
  }
}

function kioskState(k) {
  if (!k.online) return 'offline';
  return k.state === 'sleeping' ? 'sleeping' : 'online';
}

/* A command is waiting while the kiosk has not reported it and it has not expired. */
function waiting(c) {
  return !c.done_ms && c.expires_ms > Date.now();
}

function commandResult(c) {
  if (c.done_ms) return t(c.ok ? 'cmd_ok' : 'cmd_failed');
  return t(c.expires_ms > Date.now() ? 'cmd_waiting' : 'cmd_expired');
}

/* A result's text: short ones as they are, long ones (logs) folded. */
function detailCell(v) {
  if (!v) return '';
  if (v.length <= 80 && !v.includes('\n')) return v;
  return el('details', {}, el('summary', { text: v.split('\n')[0].slice(0, 60) + '…' }),
    el('pre', { class: 'logs', text: v }));
}

/* --- 终端 / Kiosks ------------------------------------------------------------------------ */

const shotUrls = [];

async function loadShot(kiosk, box) {
  const r = await call('GET', '/kiosks/' + encodeURIComponent(kiosk) + '/screenshot');
  if (r.status === 404) {
    box.replaceChildren(el('p', { class: 'note', text: t('shot_none') }));
    return;
  }
  if (!r.ok) {
    box.replaceChildren(el('p', { class: 'note bad', text: t('load_failed', { msg: 'HTTP ' + r.status }) }));
    return;
  }
  const taken = Number(r.headers.get('X-Taken-Ms')) || 0;
  const url = URL.createObjectURL(await r.blob());
  shotUrls.push(url);
  box.replaceChildren(
    el('img', { src: url, alt: t('shot_alt', { kiosk }), 'data-shot': kiosk, class: 'shot' }),
    el('p', { class: 'note', 'data-shot-time': kiosk, text: t('shot_taken', { when: stamp(taken), ago: ago(taken) }) }));
}

async function pageFleet(view) {
  while (shotUrls.length) URL.revokeObjectURL(shotUrls.pop());
  const my = state.render;
  const [kiosks, tags, commands, admin] = await Promise.all([stat('kiosks'), fleetRows('/tags'),
    fleetRows('/commands'), hasRole('admin') ? fleetRows('/admin/kiosks') : []]);
  const revoked = Object.fromEntries(admin.filter((r) => r.revoked_ms).map((r) => [r.kiosk, r.revoked_ms]));
  const tagsOf = {};
  for (const r of tags) (tagsOf[r.kiosk] = tagsOf[r.kiosk] || []).push(r.tag);
  const allTags = [...new Set(tags.map((r) => r.tag))].sort();
  const msg = formMsg('fleet-msg');
  showFlash(msg);
  view.append(el('datalist', { id: 'fleet-tags' }, allTags.map((x) => el('option', { value: x }))));

  const send = async (kiosk, type) => {
    if (type === 'restart' && !window.confirm(t('confirm_restart', { kiosk }))) return;
    try {
      const body = { type, kiosk };
      if (type === 'logs') body.args = { lines: 200 };
      await fleetPost('/commands', body);
      state.flash = t('cmd_sent', { type: t('cmd_' + type), kiosk });
      route();
    } catch (err) {
      if (!(err instanceof Expired)) say(msg, 'cmd_send_failed', { msg: err.message });
    }
  };
  /* Revoking a kiosk's token (a stolen or retired PC): it gets 401 from then on and its
   * staff panel says so; it comes back only by enrolling again. */
  const revoke = (kiosk) => confirmedPost(t('confirm_revoke', { kiosk }),
    '/admin/kiosks/' + encodeURIComponent(kiosk) + '/revoke', t('revoked_done', { kiosk }), msg, 'revoke_failed');
  const changeTags = async (kiosk, body, input, tmsg) => {
    try {
      await fleetPost('/kiosks/' + encodeURIComponent(kiosk) + '/tags', body);
      state.flash = t('tags_changed', { kiosk });
      route();
    } catch (err) {
      if (err instanceof Expired) return;
      say(tmsg, 'tags_failed', { msg: err.message });
      if (input) input.focus();
    }
  };

  const shotBoxes = {};
  const cards = kiosks.map((k) => {
    const st = kioskState(k);
    const input = el('input', {
      id: 'tag-' + k.kiosk, list: 'fleet-tags', autocomplete: 'off', required: true,
      pattern: '[A-Za-z0-9._\\-]{1,64}', 'data-tag-input': k.kiosk,
    });
    const tmsg = el('p', { class: 'form-msg', role: 'status' });
    const shotBox = el('div', { class: 'shot-box' }, el('p', { class: 'note', text: t('loading') }));
    shotBoxes[k.kiosk] = shotBox;
    return el('section', { class: 'card kiosk-card', 'data-kiosk': k.kiosk },
      el('div', { class: 'card-head' },
        el('h2', {}, k.kiosk, el('span', { class: 'sub', text: ' · ' + k.venue_name })),
        el('span', { class: 'badge ' + st, 'data-state': st, text: t('state_' + st) }),
        revoked[k.kiosk] ? el('span', { class: 'badge offline', 'data-revoked': k.kiosk,
          text: t('state_revoked', { when: stamp(revoked[k.kiosk]) }) }) : null),
      el('p', { class: 'note', text: t('last_seen_line', { when: k.last_seen_ms ? ago(k.last_seen_ms) : t('never') }) }),
      el('div', { class: 'tags', 'data-tags': k.kiosk }, (tagsOf[k.kiosk] || []).map((tag) => el('span', { class: 'tag' },
        tag,
        el('button', {
          type: 'button', class: 'tag-remove', 'aria-label': t('tag_remove', { tag }), title: t('tag_remove', { tag }),
          text: '×', onclick: () => changeTags(k.kiosk, { remove: [tag] }, null, tmsg),
        })))),
      el('form', {
        class: 'inline-form',
        onsubmit: (e) => {
          e.preventDefault();
          changeTags(k.kiosk, { add: [input.value.trim()] }, input, tmsg);
        },
      }, el('label', { for: input.id, text: t('tag_add_label') }), input,
      el('button', { type: 'submit', 'data-tag-add': k.kiosk, text: t('tag_add') })),
      tmsg,
      /* A revoked kiosk's heartbeats are refused, so it could never fetch a command. */
      revoked[k.kiosk] ? el('p', { class: 'note', 'data-no-commands': k.kiosk, text: t('revoked_no_commands') })
        : el('div', { class: 'actions' }, ['screenshot', 'restart', 'sync', 'logs'].map((type) => el('button', {
          type: 'button', 'data-command': type, 'data-for': k.kiosk, class: type === 'restart' ? 'danger' : null,
          text: t('cmd_' + type), onclick: () => send(k.kiosk, type),
        })).concat(hasRole('admin') ? [el('button', {
          type: 'button', class: 'danger', 'data-revoke': k.kiosk, text: t('revoke_token'),
          onclick: () => revoke(k.kiosk),
        })] : [])),
      shotBox);
  });
  view.append(msg, el('div', { class: 'kiosk-grid' }, cards));

  view.append(section(t('recent_commands'), null, table('commands', [
    { key: 'created_ms', label: t('col_created'), fmt: stamp },
    { key: 'kiosk', label: t('col_kiosk') },
    { key: 'type', label: t('col_command'), fmt: (v) => t('cmd_' + v) },
    { key: 'by', label: t('col_by') },
    { key: 'result', label: t('col_result'), cls: (r) => (r.done_ms ? (r.ok ? 'ok' : 'alert') : 'warn') },
    { key: 'done_ms', label: t('col_done'), fmt: stamp },
    { key: 'detail', label: t('col_detail'), fmt: detailCell, cls: () => 'wrap' },
  ], commands.map((c) => Object.assign({}, c, { result: commandResult(c) })), { sort: 'created_ms', sortDir: -1 })));

  for (const k of kiosks) loadShot(k.kiosk, shotBoxes[k.kiosk]).catch(() => {});

  /* While a screenshot (or any command) waits, look again every few seconds; a finished
   * screenshot command reloads the page, which shows the new picture. */
  if (commands.some(waiting)) {
    const poll = async () => {
      if (my !== state.render || state.page !== 'fleet') return;
      try {
        const now = await fleetRows('/commands');
        const before = Object.fromEntries(commands.map((c) => [c.id, c]));
        if (now.some((c) => before[c.id] && waiting(before[c.id]) && !waiting(c))) {
          if (my === state.render) route();
          return;
        }
      } catch (e) {
        if (e instanceof Expired) return;
      }
      setTimeout(poll, 3000);
    };
    setTimeout(poll, 3000);
  }
}

/* --- 通知 / Notices ---------------------------------------------------------------------- */

/* datetime-local values are read and shown in the city's time (UTC+8), like every time here. */
function cityInput(ms) {
  return new Date(ms + CITY_OFFSET_MS).toISOString().slice(0, 16);
}

function cityMs(value) {
  return value ? Date.parse(value + ':00+08:00') : NaN;
}

function noticeText(v, lang) {
  try {
    const o = JSON.parse(v);
    return o[lang] || '';
  } catch (e) {
    return v;
  }
}

function targetsText(v) {
  let list = [];
  try {
    list = JSON.parse(v) || [];
  } catch (e) {
    return v;
  }
  return list.map((x) => {
    const [kind, ...rest] = x.split(':');
    return kind === 'city' ? t('target_city') : t('kind_' + kind) + ' ' + rest.join(':');
  }).join('，');
}

async function pageNotices(view) {
  const [notices, kiosks, venues, tags] = await Promise.all([
    fleetRows('/notices'), stat('kiosks'), stat('sessions', { by: 'venue' }), fleetRows('/tags'),
  ]);
  const now = Date.now();
  const zh = el('textarea', { id: 'notice-zh', rows: '3', required: true, maxlength: '2000' });
  const en = el('textarea', { id: 'notice-en', rows: '3', maxlength: '2000' });
  const level = el('select', { id: 'notice-level' },
    el('option', { value: 'banner', text: t('level_banner') }),
    el('option', { value: 'takeover', text: t('level_takeover') }));
  const from = el('input', { id: 'notice-from', type: 'datetime-local', required: true, value: cityInput(now) });
  const to = el('input', { id: 'notice-to', type: 'datetime-local', required: true, value: cityInput(now + 4 * 3600000) });
  const kind = el('select', { id: 'notice-kind' }, ['city', 'venue', 'tag', 'kiosk'].map((k) =>
    el('option', { value: k, text: k === 'city' ? t('target_city') : t('kind_' + k) })));
  const target = el('input', { id: 'notice-target', list: 'notice-targets', autocomplete: 'off', disabled: true });
  const targets = el('datalist', { id: 'notice-targets' });
  const fillTargets = () => {
    const ids = { venue: venues.map((v) => v.venue), kiosk: kiosks.map((k) => k.kiosk), tag: [...new Set(tags.map((r) => r.tag))] }[kind.value] || [];
    targets.replaceChildren(...ids.map((x) => el('option', { value: x })));
    target.disabled = kind.value === 'city';
    target.required = kind.value !== 'city';
  };
  kind.addEventListener('change', fillTargets);
  fillTargets();
  const msg = formMsg('notice-msg');
  showFlash(msg);
  const form = el('form', {
    class: 'notice-form', id: 'notice-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { level: level.value, text: { zh: zh.value }, from: cityMs(from.value), to: cityMs(to.value) };
      if (en.value.trim()) body.text.en = en.value;
      if (kind.value === 'city') body.city = true;
      else body[kind.value + 's'] = [target.value.trim()];
      try {
        await fleetPost('/notices', body);
        state.flash = t('notice_added');
        route();
      } catch (err) {
        if (!(err instanceof Expired)) say(msg, 'notice_failed', { msg: err.message });
      }
    },
  },
  el('label', { class: 'wide' }, el('span', { text: t('notice_zh') }), zh),
  el('label', { class: 'wide' }, el('span', { text: t('notice_en') }), en),
  el('label', {}, el('span', { text: t('notice_level') }), level),
  el('label', {}, el('span', { text: t('notice_from') }), from),
  el('label', {}, el('span', { text: t('notice_to') }), to),
  el('label', {}, el('span', { text: t('notice_kind') }), kind),
  el('label', {}, el('span', { text: t('notice_target') }), target, targets),
  el('button', { type: 'submit', class: 'primary', id: 'notice-submit', text: t('notice_submit') }));
  view.append(section(t('notice_title'), null, el('p', { class: 'note', text: t('notice_hint') }), form, msg));

  const del = async (n) => {
    if (!window.confirm(t('notice_confirm_delete'))) return;
    try {
      await fleetPost('/notices/' + encodeURIComponent(n.id) + '/delete');
      state.flash = t('notice_deleted');
      route();
    } catch (err) {
      if (!(err instanceof Expired)) say(msg, 'notice_failed', { msg: err.message });
    }
  };
  const rows = notices.map((n) => Object.assign({}, n, {
    zh: noticeText(n.text, 'zh'), en: noticeText(n.text, 'en'),
    status: n.to_ms <= now ? 'notice_over' : n.from_ms > now ? 'notice_later' : 'notice_now',
  }));
  view.append(section(t('notice_list'), null, table('notices', [
    { key: 'status', label: t('col_status'), fmt: (v) => t(v), cls: (r) => (r.status === 'notice_now' ? 'ok' : '') },
    { key: 'level', label: t('notice_level'), fmt: (v) => t('level_' + v) },
    { key: 'zh', label: t('notice_zh'), cls: () => 'wrap' },
    { key: 'en', label: t('notice_en'), cls: () => 'wrap' },
    { key: 'from_ms', label: t('notice_from'), fmt: stamp },
    { key: 'to_ms', label: t('notice_to'), fmt: stamp },
    { key: 'targets', label: t('notice_target'), fmt: targetsText },
    { key: 'by', label: t('col_by') },
    { key: 'id', label: t('col_action'), fmt: (v, r) => el('button', { type: 'button', class: 'danger', 'data-delete': v, text: t('delete'), onclick: () => del(r) }) },
  ], rows, { sort: 'from_ms', sortDir: -1 })));
}

/* --- 设置与开放时间 / Settings and hours ------------------------------------------------ */

/* The whitelist of docs/server.md 4a, each with how it is typed in (staff_pin_hash is set
 * with `kepu-server settings`, never typed here). */
const SETTING_KEYS = [
  ['idle_timeout_s', 'number'], ['idle_countdown_s', 'number'], ['sync_interval_s', 'number'],
  ['default_lang', ['zh', 'en']], ['audiences', 'text'], ['volume', 'number'], ['quiet_volume', 'number'],
  ['high_contrast', 'bool'], ['large_text', 'bool'],
];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function rangesText(day) {
  return (day || []).map((r) => r[0] + '-' + r[1]).join(', ');
}

/* "09:00-12:00, 13:00-18:00" as [["09:00","12:00"],…]; the server checks the times. */
function rangesParse(s) {
  return s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => x.split('-').map((y) => y.trim()));
}

async function pageSettings(view) {
  const [settings, kiosks, venues, tags] = await Promise.all([
    fleetRows('/settings'), stat('kiosks'), stat('sessions', { by: 'venue' }), fleetRows('/tags'),
  ]);
  const ids = {
    venue: venues.map((v) => [v.venue, `${v.name}（${v.venue}）`]),
    tag: [...new Set(tags.map((r) => r.tag))].map((x) => [x, x]),
    kiosk: kiosks.map((k) => [k.kiosk, `${k.kiosk}（${k.venue_name}）`]),
  };
  const sel = state.settingsTarget || { kind: 'venue', target: (venues[0] || {}).venue || '' };
  const kind = el('select', { id: 'settings-kind' }, ['venue', 'tag', 'kiosk'].map((k) =>
    el('option', { value: k, text: t('kind_' + k), selected: k === sel.kind })));
  const target = el('select', { id: 'settings-target' });
  const fillTargets = () => {
    target.replaceChildren(...ids[kind.value].map(([v, label]) => el('option', { value: v, text: label, selected: v === sel.target })));
  };
  fillTargets();
  const pick = () => {
    state.settingsTarget = { kind: kind.value, target: target.value };
    route();
  };
  kind.addEventListener('change', () => { fillTargets(); pick(); });
  target.addEventListener('change', pick);
  const cur = {};
  for (const s of settings) {
    if (s.target_kind === kind.value && s.target === target.value) cur[s.key] = JSON.parse(s.value);
  }
  const inputs = {};
  const fields = SETTING_KEYS.map(([key, type]) => {
    let input;
    const id = 'set-' + key;
    if (type === 'number') {
      input = el('input', { id, type: 'number', step: '1', value: cur[key] === undefined ? '' : String(cur[key]) });
    } else if (type === 'text') {
      input = el('input', { id, value: cur[key] === undefined ? '' : cur[key] });
    } else {
      const opts = type === 'bool' ? [['true', t('yes')], ['false', t('no')]] : type.map((v) => [v, v]);
      input = el('select', { id }, el('option', { value: '', text: t('inherit') }),
        opts.map(([v, label]) => el('option', { value: v, text: label, selected: cur[key] !== undefined && String(cur[key]) === v })));
    }
    input.placeholder = t('inherit');
    inputs[key] = [input, type];
    return el('label', {}, el('span', { text: t('set_' + key) }), el('code', { text: key }), input);
  });
  const msg = formMsg('settings-msg');
  showFlash(msg);
  const form = el('form', {
    class: 'settings-form', id: 'settings-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { [kind.value]: target.value, set: {}, clear: [] };
      for (const [key, [input, type]] of Object.entries(inputs)) {
        const v = input.value.trim();
        if (v === '') {
          if (cur[key] !== undefined) body.clear.push(key);
        } else {
          body.set[key] = type === 'number' ? Number(v) : type === 'bool' ? v === 'true' : v;
        }
      }
      try {
        await fleetPost('/settings', body);
        state.flash = t('settings_saved', { target: target.value });
        route();
      } catch (err) {
        if (!(err instanceof Expired)) say(msg, 'settings_failed', { msg: err.message });
      }
    },
  }, fields, el('button', { type: 'submit', class: 'primary', id: 'settings-submit', text: t('save') }));
  view.append(section(t('settings_title'), el('div', { class: 'inline-form' },
    el('label', { for: 'settings-kind', text: t('settings_for') }), kind,
    el('label', { for: 'settings-target', text: t('assign_target') }), target),
  el('p', { class: 'note', text: t('settings_hint') }), form, msg));

  /* Opening hours of a venue: its "hours" overlay key. */
  const hsel = state.hoursVenue || (venues[0] || {}).venue || '';
  const hvenue = el('select', { id: 'hours-venue' }, ids.venue.map(([v, label]) => el('option', { value: v, text: label, selected: v === hsel })));
  hvenue.addEventListener('change', () => { state.hoursVenue = hvenue.value; route(); });
  const row = settings.find((s) => s.target_kind === 'venue' && s.target === hsel && s.key === 'hours');
  const hours = row ? JSON.parse(row.value) : null;
  const tz = el('input', { id: 'hours-tz', value: hours ? hours.tz : 'Asia/Shanghai', required: true });
  const days = WEEKDAYS.map((d, i) => el('input', {
    id: 'hours-' + d, placeholder: t('closed_day'), value: hours ? rangesText(hours.week[i]) : '',
  }));
  const closed = el('input', { id: 'hours-closed', placeholder: '2026-12-25, 2027-01-01', value: hours ? hours.closed.join(', ') : '' });
  const hmsg = formMsg('hours-msg');
  if (state.hoursFlash) {
    hmsg.textContent = state.hoursFlash;
    hmsg.className = 'form-msg good';
    state.hoursFlash = null;
  }
  const saveHours = async (body) => {
    try {
      await fleetPost('/venues/' + encodeURIComponent(hvenue.value) + '/hours', body);
      state.hoursVenue = hvenue.value;
      state.hoursFlash = t(body === null ? 'hours_cleared' : 'hours_saved', { venue: hvenue.value });
      route();
    } catch (err) {
      if (!(err instanceof Expired)) say(hmsg, 'hours_failed', { msg: err.message });
    }
  };
  const hform = el('form', {
    class: 'hours-form', id: 'hours-form',
    onsubmit: (e) => {
      e.preventDefault();
      saveHours({
        tz: tz.value.trim(),
        week: days.map((d) => rangesParse(d.value)),
        closed: closed.value.split(',').map((x) => x.trim()).filter(Boolean),
      });
    },
  },
  el('label', {}, el('span', { text: t('hours_tz') }), tz),
  WEEKDAYS.map((d, i) => el('label', {}, el('span', { text: t('day_' + d) }), days[i])),
  el('label', { class: 'wide' }, el('span', { text: t('hours_closed') }), closed),
  el('div', { class: 'actions' },
    el('button', { type: 'submit', class: 'primary', id: 'hours-submit', text: t('save') }),
    el('button', { type: 'button', id: 'hours-clear', text: t('hours_clear'), onclick: () => saveHours(null) })));
  view.append(section(t('hours_title'), el('label', { class: 'inline' }, el('span', { text: t('kind_venue') }), hvenue),
    el('p', { class: 'note', text: t(hours ? 'hours_hint' : 'hours_none') }), hform, hmsg));

  await alertsSection(view, venues);
}

/* --- 告警接收人 / Alert recipients (docs/server.md "Alerts") ---------------------------- */

/* "URL [json|wecom|dingtalk]" per line, as the server's webhooks list. */
function hooksParse(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [url, format] = l.split(/\s+/);
    return { url, format: format || 'json' };
  });
}

async function alertsSection(view, venues) {
  const r = await call('GET', '/alerts');
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || 'HTTP ' + r.status);
  const scopes = [['', t('alerts_all_venues')]].concat(venues.map((v) => [v.venue, `${v.name}（${v.venue}）`]));
  const sel = state.alertsVenue !== undefined ? state.alertsVenue : '';
  const scope = el('select', { id: 'alerts-venue' }, scopes.map(([v, label]) => el('option', { value: v, text: label, selected: v === sel })));
  scope.addEventListener('change', () => { state.alertsVenue = scope.value; route(); });
  const cur = data.recipients.find((x) => x.venue === sel) || {};
  const hooks = el('textarea', {
    id: 'alerts-webhooks', rows: '3', placeholder: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=… wecom',
  });
  hooks.value = (cur.webhooks || []).map((h) => h.url + (h.format && h.format !== 'json' ? ' ' + h.format : '')).join('\n');
  const mails = el('textarea', { id: 'alerts-emails', rows: '2', placeholder: 'duty@example.org, boss@example.org' });
  mails.value = (cur.emails || []).join(', ');
  const hour = el('input', {
    id: 'alerts-digest-hour', type: 'number', step: '1', placeholder: t('alerts_no_digest'),
    value: cur.digest_hour === undefined || cur.digest_hour === null ? '' : String(cur.digest_hour),
  });
  const msg = formMsg('alerts-msg');
  if (state.alertsFlash) {
    msg.textContent = state.alertsFlash;
    msg.className = 'form-msg good';
    state.alertsFlash = null;
  }
  const form = el('form', {
    class: 'alerts-form', id: 'alerts-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const h = hour.value.trim();
      /* Checked here too, so a slip is named before anything is sent; the server checks
       * everything again. What was typed stays in the form on any error. */
      if (h !== '' && !/^([0-9]|1[0-9]|2[0-3])$/.test(h)) {
        say(msg, 'alerts_failed', { msg: t('alerts_bad_hour') });
        hour.focus();
        return;
      }
      const body = {
        venue: scope.value,
        webhooks: hooksParse(hooks.value),
        emails: mails.value.split(/[\s,;，；]+/).filter(Boolean),
        digest_hour: h === '' ? null : Number(h),
      };
      try {
        await fleetPost('/alerts/recipients', body);
        state.alertsVenue = scope.value;
        state.alertsFlash = t('alerts_saved', { scope: scope.options[scope.selectedIndex].text });
        route();
      } catch (err) {
        if (!(err instanceof Expired)) say(msg, 'alerts_failed', { msg: err.message });
      }
    },
  },
  el('label', { class: 'wide' }, el('span', { text: t('alerts_webhooks') }), hooks),
  el('label', { class: 'wide' }, el('span', { text: t('alerts_emails') }), mails),
  el('label', {}, el('span', { text: t('alerts_digest_hour') }), hour),
  el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', id: 'alerts-submit', text: t('save') })));
  const last = data.last_error
    ? el('p', { class: 'note bad', id: 'alerts-last-error', text: t('alerts_last_error', { when: stamp(data.last_error.at_ms), msg: data.last_error.error }) })
    : null;
  view.append(section(t('alerts_title'), el('label', { class: 'inline' }, el('span', { text: t('alerts_for') }), scope),
    el('p', { class: 'note', text: t('alerts_hint') }), form, msg, last));
  view.append(section(t('alerts_open'), null, table('alerts', [
    { key: 'since_ms', label: t('col_since'), fmt: stamp },
    { key: 'kiosk', label: t('col_kiosk') },
    { key: 'venue', label: t('kind_venue') },
    { key: 'alert', label: t('col_alert'), fmt: (v) => t('alert_' + v) },
    { key: 'state', label: t('col_status'), fmt: (v) => t('alert_state_' + v), cls: (row) => (row.state === 'open' ? 'alert' : 'warn') },
    { key: 'detail', label: t('col_detail'), cls: () => 'wrap' },
  ], data.alerts, { sort: 'since_ms', sortDir: -1, empty: t('alerts_none') })));
}

PAGES.fleet = pageFleet;
PAGES.notices = pageNotices;
PAGES.settings = pageSettings;
NO_RANGE.add('fleet').add('notices').add('settings');
