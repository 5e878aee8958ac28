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

const EQ = 'topics/earthquake.json';

test('a comment on one page survives a failed request and a redraw, then reaches the staff member with its page', async () => {
  const r = await staffSave((s) => {
    s.pack.title.zh = '健康与安全（新版）';
    s.pack.title.en = 'Health and safety, new';
    s.topics[EQ].pages[2].title.zh = '在户外：快到空地';
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal((await api('POST', `/api/v1/drafts/${D}/submit`)).status, 200);
  await page.click('#nav a[data-page="overview"]');
  await page.waitForSelector('#view[data-page="overview"][data-ready="1"]', { timeout: 15000 });
  await openReview();
  const card = `[data-draft="${D}"]`;
  const unit = await page.$(`${card} tr.review-unit[data-unit="earthquake/p2"]`);
  assert.ok(unit, 'the changed page has its group in the diff: ' + (await page.textContent(card)));
  assert.match(await unit.textContent(), /第 3 页/);
  assert.equal(await page.$(`${card} tr.review-unit[data-unit="earthquake/p0"]`), null, 'an unchanged page has none');
  await page.click(`${card} [data-comment-on="earthquake/p2"]`);
  const box = `#review-comments-${D} textarea[data-comment-key="earthquake/p2"]`;
  await page.waitForSelector(box);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.commentKey), 'earthquake/p2', 'the new box has the focus');
  await page.fill(box, '“快到空地”太口语，请改回“到开阔的地方”');
  await page.click(`${card} [data-comment-on="earthquake/p2"]`); /* a second click: the same box */
  assert.equal((await page.$$(`#review-comments-${D} li`)).length, 1);
  await shot('page-comment-zh');

  /* the server refuses once: the typed text stays */
  let refused = 0;
  await page.route('**/api/v1/drafts/*/request-changes', async (route) => {
    refused++;
    await route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"store unavailable"}' });
  });
  await page.click(`#review-changes-${D}`);
  await page.waitForSelector(`#review-msg-${D}.bad`);
  assert.match(await page.textContent(`#review-msg-${D}`), /store unavailable/);
  await page.unroute('**/api/v1/drafts/*/request-changes');
  assert.equal(refused, 1);
  /* the browser logs the refusal we made */
  const logged = pageErrors.findIndex((e) => /status of 503/.test(e));
  if (logged >= 0) pageErrors.splice(logged, 1);
  assert.equal(await page.inputValue(box), '“快到空地”太口语，请改回“到开阔的地方”');
  /* and a redraw (the language switched twice) keeps it too */
  await page.click('#app [data-lang-toggle]');
  await waitReady();
  assert.match(await page.textContent(`${card} tr.review-unit[data-unit="earthquake/p2"]`), /page 3/);
  assert.match(await page.textContent(`${card} [data-comment-on="earthquake/p2"]`), /Comment on this page/);
  assert.equal(await page.inputValue(box), '“快到空地”太口语，请改回“到开阔的地方”');
  await shot('page-comment-en');
  await page.click('#app [data-lang-toggle]');
  await waitReady();
  assert.equal(await page.inputValue(box), '“快到空地”太口语，请改回“到开阔的地方”');
  /* and a reload of the tab */
  await page.reload();
  await page.waitForSelector('#view[data-page="review"][data-ready="1"]', { timeout: 15000 });
  assert.equal(await page.inputValue(box), '“快到空地”太口语，请改回“到开阔的地方”');

  await page.click(`#review-changes-${D}`);
  await waitFlash();
  assert.match(await page.textContent('#review-flash'), /退回修改（1 条意见）/);
  const inbox = (await api('GET', '/api/v1/inbox')).json;
  assert.equal(inbox.count, 1);
  const c = inbox.drafts[0].comments;
  assert.equal(c.length, 1, JSON.stringify(c));
  assert.deepEqual([c[0].topic, c[0].page, c[0].text, c[0].who, c[0].revision],
    ['earthquake', 2, '“快到空地”太口语，请改回“到开阔的地方”', 'alice', 2]);
});

test('the staff member sees the comment at its page in the studio, fixes it and resubmits: it shows as the previous round', async () => {
  const { context: other, page: b } = await openBrowser(env);
  try {
    await b.goto(U + '/');
    await b.waitForSelector('#login:not([hidden])');
    await b.click('#token-login summary');
    await b.fill('#token-input', env.KK_TS);
    await b.click('#token-submit');
    await b.waitForSelector('#view[data-ready="1"]', { timeout: 15000 });
    await b.goto(U + '/#/studio/' + D);
    await b.waitForSelector('#studio-tree .tree-item');
    const item = `#studio-tree .tree-item[data-tree-file="${EQ}"][data-kind="page"][data-index="2"]`;
    assert.equal(await b.textContent(`${item} .comment-mark`), '1 条意见');
    assert.equal(await b.$$eval('#studio-tree .comment-mark', (m) => m.length), 1, 'only that page is marked');
    await b.click(item);
    await b.waitForSelector('#studio-form #studio-comments');
    assert.equal(await b.getAttribute('#studio-comments', 'data-round'), 'current');
    assert.match(await b.textContent('#studio-comments'), /alice 对第 2 版提出/);
    assert.match(await b.textContent('#studio-comments'), /请改回“到开阔的地方”/);
    await b.screenshot({ path: path.join(env.KK_SHOTS || env.KK_TMP, 'review-studio-comment-zh.png'), fullPage: true });
    await b.click(`#studio-tree .tree-item[data-tree-file="${EQ}"][data-kind="page"][data-index="1"]`);
    assert.equal(await b.$('#studio-form #studio-comments'), null, 'another page has no comment box');
    await b.click('.who [data-lang-toggle]');
    await b.waitForSelector('#studio-tree .tree-item');
    await b.click(item);
    assert.equal(await b.textContent(`${item} .comment-mark`), '1 comment(s)');
    assert.match(await b.textContent('#studio-comments'), /Review comments \(alice on revision 2: please change\)/);
    await b.screenshot({ path: path.join(env.KK_SHOTS || env.KK_TMP, 'review-studio-comment-en.png'), fullPage: true });
    await b.click('.who [data-lang-toggle]');
    await b.waitForSelector('#studio-tree .tree-item');
    await b.click(item);
    await b.fill('#studio-form fieldset.langs[data-field="pages[2].title"] [data-lang="zh"]', '在户外：到开阔的地方');
    await b.click('#submit-btn');
    /* the typed text is saved first (revision 3), then submitted */
    await b.waitForFunction(() => /已提交/.test((document.getElementById('save-msg') || {}).textContent || ''), null, { timeout: 15000 });
    assert.match(await b.textContent('#save-msg'), /已提交第 3 版/);
    await b.click(item);
    await b.waitForSelector('#studio-form #studio-comments');
    assert.equal(await b.getAttribute('#studio-comments', 'data-round'), 'previous');
    assert.match(await b.textContent('#studio-comments'), /上一轮审核意见（alice 对第 2 版提出）/);
    assert.ok(await b.$('#submit-btn[hidden]'), 'nothing more to submit while in review');
    await b.screenshot({ path: path.join(env.KK_SHOTS || env.KK_TMP, 'review-studio-previous-zh.png'), fullPage: true });
  } finally {
    await other.close();
  }
  const d = (await api('GET', '/api/v1/drafts/' + D)).json;
  assert.deepEqual([d.state, d.head, d.source.topics[EQ].pages[2].title.zh], ['in_review', 3, '在户外：到开阔的地方']);
});

test('the fix shows side by side in both languages; approve and publish signs a version', async () => {
  await page.click('#nav a[data-page="overview"]');
  await page.waitForSelector('#view[data-page="overview"][data-ready="1"]', { timeout: 15000 });
  await openReview();
  assert.equal(await page.$$eval(`#review-comments-${D} li`, (l) => l.length), 0, 'the sent comment left the boxes');
  assert.match(await page.textContent(`[data-draft="${D}"] .review-last`), /上一轮的 1 条意见（alice，第 2 版）/);
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
