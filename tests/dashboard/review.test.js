/* The review page in a real browser (run by review.sh, which starts kepu-server with a
 * signing key and uploads a pack as staff: draft KK_DRAFT in review). The staff member
 * changes a title in both languages first (a request for changes lets them), then office
 * user alice: the inbox count in the menu, the change side by side (Chinese and English,
 * before and after), a request for changes with a comment that the staff inbox shows;
 * after the staff fix, approve and publish from the page: a version signed on the server.
 * Screenshots go to KK_SHOTS when set. */
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { openBrowser } = require('./browser.js');

const env = process.env;
const U = env.KK_URL;
const D = env.KK_DRAFT;
let context;
let page;
const pageErrors = [];

async function api(method, p, body, headers) {
  const h = Object.assign({}, headers || { Authorization: 'Bearer ' + env.KK_TS });
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const r = await fetch(U + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, json: await r.json().catch(() => null) };
}

/* The staff member saves the head revision changed by fn(source). */
async function staffSave(fn) {
  const d = (await api('GET', '/api/v1/drafts/' + D)).json;
  fn(d.source);
  return api('PUT', '/api/v1/drafts/' + D, { base_revision: d.head, note: 'test', source: d.source });
}

async function shot(name) {
  const file = path.join(env.KK_SHOTS || env.KK_TMP, `review-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

async function waitReady() {
  await page.waitForSelector('#view[data-ready="1"]', { timeout: 15000 });
}

/* Opens the review page and waits until it is drawn. */
async function openReview() {
  await page.click('#nav a[data-page="review"]');
  await page.waitForSelector('#view[data-page="review"][data-ready="1"]', { timeout: 15000 });
}

/* Waits for the page drawn again after an action, with its message. */
async function waitFlash() {
  await page.waitForSelector('#view[data-ready="1"] #review-flash.good', { timeout: 15000 });
}

before(async () => {
  /* An office user asks for changes through the API so the staff member may edit. */
  ({ context, page } = await openBrowser(env));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[139]/.test(m.text())) pageErrors.push(m.text()); });
  await page.goto(U + '/');
  await page.waitForSelector('#login-form');
  await page.fill('#login-user', 'alice');
  await page.fill('#login-password', 'secret-pass');
  await page.click('#login-submit');
  await page.waitForSelector('#app:not([hidden])');
  await waitReady();
});

after(async () => {
  if (context) await context.close();
});

test('the inbox count is in the menu and the page lists the staff upload', async () => {
  await page.waitForSelector('#review-count:not([hidden])');
  assert.equal(await page.textContent('#review-count'), '1');
  await openReview();
  assert.ok(await page.$(`[data-draft="${D}"]`), 'the draft is listed: ' + (await page.textContent('#view')));
  assert.match(await page.textContent(`[data-draft="${D}"]`), /待审核/);
  await shot('upload-zh');
});

test('changes requested with a comment reach the staff inbox', async () => {
  await page.fill(`#review-comment-${D}`, '标题请写得更清楚');
  await page.click(`#review-changes-${D}`);
  await waitFlash();
  assert.match(await page.textContent('#review-flash'), /退回修改/);
  assert.equal(await page.$(`[data-draft="${D}"]`), null, 'it left the office list');
  const inbox = (await api('GET', '/api/v1/inbox')).json;
  assert.equal(inbox.count, 1);
  assert.equal(inbox.drafts[0].comments[0].text, '标题请写得更清楚');
  assert.equal(inbox.drafts[0].comments[0].who, 'alice');
});

test('the fix shows side by side in both languages; approve and publish signs a version', async () => {
  const r = await staffSave((s) => { s.pack.title.zh = '健康与安全（新版）'; s.pack.title.en = 'Health and safety, new'; });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal((await api('POST', `/api/v1/drafts/${D}/submit`)).status, 200);
  await page.click('#nav a[data-page="overview"]');
  await page.waitForSelector('#view[data-page="overview"][data-ready="1"]', { timeout: 15000 });
  await openReview();
  const row = await page.$$eval(`[data-draft="${D}"] table.review-diff tbody tr`, (rows) =>
    rows.map((tr) => [...tr.children].map((td) => td.textContent)));
  const title = row.find((r) => r[0] === 'pack.json title');
  assert.ok(title, 'a row for the title: ' + JSON.stringify(row));
  assert.equal(title[2], '健康与安全（新版）');
  assert.equal(title[4], 'Health and safety, new');
  assert.notEqual(title[1], title[2], 'the Chinese before and after differ');
  await shot('diff-zh');
  await page.click('#app [data-lang-toggle]');
  await waitReady();
  assert.match(await page.textContent('#view'), /Chinese \(before\)/);
  await shot('diff-en');
  await page.click('#app [data-lang-toggle]');
  await waitReady();
  await page.click(`#review-approve-${D}`);
  await waitFlash();
  assert.match(await page.textContent('#review-flash'), /已发布 safety-and-health \d{4}\.\d{2}\.1/);
  const d = (await api('GET', '/api/v1/drafts/' + D)).json;
  assert.equal(d.state, 'published');
  assert.equal(d.approved_by, 'alice');
  assert.match(await page.textContent('#view'), /目前没有等待审核的内容/);
  await shot('published-zh');
  assert.deepEqual(pageErrors, []);
});
