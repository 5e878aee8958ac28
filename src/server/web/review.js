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

function reviewDiff(changes) {
  const rows = reviewRows(changes);
  if (!rows.length) return el('p', { class: 'note', text: t('review_no_text_changes') });
  return el('table', { class: 'review-diff' },
    el('thead', {}, el('tr', {},
      ['review_field', 'review_zh_before', 'review_zh_after', 'review_en_before', 'review_en_after']
        .map((k) => el('th', { text: t(k) })))),
    el('tbody', {}, rows.map((r) => el('tr', {},
      el('td', { class: 'field', text: r.file + ' ' + r.field }),
      reviewCell(r.zh && r.zh.from, 'before'), reviewCell(r.zh && r.zh.to, 'after'),
      reviewCell(r.en && r.en.from, 'before'), reviewCell(r.en && r.en.to, 'after')))));
}

/* One draft waiting for review: its changes and what the office can do with it. */
async function reviewCard(d) {
  const full = await reviewGet('/drafts/' + d.id);
  /* Against the last approved (published) revision; a new pack against its import. */
  const from = full.approved || 1;
  const diff = from < full.head ? await reviewGet('/drafts/' + d.id + '/diff?from=' + from) : { changes: [] };
  const msg = formMsg('review-msg-' + d.id);
  const comment = el('textarea', { id: 'review-comment-' + d.id, rows: 3, 'aria-label': t('review_comment') });
  const act = async (what) => {
    try {
      if (what === 'changes') {
        const text = comment.value.trim();
        if (!text) return say(msg, 'review_comment_missing');
        await fleetPost('/drafts/' + d.id + '/request-changes', { comments: [{ text }] });
        state.flash = t('review_changes_sent', { pack: d.pack });
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
    reviewDiff(diff.changes),
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
