/* The review page for office users (issue 16, docs/review.md): the drafts waiting for
 * them (GET /api/v1/inbox), each with its text changed since its last approval side by
 * side in both languages (GET …/diff), approve and publish, or request changes with
 * comments; the inbox count beside the page's name in the menu. Loaded after app.js and
 * fleet.js and uses their helpers (el, call, section, t, say, formMsg, fleetPost, route).
 * Text from the server only as textContent. */
'use strict';

async function reviewGet(p) {
  const r = await call('GET', p);
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || 'HTTP ' + r.status);
  return j;
}

/* Shows the inbox count on the menu entry (nothing when it is 0). */
function reviewBadge(n) {
  const a = document.querySelector('#nav a[data-page="review"]');
  if (!a) return;
  let b = a.querySelector('.badge');
  if (!b) {
    b = el('span', { class: 'badge', id: 'review-count' });
    a.append(' ', b);
  }
  b.textContent = n ? String(n) : '';
  b.hidden = !n;
}

async function reviewRefreshBadge() {
  try {
    reviewBadge((await reviewGet('/inbox')).count);
  } catch (e) { /* the page itself says what failed */ }
}

/* The text changes as rows of field | zh before | zh after | en before | en after: a
 * change of "x.zh" and one of "x.en" share a row. */
function reviewRows(changes) {
  const rows = new Map();
  for (const c of changes) {
    if (c.field === '' || (typeof c.from !== 'string' && typeof c.to !== 'string' &&
        c.from !== null && c.to !== null)) continue;
    const m = c.field.match(/^(.*)\.(zh|en)$/);
    const key = c.file + ' ' + (m ? m[1] : c.field);
    if (!rows.has(key)) rows.set(key, { file: c.file, field: m ? m[1] : c.field });
    const r = rows.get(key);
    const lang = m ? m[2] : 'zh';
    r[lang] = { from: c.from, to: c.to };
  }
  return [...rows.values()];
}

function reviewCell(v, cls) {
  return el('td', { class: cls, text: v === null || v === undefined ? '—' : String(v) });
}

/* What the office typed and has not sent yet, per user and draft (reviewPendingKey): the
 * general comment and one per page, question or topic. Kept here, not in the page, so a redraw (a language switch, a
 * failed request) loses nothing; dropped once the request for changes went through. */
const REVIEW_KEEP = 'kepu-review-pending';
const reviewPending = (() => {
  try {
    return new Map(JSON.parse(localStorage.getItem(REVIEW_KEEP) || '[]'));
  } catch (e) {
    return new Map();
  }
})();

/* Keeps what is typed in this browser too, so a reload or a closed tab loses nothing. */
function reviewKeep() {
  try {
    localStorage.setItem(REVIEW_KEEP, JSON.stringify([...reviewPending]));
  } catch (e) {
    /* full or refused: kept in the page only */
  }
}

/* Whose and which: two office users sharing a browser never see each other's words. */
function reviewPendingKey(id) {
  return (state.user || '') + '\n' + id;
}

function reviewDraftPending(id) {
  const key = reviewPendingKey(id);
  if (!reviewPending.has(key)) reviewPending.set(key, { general: '', items: [] });
  return reviewPending.get(key);
}

/* The page, question or topic a change of a topic file is on (pack.json: null):
 * {key, topic, page|question, kind, n, title}. */
function reviewUnit(source, file, field) {
  const topic = source && source.topics && source.topics[file];
  if (!topic || typeof topic.id !== 'string') return null;
  const title = textOf(topic.title) || topic.id;
  let m = field.match(/^pages\[(\d+)\]/);
  if (m) {
    const page = Number(m[1]);
    return { key: topic.id + '/p' + page, topic: topic.id, page, kind: 'page', n: page + 1, title };
  }
  m = field.match(/^quiz\.questions\[(\d+)\]/);
  const qs = topic.quiz && Array.isArray(topic.quiz.questions) ? topic.quiz.questions : [];
  if (m && qs[Number(m[1])] && typeof qs[Number(m[1])].id === 'string') {
    const question = qs[Number(m[1])].id;
    return { key: topic.id + '/q' + question, topic: topic.id, question, kind: 'question', n: Number(m[1]) + 1, title };
  }
  return { key: topic.id, topic: topic.id, kind: 'topic', title };
}

function reviewUnitName(u) {
  if (u.kind === 'page') return t('review_on_page', { topic: u.title, n: u.n });
  if (u.kind === 'question') return t('review_on_question', { topic: u.title, n: u.n });
  return t('review_on_topic', { topic: u.title });
}

/* The comment boxes typed so far for draft id, in list, each with its text box. */
function reviewDrawPending(id, list) {
  const pend = reviewDraftPending(id);
  list.replaceChildren(...pend.items.map((it, i) => {
    const box = el('textarea', { id: `review-pc-${id}-${i}`, rows: 2, 'data-comment-key': it.key,
      'aria-label': reviewUnitName(it), oninput: (e) => { it.text = e.target.value; reviewKeep(); } });
    box.value = it.text;
    return el('li', { class: 'review-pending', 'data-comment-key': it.key },
      el('span', { class: 'review-on', text: reviewUnitName(it) }), box,
      el('button', { type: 'button', class: 'small', text: t('review_comment_remove'), onclick: () => {
        pend.items.splice(i, 1);
        reviewKeep();
        reviewDrawPending(id, list);
      } }));
  }));
  list.hidden = !pend.items.length;
}

/* Opens (or focuses) the comment box of unit u of draft id. */
function reviewAddComment(id, u, list) {
  const pend = reviewDraftPending(id);
  let i = pend.items.findIndex((it) => it.key === u.key);
  if (i < 0) {
    pend.items.push(Object.assign({ text: '' }, u));
    i = pend.items.length - 1;
    reviewKeep();
    reviewDrawPending(id, list);
  }
  const box = document.getElementById(`review-pc-${id}-${i}`);
  if (box) box.focus();
}

/* The changes side by side, grouped by the page, question or topic they are on, each group
 * with its "comment on this page" button. */
function reviewDiff(id, source, changes, list) {
  const rows = reviewRows(changes);
  if (!rows.length) return el('p', { class: 'note', text: t('review_no_text_changes') });
  const groups = new Map();
  for (const r of rows) {
    const u = reviewUnit(source, r.file, r.field);
    const key = u ? u.key : '';
    if (!groups.has(key)) groups.set(key, { u, rows: [] });
    groups.get(key).rows.push(r);
  }
  const body = [];
  for (const g of groups.values()) {
    if (g.u) {
      const u = g.u;
      body.push(el('tr', { class: 'review-unit', 'data-unit': u.key },
        el('th', { colspan: '5' }, el('span', { text: reviewUnitName(u) }), ' ',
          el('button', { type: 'button', class: 'small review-comment-on', 'data-comment-on': u.key,
            text: t('review_comment_' + u.kind), onclick: () => reviewAddComment(id, u, list) }))));
    }
    for (const r of g.rows) {
      body.push(el('tr', {},
        el('td', { class: 'field', text: r.file + ' ' + r.field }),
        reviewCell(r.zh && r.zh.from, 'before'), reviewCell(r.zh && r.zh.to, 'after'),
        reviewCell(r.en && r.en.from, 'before'), reviewCell(r.en && r.en.to, 'after')));
    }
  }
  return el('table', { class: 'review-diff' },
    el('thead', {}, el('tr', {},
      ['review_field', 'review_zh_before', 'review_zh_after', 'review_en_before', 'review_en_after']
        .map((k) => el('th', { text: t(k) })))),
    el('tbody', {}, body));
}

/* The unit a stored comment is on (null: the pack as a whole). */
function reviewCommentUnit(source, c) {
  if (typeof c.topic !== 'string') return null;
  const topics = (source && source.topics) || {};
  const f = Object.keys(topics).find((k) => topics[k] && topics[k].id === c.topic);
  const title = (f && textOf(topics[f].title)) || c.topic;
  if (typeof c.page === 'number') return { kind: 'page', title, n: c.page + 1 };
  if (typeof c.question === 'string') {
    const qs = (f && topics[f].quiz && topics[f].quiz.questions) || [];
    const i = qs.findIndex((q) => q && q.id === c.question);
    return { kind: 'question', title, n: i >= 0 ? i + 1 : c.question };
  }
  return { kind: 'topic', title };
}

/* The comments of the last request for changes, for the office to see what was asked. */
function reviewLastComments(full) {
  const list = Array.isArray(full.comments) ? full.comments : [];
  if (!list.length) return null;
  return el('details', { class: 'review-last' },
    el('summary', { text: t('review_last', { n: list.length, who: list[0].who || '?', rev: list[0].revision }) }),
    el('ul', {}, list.map((c) => {
      const u = reviewCommentUnit(full.source, c);
      return el('li', {}, u ? el('b', { text: reviewUnitName(u) + ' ' }) : null, c.text);
    })));
}

/* One draft waiting for review: its changes and what the office can do with it. */
async function reviewCard(d) {
  const full = await reviewGet('/drafts/' + d.id);
  /* Against the last approved (published) revision; a new pack against its import. */
  const from = full.approved || 1;
  const diff = from < full.head ? await reviewGet('/drafts/' + d.id + '/diff?from=' + from) : { changes: [] };
  const msg = formMsg('review-msg-' + d.id);
  const pend = reviewDraftPending(d.id);
  const comment = el('textarea', { id: 'review-comment-' + d.id, rows: 3, 'aria-label': t('review_comment'),
    oninput: (e) => { pend.general = e.target.value; reviewKeep(); } });
  comment.value = pend.general;
  for (const it of pend.items) {
    const u = reviewCommentUnit(full.source, it);
    if (u) it.title = u.title; /* in the language shown now */
  }
  const list = el('ol', { class: 'review-comments', id: 'review-comments-' + d.id });
  reviewDrawPending(d.id, list);
  const act = async (what) => {
    try {
      if (what === 'changes') {
        const comments = [];
        if (pend.general.trim()) comments.push({ text: pend.general.trim() });
        for (const it of pend.items) {
          if (!it.text.trim()) continue;
          const c = { topic: it.topic, text: it.text.trim() };
          if (it.kind === 'page') c.page = it.page;
          if (it.kind === 'question') c.question = it.question;
          comments.push(c);
        }
        if (!comments.length) return say(msg, 'review_comment_missing');
        await fleetPost('/drafts/' + d.id + '/request-changes', { comments });
        reviewPending.delete(reviewPendingKey(d.id));
        reviewKeep();
        state.flash = t('review_changes_sent', { pack: d.pack, n: comments.length });
      } else {
        if (d.state === 'in_review') await fleetPost('/drafts/' + d.id + '/approve');
        const p = await fleetPost('/drafts/' + d.id + '/publish');
        state.flash = t('review_published', { pack: p.pack, version: p.version });
      }
      route();
    } catch (err) {
      if (!(err instanceof Expired)) say(msg, 'review_failed', { msg: err.message });
    }
  };
  const title = full.source && full.source.pack && full.source.pack.title;
  return el('article', { class: 'review-draft', 'data-draft': d.id },
    el('h3', {}, (title && (title.zh || title.en)) || d.pack, ' ',
      el('span', { class: 'note', text: t('review_meta', { pack: d.pack, rev: full.head, who: d.updated_by, state: t('state_' + d.state) }) })),
    el('p', { class: 'note', text: full.approved ? t('review_since', { rev: full.approved }) : t('review_new') }),
    reviewDiff(d.id, full.source, diff.changes, list),
    reviewLastComments(full),
    el('h4', { text: t('review_comments') }),
    list,
    el('label', { class: 'wide' }, el('span', { text: t('review_comment') }), comment),
    el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'primary', id: 'review-approve-' + d.id,
        text: t(d.state === 'in_review' ? 'review_approve' : 'review_publish'), onclick: () => act('approve') }),
      el('button', { type: 'button', id: 'review-changes-' + d.id, text: t('review_request'),
        onclick: () => act('changes') })),
    msg);
}

async function pageReview(view) {
  const inbox = await reviewGet('/inbox');
  reviewBadge(inbox.count);
  const top = formMsg('review-flash');
  showFlash(top);
  const cards = [];
  for (const d of inbox.drafts) cards.push(await reviewCard(d));
  view.append(section(t('review_title', { n: inbox.count }), null, top,
    el('div', { class: 'review-list' }, cards.length ? cards : el('p', { class: 'note', text: t('review_empty') }))));
}

PAGES.review = pageReview;
NO_RANGE.add('review');

/* --- the audit log (GET /api/v1/audit) --------------------------------------------------- */

/* The filters the audit page was last drawn with (kept across redraws). */
const auditFilter = { who: '', venue: '', pack: '', from: '', to: '' };

function auditQuery(extra) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(auditFilter)) if (v.trim()) q.set(k, v.trim());
  for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
  const s = q.toString();
  return '/audit' + (s ? '?' + s : '');
}

/* Every login, save, submit, approval, request for changes, publish, assignment,
 * rollback, user and key change: who, when, what, on what, with the detail the server
 * recorded (the revision, the manifest hash). Filtered by person, venue, pack and date;
 * CSV of the same rows. */
async function pageAudit(view) {
  const msg = formMsg('audit-msg');
  let rows = [];
  try {
    rows = await reviewGet(auditQuery());
  } catch (e) {
    if (e instanceof Expired) throw e;
    msg.textContent = t('audit_failed', { msg: e.message });
    msg.className = 'form-msg bad';
  }
  const input = (k, type) => {
    const i = el('input', { id: 'audit-' + k, type: type || 'text', oninput: (e) => { auditFilter[k] = e.target.value; } });
    i.value = auditFilter[k];
    return el('label', {}, el('span', { text: t('audit_' + k) }), i);
  };
  const form = el('form', { class: 'assign-form', id: 'audit-form', onsubmit: (e) => { e.preventDefault(); route(); } },
    input('who'), input('venue'), input('pack'), input('from', 'date'), input('to', 'date'),
    el('button', { type: 'submit', class: 'primary', id: 'audit-apply', text: t('audit_apply') }));
  const csv = el('button', { type: 'button', class: 'csv', 'data-csv': 'audit', text: t('csv'), onclick: async () => {
    const r = await call('GET', auditQuery({ format: 'csv' }));
    if (!r.ok) return;
    const a = el('a', { href: URL.createObjectURL(await r.blob()), download: 'kepu-audit.csv' });
    document.body.append(a);
    a.click();
    a.remove();
  } });
  view.append(section(t('audit_title', { n: rows.length }), csv, form, msg,
    table('audit', [
      { key: 'at_ms', label: t('audit_col_when'), fmt: stamp },
      { key: 'who', label: t('audit_col_who') },
      { key: 'what', label: t('audit_col_what') },
      { key: 'target', label: t('audit_col_target') },
      { key: 'venue', label: t('audit_col_venue') },
      { key: 'pack', label: t('audit_col_pack') },
      { key: 'detail', label: t('audit_col_detail') },
    ], rows, { empty: t('audit_empty') })));
}

PAGES.audit = pageAudit;
NO_RANGE.add('audit');
