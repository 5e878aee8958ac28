/* The content studio in a real browser (run by studio.sh, which starts kepu-server and
 * passes the tokens in KK_*). Tried as a new staff user would: sign in with the token,
 * import a sample pack, add a topic with two pages (text, a picture cropped in the
 * browser, a fact box) and a three-question quiz in both languages, see validation
 * messages while a required field is empty, preview every page in both orientations
 * (when the server has the preview worker), save, restore an earlier revision, export;
 * kepu-pack validate and build accept the export and the real kiosk shows the new topic.
 * Then two sessions on one draft: the second save gets the conflict view and both
 * people's text survives; a reload keeps unsaved text; bad pictures and another venue's
 * staff get clear messages. Screenshots of every studio page go to KK_SHOTS when set. */
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { openBrowser } = require('./browser.js');

const env = process.env;
const U = env.KK_URL;
const NEW = 'topics/topic-1.json'; /* the file the studio gives the first new topic */
let context;
let page;
let draft = null;
let previews = false;
const pageErrors = [];

async function api(method, p, body, token) {
  const headers = { Authorization: 'Bearer ' + (token || env.KK_TS) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(U + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const buf = Buffer.from(await r.arrayBuffer());
  let json = null;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    /* not JSON */
  }
  return { status: r.status, json, buf };
}

/* A PNG's size from its IHDR chunk. */
function pngSize(buf) {
  assert.equal(buf.slice(1, 4).toString('latin1'), 'PNG', 'a PNG');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

async function waitReady(p) {
  await (p || page).waitForSelector('#view[data-ready="1"]', { timeout: 15000 });
}

/* Waits until the editor's check of the latest change has answered. */
async function waitChecked(p) {
  await (p || page).waitForFunction(() => {
    const e = document.getElementById('studio-editor');
    return e && e.dataset.pending === '';
  }, null, { timeout: 15000 });
}

async function shot(name, p) {
  if (!env.KK_SHOTS) return;
  if (await (p || page).$('#studio-editor')) await waitChecked(p); /* the messages as they settle */
  await (p || page).screenshot({ path: path.join(env.KK_SHOTS, `studio-${name}.png`), fullPage: true });
}

async function signIn(p, token) {
  await p.goto(U + '/');
  await p.waitForSelector('#login:not([hidden])');
  await p.click('#token-login summary');
  await p.fill('#token-input', token);
  await p.click('#token-submit');
  await waitReady(p);
}

function lang(field, l) {
  return `#studio-form fieldset.langs[data-field="${field}"] [data-lang="${l}"]`;
}

async function fillLang(field, zh, en, p) {
  await (p || page).fill(lang(field, 'zh'), zh);
  if (en !== undefined) await (p || page).fill(lang(field, 'en'), en);
}

async function tree(kind, index, file, p) {
  await (p || page).click(`#studio-tree .tree-item[data-tree-file="${file || NEW}"][data-kind="${kind}"][data-index="${index}"]`);
}

/* Uploads a picture through the crop dialog of the field at fieldPath. */
async function uploadPicture(fieldPath, file, shape, shotName) {
  await page.click(`#studio-form [data-upload="${fieldPath}"]`);
  await page.waitForSelector('#crop-dialog[open]');
  await page.setInputFiles('#crop-file', file);
  if (shape) await page.selectOption('#crop-shape', shape);
  await page.waitForSelector('#crop-ok:not([disabled])');
  await page.$eval('#crop-zoom', (z) => {
    z.value = '60';
    z.dispatchEvent(new Event('input'));
  });
  await page.focus('#crop-canvas');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  if (shotName) await shot(shotName);
  await page.click('#crop-ok');
  await page.waitForSelector('#crop-dialog', { state: 'detached' });
}

before(async () => {
  ({ context, page } = await openBrowser(env, { acceptDownloads: true }));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  if (context) await context.close();
});

/* A photo-like PNG drawn by the browser itself (no picture files in the repository). */
async function makePhoto(w, h, hue) {
  const b64 = await page.evaluate(([w, h, hue]) => {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, w, h);
    grad.addColorStop(0, `hsl(${hue},70%,70%)`);
    grad.addColorStop(1, `hsl(${hue + 60},60%,35%)`);
    g.fillStyle = grad;
    g.fillRect(0, 0, w, h);
    g.fillStyle = '#fff';
    g.beginPath();
    g.arc(w * 0.6, h * 0.45, h * 0.25, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = '#c0392b';
    g.fillRect(w * 0.2, h * 0.55, w * 0.2, h * 0.3);
    return c.toDataURL('image/png').split(',')[1];
  }, [w, h, hue]);
  return Buffer.from(b64, 'base64');
}

test('a new staff user: import, write a topic with pictures and a quiz, check, preview, save, restore, export', async () => {
  await signIn(page, env.KK_TS);
  /* staff see the studio alone */
  const nav = await page.$$eval('#nav a:not([hidden])', (as) => as.map((a) => a.dataset.page));
  assert.deepEqual(nav, ['studio']);
  assert.equal(await page.textContent('#who-name'), '工作人员');
  await page.waitForSelector('text=还没有草稿');
  await shot('list-empty');

  /* import the sample pack */
  await page.setInputFiles('#import-file', env.KK_IMPORT);
  await page.click('#import-submit');
  await page.waitForFunction(() => /^#\/studio\/d[0-9a-f]+$/.test(location.hash));
  await waitReady();
  draft = (await page.evaluate(() => location.hash)).split('/')[2];
  await page.waitForSelector('#save-msg:has-text("已导入 farming-and-land")');
  await waitChecked();
  assert.match(await page.textContent('#problems-summary'), /检查结果/);
  assert.equal(await page.$$eval('.problems li.error', (l) => l.length), 0, 'the sample pack has no errors');
  assert.match(await page.textContent('#studio-title'), /农业与土地 · 第 1 版/);
  await shot('editor-pack');

  /* the server draws previews (the preview worker, POST …/preview): a picture, not an error */
  const probe = await api('POST', `/api/v1/drafts/${draft}/preview`, { topic: 'soil-and-water', page: 1, size: '640x360' });
  previews = !(probe.status === 404 && !probe.json);
  assert.equal(probe.status, 200, 'the server draws a preview');

  /* a new topic, in both languages */
  await page.click('#add-topic');
  await page.waitForSelector('#form-title:has-text("主题信息")');
  await waitChecked();
  /* new and empty: its required texts are named next to their fields */
  assert.match(await page.textContent(`.field-msgs[data-file="${NEW}"][data-field="title.zh"]`), /is empty \(every text needs Chinese\)/);
  assert.ok(await page.$(`.tree-item[data-tree-file="${NEW}"][data-kind="topic"] .badge.error`), 'the tree counts the errors');
  await shot('topic-new-errors');
  const idBox = await page.$('#studio-form .field:has(label:text("编号")) input');
  await idBox.fill('home-fire');
  await fillLang('title', '家庭防火', 'Fire safety at home');
  await fillLang('summary', '家里起火怎么办？怎样预防火灾？三分钟学会家庭防火的要点。', 'What to do if a fire starts at home, and how to prevent one: the essentials in three minutes.');
  await page.click('#studio-form [data-add="references"]');
  await page.fill('#studio-form [data-row="0"] input', '应急管理部消防救援局：家庭防火安全提示（www.119.gov.cn）');
  const cover = await makePhoto(1600, 1000, 200);
  await uploadPicture('cover', { name: 'cover photo.png', mimeType: 'image/png', buffer: cover }, 'cover', 'crop-dialog');
  await page.waitForSelector('[data-picture="cover"] img.thumb:not([hidden])');
  const coverPath = await page.$eval('[data-picture="cover"] select', (s) => s.value);
  assert.match(coverPath, /^images\/cover-photo-[0-9a-z]+\.png$/);
  await page.check('#studio-form .audiences input[value="elderly"]');
  await page.check('#studio-form .audiences input[value="other"]');
  await waitChecked();
  assert.equal(await page.textContent(`.field-msgs[data-file="${NEW}"][data-field="title.zh"]`), '', 'the message goes once the field is filled');
  await shot('topic');

  /* page 1: text and a cropped picture */
  await tree('page', '0');
  await fillLang('pages[0].title', '起火了，先逃生', 'If a fire starts, get out first');
  /* "English missing" shows at once for a Chinese text without English */
  await page.fill(lang('pages[0].blocks[0].text', 'zh'), '发现起火，要先想到逃生，而不是救东西。用湿毛巾捂住口鼻，弯腰低姿沿着墙走，走安全出口和楼梯，千万不要乘电梯。逃出去以后立刻拨打119报警，说清楚地址和起火的东西。');
  assert.equal(await page.textContent('#studio-form fieldset.langs[data-field="pages[0].blocks[0].text"] .mark'), '缺少英文');
  await page.fill(lang('pages[0].blocks[0].text', 'en'), 'When a fire starts, think of getting out, not of saving things. Cover your mouth and nose with a wet towel, stay low along the wall, use the exits and stairs, never the lift. Once outside, call 119 at once and say the address and what is burning.');
  assert.equal(await page.textContent('#studio-form fieldset.langs[data-field="pages[0].blocks[0].text"] .mark'), '');
  await page.selectOption('#add-block-type', 'image');
  await page.click('#add-block');
  await page.waitForSelector('#block-0-1[data-type="image"]');
  const photo = await makePhoto(1400, 1100, 20);
  await uploadPicture('pages[0].blocks[1].src', { name: 'escape.png', mimeType: 'image/png', buffer: photo }, 'page');
  await fillLang('pages[0].blocks[1].caption', '弯腰低姿，捂住口鼻。', 'Stay low and cover your mouth and nose.');
  const pic = await page.$eval('[data-picture="pages[0].blocks[1].src"] select', (s) => s.value);

  /* validation as you type: a required field emptied, then filled again */
  await waitChecked();
  await page.fill(lang('pages[0].title', 'zh'), '');
  await waitChecked();
  const msgBox = '.field-msgs[data-field="pages[0].title.zh"]';
  assert.match(await page.textContent(msgBox), /is empty \(every text needs Chinese\)/);
  assert.equal(await page.getAttribute(lang('pages[0].title', 'zh'), 'aria-invalid'), 'true');
  const describedBy = await page.getAttribute(lang('pages[0].title', 'zh'), 'aria-describedby');
  assert.equal(await page.$eval(`#${describedBy.split(' ')[0]}`, (e) => e.dataset.field), 'pages[0].title.zh', 'the message is tied to its field for screen readers');
  await shot('validation');
  await page.fill(lang('pages[0].title', 'zh'), '起火了，先逃生');
  await waitChecked();
  assert.equal(await page.textContent(msgBox), '');
  assert.equal(await page.textContent('#studio-form fieldset.langs[data-field="pages[0].title"] .mark'), '', 'the same Chinese again is no change');

  /* page 2: text and a fact box */
  await page.click(`[data-add-page="${NEW}"]`);
  await fillLang('pages[1].title', '家庭防火三件事', 'Three things for a safe home');
  await fillLang('pages[1].blocks[0].text', '家里要装烟雾报警器并定期试一试；电动自行车不要在楼道和家里充电；出门和睡觉前关掉燃气阀门，检查电器插头。', 'Fit a smoke alarm and test it regularly; never charge an e-bike in the stairwell or at home; turn off the gas and check the plugs before going out or to bed.');
  await page.selectOption('#add-block-type', 'fact');
  await page.click('#add-block');
  await fillLang('pages[1].blocks[1].text', '火灾中，大多数遇难者是被烟气熏倒的，而不是被火烧伤的。', 'Most people who die in fires are overcome by smoke, not burned.');
  /* reorder by buttons: the fact box up, then back down */
  await page.click('#block-1-1 [data-move="up"]');
  assert.equal(await page.getAttribute('#block-1-0', 'data-type'), 'fact');
  await page.click('#block-1-0 [data-move="down"]');
  assert.equal(await page.getAttribute('#block-1-1', 'data-type'), 'fact');
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.dataset.move), 'up', 'focus follows the moved block');
  await shot('page');

  /* the quiz: three questions */
  await tree('quiz', '');
  const questions = [
    ['single', '家里起火时，下面哪种做法是对的？', 'A fire starts at home. What should you do?',
      [['乘电梯赶快下楼', 'Take the lift down'], ['弯腰低姿，走楼梯逃生', 'Stay low and take the stairs'], ['先回去拿贵重物品', 'Go back for valuables']], [1],
      '电梯可能断电或灌进烟气，楼梯是安全的逃生路线。', 'A lift may lose power or fill with smoke; the stairs are the safe way out.'],
    ['multi', '哪些做法能预防家庭火灾？', 'Which of these help prevent fires at home?',
      [['安装烟雾报警器', 'Fit a smoke alarm'], ['在楼道给电动车充电', 'Charge the e-bike in the stairwell'], ['睡前关燃气阀', 'Turn off the gas before bed']], [0, 2],
      '报警器能早发现，关燃气能防泄漏；楼道充电容易起火，还会堵住逃生路。', 'An alarm warns early and closing the gas stops leaks; charging in the stairwell starts fires and blocks the way out.'],
    ['truefalse', '火灾中大多数遇难者是被烟气熏倒的。', 'Most people who die in fires are overcome by smoke.', null, [0],
      '烟气里有毒气体，几口就能让人昏倒，所以要捂住口鼻、弯腰低姿。', 'Smoke is full of toxic gases that can knock you out in a few breaths, so cover your mouth and stay low.'],
  ];
  for (let qi = 0; qi < questions.length; qi++) {
    const [type, zh, en, choices, answer, exZh, exEn] = questions[qi];
    await tree('quiz', '');
    await page.selectOption('#add-question-type', type);
    await page.click('#add-question');
    const qp = `quiz.questions[${qi}]`;
    await fillLang(`${qp}.prompt`, zh, en);
    if (choices) {
      for (let c = 0; c < choices.length; c++) await fillLang(`${qp}.choices[${c}].text`, choices[c][0], choices[c][1]);
      for (const a of [0, 1, 2]) {
        const box = `#studio-form input[data-answer="${a}"]`;
        if (answer.includes(a)) await page.check(box);
        else if (type === 'multi') await page.uncheck(box);
      }
    } else {
      await page.check('#studio-form fieldset.answer input[type="radio"] >> nth=0');
    }
    await fillLang(`${qp}.explain`, exZh, exEn);
    await page.selectOption('#studio-form .field:has(label:text("哪一页讲到这道题")) select', qi === 0 ? '0' : '1');
  }
  /* reorder choices by buttons: the right answer moves with its choice */
  await tree('question', '0');
  await page.click('#studio-form [data-row="1"] [data-move="up"]');
  assert.equal(await page.inputValue(lang('quiz.questions[0].choices[0].text', 'zh')), '弯腰低姿，走楼梯逃生');
  assert.ok(await page.isChecked('#studio-form input[data-answer="0"]'), 'the answer follows its choice');
  await page.click('#studio-form [data-row="0"] [data-move="down"]');
  assert.ok(await page.isChecked('#studio-form input[data-answer="1"]'));
  await waitChecked();
  await shot('question');
  const errors = await page.$$eval('.problems li.error', (l) => l.map((e) => e.textContent));
  assert.deepEqual(errors, [], 'the finished draft has no errors');

  /* save with a note */
  await page.fill('#save-note', '新增家庭防火主题');
  await page.click('#save-btn');
  await page.waitForSelector('#save-msg:has-text("已保存为第 2 版")');
  assert.equal(await page.getAttribute('#save-status', 'data-state'), 'saved');
  const saved = await api('GET', `/api/v1/drafts/${draft}`);
  const topic = saved.json.source.topics[NEW];
  assert.equal(topic.id, 'home-fire');
  assert.equal(topic.pages.length, 2);
  assert.deepEqual(topic.pages[1].blocks.map((b) => b.type), ['text', 'fact']);
  assert.deepEqual(topic.quiz.questions.map((q) => [q.type, q.answer, q.page]), [['single', [1], 0], ['multi', [0, 2], 1], ['truefalse', [0], 1]]);
  assert.ok(saved.json.source.pack.topics.includes(NEW));
  assert.equal(topic.cover, coverPath);
  assert.equal(topic.pages[0].blocks[1].src, pic);
  const coverFile = await api('GET', `/api/v1/drafts/${draft}/files?path=${encodeURIComponent(coverPath)}`);
  assert.equal(coverFile.status, 200);
  assert.deepEqual(pngSize(coverFile.buf), [1200, 900], 'the cover is cropped to the cover shape');
  const picFile = await api('GET', `/api/v1/drafts/${draft}/files?path=${encodeURIComponent(pic)}`);
  assert.deepEqual(pngSize(picFile.buf), [1600, 1200], 'the page picture is cropped to the page shape');

  /* "Chinese changed since the English was written" after the Chinese alone changes */
  await tree('page', '1');
  await page.fill(lang('pages[1].title', 'zh'), '家庭防火三件要紧事');
  assert.equal(await page.textContent('#studio-form fieldset.langs[data-field="pages[1].title"] .mark'), '中文已修改，英文可能需要更新');
  await page.fill(lang('pages[1].title', 'en'), 'Three things that keep a home safe');
  assert.equal(await page.textContent('#studio-form fieldset.langs[data-field="pages[1].title"] .mark'), '');

  /* previews of every page, landscape and portrait (this saves the change first) */
  if (previews) {
    for (const p of ['0', '1']) {
      await tree('page', p);
      await page.click('#preview-btn');
      await page.waitForSelector('#previews img[data-orient="portrait"]', { timeout: 30000 });
      const sizes = await page.$$eval('#previews img', (imgs) => imgs.map((i) => [i.dataset.orient, i.naturalWidth, i.naturalHeight]));
      assert.deepEqual(sizes, [['landscape', 1920, 1080], ['portrait', 1080, 1920]]);
      if (p === '0') await shot('preview');
    }
    await tree('question', '0');
    await page.click('#preview-btn');
    await page.waitForSelector('#previews img[data-orient="portrait"]', { timeout: 30000 });
  } else {
    await page.fill('#save-note', '改标题');
    await page.click('#save-btn');
    await page.waitForSelector('#save-msg:has-text("已保存为第 3 版")');
    /* the preview button says so instead of failing silently */
    await tree('page', '0');
    await page.click('#preview-btn');
    await page.waitForSelector('#preview-msg:has-text("此服务器没有提供预览")');
    test.diagnostic?.('no preview worker in this build: the preview part was not run');
  }
  const head = (await api('GET', `/api/v1/drafts/${draft}`)).json.head;

  /* history: the difference, then restore revision 1 (the new topic goes), then the latest
   * again (it comes back) */
  await page.click('#history-link');
  await waitReady();
  const revs = await page.$$eval('table[data-table="revisions"] tbody tr', (rows) => rows.map((r) => r.cells[3].textContent));
  assert.ok(revs.includes('新增家庭防火主题'), 'the note is in the history');
  await page.selectOption('#diff-from', '1');
  await page.selectOption('#diff-to', '2');
  await page.click('#diff-btn');
  await page.waitForSelector('#diff-box[data-from="1"][data-to="2"] table[data-table="diff"]');
  const diff = await page.textContent('table[data-table="diff"]');
  assert.match(diff, /家庭防火/);
  assert.match(diff, /第 1 页 · 标题 · 中文/);
  await shot('history');
  await page.click('[data-restore="1"]');
  await page.click('[data-restore-sure="1"]');
  await waitReady();
  await page.waitForSelector(`#save-msg:has-text("已恢复第 1 版，保存为第 ${head + 1} 版")`);
  assert.equal(await page.$(`.tree-item[data-tree-file="${NEW}"]`), null, 'revision 1 has no new topic');
  await page.click('#history-link');
  await waitReady();
  await page.click(`[data-restore="${head}"]`);
  await page.click(`[data-restore-sure="${head}"]`);
  await waitReady();
  await page.waitForSelector(`.tree-item[data-tree-file="${NEW}"]`);

  /* export; the command line takes it unchanged; a real kiosk shows the new topic */
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-btn')]);
  const tgz = path.join(env.KK_TMP, 'export.tar.gz');
  await dl.saveAs(tgz);
  assert.match(dl.suggestedFilename(), /^farming-and-land-r\d+\.tar\.gz$/);
  const out = fs.mkdtempSync(path.join(env.KK_TMP, 'export-'));
  execFileSync('tar', ['-xzf', tgz, '-C', out]);
  const src = path.join(out, 'farming-and-land');
  execFileSync(env.KK_PACK, ['validate', src], { stdio: 'pipe' });
  const built = path.join(env.KK_TMP, 'content', 'farming-and-land');
  fs.mkdirSync(path.dirname(built), { recursive: true });
  execFileSync(env.KK_PACK, ['build', src, '-o', built, '--key', env.KK_KEY], { stdio: 'pipe' });
  const seen = execFileSync('/usr/bin/python3', ['-c', `
import sys
sys.path.insert(0, sys.argv[1])
from kiosk import Kiosk
k = Kiosk(sys.argv[2], sys.argv[3])
try:
    k.tap_id("start")
    k.tap_id("audience/other")
    seen = set()
    for _ in range(10):
        seen.update(k.ids("topic/"))
        if k.target("topic/home-fire"):
            k.tap_id("topic/home-fire")
            print("opened", k.screen["scene"])
            break
        if not k.target("menu/next"):
            break
        k.tap_id("menu/next")
    print(" ".join(sorted(seen)))
finally:
    k.quit()
`, path.join(env.KK_SOURCE_DIR, 'tests/support'), env.KK_BUILD_DIR, path.dirname(built)], { encoding: 'utf8' });
  assert.match(seen, /topic\/home-fire/, 'the kiosk menu shows the new topic: ' + seen);
  assert.match(seen, /opened reader/, 'and opens it');
  assert.deepEqual(pageErrors, []);
});

test('two sessions on one draft: the second save gets the conflict view, both texts survive, a reload keeps unsaved text', async () => {
  assert.ok(draft, 'the first test made a draft');
  /* B is the office user alice with a login cookie, in a second browser */
  const { context: other, page: b } = await openBrowser(env);
  try {
    const bErrors = [];
    b.on('pageerror', (e) => bErrors.push(String(e)));
    await b.goto(U + '/');
    await b.fill('#login-user', 'alice');
    await b.fill('#login-password', 'secret-pass');
    await b.click('#login-submit');
    await waitReady(b);
    await b.evaluate((d) => { location.hash = '#/studio/' + d; }, draft);
    await b.waitForSelector('#studio-tree .tree-item');
    await page.evaluate((d) => { location.hash = '#/studio/' + d; }, draft);
    await page.waitForSelector('#studio-tree .tree-item');

    /* A (bob) changes the title and the version (to one the sample pack never had); B (alice) the title and the English title */
    await page.click('#studio-tree [data-kind="pack"]');
    await fillLang('title', '农业与土地（鲍勃改）');
    await page.fill('#studio-form .field:has(label:text("版本号")) input', '2026.12.9');
    await page.fill('#save-note', 'bob');
    await page.click('#save-btn');
    await page.waitForSelector('#save-msg:has-text("已保存为")');
    await b.click('#studio-tree [data-kind="pack"]');
    await fillLang('title', '农业与土地（爱丽丝改）', 'Farming and the Land, revised', b);
    await b.fill('#save-note', 'alice');
    await b.click('#save-btn');
    await b.waitForSelector('#conflict-view');
    const clashes = () => b.$$eval('table[data-table="conflict"] tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(0, 4).map((c) => c.textContent)));
    const want = [['内容包 · 标题 · 中文', '农业与土地', '农业与土地（鲍勃改）', '农业与土地（爱丽丝改）']];
    assert.deepEqual(await clashes(), want);
    assert.match(await b.textContent('#conflict-view'), /1 处对方的修改与您的修改不冲突，已自动合并/);
    await shot('conflict', b);
    /* closing the tab now loses nothing: the same choice comes back after a reload */
    await b.reload();
    await waitReady(b);
    await b.waitForSelector('#conflict-view');
    assert.deepEqual(await clashes(), want);
    /* keep mine for the title; bob's version comes in by itself */
    await b.check('#conflict-view input[data-keep="mine"]');
    await b.click('#merge-btn');
    await b.waitForSelector('#conflict-view', { state: 'detached' });
    assert.equal(await b.inputValue('#studio-form .field:has(label:text("版本号")) input'), '2026.12.9');
    await b.click('#save-btn');
    await b.waitForSelector('#save-msg:has-text("已保存为")');
    const now = (await api('GET', `/api/v1/drafts/${draft}`)).json;
    assert.equal(now.source.pack.title.zh, '农业与土地（爱丽丝改）');
    assert.equal(now.source.pack.title.en, 'Farming and the Land, revised');
    assert.equal(now.source.pack.version, '2026.12.9', "bob's change survives the merge");
    const bobs = (await api('GET', `/api/v1/drafts/${draft}?revision=${now.head - 1}`)).json;
    assert.equal(bobs.source.pack.title.zh, '农业与土地（鲍勃改）', "bob's title is kept in his revision");

    /* unsaved text survives a reload when nobody else saved, too */
    await b.click('#studio-tree [data-kind="pack"]');
    await b.fill(lang('title', 'en'), 'Farming and the Land, unsaved');
    await b.reload();
    await waitReady(b);
    await b.waitForSelector('#save-msg:has-text("已恢复您上次未保存的修改")');
    await b.click('#studio-tree [data-kind="pack"]');
    assert.equal(await b.inputValue(lang('title', 'en')), 'Farming and the Land, unsaved');
    assert.equal(await b.getAttribute('#save-status', 'data-state'), 'unsaved');
    assert.deepEqual(bErrors, []);
  } finally {
    await other.close();
  }
});

test('the format-2 forms: hotspots, compare, sequence, steps, and hotspot and order questions', async () => {
  await page.evaluate((d) => { location.hash = '#/studio/' + d; }, draft);
  await page.reload();
  await waitReady();
  await page.waitForSelector('#studio-tree .tree-item');
  await tree('page', '1');
  for (const type of ['hotspots', 'compare', 'sequence', 'steps']) {
    await page.selectOption('#add-block-type', type);
    await page.click('#add-block');
  }
  const b = 'pages[1].blocks';
  await fillLang(`${b}[2].caption`, '眼睛的结构', 'Parts of the eye');
  await fillLang(`${b}[2].spots[0].label`, '视网膜', 'Retina');
  await page.click(`#studio-form [data-add="${b}[2].spots"]`);
  await fillLang(`${b}[3].before.label`, '以前', 'Before');
  await fillLang(`${b}[3].after.label`, '现在', 'Now');
  await page.click(`#studio-form [data-add="${b}[4].frames"]`);
  await fillLang(`${b}[4].frames[2].label`, '第三步', 'Third');
  await fillLang(`${b}[5].steps[0].title`, '关燃气', 'Turn off the gas');
  /* the steps reorder by buttons too */
  await page.click(`#studio-form fieldset:has([data-add="${b}[5].steps"]) [data-row="1"] [data-move="up"]`);
  assert.equal(await page.inputValue(lang(`${b}[5].steps[1].title`, 'zh')), '关燃气');
  await tree('quiz', '');
  for (const type of ['hotspot', 'order']) {
    await tree('quiz', '');
    await page.selectOption('#add-question-type', type);
    await page.click('#add-question');
  }
  await fillLang('quiz.questions[4].choices[0].text', '第一', 'First');
  await fillLang('quiz.questions[4].choices[1].text', '第二', 'Second');
  await fillLang('quiz.questions[4].choices[2].text', '第三', 'Third');
  /* the right order of an order question, by buttons */
  await page.click('#studio-form fieldset:has(legend:text("正确顺序")) .list-row-head >> nth=2 >> [data-move="up"]');
  await page.fill('#save-note', '格式 2');
  await page.click('#save-btn');
  await page.waitForSelector('#save-msg:has-text("已保存为")');
  const doc = (await api('GET', `/api/v1/drafts/${draft}`)).json.source;
  const blocks = doc.topics[NEW].pages[1].blocks;
  assert.equal(doc.pack.format, 2, 'a format-2 block makes the pack format 2');
  assert.deepEqual(blocks.slice(2).map((x) => x.type), ['hotspots', 'compare', 'sequence', 'steps']);
  assert.equal(blocks[2].spots.length, 2);
  assert.deepEqual(blocks[2].spots[0].label, { zh: '视网膜', en: 'Retina' });
  assert.ok(typeof blocks[2].spots[0].x === 'number' && typeof blocks[2].spots[0].y === 'number');
  assert.deepEqual([blocks[3].before.label.zh, blocks[3].after.label.zh], ['以前', '现在']);
  assert.equal(blocks[4].frames.length, 3);
  assert.deepEqual(blocks[5].steps.map((s) => s.title.zh), ['', '关燃气']);
  const qs = doc.topics[NEW].quiz.questions;
  assert.deepEqual(qs[3].regions, [{ x: 0.5, y: 0.5, r: 0.1 }]);
  assert.deepEqual(qs[3].answer, [0]);
  assert.equal(qs[4].type, 'order');
  assert.deepEqual(qs[4].answer, [0, 2, 1]);
  await waitChecked();
  await shot('format2');
  assert.deepEqual(pageErrors, []);
});

test('bad pictures and another venue get clear messages; English pages', async () => {
  await page.evaluate((d) => { location.hash = '#/studio/' + d; }, draft);
  await page.reload();
  await waitReady();
  await tree('page', '0');
  /* an SVG with a script is refused, naming the reason; so is a path with ".." */
  await page.click('#studio-form [data-upload="pages[0].blocks[1].src"]');
  await page.waitForSelector('#crop-dialog[open]');
  await page.setInputFiles('#crop-file', { name: 'evil.svg', mimeType: 'image/svg+xml',
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script><rect width="10" height="10"/></svg>') });
  await page.waitForSelector('#crop-ok:not([disabled])');
  await page.click('#crop-ok');
  await page.waitForSelector('#crop-msg:has-text("SVG: holds a <script> element")');
  await page.setInputFiles('#crop-file', { name: 'x.png', mimeType: 'image/png', buffer: await makePhoto(400, 300, 90) });
  await page.waitForSelector('#crop-ok:not([disabled])');
  await page.fill('#crop-name', '../../x.png');
  await page.click('#crop-ok');
  await page.waitForFunction(() => document.getElementById('crop-msg').textContent.includes('path: "../../x.png": a ".." path component'));
  await page.click('#crop-cancel');

  /* English */
  await page.click('.who [data-lang-toggle]');
  await waitReady();
  await tree('page', '0');
  assert.match(await page.textContent('#form-title'), /Page 1/);
  assert.match(await page.textContent('#save-btn'), /Save/);
  await shot('page-en');
  await page.click('#studio-tree [data-kind="pack"]');
  await shot('editor-pack-en');
  await page.click('.who [data-lang-toggle]');
  await waitReady();

  /* staff of venue v2 see nothing of venue v1's draft */
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])');
  await signIn(page, env.KK_TC);
  await page.waitForSelector('text=还没有草稿');
  await page.evaluate((d) => { location.hash = '#/studio/' + d; }, draft);
  await page.waitForSelector('#view .note.bad');
  assert.match(await page.textContent('#view .note.bad'), /your venues \(v2\) may not edit venue v1/);
  const r = await api('GET', `/api/v1/drafts/${draft}`, undefined, env.KK_TC);
  assert.equal(r.status, 403);
  /* the list page in use, for the screenshots */
  await page.click('#logout');
  await signIn(page, env.KK_TS);
  await shot('list');
  assert.deepEqual(pageErrors, []);
});
