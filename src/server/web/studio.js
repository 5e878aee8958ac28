/* The content studio (issue 15, docs/studio.md): venue staff and the office edit drafts of
 * content packs in forms, without JSON. Loaded after app.js and uses its helpers (el, call,
 * section, table, stamp, route, state, PAGES). Pages:
 *   #/studio              the drafts this user may edit, and the import of a pack
 *   #/studio/ID           the editor: the pack as a tree, one form per item, zh and en side
 *                         by side, pictures with crop, messages of the server's pack parser
 *                         next to their fields, previews drawn by the real kiosk
 *   #/studio/ID/history   the revisions, the difference between two, restore
 * What is typed is kept in localStorage until the server has it, so a closed tab, a lost
 * network or a save refused because someone else saved first (409) loses nothing. Text
 * from the server or the pack is only ever put into the page as text. */
'use strict';

Object.assign(WORDS.zh, {
  nav_studio: '内容编辑', staff_user: '工作人员',
  token_login: '工作人员使用令牌登录', token: '令牌', token_login_btn: '用令牌登录',
  token_wrong: '令牌不正确或已失效。', token_hint: '令牌由管理员创建账号时发给您。',
  drafts: '我的草稿', drafts_none: '还没有草稿。请先导入一个内容包。',
  col_draft: '草稿', col_state: '状态', col_revision: '版本', col_updated_by: '最后修改人', open: '打开',
  st_draft: '草稿', st_in_review: '审核中', st_changes_requested: '需修改', st_approved: '已通过', st_published: '已发布',
  import_title: '导入内容包', import_file: '内容包文件（源文件夹的 .tar / .tar.gz，或 .kpk）',
  import_venue: '所属场馆编号（可不填）', import_btn: '导入', import_done: '已导入 {pack}。',
  import_failed: '导入失败：{msg}', importing: '正在导入……',
  back_list: '返回草稿列表', revision_n: '第 {n} 版', saved: '已保存', unsaved: '有未保存的修改',
  saving: '正在保存……', checking: '正在检查……', restored_local: '已恢复您上次未保存的修改。',
  note: '修改说明', note_ph: '例如：新增地震主题', save: '保存', save_failed: '保存失败：{msg}',
  saved_as: '已保存为第 {n} 版。', history: '历史版本', export: '导出源文件',
  n_errors: '{n} 个错误', n_warnings: '{n} 个提醒', no_problems: '检查通过，没有问题',
  problems: '检查结果', go_field: '转到', check_failed: '无法检查：{msg}',
  submit: '提交审核', submit_done: '已提交第 {n} 版，等待中心审核。', submit_failed: '提交失败：{msg}',
  n_comments: '{n} 条意见', comments_now: '审核意见（{who} 对第 {rev} 版提出，请修改）',
  comments_prev: '上一轮审核意见（{who} 对第 {rev} 版提出）', comment_on: '{where}：',
  tree: '内容结构', pack_settings: '内容包设置', topic_settings: '主题信息', quiz: '测验',
  page_label: '第 {n} 页', question_label: '第 {n} 题', untitled: '（未命名）',
  add_topic: '+ 新主题', add_page: '+ 新页面', add_block: '+ 添加内容块', add_question: '+ 添加题目',
  move_up: '上移', move_down: '下移', remove: '删除', remove_confirm: '确定删除', cancel: '取消',
  f_id: '编号（英文字母、数字和连字符）', f_version: '版本号', f_format: '格式版本', f_title: '标题',
  f_summary: '简介', f_cover: '封面图片', f_audiences: '适合的观众群体', f_references: '参考资料（权威来源）',
  f_text: '正文', f_caption: '图片说明', f_src: '图片', f_prompt: '题目', f_explain: '答案解析',
  f_choices: '选项', f_choice: '选项 {n}', f_answer: '正确答案', f_difficulty: '难度',
  f_page: '哪一页讲到这道题', f_page_none: '（不指定）', f_qtype: '题型', f_image: '配图（可不填）',
  f_label: '名称', f_x: '横向位置（0–1）', f_y: '纵向位置（0–1）', f_r: '半径（0–1）',
  f_spots: '热点', f_spot: '热点 {n}', f_before: '之前', f_after: '之后', f_frames: '画面', f_frame: '画面 {n}',
  f_steps: '步骤', f_step: '第 {n} 步', f_regions: '可点区域', f_region: '区域 {n}', f_order: '正确顺序',
  f_reference: '参考资料 {n}', add_reference: '+ 参考资料', add_choice: '+ 选项', add_spot: '+ 热点',
  add_frame: '+ 画面', add_step: '+ 步骤', add_region: '+ 区域', click_to_place: '点击图片放置第 {n} 个热点',
  b_text: '文字', b_image: '图片', b_fact: '知识卡片', b_hotspots: '热点图', b_compare: '前后对比',
  b_sequence: '图片序列', b_steps: '分步说明',
  q_single: '单选题', q_multi: '多选题', q_truefalse: '判断题', q_hotspot: '点图题', q_order: '排序题',
  tf_true: '对', tf_false: '错', d_1: '1（容易）', d_2: '2（中等）', d_3: '3（较难）',
  lang_zh: '中文', lang_en: 'English', en_missing: '缺少英文', zh_changed: '中文已修改，英文可能需要更新',
  format2_note: '此类内容块属于格式 2（互动内容），内容包的格式版本已改为 2。',
  pic_none: '（未选择图片）', pic_choose: '选用已上传的图片', pic_upload: '上传并裁剪图片…',
  pic_title: '上传图片', pic_file: '选择图片（PNG、JPEG 或 SVG）', pic_shape: '裁剪形状',
  shape_cover: '封面（4:3）', shape_page: '页面图片（4:3）', shape_compare: '对比图（4:3，前后两张相同大小）',
  shape_wide: '宽图（16:9）', shape_free: '不裁剪（原始比例）',
  crop_help: '拖动方框或用方向键移动，用滑块或 +/− 键缩放。', crop_zoom: '方框大小',
  pic_name: '文件名', pic_ok: '上传并使用', pic_svg: 'SVG 矢量图按原样上传，不裁剪。',
  pic_bad: '无法读取这张图片：{msg}', pic_failed: '上传失败：{msg}', pic_uploading: '正在上传……',
  preview: '预览', preview_btn: '在一体机上预览（横屏和竖屏）', preview_lang: '预览语言',
  large_text: '大字模式', previewing: '一体机正在绘制……', preview_failed: '预览失败：{msg}',
  preview_saves: '预览显示保存后的内容：有未保存的修改时会先保存。',
  preview_alt: '{what}，{orient} {size}', landscape: '横屏', portrait: '竖屏',
  preview_none: '此服务器没有提供预览（需要 kepu-kiosk）。',
  conflict_title: '别人在您编辑时保存了新版本',
  conflict_note: '您基于第 {base} 版修改，现在最新的是第 {head} 版。您的文字都还在。请逐项选择保留哪一个，然后保存。',
  conflict_auto: '{n} 处对方的修改与您的修改不冲突，已自动合并。', col_field: '位置',
  col_base: '原来', col_theirs: '对方的', col_yours: '您的', col_choice: '保留',
  keep_mine: '我的', keep_theirs: '对方的', merge_btn: '合并后继续编辑', reload_btn: '放弃我的修改，重新加载',
  reload_note: '您的修改已另存一份在本浏览器中。', conflict_none: '没有需要您选择的冲突。',
  merged: '已合并。检查后请保存。',
  hist_title: '历史版本', col_who: '修改人', col_when: '时间', col_note: '说明',
  compare_from: '从版本', compare_to: '到版本', compare_btn: '比较', diff_none: '这两个版本没有差别。',
  col_from: '之前', col_to: '之后', restore: '恢复此版本', restore_sure: '确定恢复第 {n} 版？',
  restored: '已恢复第 {n} 版，保存为第 {m} 版。', back_editor: '返回编辑',
  empty_value: '（空）', none_value: '（无）',
  fn_pack: '内容包', fn_title: '标题', fn_summary: '简介', fn_text: '正文', fn_caption: '图片说明',
  fn_prompt: '题目', fn_explain: '解析', fn_zh: '中文', fn_en: '英文', fn_cover: '封面',
  fn_src: '图片', fn_answer: '答案', fn_choices: '选项', fn_audiences: '观众群体',
  fn_references: '参考资料', fn_difficulty: '难度', fn_image: '配图', fn_type: '类型', fn_id: '编号',
  fn_page: '讲到此题的页', fn_version: '版本号', fn_format: '格式版本', fn_label: '名称', fn_spots: '热点',
  fn_frames: '画面', fn_steps: '步骤', fn_regions: '区域', fn_before: '之前', fn_after: '之后',
});

Object.assign(WORDS.en, {
  nav_studio: 'Content studio', staff_user: 'Staff',
  token_login: 'Venue staff: sign in with your token', token: 'Token', token_login_btn: 'Sign in with the token',
  token_wrong: 'The token is wrong or no longer valid.', token_hint: 'You got the token when your account was made.',
  drafts: 'My drafts', drafts_none: 'No drafts yet. Import a content pack first.',
  col_draft: 'Draft', col_state: 'State', col_revision: 'Revision', col_updated_by: 'Last changed by', open: 'Open',
  st_draft: 'Draft', st_in_review: 'In review', st_changes_requested: 'Changes requested', st_approved: 'Approved', st_published: 'Published',
  import_title: 'Import a content pack', import_file: 'Pack file (.tar / .tar.gz of a source folder, or .kpk)',
  import_venue: 'Venue ID (optional)', import_btn: 'Import', import_done: '{pack} imported.',
  import_failed: 'Import failed: {msg}', importing: 'Importing…',
  back_list: 'Back to the drafts', revision_n: 'Revision {n}', saved: 'Saved', unsaved: 'Unsaved changes',
  saving: 'Saving…', checking: 'Checking…', restored_local: 'Your unsaved changes from last time are back.',
  note: 'What changed', note_ph: 'e.g. new earthquake topic', save: 'Save', save_failed: 'Could not save: {msg}',
  saved_as: 'Saved as revision {n}.', history: 'History', export: 'Export',
  n_errors: '{n} errors', n_warnings: '{n} warnings', no_problems: 'Checked: no problems',
  problems: 'Check results', go_field: 'Go there', check_failed: 'Could not check: {msg}',
  submit: 'Submit for review', submit_done: 'Revision {n} is submitted and waits for the office.', submit_failed: 'Could not submit: {msg}',
  n_comments: '{n} comment(s)', comments_now: 'Review comments ({who} on revision {rev}: please change)',
  comments_prev: 'Comments of the previous review ({who} on revision {rev})', comment_on: '{where}: ',
  tree: 'Pack contents', pack_settings: 'Pack settings', topic_settings: 'Topic details', quiz: 'Quiz',
  page_label: 'Page {n}', question_label: 'Question {n}', untitled: '(untitled)',
  add_topic: '+ New topic', add_page: '+ New page', add_block: '+ Add a block', add_question: '+ Add a question',
  move_up: 'Move up', move_down: 'Move down', remove: 'Delete', remove_confirm: 'Really delete', cancel: 'Cancel',
  f_id: 'ID (letters, digits and hyphens)', f_version: 'Version', f_format: 'Format', f_title: 'Title',
  f_summary: 'Summary', f_cover: 'Cover picture', f_audiences: 'Audience groups', f_references: 'References (authoritative sources)',
  f_text: 'Text', f_caption: 'Caption', f_src: 'Picture', f_prompt: 'Question', f_explain: 'Explanation',
  f_choices: 'Choices', f_choice: 'Choice {n}', f_answer: 'Right answer', f_difficulty: 'Difficulty',
  f_page: 'Page that teaches this', f_page_none: '(none)', f_qtype: 'Question type', f_image: 'Picture (optional)',
  f_label: 'Label', f_x: 'Across (0–1)', f_y: 'Down (0–1)', f_r: 'Radius (0–1)',
  f_spots: 'Hotspots', f_spot: 'Hotspot {n}', f_before: 'Before', f_after: 'After', f_frames: 'Frames', f_frame: 'Frame {n}',
  f_steps: 'Steps', f_step: 'Step {n}', f_regions: 'Regions', f_region: 'Region {n}', f_order: 'Right order',
  f_reference: 'Reference {n}', add_reference: '+ Reference', add_choice: '+ Choice', add_spot: '+ Hotspot',
  add_frame: '+ Frame', add_step: '+ Step', add_region: '+ Region', click_to_place: 'Click the picture to place hotspot {n}',
  b_text: 'Text', b_image: 'Picture', b_fact: 'Fact box', b_hotspots: 'Hotspots', b_compare: 'Before and after',
  b_sequence: 'Sequence', b_steps: 'Steps',
  q_single: 'Single choice', q_multi: 'Multiple choice', q_truefalse: 'True or false', q_hotspot: 'Tap the picture', q_order: 'Put in order',
  tf_true: 'True', tf_false: 'False', d_1: '1 (easy)', d_2: '2 (medium)', d_3: '3 (hard)',
  lang_zh: '中文', lang_en: 'English', en_missing: 'English missing', zh_changed: 'Chinese changed since the English was written',
  format2_note: 'This block is part of format 2 (interactive content); the pack\'s format is now 2.',
  pic_none: '(no picture)', pic_choose: 'Use an uploaded picture', pic_upload: 'Upload and crop a picture…',
  pic_title: 'Upload a picture', pic_file: 'Choose a picture (PNG, JPEG or SVG)', pic_shape: 'Crop to',
  shape_cover: 'Cover (4:3)', shape_page: 'Page picture (4:3)', shape_compare: 'Compare pair (4:3, both the same size)',
  shape_wide: 'Wide (16:9)', shape_free: 'No crop (as it is)',
  crop_help: 'Drag the frame or move it with the arrow keys; size it with the slider or the +/− keys.', crop_zoom: 'Frame size',
  pic_name: 'File name', pic_ok: 'Upload and use', pic_svg: 'SVG drawings are uploaded as they are, without cropping.',
  pic_bad: 'Cannot read this picture: {msg}', pic_failed: 'Upload failed: {msg}', pic_uploading: 'Uploading…',
  preview: 'Preview', preview_btn: 'Preview on the kiosk (landscape and portrait)', preview_lang: 'Preview language',
  large_text: 'Large text', previewing: 'The kiosk is drawing…', preview_failed: 'Preview failed: {msg}',
  preview_saves: 'The preview shows saved content: unsaved changes are saved first.',
  preview_alt: '{what}, {orient} {size}', landscape: 'landscape', portrait: 'portrait',
  preview_none: 'This server offers no preview (it needs kepu-kiosk).',
  conflict_title: 'Someone else saved while you were editing',
  conflict_note: 'You edited revision {base}; the latest is now {head}. Everything you typed is still here. Choose what to keep, field by field, then save.',
  conflict_auto: '{n} of their changes did not clash with yours and were merged.', col_field: 'Where',
  col_base: 'Before', col_theirs: 'Theirs', col_yours: 'Yours', col_choice: 'Keep',
  keep_mine: 'Mine', keep_theirs: 'Theirs', merge_btn: 'Merge and go on editing', reload_btn: 'Drop my changes and reload',
  reload_note: 'A copy of your changes is kept in this browser.', conflict_none: 'Nothing clashes; nothing to choose.',
  merged: 'Merged. Check it, then save.',
  hist_title: 'History', col_who: 'By', col_when: 'When', col_note: 'Note',
  compare_from: 'From revision', compare_to: 'To revision', compare_btn: 'Compare', diff_none: 'The two revisions are the same.',
  col_from: 'Before', col_to: 'After', restore: 'Restore this revision', restore_sure: 'Really restore revision {n}?',
  restored: 'Revision {n} restored as revision {m}.', back_editor: 'Back to editing',
  empty_value: '(empty)', none_value: '(none)',
  fn_pack: 'Pack', fn_title: 'title', fn_summary: 'summary', fn_text: 'text', fn_caption: 'caption',
  fn_prompt: 'question', fn_explain: 'explanation', fn_zh: 'Chinese', fn_en: 'English', fn_cover: 'cover',
  fn_src: 'picture', fn_answer: 'answer', fn_choices: 'choices', fn_audiences: 'audiences',
  fn_references: 'references', fn_difficulty: 'difficulty', fn_image: 'picture', fn_type: 'type', fn_id: 'ID',
  fn_page: 'page that teaches it', fn_version: 'version', fn_format: 'format', fn_label: 'label', fn_spots: 'hotspots',
  fn_frames: 'frames', fn_steps: 'steps', fn_regions: 'regions', fn_before: 'before', fn_after: 'after',
});

/* The shapes pictures are cropped to, in output pixels: the kiosk fits a picture into its
 * box keeping its proportions, so one shape per use keeps a topic's pages alike. */
const SHAPES = {
  cover: { w: 1200, h: 900 },
  page: { w: 1600, h: 1200 },
  compare: { w: 1200, h: 900 },
  wide: { w: 1600, h: 900 },
  free: null,
};
const BLOCK_TYPES = ['text', 'image', 'fact', 'hotspots', 'compare', 'sequence', 'steps'];
const FORMAT2_BLOCKS = new Set(['hotspots', 'compare', 'sequence', 'steps']);
const QUESTION_TYPES = ['single', 'multi', 'truefalse', 'hotspot', 'order'];
const FORMAT2_QUESTIONS = new Set(['hotspot', 'order']);
const CHECK_DELAY_MS = 700;

const studio = {
  ed: null,      /* the open draft, see openDraft() */
  pics: new Map(), /* sha256 -> data: URL of a stored picture */
  uid: 0,
};

function uid(prefix) {
  studio.uid += 1;
  return `${prefix}-${studio.uid}`;
}

function clone(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

/* --- staff sign-in with a token ------------------------------------------------------- */

const TOKEN_KEY = 'kepu-staff-token';

function studioSignedOut() {
  if (state.token) {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* private mode */
    }
  }
  state.token = null;
  state.onlyPage = null;
  delete document.getElementById('who-name').dataset.t;
  document.querySelectorAll('#nav a').forEach((a) => { a.hidden = false; });
}

/* Tries token against the drafts list; shows the studio alone when it is a staff token. */
async function studioTokenLogin(token) {
  const r = await fetch(API + '/drafts', { headers: { Authorization: 'Bearer ' + token } }).catch(() => null);
  if (!r || !r.ok) return false;
  state.token = token;
  state.onlyPage = 'studio';
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch (e) {
    /* private mode: the sign-in lasts as long as the page */
  }
  document.querySelectorAll('#nav a').forEach((a) => { a.hidden = a.dataset.page !== 'studio'; });
  if (!location.hash.startsWith('#/studio')) history.replaceState(null, '', '#/studio');
  showApp(t('staff_user'), null);
  document.getElementById('who-name').dataset.t = 'staff_user'; /* follows the language */
  return true;
}

async function studioResume() {
  let token = null;
  try {
    token = sessionStorage.getItem(TOKEN_KEY);
  } catch (e) {
    return false;
  }
  return token ? studioTokenLogin(token) : false;
}

function addTokenLogin() {
  const box = document.getElementById('login-form');
  if (!box || document.getElementById('token-login')) return;
  const input = el('input', { id: 'token-input', type: 'password', autocomplete: 'off', spellcheck: 'false' });
  const err = el('p', { class: 'login-error', id: 'token-error', role: 'alert', hidden: true });
  const go = async () => {
    err.hidden = true;
    if (await studioTokenLogin(input.value.trim())) {
      input.value = '';
      return;
    }
    err.textContent = t('token_wrong');
    err.hidden = false;
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      go();
    }
  });
  box.after(el('details', { class: 'token-login login-box', id: 'token-login' },
    el('summary', { 'data-t': 'token_login', text: t('token_login') }),
    el('p', { class: 'note', 'data-t': 'token_hint', text: t('token_hint') }),
    el('label', { for: 'token-input' }, el('span', { 'data-t': 'token', text: t('token') })), input, err,
    el('button', { type: 'button', id: 'token-submit', 'data-t': 'token_login_btn', text: t('token_login_btn'), onclick: go })));
}
document.addEventListener('DOMContentLoaded', addTokenLogin);

/* --- talking to the studio API --------------------------------------------------------- */

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || 'HTTP ' + status);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const r = await call(method, path, body);
  const j = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, j);
  return j;
}

/* A raw-body call (uploads, previews, downloads): returns the Response. */
async function rawCall(method, path, body, type) {
  const headers = {};
  if (type) headers['Content-Type'] = type;
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const r = await fetch(API + path, { method, headers, body, credentials: 'same-origin' });
  if (r.status === 401) {
    if (state.user) showLogin('login_expired');
    throw new Expired('session expired');
  }
  return r;
}

async function rawError(r) {
  const j = await r.json().catch(() => null);
  return new ApiError(r.status, j);
}

function blobToDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const fr = new FileReader();
    fr.onload = () => resolve(fr.result);
    fr.onerror = () => reject(fr.error);
    fr.readAsDataURL(blob);
  });
}

function download(blob, name) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/* --- JSON paths, as kepu-pack validate prints them: pages[0].blocks[1].text.en ---------- */

function jp(base, key) {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

function splitPath(path) {
  const out = [];
  path.replace(/([^.[\]]+)|\[(\d+)\]/g, (m, k, i) => {
    out.push(i !== undefined ? Number(i) : k);
    return m;
  });
  return out;
}

/* Every leaf of a document: {"FILE|PATH": value}, files as "FILE|" -> sha256; empty
 * objects and arrays are leaves too, so adding one is a change. */
function docLeaves(doc) {
  const out = {};
  const walk = (file, path, v) => {
    if (Array.isArray(v)) {
      if (!v.length) out[file + '|' + path] = [];
      v.forEach((x, i) => walk(file, jp(path, i), x));
    } else if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      if (!keys.length) out[file + '|' + path] = {};
      keys.forEach((k) => walk(file, jp(path, k), v[k]));
    } else {
      out[file + '|' + path] = v;
    }
  };
  walk('pack.json', '', doc.pack || {});
  for (const [f, topic] of Object.entries(doc.topics || {})) walk(f, '', topic);
  for (const [f, sha] of Object.entries(doc.files || {})) out[f + '|'] = sha;
  return out;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/* Sets (or with value undefined removes) the leaf "FILE|PATH" in doc. */
function setLeaf(doc, key, value) {
  const bar = key.indexOf('|');
  const file = key.slice(0, bar);
  const path = splitPath(key.slice(bar + 1));
  if (!path.length && file !== 'pack.json' && !doc.topics[file]) {
    if (value === undefined) delete doc.files[file];
    else doc.files[file] = value;
    return;
  }
  let root;
  if (file === 'pack.json') root = doc.pack;
  else {
    if (!doc.topics[file]) {
      if (value === undefined) return;
      doc.topics[file] = {};
    }
    root = doc.topics[file];
  }
  let o = root;
  for (let i = 0; i < path.length - 1; i++) {
    if (o[path[i]] === undefined || o[path[i]] === null || typeof o[path[i]] !== 'object') {
      if (value === undefined) return;
      o[path[i]] = typeof path[i + 1] === 'number' ? [] : {};
    }
    o = o[path[i]];
  }
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(o)) o[last] = undefined;
    else delete o[last];
  } else {
    o[last] = clone(value);
  }
}

/* Removes the holes setLeaf(…, undefined) leaves in arrays, and objects it emptied. */
function compact(v) {
  if (Array.isArray(v)) {
    const kept = v.filter((x) => x !== undefined).map(compact);
    return kept.filter((x) => !(x && typeof x === 'object' && !Array.isArray(x) && x.__emptied));
  }
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    for (const k of keys) {
      v[k] = compact(v[k]);
      if (v[k] && v[k].__emptied) delete v[k];
    }
    if (keys.length && !Object.keys(v).length) Object.defineProperty(v, '__emptied', { value: true });
  }
  return v;
}

/* A field's place in words: 第2页 · 第1块 · 正文 · 中文. */
function fieldName(file, field) {
  const ed = studio.ed;
  let where = file === 'pack.json' ? t('fn_pack') : file;
  if (ed && ed.doc.topics[file]) where = textOf(ed.doc.topics[file].title) || file;
  if (!field) return where;
  const parts = splitPath(field);
  const words = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const prev = parts[i - 1];
    if (typeof p === 'number') {
      if (prev === 'pages') words[words.length - 1] = t('page_label', { n: p + 1 });
      else if (prev === 'questions') words[words.length - 1] = t('question_label', { n: p + 1 });
      else if (prev === 'blocks') words[words.length - 1] = `${blockName(ed, file, parts, i)}`;
      else if (prev === 'choices') words[words.length - 1] = t('f_choice', { n: p + 1 });
      else words.push(String(p + 1));
    } else if (p === 'quiz') {
      words.push(t('quiz'));
    } else {
      words.push(WORDS.zh['fn_' + p] !== undefined ? t('fn_' + p) : p);
    }
  }
  return [where, ...words].join(' · ');
}

function blockName(ed, file, parts, i) {
  const topic = ed && ed.doc.topics[file];
  const page = topic && topic.pages && topic.pages[parts[i - 2]];
  const b = page && page.blocks && page.blocks[parts[i]];
  return b && WORDS.zh['b_' + b.type] !== undefined ? t('b_' + b.type) + ' ' + (parts[i] + 1) : String(parts[i] + 1);
}

function textOf(text) {
  if (!text || typeof text !== 'object') return '';
  const lang = document.documentElement.lang === 'en' ? 'en' : 'zh';
  return text[lang] || text.zh || text.en || '';
}

/* A value of a difference: null is "not there" (added, or removed). */
function shown(v) {
  if (v === null || v === undefined) return t('none_value');
  if (v === '') return t('empty_value');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/* --- the draft list and import ---------------------------------------------------------- */

async function pageStudio(view) {
  document.getElementById('range').hidden = true;
  const m = location.hash.match(/^#\/studio\/(d[0-9a-f]+)(?:\/(history))?/);
  if (!m) return pageDrafts(view);
  if (m[2] === 'history') return pageHistory(view, m[1]);
  return pageEditor(view, m[1]);
}
PAGES.studio = pageStudio;

async function pageDrafts(view) {
  const drafts = await api('GET', '/drafts');
  const msg = el('p', { class: 'form-msg', role: 'status', id: 'import-msg' });
  const file = el('input', { type: 'file', id: 'import-file', accept: '.tar,.tgz,.gz,.kpk,application/gzip,application/x-tar', required: true });
  const venue = el('input', { id: 'import-venue', autocomplete: 'off', size: '10' });
  const form = el('form', {
    class: 'studio-import',
    onsubmit: async (e) => {
      e.preventDefault();
      const f = file.files[0];
      if (!f) return;
      msg.className = 'form-msg';
      msg.textContent = t('importing');
      try {
        const q = venue.value.trim() ? '?venue=' + encodeURIComponent(venue.value.trim()) : '';
        const r = await rawCall('POST', '/drafts/import' + q, f, 'application/octet-stream');
        if (!r.ok) throw await rawError(r);
        const j = await r.json();
        state.flash = t('import_done', { pack: j.pack });
        location.hash = '#/studio/' + j.draft;
      } catch (err) {
        if (err instanceof Expired) return;
        msg.textContent = t('import_failed', { msg: err.message });
        msg.className = 'form-msg bad';
      }
    },
  },
  el('label', { for: 'import-file' }, el('span', { text: t('import_file') })), file,
  el('label', { for: 'import-venue' }, el('span', { text: t('import_venue') })), venue,
  el('button', { type: 'submit', class: 'primary', id: 'import-submit', text: t('import_btn') }));
  view.append(section(t('import_title'), null, form, msg));
  const rows = drafts.map((d) => Object.assign({}, d, { open: d.id }));
  view.append(section(t('drafts'), null, rows.length ? table('drafts', [
    { key: 'pack', label: t('col_pack') },
    { key: 'venue', label: t('col_venue') },
    { key: 'state', label: t('col_state'), fmt: (v) => t('st_' + v) },
    { key: 'revision', label: t('col_revision'), num: true },
    { key: 'updated_by', label: t('col_updated_by') },
    { key: 'updated_ms', label: t('col_updated'), fmt: stamp },
    { key: 'open', label: t('col_draft'), fmt: (v, row) => el('a', { href: '#/studio/' + v, class: 'button-link', 'data-open': row.pack, text: t('open') + ' ' + row.pack }) },
  ], rows, { sort: 'updated_ms', sortDir: -1 }) : el('p', { class: 'note', text: t('drafts_none') })));
}

/* --- the editor's state ------------------------------------------------------------------ */

function localKey(id) {
  return 'kepu-studio-' + id;
}

function keepLocal(ed) {
  try {
    if (ed.dirty) localStorage.setItem(localKey(ed.id), JSON.stringify({ base: ed.base, doc: ed.doc, stamps: ed.localStamps, basis: ed.basis }));
    else localStorage.removeItem(localKey(ed.id));
  } catch (e) {
    /* full or private: the page still holds the text */
  }
}

function readLocal(id) {
  try {
    const v = JSON.parse(localStorage.getItem(localKey(id)) || 'null');
    return v && v.doc && v.doc.pack && v.doc.topics ? v : null;
  } catch (e) {
    return null;
  }
}

/* Loads draft id into studio.ed (kept while the same draft stays open, so a language
 * switch or a trip to the history keeps what is typed). */
async function openDraft(id, force) {
  if (studio.ed && studio.ed.id === id && !force) return studio.ed;
  const d = await api('GET', '/drafts/' + id);
  const doc = Object.assign({ files: {} }, d.source);
  const ed = {
    id, pack: d.pack, venue: d.venue, state: d.state, head: d.head, base: d.revision,
    baseDoc: clone(doc), doc, dirty: false, sel: { file: 'pack.json', kind: 'pack' },
    msgs: [], checking: false, checkTimer: null, checkSeq: 0, note: '',
    stamps: {}, localStamps: {}, basis: {}, conflict: null, banner: null,
    comments: Array.isArray(d.comments) ? d.comments : [],
  };
  const local = readLocal(id);
  if (local && !same(local.doc, doc)) {
    ed.localStamps = local.stamps || {};
    ed.basis = local.basis || {};
    if (local.base === d.revision) {
      ed.doc = local.doc;
      ed.dirty = true;
      ed.banner = { key: 'restored_local', cls: 'good' };
    } else {
      /* typed on an older revision: the merge view, as after a refused save */
      const base = await api('GET', `/drafts/${id}?revision=${local.base}`).catch(() => null);
      if (base) {
        ed.baseDoc = Object.assign({ files: {} }, base.source);
        ed.base = local.base;
        ed.doc = local.doc;
        ed.dirty = true;
        ed.conflict = makeConflict(ed, d);
      }
    }
  }
  studio.ed = ed;
  loadStamps(ed);
  return ed;
}

/* When each text language was last changed, from the history: revision by revision, the
 * fields that changed (at most the last 30 revisions; older ones count as written
 * together). Drives the "Chinese changed since the English was written" mark. */
async function loadStamps(ed) {
  try {
    const revs = await api('GET', `/drafts/${ed.id}/revisions`);
    const stamps = {};
    const recent = revs.slice(-30);
    for (let i = 1; i < recent.length; i++) {
      const d = await api('GET', `/drafts/${ed.id}/diff?from=${recent[i - 1].revision}&to=${recent[i].revision}`);
      for (const c of d.changes) stamps[c.file + '|' + c.field] = recent[i].at_ms;
    }
    if (studio.ed !== ed) return;
    ed.stamps = stamps;
    refreshMarks(ed);
  } catch (e) {
    /* the marks stay as typed in this browser */
  }
}

function stampOf(ed, key) {
  return Math.max(ed.localStamps[key] || 0, ed.stamps[key] || 0);
}

/* Whether the Chinese of the text at file/path changed after its English was written:
 * against what the Chinese said when the English was typed in this browser, else by when
 * each was last changed. */
function zhChanged(ed, file, path, zh) {
  const basis = ed.basis[file + '|' + path];
  if (basis !== undefined) return basis !== zh;
  return stampOf(ed, file + '|' + jp(path, 'zh')) > stampOf(ed, file + '|' + jp(path, 'en'));
}

/* Called after every change the user makes to ed.doc. */
function changed(ed, file, path) {
  ed.dirty = true;
  if (file && path !== undefined) ed.localStamps[file + '|' + path] = Date.now();
  keepLocal(ed);
  showStatus(ed);
  scheduleCheck(ed);
}

function topicFiles(ed) {
  const listed = Array.isArray(ed.doc.pack.topics) ? ed.doc.pack.topics.map((x) => (typeof x === 'string' ? x : x && x.file)) : [];
  const all = listed.filter((f) => ed.doc.topics[f]);
  for (const f of Object.keys(ed.doc.topics)) if (!all.includes(f)) all.push(f);
  return all;
}

/* --- validation as you type ---------------------------------------------------------------- */

/* The editor's data-pending is "1" from a change until its check has answered (tests and
 * the status line wait on it). */
function scheduleCheck(ed, now) {
  clearTimeout(ed.checkTimer);
  const root = document.getElementById('studio-editor');
  if (root) root.dataset.pending = '1';
  ed.checkTimer = setTimeout(() => {
    ed.checkTimer = null;
    check(ed);
  }, now ? 0 : CHECK_DELAY_MS);
}

async function check(ed) {
  const seq = ++ed.checkSeq;
  ed.checking = true;
  showStatus(ed);
  try {
    const msgs = await api('POST', `/drafts/${ed.id}/validate`, { source: ed.doc });
    if (seq !== ed.checkSeq || studio.ed !== ed) return;
    ed.msgs = msgs;
    ed.checkError = null;
  } catch (e) {
    if (e instanceof Expired || seq !== ed.checkSeq) return;
    ed.checkError = e.message;
  }
  ed.checking = false;
  placeMessages(ed);
  showStatus(ed);
  const root = document.getElementById('studio-editor');
  if (root && !ed.checkTimer) root.dataset.pending = '';
}

/* The server's "missing English" warnings are shown as the mark on the English box. */
function fieldMessages(ed) {
  return ed.msgs.filter((m) => !(m.severity === 'warning' && m.message === 'missing English'));
}

/* Puts each message next to the field it names (or the nearest enclosing one shown), and
 * counts them on the tree's items. */
function placeMessages(ed) {
  const root = document.getElementById('studio-editor');
  if (!root) return;
  root.querySelectorAll('.field-msgs').forEach((b) => b.replaceChildren());
  root.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  const form = document.getElementById('studio-form');
  for (const m of fieldMessages(ed)) {
    let field = m.field;
    let box = null;
    for (;;) {
      box = form && form.querySelector(`.field-msgs[data-file="${CSS.escape(m.file)}"][data-field="${CSS.escape(field)}"]`);
      if (box || !field) break;
      const cut = Math.max(field.lastIndexOf('.'), field.lastIndexOf('['));
      field = cut > 0 ? field.slice(0, cut) : '';
    }
    if (!box) continue;
    box.append(el('p', { class: 'field-msg ' + m.severity, 'data-severity': m.severity, text: m.message }));
    const input = document.getElementById(box.dataset.for || '');
    if (input && m.severity === 'error') input.setAttribute('aria-invalid', 'true');
  }
  root.querySelectorAll('[data-tree-file]').forEach((b) => {
    const file = b.dataset.treeFile;
    const prefix = b.dataset.treePrefix;
    const mine = fieldMessages(ed).filter((m) => m.file === file && (prefix === '*' || m.field === prefix ||
      m.field.startsWith(prefix + '.') || m.field.startsWith(prefix + '[')));
    const errs = mine.filter((m) => m.severity === 'error').length;
    const badge = b.querySelector('.badge');
    badge.textContent = errs ? String(errs) : '';
    badge.className = 'badge' + (errs ? ' error' : '');
    badge.setAttribute('aria-label', errs ? t('n_errors', { n: errs }) : '');
  });
  refreshMarks(ed);
  drawProblems(ed);
}

function drawProblems(ed) {
  const box = document.getElementById('studio-problems');
  if (!box) return;
  if (ed.checkError) {
    box.replaceChildren(el('p', { class: 'note bad', id: 'problems-summary', text: t('check_failed', { msg: ed.checkError }) }));
    return;
  }
  const list = fieldMessages(ed);
  const errs = list.filter((m) => m.severity === 'error');
  const warns = list.filter((m) => m.severity === 'warning');
  const summary = errs.length || warns.length
    ? [errs.length ? t('n_errors', { n: errs.length }) : '', warns.length ? t('n_warnings', { n: warns.length }) : ''].filter(Boolean).join('，')
    : t('no_problems');
  box.replaceChildren(el('details', { open: errs.length ? true : null },
    el('summary', { class: errs.length ? 'bad' : 'good', id: 'problems-summary', text: t('problems') + '：' + summary }),
    el('ul', { class: 'problems' }, list.slice(0, 200).map((m) => el('li', { class: m.severity },
      el('span', { class: 'where', text: fieldName(m.file, m.field) }), ' ',
      el('span', { text: m.message }), ' ',
      el('button', { type: 'button', class: 'small', text: t('go_field'), onclick: () => goToField(ed, m.file, m.field) }))))));
}

/* Selects the tree item that holds file/field and focuses the field. */
function goToField(ed, file, field) {
  const parts = splitPath(field || '');
  let sel = { file, kind: file === 'pack.json' ? 'pack' : 'topic' };
  if (parts[0] === 'pages' && typeof parts[1] === 'number') {
    sel = { file, kind: 'page', p: parts[1] };
    if (parts[2] === 'blocks' && typeof parts[3] === 'number') sel = { file, kind: 'block', p: parts[1], b: parts[3] };
  } else if (parts[0] === 'quiz') {
    sel = typeof parts[2] === 'number' ? { file, kind: 'question', q: parts[2] } : { file, kind: 'quiz' };
  }
  select(ed, sel);
  let f = field;
  for (;;) {
    const box = document.querySelector(`#studio-form .field-msgs[data-file="${CSS.escape(file)}"][data-field="${CSS.escape(f)}"]`);
    const input = box && document.getElementById(box.dataset.for || '');
    if (input) {
      input.focus();
      return;
    }
    if (!f) return;
    const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
    f = cut > 0 ? f.slice(0, cut) : '';
  }
}

/* The English-missing and Chinese-changed marks of every text shown. */
function refreshMarks(ed) {
  document.querySelectorAll('#studio-form .langs').forEach((box) => {
    const file = box.dataset.file;
    const path = box.dataset.field;
    const zh = box.querySelector('textarea[data-lang="zh"], input[data-lang="zh"]');
    const en = box.querySelector('textarea[data-lang="en"], input[data-lang="en"]');
    const mark = box.querySelector('.mark');
    let key = null;
    if (zh.value.trim() && !en.value.trim()) key = 'en_missing';
    else if (en.value.trim() && zhChanged(ed, file, path, zh.value)) key = 'zh_changed';
    mark.textContent = key ? t(key) : '';
    mark.dataset.mark = key || '';
  });
}

/* --- the office's review comments (issue 16) ------------------------------------------------ */

/* The topic file a comment of the last request for changes belongs to (by the topic's id,
 * or by the file an older caller named), or null for one on the pack as a whole. */
function commentFile(ed, c) {
  if (typeof c.topic === 'string') return topicFiles(ed).find((f) => ed.doc.topics[f].id === c.topic) || null;
  if (typeof c.file === 'string' && ed.doc.topics[c.file]) return c.file;
  return null;
}

/* The comments on tree item sel: a page, a question, a topic (none of its pages or
 * questions named) or the pack. */
function commentsOn(ed, sel) {
  return ed.comments.filter((c) => {
    const f = commentFile(ed, c);
    if (sel.kind === 'pack') return f === null;
    if (f !== sel.file) return false;
    if (sel.kind === 'page') return c.page === sel.p;
    if (sel.kind === 'question') {
      const q = ed.doc.topics[f].quiz && ed.doc.topics[f].quiz.questions && ed.doc.topics[f].quiz.questions[sel.q];
      return typeof c.question === 'string' && !!q && q.id === c.question;
    }
    if (sel.kind === 'topic') return typeof c.page !== 'number' && typeof c.question !== 'string';
    return false;
  });
}

/* The mark on a tree item with comments: how many (empty for none). */
function commentMark(ed, sel) {
  if (sel.kind === 'block' || sel.kind === 'quiz') return null;
  const n = commentsOn(ed, sel).length;
  if (!n) return null;
  return el('span', { class: 'comment-mark', 'data-comments': String(n), text: t('n_comments', { n }) });
}

/* The comments on the item a form edits, next to its fields: this round's while the
 * draft has changes requested, otherwise as the previous round's. */
function commentBox(ed, sel) {
  const list = commentsOn(ed, sel);
  if (!list.length) return null;
  const now = ed.state === 'changes_requested';
  const first = list[0];
  return el('aside', { class: 'studio-comments' + (now ? ' now' : ' previous'), id: 'studio-comments',
    'data-round': now ? 'current' : 'previous', role: 'note' },
    el('h3', { text: t(now ? 'comments_now' : 'comments_prev', { who: first.who || '?', rev: first.revision }) }),
    el('ul', {}, list.map((c) => el('li', { class: 'studio-comment' },
      c.field ? el('span', { class: 'comment-field', text: t('comment_on', { where: WORDS.zh['fn_' + c.field] !== undefined ? t('fn_' + c.field) : c.field }) }) : null,
      el('span', { class: 'comment-text', text: c.text })))));
}

/* Sends the head revision for review (saving what is typed first); the office's comments
 * stay in view as the previous round's. */
async function submitDraft(ed) {
  const msg = document.getElementById('save-msg');
  if (ed.dirty && !(await save(ed))) return;
  try {
    const j = await api('POST', '/drafts/' + ed.id + '/submit');
    ed.state = j.state;
    state.flash = t('submit_done', { n: j.revision });
    route();
  } catch (e) {
    if (e instanceof Expired) return;
    if (msg) {
      msg.textContent = t('submit_failed', { msg: e.message });
      msg.className = 'form-msg bad';
    }
  }
}

/* --- the editor page ----------------------------------------------------------------------- */

async function pageEditor(view, id) {
  const ed = await openDraft(id);
  const status = el('span', { class: 'save-status', id: 'save-status', role: 'status', 'aria-live': 'polite' });
  const note = el('input', { id: 'save-note', maxlength: '200', placeholder: t('note_ph'), value: ed.note,
    oninput: (e) => { ed.note = e.target.value; } });
  const saveMsg = el('p', { class: 'form-msg', id: 'save-msg', role: 'status' });
  if (state.flash) {
    saveMsg.textContent = state.flash;
    saveMsg.className = 'form-msg good';
    state.flash = null;
  } else if (ed.banner) {
    saveMsg.textContent = t(ed.banner.key, ed.banner.vars);
    saveMsg.className = 'form-msg ' + ed.banner.cls;
    ed.banner = null;
  }
  const bar = el('div', { class: 'studio-bar' },
    el('a', { href: '#/studio', class: 'button-link', text: '← ' + t('back_list') }),
    el('h1', { class: 'studio-title', id: 'studio-title' }),
    status,
    el('span', { class: 'spacer' }),
    el('label', { for: 'save-note', class: 'inline' }, t('note')), note,
    el('button', { type: 'button', class: 'primary', id: 'save-btn', text: t('save'), onclick: () => save(ed) }),
    el('button', { type: 'button', id: 'submit-btn', text: t('submit'), onclick: () => submitDraft(ed),
      hidden: ed.state === 'draft' || ed.state === 'changes_requested' ? null : '' }),
    el('a', { href: `#/studio/${id}/history`, class: 'button-link', id: 'history-link', text: t('history') }),
    el('button', { type: 'button', id: 'export-btn', text: t('export'), onclick: () => exportDraft(ed) }));
  const editor = el('div', { class: 'studio', id: 'studio-editor' },
    el('nav', { class: 'studio-tree', id: 'studio-tree', 'aria-label': t('tree') }),
    el('div', { class: 'studio-main' },
      el('div', { id: 'studio-conflict' }),
      el('div', { id: 'studio-problems', class: 'studio-problems' }),
      el('div', { id: 'studio-form', class: 'studio-form' })));
  view.append(bar, saveMsg, editor);
  /* drawn once the view is in the page (route() puts it there after this returns) */
  requestAnimationFrame(() => {
    drawAll(ed);
    scheduleCheck(ed, true);
  });
}

function drawAll(ed) {
  const title = document.getElementById('studio-title');
  if (!title) return;
  title.textContent = `${textOf(ed.doc.pack.title) || ed.pack} · ${t('revision_n', { n: ed.base })}`;
  drawTree(ed);
  drawForm(ed);
  drawConflict(ed);
  placeMessages(ed);
  showStatus(ed);
}

function showStatus(ed) {
  const s = document.getElementById('save-status');
  if (!s) return;
  s.textContent = ed.saving ? t('saving') : ed.checking ? t('checking') : ed.dirty ? t('unsaved') : t('saved');
  s.dataset.state = ed.saving ? 'saving' : ed.dirty ? 'unsaved' : 'saved';
  s.dataset.checking = ed.checking ? '1' : '';
  const sb = document.getElementById('submit-btn');
  if (sb) sb.hidden = !(ed.state === 'draft' || ed.state === 'changes_requested');
}

function select(ed, sel) {
  ed.sel = sel;
  drawTree(ed);
  drawForm(ed);
  placeMessages(ed);
}

function selKey(sel) {
  return [sel.file, sel.kind, sel.p, sel.b, sel.q].join('/');
}

function drawTree(ed) {
  const nav = document.getElementById('studio-tree');
  if (!nav) return;
  const cur = selKey(ed.sel);
  const item = (label, sel, prefix, cls) => {
    const key = selKey(sel);
    return el('li', { class: cls || null },
      el('button', {
        type: 'button', class: 'tree-item', 'data-tree-file': sel.file, 'data-tree-prefix': prefix,
        'data-sel': key, 'data-kind': sel.kind, 'data-index': [sel.p, sel.b, sel.q].filter((x) => x !== undefined).join('.'),
        'aria-current': key === cur ? 'true' : null,
        onclick: () => select(ed, sel),
      }, el('span', { class: 'label', text: label }), commentMark(ed, sel), el('span', { class: 'badge' })));
  };
  const topics = topicFiles(ed).map((f) => {
    const topic = ed.doc.topics[f];
    const pages = Array.isArray(topic.pages) ? topic.pages : [];
    const qs = topic.quiz && Array.isArray(topic.quiz.questions) ? topic.quiz.questions : [];
    return el('li', { class: 'tree-topic' },
      el('div', { class: 'tree-topic-name', text: textOf(topic.title) || topic.id || f }),
      el('ul', {},
        item(t('topic_settings'), { file: f, kind: 'topic' }, 'title'),
        pages.map((pg, p) => el('li', {},
          el('ul', { class: 'tree-page' },
            item(`${t('page_label', { n: p + 1 })} · ${textOf(pg && pg.title) || t('untitled')}`, { file: f, kind: 'page', p }, jp('pages', p)),
            (pg && Array.isArray(pg.blocks) ? pg.blocks : []).map((b, bi) => item(
              `${t('b_' + (b && b.type)) || (b && b.type)} · ${blockSummary(b)}`,
              { file: f, kind: 'block', p, b: bi }, jp(jp(jp('pages', p), 'blocks'), bi), 'tree-block'))))),
        el('li', {}, el('button', { type: 'button', class: 'tree-add', 'data-add-page': f, text: t('add_page'), onclick: () => addPage(ed, f) })),
        item(t('quiz') + (qs.length ? ` (${qs.length})` : ''), { file: f, kind: 'quiz' }, 'quiz'),
        qs.map((q, qi) => item(`${t('question_label', { n: qi + 1 })} · ${textOf(q && q.prompt) || t('untitled')}`,
          { file: f, kind: 'question', q: qi }, jp(jp('quiz', 'questions'), qi), 'tree-block'))));
  });
  const scroll = nav.scrollTop;
  nav.replaceChildren(el('h2', { text: t('tree') }),
    el('ul', { class: 'tree' },
      item(t('pack_settings'), { file: 'pack.json', kind: 'pack' }, '*'),
      topics,
      el('li', {}, el('button', { type: 'button', class: 'tree-add', id: 'add-topic', text: t('add_topic'), onclick: () => addTopic(ed) }))));
  /* the tree keeps its place; the chosen item is scrolled into its box, not the page */
  nav.scrollTop = scroll;
  const at = nav.querySelector('[aria-current="true"]');
  if (at && (at.offsetTop < nav.scrollTop || at.offsetTop + at.offsetHeight > nav.scrollTop + nav.clientHeight)) {
    nav.scrollTop = at.offsetTop - nav.clientHeight / 3;
  }
}

function blockSummary(b) {
  if (!b) return '';
  const s = textOf(b.text) || textOf(b.caption) || b.src || '';
  return s.length > 14 ? s.slice(0, 14) + '…' : s;
}

/* --- building forms ------------------------------------------------------------------------ */

/* The box a field's messages go into, tied to the input by aria-describedby. */
function msgBox(file, field, inputId) {
  const id = uid('msg');
  return el('div', { class: 'field-msgs', id, 'data-file': file, 'data-field': field, 'data-for': inputId, 'aria-live': 'polite' });
}

/* A text of two languages: zh and en side by side, with the marks. obj[key] is the text
 * object; field is its JSON path in file. */
function langField(ed, file, obj, key, field, label, opts) {
  opts = opts || {};
  const wrap = el('fieldset', { class: 'langs', 'data-file': file, 'data-field': field });
  const text = obj[key] && typeof obj[key] === 'object' ? obj[key] : {};
  const markId = uid('mark');
  const boxes = ['zh', 'en'].map((lang) => {
    const id = uid('f');
    const mbox = msgBox(file, jp(field, lang), id);
    const input = el(opts.line ? 'input' : 'textarea', {
      id, 'data-lang': lang, lang: lang === 'zh' ? 'zh-CN' : 'en', rows: opts.line ? null : String(opts.rows || 3),
      'aria-describedby': mbox.id + (lang === 'en' ? ' ' + markId : ''),
      oninput: (e) => {
        const cur = obj[key] && typeof obj[key] === 'object' ? obj[key] : (obj[key] = {});
        if (e.target.value === '' && lang === 'en') delete cur.en;
        else cur[lang] = e.target.value;
        /* what the Chinese said when the English was written */
        if (lang === 'en') ed.basis[file + '|' + field] = typeof cur.zh === 'string' ? cur.zh : '';
        changed(ed, file, jp(field, lang));
        refreshMarks(ed);
        if (opts.onchange) opts.onchange();
      },
    });
    input.value = typeof text[lang] === 'string' ? text[lang] : '';
    return el('div', { class: 'lang' },
      el('label', { for: id }, el('span', { class: 'lang-name', text: t('lang_' + lang) })), input, mbox);
  });
  const whole = msgBox(file, field, boxes[0].querySelector('textarea, input').id);
  wrap.append(el('legend', { text: label }), el('div', { class: 'lang-pair' }, boxes),
    el('p', { class: 'mark', id: markId, 'aria-live': 'polite' }), whole);
  return wrap;
}

/* A one-line value (id, version, number). set(v) stores it. */
function lineField(ed, file, field, label, value, set, attrs) {
  const id = uid('f');
  const mbox = msgBox(file, field, id);
  const input = el('input', Object.assign({ id, 'aria-describedby': mbox.id, autocomplete: 'off',
    oninput: (e) => { set(e.target.value); changed(ed, file, field); } }, attrs || {}));
  input.value = value === undefined || value === null ? '' : String(value);
  return el('div', { class: 'field' }, el('label', { for: id, text: label }), input, mbox);
}

function selectField(ed, file, field, label, value, options, set) {
  const id = uid('f');
  const mbox = msgBox(file, field, id);
  const sel = el('select', { id, 'aria-describedby': mbox.id,
    onchange: (e) => { set(e.target.value); changed(ed, file, field); } },
  options.map(([v, text]) => el('option', { value: v, text, selected: String(v) === String(value) })));
  return el('div', { class: 'field' }, el('label', { for: id, text: label }), sel, mbox);
}

function audiencesField(ed, file, obj, field) {
  const list = Array.isArray(obj.audiences) ? obj.audiences : [];
  const id = uid('aud');
  const mbox = msgBox(file, field, id + '-0');
  return el('fieldset', { class: 'field audiences' }, el('legend', { text: t('f_audiences') }),
    el('div', { class: 'checks' }, AUDIENCES.map((a, i) => {
      const cid = `${id}-${i}`;
      return el('label', { for: cid, class: 'check' },
        el('input', { type: 'checkbox', id: cid, value: a, checked: list.includes(a),
          onchange: (e) => {
            const cur = new Set(Array.isArray(obj.audiences) ? obj.audiences : []);
            if (e.target.checked) cur.add(a);
            else cur.delete(a);
            obj.audiences = AUDIENCES.filter((x) => cur.has(x));
            if (!obj.audiences.length) delete obj.audiences;
            changed(ed, file, field);
          } }), t('aud_' + a));
    })), mbox);
}

/* Up, down and delete buttons of item i of arr; after(newIndexOf) runs on a change (it is
 * given a function mapping old indexes to new ones, -1 for the deleted). */
function rowTools(ed, file, field, arr, i, after) {
  const move = (d) => {
    const j = i + d;
    if (j < 0 || j >= arr.length) return;
    [arr[i], arr[j]] = [arr[j], arr[i]];
    changed(ed, file, field);
    after((k) => (k === i ? j : k === j ? i : k), j);
  };
  const tools = el('span', { class: 'row-tools' });
  const confirmDelete = () => {
    tools.replaceChildren(
      el('button', { type: 'button', class: 'small danger', 'data-confirm': '1', text: t('remove_confirm'), onclick: () => {
        arr.splice(i, 1);
        changed(ed, file, field);
        after((k) => (k === i ? -1 : k > i ? k - 1 : k), Math.min(i, arr.length - 1));
      } }),
      el('button', { type: 'button', class: 'small', text: t('cancel'), onclick: () => tools.replaceChildren(...buttons()) }));
    tools.querySelector('button').focus();
  };
  const buttons = () => [
    el('button', { type: 'button', class: 'small', 'aria-label': t('move_up'), title: t('move_up'), disabled: i === 0, text: '↑', 'data-move': 'up', onclick: () => move(-1) }),
    el('button', { type: 'button', class: 'small', 'aria-label': t('move_down'), title: t('move_down'), disabled: i === arr.length - 1, text: '↓', 'data-move': 'down', onclick: () => move(1) }),
    el('button', { type: 'button', class: 'small', 'aria-label': t('remove'), title: t('remove'), text: '✕', 'data-remove': '1', onclick: confirmDelete }),
  ];
  tools.append(...buttons());
  return tools;
}

/* A list of items drawn by draw(item, i) with reorder and delete, and an add button. */
function listField(ed, file, field, label, arr, draw, make, addLabel, remap) {
  const box = el('fieldset', { class: 'list-field' });
  const redraw = () => {
    const again = listField(ed, file, field, label, arr, draw, make, addLabel, remap);
    box.replaceWith(again);
    placeMessages(ed);
    return again;
  };
  box.append(el('legend', { text: label }), msgBox(file, field, ''));
  arr.forEach((item, i) => {
    box.append(el('div', { class: 'list-row', 'data-row': String(i) },
      el('div', { class: 'list-row-head' }, el('span', { class: 'row-name', text: String(i + 1) }),
        rowTools(ed, file, field, arr, i, (map, focusAt) => {
          if (remap) remap(map);
          const again = redraw();
          const row = again.querySelector(`[data-row="${focusAt}"] .row-tools button`);
          if (row) row.focus();
        })),
      draw(item, i, redraw)));
  });
  box.append(el('button', { type: 'button', class: 'small add', 'data-add': field, text: addLabel, onclick: () => {
    arr.push(make());
    changed(ed, file, field);
    const again = redraw();
    const inputs = again.querySelectorAll('[data-row]');
    const last = inputs[inputs.length - 1];
    const first = last && last.querySelector('textarea, input, select');
    if (first) first.focus();
  } }));
  return box;
}

/* --- pictures ------------------------------------------------------------------------------ */

async function pictureUrl(ed, path) {
  const sha = ed.doc.files[path];
  if (!sha) return null;
  if (studio.pics.has(sha)) return studio.pics.get(sha);
  const r = await rawCall('GET', `/drafts/${ed.id}/files?path=${encodeURIComponent(path)}`);
  if (!r.ok) return null;
  const url = await blobToDataUrl(await r.blob());
  studio.pics.set(sha, url);
  return url;
}

/* A picture field: obj[key] names a file of the pack; the thumbnail, a choice of the
 * pictures already in the draft, and upload with crop to shape. */
function pictureField(ed, file, obj, key, field, label, shape, optional, onpick) {
  const id = uid('f');
  const mbox = msgBox(file, field, id);
  const thumb = el('img', { class: 'thumb', alt: '', hidden: true });
  const pics = Object.keys(ed.doc.files).filter((p) => /\.(png|jpe?g|svg)$/i.test(p)).sort();
  const cur = obj[key] || '';
  const choose = el('select', { id, 'aria-describedby': mbox.id, onchange: (e) => {
    if (e.target.value) obj[key] = e.target.value;
    else delete obj[key];
    changed(ed, file, field);
    showThumb();
    if (onpick) onpick();
  } },
  el('option', { value: '', text: t('pic_none') }),
  pics.map((p) => el('option', { value: p, text: p, selected: p === cur })),
  cur && !pics.includes(cur) ? el('option', { value: cur, text: cur, selected: true }) : null);
  const showThumb = async () => {
    const url = obj[key] ? await pictureUrl(ed, obj[key]).catch(() => null) : null;
    thumb.hidden = !url;
    if (url) {
      thumb.src = url;
      thumb.alt = obj[key];
    }
  };
  showThumb();
  const upload = el('button', { type: 'button', class: 'small', 'data-upload': field, text: t('pic_upload'), onclick: () => {
    cropDialog(ed, shape, (path) => {
      obj[key] = path;
      changed(ed, file, field);
      drawForm(ed);
      placeMessages(ed);
      if (onpick) onpick();
    });
  } });
  return el('div', { class: 'field picture', 'data-picture': field },
    el('label', { for: id, text: label + (optional ? '' : '') }),
    el('div', { class: 'picture-row' }, thumb, el('div', { class: 'picture-pick' }, choose, upload)), mbox);
}

/* The upload dialog: a file, a crop to one of SHAPES on a canvas, then the upload.
 * done(path) gets the new file's path once the server has it. */
function cropDialog(ed, shapeName, done) {
  const dlg = el('dialog', { class: 'crop-dialog', id: 'crop-dialog', 'aria-labelledby': 'crop-title' });
  const fileIn = el('input', { type: 'file', id: 'crop-file', accept: 'image/png,image/jpeg,image/svg+xml,.png,.jpg,.jpeg,.svg' });
  const shapeSel = el('select', { id: 'crop-shape' }, Object.keys(SHAPES).map((s) => el('option', { value: s, text: t('shape_' + s), selected: s === shapeName })));
  const canvas = el('canvas', { id: 'crop-canvas', width: '640', height: '480', tabindex: '0', role: 'img', 'aria-label': t('crop_help') });
  const zoom = el('input', { type: 'range', id: 'crop-zoom', min: '10', max: '100', value: '100' });
  const name = el('input', { id: 'crop-name', autocomplete: 'off' });
  const msg = el('p', { class: 'form-msg', id: 'crop-msg', role: 'alert' });
  const ok = el('button', { type: 'button', class: 'primary', id: 'crop-ok', text: t('pic_ok'), disabled: true });
  const close = () => {
    dlg.close();
    dlg.remove();
  };
  let img = null;
  let svgBytes = null;
  let kind = null;
  const crop = { x: 0, y: 0, w: 0, h: 0 }; /* in the picture's pixels */
  const view = { s: 1, ox: 0, oy: 0 };
  const fit = () => {
    if (!img) return;
    const shape = SHAPES[shapeSel.value];
    const aspect = shape ? shape.w / shape.h : img.naturalWidth / img.naturalHeight;
    const f = Number(zoom.value) / 100;
    let w = img.naturalWidth;
    let h = w / aspect;
    if (h > img.naturalHeight) {
      h = img.naturalHeight;
      w = h * aspect;
    }
    const cx = crop.w ? crop.x + crop.w / 2 : img.naturalWidth / 2;
    const cy = crop.h ? crop.y + crop.h / 2 : img.naturalHeight / 2;
    crop.w = w * f;
    crop.h = h * f;
    crop.x = Math.min(Math.max(0, cx - crop.w / 2), img.naturalWidth - crop.w);
    crop.y = Math.min(Math.max(0, cy - crop.h / 2), img.naturalHeight - crop.h);
    draw();
  };
  const draw = () => {
    const g = canvas.getContext('2d');
    g.fillStyle = '#333';
    g.fillRect(0, 0, canvas.width, canvas.height);
    if (!img) return;
    view.s = Math.min(canvas.width / img.naturalWidth, canvas.height / img.naturalHeight);
    view.ox = (canvas.width - img.naturalWidth * view.s) / 2;
    view.oy = (canvas.height - img.naturalHeight * view.s) / 2;
    g.drawImage(img, view.ox, view.oy, img.naturalWidth * view.s, img.naturalHeight * view.s);
    g.fillStyle = 'rgba(0,0,0,0.55)';
    const rx = view.ox + crop.x * view.s;
    const ry = view.oy + crop.y * view.s;
    const rw = crop.w * view.s;
    const rh = crop.h * view.s;
    g.fillRect(0, 0, canvas.width, ry);
    g.fillRect(0, ry + rh, canvas.width, canvas.height - ry - rh);
    g.fillRect(0, ry, rx, rh);
    g.fillRect(rx + rw, ry, canvas.width - rx - rw, rh);
    g.strokeStyle = '#ffd33d';
    g.lineWidth = 3;
    g.strokeRect(rx, ry, rw, rh);
  };
  const moveBy = (dx, dy) => {
    if (!img) return;
    crop.x = Math.min(Math.max(0, crop.x + dx), img.naturalWidth - crop.w);
    crop.y = Math.min(Math.max(0, crop.y + dy), img.naturalHeight - crop.h);
    draw();
  };
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    drag = { x: e.offsetX, y: e.offsetY };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const k = canvas.width / canvas.clientWidth;
    moveBy(((e.offsetX - drag.x) * k) / view.s, ((e.offsetY - drag.y) * k) / view.s);
    drag = { x: e.offsetX, y: e.offsetY };
  });
  canvas.addEventListener('pointerup', () => { drag = null; });
  canvas.addEventListener('keydown', (e) => {
    if (!img) return;
    const step = Math.max(1, Math.round(img.naturalWidth / 50));
    const keys = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (keys[e.key]) {
      e.preventDefault();
      moveBy(...keys[e.key]);
    } else if (e.key === '+' || e.key === '-') {
      e.preventDefault();
      zoom.value = String(Number(zoom.value) + (e.key === '+' ? 5 : -5));
      fit();
    }
  });
  zoom.addEventListener('input', fit);
  shapeSel.addEventListener('change', () => {
    crop.w = 0;
    fit();
  });
  fileIn.addEventListener('change', async () => {
    const f = fileIn.files[0];
    msg.textContent = '';
    ok.disabled = true;
    img = null;
    svgBytes = null;
    if (!f) return;
    const lower = f.name.toLowerCase();
    kind = lower.endsWith('.svg') || f.type === 'image/svg+xml' ? 'svg' : lower.endsWith('.png') || f.type === 'image/png' ? 'png' : 'jpeg';
    const ext = { svg: '.svg', png: '.png', jpeg: '.jpg' }[kind];
    const base = lower.replace(/\.[a-z0-9]+$/, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'picture';
    name.value = `images/${base}-${Date.now().toString(36)}${ext}`;
    if (kind === 'svg') {
      svgBytes = f;
      msg.className = 'form-msg';
      msg.textContent = t('pic_svg');
      ok.disabled = false;
      draw();
      return;
    }
    /* a data: URL, as the page's Content-Security-Policy allows no blob: pictures */
    const im = new Image();
    im.onload = () => {
      img = im;
      crop.w = 0;
      fit();
      ok.disabled = false;
    };
    im.onerror = () => {
      msg.className = 'form-msg bad';
      msg.textContent = t('pic_bad', { msg: f.name });
      draw();
    };
    im.src = await blobToDataUrl(f);
  });
  ok.addEventListener('click', async () => {
    ok.disabled = true;
    msg.className = 'form-msg';
    msg.textContent = t('pic_uploading');
    try {
      let body = svgBytes;
      if (!body) {
        const shape = SHAPES[shapeSel.value];
        const out = document.createElement('canvas');
        out.width = shape ? shape.w : Math.round(crop.w);
        out.height = shape ? shape.h : Math.round(crop.h);
        if (!shape && (out.width > 4096 || out.height > 4096)) {
          const k = 4096 / Math.max(out.width, out.height);
          out.width = Math.round(out.width * k);
          out.height = Math.round(out.height * k);
        }
        out.getContext('2d').drawImage(img, crop.x, crop.y, crop.w, crop.h, 0, 0, out.width, out.height);
        body = await new Promise((res) => out.toBlob(res, kind === 'png' ? 'image/png' : 'image/jpeg', 0.88));
      }
      const path = name.value.trim();
      const r = await rawCall('POST', `/drafts/${ed.id}/files?path=${encodeURIComponent(path)}`, body, 'application/octet-stream');
      if (!r.ok) throw await rawError(r);
      const j = await r.json();
      ed.doc.files[j.path] = j.sha256;
      studio.pics.set(j.sha256, await blobToDataUrl(body));
      close();
      done(j.path);
    } catch (e) {
      if (e instanceof Expired) return;
      msg.className = 'form-msg bad';
      msg.textContent = t('pic_failed', { msg: e.message });
      ok.disabled = false;
    }
  });
  dlg.append(
    el('h2', { id: 'crop-title', text: t('pic_title') }),
    el('label', { for: 'crop-file', text: t('pic_file') }), fileIn,
    el('label', { for: 'crop-shape', text: t('pic_shape') }), shapeSel,
    canvas,
    el('p', { class: 'note', text: t('crop_help') }),
    el('label', { for: 'crop-zoom', text: t('crop_zoom') }), zoom,
    el('label', { for: 'crop-name', text: t('pic_name') }), name,
    msg,
    el('div', { class: 'dialog-buttons' }, ok, el('button', { type: 'button', id: 'crop-cancel', text: t('cancel'), onclick: close })));
  dlg.addEventListener('cancel', () => dlg.remove());
  document.body.append(dlg);
  draw();
  dlg.showModal();
  fileIn.focus();
}

/* --- the forms of the tree's items ---------------------------------------------------------- */

function drawForm(ed) {
  const box = document.getElementById('studio-form');
  if (!box) return;
  const s = ed.sel;
  let form = null;
  try {
    if (s.kind === 'pack') form = packForm(ed);
    else if (!ed.doc.topics[s.file]) form = packForm(ed);
    else if (s.kind === 'topic') form = topicForm(ed, s.file);
    else if (s.kind === 'page') form = pageForm(ed, s.file, s.p);
    else if (s.kind === 'block') form = pageForm(ed, s.file, s.p);
    else if (s.kind === 'quiz') form = quizForm(ed, s.file);
    else if (s.kind === 'question') form = questionForm(ed, s.file, s.q);
  } catch (e) {
    /* a form that cannot be drawn (a hand-made draft of an odd shape) falls back to the
     * pack's; the error still reaches the console */
    form = null;
    setTimeout(() => { throw e; });
  }
  if (!form) {
    ed.sel = { file: 'pack.json', kind: 'pack' };
    form = packForm(ed);
  }
  box.replaceChildren(form);
  if (s.kind === 'block') {
    const b = document.getElementById(`block-${s.p}-${s.b}`);
    if (b) requestAnimationFrame(() => b.scrollIntoView({ block: 'start' }));
  }
}

function formCard(title, tools, ...body) {
  return el('section', { class: 'card studio-card' },
    el('div', { class: 'card-head' }, el('h2', { id: 'form-title', text: title }), el('div', { class: 'tools' }, tools)),
    body);
}

function packForm(ed) {
  const p = ed.doc.pack;
  const f = 'pack.json';
  const files = topicFiles(ed);
  return formCard(t('pack_settings'), null,
    commentBox(ed, { file: f, kind: 'pack' }),
    el('div', { class: 'grid-fields' },
      lineField(ed, f, 'id', t('f_id'), p.id, (v) => { p.id = v; }),
      lineField(ed, f, 'version', t('f_version'), p.version, (v) => { p.version = v; }),
      selectField(ed, f, 'format', t('f_format'), p.format, [[1, '1'], [2, '2']], (v) => { p.format = Number(v); })),
    langField(ed, f, p, 'title', 'title', t('f_title'), { line: true, onchange: () => drawAll(ed) }),
    audiencesField(ed, f, p, 'audiences'),
    el('fieldset', { class: 'list-field' }, el('legend', { text: t('col_topic') }), msgBox(f, 'topics', ''),
      Array.isArray(p.topics) && files.map((tf, i) => el('div', { class: 'list-row' },
        el('div', { class: 'list-row-head' }, el('span', { class: 'row-name', text: `${i + 1}. ${textOf(ed.doc.topics[tf].title) || tf}` }),
          rowTools(ed, f, 'topics', p.topics, p.topics.findIndex((x) => (typeof x === 'string' ? x : x && x.file) === tf), (map) => {
            if (!p.topics.some((x) => (typeof x === 'string' ? x : x && x.file) === tf)) delete ed.doc.topics[tf];
            drawAll(ed);
          }))))));
}

function topicForm(ed, f) {
  const topic = ed.doc.topics[f];
  if (!Array.isArray(topic.references)) topic.references = topic.references ? [].concat(topic.references) : [];
  const refs = topic.references;
  return formCard(`${t('topic_settings')} · ${textOf(topic.title) || f}`, null,
    commentBox(ed, { file: f, kind: 'topic' }),
    lineField(ed, f, 'id', t('f_id'), topic.id, (v) => { topic.id = v; }),
    langField(ed, f, topic, 'title', 'title', t('f_title'), { line: true, onchange: () => drawTree(ed) }),
    langField(ed, f, topic, 'summary', 'summary', t('f_summary'), { rows: 3 }),
    pictureField(ed, f, topic, 'cover', 'cover', t('f_cover'), 'cover'),
    audiencesField(ed, f, topic, 'audiences'),
    listField(ed, f, 'references', t('f_references'), refs, (ref, i) => {
      const id = uid('f');
      const mbox = msgBox(f, jp('references', i), id);
      const input = el('input', { id, 'aria-describedby': mbox.id, class: 'wide', oninput: (e) => { refs[i] = e.target.value; changed(ed, f, jp('references', i)); } });
      input.value = ref || '';
      return el('div', { class: 'field' }, el('label', { for: id, class: 'sr-only', text: t('f_reference', { n: i + 1 }) }), input, mbox);
    }, () => '', t('add_reference')));
}

function pageTools(ed, f, arr, i, kind) {
  return rowTools(ed, f, kind === 'page' ? 'pages' : '', arr, i, (map, focusAt) => {
    const topic = ed.doc.topics[f];
    if (kind === 'page') {
      /* questions point at pages by index: keep them pointing at the same page */
      for (const q of (topic.quiz && topic.quiz.questions) || []) {
        if (q && typeof q.page === 'number') {
          const n = map(q.page);
          if (n < 0) delete q.page;
          else q.page = n;
        }
      }
      if (focusAt >= 0 && arr.length) ed.sel = { file: f, kind: 'page', p: focusAt };
      else ed.sel = { file: f, kind: 'topic' };
    } else if (kind === 'block') {
      const p = ed.sel.p;
      ed.sel = focusAt >= 0 && arr.length ? { file: f, kind: 'block', p, b: focusAt } : { file: f, kind: 'page', p };
      drawTree(ed);
      drawForm(ed);
      placeMessages(ed);
      const moved = document.querySelector(`#block-${p}-${focusAt} .row-tools button:not([disabled])`);
      if (moved) moved.focus();
      return;
    } else if (kind === 'question') {
      ed.sel = focusAt >= 0 && arr.length ? { file: f, kind: 'question', q: focusAt } : { file: f, kind: 'quiz' };
    }
    drawTree(ed);
    drawForm(ed);
    placeMessages(ed);
    const b = document.querySelector('#studio-form .card-head .row-tools button:not([disabled])');
    if (b) b.focus();
  });
}

function pageForm(ed, f, p) {
  const topic = ed.doc.topics[f];
  const pg = topic.pages[p];
  if (!pg || typeof pg !== 'object') return null;
  if (!Array.isArray(pg.blocks)) pg.blocks = [];
  const path = jp('pages', p);
  const typeSel = el('select', { id: 'add-block-type', 'aria-label': t('add_block') },
    BLOCK_TYPES.map((b) => el('option', { value: b, text: t('b_' + b) })));
  return formCard(`${textOf(topic.title) || f} · ${t('page_label', { n: p + 1 })}`, pageTools(ed, f, topic.pages, p, 'page'),
    commentBox(ed, { file: f, kind: 'page', p }),
    langField(ed, f, pg, 'title', jp(path, 'title'), t('f_title'), { line: true, onchange: () => drawTree(ed) }),
    msgBox(f, jp(path, 'blocks'), 'add-block-type'),
    ...pg.blocks.map((b, i) => blockEditor(ed, f, p, i)),
    el('div', { class: 'add-row' }, typeSel,
      el('button', { type: 'button', id: 'add-block', text: t('add_block'), onclick: () => addBlock(ed, f, p, typeSel.value) })),
    previewBox(ed, f, { page: p + 1 }, t('page_label', { n: p + 1 })));
}

function newBlock(type) {
  const text = () => ({ zh: '' });
  switch (type) {
  case 'text': case 'fact': return { type, text: text() };
  case 'image': return { type, src: '', caption: text() };
  case 'hotspots': return { type, src: '', caption: text(), spots: [{ id: 'spot-1', x: 0.5, y: 0.5, label: text(), text: text() }] };
  case 'compare': return { type, caption: text(), before: { src: '', label: text() }, after: { src: '', label: text() } };
  case 'sequence': return { type, caption: text(), frames: [{ src: '', label: text() }, { src: '', label: text() }] };
  case 'steps': return { type, steps: [{ title: text(), text: text() }, { title: text(), text: text() }] };
  default: return { type };
  }
}

function addBlock(ed, f, p, type) {
  const pg = ed.doc.topics[f].pages[p];
  pg.blocks.push(newBlock(type));
  if (FORMAT2_BLOCKS.has(type) && ed.doc.pack.format !== 2) {
    ed.doc.pack.format = 2;
    ed.banner = { key: 'format2_note', cls: '' };
  }
  changed(ed, f, jp(jp(jp('pages', p), 'blocks'), pg.blocks.length - 1));
  select(ed, { file: f, kind: 'block', p, b: pg.blocks.length - 1 });
  const first = document.querySelector(`#block-${p}-${pg.blocks.length - 1} textarea, #block-${p}-${pg.blocks.length - 1} select`);
  if (first) first.focus();
}

function addPage(ed, f) {
  const topic = ed.doc.topics[f];
  if (!Array.isArray(topic.pages)) topic.pages = [];
  topic.pages.push({ title: { zh: '' }, blocks: [{ type: 'text', text: { zh: '' } }] });
  const p = topic.pages.length - 1;
  changed(ed, f, jp('pages', p));
  select(ed, { file: f, kind: 'page', p });
  const first = document.querySelector('#studio-form input[data-lang="zh"]');
  if (first) first.focus();
}

function addTopic(ed) {
  const have = new Set(Object.keys(ed.doc.topics).map((f) => ed.doc.topics[f].id));
  let n = 1;
  while (have.has('topic-' + n) || ed.doc.topics[`topics/topic-${n}.json`]) n++;
  const f = `topics/topic-${n}.json`;
  ed.doc.topics[f] = {
    id: 'topic-' + n, title: { zh: '' }, summary: { zh: '' }, references: [],
    pages: [{ title: { zh: '' }, blocks: [{ type: 'text', text: { zh: '' } }] }],
  };
  if (!Array.isArray(ed.doc.pack.topics)) ed.doc.pack.topics = [];
  ed.doc.pack.topics.push(f);
  changed(ed, 'pack.json', 'topics');
  select(ed, { file: f, kind: 'topic' });
  const first = document.querySelector('#studio-form input');
  if (first) first.focus();
}

/* One block of a page, edited in the page's form: its fields and its reorder buttons. */
function blockEditor(ed, f, p, bi) {
  const pg = ed.doc.topics[f].pages[p];
  const b = pg.blocks[bi];
  const path = jp(jp(jp('pages', p), 'blocks'), bi);
  const name = `${t('b_' + (b && b.type)) || (b && b.type) || '?'} ${bi + 1}`;
  return el('section', { class: 'block-editor', id: `block-${p}-${bi}`, 'data-block': String(bi), 'data-type': b && b.type, 'aria-label': name },
    el('div', { class: 'list-row-head' }, el('h3', { text: name }), pageTools(ed, f, pg.blocks, bi, 'block')),
    msgBox(f, path, ''), msgBox(f, jp(path, 'type'), ''),
    b && typeof b === 'object' ? blockFields(ed, f, p, bi) : el('p', { class: 'note', text: JSON.stringify(b) }));
}

function blockFields(ed, f, p, bi) {
  const topic = ed.doc.topics[f];
  const pg = topic.pages[p];
  const b = pg && pg.blocks && pg.blocks[bi];
  const path = jp(jp(jp('pages', p), 'blocks'), bi);
  const kids = [];
  const shape = b.type === 'compare' ? 'compare' : 'page';
  if (b.type === 'text' || b.type === 'fact') {
    kids.push(langField(ed, f, b, 'text', jp(path, 'text'), t('f_text'), { rows: 6, onchange: () => drawTree(ed) }));
  } else if (b.type === 'image') {
    kids.push(pictureField(ed, f, b, 'src', jp(path, 'src'), t('f_src'), 'page', false, () => drawTree(ed)),
      langField(ed, f, b, 'caption', jp(path, 'caption'), t('f_caption'), { line: true }));
  } else if (b.type === 'hotspots') {
    if (!Array.isArray(b.spots)) b.spots = [];
    kids.push(pictureField(ed, f, b, 'src', jp(path, 'src'), t('f_src'), 'page'),
      hotspotPlacer(ed, f, b, path),
      langField(ed, f, b, 'caption', jp(path, 'caption'), t('f_caption'), { line: true }),
      listField(ed, f, jp(path, 'spots'), t('f_spots'), b.spots, (s, i) => spotFields(ed, f, s, jp(jp(path, 'spots'), i)),
        () => ({ id: 'spot-' + (b.spots.length + 1), x: 0.5, y: 0.5, label: { zh: '' }, text: { zh: '' } }), t('add_spot')));
  } else if (b.type === 'compare') {
    for (const side of ['before', 'after']) {
      if (!b[side] || typeof b[side] !== 'object') b[side] = {};
      kids.push(el('fieldset', { class: 'list-field' }, el('legend', { text: t('f_' + side) }),
        pictureField(ed, f, b[side], 'src', jp(jp(path, side), 'src'), t('f_src'), shape),
        langField(ed, f, b[side], 'label', jp(jp(path, side), 'label'), t('f_label'), { line: true })));
    }
    kids.push(langField(ed, f, b, 'caption', jp(path, 'caption'), t('f_caption'), { line: true }));
  } else if (b.type === 'sequence') {
    if (!Array.isArray(b.frames)) b.frames = [];
    kids.push(langField(ed, f, b, 'caption', jp(path, 'caption'), t('f_caption'), { line: true }),
      listField(ed, f, jp(path, 'frames'), t('f_frames'), b.frames, (fr, i) => el('div', {},
        pictureField(ed, f, fr, 'src', jp(jp(jp(path, 'frames'), i), 'src'), t('f_src'), 'page'),
        langField(ed, f, fr, 'label', jp(jp(jp(path, 'frames'), i), 'label'), t('f_label'), { line: true }),
        langField(ed, f, fr, 'text', jp(jp(jp(path, 'frames'), i), 'text'), t('f_text'), { rows: 2 })),
      () => ({ src: '', label: { zh: '' } }), t('add_frame')));
  } else if (b.type === 'steps') {
    if (!Array.isArray(b.steps)) b.steps = [];
    kids.push(listField(ed, f, jp(path, 'steps'), t('f_steps'), b.steps, (st, i) => el('div', {},
      langField(ed, f, st, 'title', jp(jp(jp(path, 'steps'), i), 'title'), t('f_title'), { line: true }),
      langField(ed, f, st, 'text', jp(jp(jp(path, 'steps'), i), 'text'), t('f_text'), { rows: 3 }),
      pictureField(ed, f, st, 'image', jp(jp(jp(path, 'steps'), i), 'image'), t('f_image'), 'page', true)),
    () => ({ title: { zh: '' }, text: { zh: '' } }), t('add_step')));
  } else {
    kids.push(el('p', { class: 'note', text: b.type }));
  }
  return kids;
}

function spotFields(ed, f, s, path) {
  return el('div', {},
    el('div', { class: 'grid-fields' },
      lineField(ed, f, jp(path, 'id'), t('f_id'), s.id, (v) => { s.id = v; }),
      lineField(ed, f, jp(path, 'x'), t('f_x'), s.x, (v) => { s.x = Number(v); }, { type: 'number', min: '0', max: '1', step: '0.01' }),
      lineField(ed, f, jp(path, 'y'), t('f_y'), s.y, (v) => { s.y = Number(v); }, { type: 'number', min: '0', max: '1', step: '0.01' })),
    langField(ed, f, s, 'label', jp(path, 'label'), t('f_label'), { line: true }),
    langField(ed, f, s, 'text', jp(path, 'text'), t('f_text'), { rows: 2 }),
    pictureField(ed, f, s, 'image', jp(path, 'image'), t('f_image'), 'page', true));
}

/* Clicking the picture places the next hotspot (the form's numbers stay the way to type
 * them exactly). */
function hotspotPlacer(ed, f, b, path) {
  const img = el('img', { class: 'placer', alt: t('click_to_place', { n: 1 }), hidden: true });
  let next = 0;
  img.addEventListener('click', (e) => {
    if (!b.spots.length) return;
    const s = b.spots[next % b.spots.length];
    s.x = Math.round((e.offsetX / img.clientWidth) * 100) / 100;
    s.y = Math.round((e.offsetY / img.clientHeight) * 100) / 100;
    changed(ed, f, jp(jp(jp(path, 'spots'), next % b.spots.length), 'x'));
    next++;
    drawForm(ed);
    placeMessages(ed);
  });
  if (b.src) {
    pictureUrl(ed, b.src).then((url) => {
      if (!url) return;
      img.src = url;
      img.hidden = false;
    }).catch(() => {});
  }
  return img;
}

function quizForm(ed, f) {
  const topic = ed.doc.topics[f];
  const qs = topic.quiz && Array.isArray(topic.quiz.questions) ? topic.quiz.questions : [];
  const typeSel = el('select', { id: 'add-question-type', 'aria-label': t('f_qtype') },
    QUESTION_TYPES.map((q) => el('option', { value: q, text: t('q_' + q) })));
  return formCard(`${textOf(topic.title) || f} · ${t('quiz')}`, null,
    msgBox(f, 'quiz', 'add-question-type'), msgBox(f, 'quiz.questions', 'add-question-type'),
    el('ol', { class: 'block-list' }, qs.map((q, i) => el('li', {},
      el('button', { type: 'button', class: 'link', text: `${t('q_' + (q && q.type)) || ''}：${textOf(q && q.prompt) || t('untitled')}`,
        onclick: () => select(ed, { file: f, kind: 'question', q: i }) })))),
    el('div', { class: 'add-row' }, typeSel,
      el('button', { type: 'button', id: 'add-question', text: t('add_question'), onclick: () => addQuestion(ed, f, typeSel.value) })));
}

function newQuestion(type, id) {
  const text = () => ({ zh: '' });
  const q = { id, type, prompt: text() };
  if (type === 'single' || type === 'multi' || type === 'order') q.choices = [{ text: text() }, { text: text() }, { text: text() }];
  if (type === 'single') q.answer = [0];
  if (type === 'multi') q.answer = [0];
  if (type === 'truefalse') q.answer = [0];
  if (type === 'order') q.answer = [0, 1, 2];
  if (type === 'hotspot') {
    q.image = '';
    q.regions = [{ x: 0.5, y: 0.5, r: 0.1 }];
    q.answer = [0];
  }
  q.explain = text();
  q.difficulty = 1;
  return q;
}

function addQuestion(ed, f, type) {
  const topic = ed.doc.topics[f];
  if (!topic.quiz || typeof topic.quiz !== 'object') topic.quiz = {};
  if (!Array.isArray(topic.quiz.questions)) topic.quiz.questions = [];
  const qs = topic.quiz.questions;
  const ids = new Set(qs.map((q) => q && q.id));
  let n = qs.length + 1;
  while (ids.has('q' + n)) n++;
  qs.push(newQuestion(type, 'q' + n));
  if (FORMAT2_QUESTIONS.has(type) && ed.doc.pack.format !== 2) {
    ed.doc.pack.format = 2;
    ed.banner = { key: 'format2_note', cls: '' };
  }
  changed(ed, f, jp('quiz.questions', qs.length - 1));
  select(ed, { file: f, kind: 'question', q: qs.length - 1 });
  const first = document.querySelector('#studio-form textarea[data-lang="zh"]');
  if (first) first.focus();
}

function questionForm(ed, f, qi) {
  const topic = ed.doc.topics[f];
  const qs = topic.quiz.questions;
  const q = qs[qi];
  if (!q || typeof q !== 'object') return null;
  const path = jp('quiz.questions', qi);
  const pages = Array.isArray(topic.pages) ? topic.pages : [];
  const redraw = () => {
    drawForm(ed);
    placeMessages(ed);
  };
  const kids = [
    el('div', { class: 'grid-fields' },
      lineField(ed, f, jp(path, 'id'), t('f_id'), q.id, (v) => { q.id = v; }),
      selectField(ed, f, jp(path, 'type'), t('f_qtype'), q.type, QUESTION_TYPES.map((x) => [x, t('q_' + x)]), (v) => {
        q.type = v;
        if ((v === 'single' || v === 'multi' || v === 'order') && !Array.isArray(q.choices)) q.choices = [{ text: { zh: '' } }, { text: { zh: '' } }];
        if (v === 'truefalse') delete q.choices;
        if (v !== 'multi' && v !== 'order' && Array.isArray(q.answer)) q.answer = q.answer.slice(0, 1);
        if (v === 'order' && Array.isArray(q.choices)) q.answer = q.choices.map((c, i) => i);
        if (v === 'hotspot' && !Array.isArray(q.regions)) q.regions = [{ x: 0.5, y: 0.5, r: 0.1 }];
        if (FORMAT2_QUESTIONS.has(v)) ed.doc.pack.format = 2;
        redraw();
      }),
      selectField(ed, f, jp(path, 'difficulty'), t('f_difficulty'), q.difficulty || 1, [[1, t('d_1')], [2, t('d_2')], [3, t('d_3')]], (v) => { q.difficulty = Number(v); }),
      selectField(ed, f, jp(path, 'page'), t('f_page'), typeof q.page === 'number' ? q.page : '',
        [['', t('f_page_none')], ...pages.map((pg, i) => [i, `${t('page_label', { n: i + 1 })} · ${textOf(pg && pg.title) || t('untitled')}`])],
        (v) => { if (v === '') delete q.page; else q.page = Number(v); })),
    langField(ed, f, q, 'prompt', jp(path, 'prompt'), t('f_prompt'), { rows: 2, onchange: () => drawTree(ed) }),
    pictureField(ed, f, q, 'image', jp(path, 'image'), q.type === 'hotspot' ? t('f_src') : t('f_image'), 'page', q.type !== 'hotspot'),
  ];
  if (!Array.isArray(q.answer)) q.answer = [];
  if (q.type === 'truefalse') {
    const name = uid('tf');
    kids.push(el('fieldset', { class: 'field answer' }, el('legend', { text: t('f_answer') }), msgBox(f, jp(path, 'answer'), name + '-0'),
      [t('tf_true'), t('tf_false')].map((w, i) => el('label', { class: 'check', for: `${name}-${i}` },
        el('input', { type: 'radio', name, id: `${name}-${i}`, checked: q.answer[0] === i, onchange: () => { q.answer = [i]; changed(ed, f, jp(path, 'answer')); } }), w))));
  } else if (q.type === 'single' || q.type === 'multi' || q.type === 'order') {
    if (!Array.isArray(q.choices)) q.choices = [];
    const multi = q.type === 'multi';
    const name = uid('ans');
    kids.push(listField(ed, f, jp(path, 'choices'), t('f_choices'), q.choices, (c, i) => {
      if (!c || typeof c !== 'object') q.choices[i] = c = { text: { zh: '' } };
      const cpath = jp(jp(path, 'choices'), i);
      const pick = q.type === 'order' ? null : el('label', { class: 'check right-answer', for: `${name}-${i}` },
        el('input', { type: multi ? 'checkbox' : 'radio', name, id: `${name}-${i}`, checked: q.answer.includes(i),
          'data-answer': String(i),
          onchange: (e) => {
            if (multi) {
              const set = new Set(q.answer);
              if (e.target.checked) set.add(i);
              else set.delete(i);
              q.answer = [...set].sort((a, b) => a - b);
            } else {
              q.answer = [i];
            }
            changed(ed, f, jp(path, 'answer'));
          } }), t('f_answer'));
      return el('div', { class: 'choice' }, langField(ed, f, c, 'text', jp(cpath, 'text'), t('f_choice', { n: i + 1 }), { line: true }), pick);
    }, () => ({ text: { zh: '' } }), t('add_choice'), (map) => {
      q.answer = q.answer.map(map).filter((k) => k >= 0);
      if (q.type === 'order') {
        const have = new Set(q.answer);
        q.choices.forEach((c, i) => { if (!have.has(i)) q.answer.push(i); });
      }
      redraw();
    }));
    if (q.type === 'order') kids.push(orderField(ed, f, q, path));
    kids.push(msgBox(f, jp(path, 'answer'), ''));
  } else if (q.type === 'hotspot') {
    if (!Array.isArray(q.regions)) q.regions = [];
    const name = uid('reg');
    kids.push(listField(ed, f, jp(path, 'regions'), t('f_regions'), q.regions, (r, i) => {
      const rpath = jp(jp(path, 'regions'), i);
      return el('div', { class: 'grid-fields' },
        lineField(ed, f, jp(rpath, 'x'), t('f_x'), r.x, (v) => { r.x = Number(v); }, { type: 'number', min: '0', max: '1', step: '0.01' }),
        lineField(ed, f, jp(rpath, 'y'), t('f_y'), r.y, (v) => { r.y = Number(v); }, { type: 'number', min: '0', max: '1', step: '0.01' }),
        lineField(ed, f, jp(rpath, 'r'), t('f_r'), r.r, (v) => { r.r = Number(v); }, { type: 'number', min: '0', max: '1', step: '0.01' }),
        el('label', { class: 'check', for: `${name}-${i}` }, el('input', { type: 'radio', name, id: `${name}-${i}`, checked: q.answer[0] === i,
          onchange: () => { q.answer = [i]; changed(ed, f, jp(path, 'answer')); } }), t('f_answer')));
    }, () => ({ x: 0.5, y: 0.5, r: 0.1 }), t('add_region'), (map) => {
      q.answer = q.answer.map(map).filter((k) => k >= 0);
      redraw();
    }));
    kids.push(msgBox(f, jp(path, 'answer'), ''));
  }
  kids.push(langField(ed, f, q, 'explain', jp(path, 'explain'), t('f_explain'), { rows: 3 }),
    audiencesField(ed, f, q, jp(path, 'audiences')),
    previewBox(ed, f, { question: q.id }, t('question_label', { n: qi + 1 })));
  return formCard(`${textOf(topic.title) || f} · ${t('question_label', { n: qi + 1 })}`, pageTools(ed, f, qs, qi, 'question'),
    commentBox(ed, { file: f, kind: 'question', q: qi }), msgBox(f, path, ''), ...kids);
}

/* The right order of an order question: the choices listed as the answer says, moved by
 * buttons. */
function orderField(ed, f, q, path) {
  const box = el('fieldset', { class: 'list-field' }, el('legend', { text: t('f_order') }));
  const ans = q.answer;
  ans.forEach((ci, k) => {
    box.append(el('div', { class: 'list-row-head' },
      el('span', { class: 'row-name', text: `${k + 1}. ${textOf(q.choices[ci] && q.choices[ci].text) || t('f_choice', { n: ci + 1 })}` }),
      rowTools(ed, f, jp(path, 'answer'), ans, k, () => {
        drawForm(ed);
        placeMessages(ed);
      })));
  });
  return box;
}

/* --- preview on the real kiosk ------------------------------------------------------------- */

const PREVIEW_SIZES = [['landscape', '1920x1080'], ['portrait', '1080x1920']];

function previewBox(ed, f, what, label) {
  const langSel = el('select', { id: 'preview-lang' }, ['zh', 'en'].map((l) => el('option', { value: l, text: t('lang_' + l) })));
  const large = el('input', { type: 'checkbox', id: 'preview-large' });
  const out = el('div', { class: 'previews', id: 'previews', 'aria-live': 'polite' });
  const msg = el('p', { class: 'form-msg', id: 'preview-msg', role: 'status' });
  const btn = el('button', { type: 'button', id: 'preview-btn', text: t('preview_btn') });
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    msg.className = 'form-msg';
    msg.textContent = t('previewing');
    out.replaceChildren();
    try {
      if (ed.dirty && !(await save(ed, t('preview')))) throw new Error(t('unsaved'));
      const topic = ed.doc.topics[f];
      for (const [orient, size] of PREVIEW_SIZES) {
        const body = Object.assign({ topic: topic.id, lang: langSel.value, size, large_text: large.checked, revision: ed.base }, what);
        const r = await rawCall('POST', `/drafts/${ed.id}/preview`, JSON.stringify(body), 'application/json');
        if (!r.ok) {
          const e = await rawError(r);
          if (r.status === 404 && !(e.body && e.body.error && /draft|topic|question|page/.test(e.body.error))) throw new Error(t('preview_none'));
          if (e.body && Array.isArray(e.body.messages)) {
            ed.msgs = e.body.messages;
            placeMessages(ed);
          }
          throw e;
        }
        const [w, h] = size.split('x');
        out.append(el('figure', { class: 'preview ' + orient },
          el('img', { src: await blobToDataUrl(await r.blob()), 'data-orient': orient, width: w, height: h,
            alt: t('preview_alt', { what: label, orient: t(orient), size: size.replace('x', '×') }) }),
          el('figcaption', { text: `${t(orient)} ${size.replace('x', '×')}` })));
      }
      msg.textContent = '';
    } catch (e) {
      if (e instanceof Expired) return;
      msg.className = 'form-msg bad';
      msg.textContent = t('preview_failed', { msg: e.message });
    } finally {
      btn.disabled = false;
    }
  });
  return el('section', { class: 'preview-box' }, el('h3', { text: t('preview') }),
    el('p', { class: 'note', text: t('preview_saves') }),
    el('div', { class: 'add-row' },
      el('label', { for: 'preview-lang', text: t('preview_lang') }), langSel,
      el('label', { for: 'preview-large', class: 'check' }, large, t('large_text')), btn),
    msg, out);
}

/* --- save, conflicts, export ----------------------------------------------------------------- */

/* Saves the working copy as the next revision. Returns true when the server took it. */
async function save(ed, autoNote) {
  if (ed.saving) return false;
  const msg = document.getElementById('save-msg');
  const note = autoNote || ed.note.trim();
  ed.saving = true;
  showStatus(ed);
  try {
    const j = await api('PUT', '/drafts/' + ed.id, { base_revision: ed.base, note, source: ed.doc });
    ed.base = j.revision;
    ed.head = j.revision;
    ed.state = 'draft';
    ed.baseDoc = clone(ed.doc);
    ed.dirty = false;
    if (!autoNote) ed.note = '';
    ed.conflict = null;
    keepLocal(ed);
    const n = document.getElementById('save-note');
    if (n && !autoNote) n.value = '';
    if (msg) {
      msg.textContent = t('saved_as', { n: j.revision });
      msg.className = 'form-msg good';
    }
    const title = document.getElementById('studio-title');
    if (title) title.textContent = `${textOf(ed.doc.pack.title) || ed.pack} · ${t('revision_n', { n: ed.base })}`;
    return true;
  } catch (e) {
    if (e instanceof Expired) return false;
    if (e.status === 409) {
      const head = await api('GET', '/drafts/' + ed.id);
      ed.conflict = makeConflict(ed, head);
      drawConflict(ed);
      if (msg) {
        msg.textContent = t('save_failed', { msg: e.message });
        msg.className = 'form-msg bad';
      }
      const c = document.getElementById('studio-conflict');
      if (c) c.scrollIntoView();
      return false;
    }
    if (msg) {
      msg.textContent = t('save_failed', { msg: e.message });
      msg.className = 'form-msg bad';
    }
    return false;
  } finally {
    ed.saving = false;
    showStatus(ed);
  }
}

/* The three-way comparison after a refused save: base (what this browser started from),
 * theirs (the latest revision) and mine (the working copy), leaf by leaf. */
function makeConflict(ed, head) {
  const theirsDoc = Object.assign({ files: {} }, head.source);
  const base = docLeaves(ed.baseDoc);
  const theirs = docLeaves(theirsDoc);
  const mine = docLeaves(ed.doc);
  const keys = [...new Set([...Object.keys(base), ...Object.keys(theirs), ...Object.keys(mine)])];
  const auto = [];
  const clashes = [];
  for (const k of keys) {
    if (same(base[k], theirs[k])) continue; /* they did not touch it: mine stands */
    if (same(base[k], mine[k])) auto.push(k); /* only they changed it */
    else if (!same(theirs[k], mine[k])) clashes.push({ key: k, base: base[k], theirs: theirs[k], mine: mine[k], keep: 'mine' });
  }
  return { head: head.head, headDoc: theirsDoc, theirs, auto, clashes };
}

function drawConflict(ed) {
  const box = document.getElementById('studio-conflict');
  if (!box) return;
  const c = ed.conflict;
  if (!c) {
    box.replaceChildren();
    return;
  }
  const rows = c.clashes.map((x, i) => {
    const [file, field] = [x.key.slice(0, x.key.indexOf('|')), x.key.slice(x.key.indexOf('|') + 1)];
    const name = uid('keep');
    return el('tr', { 'data-clash': x.key },
      el('th', { scope: 'row', text: fieldName(file, field) }),
      el('td', { class: 'wrap', text: shown(x.base) }),
      el('td', { class: 'wrap theirs', text: shown(x.theirs) }),
      el('td', { class: 'wrap mine', text: shown(x.mine) }),
      el('td', {}, ['mine', 'theirs'].map((k) => el('label', { class: 'check', for: `${name}-${k}` },
        el('input', { type: 'radio', name, id: `${name}-${k}`, value: k, 'data-keep': k, checked: x.keep === k,
          'aria-label': `${fieldName(file, field)}: ${t('keep_' + k)}`,
          onchange: () => { c.clashes[i].keep = k; } }), t('keep_' + k)))));
  });
  box.replaceChildren(el('section', { class: 'card conflict', id: 'conflict-view', role: 'region', 'aria-labelledby': 'conflict-title' },
    el('h2', { id: 'conflict-title', text: t('conflict_title') }),
    el('p', { text: t('conflict_note', { base: ed.base, head: c.head }) }),
    c.auto.length ? el('p', { class: 'note', text: t('conflict_auto', { n: c.auto.length }) }) : null,
    rows.length ? el('div', { class: 'table-wrap' }, el('table', { 'data-table': 'conflict' },
      el('thead', {}, el('tr', {}, ['col_field', 'col_base', 'col_theirs', 'col_yours', 'col_choice'].map((k) => el('th', { scope: 'col', text: t(k) })))),
      el('tbody', {}, rows))) : el('p', { class: 'note', text: t('conflict_none') }),
    el('div', { class: 'add-row' },
      el('button', { type: 'button', class: 'primary', id: 'merge-btn', text: t('merge_btn'), onclick: () => merge(ed) }),
      el('button', { type: 'button', id: 'reload-btn', text: t('reload_btn'), onclick: () => reloadDraft(ed) }),
      el('span', { class: 'note', text: t('reload_note') }))));
}

function merge(ed) {
  const c = ed.conflict;
  const doc = clone(ed.doc);
  for (const k of c.auto) setLeaf(doc, k, c.theirs[k]);
  for (const x of c.clashes) if (x.keep === 'theirs') setLeaf(doc, x.key, x.theirs);
  doc.pack = compact(doc.pack);
  for (const f of Object.keys(doc.topics)) doc.topics[f] = compact(doc.topics[f]);
  ed.doc = doc;
  ed.base = c.head;
  ed.baseDoc = clone(c.headDoc);
  ed.conflict = null;
  ed.banner = null;
  changed(ed);
  drawAll(ed);
  const msg = document.getElementById('save-msg');
  if (msg) {
    msg.textContent = t('merged');
    msg.className = 'form-msg good';
  }
  const s = document.getElementById('save-btn');
  if (s) s.focus();
}

async function reloadDraft(ed) {
  try {
    localStorage.setItem(localKey(ed.id) + '-kept-' + Date.now(), JSON.stringify({ base: ed.base, doc: ed.doc }));
  } catch (e) {
    /* full: the text is dropped as asked */
  }
  ed.dirty = false;
  keepLocal(ed);
  studio.ed = null;
  await openDraft(ed.id, true);
  route();
}

async function exportDraft(ed) {
  const r = await rawCall('GET', `/drafts/${ed.id}/export`);
  if (!r.ok) {
    const msg = document.getElementById('save-msg');
    if (msg) {
      msg.textContent = (await rawError(r)).message;
      msg.className = 'form-msg bad';
    }
    return;
  }
  const disp = r.headers.get('Content-Disposition') || '';
  const m = disp.match(/filename="([^"]+)"/);
  download(await r.blob(), m ? m[1] : `${ed.pack}.tar.gz`);
}

/* --- history ------------------------------------------------------------------------------- */

async function pageHistory(view, id) {
  const ed = await openDraft(id);
  const revs = await api('GET', `/drafts/${id}/revisions`);
  const msg = el('p', { class: 'form-msg', id: 'history-msg', role: 'status' });
  const diffBox = el('div', { id: 'diff-box', 'aria-live': 'polite' });
  const opts = (sel) => revs.map((r) => el('option', { value: r.revision, text: t('revision_n', { n: r.revision }), selected: r.revision === sel }));
  const last = revs.length ? revs[revs.length - 1].revision : 1;
  const fromSel = el('select', { id: 'diff-from' }, opts(Math.max(1, last - 1)));
  const toSel = el('select', { id: 'diff-to' }, opts(last));
  let asked = 0;
  const compare = async () => {
    const mine = ++asked;
    const d = await api('GET', `/drafts/${id}/diff?from=${fromSel.value}&to=${toSel.value}`);
    if (mine !== asked) return; /* a later comparison was asked for */
    diffBox.dataset.from = String(d.from);
    diffBox.dataset.to = String(d.to);
    diffBox.replaceChildren(d.changes.length ? table('diff', [
      { key: 'where', label: t('col_field') },
      { key: 'from', label: t('col_from'), fmt: shown, cls: () => 'wrap' },
      { key: 'to', label: t('col_to'), fmt: shown, cls: () => 'wrap' },
    ], d.changes.map((c) => Object.assign({ where: fieldName(c.file, c.field) }, c)), { filter: false })
      : el('p', { class: 'note', text: t('diff_none') }));
  };
  const restoreCell = (n, row) => {
    const cell = el('span', { class: 'row-tools' });
    const ask = () => cell.replaceChildren(
      el('button', { type: 'button', class: 'small danger', 'data-restore-sure': String(n), text: t('restore_sure', { n }), onclick: async () => {
        try {
          const j = await api('POST', `/drafts/${id}/restore`, { revision: n });
          const kept = ed.dirty;
          if (kept) keepLocal(ed);
          studio.ed = null;
          state.flash = t('restored', { n, m: j.revision });
          location.hash = '#/studio/' + id;
        } catch (e) {
          if (e instanceof Expired) return;
          msg.textContent = e.message;
          msg.className = 'form-msg bad';
        }
      } }),
      el('button', { type: 'button', class: 'small', text: t('cancel'), onclick: () => cell.replaceChildren(btn()) }));
    const btn = () => el('button', { type: 'button', class: 'small', 'data-restore': String(n), text: t('restore'), disabled: n === row.head, onclick: ask });
    cell.append(btn());
    return cell;
  };
  view.append(el('div', { class: 'studio-bar' },
    el('a', { href: '#/studio/' + id, class: 'button-link', id: 'back-editor', text: '← ' + t('back_editor') }),
    el('h1', { class: 'studio-title', text: `${textOf(ed.doc.pack.title) || ed.pack} · ${t('hist_title')}` })), msg);
  view.append(section(t('hist_title'), null, table('revisions', [
    { key: 'revision', label: t('col_revision'), num: true },
    { key: 'who', label: t('col_who') },
    { key: 'at_ms', label: t('col_when'), fmt: stamp },
    { key: 'note', label: t('col_note'), cls: () => 'wrap' },
    { key: 'revision', label: '', fmt: (v, row) => restoreCell(v, row) },
  ], revs.map((r) => Object.assign({ head: last }, r)), { sort: 'revision', sortDir: -1, filter: false })));
  view.append(section(t('compare_btn'), null,
    el('div', { class: 'add-row' },
      el('label', { for: 'diff-from', text: t('compare_from') }), fromSel,
      el('label', { for: 'diff-to', text: t('compare_to') }), toSel,
      el('button', { type: 'button', id: 'diff-btn', text: t('compare_btn'), onclick: () => compare().catch((e) => {
        if (!(e instanceof Expired)) diffBox.replaceChildren(el('p', { class: 'note bad', text: e.message }));
      }) })),
    diffBox));
  if (revs.length > 1) await compare();
}
