/* The office dashboard in a real browser (run by dashboard.sh, which starts kepu-server and
 * passes the kiosk tokens in KK_*). Seeds usage through the real API, then checks what an
 * office user sees: login refused and accepted, overview numbers equal to the seed, every
 * chart drawn, offline kiosks marked, CSV with BOM, an assignment reaching a kiosk's next
 * heartbeat, the English toggle, session expiry and logout. Screenshots of every page in
 * both languages go to KK_SHOTS when set. */
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { openBrowser } = require('./browser.js');

const env = process.env;
const U = env.KK_URL;
const DAY_MS = 86400000;
const CITY_OFFSET_MS = 8 * 3600 * 1000;
const TOKENS = { 'k-0001': env.KK_TK1, 'k-0002': env.KK_TK2, 'k-0003': env.KK_TK3, 'k-0004': env.KK_TK4 };
const NOW = Date.now();

/* --- the seed: sessions per kiosk and day, each with an audience, pages read and answers --- */
const SEED = [
  /* kiosk, days ago, sessions, audience */
  ['k-0001', 0, 3, 'youth'],
  ['k-0001', 2, 2, 'elderly'],
  ['k-0001', 5, 1, 'farmers'],
  ['k-0001', 12, 2, 'workers'],
  ['k-0001', 40, 1, 'officials'],
  ['k-0002', 0, 1, 'farmers'],
  ['k-0002', 20, 1, 'officials'],
  ['k-0003', 3, 2, 'youth'],
];

function id() {
  return crypto.randomBytes(16).toString('hex');
}

function cityDay(ms) {
  return new Date(ms + CITY_OFFSET_MS).toISOString().slice(0, 10);
}

/* Builds every event of the seed and what the dashboard must show for the last 30 days. */
function buildSeed() {
  const events = {};
  const expect = { sessions_1d: 0, sessions_7d: 0, sessions_30d: 0, pages: {}, quiz: {}, blocks: {}, narration: {} };
  let n = 0;
  for (const [kiosk, daysAgo, sessions, audience] of SEED) {
    for (let s = 0; s < sessions; s++, n++) {
      const ts = NOW - daysAgo * DAY_MS - s * 1000;
      const session = crypto.randomBytes(8).toString('hex');
      const base = { kiosk, session, audience, lang: 'zh', pack: 'safety-and-health@2026.11.1' };
      const list = (events[kiosk] = events[kiosk] || []);
      const add = (type, extra, at) => list.push(Object.assign({ id: id(), ts: at || ts, type }, base, extra));
      add('session_start', {});
      add('audience', {});
      /* session n reads pages 0..(n % 3) of "earthquake": some stop early */
      const last = n % 3;
      for (let p = 0; p <= last; p++) add('page_view', { topic: 'earthquake', page: p, dwell_ms: 2000 + 1000 * p + 100 * n });
      if (n % 2 === 0) add('page_view', { topic: 'health-rumours', page: 0, dwell_ms: 5000 });
      const right = audience === 'youth' || n % 2 === 0;
      add('quiz_answer', { topic: 'earthquake', question: 'q1', choice: [right ? 1 : 0], correct: right, ms: 900 });
      /* every third session opens spots of the eye's hotspots (the retina twice); every
       * session of the elderly listens to the narration of page 1 for 40 s */
      const opened = n % 3 === 0 ? ['retina', 'retina', n % 2 ? 'lens' : 'iris'] : [];
      for (const spot of opened) add('interact', { topic: 'earthquake', page: 1, block: 'hotspots', action: 'open', target: spot });
      if (audience === 'elderly') add('audio_play', { topic: 'earthquake', page: 1, ms_heard: 40000 });
      add('session_end', { duration_ms: 60000, reason: 'idle' });
      if (daysAgo < 30) {
        if (opened.length) {
          const b = (expect.blocks.hotspots = expect.blocks.hotspots || { visitors: 0, uses: 0, spots: {} });
          b.visitors++;
          b.uses += opened.length;
          for (const spot of opened) {
            const sp = (b.spots[spot] = b.spots[spot] || { uses: 0, visitors: new Set() });
            sp.uses++;
            sp.visitors.add(session);
          }
        }
        if (audience === 'elderly') {
          const a = (expect.narration[audience] = expect.narration[audience] || { plays: 0, ms: 0 });
          a.plays++;
          a.ms += 40000;
        }
      }
      if (daysAgo === 0) expect.sessions_1d++;
      if (daysAgo < 7) expect.sessions_7d++;
      if (daysAgo < 30) expect.sessions_30d++;
      if (daysAgo < 30) {
        for (let p = 0; p <= last; p++) {
          const k = 'earthquake/' + p;
          const e = (expect.pages[k] = expect.pages[k] || { views: 0, dwell: 0 });
          e.views++;
          e.dwell += 2000 + 1000 * p + 100 * n;
        }
        const q = (expect.quiz[audience] = expect.quiz[audience] || { correct: 0, total: 0 });
        q.total++;
        q.correct += right ? 1 : 0;
      }
    }
  }
  return { events, expect };
}

const { events: EVENTS, expect: EXPECT } = buildSeed();

async function api(method, p, body, token) {
  const r = await fetch(U + p, {
    method,
    headers: Object.assign({ 'Content-Type': 'application/json' }, token ? { Authorization: 'Bearer ' + token } : {}),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}

function heartbeat(kiosk, extra) {
  return api('POST', '/api/v1/heartbeat', Object.assign({ kiosk }, extra || {}), TOKENS[kiosk]);
}

function sql(q) {
  return execFileSync('sqlite3', [env.KK_DB, q], { encoding: 'utf8' }).trim();
}

let context;
let page;
const shots = [];
const pageErrors = [];

async function waitReady(p) {
  await (p || page).waitForSelector('#view[data-ready="1"]', { timeout: 15000 });
}

async function go(name) {
  await page.evaluate((n) => { location.hash = '#/' + n; }, name);
  await page.waitForFunction((n) => document.querySelector('#view').dataset.page === n, name);
  await waitReady();
}

async function shot(name, p) {
  const dir = env.KK_SHOTS || env.KK_TMP;
  const file = path.join(dir, `dashboard-${name}.png`);
  await (p || page).screenshot({ path: file, fullPage: true });
  shots.push(file);
}

async function cells(tableName) {
  return page.$$eval(`table[data-table="${tableName}"] tbody tr`, (rows) =>
    rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
}

async function statValue(key) {
  return page.$eval(`[data-stat="${key}"] .stat-value`, (e) => e.textContent.trim());
}

/* Counts a chart's pixels: all painted ones, and those of its first dataset's colour (so
 * bars or lines were drawn, not only axes). */
async function chartPixels(name) {
  await page.waitForFunction((n) => {
    const c = document.querySelector(`canvas[data-chart="${n}"]`);
    return c && window.Chart && Chart.getChart(c);
  }, name);
  return page.$eval(`canvas[data-chart="${name}"]`, (c) => {
    const chart = Chart.getChart(c);
    let color = chart.data.datasets[0].backgroundColor;
    if (Array.isArray(color)) color = color[0];
    const want = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let painted = 0;
    let inColor = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) continue;
      painted++;
      if (Math.abs(data[i] - want[0]) < 40 && Math.abs(data[i + 1] - want[1]) < 40 && Math.abs(data[i + 2] - want[2]) < 40) inColor++;
    }
    return { painted, inColor, total: c.width * c.height };
  });
}

async function assertChartsDrawn(names) {
  const found = await page.$$eval('canvas[data-chart]', (cs) => cs.map((c) => c.dataset.chart));
  assert.deepEqual(found.sort(), names.slice().sort(), 'charts on the page');
  for (const name of names) {
    const px = await chartPixels(name);
    assert.ok(px.painted > px.total * 0.01, `${name}: canvas is blank (${px.painted} of ${px.total} pixels)`);
    assert.ok(px.inColor > 50, `${name}: no data drawn in the dataset colour (${px.inColor} pixels)`);
  }
}

before(async () => {
  /* seed through the real API with each kiosk's token */
  for (const [kiosk, list] of Object.entries(EVENTS)) {
    for (let i = 0; i < list.length; i += 500) {
      const r = await api('POST', '/api/v1/events', { kiosk, events: list.slice(i, i + 500) }, TOKENS[kiosk]);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.rejected.length, 0, JSON.stringify(r.json.rejected));
    }
  }
  assert.equal((await heartbeat('k-0001', { app_version: '1.4.0', packs: ['safety-and-health@2026.11.1'], queue: 12, dropped: 0 })).status, 200);
  assert.equal((await heartbeat('k-0002', { app_version: '1.3.2', packs: [], queue: 0, dropped: 7, last_error: '下载失败：连接超时' })).status, 200);
  assert.equal((await heartbeat('k-0003', { app_version: '1.4.0', packs: [] })).status, 200);
  /* k-0003's last heartbeat was 20 minutes ago; k-0004 never sent one */
  sql("UPDATE kiosk_status SET seen_ms = seen_ms - 20 * 60000 WHERE kiosk = 'k-0003'");

  /* A fresh profile each run (Playwright passes it to chromium as --user-data-dir). */
  ({ context, page } = await openBrowser(env, { acceptDownloads: true }));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
});

after(async () => {
  if (context) await context.close();
});

test('a wrong password is refused with a clear message, the right one logs in', async () => {
  await page.goto(U + '/');
  await page.waitForSelector('#login-form');
  assert.equal(await page.isVisible('#app'), false);
  await shot('login-zh');
  await page.fill('#login-user', 'alice');
  await page.fill('#login-password', 'wrong-password');
  await page.click('#login-submit');
  await page.waitForSelector('#login-error:not([hidden])');
  assert.match(await page.textContent('#login-error'), /用户名或密码不正确/);
  assert.equal(await page.isVisible('#app'), false);
  await shot('login-refused-zh');
  await page.click('#login [data-lang-toggle]');
  assert.match(await page.textContent('#login-error'), /Wrong user name or password/);
  await shot('login-refused-en');
  await page.click('#login [data-lang-toggle]');
  await page.fill('#login-password', 'secret-pass');
  await page.click('#login-submit');
  await page.waitForSelector('#app:not([hidden])');
  await waitReady();
  assert.equal(await page.textContent('#who-name'), 'alice');
});

test('the overview numbers equal the seeded data', async () => {
  assert.equal(await page.$eval('#view', (v) => v.dataset.page), 'overview');
  assert.equal(await statValue('kiosks'), '4');
  assert.equal(await statValue('online'), '2');
  assert.equal(await statValue('offline'), '2');
  assert.ok(await page.$eval('[data-stat="offline"]', (e) => e.classList.contains('bad')), 'offline highlighted');
  assert.equal(await statValue('sessions_today'), String(EXPECT.sessions_1d));
  assert.equal(await statValue('sessions_7d'), String(EXPECT.sessions_7d));
  assert.equal(await statValue('sessions_30d'), String(EXPECT.sessions_30d));
  /* the events chart holds the same sessions, one bar per day of the range */
  const chartSessions = await page.$eval('canvas[data-chart="events-per-day"]', (c) => {
    const d = Chart.getChart(c).data;
    return { days: d.labels.length, sessions: d.datasets[0].data.reduce((a, b) => a + b, 0) };
  });
  assert.deepEqual(chartSessions, { days: 30, sessions: EXPECT.sessions_30d });
  /* the busiest venue comes first */
  const venues = await cells('busiest-venues');
  assert.equal(venues[0][0], '市科技馆');
  assert.deepEqual((await cells('offline-kiosks')).map((r) => r[0]).sort(), ['k-0003', 'k-0004']);
  await assertChartsDrawn(['events-per-day', 'busiest-venues']);
});

test('kiosks without a recent heartbeat show as offline; the table sorts and filters', async () => {
  await go('venues');
  const rows = await cells('kiosks');
  const status = Object.fromEntries(rows.map((r) => [r[0], r[2]]));
  assert.deepEqual(status, { 'k-0001': '在线', 'k-0002': '在线', 'k-0003': '离线', 'k-0004': '离线' });
  const offlineRows = await page.$$eval('table[data-table="kiosks"] tbody tr.offline', (rs) => rs.map((r) => r.cells[0].textContent));
  assert.deepEqual(offlineRows.sort(), ['k-0003', 'k-0004']);
  const k3 = rows.find((r) => r[0] === 'k-0003');
  assert.match(k3[3], /^2\d 分钟前/);
  assert.match(rows.find((r) => r[0] === 'k-0004')[3], /从未连接/);
  const k2 = rows.find((r) => r[0] === 'k-0002');
  assert.deepEqual([k2[4], k2[7], k2[8]], ['1.3.2', '7', '下载失败：连接超时']);
  /* sort by queued events, largest first */
  await page.click('table[data-table="kiosks"] th[data-key="queue"]');
  await page.click('table[data-table="kiosks"] th[data-key="queue"]');
  assert.equal((await cells('kiosks'))[0][0], 'k-0001');
  /* filter by text and by status */
  await page.fill('input[data-filter="kiosks"]', '农业');
  assert.deepEqual((await cells('kiosks')).map((r) => r[0]), ['k-0002']);
  await page.fill('input[data-filter="kiosks"]', '');
  await page.selectOption('select[data-status-filter]', 'offline');
  assert.deepEqual((await cells('kiosks')).map((r) => r[0]).sort(), ['k-0003', 'k-0004']);
  await page.selectOption('select[data-status-filter]', '');
});

test('content: topic popularity, time per page and where readers stop', async () => {
  await go('content');
  await assertChartsDrawn(['topic-popularity', 'pages', 'narration']);
  const rows = await cells('pages');
  const quake = rows.filter((r) => r[0] === 'earthquake');
  const first = EXPECT.pages['earthquake/0'].views;
  assert.equal(quake.length, 3);
  for (const r of quake) {
    const e = EXPECT.pages['earthquake/' + (Number(r[1]) - 1)];
    const next = EXPECT.pages['earthquake/' + Number(r[1])];
    assert.equal(r[2], String(e.views), 'views of page ' + r[1]);
    assert.equal(r[3], (Math.floor(e.dwell / e.views) / 1000).toFixed(1), 'dwell of page ' + r[1]);
    assert.equal(r[4], ((e.views / first) * 100).toFixed(1) + '%', 'reach of page ' + r[1]);
    assert.equal(r[5], (((e.views - (next ? next.views : 0)) / first) * 100).toFixed(1) + '%', 'exits after page ' + r[1]);
  }
  assert.equal((await cells('topics'))[0][0], 'earthquake');
});

test('content: visitors per interactive block, spots opened, narration heard per group', async () => {
  await go('content');
  const b = EXPECT.blocks.hotspots;
  assert.ok(b && b.visitors > 0, 'the seed uses a block');
  assert.deepEqual(await cells('blocks'), [['earthquake', '2', 'hotspots', String(b.visitors), String(b.uses)]]);
  const spots = (await cells('block-targets')).map((r) => [r[3], r[5], r[6]]);
  const want = Object.entries(b.spots).sort().map(([s, e]) => [s, String(e.uses), String(e.visitors.size)]);
  assert.deepEqual(spots, want);
  const n = EXPECT.narration.elderly;
  assert.deepEqual(await cells('narration'), [['earthquake', '老年朋友', 'zh', String(n.plays), (n.ms / 60000).toFixed(1), '40.0']]);
  await assertChartsDrawn(['topic-popularity', 'pages', 'narration']);
});

test('quizzes: accuracy per audience group and the literacy chart', async () => {
  await go('quizzes');
  await assertChartsDrawn(['literacy', 'accuracy-audience']);
  const names = { youth: '青少年', farmers: '农民朋友', elderly: '老年朋友', workers: '城镇劳动者', officials: '领导干部和公务员' };
  const rows = await cells('quiz-audience');
  const seen = Object.fromEntries(rows.map((r) => [r[0], [r[1], r[2], r[3]]]));
  const want = {};
  for (const [aud, q] of Object.entries(EXPECT.quiz)) {
    want[names[aud]] = [String(q.correct), String(q.total), ((q.correct / q.total) * 100).toFixed(1) + '%'];
  }
  assert.deepEqual(seen, want);
  const groups = await page.$eval('canvas[data-chart="literacy"]', (c) => Chart.getChart(c).data.datasets.map((d) => d.label));
  assert.deepEqual(groups.sort(), Object.keys(EXPECT.quiz).map((a) => names[a]).sort());
});

test('a CSV export starts with the BOM and holds the expected rows', async () => {
  await go('exports');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-csv="pages"]')]);
  const file = await download.path();
  const bytes = fs.readFileSync(file);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const lines = bytes.subarray(3).toString('utf8').split('\r\n').filter(Boolean);
  assert.equal(lines[0], 'topic,page,views,avg_dwell_ms,reach,exit_share');
  const first = EXPECT.pages['earthquake/0'].views;
  for (let p = 0; p < 3; p++) {
    const e = EXPECT.pages['earthquake/' + p];
    const next = EXPECT.pages['earthquake/' + (p + 1)];
    assert.ok(lines.includes(`earthquake,${p},${e.views},${Math.floor(e.dwell / e.views)},${(e.views / first).toFixed(4)},${((e.views - (next ? next.views : 0)) / first).toFixed(4)}`),
      `page ${p} row in ${lines.join(' | ')}`);
  }
  assert.match(download.suggestedFilename(), /^kepu-pages-\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.csv$/);
  const [d2] = await Promise.all([page.waitForEvent('download'), page.click('button[data-csv="overview"]')]);
  const ov = fs.readFileSync(await d2.path()).toString('utf8');
  assert.equal(ov, `\ufeffkiosks,online,offline,sessions_1d,sessions_7d,sessions_30d\r\n4,2,2,${EXPECT.sessions_1d},${EXPECT.sessions_7d},${EXPECT.sessions_30d}\r\n`);
});

async function assign(pack, version, kind, target) {
  await page.fill('#assign-pack', pack);
  await page.fill('#assign-version', version);
  await page.selectOption('#assign-kind', kind);
  await page.selectOption('#assign-target', target);
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/assignments') && r.request().method() === 'POST');
  await page.click('#assign-submit');
  const r = await answer;
  assert.equal(r.status(), 200);
  assert.ok(r.request().headers()['x-csrf-token'], 'CSRF header sent');
  await waitReady();
  await page.waitForSelector('#assign-msg.good');
}

test('changing an assignment changes what that kiosk\'s next heartbeat is told', async () => {
  await go('assignments');
  const packs = await cells('packs');
  assert.deepEqual(packs.map((r) => r[0] + '@' + r[1]).sort(), [`${env.KK_PACK_ID}@${env.KK_PACK_V2}`, `${env.KK_PACK_ID}@${env.KK_PACK_V1}`].sort());
  await assign(env.KK_PACK_ID, env.KK_PACK_V1, 'venue', 'v1');
  let hb = await heartbeat('k-0001', { packs: ['safety-and-health@2026.11.1'] });
  assert.deepEqual(hb.json.packs.map((p) => `${p.id}@${p.version}`), [`${env.KK_PACK_ID}@${env.KK_PACK_V1}`]);
  await assign(env.KK_PACK_ID, env.KK_PACK_V2, 'kiosk', 'k-0001');
  assert.match(await page.textContent('#assign-msg'), new RegExp(`${env.KK_PACK_V2}.*k-0001`));
  hb = await heartbeat('k-0001', { packs: ['safety-and-health@2026.11.1'] });
  assert.deepEqual(hb.json.packs, [{ id: env.KK_PACK_ID, version: env.KK_PACK_V2, manifest_sha256: env.KK_PACK_V2_SHA }]);
  /* the venue's other kiosk keeps the venue's version */
  hb = await heartbeat('k-0003');
  assert.deepEqual(hb.json.packs.map((p) => p.version), [env.KK_PACK_V1]);
  await go('assignments');
  const kiosks = Object.fromEntries((await cells('kiosk-assignments')).map((r) => [r[0], r]));
  assert.equal(kiosks['k-0001'][2], `${env.KK_PACK_ID}@${env.KK_PACK_V2}`);
  assert.equal(kiosks['k-0001'][4], '待更新');
  assert.equal(kiosks['k-0003'][4], '待更新');
  assert.deepEqual((await cells('assignments')).map((r) => r.slice(0, 4).join(' ')),
    [`场馆 v1 ${env.KK_PACK_ID} ${env.KK_PACK_V1}`, `设备 k-0001 ${env.KK_PACK_ID} ${env.KK_PACK_V2}`]);
});

test('dated assignments and rollback from the assignments page (issue 16)', async () => {
  await go('assignments');
  /* a bad range: one line naming the field, nothing stored */
  await page.fill('#assign-pack', env.KK_PACK_ID);
  await page.fill('#assign-version', env.KK_PACK_V2);
  await page.selectOption('#assign-kind', 'venue');
  await page.selectOption('#assign-target', 'v1');
  await page.fill('#assign-starts', '2030-12-16');
  await page.fill('#assign-ends', '2030-12-09');
  await page.click('#assign-submit');
  await page.waitForSelector('#assign-msg.bad');
  assert.equal(await page.textContent('#assign-msg'), '分配失败：ends: must be after starts (2030-12-16)');
  /* v2 for the venue from a Monday to the Monday after */
  await page.fill('#assign-starts', '2030-12-09');
  await page.fill('#assign-ends', '2030-12-16');
  await assign(env.KK_PACK_ID, env.KK_PACK_V2, 'venue', 'v1');
  let hb = await heartbeat('k-0003');
  assert.deepEqual(hb.json.packs.map((p) => p.version), [env.KK_PACK_V1], 'the undated one stays');
  assert.deepEqual(hb.json.scheduled.map((w) => `${w.id}@${w.version} ${w.starts} ${w.ends}`),
    [`${env.KK_PACK_ID}@${env.KK_PACK_V2} 2030-12-09 2030-12-16`]);
  const rows = (await cells('assignments')).map((r) => r.slice(0, 6).join(' '));
  assert.ok(rows.includes(`场馆 v1 ${env.KK_PACK_ID} ${env.KK_PACK_V2} 2030-12-09 2030-12-16`), rows.join(' | '));
  await shot('assignments-dated-zh');
  /* one Roll back per target and pack */
  assert.equal(await page.locator(`button[data-rollback="venue:v1:${env.KK_PACK_ID}"]`).count(), 1);
  /* the kiosk's own assignment rolled back: it follows its venue again */
  await page.click(`button[data-rollback="kiosk:k-0001:${env.KK_PACK_ID}"]`);
  await waitReady();
  await page.waitForSelector('#assign-msg.good');
  assert.match(await page.textContent('#assign-msg'), /已回滚设备 k-0001/);
  hb = await heartbeat('k-0001');
  assert.deepEqual(hb.json.packs.map((p) => p.version), [env.KK_PACK_V1]);
  /* the venue's latest (the dated one) rolled back: removed */
  await page.click(`button[data-rollback="venue:v1:${env.KK_PACK_ID}"]`);
  await waitReady();
  await page.waitForSelector('#assign-msg.good');
  assert.match(await page.textContent('#assign-msg'), new RegExp(`removed ${env.KK_PACK_ID}@${env.KK_PACK_V2} from 2030-12-09 to 2030-12-16`));
  hb = await heartbeat('k-0003');
  assert.deepEqual(hb.json.scheduled, []);
  const audit = JSON.parse(sql("SELECT json_group_array(what || ' ' || target) FROM audit WHERE what LIKE 'assignment.%'"));
  assert.ok(audit.includes('assignment.rollback kiosk:k-0001') && audit.includes('assignment.add venue:v1'), audit.join(' | '));
  /* as before this test, for the tests after it */
  await page.fill('#assign-starts', '');
  await page.fill('#assign-ends', '');
  await assign(env.KK_PACK_ID, env.KK_PACK_V2, 'kiosk', 'k-0001');
});

/* --- running the fleet (issue 17): kiosks, tags, commands, screenshots, notices --- */

test('fleet: every kiosk with its state; a tag is added; restart asks first', async () => {
  /* k-0003 is in its venue's closed hours */
  assert.equal((await heartbeat('k-0003', { state: 'sleeping' })).status, 200);
  await go('fleet');
  const states = await page.$$eval('[data-kiosk]', (cs) => Object.fromEntries(cs.map((c) =>
    [c.dataset.kiosk, c.querySelector('[data-state]').dataset.state])));
  assert.deepEqual(states, { 'k-0001': 'online', 'k-0002': 'online', 'k-0003': 'sleeping', 'k-0004': 'offline' });
  assert.equal(await page.isVisible('#range'), false, 'no date range on the fleet page');
  await page.fill('[data-tag-input="k-0001"]', 'portrait');
  await page.press('[data-tag-input="k-0001"]', 'Enter'); /* the keyboard is enough */
  await page.waitForSelector('#fleet-msg.good');
  await waitReady();
  assert.equal(await page.textContent('[data-tags="k-0001"]'), 'portrait×');
  assert.equal(sql("SELECT group_concat(tag) FROM kiosk_tags WHERE kiosk = 'k-0001'"), 'portrait');
  /* a second tag, then removed with its × button */
  await page.fill('[data-tag-input="k-0001"]', 'children-hall');
  await page.click('[data-tag-add="k-0001"]');
  await page.waitForSelector('[data-tags="k-0001"] button[aria-label="删除标签 children-hall"]');
  await waitReady();
  assert.equal(sql("SELECT group_concat(tag) FROM (SELECT tag FROM kiosk_tags WHERE kiosk = 'k-0001' ORDER BY tag)"), 'children-hall,portrait');
  await page.click('[data-tags="k-0001"] button[aria-label="删除标签 children-hall"]');
  await page.waitForFunction(() => {
    const tags = document.querySelector('#view[data-ready="1"] [data-tags="k-0001"]');
    return tags && tags.textContent === 'portrait×';
  });
  await waitReady();
  assert.equal(sql("SELECT group_concat(tag) FROM kiosk_tags WHERE kiosk = 'k-0001'"), 'portrait');
  /* a restart the user does not confirm sends nothing */
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
  await page.click('[data-command="restart"][data-for="k-0002"]');
  assert.match(asked, /k-0002/);
  assert.equal(sql("SELECT COUNT(*) FROM commands WHERE type = 'restart'"), '0');
  /* revoking a token asks first; confirmed, the kiosk gets 401 and its card says so */
  asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.accept(); });
  await page.click('[data-revoke="k-0004"]');
  await page.waitForSelector('[data-revoked="k-0004"]');
  await waitReady();
  assert.match(asked, /k-0004/);
  assert.equal(sql("SELECT revoked_ms IS NOT NULL FROM kiosks WHERE id = 'k-0004'"), '1');
  assert.equal((await heartbeat('k-0004')).status, 401);
  assert.equal(await page.isVisible('[data-revoke="k-0004"]'), false, 'no revoke button once revoked');
  assert.equal(await page.locator('[data-for="k-0004"]').count(), 0, 'no command buttons for a revoked kiosk');
  assert.match(await page.textContent('[data-no-commands="k-0004"]'), /revoked|停用/);
  assert.equal(await page.locator('[data-for="k-0001"]').count(), 4, 'the others keep their commands');
  assert.equal(await page.isVisible('[data-revoke="k-0001"]'), true);
});

/* Waits for the fleet page redrawn with a command of that type (its name) first in the list. */
async function waitCommandRow(name) {
  await page.waitForFunction((n) => {
    const row = document.querySelector('#view[data-ready="1"] table[data-table="commands"] tbody tr');
    return row && row.cells.length > 2 && row.cells[2].textContent === n;
  }, name);
}

test('fleet: a screenshot command is listed, the kiosk answers, the page shows its picture', async () => {
  await go('fleet');
  assert.match(await page.textContent('[data-kiosk="k-0001"] .shot-box'), /还没有截屏/);
  await page.click('[data-command="screenshot"][data-for="k-0001"]');
  await waitCommandRow('截屏');
  const rows = await cells('commands');
  assert.deepEqual(rows[0].slice(1, 5), ['k-0001', '截屏', 'alice', '等待设备执行']);
  /* the kiosk's next heartbeat gets it; it uploads a real PNG and reports it done */
  const hb = await heartbeat('k-0001');
  const cmd = hb.json.commands.find((c) => c.type === 'screenshot');
  assert.ok(cmd, JSON.stringify(hb.json.commands));
  const png = fs.readFileSync(path.join(env.KK_SOURCE_DIR, 'docs/screenshots/menu-zh-1920x1080.png'));
  const up = await fetch(U + '/api/v1/kiosks/k-0001/screenshot', {
    method: 'POST', headers: { Authorization: 'Bearer ' + TOKENS['k-0001'], 'Content-Type': 'image/png' }, body: png,
  });
  assert.equal(up.status, 200);
  assert.equal((await heartbeat('k-0001', { done: [{ id: cmd.id, ok: true, detail: '1920x1080' }] })).status, 200);
  /* the page looks again by itself while the command waits */
  await page.waitForFunction(() => {
    const img = document.querySelector('img[data-shot="k-0001"]');
    return img && img.complete && img.naturalWidth === 1920;
  }, null, { timeout: 15000 });
  await waitReady();
  assert.match(await page.textContent('[data-shot-time="k-0001"]'), /截屏时间：\d{4}-\d\d-\d\d \d\d:\d\d（刚刚）/);
  assert.deepEqual((await cells('commands'))[0].slice(1, 5), ['k-0001', '截屏', 'alice', '已完成']);
  /* logs: the lines come back folded under the first one */
  await page.click('[data-command="logs"][data-for="k-0002"]');
  await waitCommandRow('取日志');
  assert.match(await page.textContent('#fleet-msg.good'), /k-0002/);
  const logs = (await heartbeat('k-0002')).json.commands.find((c) => c.type === 'logs');
  assert.deepEqual(logs.args, { lines: 200 });
  const lines = Array.from({ length: 30 }, (_, i) => `2026-12-02T10:00:${String(i).padStart(2, '0')} info sync: 第 ${i} 行`).join('\n');
  assert.equal((await heartbeat('k-0002', { done: [{ id: logs.id, ok: true, detail: lines }] })).status, 200);
  await page.waitForSelector('table[data-table="commands"] details', { timeout: 15000 });
  await waitReady();
  assert.equal(await page.textContent('table[data-table="commands"] details pre'), lines);
  assert.equal(await page.isVisible('table[data-table="commands"] details pre'), false, 'folded');
});

test('notices: one for a tag is published and listed; an end before the start keeps the text', async () => {
  await go('notices');
  await page.fill('#notice-zh', '台风预警：今日闭馆');
  await page.fill('#notice-en', 'Typhoon warning: closed today');
  await page.selectOption('#notice-level', 'takeover');
  await page.selectOption('#notice-kind', 'tag');
  await page.fill('#notice-target', 'portrait');
  await page.click('#notice-submit');
  await page.waitForSelector('#notice-msg.good');
  await waitReady();
  const rows = await cells('notices');
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0].slice(0, 4), ['正在显示', '全屏插播', '台风预警：今日闭馆', 'Typhoon warning: closed today']);
  assert.equal(rows[0][6], '标签 portrait');
  /* the tagged kiosk is told, the other one is not */
  assert.deepEqual((await heartbeat('k-0001')).json.notices.map((n) => n.text.zh), ['台风预警：今日闭馆']);
  assert.deepEqual((await heartbeat('k-0002')).json.notices, []);

  await page.fill('#notice-zh', '明天停电检修');
  await page.selectOption('#notice-kind', 'city');
  await page.fill('#notice-from', '2026-12-24T10:00');
  await page.fill('#notice-to', '2026-12-24T09:00');
  await page.click('#notice-submit');
  await page.waitForSelector('#notice-msg.bad');
  assert.match(await page.textContent('#notice-msg'), /^通知未能保存：to: the end \(\d+\) must be after the start \(\d+\)$/);
  assert.equal(await page.inputValue('#notice-zh'), '明天停电检修');
  assert.equal(await page.inputValue('#notice-from'), '2026-12-24T10:00');
  assert.equal(await page.inputValue('#notice-to'), '2026-12-24T09:00');
  assert.equal((await cells('notices')).length, 1);
  assert.equal(sql('SELECT COUNT(*) FROM notices'), '1');
  /* corrected, it is published; then deleted after a confirm, the first one stays */
  await page.fill('#notice-to', '2026-12-24T18:00');
  await page.click('#notice-submit');
  await page.waitForSelector('#notice-msg.good');
  await waitReady();
  assert.equal((await cells('notices')).length, 2);
  assert.equal(await page.inputValue('#notice-zh'), '', 'the form is empty after a notice is published');
  page.once('dialog', (d) => d.accept());
  await page.click(`button[data-delete="${sql("SELECT id FROM notices WHERE text LIKE '%停电%'")}"]`);
  /* the message of the publish is still there: wait for the redraw without the row */
  await page.waitForFunction(() => document.querySelector('#view[data-ready="1"] table[data-table="notices"]') &&
    document.querySelectorAll('#view table[data-table="notices"] tbody tr').length === 1);
  assert.equal(await page.textContent('#notice-msg'), '通知已删除。');
  assert.deepEqual((await cells('notices')).map((r) => r[2]), ['台风预警：今日闭馆']);
  assert.equal(sql("SELECT COUNT(*) FROM audit WHERE what = 'notice.delete' AND who = 'alice'"), '1');
});

test('settings: a venue\'s overlay and opening hours reach its kiosk; a bad value is refused', async () => {
  await go('settings');
  await page.selectOption('#settings-kind', 'venue');
  await waitReady();
  await page.selectOption('#settings-target', 'v1');
  await waitReady();
  await page.fill('#set-idle_timeout_s', '5');
  await page.click('#settings-submit');
  await page.waitForSelector('#settings-msg.bad');
  assert.match(await page.textContent('#settings-msg'), /idle_timeout_s: "?5"? is not allowed/);
  assert.equal(await page.inputValue('#set-idle_timeout_s'), '5');
  await page.fill('#set-idle_timeout_s', '120');
  await page.selectOption('#set-large_text', 'true');
  await page.click('#settings-submit');
  await page.waitForSelector('#settings-msg.good');
  await waitReady();
  assert.equal(await page.inputValue('#set-idle_timeout_s'), '120');
  await page.selectOption('#hours-venue', 'v1');
  await waitReady();
  for (const d of ['mon', 'tue', 'wed', 'thu', 'fri']) await page.fill('#hours-' + d, '09:00-17:00');
  await page.fill('#hours-sat', '09:00-12:00, 13:00-18:00');
  await page.fill('#hours-closed', '2026-12-25');
  await page.click('#hours-submit');
  await page.waitForSelector('#hours-msg.good');
  await waitReady();
  assert.equal(await page.inputValue('#hours-sat'), '09:00-12:00, 13:00-18:00');
  const hb = (await heartbeat('k-0003')).json;
  assert.equal(hb.config.idle_timeout_s, 120);
  assert.equal(hb.config.large_text, true);
  assert.deepEqual(hb.hours.week[5], [['09:00', '12:00'], ['13:00', '18:00']]);
  assert.deepEqual(hb.hours.week[6], []);
  assert.deepEqual(hb.hours.closed, ['2026-12-25']);
  sql("UPDATE kiosk_status SET seen_ms = seen_ms - 20 * 60000 WHERE kiosk = 'k-0003'");
});

test('settings: alert recipients are checked, kept on an error, saved and shown again', async () => {
  await go('settings');
  await page.selectOption('#alerts-venue', '');
  await waitReady();
  await page.fill('#alerts-webhooks', 'ftp://hooks.example.org/x\nhttps://oapi.dingtalk.com/robot/send?access_token=abc dingtalk');
  await page.fill('#alerts-emails', 'duty@example.org, boss@example.org');
  await page.fill('#alerts-digest-hour', '8');
  await page.click('#alerts-submit');
  await page.waitForSelector('#alerts-msg.bad');
  assert.match(await page.textContent('#alerts-msg'), /webhooks\[0\]\.url: expected an http:\/\/ or https:\/\/ address/);
  /* nothing typed is lost on the error */
  assert.equal(await page.inputValue('#alerts-webhooks'), 'ftp://hooks.example.org/x\nhttps://oapi.dingtalk.com/robot/send?access_token=abc dingtalk');
  assert.equal(await page.inputValue('#alerts-emails'), 'duty@example.org, boss@example.org');
  assert.equal(await page.inputValue('#alerts-digest-hour'), '8');
  await page.fill('#alerts-emails', 'duty@example.org, not-an-address');
  await page.fill('#alerts-webhooks', 'https://hooks.example.org/kepu\nhttps://oapi.dingtalk.com/robot/send?access_token=abc dingtalk');
  await page.click('#alerts-submit');
  await page.waitForFunction(() => /emails\[1\]/.test(document.querySelector('#alerts-msg').textContent));
  assert.equal(await page.inputValue('#alerts-emails'), 'duty@example.org, not-an-address');
  await page.fill('#alerts-emails', 'duty@example.org, boss@example.org');
  await page.fill('#alerts-digest-hour', '25');
  await page.click('#alerts-submit');
  await page.waitForFunction(() => /digest_hour/.test(document.querySelector('#alerts-msg').textContent));
  assert.equal(await page.inputValue('#alerts-digest-hour'), '25');
  assert.equal(sql("SELECT COUNT(*) FROM server_kv WHERE key LIKE 'alerts:%'"), '0');
  await page.fill('#alerts-digest-hour', '8');
  await page.click('#alerts-submit');
  await page.waitForSelector('#alerts-msg.good');
  await waitReady();
  assert.equal(await page.inputValue('#alerts-webhooks'), 'https://hooks.example.org/kepu\nhttps://oapi.dingtalk.com/robot/send?access_token=abc dingtalk');
  assert.equal(await page.inputValue('#alerts-digest-hour'), '8');
  const kept = JSON.parse(sql("SELECT value FROM server_kv WHERE key = 'alerts:'"));
  assert.deepEqual(kept.webhooks, [{ url: 'https://hooks.example.org/kepu', format: 'json' },
    { url: 'https://oapi.dingtalk.com/robot/send?access_token=abc', format: 'dingtalk' }]);
  assert.deepEqual(kept.emails, ['duty@example.org', 'boss@example.org']);
  assert.equal(kept.digest_hour, 8);
  /* a venue of its own: starts empty */
  await page.selectOption('#alerts-venue', 'v1');
  await waitReady();
  assert.equal(await page.inputValue('#alerts-webhooks'), '');
  await page.selectOption('#alerts-venue', '');
  await waitReady();
});

test('screenshots of every page in Chinese and English; the English toggle', async () => {
  /* k-0003 is left out of sync on purpose; k-0001 reports what it was told */
  await heartbeat('k-0001', { app_version: '1.4.0', packs: [`${env.KK_PACK_ID}@${env.KK_PACK_V2}`], queue: 12 });
  sql("UPDATE kiosk_status SET seen_ms = seen_ms - 20 * 60000 WHERE kiosk = 'k-0003'");
  const pages = ['overview', 'venues', 'content', 'quizzes', 'assignments', 'exports', 'fleet', 'notices', 'settings'];
  for (const p of pages) {
    await go(p);
    await shot(`${p}-zh`);
  }
  await page.click('#app [data-lang-toggle]');
  await waitReady();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('#nav a[data-page="overview"]'), 'Overview');
  for (const p of pages) {
    await go(p);
    if (p === 'overview') assert.equal(await page.textContent('[data-stat="kiosks"] .stat-label'), 'Kiosks');
    if (p === 'quizzes') assert.ok((await cells('quiz-audience')).some((r) => r[0] === 'Young people'));
    await shot(`${p}-en`);
  }
  /* a tablet, upright: one column, nothing wider than the screen */
  const tp = await context.newPage();
  await tp.setViewportSize({ width: 768, height: 1024 });
  await tp.goto(U + '/#/overview');
  await waitReady(tp);
  assert.ok(await tp.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no sideways scrolling on a tablet');
  assert.equal(await tp.$eval('.grid2', (g) => getComputedStyle(g).gridTemplateColumns.split(' ').length), 1, 'one column on a tablet');
  await shot('overview-tablet-en', tp);
  for (const p of ['fleet', 'notices', 'settings']) {
    await tp.evaluate((n) => { location.hash = '#/' + n; }, p);
    await tp.waitForFunction((n) => document.querySelector('#view').dataset.page === n, p);
    await waitReady(tp);
    assert.ok(await tp.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), p + ': no sideways scrolling on a tablet');
  }
  await tp.close();
  await page.click('#app [data-lang-toggle]');
  await waitReady();
  assert.equal(await page.textContent('#nav a[data-page="overview"]'), '概览');
  for (const f of shots) assert.ok(fs.statSync(f).size > 5000, f + ' looks empty');
});

test('an expired session goes back to the login page; logout ends the session', async () => {
  sql('UPDATE sessions SET expires_ms = 0');
  await page.evaluate(() => { location.hash = '#/venues'; });
  await page.waitForSelector('#login:not([hidden])');
  assert.match(await page.textContent('#login-note'), /登录已过期/);
  await page.fill('#login-user', 'alice');
  await page.fill('#login-password', 'secret-pass');
  await page.click('#login-submit');
  await page.waitForSelector('#app:not([hidden])');
  await waitReady();
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])');
  assert.match(await page.textContent('#login-note'), /已退出登录/);
  const status = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
  assert.equal(status, 401);
  /* the 401s above are expected, so are the 404s of kiosks without a screenshot and the
   * 400s of the refused forms; nothing else may have gone wrong in the page */
  assert.deepEqual(pageErrors.filter((e) => !/401/.test(e) &&
    !/^Failed to load resource: the server responded with a status of 40[04] /.test(e)), []);
});
