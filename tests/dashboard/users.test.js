/* The users and tokens page (run by users.sh: alice office, bob and carol staff, kiosks
 * k-0001 and k-0002 with tokens KK_TK and KK_TK2, carol's staff token KK_TC, office user
 * dave, office only). Every action is done on the page and
 * then proved through the API: the new password signs in and the old does not, a removed
 * user's token is refused, an old kiosk token is refused and the new one taken, a revoked
 * token is refused. Screenshots go to KK_SHOTS when set. */
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { openBrowser } = require('./browser.js');

const env = process.env;
const U = env.KK_URL;
let context;
let page;
const pageErrors = [];

async function login(user, password) {
  const r = await fetch(U + '/api/v1/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password }) });
  return r.status;
}

/* A staff call with token tok: 200 when the token is taken. */
async function staffCall(tok) {
  return (await fetch(U + '/api/v1/drafts', { headers: { Authorization: 'Bearer ' + tok } })).status;
}

/* An empty event batch from kiosk id with token tok: 200 when the token is taken. */
async function kioskCall(id, tok) {
  const r = await fetch(U + '/api/v1/events', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + tok },
    body: JSON.stringify({ kiosk: id, events: [] }),
  });
  return r.status;
}

async function shot(name) {
  await page.screenshot({ path: path.join(env.KK_SHOTS || env.KK_TMP, `users-${name}.png`), fullPage: true });
}

async function openUsers() {
  await page.click('#nav a[data-page="users"]');
  await page.waitForSelector('#view[data-page="users"][data-ready="1"]', { timeout: 15000 });
}

before(async () => {
  ({ context, page } = await openBrowser(env));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[0139]/.test(m.text())) pageErrors.push(m.text()); });
  page.on('dialog', (d) => d.accept());
  await page.goto(U + '/');
  await page.waitForSelector('#login-form');
  await page.fill('#login-user', 'alice');
  await page.fill('#login-password', 'secret-pass');
  await page.click('#login-submit');
  await page.waitForSelector('#app:not([hidden])');
  await openUsers();
});

after(async () => {
  if (context) await context.close();
});

test('the page lists every user and kiosk; nobody can remove themselves', async () => {
  for (const u of ['alice', 'bob', 'carol', 'dave']) assert.ok(await page.$(`tr[data-user="${u}"]`), u + ' is listed');
  for (const k of ['k-0001', 'k-0002']) assert.ok(await page.$(`tr[data-kiosk="${k}"]`), k + ' is listed');
  assert.equal(await page.$('[data-remove="alice"]'), null, 'alice is offered to remove herself');
  assert.ok(await page.$('[data-remove="bob"]'));
  await shot('zh');
});

test('a new password: a mismatch keeps what was typed; then it signs in and the old one does not', async () => {
  await page.fill('#pw-dave', 'dave-new-pass-2');
  await page.fill('#pw-dave-again', 'dave-new-pass-3');
  await page.click('[data-passwd="dave"] button[type="submit"]');
  await page.waitForSelector('#pw-dave-msg.bad');
  assert.match(await page.textContent('#pw-dave-msg'), /不一样/);
  assert.equal(await page.inputValue('#pw-dave'), 'dave-new-pass-2', 'the form lost what was typed');
  assert.equal(await login('dave', 'dave-pass-1'), 200, 'the old password before the change');
  await page.fill('#pw-dave-again', 'dave-new-pass-2');
  await page.click('[data-passwd="dave"] button[type="submit"]');
  await page.waitForSelector('#pw-dave-msg.good');
  assert.equal(await login('dave', 'dave-new-pass-2'), 200);
  assert.equal(await login('dave', 'dave-pass-1'), 401);
});

test('a removed user is refused', async () => {
  assert.equal(await staffCall(env.KK_TC), 200);
  await page.click('[data-remove="carol"]');
  await page.waitForFunction(() => document.querySelector('#view[data-ready="1"] #users-msg.good') && !document.querySelector('tr[data-user="carol"]'), null, { timeout: 15000 });
  assert.equal(await page.$('tr[data-user="carol"]'), null, 'carol is still listed');
  assert.equal(await staffCall(env.KK_TC), 401);
});

test('a new kiosk token is shown once and replaces the old; a revoked token is refused', async () => {
  assert.equal(await kioskCall('k-0001', env.KK_TK), 200);
  await page.click('[data-rotate="k-0001"]');
  await page.waitForSelector('#token-box:not([hidden]) code[data-token="k-0001"]');
  const tok = await page.textContent('code[data-token="k-0001"]');
  assert.match(tok, /^[0-9a-f]{32,}$/);
  assert.equal(await kioskCall('k-0001', env.KK_TK), 401, 'the old token still works');
  assert.equal(await kioskCall('k-0001', tok), 200, 'the new token is refused');
  await shot('token-zh');

  assert.equal(await kioskCall('k-0002', env.KK_TK2), 200);
  await page.click('[data-revoke="k-0002"]');
  await page.waitForFunction(() => /已停用/.test((document.querySelector('#view[data-ready="1"] tr[data-kiosk="k-0002"]') || {}).textContent || ''), null, { timeout: 15000 });
  assert.match(await page.textContent('#users-msg'), /已停用 k-0002/);
  assert.equal(await kioskCall('k-0002', env.KK_TK2), 401);
});

/* Logs user in on a browser of its own; returns its context and page. */
async function second(user, password) {
  const b = await openBrowser(env);
  b.page.on('pageerror', (e) => pageErrors.push(user + ': ' + String(e)));
  await b.page.goto(U + '/');
  await b.page.waitForSelector('#login-form');
  await b.page.fill('#login-user', user);
  await b.page.fill('#login-password', password);
  await b.page.click('#login-submit');
  await b.page.waitForSelector('#view[data-ready="1"]', { timeout: 15000 });
  return b;
}

const navShown = (p) => p.$$eval('#nav a', (as) => as.filter((a) => !a.hidden).map((a) => a.dataset.page));

test('office without admin: no users page in the menu or by address, no revoke buttons', async () => {
  const { context: c, page: p } = await second('dave', 'dave-new-pass-2');
  try {
    const shown = await navShown(p);
    assert.ok(!shown.includes('users'), 'the users page is in the menu: ' + shown);
    assert.ok(shown.includes('overview') && shown.includes('review'), 'office pages missing: ' + shown);
    await p.goto(U + '/#/users');
    await p.waitForSelector('#view[data-page="overview"][data-ready="1"]', { timeout: 15000 });
    await p.click('#nav a[data-page="fleet"]');
    await p.waitForSelector('#view[data-page="fleet"][data-ready="1"]', { timeout: 15000 });
    assert.ok(await p.$('[data-command="screenshot"]'), 'the fleet page did not load its kiosks');
    assert.equal(await p.$('[data-revoke]'), null, 'a revoke button for an office-only user');
  } finally {
    await c.close();
  }
});

test('roles: dave gains staff (a token shown once that works); a new admin-only user sees only users', async () => {
  await openUsers();
  assert.equal(await page.isChecked('[data-roles="dave"] input[data-role="office"]'), true);
  assert.equal(await page.isChecked('[data-roles="dave"] input[data-role="staff"]'), false);
  assert.equal(await page.isDisabled('[data-roles="alice"] input[data-role="admin"]'), true, 'alice may take admin from herself');
  await page.check('[data-roles="dave"] input[data-role="staff"]');
  await page.click('[data-roles="dave"] button[type="submit"]');
  await page.waitForSelector('#user-token-box:not([hidden]) code[data-user-token="dave"]');
  assert.match(await page.textContent('#roles-dave-msg'), /管理办公室、场馆工作人员/);
  const tok = await page.textContent('code[data-user-token="dave"]');
  assert.equal(await staffCall(tok), 200, 'the new staff token is refused');
  await shot('roles-zh');

  await page.fill('#new-user', 'erin');
  await page.fill('#new-user-pw', 'erin-pass-1');
  await page.fill('#new-user-pw-again', 'erin-pass-1');
  await page.uncheck('#new-user-role-office');
  await page.check('#new-user-role-admin');
  await page.click('#add-user button[type="submit"]');
  await page.waitForSelector('#view[data-ready="1"] tr[data-user="erin"]', { timeout: 15000 });
  assert.match(await page.textContent('#users-msg'), /已新增用户 erin（系统管理员）/);
  assert.equal(await page.isChecked('[data-roles="erin"] input[data-role="admin"]'), true);
  assert.equal(await page.isChecked('[data-roles="erin"] input[data-role="office"]'), false);

  const { context: c, page: p } = await second('erin', 'erin-pass-1');
  try {
    assert.deepEqual(await navShown(p), ['users']);
    assert.ok(await p.$('#view[data-page="users"] tr[data-user="dave"]'), 'erin does not see the users page');
    if (env.KK_SHOTS) await p.screenshot({ path: path.join(env.KK_SHOTS, 'users-admin-only.png'), fullPage: true });
  } finally {
    await c.close();
  }
});

test('in English too, and no errors in the page', async () => {
  await page.click('#app [data-lang-toggle]');
  await page.waitForSelector('#view[data-ready="1"]');
  assert.match(await page.textContent('#view'), /Kiosk tokens/);
  await shot('en');
  assert.deepEqual(pageErrors, []);
});
