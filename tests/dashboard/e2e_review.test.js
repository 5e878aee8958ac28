/* Issue 16's first "Done when", end to end (run by e2e_review.sh): two users in Debian's
 * chromium on the real server, and a real kiosk of their venue.
 *   staff1 edits the earthquake topic's first page in the studio and submits; office1
 *   comments on that page in the review and requests changes; staff1 sees the comment at
 *   that page, fixes the text and resubmits; office1 approves and publishes (signed on the
 *   server); office1 assigns the new version to venue hall from next Monday to the Sunday
 *   after on the assignments page. The kiosk, synced, shows the old version before
 *   Monday, the new one (its screen line's pack version and the changed text on screen)
 *   once its clock is moved into the window, at its attract screen, and the old one again
 *   after the end. Then the new version is assigned undated and office1 clicks Roll back:
 *   the kiosk is back on the old version at its next attract screen. The audit page's
 *   table lists every step with the right person.
 * Each step depends on the one before: the first failure stops the rest. */
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const { openBrowser } = require('./browser.js');

const env = process.env;
const U = env.KK_URL;
const D = env.KK_DRAFT;
const V1 = env.KK_V1;
const EQ = 'topics/earthquake.json';
const PACK = 'safety-and-health';
const FIRST = '【新版】';  /* what staff1 puts first, the office asks to change */
const FIXED = '新版：';    /* what the kiosk shows once the fixed version is live */
const COMMENT = '请去掉方括号，写成“新版：”';
const DAY_MS = 86400000;
const CITY_MS = 8 * 3600000; /* Asia/Shanghai, no summer time */

let office;
let staff;
let kiosk;
let V2 = null;
let failed = null;
const pageErrors = [];

/* --- the kiosk (e2e_kiosk.py) ------------------------------------------------------------ */

function startKiosk() {
  const p = spawn('/usr/bin/python3', [path.join(__dirname, 'e2e_kiosk.py'), env.KK_BUILD_DIR,
    env.KK_KIOSK_CONF, env.KK_KIOSK_STATE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: p.stdout });
  const waiting = [];
  const queued = [];
  lines.on('line', (l) => {
    const j = JSON.parse(l);
    if (waiting.length) waiting.shift()(j);
    else queued.push(j);
  });
  p.on('exit', (code) => {
    queued.push({ error: 'the kiosk driver exited (' + code + ')' });
    while (waiting.length) waiting.shift()(queued.shift());
  });
  const next = () => new Promise((res) => (queued.length ? res(queued.shift()) : waiting.push(res)));
  const send = async (cmd) => {
    p.stdin.write(JSON.stringify(cmd) + '\n');
    const j = await next();
    if (j.error) throw new Error('kiosk: ' + j.error);
    return j;
  };
  return { p, next, send };
}

function versionOf(look) {
  const p = (look.packs || []).find((x) => x.id === PACK);
  return p ? p.version : null;
}

function showsFixed(look) {
  return look.text.some((l) => l.startsWith(FIXED));
}

/* Looks at the kiosk (from its attract screen) until want(look) holds. */
async function kioskUntil(want, what, seconds) {
  const end = Date.now() + (seconds || 60) * 1000;
  let look = null;
  while (Date.now() < end) {
    look = await kiosk.send({ do: 'look' });
    if (want(look)) return look;
    await new Promise((r) => setTimeout(r, 700));
  }
  throw new Error(`${what}: the kiosk shows ${JSON.stringify({ packs: look && look.packs, text: look && look.text.slice(0, 4) })}`);
}

/* --- the browsers ------------------------------------------------------------------------ */

async function shot(p, name) {
  if (env.KK_SHOTS) await p.screenshot({ path: path.join(env.KK_SHOTS, `e2e-${name}.png`), fullPage: true });
}

async function ready(p, pageName) {
  await p.waitForSelector(`#view${pageName ? `[data-page="${pageName}"]` : ''}[data-ready="1"]`, { timeout: 15000 });
}

async function openPage(p, name) {
  await p.click(`#nav a[data-page="${name}"]`);
  await ready(p, name);
}

async function flash(p, sel, re) {
  await p.waitForFunction(([s, src]) => {
    const e = document.querySelector(s);
    return e && new RegExp(src).test(e.textContent);
  }, [sel, re.source], { timeout: 15000 });
  return p.textContent(sel);
}

function watch(p) {
  p.on('pageerror', (e) => pageErrors.push(String(e)));
  p.on('console', (m) => { if (m.type() === 'error' && !/status of 40[139]/.test(m.text())) pageErrors.push(m.text()); });
}

/* The studio's editor of the draft, at the earthquake topic's first page. */
async function staffEditor() {
  await staff.page.goto(U + '/#/studio/' + D);
  await staff.page.reload(); /* the draft as the server has it now */
  await staff.page.waitForSelector('#studio-tree .tree-item');
  await staff.page.click(`#studio-tree .tree-item[data-tree-file="${EQ}"][data-kind="page"][data-index="0"]`);
  await staff.page.waitForSelector('#studio-form fieldset.langs[data-field="pages[0].blocks[0].text"]');
}

const TEXT_ZH = '#studio-form fieldset.langs[data-field="pages[0].blocks[0].text"] [data-lang="zh"]';

async function staffSubmit() {
  await staff.page.click('#submit-btn');
  return flash(staff.page, '#save-msg', /已提交第 \d+ 版/);
}

/* Runs one step unless one before it failed. */
function step(name, fn) {
  test(name, async () => {
    if (failed) throw new Error('not run: "' + failed + '" failed');
    try {
      await fn();
    } catch (e) {
      failed = name;
      throw e;
    }
  });
}

before(async () => {
  kiosk = startKiosk();
  const hello = await kiosk.next();
  assert.equal(hello.ready, true, JSON.stringify(hello));
  office = await openBrowser(env);
  staff = await openBrowser(env);
  watch(office.page);
  watch(staff.page);
  await office.page.goto(U + '/');
  await office.page.waitForSelector('#login-form');
  await office.page.fill('#login-user', 'office1');
  await office.page.fill('#login-password', 'office-pass-1');
  await office.page.click('#login-submit');
  await office.page.waitForSelector('#app:not([hidden])');
  await ready(office.page);
  await staff.page.goto(U + '/');
  await staff.page.waitForSelector('#login:not([hidden])');
  await staff.page.click('#token-login summary');
  await staff.page.fill('#token-input', env.KK_TS);
  await staff.page.click('#token-submit');
  await ready(staff.page);
});

after(async () => {
  if (office) await office.context.close();
  if (staff) await staff.context.close();
  if (kiosk) {
    kiosk.p.stdin.write('{"do":"quit"}\n');
    const bye = await Promise.race([kiosk.next(), new Promise((r) => setTimeout(() => r(null), 20000))]);
    if (failed && bye && bye.log) console.log('--- kiosk log ---\n' + bye.log);
    if (!bye) kiosk.p.kill('SIGKILL');
  }
});

step('the kiosk of venue hall syncs and shows the old version', async () => {
  const look = await kioskUntil((l) => versionOf(l) === V1, 'the old version installed', 60);
  assert.equal(showsFixed(look), false);
  assert.ok(look.text.length > 3, 'the first page has text: ' + JSON.stringify(look));
});

step('staff1 edits the first page of the earthquake topic in the studio and submits', async () => {
  await staffEditor();
  const old = await staff.page.inputValue(TEXT_ZH);
  await staff.page.fill(TEXT_ZH, FIRST + old);
  assert.match(await staffSubmit(), /已提交第 2 版/);
});

step('office1 comments on that page in the review and requests changes', async () => {
  await openPage(office.page, 'review');
  const card = `[data-draft="${D}"]`;
  await office.page.waitForSelector(`${card} [data-comment-on="earthquake/p0"]`);
  await office.page.click(`${card} [data-comment-on="earthquake/p0"]`);
  await office.page.fill(`#review-comments-${D} textarea[data-comment-key="earthquake/p0"]`, COMMENT);
  await shot(office.page, 'review-comment');
  await office.page.click(`#review-changes-${D}`);
  assert.match(await flash(office.page, '#review-flash', /退回修改/), /1 条意见/);
});

step('staff1 sees the comment at that page, fixes the text and resubmits', async () => {
  await staffEditor();
  const item = `#studio-tree .tree-item[data-tree-file="${EQ}"][data-kind="page"][data-index="0"]`;
  assert.equal(await staff.page.textContent(`${item} .comment-mark`), '1 条意见');
  assert.equal(await staff.page.getAttribute('#studio-comments', 'data-round'), 'current');
  assert.match(await staff.page.textContent('#studio-comments'), new RegExp('office1 对第 2 版提出'));
  assert.match(await staff.page.textContent('#studio-comments'), /请去掉方括号/);
  await shot(staff.page, 'studio-comment');
  const text = await staff.page.inputValue(TEXT_ZH);
  assert.ok(text.startsWith(FIRST), text.slice(0, 20));
  await staff.page.fill(TEXT_ZH, FIXED + text.slice(FIRST.length));
  assert.match(await staffSubmit(), /已提交第 3 版/);
  assert.equal(await staff.page.getAttribute('#studio-comments', 'data-round'), 'previous');
});

step('office1 approves and publishes: a new version signed on the server', async () => {
  await openPage(office.page, 'overview');
  await openPage(office.page, 'review');
  const diff = await office.page.textContent(`[data-draft="${D}"] table.review-diff`);
  assert.ok(diff.includes(FIXED), 'the diff shows the fix');
  await office.page.click(`#review-approve-${D}`);
  const said = await flash(office.page, '#review-flash', /已发布/);
  V2 = (said.match(new RegExp(PACK + ' (\\d{4}\\.\\d{2}\\.\\d+)')) || [])[1];
  assert.ok(V2 && V2 !== V1, 'a new version: ' + said);
});

/* Next Monday in the city's calendar, and the Monday after it (the first day back). */
function dates() {
  const today = new Date(Date.now() + CITY_MS);
  const days = 7 - ((today.getUTCDay() + 6) % 7);
  const monday = new Date(Date.parse(today.toISOString().slice(0, 10)) + days * DAY_MS).toISOString().slice(0, 10);
  const back = new Date(Date.parse(monday) + 7 * DAY_MS).toISOString().slice(0, 10);
  return { monday, back, startMs: Date.parse(monday + 'T00:00:00+08:00'), endMs: Date.parse(back + 'T00:00:00+08:00') };
}

async function assign(version, starts, ends) {
  await openPage(office.page, 'assignments');
  await office.page.fill('#assign-pack', PACK);
  await office.page.fill('#assign-version', version);
  await office.page.selectOption('#assign-kind', 'venue');
  await office.page.selectOption('#assign-target', 'hall');
  if (starts) await office.page.fill('#assign-starts', starts);
  if (ends) await office.page.fill('#assign-ends', ends);
  await office.page.click('#assign-submit');
  return flash(office.page, '#assign-msg.good', new RegExp(version.replace(/\./g, '\\.')));
}

step('office1 assigns it to venue hall from next Monday to the Sunday after', async () => {
  const w = dates();
  const said = await assign(V2, w.monday, w.back);
  assert.match(said, new RegExp(`${w.monday} 起，${w.back} 起恢复原版本`));
  await shot(office.page, 'assignments');
});

step('the kiosk: the old version before Monday, the new one in the window, the old one after', async () => {
  /* synced: the new version is fetched ahead of its start, not shown */
  const end = Date.now() + 60000;
  let files = null;
  while (Date.now() < end) {
    files = await kiosk.send({ do: 'files' });
    if (files.prefetch.includes(`${PACK}@${V2}`)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(files.prefetch.includes(`${PACK}@${V2}`), 'the kiosk fetched the new version ahead: ' + JSON.stringify(files));
  let look = await kiosk.send({ do: 'look' });
  assert.equal(versionOf(look), V1, 'before Monday: the old version');
  assert.equal(showsFixed(look), false);
  const w = dates();
  await kiosk.send({ do: 'advance', ms: w.startMs - Date.now() + 3600000 }); /* Monday, 01:00 */
  look = await kioskUntil((l) => versionOf(l) === V2 && showsFixed(l), 'in the window', 40);
  assert.equal(look.scene, 'attract');
  if (env.KK_SHOTS) await kiosk.send({ do: 'look', shot: path.join(env.KK_SHOTS, 'e2e-kiosk-new-version.png') });
  await kiosk.send({ do: 'advance', ms: w.endMs - w.startMs }); /* the Monday after, 01:00 */
  look = await kioskUntil((l) => versionOf(l) === V1 && !showsFixed(l), 'after the end', 40);
});

step('assigned undated, then Roll back on the assignments page: the kiosk returns to the old version', async () => {
  await assign(V2, null, null);
  await kioskUntil((l) => versionOf(l) === V2 && showsFixed(l), 'the new version undated', 60);
  const btn = `[data-rollback="venue:hall:${PACK}"]`;
  await office.page.waitForSelector(btn);
  await office.page.click(btn);
  await flash(office.page, '#assign-msg.good', /已回滚/);
  await shot(office.page, 'rollback');
  await kioskUntil((l) => versionOf(l) === V1 && !showsFixed(l), 'after the rollback', 60);
});

step('the audit page lists each step with the right person', async () => {
  await openPage(office.page, 'audit');
  const rows = await office.page.$$eval('table[data-table="audit"] tbody tr', (trs) =>
    trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  /* columns: when, who, what, on, venue, pack, detail */
  const want = [
    ['staff1', 'draft.submit', 'revision 2'],
    ['office1', 'draft.request_changes', '1 comment(s)'],
    ['staff1', 'draft.submit', 'revision 3'],
    ['office1', 'draft.approve', 'revision 3'],
    ['office1', 'draft.publish', `${PACK}@${V2}`],
    ['office1', 'assignment.add', V2],
    ['office1', 'assignment.add', V2],
    ['office1', 'assignment.rollback', PACK],
  ];
  let at = 0;
  for (const r of rows) {
    const [who, what, detail] = want[at] || [];
    if (at < want.length && r[1] === who && r[2] === what && (r.join(' ').includes(detail))) at++;
  }
  assert.equal(at, want.length, `the audit table has the steps in order up to ${JSON.stringify(want[at])}: ` +
    JSON.stringify(rows.map((r) => [r[1], r[2], r[3], r[6]])));
  for (const r of rows.filter((x) => x[2].startsWith('draft.') && x[2] !== 'draft.import')) {
    assert.ok(r[1] === 'staff1' || r[1] === 'office1', 'every draft step by one of the two: ' + r.join(' | '));
  }
  await shot(office.page, 'audit');
  assert.deepEqual(pageErrors, []);
});
