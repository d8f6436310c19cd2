// ganvoice studio: does each line's speech fit its time? Before a render,
// every cue of the editor shows "fits", "tight" or "too long", from the
// chosen voice's real speech length for its text (the model's duration
// predictor, POST /api/projects/PID/fit) and the engine's own fit plan for
// the cue's slot (until the next cue), with what the render will do: speed
// up by how much, cut how many seconds. Updated as the user types.
// SPDX-License-Identifier: LGPL-2.1-or-later

let ctx = null; // { S, api, P, $, $$, el, fmt, saveSettings }
const F = {
  plans: new WeakMap(), // cue object -> { sig, plan }
  maxRate: null,
  sent: '', // the last request's body, to skip repeats
  timer: 0,
  busy: false, // a question is out: the next waits for its answer
  again: false,
  error: '',
};
const DEBOUNCE_MS = 450;

// The engine's overflow modes (ganvoice-dub --overflow, docs/ganvoice-fit.md),
// in words. The engine applies one mode to a whole render, not per line.
const MODES = [
  ['default', (r) => `Speed up (up to ${r}×), then cut the end`],
  ['compress', () => 'Speed up as much as needed (time-stretch)'],
  ['overlap', (r) => `Speed up (up to ${r}×), then run over the next line`],
  ['shift', (r) => `Speed up (up to ${r}×), then push the next lines later`],
  ['clip', () => 'Never speed up: cut at the end of the line'],
];

const sig = (c) => `${c.start}|${c.end}|${c.speaker}|${c.text}`;
const s1 = (v) => `${(+v).toFixed(1)} s`;
const x2 = (v) => `${(+v).toFixed(2)}×`;

export function setupFit(context) {
  ctx = context;
  const { $, el } = ctx;
  // The summary and the mode, above the list of cues and on the render card.
  const bar = el('div', { class: 'fit-bar', id: 'fit-bar', 'aria-live': 'polite' },
    el('span', { id: 'fit-summary', class: 'fit-summary' }),
    el('label', { class: 'fit-mode' }, 'When a line is too long', modeSelect('fit-overflow')));
  $('#cue-list').before(bar);
  const lang = $('#render-lang').closest('label');
  lang.after(el('label', { class: 'fit-mode render' }, 'When a line is too long', modeSelect('render-overflow')),
    el('p', { id: 'fit-render-summary', class: 'fit-render-summary muted' }));
}

function modeSelect(id) {
  const { S, el } = ctx;
  const s = el('select', { id, class: 'overflow-select' });
  fillModes(s);
  s.value = S.settings.overflow || 'default';
  s.addEventListener('change', () => {
    S.settings.overflow = s.value;
    for (const o of document.querySelectorAll('.overflow-select')) o.value = s.value;
    ctx.saveSettings();
    scheduleFit();
  });
  return s;
}

function fillModes(s) {
  const r = F.maxRate ? String(+F.maxRate.toFixed(2)) : '1.4';
  const value = s.value;
  s.replaceChildren(...MODES.map(([v, text]) => ctx.el('option', { value: v, text: text(r) })));
  if (value) s.value = value;
}

function language() {
  const { S } = ctx;
  return S.settings.lang || S.project?.subtitles?.info?.language || '';
}

// The cues a render speaks (those that end after they start), as the page
// saves them.
const renderedCues = () => ctx.S.cues.filter((c) => c.end > c.start);

// Called after anything that can change a fit: text, times, voices, mode.
export function scheduleFit() {
  if (!ctx) return;
  for (const o of document.querySelectorAll('.overflow-select')) o.value = ctx.S.settings.overflow || 'default';
  clearTimeout(F.timer);
  F.timer = setTimeout(measure, DEBOUNCE_MS);
  refresh();
}

async function measure() {
  const { S, api, P } = ctx;
  if (!S.pid || !S.project) return;
  if (F.busy) { F.again = true; return; } // one question at a time
  const cues = renderedCues();
  const speakers = Object.fromEntries(Object.entries(S.settings.speakers || {}).filter(([, v]) => v));
  const body = {
    voice: S.settings.voice || '', speakers, lang: language(), overflow: S.settings.overflow || 'default',
    cues: cues.map((c) => ({ start: c.start, end: c.end, text: c.text, speaker: c.speaker || '' })),
  };
  const key = JSON.stringify(body);
  // The same question again is skipped, unless a cue has no answer: an
  // undo or a reload of the cues makes new cue objects with the same text.
  if (key === F.sent && cues.every((c) => F.plans.get(c)?.sig === sig(c))) { refresh(); return; }
  F.sent = key;
  const sigs = cues.map(sig);
  F.busy = true; refresh();
  try {
    const r = cues.length ? await api('POST', P('/fit'), body) : { cues: [], max_rate: F.maxRate };
    r.cues.forEach((plan, i) => F.plans.set(cues[i], { sig: sigs[i], plan }));
    if (r.max_rate && r.max_rate !== F.maxRate) {
      F.maxRate = r.max_rate;
      for (const s of document.querySelectorAll('.overflow-select')) fillModes(s);
    }
    F.error = '';
  } catch (e) {
    F.error = e.message || String(e);
    F.sent = ''; // try again on the next change
  } finally {
    F.busy = false;
    if (F.again) { F.again = false; measure(); } else refresh();
  }
}

// What the render will do to a cue, in words; and its class.
function describe(c, plan) {
  const slotEnd = plan.allowed_end == null ? null : plan.allowed_end;
  const slot = slotEnd == null ? null : Math.max(0, slotEnd - c.start);
  const nums = `${s1(plan.natural)} of speech for ${slot == null ? 'an open end' : s1(slot)}`;
  const mode = ctx.S.settings.overflow || 'default';
  let label, detail;
  if (plan.verdict === 'fits') {
    label = '✓ Fits';
    detail = plan.step === 'free-time' && plan.speech_end > c.end + 0.05
      ? `${nums}: runs ${s1(plan.speech_end - c.end)} past the line's end, into the pause after it.` : `${nums}.`;
  } else if (plan.verdict === 'tight') {
    label = `Tight: ${x2(plan.rate)} faster`;
    detail = `${nums}: it will be sped up ${x2(plan.rate)}.`;
  } else {
    if (plan.step === 'clipped') {
      label = `Too long: ${s1(plan.clipped)} cut`;
      detail = `${nums}: ${plan.rate > 1.005 ? `sped up ${x2(plan.rate)} and ` : ''}the last ${s1(plan.clipped)} cut.`;
    } else if (plan.step === 'stretched') {
      label = `Too long: ${x2(plan.speed)} faster`;
      detail = `${nums}: sped up ${x2(plan.speed)} (time-stretched), which can sound hurried.`;
    } else {
      label = mode === 'shift' ? `Too long: pushes on ${s1(plan.overrun)}` : `Too long: runs ${s1(plan.overrun)} over`;
      detail = `${nums}: ${plan.rate > 1.005 ? `sped up ${x2(plan.rate)}, still ` : ''}${mode === 'shift' ? `pushes the next line ${s1(plan.overrun)} later` : `runs ${s1(plan.overrun)} into the next line`}.`;
    }
  }
  return { cls: plan.verdict, label, detail };
}

// The indicator of cue @c (index @i) in the list: made with the row, filled
// from the last measurement and kept up to date by refresh().
export function fitCell(c, i) {
  if (!ctx) return null;
  const cell = ctx.el('span', { class: 'fit', 'data-fit': String(i) });
  fillCell(cell, c);
  return cell;
}

function fillCell(cell, c) {
  const { el } = ctx;
  const known = F.plans.get(c);
  const stale = !known || known.sig !== sig(c) || F.busy;
  cell.classList.toggle('stale', stale);
  if (!c.text.trim() || (known && !known.plan.spoken && known.sig === sig(c))) {
    cell.className = 'fit'; cell.dataset.verdict = ''; cell.replaceChildren(); return;
  }
  if (!known) {
    cell.className = 'fit stale'; cell.dataset.verdict = '';
    cell.replaceChildren(el('span', { class: 'fit-label', text: F.error ? '' : 'Measuring…' }));
    return;
  }
  if (!known.plan.spoken) { cell.replaceChildren(); return; }
  const d = describe(c, known.plan);
  cell.className = `fit ${d.cls}${stale ? ' stale' : ''}`;
  cell.dataset.verdict = d.cls;
  cell.title = d.detail;
  const kids = [el('span', { class: 'fit-label', text: d.label }), el('span', { class: 'fit-detail', text: d.detail })];
  if (d.cls !== 'fits') {
    kids.push(el('button', { type: 'button', class: 'plain fit-shorten', text: 'Shorten the text',
      onclick: () => {
        const ta = cell.closest('.cue')?.querySelector('textarea');
        if (ta) { ta.focus(); ta.setSelectionRange(ta.value.length, ta.value.length); }
      } }));
  }
  cell.replaceChildren(...kids);
}

// Updates every indicator in place (the text being typed keeps its focus)
// and the summaries.
function refresh() {
  const { S, $, $$ } = ctx;
  for (const cell of $$('#cue-list .fit')) {
    const c = S.cues[Number(cell.dataset.fit)];
    if (c) fillCell(cell, c);
  }
  const counts = { fits: 0, tight: 0, 'too-long': 0 };
  let cut = 0;
  for (const c of renderedCues()) {
    const k = F.plans.get(c);
    if (!k || !k.plan.spoken) continue;
    counts[k.plan.verdict] = (counts[k.plan.verdict] || 0) + 1;
    cut += k.plan.clipped || 0;
  }
  const total = counts.fits + counts.tight + counts['too-long'];
  let text = '';
  if (F.error) text = `The fit of the lines cannot be measured: ${F.error}`;
  else if (total) {
    text = counts['too-long']
      ? `⚠ ${counts['too-long']} ${counts['too-long'] === 1 ? 'line is' : 'lines are'} too long for ${counts['too-long'] === 1 ? 'its' : 'their'} time${cut > 0.05 ? ` (${s1(cut)} would be cut)` : ''}`
      : '✓ Every line fits its time';
    if (counts.tight) text += `; ${counts.tight} tight (sped up)`;
    text += '.';
  } else if (F.busy) text = 'Measuring how long each line takes to say…';
  const bar = $('#fit-summary');
  if (bar) {
    bar.textContent = text;
    bar.classList.toggle('bad', counts['too-long'] > 0);
  }
  const rs = $('#fit-render-summary');
  if (rs) rs.textContent = text;
}
