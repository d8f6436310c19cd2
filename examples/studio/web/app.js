// ganvoice studio: the page. Plain modules, no build step, nothing from a CDN.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { setupFit, scheduleFit, fitCell } from './fit.js';
import { setupVoices, decorateGallery, languageName, voiceName, playPreview, showRecording, voiceRequested, voiceReady } from './voices.js';
import { History, LIMITS, checkTime, layoutLanes, cueStats, displayText, parseAss, exportAss, exportSrt, captionRuns } from './editor.js';
import { setupProjects, ownerKey } from './projects.js';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v != null) e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
};

const S = {
  pid: null, token: null, project: null, voices: [], cues: [], sel: -1,
  peaks: null, settings: { voice: '', speakers: {}, mode: 'duck', lang: '' },
  recording: null, // upload id of the recording to make a voice from
  cuesSource: 'none', dirty: false,
};

// ---------- messages ----------
let noticeTimer = 0;
function notify(text, kind = 'error') {
  const n = $('#notice');
  $('#notice-text').textContent = text;
  n.classList.toggle('info', kind !== 'error');
  n.hidden = false;
  clearTimeout(noticeTimer);
  if (kind !== 'error') noticeTimer = setTimeout(() => { n.hidden = true; }, 4000);
}
$('#notice-close').addEventListener('click', () => { $('#notice').hidden = true; });
// An error that something later went right past (an upload that worked).
function clearError() { if (!$('#notice').classList.contains('info')) $('#notice').hidden = true; }
window.addEventListener('unhandledrejection', (e) => notify(plain(e.reason)));
function plain(err) {
  if (!err) return 'Something went wrong.';
  if (err.name === 'TypeError' && /fetch/i.test(err.message)) return 'The studio cannot be reached. Check your connection and try again.';
  return err.message || String(err);
}

// ---------- API ----------
async function api(method, path, body, opts = {}) {
  // No project yet (projects.js): the first request that needs one makes it.
  const none = '/api/projects/null';
  if (!S.pid && path.startsWith(none)) { await projects.ensure(); path = P() + path.slice(none.length); }
  const headers = { 'X-Studio-Owner': ownerKey() };
  if (S.token) headers['X-Studio-Token'] = S.token;
  let payload = body;
  if (body && !(body instanceof Blob) && !(body instanceof ArrayBuffer)) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch(path, { method, headers, body: payload, signal: opts.signal });
  if (opts.raw) return r;
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!r.ok) {
    const e = new Error((data && data.error) || `The studio answered ${r.status}.`);
    e.status = r.status; e.data = data;
    throw e;
  }
  return data;
}
const P = (rest = '') => `/api/projects/${S.pid}${rest}`;
const withToken = (url) => `${url}${url.includes('?') ? '&' : '?'}token=${S.token}`;

// ---------- project (projects.js) ----------
const projects = setupProjects({ S, api, notify, plain, el, $, onCreated: () => listen() });
async function openProject() {
  await projects.open();
  Object.assign(S.settings, S.project.settings || {});
}

let settingsTimer = 0;
function saveSettings() {
  clearTimeout(settingsTimer);
  settingsTimer = setTimeout(() => api('PATCH', P(), { settings: S.settings }).catch((e) => notify(plain(e))), 400);
}

// ---------- live events ----------
function listen() {
  if (!S.pid) return; // no project yet
  const es = new EventSource(withToken(P('/events')));
  es.addEventListener('project', (e) => { S.project = JSON.parse(e.data); renderAll(); });
  es.addEventListener('upload', (e) => { const u = JSON.parse(e.data); mergeUpload(u); });
  es.addEventListener('profile', (e) => {
    const p = JSON.parse(e.data);
    const list = S.project.profiles; const i = list.findIndex((x) => x.id === p.id);
    if (i >= 0) list[i] = p; else list.push(p);
    renderProfiles(); renderGallery(); renderSpeakers();
    if (p.state === 'failed' && !/You stopped/.test(p.error)) notify(`Your voice “${p.name}”: ${p.error}`);
    if (p.state === 'ready') notify(`Your voice “${p.name}” is ready.`, 'info');
    voiceReady(p);
  });
  es.addEventListener('job', (e) => { const j = JSON.parse(e.data); mergeJob(j); });
  es.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data); const j = S.project.jobs.find((x) => x.id === p.id);
    if (j) { j.percent = p.percent; j.eta = p.eta; j.state = 'running'; renderJobs(); }
  });
  es.addEventListener('warning', (e) => {
    const w = JSON.parse(e.data); const j = S.project.jobs.find((x) => x.id === w.id);
    if (j) { j.warnings = [...(j.warnings || []), w.message]; renderJobs(); }
  });
  es.addEventListener('fit', (e) => {
    const f = JSON.parse(e.data); const j = S.project.jobs.find((x) => x.id === f.id);
    if (j) { j.fits = [...(j.fits || []), f.fit]; renderJobs(); }
  });
  es.addEventListener('peaks', () => loadPeaks());
  es.addEventListener('reading', (e) => mergeReading(JSON.parse(e.data)));
  es.addEventListener('training', (e) => {
    const t = JSON.parse(e.data);
    if (!R.reading || R.reading.id !== t.id) return;
    const was = R.reading.state;
    Object.assign(R.reading, { progress: t.progress, state: 'training', queue_position: 0 });
    if (was === 'training') renderTrainingProgress(); else renderReading();
  });
}
function mergeUpload(u) {
  if (u.kind === 'video' && u.state === 'ready') S.project.video = u;
  if (u.kind === 'subtitles' && u.state === 'ready') { S.project.subtitles = u; S.project.edited = false; loadCues(); }
  renderUploads();
}
function mergeJob(j) {
  const list = S.project.jobs; const i = list.findIndex((x) => x.id === j.id);
  if (i >= 0) list[i] = j; else list.unshift(j);
  renderJobs();
  if (j.state === 'done') notify('Your dubbed video is ready.', 'info');
  if (j.state === 'failed') notify(`The render failed: ${j.error}`);
}

// ---------- tabs ----------
function showTab(name) {
  if (!$(`#tab-${name}`)) name = 'upload';
  for (const t of $$('.tab')) t.hidden = t.dataset.tab !== name;
  for (const a of $$('.steps a')) a.classList.toggle('active', a.dataset.tab === name);
  if (name === 'editor') { sizeTimeline(); drawTimeline(); }
  for (const v of $$('video')) if (!v.closest(`#tab-${name}`)) v.pause();
}
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-tab]');
  if (!a) return;
  e.preventDefault();
  history.replaceState(null, '', `#${a.dataset.tab}`);
  showTab(a.dataset.tab);
  window.scrollTo(0, 0);
});

// ---------- chunked, resumable uploads ----------
async function uploadFile(file, kind, onProgress) {
  await projects.ensure();
  const key = `ganvoice.upload.${S.pid}.${kind}.${file.name}.${file.size}.${file.lastModified}`;
  let u = null;
  const known = localStorage.getItem(key);
  if (known) { try { u = await api('GET', P(`/uploads/${known}`)); } catch { u = null; } }
  if (!u || u.state !== 'receiving') u = await api('POST', P('/uploads'), { kind, name: file.name, size: file.size });
  localStorage.setItem(key, u.id);
  const chunk = u.chunk_size || 4 * 1024 * 1024;
  let offset = u.offset || 0, failures = 0;
  onProgress(offset / file.size);
  try {
    while (true) {
      const end = Math.min(file.size, offset + chunk);
      let r;
      try {
        r = await api('PUT', P(`/uploads/${u.id}?offset=${offset}`), file.slice(offset, end));
      } catch (e) {
        if (e.status === 409 && e.data && typeof e.data.offset === 'number') { offset = e.data.offset; continue; }
        if (e.status && e.status !== 503 && e.status < 500) throw e;
        if (++failures > 8) throw new Error('The upload keeps failing. Check your connection; it will carry on from where it stopped when you try again.');
        await new Promise((res) => setTimeout(res, Math.min(10000, 500 * 2 ** failures)));
        const st = await api('GET', P(`/uploads/${u.id}`)).catch(() => null);
        if (st) offset = st.offset;
        continue;
      }
      failures = 0;
      offset = r.offset;
      onProgress(offset / file.size, r.state);
      if (r.state !== 'receiving') { localStorage.removeItem(key); return r; }
    }
  } catch (e) {
    if (e.status === 415) localStorage.removeItem(key);
    throw e;
  }
}

function setupDrop(zone, handle) {
  const input = $('input[type=file]', zone);
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault(); zone.classList.remove('over');
    if (e.dataTransfer.files.length) handle(e.dataTransfer.files[0]);
  });
  zone.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } });
  input.addEventListener('change', () => { if (input.files.length) handle(input.files[0]); input.value = ''; });
}
async function dropUpload(zone, kind, file) {
  const status = $('.drop-status', zone), bar = $('progress', zone);
  zone.classList.remove('done', 'bad');
  bar.hidden = false; bar.value = 0;
  status.textContent = `Sending ${file.name}…`;
  try {
    const u = await uploadFile(file, kind, (f, state) => {
      bar.value = Math.round(f * 100);
      status.textContent = state === 'checking' || f >= 1 ? 'Checking the file…' : `Sending ${file.name}: ${Math.floor(f * 100)}%`;
    });
    bar.hidden = true;
    zone.classList.add('done');
    status.textContent = `✓ ${u.name}`;
    clearError();
    mergeUpload(u);
    return u;
  } catch (e) {
    bar.hidden = true;
    zone.classList.add('bad');
    status.textContent = plain(e);
    notify(plain(e));
    return null;
  }
}
setupDrop($('#drop-video'), (f) => dropUpload($('#drop-video'), 'video', f));
setupDrop($('#drop-subtitles'), (f) => dropUpload($('#drop-subtitles'), 'subtitles', f));
// ---------- consent for cloned voices ----------
// The statement is the server's (GET /api/config); a clone is asked for only
// with it confirmed, and the server keeps it with the voice.
function consent() { return $('#consent-check').checked ? $('#consent-text').textContent : ''; }
function applyConsent() {
  const ok = !!consent();
  $('#rec-start').disabled = !ok || !!rec;
  $('#read-begin').disabled = !ok;
  $('#profile-make').disabled = !ok || !S.recording;
  $('#drop-recording').classList.toggle('disabled', !ok);
}
function needConsent() {
  if (consent()) return false;
  notify('First confirm that it is your own voice, or that you have the speaker’s permission.');
  $('#consent-check').focus();
  return true;
}
$('#consent-check').addEventListener('change', applyConsent);
async function loadConsent() {
  const c = await api('GET', '/api/config');
  if (c.consent_statement) $('#consent-text').textContent = c.consent_statement;
  applyConsent();
}

setupDrop($('#drop-recording'), async (f) => {
  if (needConsent()) return;
  const u = await dropUpload($('#drop-recording'), 'recording', f);
  if (u) { S.recording = u.id; applyConsent(); }
});

function renderUploads() {
  const v = S.project.video, s = S.project.subtitles;
  if (v && v.state === 'ready') {
    const zone = $('#drop-video');
    zone.classList.add('done');
    if ($('progress', zone).hidden) $('.drop-status', zone).textContent = `✓ ${v.name}`;
    const src = withToken(v.url);
    for (const id of ['#video-upload', '#video-editor']) {
      const ve = $(id);
      if (ve.dataset.src !== src) { ve.dataset.src = src; ve.src = src; }
    }
    $('#upload-player').hidden = false;
    loadPeaks();
  }
  if (s && s.state === 'ready') {
    const zone = $('#drop-subtitles');
    zone.classList.add('done');
    if ($('progress', zone).hidden) $('.drop-status', zone).textContent = `✓ ${s.name} (${s.info.cues} cues, ${s.info.format})`;
  }
  renderSummary();
}

// ---------- voices ----------
function allVoices() {
  const profiles = (S.project.profiles || []).filter((p) => p.state === 'ready')
    .map((p) => ({ name: p.name, value: p.voice, language: '', gender: 'your voice', profile: p }));
  return [...S.voices.map((v) => ({ ...v, name: voiceName(v.name), value: v.name })), ...profiles];
}
const voiceLabel = (value) => {
  const v = allVoices().find((x) => x.value === value);
  return v ? v.name : value || 'the default voice';
};
const langName = languageName;

function renderGallery() {
  const g = $('#voice-gallery');
  g.replaceChildren();
  const voices = allVoices();
  if (!S.settings.voice && voices.length) S.settings.voice = voices[0].value;
  for (const v of voices) {
    const card = el('div', { class: 'voice', role: 'radio', tabindex: '0', 'aria-checked': String(S.settings.voice === v.value), 'data-voice': v.value },
      el('div', { class: 'avatar', 'aria-hidden': 'true', text: v.name.slice(0, 1).toUpperCase() }),
      el('div', { class: 'name', text: v.name }),
      el('div', { class: 'meta', text: [langName(v.language), v.gender].filter(Boolean).join(' · ') }),
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'button secondary listen', text: '▶ Listen', 'data-play': v.value, 'aria-label': `Listen to ${v.name}`, onclick: (e) => {
          e.stopPropagation();
          const url = v.profile ? withToken(P(`/profiles/${v.profile.id}/preview`)) : v.preview;
          playPreview(() => fetch(url), e.currentTarget);
        } }),
        el('span', { class: 'muted', text: S.settings.voice === v.value ? 'Chosen' : '' })));
    const choose = () => chooseVoice(v.value);
    card.addEventListener('click', choose);
    card.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); choose(); } });
    g.append(card);
  }
  if (!voices.length) g.append(el('p', { class: 'muted', text: 'No voices are installed on this server.' }));
  decorateGallery();
}
function chooseVoice(value) { S.settings.voice = value; saveSettings(); renderGallery(); renderSpeakers(); renderSummary(); }

// ---------- your voice: recording ----------
let rec = null;
$('#rec-start').addEventListener('click', async () => {
  if (needConsent()) return;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: true } });
  } catch (e) {
    notify('The microphone cannot be used: allow the page to use it, or upload a recording instead.');
    return;
  }
  $('#rec-start').disabled = true;
  const cd = $('#rec-countdown');
  for (const n of [3, 2, 1]) { cd.textContent = n; await new Promise((r) => setTimeout(r, 700)); }
  cd.textContent = '● REC';
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const mime = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm'].find((m) => MediaRecorder.isTypeSupported(m)) || '';
  const mr = new MediaRecorder(stream, mime ? { mimeType: mime } : {});
  const chunks = [];
  mr.addEventListener('dataavailable', (e) => { if (e.data.size) chunks.push(e.data); });
  const t0 = performance.now();
  rec = { mr, stream, ctx, raf: 0 };
  const tick = () => {
    analyser.getFloatTimeDomainData(buf);
    let peak = 0; for (const x of buf) peak = Math.max(peak, Math.abs(x));
    $('#rec-level').style.width = `${Math.min(100, Math.round(Math.sqrt(peak) * 100))}%`;
    const s = Math.floor((performance.now() - t0) / 1000);
    $('#rec-time').textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    if (s >= 60) $('#rec-stop').click();
    rec.raf = requestAnimationFrame(tick);
  };
  mr.addEventListener('stop', async () => {
    cancelAnimationFrame(rec.raf);
    stream.getTracks().forEach((t) => t.stop());
    ctx.close();
    $('#rec-level').style.width = '0';
    cd.textContent = '';
    $('#rec-start').disabled = !consent(); $('#rec-stop').disabled = true;
    const blob = new Blob(chunks, { type: mr.mimeType || 'audio/webm' });
    showRecording($('#rec-playback'), blob);
    const file = new File([blob], `recording-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.webm`, { type: blob.type, lastModified: Date.now() });
    const u = await dropUpload($('#drop-recording'), 'recording', file);
    if (u) { S.recording = u.id; applyConsent(); }
  });
  mr.start(1000);
  tick();
  $('#rec-stop').disabled = false;
});
$('#rec-stop').addEventListener('click', () => { if (rec && rec.mr.state === 'recording') rec.mr.stop(); });

$('#profile-make').addEventListener('click', async () => {
  if (!S.recording) { notify('Record or upload your voice first.'); return; }
  if (needConsent()) return;
  try {
    const p = await api('POST', P('/profiles'), { recording: S.recording, name: $('#profile-name').value.trim() || 'My voice', adapt: $('#profile-adapt').checked, consent: consent() });
    voiceRequested(p.id);
    if (!S.project.profiles.find((x) => x.id === p.id)) S.project.profiles.push(p);
    renderProfiles();
    notify('Making your voice… this can take a minute.', 'info');
  } catch (e) { notify(plain(e)); }
});

function renderProfiles() {
  const list = $('#profile-list');
  list.replaceChildren();
  const profiles = S.project.profiles || [];
  $('#profile-empty').hidden = profiles.length > 0;
  for (const p of profiles) {
    const stateText = { making: 'Being made…', ready: 'Ready', failed: 'Not made' }[p.state] || p.state;
    const li = el('li', { 'data-profile': p.id },
      el('span', { class: 'pname', text: p.name }),
      el('span', { class: `state ${p.state}`, text: stateText }),
      p.deep ? el('span', { class: 'muted', text: 'trained on your reading' }) : null,
      p.state === 'making' ? profileProgress(p) : null,
      p.library && p.project !== S.pid ? el('span', { class: 'muted', text: 'from another project' }) : null,
      p.consent ? el('span', { class: 'muted', title: p.consent.statement, text: `consent given ${new Date(p.consent.at).toLocaleDateString()}` }) : null,
      p.state === 'ready' ? el('button', { type: 'button', class: 'button secondary', text: '▶ Listen',
        onclick: (e) => playPreview(() => fetch(withToken(P(`/profiles/${p.id}/preview`))), e.currentTarget) }) : null,
      p.state === 'failed' ? el('button', { type: 'button', class: 'button secondary', text: 'Try again',
        onclick: () => api('POST', P(`/profiles/${p.id}/retry`), { consent: consent() }).then((x) => { Object.assign(p, x); renderProfiles(); }).catch((e) => notify(plain(e))) }) : null,
      el('button', { type: 'button', class: 'button secondary', text: 'Rename', onclick: async () => {
        const name = prompt('New name for this voice', p.name);
        if (!name) return;
        try { Object.assign(p, await api('PATCH', P(`/profiles/${p.id}`), { name })); renderProfiles(); renderGallery(); } catch (e) { notify(plain(e)); }
      } }),
      el('button', { type: 'button', class: 'button secondary', text: 'Delete', onclick: async () => {
        if (!confirm(`Delete the voice “${p.name}”?`)) return;
        try { await api('DELETE', P(`/profiles/${p.id}`)); S.project.profiles = S.project.profiles.filter((x) => x.id !== p.id); renderProfiles(); renderGallery(); } catch (e) { notify(plain(e)); }
      } }),
      p.error ? el('span', { class: 'perr', text: p.error }) : null);
    list.append(li);
  }
}

// What making a voice is doing now (the adapt step takes minutes on a slow
// machine), with a button to stop it.
function profileProgress(p) {
  const g = p.progress || {};
  const what = { waiting: 'Waiting for its turn…', listening: 'Listening to the recording…', loading: 'Loading the voice models…',
    adapting: `Adapting to your recording: ${g.done || 0} of ${g.total || '?'} tries` }[g.stage] || 'Starting…';
  return el('span', { class: 'making' },
    el('progress', { max: '100', value: String(Math.round((g.stage === 'adapting' ? g.fraction || 0 : 0) * 100)), 'aria-label': 'Progress' }),
    el('span', { class: 'muted', text: what }),
    el('button', { type: 'button', class: 'button secondary', text: 'Stop',
      onclick: () => api('POST', P(`/profiles/${p.id}/cancel`)).catch((e) => notify(plain(e))) }));
}

// ---------- your voice: Read to me (a deep clone) ----------
// One sentence at a time: record, hear it back, see the server's check, redo
// or go on; then train (one training at a time on the server), with its
// progress arriving as `reading` and `training` events.
const R = { langs: [], reading: null, sentences: [], index: 0, rec: null, busy: false };
const stageLabel = (st) => ({
  starting: 'Starting', preparing: 'Preparing your takes', 'choosing a start voice': 'Choosing a voice to start from',
  aligning: 'Matching the text to your speech', training: 'Training', done: 'Done',
}[st] || st || 'Starting');
const minSec = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
const aboutLeft = (s) => (s > 0 ? `about ${s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`} left` : '');

async function loadReadingLanguages() {
  try {
    R.langs = (await api('GET', '/api/prompts')).languages;
  } catch { R.langs = []; }
  const sel = $('#read-lang');
  sel.replaceChildren(...R.langs.map((l) => el('option', { value: l.code, text: l.name })));
  const mine = (navigator.language || 'en').slice(0, 2);
  sel.value = R.langs.some((l) => l.code === mine) ? mine : (R.langs.some((l) => l.code === 'en') ? 'en' : R.langs[0]?.code || '');
  $('#read-begin').disabled = !R.langs.length;
  if (!R.langs.length) $('#read-setup').append(el('span', { class: 'muted', text: 'No lists of sentences are installed on this server.' }));
}

async function openReading(r) {
  const first = !R.reading || R.reading.id !== r.id;
  R.reading = r;
  if (first) {
    try { R.sentences = (await api('GET', `/api/prompts/${r.language}`)).sentences; } catch (e) { notify(plain(e)); R.sentences = []; }
    const good = new Set(r.takes.filter((t) => t.ok).map((t) => t.index));
    R.index = Math.max(0, R.sentences.findIndex((_, i) => !good.has(i)));
  }
  renderReading();
}

function takeOf(i) { return R.reading?.takes.find((t) => t.index === i); }

function renderTakeCheck(t) {
  const box = $('#read-check');
  box.replaceChildren();
  if (!t) return;
  const nums = el('div', { class: 'nums muted', text: `${t.speech_seconds.toFixed(1)} s of speech (this sentence usually takes about ${t.expected_seconds.toFixed(1)} s) · level ${Math.round(t.speech_dbfs)} dBFS · peak ${Math.round(t.peak_dbfs)} dBFS` });
  if (t.ok) box.append(el('div', { class: 'good', text: '✓ Good take' }), nums);
  else box.append(el('ul', {}, ...t.problems.map((p) => el('li', { text: p }))), nums);
}

function renderReading() {
  const r = R.reading;
  $('#read-setup').hidden = !!r;
  $('#read-session').hidden = !r;
  if (!r) return;
  const n = R.sentences.length;
  const busy = r.state === 'queued' || r.state === 'training';
  $('#read-title').textContent = `${r.name} · ${r.language_name}`;
  $('#read-pos').textContent = n ? `Sentence ${R.index + 1} of ${n}` : '';
  const sentence = $('#read-sentence');
  sentence.textContent = R.sentences[R.index] || '';
  sentence.lang = r.language;
  $('#read-stats').textContent = `${r.good_takes} good ${r.good_takes === 1 ? 'take' : 'takes'} · ${minSec(r.speech_seconds)} of speech`;
  const t = takeOf(R.index);
  if (!R.busy) renderTakeCheck(t);
  const a = $('#read-playback');
  if (t && !R.busy) {
    const src = withToken(`${t.url}?v=${encodeURIComponent(t.seconds)}`);
    if (a.dataset.src !== src) { a.dataset.src = src; a.src = src; }
    a.hidden = false;
  } else if (!R.busy) { a.hidden = true; a.removeAttribute('src'); a.dataset.src = ''; }
  const recording = !!R.rec;
  $('#read-rec').disabled = recording || busy || R.busy;
  $('#read-rec').textContent = t ? '● Record again' : '● Record';
  $('#read-stop').disabled = !recording;
  $('#read-prev').disabled = recording || R.index <= 0;
  $('#read-next').disabled = recording || R.index >= n - 1;
  $('#read-redo').disabled = recording || busy || R.busy || !t;
  $('#read-next').classList.toggle('secondary', !(t && t.ok));
  const dots = $('#read-dots');
  dots.replaceChildren(...R.sentences.map((_, i) => {
    const ti = takeOf(i);
    return el('button', { type: 'button', class: `${ti ? (ti.ok ? 'ok' : 'bad') : ''}${i === R.index ? ' cur' : ''}`, text: String(i + 1),
      title: ti ? (ti.ok ? 'Good take' : ti.problems.join('; ')) : 'Not read yet', 'aria-label': `Sentence ${i + 1}`,
      disabled: recording, onclick: () => { R.index = i; renderReading(); } });
  }));
  $('#read-amount').max = r.suggested_speech_seconds;
  $('#read-amount').value = Math.min(r.speech_seconds, r.suggested_speech_seconds);
  $('#read-goal').textContent = r.speech_seconds < r.min_speech_seconds
    ? `${Math.ceil(r.min_speech_seconds - r.speech_seconds)} s more to be able to train (about ${minSec(r.suggested_speech_seconds)}, some 60 sentences, is best)`
    : r.speech_seconds < r.suggested_speech_seconds ? `Enough to train; more (up to about ${minSec(r.suggested_speech_seconds)}) makes a better voice`
      : 'Plenty of speech: train your voice';
  $('#read-train').disabled = !r.can_train;
  $('#read-train').textContent = r.state === 'done' ? 'Train again' : r.state === 'cancelled' || r.state === 'failed' ? 'Train my voice (carry on)' : 'Train my voice';
  $('#read-train').hidden = busy;
  $('#read-progress').hidden = !busy;
  if (busy) renderTrainingProgress();
  const err = $('#read-error');
  err.hidden = r.state !== 'failed' || !r.error;
  err.textContent = r.error || '';
  $('#read-note').textContent = r.state === 'done' ? `✓ Trained: “${r.name}” is in your voices and in every voice list.`
    : r.state === 'cancelled' ? 'Cancelled. Training again carries on where it stopped.' : '';
  if (!recording) $('#read-time').textContent = '0:00';
  $('#read-new').disabled = busy;
}

function renderTrainingProgress() {
  const r = R.reading, p = r.progress || {};
  let label = stageLabel(p.stage), eta = '';
  if (r.state === 'queued') label = `Waiting for another voice to finish training${r.queue_position > 1 ? ` (${r.queue_position - 1} ahead)` : ''}`;
  else if (r.cancelling) label = 'Stopping…';
  else {
    if (p.stage === 'training' && p.max_steps) label += ` · step ${p.step}`;
    if (p.resumed) label += ' (carrying on)';
    eta = aboutLeft(p.remaining);
  }
  $('#read-stage').textContent = label;
  $('#read-eta').textContent = eta;
  $('#read-bar').value = Math.round(100 * (p.fraction || 0));
  $('#read-cancel').disabled = !!r.cancelling;
}

function mergeReading(r) {
  const list = S.project.readings || (S.project.readings = []);
  const i = list.findIndex((x) => x.id === r.id); if (i >= 0) list[i] = r; else list.push(r);
  const was = R.reading?.id === r.id ? R.reading.state : null;
  if (!R.reading || R.reading.id === r.id) openReading(r);
  if (was && was !== r.state) {
    if (r.state === 'done') notify(`Your voice “${r.name}” is trained: choose it in the voice list.`, 'info');
    if (r.state === 'failed') notify(`Your voice “${r.name}” could not be trained: ${r.error}`);
  }
}

$('#read-begin').addEventListener('click', async () => {
  try {
    if (needConsent()) return;
    const r = await api('POST', P('/readings'), { language: $('#read-lang').value, name: $('#read-name').value.trim() || 'My deep voice', gender: $('#read-gender').value, consent: consent() });
    R.reading = null;
    mergeReading(r);
  } catch (e) { notify(plain(e)); }
});
$('#read-new').addEventListener('click', () => { R.reading = null; renderReading(); });

async function recordTake() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  } catch {
    notify('The microphone cannot be used: allow the page to use it.');
    return;
  }
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const mime = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm'].find((m) => MediaRecorder.isTypeSupported(m)) || '';
  const mr = new MediaRecorder(stream, mime ? { mimeType: mime } : {});
  const chunks = [];
  const index = R.index;
  mr.addEventListener('dataavailable', (e) => { if (e.data.size) chunks.push(e.data); });
  const t0 = performance.now();
  R.rec = { mr, raf: 0 };
  const tick = () => {
    analyser.getFloatTimeDomainData(buf);
    let peak = 0; for (const x of buf) peak = Math.max(peak, Math.abs(x));
    $('#read-level').style.width = `${Math.min(100, Math.round(Math.sqrt(peak) * 100))}%`;
    const s = Math.floor((performance.now() - t0) / 1000);
    $('#read-time').textContent = minSec(s);
    if (s >= 60 && mr.state === 'recording') mr.stop();
    R.rec.raf = requestAnimationFrame(tick);
  };
  mr.addEventListener('stop', async () => {
    cancelAnimationFrame(R.rec.raf);
    stream.getTracks().forEach((t) => t.stop());
    ctx.close();
    R.rec = null;
    $('#read-level').style.width = '0';
    const blob = new Blob(chunks, { type: mr.mimeType || 'audio/webm' });
    const a = $('#read-playback'); a.src = URL.createObjectURL(blob); a.dataset.src = ''; a.hidden = false;
    await sendTake(index, blob);
  });
  mr.start(250);
  tick();
  renderReading();
}

async function sendTake(index, blob) {
  R.busy = true;
  $('#read-check').replaceChildren(el('span', { class: 'muted', text: 'Checking the take…' }));
  renderReading();
  try {
    const r = await api('PUT', P(`/readings/${R.reading.id}/takes/${index}`), blob);
    R.busy = false;
    mergeReading(r.reading);
    if (R.index === index) renderTakeCheck(r.take);
  } catch (e) {
    R.busy = false;
    renderReading();
    $('#read-check').replaceChildren(el('ul', {}, el('li', { text: plain(e) })));
  }
}

$('#read-rec').addEventListener('click', recordTake);
$('#read-redo').addEventListener('click', recordTake);
$('#read-stop').addEventListener('click', () => { if (R.rec && R.rec.mr.state === 'recording') R.rec.mr.stop(); });
$('#read-prev').addEventListener('click', () => { R.index = Math.max(0, R.index - 1); renderReading(); });
$('#read-next').addEventListener('click', () => { R.index = Math.min(R.sentences.length - 1, R.index + 1); renderReading(); });
$('#read-train').addEventListener('click', async () => {
  try { mergeReading(await api('POST', P(`/readings/${R.reading.id}/train`), { consent: consent() })); } catch (e) { notify(plain(e)); }
});
$('#read-cancel').addEventListener('click', async () => {
  try { mergeReading(await api('POST', P(`/readings/${R.reading.id}/cancel`))); } catch (e) { notify(plain(e)); }
});

// ---------- subtitle editor ----------
const video = $('#video-editor');
const fmt = (t, sep = '.') => {
  if (!isFinite(t) || t < 0) t = 0;
  const ms = Math.round(t * 1000);
  const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60, r = ms % 1000;
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(s).padStart(2, '0')}${sep}${String(r).padStart(3, '0').slice(0, 2)}`;
};

async function loadCues() {
  if (!S.pid) return; // no project yet
  try {
    const r = await api('GET', P('/cues'));
    const origin = await loadOrigin(r);
    S.cues = r.cues.map((c) => {
      const src = c.line ? origin.get(`${c.line}:${c.turn || 0}`) : undefined;
      const text = r.source === 'upload' && src ? src.text : c.text;
      return { start: c.start, end: c.end, text, speaker: c.speaker || '', ...(src ? { src } : {}) };
    });
    S.cuesSource = r.source;
    S.sel = S.cues.length ? 0 : -1;
    undoHistory.clear(); renderUndo(); renderWarnings();
    renderCues(); renderSpeakers(); drawTimeline(); renderSummary(); onTime();
  } catch (e) { notify(plain(e)); }
}
// What the uploaded subtitle file said, by file line and dialogue turn:
// the cues as parsed (line breaks kept) and, for ASS, the file itself, so
// that an export keeps the styles, tags and lines the user did not edit.
async function loadOrigin(r) {
  const origin = new Map();
  S.assSource = null; S.subtitleFormat = '';
  const sub = S.project.subtitles;
  if (r.source === 'none' || !sub || sub.state !== 'ready') return origin;
  try {
    const parsed = r.source === 'upload' ? r : await api('GET', P(`/media/${sub.id}/cues`));
    S.subtitleFormat = parsed.format || '';
    for (const c of parsed.cues) {
      origin.set(`${c.line}:${c.turn || 0}`, Object.freeze({ line: c.line, turn: c.turn || 0, n_turns: c.n_turns || 1, start: c.start, end: c.end,
        text: displayText(c, parsed.format), speaker: c.speaker || '', style: c.style || '', markup: c.markup || '' }));
    }
    if (/ass|ssa/i.test(parsed.format || '')) {
      const f = await api('GET', P(`/media/${sub.id}`), null, { raw: true });
      let decoder;
      try { decoder = new TextDecoder(parsed.encoding || 'utf-8'); } catch { decoder = new TextDecoder('utf-8'); }
      const ass = f.ok ? parseAss(decoder.decode(await f.arrayBuffer())) : null;
      const lines = new Set(parsed.cues.map((c) => c.line));
      if (ass && [...lines].every((l) => ass.events.has(l))) S.assSource = Object.assign(ass, { spoken: lines });
    }
  } catch { /* without it, exports are written from the cues alone */ }
  return origin;
}
async function loadPeaks() {
  const v = S.project.video;
  if (!v || S.peaks) return;
  try {
    const r = await api('GET', P(`/media/${v.id}/peaks`), null, { raw: true });
    if (r.status === 200) { S.peaks = await r.json(); drawTimeline(); }
  } catch { /* the waveform is a nicety */ }
}

let saveTimer = 0;
function changed() {
  S.dirty = true;
  $('#ed-saved').textContent = 'Saving…';
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveCues, 600);
  renderSummary(); renderUndo(); renderWarnings();
  onTime(); // the caption and the timeline show the edit at once
}
async function saveCues() {
  clearTimeout(saveTimer);
  if (!S.dirty) return;
  const cues = S.cues.filter((c) => c.end > c.start).sort((a, b) => a.start - b.start)
    .map((c) => ({ start: c.start, end: c.end, text: c.text, speaker: c.speaker, ...(c.src ? { line: c.src.line, turn: c.src.turn } : {}) }));
  try {
    await api('PUT', P('/cues'), { cues });
    S.dirty = false; S.project.edited = true; S.cuesSource = 'edited';
    $('#ed-saved').textContent = 'All changes saved';
    $('#ed-source').textContent = '';
  } catch (e) {
    $('#ed-saved').textContent = 'Not saved';
    notify(`Your changes could not be saved: ${plain(e)}`);
  }
}

function sortCues() {
  const cur = S.cues[S.sel];
  S.cues.sort((a, b) => a.start - b.start || a.end - b.end);
  S.sel = cur ? S.cues.indexOf(cur) : -1;
}
function select(i, scroll = true) {
  S.sel = Math.max(-1, Math.min(S.cues.length - 1, i));
  for (const li of $$('#cue-list .cue')) li.classList.toggle('sel', Number(li.dataset.i) === S.sel);
  const li = $(`#cue-list .cue[data-i="${S.sel}"]`);
  if (li && scroll) li.scrollIntoView({ block: 'nearest' });
  drawTimeline();
}
function cueAt(t) { return S.cues.findIndex((c) => t >= c.start && t < c.end); }

function renderCues() {
  const list = $('#cue-list');
  list.replaceChildren();
  lastNow = -2;
  $('#cue-empty').hidden = S.cues.length > 0;
  $('#ed-source').textContent = S.cuesSource === 'upload' ? 'From your subtitle file' : S.cuesSource === 'edited' ? '' : 'New subtitles';
  S.cues.forEach((c, i) => {
    const ta = el('textarea', { rows: '2', 'aria-label': `Text of cue ${i + 1}` });
    ta.value = c.text;
    ta.addEventListener('input', () => { edit(`text:${i}`); c.text = ta.value; changed(); refreshCueRow(i); });
    ta.addEventListener('focus', () => select(i, false));
    ta.addEventListener('blur', () => undoHistory.cut());
    const sp = el('input', { class: 'speaker', type: 'text', value: c.speaker, placeholder: 'Speaker', list: 'speaker-names', maxlength: '60', 'aria-label': `Speaker of cue ${i + 1}` });
    sp.addEventListener('change', () => { edit(); c.speaker = sp.value.replace(/[,;={}]/g, ' ').trim(); sp.value = c.speaker; changed(); renderSpeakers(); });
    sp.addEventListener('focus', () => select(i, false));
    const li = el('li', { class: `cue${i === S.sel ? ' sel' : ''}`, 'data-i': String(i) },
      el('span', { class: 'num', text: String(i + 1) }),
      el('span', { class: 'times' }, timeInput(c, i, 'start'), el('span', { 'aria-hidden': 'true', text: '→' }), timeInput(c, i, 'end')),
      sp,
      el('span', { class: 'cue-actions' },
        el('button', { type: 'button', class: 'button secondary', title: 'Hear this line in its voice', text: '▶ Hear', 'aria-label': `Hear cue ${i + 1}`,
          onclick: (e) => previewCue(c, e.currentTarget) })),
      ta,
      el('span', { class: 'cue-marks' }, el('span', { class: 'stats' }), el('span', { class: 'overlap' }),
        c.src?.style && c.src.style !== 'Default' ? el('span', { class: 'style', title: 'The style of this line in your ASS file (kept in the ASS export)', text: `style ${c.src.style}` }) : null,
        el('span', { class: 'cue-err', role: 'alert', id: `cue-err-${i}` })),
      fitCell(c, i));
    li.addEventListener('click', (e) => { if (e.target === li) select(i); });
    list.append(li);
  });
  refreshMarks();
  const names = el('datalist', { id: 'speaker-names' }, ...speakers().map((s) => el('option', { value: s })));
  $('#speaker-names')?.remove();
  document.body.append(names);
}
// A start or end time to type: checked when it is left or Enter is pressed.
function timeInput(c, i, which) {
  const input = el('input', { type: 'text', class: `t-${which}`, inputmode: 'decimal', spellcheck: 'false', autocomplete: 'off',
    'aria-label': `${which === 'start' ? 'Start' : 'End'} of cue ${i + 1}`, 'aria-describedby': `cue-err-${i}`, value: fmt(c[which]) });
  const showError = (msg) => {
    const err = $(`#cue-err-${i}`);
    if (err) err.textContent = msg ? `${which === 'start' ? 'Start' : 'End'}: ${msg}` : '';
    input.classList.toggle('bad', !!msg);
    input.setAttribute('aria-invalid', String(!!msg));
  };
  input.addEventListener('focus', () => { select(i, false); video.currentTime = c[which]; });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); input.dispatchEvent(new Event('change')); }
    if (e.key === 'Escape') { input.value = fmt(c[which]); showError(''); }
  });
  input.addEventListener('change', () => {
    if (input.value.trim() === fmt(c[which])) { showError(''); return; }
    const r = checkTime(c, which, input.value, video.duration);
    if (r.error) { showError(r.error); return; }
    showError('');
    edit();
    c[which] = r.value;
    retimed(c);
    video.currentTime = c[which];
  });
  return input;
}
// After times changed: the list is rebuilt only when the order changed.
function retimed(c) {
  const before = S.cues.indexOf(c);
  sortCues();
  if (S.cues.indexOf(c) !== before) renderCues(); else refreshMarks();
  changed();
}
// Times, reading speed and overlaps of every row, without rebuilding them.
function refreshMarks() {
  const { overlaps } = layoutLanes(S.cues);
  S.cues.forEach((c, i) => refreshCueRow(i, overlaps[i]));
}
function refreshCueRow(i, overlaps) {
  const li = $(`#cue-list .cue[data-i="${i}"]`), c = S.cues[i];
  if (!li || !c) return;
  for (const which of ['start', 'end']) {
    const input = $(`.t-${which}`, li);
    if (input && document.activeElement !== input && !input.classList.contains('bad')) input.value = fmt(c[which]);
  }
  const st = cueStats(c), stats = $('.stats', li);
  stats.textContent = `${st.cps.toFixed(1)} cps · line ${st.longest}/${LIMITS.lineChars}${st.lines > LIMITS.lines ? ` · ${st.lines} lines` : ''}`;
  stats.className = `stats lvl-${st.level}`;
  stats.title = st.notes.length ? `Hard to read: ${st.notes.join('; ')}.` : `Characters a second and the longest line (limits: ${LIMITS.cpsWarn} cps, ${LIMITS.lineChars} characters, ${LIMITS.lines} lines)`;
  li.dataset.level = String(st.level);
  if (overlaps) {
    const ov = $('.overlap', li);
    ov.textContent = overlaps.length ? `⚠ overlaps ${[...overlaps].sort((a, b) => a - b).map((j) => j + 1).join(', ')}` : '';
    li.classList.toggle('overlapping', overlaps.length > 0);
  }
}
// The counts of cues that overlap or are hard to read, over the list.
function renderWarnings() {
  const { overlaps } = layoutLanes(S.cues);
  const over = overlaps.filter((o) => o.length).length;
  const stats = S.cues.map(cueStats);
  const fast = stats.filter((s) => s.cps > LIMITS.cpsWarn).length, long = stats.filter((s) => s.longest > LIMITS.lineChars || s.lines > LIMITS.lines).length;
  const parts = [];
  if (over) parts.push(`${over} overlapping`);
  if (fast) parts.push(`${fast} too fast to read`);
  if (long) parts.push(`${long} with lines too long`);
  const w = $('#ed-warnings');
  w.textContent = parts.length ? `⚠ ${parts.join(' · ')}` : '';
  w.dataset.overlapping = String(over);
  w.dataset.fast = String(fast);
}
function previewCue(c, button) {
  const voice = (c.speaker && S.settings.speakers[c.speaker]) || S.settings.voice;
  if (!c.text.trim()) { notify('This cue has no text to speak.'); return; }
  playPreview(() => fetch(P('/preview'), { method: 'POST', headers: { 'X-Studio-Token': S.token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ voice, text: c.text.slice(0, 400), lang: S.settings.lang || '' }) }), button);
}

const speakers = () => [...new Set(S.cues.map((c) => c.speaker).filter(Boolean))].sort();
function voiceSelect(value, onchange, allowDefault) {
  const s = el('select');
  if (allowDefault) s.append(el('option', { value: '', text: `Default (${voiceLabel(S.settings.voice)})` }));
  for (const v of allVoices()) s.append(el('option', { value: v.value, text: `${v.name}${v.language ? ` · ${langName(v.language)}` : v.profile ? ' · your voice' : ''}` }));
  s.value = value || '';
  s.addEventListener('change', () => onchange(s.value));
  return s;
}
function renderSpeakers() {
  const box = $('#speaker-map');
  box.replaceChildren();
  box.append(el('div', { class: 'sp' }, el('span', { text: 'Everyone else' }),
    voiceSelect(S.settings.voice, (v) => { S.settings.voice = v; saveSettings(); renderGallery(); renderSpeakers(); renderSummary(); }, false)));
  for (const name of speakers()) {
    box.append(el('div', { class: 'sp' }, el('span', { text: name }),
      voiceSelect(S.settings.speakers[name], (v) => { if (v) S.settings.speakers[name] = v; else delete S.settings.speakers[name]; saveSettings(); renderSummary(); }, true)));
  }
}

// Edits. Each one first records the cues as they were (undo, redo).
const undoHistory = new History();
function edit(key = null) { undoHistory.record({ cues: S.cues, sel: S.sel }, key); }
function renderUndo() {
  $('#ed-undo').disabled = !undoHistory.canUndo;
  $('#ed-redo').disabled = !undoHistory.canRedo;
}
function undoRedo(redo) {
  const typing = document.activeElement?.tagName === 'TEXTAREA';
  const st = redo ? undoHistory.redo({ cues: S.cues, sel: S.sel }) : undoHistory.undo({ cues: S.cues, sel: S.sel });
  if (!st) { notify(redo ? 'Nothing to redo.' : 'Nothing to undo.', 'info'); return; }
  S.cues = st.cues; S.sel = Math.min(st.sel, S.cues.length - 1);
  renderCues(); renderSpeakers(); changed(); select(S.sel);
  if (typing) $(`#cue-list .cue[data-i="${S.sel}"] textarea`)?.focus();
}
$('#ed-undo').addEventListener('click', () => undoRedo(false));
$('#ed-redo').addEventListener('click', () => undoRedo(true));
function addCue() {
  const t = video.currentTime || 0;
  const next = S.cues.find((c) => c.start > t);
  const end = Math.min(t + 2, next ? next.start : t + 2, video.duration || t + 2);
  const c = { start: +t.toFixed(3), end: +Math.max(end, t + 0.3).toFixed(3), text: '', speaker: S.cues[S.sel]?.speaker || '' };
  edit();
  S.cues.push(c); sortCues(); S.sel = S.cues.indexOf(c);
  renderCues(); changed();
  $(`#cue-list .cue[data-i="${S.sel}"] textarea`)?.focus();
}
function setEdge(which) {
  const c = S.cues[S.sel];
  if (!c) { notify('Select a cue first (click it in the list).', 'info'); return; }
  const t = +video.currentTime.toFixed(3);
  edit();
  if (which === 'start') { c.start = t; if (c.end <= t) c.end = t + 1; } else { c.end = t; if (c.start >= t) c.start = Math.max(0, t - 1); }
  sortCues(); renderCues(); changed(); select(S.sel);
}
function splitCue() {
  const i = cueAt(video.currentTime) >= 0 ? cueAt(video.currentTime) : S.sel, c = S.cues[i];
  if (!c) { notify('Put the playhead inside a cue to split it.', 'info'); return; }
  const t = video.currentTime > c.start + 0.05 && video.currentTime < c.end - 0.05 ? video.currentTime : (c.start + c.end) / 2;
  const words = c.text.split(/\s+/); const half = Math.ceil(words.length * (t - c.start) / (c.end - c.start));
  const b = { start: +t.toFixed(3), end: c.end, text: words.slice(half).join(' '), speaker: c.speaker };
  edit();
  c.end = +t.toFixed(3); c.text = words.slice(0, half).join(' ');
  S.cues.splice(i + 1, 0, b); S.sel = i;
  renderCues(); changed();
}
function mergeCue() {
  const i = S.sel, a = S.cues[i], b = S.cues[i + 1];
  if (!a || !b) { notify('Select a cue that has another one after it.', 'info'); return; }
  edit();
  a.end = Math.max(a.end, b.end); a.text = `${a.text} ${b.text}`.trim();
  S.cues.splice(i + 1, 1);
  renderCues(); changed();
}
function deleteCue() {
  if (S.sel < 0) return;
  edit();
  S.cues.splice(S.sel, 1); S.sel = Math.min(S.sel, S.cues.length - 1);
  renderCues(); changed(); renderSpeakers();
}
$('#ed-add').addEventListener('click', addCue);
$('#ed-start').addEventListener('click', () => setEdge('start'));
$('#ed-end').addEventListener('click', () => setEdge('end'));
$('#ed-split').addEventListener('click', splitCue);
$('#ed-merge').addEventListener('click', mergeCue);
$('#ed-delete').addEventListener('click', deleteCue);
$('#ed-play').addEventListener('click', () => (video.paused ? video.play() : video.pause()));
video.addEventListener('play', () => { $('#ed-play').textContent = '❚❚'; });
video.addEventListener('pause', () => { $('#ed-play').textContent = '▶'; });
video.addEventListener('click', () => (video.paused ? video.play() : video.pause()));
function toggleLoop() {
  S.loop = !S.loop;
  $('#ed-loop').setAttribute('aria-pressed', String(S.loop));
  const c = S.cues[S.sel];
  if (S.loop && c) { video.currentTime = c.start; video.play().catch(() => {}); }
}
$('#ed-loop').addEventListener('click', toggleLoop);
$('#ed-speed').addEventListener('change', (e) => { video.playbackRate = Number(e.target.value) || 1; });
$('#ed-volume').addEventListener('input', (e) => { video.volume = Number(e.target.value); video.muted = false; });
function toggleKeys() { const d = $('#ed-keys'); d.open = !d.open; if (d.open) d.scrollIntoView({ block: 'nearest' }); }
$('#ed-keys-button').addEventListener('click', toggleKeys);
// On a phone the video sticks under the header (style.css): its height.
const setTopHeight = () => document.documentElement.style.setProperty('--top-h', `${$('header.top').offsetHeight}px`);
window.addEventListener('resize', setTopHeight);
setTopHeight();

document.addEventListener('keydown', (e) => {
  if ($('#tab-editor').hidden) return;
  const typing = /^(TEXTAREA|INPUT|SELECT)$/.test(document.activeElement?.tagName);
  const k = e.key, ctrl = e.ctrlKey || e.metaKey;
  if (ctrl && !e.altKey && (k.toLowerCase() === 'z' || k.toLowerCase() === 'y')) { e.preventDefault(); undoRedo(k.toLowerCase() === 'y' || e.shiftKey); return; }
  if (ctrl && k === 'Enter') { e.preventDefault(); addCue(); return; }
  if (e.ctrlKey && (k === '3' || k === '4')) { e.preventDefault(); setEdge(k === '3' ? 'start' : 'end'); return; }
  if (e.ctrlKey && k.toLowerCase() === 'k') { e.preventDefault(); splitCue(); return; }
  if (e.ctrlKey && k.toLowerCase() === 'j') { e.preventDefault(); mergeCue(); return; }
  if (e.ctrlKey && k === 'Delete') { e.preventDefault(); deleteCue(); return; }
  if (e.altKey && (k === 'ArrowUp' || k === 'ArrowDown')) {
    e.preventDefault(); select(S.sel + (k === 'ArrowUp' ? -1 : 1));
    if (S.cues[S.sel]) video.currentTime = S.cues[S.sel].start;
    return;
  }
  if (k === 'Insert') { e.preventDefault(); addCue(); return; }
  if (typing) { if (k === 'Escape') document.activeElement.blur(); return; }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (k === 'n' || k === 'N') { e.preventDefault(); addCue(); return; }
  if (k === 'l' || k === 'L') { toggleLoop(); return; }
  if (k === '?') { toggleKeys(); return; }
  if (k === ' ') { e.preventDefault(); video.paused ? video.play() : video.pause(); } else if (k === '[') setEdge('start');
  else if (k === ']') setEdge('end');
  else if (k === 'ArrowLeft' || k === 'ArrowRight') { e.preventDefault(); video.currentTime = Math.max(0, video.currentTime + (k === 'ArrowLeft' ? -0.1 : 0.1)); }
});

// Timeline: waveform, cues in lanes (overlapping ones side by side),
// playhead. Drag on the ruler or between cues to scrub; drag a cue's edge
// to retime it, its middle to move it.
const canvas = $('#timeline');
const RULER = 18, LANE_MIN = 22, TL_MIN = 110; // CSS pixels
let view0 = 0;
function sizeTimeline(lanes = 1) {
  const w = canvas.clientWidth;
  const h = Math.max(TL_MIN, RULER + 4 + lanes * LANE_MIN);
  if (canvas.style.height !== `${h}px`) canvas.style.height = `${h}px`;
  if (w && (canvas.width !== Math.round(w * devicePixelRatio) || canvas.height !== Math.round(h * devicePixelRatio))) {
    canvas.width = Math.round(w * devicePixelRatio); canvas.height = Math.round(h * devicePixelRatio);
  }
}
window.addEventListener('resize', () => { sizeTimeline(); drawTimeline(); });
const pps = () => Number($('#ed-zoom').value); // CSS pixels per second
function drawTimeline() {
  if (!canvas.clientWidth) return;
  const lay = layoutLanes(S.cues);
  sizeTimeline(lay.count);
  const g = canvas.getContext('2d'), dpr = devicePixelRatio, W = canvas.width, H = canvas.height;
  const span = canvas.clientWidth / pps(), t = video.currentTime || 0;
  if (!drag && (t < view0 || t > view0 + span * 0.85)) view0 = Math.max(0, t - span * 0.25);
  const x = (s) => (s - view0) * pps() * dpr;
  g.fillStyle = '#0f172a'; g.fillRect(0, 0, W, H);
  // seconds grid
  g.fillStyle = '#64748b'; g.font = `${10 * dpr}px system-ui, sans-serif`;
  const step = span > 60 ? 10 : span > 20 ? 5 : 1;
  for (let s = Math.ceil(view0 / step) * step; s < view0 + span; s += step) {
    g.fillRect(x(s), 0, 1, 6 * dpr); g.fillText(fmt(s).replace(/\.\d+$/, ''), x(s) + 3 * dpr, 14 * dpr);
  }
  // waveform
  const top = RULER * dpr, wh = H - top - 4 * dpr, mid = top + wh / 2;
  if (S.peaks && S.peaks.peaks.length) {
    const pk = S.peaks.peaks, rate = S.peaks.rate, ppsd = pps() * dpr;
    g.fillStyle = '#38bdf8';
    for (let px = 0; px < W; px += dpr) {
      const a = Math.floor((view0 + px / ppsd) * rate), b = Math.max(a + 1, Math.floor((view0 + (px + dpr) / ppsd) * rate));
      let m = 0; for (let i = a; i < b && i < pk.length; i++) m = Math.max(m, pk[i]);
      const h = (m / 255) * wh / 2;
      g.fillRect(px, mid - h, dpr, h * 2 || 1);
    }
  } else {
    g.fillStyle = '#334155'; g.fillRect(0, mid, W, 1);
  }
  // cues, one lane each where they overlap
  const laneH = (H / dpr - RULER - 4) / lay.count;
  S.timelineBoxes = [];
  S.cues.forEach((c, i) => {
    if (c.end < view0 || c.start > view0 + span) return;
    const box = { i, x: (c.start - view0) * pps(), y: RULER + lay.lanes[i] * laneH + 1, w: (c.end - c.start) * pps(), h: laneH - 2 };
    S.timelineBoxes.push(box);
    const bx = box.x * dpr, by = box.y * dpr, bw = box.w * dpr, bh = box.h * dpr;
    const over = lay.overlaps[i].length > 0, sel = i === S.sel;
    g.fillStyle = sel ? 'rgba(250, 204, 21, .35)' : over ? 'rgba(251, 146, 60, .3)' : 'rgba(147, 197, 253, .25)';
    g.fillRect(bx, by, bw, bh);
    g.fillStyle = sel ? '#facc15' : over ? '#fb923c' : '#93c5fd';
    g.fillRect(bx, by, 2 * dpr, bh); g.fillRect(bx + bw - 2 * dpr, by, 2 * dpr, bh);
    g.fillStyle = '#e2e8f0';
    g.save(); g.beginPath(); g.rect(bx, by, bw, bh); g.clip();
    g.fillText(`${over ? '⚠ ' : ''}${i + 1} ${c.speaker ? `${c.speaker}: ` : ''}${c.text.replace(/\n/g, ' ')}`, bx + 5 * dpr, by + Math.min(13, box.h - 3) * dpr);
    g.restore();
  });
  // playhead
  g.fillStyle = '#f43f5e'; g.fillRect(x(t) - dpr, 0, 2 * dpr, H);
}
const pointer = (e) => { const r = canvas.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; };
const timeAt = (e) => view0 + pointer(e).x / pps();
// The cue under the pointer and which part of it: an edge (6 px, less on
// short cues) or the middle.
function hitCue(e) {
  const { x, y } = pointer(e);
  const b = (S.timelineBoxes || []).find((k) => x >= k.x - 3 && x <= k.x + k.w + 3 && y >= k.y && y <= k.y + k.h);
  if (!b) return null;
  const edge = Math.min(6, b.w / 3);
  return { i: b.i, part: x <= b.x + edge ? 'start' : x >= b.x + b.w - edge ? 'end' : 'move' };
}
let scrubbing = false, drag = null;
canvas.addEventListener('pointerdown', (e) => {
  canvas.setPointerCapture(e.pointerId);
  const hit = hitCue(e);
  if (hit) {
    const c = S.cues[hit.i];
    drag = { c, part: hit.part, t0: timeAt(e), x0: e.clientX, start: c.start, end: c.end, moved: false };
    select(hit.i);
    return;
  }
  scrubbing = true;
  const t = Math.max(0, timeAt(e)); video.currentTime = t;
  const i = cueAt(t); if (i >= 0) select(i);
  drawTimeline();
});
canvas.addEventListener('pointermove', (e) => {
  if (scrubbing) { video.currentTime = Math.max(0, timeAt(e)); drawTimeline(); return; }
  if (!drag) {
    const hit = hitCue(e);
    canvas.style.cursor = !hit ? 'crosshair' : hit.part === 'move' ? 'grab' : 'ew-resize';
    return;
  }
  if (!drag.moved && Math.abs(e.clientX - drag.x0) < 3) return;
  if (!drag.moved) { drag.moved = true; edit(); }
  const c = drag.c, dur = video.duration || Infinity, dt = timeAt(e) - drag.t0, ms = (v) => Math.round(v * 1000) / 1000;
  if (drag.part === 'start') c.start = ms(Math.min(Math.max(0, drag.start + dt), c.end - 0.1));
  else if (drag.part === 'end') c.end = ms(Math.max(Math.min(dur, drag.end + dt), c.start + 0.1));
  else {
    const d = Math.min(Math.max(dt, -drag.start), dur - drag.end);
    c.start = ms(drag.start + d); c.end = ms(drag.end + d);
  }
  refreshCueRow(S.cues.indexOf(c));
  drawTimeline(); onTime();
});
canvas.addEventListener('pointerup', (e) => {
  scrubbing = false;
  const d = drag; drag = null;
  if (!d) return;
  if (d.moved) { retimed(d.c); select(S.cues.indexOf(d.c)); return; }
  video.currentTime = Math.max(0, timeAt(e)); // a click: the playhead goes there
});
canvas.addEventListener('pointercancel', () => { scrubbing = false; if (drag?.moved) retimed(drag.c); drag = null; });
$('#ed-zoom').addEventListener('input', drawTimeline);

// The cues under the playhead over the video, in italics and bold as the
// ASS file has them; rebuilt only when they change.
let captionKey = '';
function showCaption(cues) {
  const look = (c) => S.assSource?.styleLook.get(c.src?.style) || {};
  const lines = cues.map((c) => captionRuns(c, look(c)));
  const key = JSON.stringify(lines);
  if (key === captionKey) return;
  captionKey = key;
  $('#ed-caption').replaceChildren(...lines.flatMap((runs, k) => [k ? '\n' : null,
    ...runs.map((r) => (r.italic || r.bold ? el(r.bold ? 'b' : 'i', { class: r.italic && r.bold ? 'both' : '', text: r.text }) : r.text))].filter((x) => x !== null)));
}
let lastNow = -2;
function onTime() {
  const t = video.currentTime;
  const cur = S.cues[S.sel];
  if (S.loop && cur && !video.paused && (t >= cur.end || t < cur.start - 0.5)) { video.currentTime = cur.start; return; }
  $('#ed-time').textContent = fmt(t);
  const i = cueAt(t);
  showCaption(S.cues.filter((c) => t >= c.start && t < c.end));
  if (i !== lastNow) {
    for (const li of $$('#cue-list .cue')) li.classList.toggle('now', Number(li.dataset.i) === i);
    lastNow = i;
  }
  drawTimeline();
}
video.addEventListener('timeupdate', onTime);
video.addEventListener('seeked', onTime);
(function frame() { if (!video.paused && !$('#tab-editor').hidden) onTime(); requestAnimationFrame(frame); })();

// Export
function exportAs(kind) {
  const cues = [...S.cues].filter((c) => c.end > c.start).sort((a, b) => a.start - b.start);
  const ts = (t, sep) => {
    const ms = Math.round(t * 1000), p2 = (n) => String(n).padStart(2, '0');
    return `${p2(Math.floor(ms / 3600000))}:${p2(Math.floor(ms / 60000) % 60)}:${p2(Math.floor(ms / 1000) % 60)}${sep}${String(ms % 1000).padStart(3, '0')}`;
  };
  let text = '';
  if (kind === 'srt') {
    text = exportSrt(cues, /subrip/i.test(S.subtitleFormat));
  } else if (kind === 'vtt') {
    const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    text = `WEBVTT\n\n${cues.map((c) => `${ts(c.start, '.')} --> ${ts(c.end, '.')}\n${c.speaker ? `<v ${esc(c.speaker)}>` : ''}${esc(c.text)}\n`).join('\n')}`;
  } else {
    text = exportAss(cues, S.assSource, '[Script Info]\nScriptType: v4.00+\nPlayResX: 1280\nPlayResY: 720\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\nStyle: Default,DejaVu Sans,48,&H00FFFFFF,&H000000FF,&H00000000,&H64000000,0,0,0,0,100,100,0,0,1,2,1,2,40,40,40,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n');
  }
  const base = (S.project.video?.name || 'subtitles').replace(/\.[^.]+$/, '');
  const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' })), download: `${base}.${kind}` });
  document.body.append(a); a.click(); a.remove();
}
for (const b of $$('[data-export]')) b.addEventListener('click', () => exportAs(b.dataset.export));

// ---------- render ----------
function renderSummary() {
  const p = S.project;
  if (!p) return;
  const missing = [];
  if (!p.video) missing.push('a video');
  if (!p.subtitles && !p.edited && !S.cues.length) missing.push('subtitles');
  const sp = Object.entries(S.settings.speakers).filter(([n]) => speakers().includes(n));
  $('#render-summary').textContent = missing.length
    ? `Still needed: ${missing.join(' and ')}.`
    : `${S.cues.length} cues, read by ${voiceLabel(S.settings.voice)}${sp.length ? `; ${sp.map(([n, v]) => `${n}: ${voiceLabel(v)}`).join(', ')}` : ''}.`;
  $('#render-start').disabled = missing.length > 0;
  scheduleFit();
  for (const r of $$('input[name=mode]')) r.checked = r.value === S.settings.mode;
  $('#render-lang').value = S.settings.lang || '';
}
for (const r of $$('input[name=mode]')) r.addEventListener('change', () => { S.settings.mode = r.value; saveSettings(); });
$('#render-lang').addEventListener('change', (e) => { S.settings.lang = e.target.value; saveSettings(); });
$('#render-start').addEventListener('click', async () => {
  await saveCues();
  const speakersNow = Object.fromEntries(Object.entries(S.settings.speakers).filter(([n, v]) => v && speakers().includes(n)));
  try {
    const j = await api('POST', P('/jobs'), { mode: S.settings.mode || 'duck', lang: S.settings.lang || '', voice: S.settings.voice || '', speakers: speakersNow, overflow: S.settings.overflow || '' });
    mergeJob(j);
  } catch (e) { notify(plain(e)); }
});

function renderJobs() {
  const list = $('#job-list');
  list.replaceChildren();
  const jobs = S.project.jobs || [];
  $('#job-empty').hidden = jobs.length > 0;
  for (const j of jobs) {
    const label = { queued: 'Waiting for its turn', running: 'Rendering', done: 'Ready', failed: 'Failed', cancelled: 'Cancelled' }[j.state] || j.state;
    const eta = j.state === 'running' && j.eta > 0 ? ` · about ${j.eta < 90 ? `${Math.round(j.eta)} s` : `${Math.round(j.eta / 60)} min`} left` : '';
    const li = el('li', { 'data-job': j.id, 'data-state': j.state },
      el('div', { class: 'head' },
        el('span', { class: `state ${j.state}`, text: label }),
        el('span', { class: 'muted', text: `${new Date(j.created * 1000).toLocaleString()} · ${j.options?.mode || 'duck'}${eta}` }),
        el('span', { class: 'spacer' }),
        j.state === 'done' ? el('button', { type: 'button', class: 'button secondary', text: '▶ Watch', onclick: () => {
          const v = $('#video-result'); v.src = withToken(j.preview || j.result); $('#result-player').hidden = false; v.play().catch(() => {});
        } }) : null,
        j.state === 'done' ? el('a', { class: 'button', href: withToken(`${j.result}?download=1`), download: '', text: '↓ Download' }) : null,
        j.state === 'queued' || j.state === 'running' ? el('button', { type: 'button', class: 'button secondary', text: 'Cancel',
          onclick: () => api('DELETE', P(`/jobs/${j.id}`)).catch((e) => notify(plain(e))) }) : null),
      j.state === 'running' || j.state === 'queued' ? el('progress', { max: '100', value: String(Math.round(j.percent || 0)), 'aria-label': 'Render progress' }) : null,
      j.state === 'running' ? el('span', { class: 'muted', text: `${Math.floor(j.percent || 0)}%` }) : null,
      j.error && j.state === 'failed' ? el('div', { class: 'err', text: j.error }) : null,
      ...(j.warnings || []).slice(0, 5).map((w) => el('div', { class: 'warn', text: `⚠ ${w}` })),
      (j.warnings || []).length > 5 ? el('div', { class: 'warn', text: `…and ${j.warnings.length - 5} more notes` }) : null,
      fitList(j));
    list.append(li);
  }
}

// The lines whose speech did not fit their time, and what the render did.
function fitList(j) {
  const fits = j.fits || [];
  if (!fits.length) return null;
  const cut = fits.filter((f) => f.clipped > 0).length;
  return el('details', { class: 'fits-box', open: cut > 0 },
    el('summary', { class: 'warn', text: `⚠ ${fits.length} ${fits.length === 1 ? 'line was' : 'lines were'} too long for ${fits.length === 1 ? 'its' : 'their'} time${cut ? ` (${cut} cut short)` : ''}: shorten the text or give ${fits.length === 1 ? 'it' : 'them'} more time` }),
    el('ul', { class: 'fits' }, ...fits.map((f) => {
      const cue = (S.cues || []).find((c) => Math.abs(c.start - f.start) < 0.01);
      return el('li', { 'data-start': String(f.start), text: cue ? `${f.message} “${cue.text.slice(0, 60)}”` : f.message });
    })));
}

function renderAll() {
  projects.showLabel();
  renderUploads(); renderGallery(); renderProfiles(); renderSpeakers(); renderJobs(); renderSummary();
  const readings = S.project.readings || [];
  const cur = readings.find((r) => r.id === R.reading?.id) || readings[readings.length - 1];
  if (cur) openReading(cur); else renderReading();
}

// ---------- start ----------
(async () => {
  try {
    await openProject();
    setupFit({ S, api, P, $, $$, el, saveSettings });
    setupVoices({ S, $, $$, el, notify, choose: chooseVoice });
    const v = await api('GET', '/api/voices');
    S.voices = v.voices;
    await loadReadingLanguages();
    await loadConsent();
    renderAll();
    await loadCues();
    listen();
    showTab(location.hash.slice(1) || 'upload');
  } catch (e) {
    notify(`The studio could not start: ${plain(e)}`);
  }
})();
window.addEventListener('beforeunload', (e) => { if (S.dirty) { saveCues(); e.preventDefault(); } });
window.studio = S; // for tests and the curious
