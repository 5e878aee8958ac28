/* The users and tokens page (run by users.sh: alice office, bob and carol staff, kiosks
 * k-0001 and k-0002 with tokens KK_TK and KK_TK2, carol's staff token KK_TC, office user
 * dave). Every action is done on the page and
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

test('in English too, and no errors in the page', async () => {
  await page.click('#app [data-lang-toggle]');
  await page.waitForSelector('#view[data-ready="1"]');
  assert.match(await page.textContent('#view'), /Kiosk tokens/);
  await shot('en');
  assert.deepEqual(pageErrors, []);
});
