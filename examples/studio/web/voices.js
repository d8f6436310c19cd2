// ganvoice studio: the voices screen's helpers: languages and voice names in
// words, previews that show they play and can be stopped, arrow keys in the
// gallery (a radio group), a warning when a voice does not speak the
// subtitles' language, recordings that show their length and can be sought,
// and the step after a voice is made.
// SPDX-License-Identifier: LGPL-2.1-or-later

let ctx = null; // { S, $, $$, el, choose(value) }

// ---------- names ----------
const languageNames = typeof Intl !== 'undefined' && Intl.DisplayNames
  ? new Intl.DisplayNames(['en'], { type: 'language', languageDisplay: 'standard', style: 'short' }) : null;

// "en-us" -> "en-US", "es-419" stays, "zh-hans" -> "zh-Hans"; espeak's
// private parts ("en-gb-x-rp") are left out.
function bcp47(code) {
  const parts = String(code || '').trim().replace(/_/g, '-').split('-');
  const out = [parts[0].toLowerCase()];
  for (const p of parts.slice(1)) {
    if (p.toLowerCase() === 'x') break;
    if (/^[a-z]{2}$/i.test(p)) out.push(p.toUpperCase());
    else if (/^\d{3}$/.test(p)) out.push(p);
    else if (/^[a-z]{4}$/i.test(p)) out.push(p[0].toUpperCase() + p.slice(1).toLowerCase());
  }
  return out.join('-');
}

// "en-us" -> "English (US)", "es-419" -> "Spanish (Latin America)".
export function languageName(code) {
  if (!code) return '';
  const tag = bcp47(code);
  try {
    const name = languageNames && languageNames.of(tag);
    const base = tag.split('-')[0];
    if (name && name !== base && !name.startsWith(`${base} `) && name.toLowerCase() !== tag.toLowerCase()) return name;
  } catch { /* not a language tag */ }
  return code;
}

const baseLanguage = (code) => String(code || '').toLowerCase().split(/[-_]/)[0];

// "allison-es" -> "Allison", "tuxpaint-en" -> "Tuxpaint": the model card's
// names, readable. A language or region at the end is left out (the card
// shows the language).
export function voiceName(name) {
  const n = String(name || '');
  const bare = n.replace(/[-_][a-z]{2}$/i, '') || n;
  return bare.split(/[-_\s]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join(' ');
}

// ---------- previews ----------
let playing = null; // { audio, key, button, label, url }

function markButton(b, on, label) {
  b.textContent = on ? '■ Stop' : label;
  b.setAttribute('aria-pressed', String(on));
  b.closest('.voice')?.classList.toggle('playing', on);
}

export function stopPreview() {
  if (!playing) return;
  const p = playing;
  playing = null;
  p.audio.pause();
  URL.revokeObjectURL(p.url);
  for (const b of document.querySelectorAll(`[data-play="${CSS.escape(p.key)}"]`)) markButton(b, false, b.dataset.label || p.label);
  if (p.button.isConnected) markButton(p.button, false, p.label);
}

// Plays what @fetcher fetches; the button shows "■ Stop" while it plays
// and stops it when pressed again. One preview plays at a time.
export async function playPreview(fetcher, button) {
  const key = button.dataset.play || '';
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  const same = playing && (playing.button === button || (key && playing.key === key));
  stopPreview();
  if (same) return;
  button.disabled = true; button.textContent = '… preparing';
  try {
    const r = await fetcher();
    if (!r.ok) {
      let msg = `The preview failed (${r.status}).`;
      try { msg = (await r.json()).error || msg; } catch { /* keep */ }
      throw new Error(msg);
    }
    const url = URL.createObjectURL(await r.blob());
    const audio = new Audio(url);
    playing = { audio, key, button, label, url };
    audio.addEventListener('ended', () => { if (playing && playing.audio === audio) stopPreview(); });
    button.disabled = false;
    markButton(button, true, label);
    await audio.play();
  } catch (e) {
    if (playing && playing.button === button) stopPreview();
    button.textContent = label;
    if (ctx) ctx.notify(e.message || String(e));
  } finally {
    button.disabled = false;
  }
}

// ---------- the gallery ----------
export function setupVoices(context) {
  ctx = context;
  const g = ctx.$('#voice-gallery');
  g.before(ctx.el('p', { id: 'voices-warn', class: 'voices-warn', role: 'status', hidden: true }));
  // A radio group: arrows move the choice, Home and End go to the ends.
  g.addEventListener('keydown', (e) => {
    const cards = ctx.$$('.voice[role=radio]', g);
    const i = cards.indexOf(e.target.closest('.voice'));
    if (i < 0 || e.target.closest('button')) return;
    const to = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: cards.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = cards[(to + cards.length) % cards.length];
    ctx.choose(next.dataset.voice);
    ctx.$(`.voice[data-voice="${CSS.escape(next.dataset.voice)}"]`, g)?.focus();
  });
}

// The subtitles' language: the render's choice, else the file's.
function subtitlesLanguage() {
  const { S } = ctx;
  return S.settings.lang || S.project?.subtitles?.info?.language || '';
}

// After the gallery is drawn: one tab stop (the chosen card), the playing
// preview's button, and the language warnings.
export function decorateGallery() {
  if (!ctx) return;
  const { S, $, $$, el } = ctx;
  const cards = $$('#voice-gallery .voice[role=radio]');
  const chosen = cards.find((c) => c.getAttribute('aria-checked') === 'true') || cards[0];
  for (const c of cards) c.tabIndex = c === chosen ? 0 : -1;
  if (playing) {
    for (const b of document.querySelectorAll(`[data-play="${CSS.escape(playing.key)}"]`)) {
      b.dataset.label = b.dataset.label || b.textContent;
      markButton(b, true, b.dataset.label);
    }
  }
  const subs = subtitlesLanguage();
  const warn = $('#voices-warn');
  warn.hidden = true;
  if (!subs) return;
  for (const c of cards) {
    const v = S.voices.find((x) => x.name === c.dataset.voice);
    if (!v || !v.language || baseLanguage(v.language) === baseLanguage(subs)) continue;
    c.append(el('div', { class: 'lang-warn', text: `⚠ Not ${languageName(subs)}` }));
  }
  const v = S.voices.find((x) => x.name === S.settings.voice);
  if (v && v.language && baseLanguage(v.language) !== baseLanguage(subs)) {
    warn.textContent = `⚠ ${voiceName(v.name)} speaks ${languageName(v.language)}, but your subtitles are in ${languageName(subs)}: it will read them with its own accent. Choose a voice that speaks ${languageName(subs)}, or your own voice.`;
    warn.hidden = false;
  }
}

// ---------- recordings ----------
function wavOf(buffer) {
  const n = buffer.length, rate = buffer.sampleRate, ch = buffer.numberOfChannels;
  const out = new DataView(new ArrayBuffer(44 + n * 2));
  const text = (o, s) => { for (let i = 0; i < s.length; i++) out.setUint8(o + i, s.charCodeAt(i)); };
  text(0, 'RIFF'); out.setUint32(4, 36 + n * 2, true); text(8, 'WAVE'); text(12, 'fmt ');
  out.setUint32(16, 16, true); out.setUint16(20, 1, true); out.setUint16(22, 1, true);
  out.setUint32(24, rate, true); out.setUint32(28, rate * 2, true); out.setUint16(32, 2, true); out.setUint16(34, 16, true);
  text(36, 'data'); out.setUint32(40, n * 2, true);
  const chans = [...Array(ch)].map((_, c) => buffer.getChannelData(c));
  for (let i = 0; i < n; i++) {
    let x = 0; for (const d of chans) x += d[i];
    x = Math.max(-1, Math.min(1, x / ch));
    out.setInt16(44 + i * 2, x < 0 ? x * 0x8000 : x * 0x7fff, true);
  }
  return new Blob([out], { type: 'audio/wav' });
}
const clock = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}.${Math.floor((s % 1) * 10)}`;

// Shows @blob (a MediaRecorder recording) in @audio so that its length is
// known and it can be sought: MediaRecorder's WebM has neither, so it is
// decoded and played as WAV. The length is written beside the player.
export async function showRecording(audio, blob) {
  let src = blob, seconds = NaN;
  try {
    const ac = new (window.AudioContext || window.webkitAudioContext)();
    const buffer = await ac.decodeAudioData(await blob.arrayBuffer());
    ac.close();
    src = wavOf(buffer);
    seconds = buffer.duration;
  } catch { /* played as it is */ }
  if (audio.dataset.url) URL.revokeObjectURL(audio.dataset.url);
  const url = URL.createObjectURL(src);
  audio.dataset.url = url;
  audio.src = url;
  audio.hidden = false;
  let info = audio.nextElementSibling;
  if (!info || !info.classList.contains('rec-info')) {
    info = ctx.el('div', { class: 'rec-info' });
    audio.after(info);
  }
  info.textContent = Number.isFinite(seconds) ? `Your recording: ${clock(seconds)} long` : '';
  info.dataset.seconds = Number.isFinite(seconds) ? seconds.toFixed(2) : '';
}

// ---------- after a voice is made ----------
const madeHere = new Set();
export function voiceRequested(id) { madeHere.add(id); }

// A voice asked for on this page is ready: it becomes the chosen voice, and
// the next step is offered.
export function voiceReady(p) {
  if (!ctx || p.state !== 'ready' || !madeHere.has(p.id)) return;
  madeHere.delete(p.id);
  ctx.choose(p.voice);
  const { $, el } = ctx;
  $('#made-next')?.remove();
  $('#profile-list').after(el('div', { id: 'made-next', class: 'made-next', role: 'status' },
    el('span', { text: `✓ “${p.name}” is ready and now reads your subtitles.` }),
    el('a', { class: 'button', href: '#editor', 'data-tab': 'editor', text: 'Next: your subtitles →' })));
}
