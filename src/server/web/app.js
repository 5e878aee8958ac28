/* The office dashboard: a login page, then one page per hash (#/overview, #/venues, ...)
 * drawn from kepu-server's /api/v1/stats/* tables. No build step: plain DOM, Chart.js from
 * /vendor/chart.js when Debian's libjs-chart.js is installed. Text from the server is only
 * ever put into the page as text (textContent), never as HTML. */
'use strict';

const API = '/api/v1';
const DAY_MS = 86400000;
const CITY_OFFSET_MS = 8 * 3600 * 1000; /* the server groups days in the city's time, UTC+8 */
/* The audience groups in the kiosk's order: the core's list, from the server's event
 * contract (GET /api/v1/contract, loaded at start), never written down here. */
let AUDIENCES = [];
const COLORS = ['#1f6feb', '#2da44e', '#d97706', '#8250df', '#cf222e', '#6e7781', '#0e8a8a'];

const state = {
  user: null,
  csrf: null,
  roles: [], /* the session's roles (office, admin); [] for a staff token */
  from: null,
  to: null,
  charts: [],
  page: 'overview',
  topic: null,
  render: 0, /* bumped on every render so late answers of an older one are dropped */
};

/* --- small helpers ----------------------------------------------------------------------- */

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function cityDay(ms) {
  return new Date(ms + CITY_OFFSET_MS).toISOString().slice(0, 10);
}

function addDays(day, n) {
  return new Date(Date.parse(day + 'T00:00:00Z') + n * DAY_MS).toISOString().slice(0, 10);
}

function daysBetween(from, to) {
  const out = [];
  for (let d = from; d <= to && out.length < 4000; d = addDays(d, 1)) out.push(d);
  return out;
}

function audienceName(a) {
  return t(AUDIENCES.includes(a) ? 'aud_' + a : 'aud_none');
}

function pct(x) {
  return x === null || x === undefined ? '–' : (x * 100).toFixed(1) + '%';
}

function seconds(ms) {
  return ms === null || ms === undefined ? '–' : (ms / 1000).toFixed(1);
}

function number(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString(document.documentElement.lang);
}

/* A count a kiosk reported; the server keeps -1 for one it did not report. */
function count(n) {
  return n === null || n === undefined || n < 0 ? '–' : number(n);
}

function audienceOrder(a, b) {
  const ia = AUDIENCES.indexOf(a);
  const ib = AUDIENCES.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
}

function ago(ms) {
  if (!ms) return t('never');
  const min = Math.max(0, Math.floor((Date.now() - ms) / 60000));
  if (min < 1) return t('just_now');
  if (min < 120) return t('minutes_ago', { n: min });
  if (min < 48 * 60) return t('hours_ago', { n: Math.floor(min / 60) });
  return t('days_ago', { n: Math.floor(min / 1440) });
}

function stamp(ms) {
  if (!ms) return '';
  return new Date(ms + CITY_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/* --- talking to the server ------------------------------------------------------------- */

class Expired extends Error {}

async function call(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && state.csrf) opts.headers['X-CSRF-Token'] = state.csrf;
  /* Staff sign in with their token (studio.js); it is sent instead of the cookie. */
  if (state.token) opts.headers.Authorization = 'Bearer ' + state.token;
  const r = await fetch(API + path, opts);
  if (r.status === 401 && path !== '/login') {
    /* Several calls may fail at once: the first one shows the login page. */
    if (state.user) showLogin('login_expired');
    throw new Expired('session expired');
  }
  return r;
}

function statPath(what, params) {
  const q = new URLSearchParams(params || {});
  if (state.from) q.set('from', state.from);
  if (state.to) q.set('to', state.to);
  return '/stats/' + what + '?' + q.toString();
}

/* Rows of a stats table as objects keyed by column name. */
async function stat(what, params) {
  const r = await call('GET', statPath(what, params));
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || 'HTTP ' + r.status);
  return j.rows.map((row) => Object.fromEntries(j.columns.map((c, i) => [c, row[i]])));
}

/* Downloads a stats table as CSV: fetched first, so an expired session goes to the login
 * page instead of saving an error as a file. */
async function downloadCsv(what, params, name) {
  const r = await call('GET', statPath(what, Object.assign({}, params, { format: 'csv' })));
  if (!r.ok) return;
  const blob = await r.blob();
  const a = el('a', {
    href: URL.createObjectURL(blob),
    download: `kepu-${name}-${state.from}_${state.to}.csv`,
  });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function csvButton(what, params, name) {
  return el('button', {
    type: 'button', class: 'csv', 'data-csv': name, text: t('csv'),
    onclick: () => downloadCsv(what, params, name).catch(() => {}),
  });
}

/* --- login ------------------------------------------------------------------------------- */

function showLogin(noteKey) {
  state.user = null;
  state.csrf = null;
  state.roles = [];
  if (typeof studioSignedOut === 'function') studioSignedOut();
  destroyCharts();
  document.getElementById('app').hidden = true;
  document.getElementById('login').hidden = false;
  const note = document.getElementById('login-note');
  note.dataset.key = noteKey || '';
  note.textContent = noteKey ? t(noteKey) : '';
  document.getElementById('login-error').hidden = true;
  document.getElementById('login-password').value = '';
  document.getElementById('login-user').focus();
}

function hasRole(role) {
  return state.roles.includes(role);
}

/* Whether the session's roles open page name: users and tokens need admin, every other
 * page office (a staff token sees only the studio: studio.js). */
function pageAllowed(name) {
  if (state.onlyPage) return name === state.onlyPage;
  return name === 'users' ? hasRole('admin') : hasRole('office');
}

/* roles: the session's (an array), or null for a staff token (studio.js sets its menu). */
function showApp(user, csrf, roles) {
  state.user = user;
  state.csrf = csrf;
  state.roles = Array.isArray(roles) ? roles : [];
  if (Array.isArray(roles)) {
    document.querySelectorAll('#nav a').forEach((a) => { a.hidden = !pageAllowed(a.dataset.page); });
  }
  document.getElementById('login').hidden = true;
  document.getElementById('app').hidden = false;
  document.getElementById('who-name').textContent = user;
  route();
}

async function onLogin(ev) {
  ev.preventDefault();
  const errBox = document.getElementById('login-error');
  const button = document.getElementById('login-submit');
  errBox.hidden = true;
  button.disabled = true;
  try {
    const r = await call('POST', '/login', {
      user: document.getElementById('login-user').value,
      password: document.getElementById('login-password').value,
    });
    if (r.ok) {
      const j = await r.json();
      showApp(j.user, j.csrf, j.roles || ['office']);
      return;
    }
    let key = 'login_failed';
    let vars;
    if (r.status === 401) key = 'login_wrong';
    if (r.status === 429) {
      key = 'login_wait';
      vars = { s: r.headers.get('Retry-After') || '60' };
    }
    errBox.textContent = t(key, vars);
    errBox.dataset.key = key;
    errBox.hidden = false;
    document.getElementById('login-password').select();
  } catch (e) {
    errBox.textContent = t('login_failed');
    errBox.hidden = false;
  } finally {
    button.disabled = false;
  }
}

async function onLogout() {
  try {
    await call('POST', '/logout');
  } catch (e) {
    /* gone already */
  }
  showLogin('login_out');
}

/* --- page frame: range, navigation, sections, tables, charts ------------------------------ */

function destroyCharts() {
  for (const c of state.charts) c.destroy();
  state.charts = [];
}

function section(title, tools, ...body) {
  return el('section', { class: 'card' },
    el('div', { class: 'card-head' }, el('h2', { text: title }), el('div', { class: 'tools' }, tools)),
    body);
}

/* A canvas with a Chart.js chart, or a note when the library is missing. */
function chart(name, config) {
  if (typeof Chart === 'undefined') return el('p', { class: 'note', text: t('no_chart') });
  const canvas = el('canvas', { 'data-chart': name, role: 'img', 'aria-label': name });
  const box = el('div', { class: 'chart' }, canvas);
  config.options = Object.assign({
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { position: 'bottom' } },
  }, config.options || {});
  /* Created once the canvas is in the page, so Chart.js can measure its box. */
  requestAnimationFrame(() => {
    if (canvas.isConnected) state.charts.push(new Chart(canvas, config));
  });
  return box;
}

/* A table with sortable columns (click a header) and an optional text filter.
 * cols: [{key, label, fmt?(v, row), num?, cls?(row)}]; rowClass(row) marks rows. */
function table(name, cols, rows, opts) {
  opts = opts || {};
  let sortKey = opts.sort || null;
  let sortDir = opts.sortDir || 1;
  let filter = '';
  const tbody = el('tbody');
  const heads = cols.map((c) => el('th', {
    scope: 'col', class: c.num ? 'num sortable' : 'sortable', tabindex: '0', 'data-key': c.key,
    onclick: () => {
      sortDir = sortKey === c.key ? -sortDir : 1;
      sortKey = c.key;
      draw();
    },
    onkeydown: (e) => { if (e.key === 'Enter') e.currentTarget.click(); },
  }, c.label));
  const shown = (v, row, c) => (c.fmt ? c.fmt(v, row) : v === null || v === undefined ? '' : v);
  function draw() {
    const f = filter.trim().toLowerCase();
    let list = rows.filter((row) => !f || cols.some((c) =>
      String(shown(row[c.key], row, c)).toLowerCase().includes(f)));
    if (opts.extraFilter) list = list.filter(opts.extraFilter);
    if (sortKey) {
      list = list.slice().sort((a, b) => {
        const x = a[sortKey];
        const y = b[sortKey];
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sortDir;
      });
    }
    heads.forEach((h) => {
      h.dataset.sort = h.dataset.key === sortKey ? (sortDir > 0 ? 'asc' : 'desc') : '';
      h.setAttribute('aria-sort', h.dataset.sort ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
    });
    tbody.replaceChildren(...list.map((row) => el('tr', { class: opts.rowClass ? opts.rowClass(row) : null },
      cols.map((c) => el('td', { class: [c.num ? 'num' : '', c.cls ? c.cls(row) : ''].join(' ').trim() || null },
        shown(row[c.key], row, c))))));
    if (!list.length) {
      tbody.append(el('tr', {}, el('td', { colspan: String(cols.length), class: 'empty', text: opts.empty || t('no_data') })));
    }
  }
  const wrap = el('div', { class: 'table-wrap' },
    el('table', { 'data-table': name }, el('thead', {}, el('tr', {}, heads)), tbody));
  const controls = [];
  if (opts.filter !== false) {
    controls.push(el('input', {
      type: 'search', class: 'filter', placeholder: t('filter'), 'aria-label': t('filter'),
      'data-filter': name, oninput: (e) => { filter = e.target.value; draw(); },
    }));
  }
  draw();
  const out = el('div', { class: 'table-block' }, el('div', { class: 'table-controls' }, controls, opts.controls), wrap);
  out.redraw = draw;
  return out;
}

function statCard(key, value, sub, cls) {
  return el('div', { class: 'stat ' + (cls || ''), 'data-stat': key },
    el('div', { class: 'stat-label', text: t(key) }),
    el('div', { class: 'stat-value', text: number(value) }),
    sub ? el('div', { class: 'stat-sub', text: sub }) : null);
}

/* --- pages ------------------------------------------------------------------------------- */

async function pageOverview(view) {
  const [ov, days, venues, kiosks] = await Promise.all([
    stat('overview'), stat('events', { by: 'day' }), stat('sessions', { by: 'venue' }), stat('kiosks'),
  ]);
  const o = ov[0] || {};
  const today = cityDay(Date.now());
  const asOf = t('as_of', { day: state.to });
  view.append(el('div', { class: 'stats' },
    statCard('kiosks', o.kiosks),
    statCard('online', o.online, null, 'good'),
    statCard('offline', o.offline, t('offline_hint'), o.offline ? 'bad' : ''),
    statCard(state.to === today ? 'sessions_today' : 'sessions_1d', o.sessions_1d, asOf),
    statCard('sessions_7d', o.sessions_7d, asOf),
    statCard('sessions_30d', o.sessions_30d, asOf)));

  const byDay = Object.fromEntries(days.map((d) => [d.day, d]));
  const labels = daysBetween(state.from, state.to);
  const series = (f) => labels.map((d) => (byDay[d] ? f(byDay[d]) : 0));
  view.append(section(t('events_per_day'), csvButton('events', { by: 'day' }, 'events-by-day'),
    chart('events-per-day', {
      type: 'bar',
      data: {
        labels: labels.map((d) => d.slice(5)),
        datasets: [
          { label: t('ds_sessions'), data: series((d) => d.sessions), backgroundColor: COLORS[0] },
          { label: t('ds_page_views'), data: series((d) => d.page_views), backgroundColor: COLORS[1] },
          { label: t('ds_quiz_answers'), data: series((d) => d.quiz_answers), backgroundColor: COLORS[2] },
          { label: t('ds_other'), data: series((d) => d.events - d.sessions - d.page_views - d.quiz_answers), backgroundColor: COLORS[5] },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    })));

  const top = venues.slice().sort((a, b) => b.sessions - a.sessions).slice(0, 10);
  const offline = kiosks.filter((k) => !k.online);
  view.append(el('div', { class: 'grid2' },
    section(t('busiest_venues'), csvButton('sessions', { by: 'venue' }, 'sessions-by-venue'),
      chart('busiest-venues', {
        type: 'bar',
        data: { labels: top.map((v) => v.name), datasets: [{ label: t('col_sessions'), data: top.map((v) => v.sessions), backgroundColor: COLORS[0] }] },
        options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
      }),
      table('busiest-venues', [
        { key: 'name', label: t('col_venue') },
        { key: 'sessions', label: t('col_sessions'), num: true, fmt: number },
      ], top, { filter: false })),
    section(t('offline_kiosks'), null,
      offline.length ? table('offline-kiosks', [
        { key: 'kiosk', label: t('col_kiosk') },
        { key: 'venue_name', label: t('col_venue') },
        { key: 'last_seen_ms', label: t('col_last_seen'), fmt: (v) => ago(v) },
      ], offline, { filter: false, rowClass: () => 'offline' }) : el('p', { class: 'note good', text: t('all_online') }))));
}

async function pageVenues(view) {
  const [kiosks, venues] = await Promise.all([stat('kiosks'), stat('sessions', { by: 'venue' })]);
  const perVenue = {};
  for (const k of kiosks) {
    const v = perVenue[k.venue] || (perVenue[k.venue] = { kiosks: 0, online: 0 });
    v.kiosks++;
    v.online += k.online ? 1 : 0;
  }
  const vrows = venues.map((v) => Object.assign({}, v, perVenue[v.venue] || { kiosks: 0, online: 0 }));
  view.append(section(t('venues_table'), csvButton('sessions', { by: 'venue' }, 'sessions-by-venue'),
    table('venues', [
      { key: 'name', label: t('col_venue') },
      { key: 'venue', label: t('col_venue_id') },
      { key: 'kiosks', label: t('col_kiosks'), num: true },
      { key: 'online', label: t('col_online'), num: true },
      { key: 'sessions', label: t('col_sessions'), num: true, fmt: number },
    ], vrows, { sort: 'sessions', sortDir: -1 })));

  let status = '';
  const select = el('select', { 'data-status-filter': '', 'aria-label': t('col_status') },
    el('option', { value: '', text: t('all') }),
    el('option', { value: 'online', text: t('online') }),
    el('option', { value: 'offline', text: t('offline') }));
  const packs = (v) => {
    try {
      return (JSON.parse(v || '[]') || []).join(', ');
    } catch (e) {
      return v;
    }
  };
  const tbl = table('kiosks', [
    { key: 'kiosk', label: t('col_kiosk') },
    { key: 'venue_name', label: t('col_venue') },
    { key: 'online', label: t('col_status'), fmt: (v) => t(v ? 'online' : 'offline'), cls: (r) => (r.online ? 'ok' : 'alert') },
    { key: 'last_seen_ms', label: t('col_last_seen'), fmt: (v) => (v ? ago(v) + ' · ' + stamp(v) : t('never')) },
    { key: 'app_version', label: t('col_app_version') },
    { key: 'packs', label: t('col_packs'), fmt: packs },
    { key: 'queue', label: t('col_queue'), num: true, fmt: count },
    { key: 'dropped', label: t('col_dropped'), num: true, fmt: count, cls: (r) => (r.dropped > 0 ? 'alert' : '') },
    { key: 'last_error', label: t('col_last_error'), cls: () => 'wrap' },
  ], kiosks, {
    rowClass: (r) => (r.online ? null : 'offline'),
    extraFilter: (r) => !status || (status === 'online') === !!r.online,
    controls: select,
  });
  select.addEventListener('change', () => { status = select.value; tbl.redraw(); });
  view.append(section(t('kiosks_table'), csvButton('kiosks', {}, 'kiosks'), tbl));
}

async function pageContent(view) {
  const [topics, pages, blocks, targets, narration] = await Promise.all([
    stat('topics'), stat('pages'), stat('blocks', { by: 'block' }), stat('blocks', { by: 'target' }),
    stat('narration'),
  ]);
  const top = topics.slice(0, 15);
  view.append(section(t('topic_popularity'), csvButton('topics', {}, 'topics'),
    el('div', { class: 'grid2 flat' },
      chart('topic-popularity', {
        type: 'bar',
        data: { labels: top.map((r) => r.topic), datasets: [{ label: t('col_views'), data: top.map((r) => r.views), backgroundColor: COLORS[1] }] },
        options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
      }),
      table('topics', [
        { key: 'topic', label: t('col_topic') },
        { key: 'views', label: t('col_views'), num: true, fmt: number },
        { key: 'avg_dwell_ms', label: t('col_avg_dwell'), num: true, fmt: seconds },
      ], topics))));

  const names = [...new Set(pages.map((p) => p.topic))];
  if (!names.includes(state.topic)) state.topic = names[0] || null;
  const chartBox = el('div');
  const picker = el('select', { 'data-topic-picker': '', 'aria-label': t('choose_topic') },
    names.map((n) => el('option', { value: n, text: n, selected: n === state.topic })));
  const drawTopic = () => {
    destroyChartIn(chartBox);
    const rows = pages.filter((p) => p.topic === state.topic);
    chartBox.replaceChildren(rows.length ? chart('pages', {
      type: 'bar',
      data: {
        labels: rows.map((p) => t('page_n', { n: p.page + 1 })),
        datasets: [
          { type: 'bar', label: t('ds_reach'), data: rows.map((p) => +(p.reach * 100).toFixed(1)), backgroundColor: COLORS[0], yAxisID: 'y' },
          { type: 'line', label: t('ds_dwell'), data: rows.map((p) => +(p.avg_dwell_ms / 1000).toFixed(1)), borderColor: COLORS[2], backgroundColor: COLORS[2], yAxisID: 'y2' },
        ],
      },
      options: {
        scales: {
          y: { beginAtZero: true, max: 100, position: 'left' },
          y2: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } },
        },
      },
    }) : el('p', { class: 'note', text: t('no_data') }));
  };
  picker.addEventListener('change', () => { state.topic = picker.value; drawTopic(); });
  drawTopic();
  view.append(section(t('dwell_per_page'), [el('label', { class: 'inline' }, t('choose_topic'), ' ', picker), csvButton('pages', {}, 'pages')],
    chartBox,
    el('h3', { text: t('where_stop') }),
    table('pages', [
      { key: 'topic', label: t('col_topic') },
      { key: 'page', label: t('col_page'), num: true, fmt: (v) => v + 1 },
      { key: 'views', label: t('col_views'), num: true, fmt: number },
      { key: 'avg_dwell_ms', label: t('col_avg_dwell'), num: true, fmt: seconds },
      { key: 'reach', label: t('col_reach'), num: true, fmt: pct },
      { key: 'exit_share', label: t('col_exit'), num: true, fmt: pct },
    ], pages)));
  appendBlocks(view, blocks, targets);
  appendNarration(view, narration);
}

/* Interactive blocks (issue 13): per block how many visitors used it, and per spot, frame
 * or step how often it was opened and by how many visitors. */
function appendBlocks(view, blocks, targets) {
  view.append(section(t('blocks_used'), csvButton('blocks', { by: 'block' }, 'blocks'),
    table('blocks', [
      { key: 'topic', label: t('col_topic') },
      { key: 'page', label: t('col_page'), num: true, fmt: (v) => v + 1 },
      { key: 'block', label: t('col_block') },
      { key: 'visitors', label: t('col_visitors'), num: true, fmt: number },
      { key: 'uses', label: t('col_uses'), num: true, fmt: number },
    ], blocks, { sort: 'visitors', sortDir: -1 }),
    el('h3', { text: t('block_targets') }),
    el('div', { class: 'tools' }, csvButton('blocks', { by: 'target' }, 'block-targets')),
    table('block-targets', [
      { key: 'topic', label: t('col_topic') },
      { key: 'page', label: t('col_page'), num: true, fmt: (v) => v + 1 },
      { key: 'block', label: t('col_block') },
      { key: 'target', label: t('col_block_target'), fmt: (v) => v || t('target_none') },
      { key: 'action', label: t('col_action') },
      { key: 'uses', label: t('col_uses'), num: true, fmt: number },
      { key: 'visitors', label: t('col_visitors'), num: true, fmt: number },
    ], targets)));
}

/* Narration (issue 14): how much is listened to per topic and audience group. */
function appendNarration(view, rows) {
  rows.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : audienceOrder(a.audience, b.audience)));
  const topics = [...new Set(rows.map((r) => r.topic))];
  const groups = [...new Set(rows.map((r) => r.audience))].sort(audienceOrder);
  const minutes = (ms) => (ms / 60000).toFixed(1);
  view.append(section(t('narration_heard'), csvButton('narration', {}, 'narration'),
    rows.length ? chart('narration', {
      type: 'bar',
      data: {
        labels: topics,
        datasets: groups.map((g, i) => ({
          label: audienceName(g),
          backgroundColor: COLORS[i % COLORS.length],
          data: topics.map((tp) => +minutes(rows.filter((r) => r.topic === tp && r.audience === g)
            .reduce((s, r) => s + r.ms_heard, 0))),
        })),
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: t('ds_minutes_heard') } } } },
    }) : el('p', { class: 'note', text: t('no_data') }),
    table('narration', [
      { key: 'topic', label: t('col_topic') },
      { key: 'audience', label: t('col_audience'), fmt: audienceName },
      { key: 'lang', label: t('col_lang') },
      { key: 'plays', label: t('col_plays'), num: true, fmt: number },
      { key: 'ms_heard', label: t('col_minutes_heard'), num: true, fmt: minutes },
      { key: 'avg_ms_heard', label: t('col_avg_heard'), num: true, fmt: seconds },
    ], rows)));
}

function destroyChartIn(box) {
  state.charts = state.charts.filter((c) => {
    if (box.contains(c.canvas)) {
      c.destroy();
      return false;
    }
    return true;
  });
}

async function pageQuizzes(view) {
  const [byDay, byAud, byQ] = await Promise.all([
    stat('quiz', { by: 'audience_day' }), stat('quiz', { by: 'audience' }), stat('quiz', { by: 'question' }),
  ]);
  const labels = daysBetween(state.from, state.to);
  const groups = [...new Set(byDay.map((r) => r.audience))].sort(audienceOrder);
  byAud.sort((a, b) => audienceOrder(a.audience, b.audience));
  view.append(section(t('literacy'), csvButton('quiz', { by: 'audience_day' }, 'quiz-by-audience-day'),
    chart('literacy', {
      type: 'line',
      data: {
        labels: labels.map((d) => d.slice(5)),
        datasets: groups.map((g) => {
          const k = AUDIENCES.indexOf(g);
          const color = COLORS[k < 0 ? 6 : k];
          const map = Object.fromEntries(byDay.filter((r) => r.audience === g).map((r) => [r.day, r.accuracy]));
          return {
            label: audienceName(g), borderColor: color, backgroundColor: color, spanGaps: true, pointRadius: 4,
            data: labels.map((d) => (d in map ? +(map[d] * 100).toFixed(1) : null)),
          };
        }),
      },
      options: { scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: '%' } } } },
    })));
  view.append(el('div', { class: 'grid2' },
    section(t('accuracy_audience'), csvButton('quiz', { by: 'audience' }, 'quiz-by-audience'),
      chart('accuracy-audience', {
        type: 'bar',
        data: {
          labels: byAud.map((r) => audienceName(r.audience)),
          datasets: [{
            label: t('col_accuracy'), data: byAud.map((r) => +(r.accuracy * 100).toFixed(1)),
            backgroundColor: byAud.map((r) => COLORS[AUDIENCES.indexOf(r.audience) < 0 ? 6 : AUDIENCES.indexOf(r.audience)]),
          }],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, max: 100 } } },
      }),
      table('quiz-audience', [
        { key: 'audience', label: t('col_audience'), fmt: audienceName },
        { key: 'correct', label: t('col_correct'), num: true },
        { key: 'total', label: t('col_total'), num: true },
        { key: 'accuracy', label: t('col_accuracy'), num: true, fmt: pct },
      ], byAud, { filter: false })),
    section(t('accuracy_question'), csvButton('quiz', { by: 'question' }, 'quiz-by-question'),
      table('quiz-question', [
        { key: 'topic', label: t('col_topic') },
        { key: 'question', label: t('col_question') },
        { key: 'correct', label: t('col_correct'), num: true },
        { key: 'total', label: t('col_total'), num: true },
        { key: 'accuracy', label: t('col_accuracy'), num: true, fmt: pct, cls: (r) => (r.accuracy < 0.5 ? 'alert' : '') },
      ], byQ, { sort: 'accuracy' }))));
}

async function pageAssignments(view) {
  const [packs, assigns, kiosks, venues] = await Promise.all([
    stat('packs'), stat('assignments'), stat('kiosks'), stat('sessions', { by: 'venue' }),
  ]);
  const packIds = [...new Set(packs.map((p) => p.pack))];
  const packInput = el('input', { id: 'assign-pack', list: 'assign-packs', required: true, autocomplete: 'off' });
  const verInput = el('input', { id: 'assign-version', list: 'assign-versions', required: true, autocomplete: 'off' });
  const packList = el('datalist', { id: 'assign-packs' }, packIds.map((p) => el('option', { value: p })));
  const verList = el('datalist', { id: 'assign-versions' });
  const fillVersions = () => {
    verList.replaceChildren(...packs.filter((p) => p.pack === packInput.value).map((p) => el('option', { value: p.version })));
  };
  packInput.addEventListener('input', fillVersions);
  const kindSel = el('select', { id: 'assign-kind' },
    el('option', { value: 'venue', text: t('kind_venue') }),
    el('option', { value: 'kiosk', text: t('kind_kiosk') }));
  const targetSel = el('select', { id: 'assign-target', required: true });
  const fillTargets = () => {
    targetSel.replaceChildren(...(kindSel.value === 'venue'
      ? venues.map((v) => el('option', { value: v.venue, text: `${v.name}（${v.venue}）` }))
      : kiosks.map((k) => el('option', { value: k.kiosk, text: `${k.kiosk}（${k.venue_name}）` }))));
  };
  kindSel.addEventListener('change', fillTargets);
  fillTargets();
  /* Dated assignments (issue 16): days in the kiosk's own local time; the end day is
   * the first day back on the undated version. */
  const startsInput = el('input', { id: 'assign-starts', type: 'date' });
  const endsInput = el('input', { id: 'assign-ends', type: 'date' });
  const msg = el('p', { class: 'form-msg', role: 'status', id: 'assign-msg' });
  const form = el('form', {
    class: 'assign-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { pack: packInput.value.trim(), version: verInput.value.trim() };
      body[kindSel.value] = targetSel.value;
      if (startsInput.value) body.starts = startsInput.value;
      if (endsInput.value) body.ends = endsInput.value;
      msg.className = 'form-msg';
      try {
        const r = await call('POST', '/assignments', body);
        const j = await r.json().catch(() => ({}));
        if (!r.ok) throw new Error(j.error || 'HTTP ' + r.status);
        state.flash = t(body.starts || body.ends ? 'assign_done_dated' : 'assign_done', {
          pack: body.pack, version: body.version, kind: t('kind_' + kindSel.value), target: targetSel.value,
          starts: body.starts || t('when_now'), ends: body.ends || t('when_open'),
        });
        route(); /* redraw with the new assignment; the message shows above it */
      } catch (err) {
        if (err instanceof Expired) return;
        msg.textContent = t('assign_failed', { msg: err.message });
        msg.className = 'form-msg bad';
      }
    },
  },
  el('label', {}, el('span', { text: t('assign_pack') }), packInput, packList),
  el('label', {}, el('span', { text: t('assign_version') }), verInput, verList),
  el('label', {}, el('span', { text: t('assign_target_kind') }), kindSel),
  el('label', {}, el('span', { text: t('assign_target') }), targetSel),
  el('label', {}, el('span', { text: t('assign_starts') }), startsInput),
  el('label', {}, el('span', { text: t('assign_ends') }), endsInput),
  el('button', { type: 'submit', class: 'primary', id: 'assign-submit', text: t('assign_submit') }));
  if (state.flash) {
    msg.textContent = state.flash;
    msg.className = 'form-msg good';
    state.flash = null;
  }
  view.append(section(t('assign_title'), null, packs.length ? null : el('p', { class: 'note', text: t('no_packs') }), form, msg));

  const running = (v) => {
    try {
      return JSON.parse(v || '[]') || [];
    } catch (e) {
      return [];
    }
  };
  const krows = kiosks.map((k) => {
    const should = (k.assigned || '').split(' ').filter(Boolean).sort();
    const runs = running(k.packs).slice().sort();
    return Object.assign({}, k, {
      assigned_text: should.join(', '),
      running_text: runs.join(', '),
      sync: should.every((p) => runs.includes(p)) ? 'in_sync' : 'pending',
    });
  });
  /* One "Roll back" per target and pack: it undoes that target's latest assignment of
   * the pack (a dated one is removed; an undated one gives way to the version before). */
  const rollback = async (row) => {
    const body = { pack: row.pack };
    body[row.target_kind] = row.target;
    msg.className = 'form-msg';
    try {
      const r = await call('POST', '/assignments/rollback', body);
      const j = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(j.error || 'HTTP ' + r.status);
      state.flash = t('rollback_done', { kind: t('kind_' + row.target_kind), target: row.target, detail: j.detail });
      route();
    } catch (err) {
      if (err instanceof Expired) return;
      msg.textContent = t('rollback_failed', { msg: err.message });
      msg.className = 'form-msg bad';
    }
  };
  const firstOf = new Set();
  const arows = assigns.map((a) => {
    const key = `${a.target_kind}:${a.target}:${a.pack}`;
    const first = !firstOf.has(key);
    firstOf.add(key);
    return Object.assign({}, a, { first });
  });
  view.append(section(t('current_assignments'), csvButton('assignments', {}, 'assignments'),
      table('assignments', [
        { key: 'target_kind', label: t('col_target_kind'), fmt: (v) => t('kind_' + v) },
        { key: 'target', label: t('col_target') },
        { key: 'pack', label: t('col_pack') },
        { key: 'version', label: t('col_version') },
        { key: 'starts', label: t('col_starts'), fmt: (v, r) => (v || (r.ends ? t('when_now') : '')) },
        { key: 'ends', label: t('col_ends'), fmt: (v, r) => (v || (r.starts ? t('when_open') : '')) },
        { key: 'updated_ms', label: t('col_updated'), fmt: stamp },
        {
          key: 'first',
          label: t('col_rollback'),
          fmt: (v, r) => (v ? el('button', {
            type: 'button', class: 'small', 'data-rollback': `${r.target_kind}:${r.target}:${r.pack}`,
            text: t('rollback_btn'), onclick: () => rollback(r),
          }) : ''),
        },
      ], arows)));
  view.append(section(t('uploaded_packs'), csvButton('packs', {}, 'packs'),
    table('packs', [
      { key: 'pack', label: t('col_pack') },
      { key: 'version', label: t('col_version') },
      { key: 'uploaded_ms', label: t('col_uploaded'), fmt: stamp },
    ], packs)));
  view.append(section(t('kiosks_table'), csvButton('kiosks', {}, 'kiosks'),
    table('kiosk-assignments', [
      { key: 'kiosk', label: t('col_kiosk') },
      { key: 'venue_name', label: t('col_venue') },
      { key: 'assigned_text', label: t('col_assigned') },
      { key: 'running_text', label: t('col_running') },
      { key: 'sync', label: t('col_sync'), fmt: (v) => t(v), cls: (r) => (r.sync === 'in_sync' ? 'ok' : 'warn') },
    ], krows)));
}

const EXPORTS = [
  ['ex_overview', 'overview', {}, 'overview'],
  ['ex_events', 'events', { by: 'day' }, 'events-by-day'],
  ['ex_sessions_day', 'sessions', { by: 'day' }, 'sessions-by-day'],
  ['ex_sessions_venue', 'sessions', { by: 'venue' }, 'sessions-by-venue'],
  ['ex_sessions_kiosk', 'sessions', { by: 'kiosk' }, 'sessions-by-kiosk'],
  ['ex_audiences', 'audiences', {}, 'audiences'],
  ['ex_topics', 'topics', {}, 'topics'],
  ['ex_pages', 'pages', {}, 'pages'],
  ['ex_quiz_question', 'quiz', { by: 'question' }, 'quiz-by-question'],
  ['ex_quiz_audience', 'quiz', { by: 'audience' }, 'quiz-by-audience'],
  ['ex_quiz_day', 'quiz', { by: 'day' }, 'quiz-by-day'],
  ['ex_quiz_audience_day', 'quiz', { by: 'audience_day' }, 'quiz-by-audience-day'],
  ['ex_kiosks', 'kiosks', {}, 'kiosks'],
  ['ex_packs', 'packs', {}, 'packs'],
  ['ex_assignments', 'assignments', {}, 'assignments'],
];

async function pageExports(view) {
  view.append(section(t('exports_title'), null,
    el('p', { class: 'note', text: t('exports_note', { from: state.from, to: state.to }) }),
    el('ul', { class: 'exports' }, EXPORTS.map(([key, what, params, name]) => el('li', {},
      el('span', { text: t(key) }),
      el('button', {
        type: 'button', class: 'csv', 'data-csv': name, text: t('download') + ' CSV',
        onclick: () => downloadCsv(what, params, name).catch(() => {}),
      }))))));
}

const PAGES = {
  overview: pageOverview,
  venues: pageVenues,
  content: pageContent,
  quizzes: pageQuizzes,
  assignments: pageAssignments,
  exports: pageExports,
};
/* Pages without the date range (fleet.js adds its own pages to both). */
const NO_RANGE = new Set(['assignments']);

/* --- routing and the frame --------------------------------------------------------------- */

async function route() {
  if (!state.user) return;
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1];
  state.page = state.onlyPage || (PAGES[name] && pageAllowed(name) ? name
    : hasRole('office') ? 'overview' : 'users');
  const my = ++state.render;
  document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.dataset.page === state.page));
  document.getElementById('range').hidden = NO_RANGE.has(state.page);
  const view = document.getElementById('view');
  destroyCharts();
  view.replaceChildren(el('p', { class: 'note', text: t('loading') }));
  view.dataset.page = state.page;
  view.dataset.ready = '';
  const fresh = el('div', { class: 'page' });
  try {
    await PAGES[state.page](fresh);
  } catch (e) {
    if (e instanceof Expired || my !== state.render) return;
    view.replaceChildren(el('p', { class: 'note bad', text: t('load_failed', { msg: e.message }) }));
    return;
  }
  if (my !== state.render) return;
  view.replaceChildren(fresh);
  /* The review inbox count beside its menu entry (review.js), for office users. */
  if (typeof reviewRefreshBadge === 'function' && !state.token && hasRole('office') && state.page !== 'review') reviewRefreshBadge();
  /* Charts are created on the next frame; say "ready" after that one. */
  requestAnimationFrame(() => requestAnimationFrame(() => {
    if (my === state.render) view.dataset.ready = '1';
  }));
}

function setRange(from, to) {
  state.from = from;
  state.to = to;
  document.getElementById('range-from').value = from;
  document.getElementById('range-to').value = to;
}

function applyLang(lang) {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  document.title = t('app_title');
  document.querySelectorAll('[data-t]').forEach((e) => { e.textContent = t(e.dataset.t); });
  const note = document.getElementById('login-note');
  if (note.dataset.key) note.textContent = t(note.dataset.key);
  const err = document.getElementById('login-error');
  if (!err.hidden && err.dataset.key) err.textContent = t(err.dataset.key);
  try {
    localStorage.setItem('kepu-lang', lang);
  } catch (e) {
    /* private mode */
  }
  route();
}

/* The lists the kiosk and the server share (kepu/event.h). Without them every group is
 * shown as "not chosen", which is wrong but harmless; the page still works. */
async function loadContract() {
  const r = await fetch(API + '/contract', { credentials: 'same-origin' }).catch(() => null);
  if (r && r.ok) {
    const j = await r.json().catch(() => ({}));
    if (Array.isArray(j.audiences)) AUDIENCES = j.audiences;
  }
}

async function start() {
  let lang = 'zh';
  try {
    lang = localStorage.getItem('kepu-lang') || 'zh';
  } catch (e) {
    /* private mode */
  }
  document.querySelectorAll('[data-lang-toggle]').forEach((b) => b.addEventListener('click', () => {
    applyLang(document.documentElement.lang === 'en' ? 'zh' : 'en');
  }));
  const today = cityDay(Date.now());
  setRange(addDays(today, -29), today);
  document.getElementById('range-from').addEventListener('change', (e) => {
    if (e.target.value) setRange(e.target.value, state.to < e.target.value ? e.target.value : state.to);
    route();
  });
  document.getElementById('range-to').addEventListener('change', (e) => {
    if (e.target.value) setRange(state.from > e.target.value ? e.target.value : state.from, e.target.value);
    route();
  });
  document.querySelectorAll('[data-days]').forEach((b) => b.addEventListener('click', () => {
    const end = cityDay(Date.now());
    setRange(addDays(end, 1 - Number(b.dataset.days)), end);
    route();
  }));
  document.getElementById('login-form').addEventListener('submit', onLogin);
  document.getElementById('logout').addEventListener('click', onLogout);
  window.addEventListener('hashchange', route);
  applyLang(lang);
  await loadContract();
  const r = await fetch(API + '/session', { credentials: 'same-origin' }).catch(() => null);
  if (r && r.ok) {
    const j = await r.json();
    showApp(j.user, j.csrf, j.roles || ['office']);
  } else if (typeof studioResume === 'function' && (await studioResume())) {
    /* a staff token from this browser tab: studio.js showed the studio */
  } else {
    showLogin(null);
  }
}

document.addEventListener('DOMContentLoaded', start);
