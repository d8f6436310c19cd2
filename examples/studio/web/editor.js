// ganvoice studio: the subtitle editor's logic that does not touch the page:
// undo history, typed times, timeline lanes, reading-speed limits, and ASS
// export that keeps what the user did not edit.
// SPDX-License-Identifier: LGPL-2.1-or-later

// Reading-speed and layout limits (Netflix's and Subtitle Edit's usual ones).
export const LIMITS = { cpsWarn: 17, cpsError: 20, lineChars: 42, lines: 2 };

// ---------- undo and redo ----------
// Keeps copies of the cue list taken before each edit. Edits with the same
// key within a short time (typing in one cue) make one step.
export class History {
  constructor(limit = 150) { this.undos = []; this.redos = []; this.limit = limit; this.lastKey = null; this.lastAt = 0; }
  static copy(state) { return { cues: state.cues.map((c) => ({ ...c })), sel: state.sel }; }
  // Call before changing @state.
  record(state, key = null) {
    const now = Date.now();
    if (key && key === this.lastKey && now - this.lastAt < 2000) { this.lastAt = now; return; }
    this.undos.push(History.copy(state));
    if (this.undos.length > this.limit) this.undos.shift();
    this.redos = [];
    this.lastKey = key; this.lastAt = now;
  }
  // Ends a run of coalesced edits (the next one starts a new step).
  cut() { this.lastKey = null; }
  clear() { this.undos = []; this.redos = []; this.lastKey = null; }
  get canUndo() { return this.undos.length > 0; }
  get canRedo() { return this.redos.length > 0; }
  undo(state) { return this.step(this.undos, this.redos, state); }
  redo(state) { return this.step(this.redos, this.undos, state); }
  step(from, to, state) {
    if (!from.length) return null;
    to.push(History.copy(state));
    this.lastKey = null;
    return from.pop();
  }
}

// ---------- times ----------
// "1:02.5", "0:01:02,500", "62.5", "1:02" -> seconds; NaN when not a time.
export function parseTime(text) {
  const s = String(text).trim().replace(',', '.');
  if (!/^(\d+:){0,2}\d+(\.\d+)?$/.test(s)) return NaN;
  const parts = s.split(':').map(Number);
  let t = 0;
  for (const p of parts) t = t * 60 + p;
  if (parts.length > 1 && parts.slice(1).some((p) => p >= 60)) return NaN;
  return t;
}
export const fmtTime = (t) => {
  if (!isFinite(t) || t < 0) t = 0;
  const ms = Math.round(t * 1000);
  const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60, r = ms % 1000;
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(s).padStart(2, '0')}.${String(r).padStart(3, '0').slice(0, 2)}`;
};

// Checks a typed start or end of @cue; returns {value} or {error} in words.
export function checkTime(cue, which, text, duration) {
  const t = parseTime(text);
  if (!isFinite(t)) return { error: 'Write a time like 1:02.50 (minutes:seconds) or 62.5.' };
  const v = Math.round(t * 1000) / 1000;
  if (isFinite(duration) && duration > 0 && v > duration + 0.001) return { error: `The video is only ${fmtTime(duration)} long.` };
  if (which === 'start' && v >= cue.end) return { error: `The start must be before the end (${fmtTime(cue.end)}).` };
  if (which === 'end' && v <= cue.start) return { error: `The end must be after the start (${fmtTime(cue.start)}).` };
  return { value: v };
}

// ---------- overlaps and lanes ----------
// Cues sorted by start: each gets the lowest lane free at its start, and
// the list of the cues it overlaps.
export function layoutLanes(cues) {
  const laneEnds = [], lanes = [], overlaps = cues.map(() => []);
  const open = []; // indexes of cues that may still overlap
  cues.forEach((c, i) => {
    let lane = laneEnds.findIndex((end) => end <= c.start + 1e-6);
    if (lane < 0) { lane = laneEnds.length; laneEnds.push(0); }
    laneEnds[lane] = c.end; lanes[i] = lane;
    for (let k = open.length - 1; k >= 0; k--) {
      const j = open[k];
      if (cues[j].end <= c.start + 1e-6) { open.splice(k, 1); continue; }
      if (c.end > cues[j].start + 1e-6) { overlaps[i].push(j); overlaps[j].push(i); }
    }
    open.push(i);
  });
  return { lanes, count: Math.max(1, laneEnds.length), overlaps };
}

// ---------- reading speed and line length ----------
// Characters per second count every character but line breaks.
export function cueStats(cue) {
  const lines = cue.text.split('\n');
  const chars = lines.join('').length;
  const dur = Math.max(0.001, cue.end - cue.start);
  const cps = chars / dur;
  const longest = Math.max(0, ...lines.map((l) => l.length));
  const notes = [];
  let level = 0;
  if (cps > LIMITS.cpsError) { level = 2; notes.push(`${cps.toFixed(1)} characters a second: too fast to read (over ${LIMITS.cpsError})`); } else if (cps > LIMITS.cpsWarn) { level = 1; notes.push(`${cps.toFixed(1)} characters a second: fast (over ${LIMITS.cpsWarn})`); }
  if (longest > LIMITS.lineChars) { level = Math.max(level, 1); notes.push(`a line of ${longest} characters (over ${LIMITS.lineChars})`); }
  if (lines.length > LIMITS.lines) { level = Math.max(level, 1); notes.push(`${lines.length} lines (over ${LIMITS.lines})`); }
  return { chars, cps, longest, lines: lines.length, level, notes };
}

// ---------- what the subtitle file said ----------
// The text to edit from a parsed cue: line breaks kept, markup dropped.
export function displayText(cue, format) {
  if ((cue.n_turns || 1) > 1 || !cue.markup) return cue.text;
  let t = cue.markup;
  if (/ass|ssa/i.test(format)) {
    t = t.replace(/\{[^}]*\}/g, '').replace(/\\[Nn]/g, '\n').replace(/\\h/g, ' ');
  } else {
    t = t.replace(/<[^>]*>/g, '').replace(/\{\\[^}]*\}/g, '')
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&nbsp;/g, ' ').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&amp;/g, '&');
  }
  const lines = t.split('\n').map((l) => l.replace(/[ \t]+/g, ' ').trim()).filter(Boolean);
  // Only when it says the same words as the parser's text (else trust the parser).
  return lines.join(' ').replace(/\s+/g, ' ') === cue.text.replace(/\s+/g, ' ') ? lines.join('\n') : cue.text;
}

// An ASS file as its parts: everything but the events kept as written.
export function parseAss(text) {
  const lines = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  const ev = lines.findIndex((l) => /^\s*\[events\]\s*$/i.test(l));
  if (ev < 0) return null;
  let end = lines.findIndex((l, i) => i > ev && /^\s*\[[^\]]+\]\s*$/.test(l));
  if (end < 0) end = lines.length;
  const fmtLine = lines.slice(ev + 1, end).find((l) => /^format\s*:/i.test(l));
  if (!fmtLine) return null;
  const fields = fmtLine.replace(/^format\s*:/i, '').split(',').map((f) => f.trim().toLowerCase());
  if (fields[fields.length - 1] !== 'text') return null;
  const events = new Map(); // 1-based file line -> event
  for (let i = ev + 1; i < end; i++) {
    const m = lines[i].match(/^(Dialogue|Comment)\s*:\s?(.*)$/i);
    if (!m) continue;
    const parts = m[2].split(',');
    if (parts.length < fields.length) continue;
    const values = [...parts.slice(0, fields.length - 1), parts.slice(fields.length - 1).join(',')];
    events.set(i + 1, { kind: m[1], values, raw: lines[i], line: i + 1 });
  }
  const styles = lines.filter((l) => /^style\s*:/i.test(l)).map((l) => l.replace(/^style\s*:\s*/i, '').split(',')[0].trim());
  // Whether each style is italic or bold (-1 or 1 in its Italic, Bold fields).
  const styleFormat = lines.slice(0, ev).find((l) => /^format\s*:/i.test(l));
  const styleFields = styleFormat ? styleFormat.replace(/^format\s*:/i, '').split(',').map((f) => f.trim().toLowerCase()) : [];
  const styleLook = new Map();
  for (const l of lines.slice(0, ev)) {
    if (!/^style\s*:/i.test(l)) continue;
    const v = l.replace(/^style\s*:\s*/i, '').split(',').map((x) => x.trim());
    const on = (f) => styleFields.includes(f) && /^-?1$/.test(v[styleFields.indexOf(f)] || '');
    styleLook.set(v[0], { italic: on('italic'), bold: on('bold') });
  }
  return {
    head: lines.slice(0, ev + 1).join('\n').replace(/\n+$/, ''), // through "[Events]"
    format: fmtLine, fields, events, styles, styleLook,
    tail: lines.slice(end).join('\n').replace(/\n+$/, ''),
  };
}

const assTime = (t) => {
  const cs = Math.round(t * 100);
  return `${Math.floor(cs / 360000)}:${String(Math.floor(cs / 6000) % 60).padStart(2, '0')}:${String(Math.floor(cs / 100) % 60).padStart(2, '0')}.${String(cs % 100).padStart(2, '0')}`;
};
const assText = (s) => s.replace(/\r/g, '').replace(/[{}]/g, (m) => (m === '{' ? '(' : ')')).replace(/\n/g, '\\N');

// Puts the original's override tags back into edited text where their
// words are still there: a tag block before "closer" goes before "closer"
// if the new text still has it, and blocks at the start stay at the start.
export function reapplyTags(markup, text) {
  const out = assText(text);
  if (!markup || !markup.includes('{')) return out;
  const pieces = []; // {tags, words}: tags then the words they come before
  const re = /((?:\{[^}]*\})+)|([^{]+)/g;
  let m, tags = '';
  while ((m = re.exec(markup))) {
    if (m[1]) tags += m[1];
    else { pieces.push({ tags, words: m[2] }); tags = ''; }
  }
  const trailing = tags;
  let result = '', pos = 0, dropped = false;
  const closing = /^(\{(\\([ibus]0|r)\s*)+\})+$/; // only ends italics, bold...
  pieces.forEach((p, k) => {
    if (!p.tags) return;
    if (k === 0 && markup.startsWith(p.tags)) { result += p.tags; return; }
    const word = p.words.replace(/\\N/g, ' ').trim().split(/\s+/)[0];
    let at = word ? out.indexOf(word, pos) : -1;
    const lead = p.words.match(/^\s*/)[0].length; // the tag went before the space
    if (at - lead >= pos && /^\s*$/.test(out.slice(at - lead, at))) at -= lead;
    // Its words are gone, and so is the tag (and the one that ends it).
    if (at < 0 || (dropped && closing.test(p.tags))) { dropped = true; return; }
    dropped = false;
    result += out.slice(pos, at) + p.tags; pos = at;
  });
  return result + out.slice(pos) + trailing;
}

const srtTime = (t) => {
  const ms = Math.round(t * 1000), p2 = (n) => String(n).padStart(2, '0');
  return `${p2(Math.floor(ms / 3600000))}:${p2(Math.floor(ms / 60000) % 60)}:${p2(Math.floor(ms / 1000) % 60)},${String(ms % 1000).padStart(3, '0')}`;
};
// The cues as SRT. With @fromSrt (the upload was SRT), a cue that was not
// edited keeps the file's text and markup.
export function exportSrt(cues, fromSrt) {
  const keep = (c) => fromSrt && c.src && (c.src.n_turns || 1) <= 1 && untouched(c);
  return cues.map((c, i) => `${i + 1}\n${srtTime(c.start)} --> ${srtTime(c.end)}\n${keep(c) ? c.src.markup : c.text}\n`).join('\n');
}

// How a cue looks over the video: runs of text, italic or bold, from the
// ASS file's style and, while the cue is as the file had it, its \i and \b
// tags. @look: the style's {italic, bold}, if known.
export function captionRuns(cue, look = {}) {
  const base = { italic: !!look.italic, bold: !!look.bold };
  const markup = cue.src && (cue.src.n_turns || 1) <= 1 && untouched(cue) ? cue.src.markup : null;
  if (!markup || !markup.includes('{')) return [{ text: cue.text, ...base }];
  const runs = [];
  let cur = { ...base };
  const re = /\{([^}]*)\}|([^{]+)/g;
  let m;
  while ((m = re.exec(markup))) {
    if (m[2]) {
      const text = m[2].replace(/\\[Nn]/g, '\n').replace(/\\h/g, ' ');
      if (text) runs.push({ text, ...cur });
      continue;
    }
    for (const t of m[1].matchAll(/\\(i|b|r)(\d*)/g)) {
      if (t[1] === 'r') cur = { ...base };
      else cur = { ...cur, [t[1] === 'i' ? 'italic' : 'bold']: t[2] !== '' && t[2] !== '0' };
    }
  }
  return runs.length ? runs : [{ text: cue.text, ...base }];
}

// Whether @cue still says and times what the file had.
export function untouched(cue) {
  const o = cue.src;
  return !!o && Math.abs(cue.start - o.start) < 0.0015 && Math.abs(cue.end - o.end) < 0.0015 && cue.text === o.text && (cue.speaker || '') === (o.speaker || '');
}

// The cues as ASS. With the uploaded ASS file (@source, from parseAss), its
// header, styles, other sections and the events the editor does not show
// (comments, signs) are kept as written; a line none of whose cues was
// edited is written as it was; an edited one keeps its layer, style,
// margins, effect and the override tags that still apply.
export function exportAss(cues, source, defaultHeader) {
  if (!source) {
    return `${defaultHeader}${cues.map((c) => `Dialogue: 0,${assTime(c.start)},${assTime(c.end)},Default,${c.speaker},0,0,0,,${assText(c.text)}`).join('\n')}\n`;
  }
  const byLine = new Map();
  for (const c of cues) if (c.src && source.events.has(c.src.line)) {
    if (!byLine.has(c.src.line)) byLine.set(c.src.line, []);
    byLine.get(c.src.line).push(c);
  }
  const fieldAt = (name) => source.fields.indexOf(name);
  const style = source.styles.includes('Default') ? 'Default' : source.styles[0] || 'Default';
  const write = (c, ev) => {
    const v = ev ? [...ev.values] : source.fields.map((f) => (/^margin/.test(f) || f === 'layer' ? '0' : ''));
    const set = (name, value) => { const i = fieldAt(name); if (i >= 0) v[i] = value; };
    if (!ev) set('style', style);
    set('start', assTime(c.start)); set('end', assTime(c.end)); set('name', c.speaker || '');
    v[v.length - 1] = ev ? reapplyTags(turnMarkup(c.src), c.text) : assText(c.text);
    return `${ev ? ev.kind : 'Dialogue'}: ${v.join(',')}`;
  };
  const items = []; // {start, text}, in file order
  for (const [line, ev] of source.events) {
    const mine = byLine.get(line);
    const st = parseAssTime(ev.values[fieldAt('start')]);
    if (!source.spoken.has(line)) { items.push({ start: st, text: ev.raw }); continue; }
    if (!mine) continue; // all its cues were deleted
    const n = mine[0].src.n_turns || 1;
    if (mine.length === n && mine.every(untouched)) { items.push({ start: st, text: ev.raw }); continue; }
    for (const c of [...mine].sort((a, b) => a.src.turn - b.src.turn)) items.push({ start: c.start, text: write(c, ev) });
  }
  for (const c of cues) {
    if (c.src && source.events.has(c.src.line)) continue;
    let at = items.length;
    while (at > 0 && items[at - 1].start > c.start) at--;
    items.splice(at, 0, { start: c.start, text: write(c, null) });
  }
  return `${source.head}\n${source.format}\n${items.map((x) => x.text).join('\n')}\n${source.tail ? `\n${source.tail}\n` : ''}`;
}
// The markup of one dialogue turn: its line of a "- Hi\N- Hello" event.
function turnMarkup(src) {
  if ((src.n_turns || 1) <= 1) return src.markup;
  const lines = (src.markup || '').split(/\\N/);
  return lines.length === src.n_turns ? lines[src.turn].replace(/^((?:\{[^}]*\})*)\s*[-‐–—]\s*/, '$1') : '';
}
function parseAssTime(s) {
  const m = String(s || '').trim().match(/^(\d+):(\d+):(\d+(?:\.\d+)?)$/);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : 0;
}
