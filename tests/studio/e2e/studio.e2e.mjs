// End-to-end test of the ganvoice studio: playwright-core drives Debian's
// Chromium (headless, fake microphone) through the whole flow: upload by drag
// and drop, pick a voice, record one, edit cues, render, download, and check
// the tracks of the result. Screenshots of every screen go to docs/img/.
//
//   node studio.e2e.mjs            (env: STUDIO, STUDIO_WORKER, STUDIO_DUB,
//                                    CHROMIUM, SCREENSHOTS=0 to keep docs/ as is)
// Exit status 77 (skip) when Chromium or node_modules is missing.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.resolve(here, '../../..');
const build = process.env.STUDIO_BUILD_DIR || path.join(source, 'build');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const studioBin = process.env.STUDIO || path.join(build, 'examples/studio/ganvoice-studio');
const workerBin = process.env.STUDIO_WORKER || path.join(build, 'examples/studio/ganvoice-studio-worker');
const realDub = path.join(build, 'examples/tools/ganvoice-dub');
const dub = process.env.STUDIO_DUB || (fs.existsSync(realDub) ? realDub : path.join(source, 'tests/studio/fake-dub.py'));
const shots = process.env.SCREENSHOTS !== '0';
const imgDir = path.join(source, 'docs/img');
const media = path.join(source, 'examples/media');

function skip(why) { console.log(`SKIP: ${why}`); process.exit(77); }
if (!fs.existsSync(chromiumPath)) skip(`${chromiumPath} is missing (apt-get install chromium)`);
if (!fs.existsSync(path.join(here, 'node_modules/playwright-core'))) skip(`node_modules is missing (cd ${here} && npm install)`);
for (const b of [studioBin, workerBin]) if (!fs.existsSync(b)) skip(`${b} is not built`);
const { chromium } = await import('playwright-core');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-e2e-'));
const failures = [];
const step = async (name, fn) => {
  const t0 = Date.now();
  try { await fn(); console.log(`ok   ${name} (${Date.now() - t0} ms)`); } catch (e) { failures.push(name); console.log(`FAIL ${name}: ${e.stack || e}`); }
};
const expect = (cond, msg) => { if (!cond) throw new Error(msg); };

// Until the acoustic model ships, the tiny test models stand in for it.
const modelEnv = {};
if (!process.env.GANVOICE_MODEL_DIR && !fs.existsSync(path.join(source, 'models/acoustic/acoustic.ts'))) {
  const dir = path.join(tmp, 'models');
  for (const [kind, name] of [['acoustic', 'tiny-acoustic'], ['vocoder', 'tiny-vocoder']]) {
    fs.mkdirSync(path.join(dir, kind), { recursive: true });
    for (const ext of ['ts', 'json']) fs.symlinkSync(path.join(source, 'tests/models', `${name}.${ext}`), path.join(dir, kind, `${kind}.${ext}`));
  }
  modelEnv.GANVOICE_MODEL_DIR = dir;
  console.log('using the tiny test models');
}

// The fake microphone speaks: a few sentences by a built-in voice of the
// models in use (with the tiny test models it is noise, and the voice is
// refused with a reason).
const micWav = path.join(tmp, 'microphone.wav');
{
  const r = spawnSync('gst-launch-1.0', ['-q', 'ganvoice',
    'text=Hello, this is my own voice. I am recording a few sentences for the studio, so that it can learn how I speak.',
    '!', 'audioconvert', '!', 'audioresample', '!', 'audio/x-raw,format=S16LE,rate=48000,channels=1', '!', 'wavenc',
    '!', 'filesink', `location=${micWav}`], {
    env: { ...process.env, ...modelEnv, GST_PLUGIN_PATH: path.join(build, 'plugins') }, encoding: 'utf8', timeout: 120000,
  });
  if (r.status !== 0) throw new Error(`cannot make the microphone's speech: ${r.stderr}`);
}
const realModels = !modelEnv.GANVOICE_MODEL_DIR;

// Server on a free port.
const server = spawn(studioBin, ['--port', '0', '--data-dir', path.join(tmp, 'data')], {
  env: { ...process.env, ...modelEnv, GANVOICE_STUDIO_DUB: dub, GANVOICE_STUDIO_WORKER: workerBin, FAKE_DUB_DELAY: '0.4',
    GANVOICE_STUDIO_PLUGIN_DIR: process.env.GANVOICE_STUDIO_PLUGIN_DIR || path.join(build, 'plugins') },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => { out += d; const m = out.match(/listening on (http:\/\/[^\s]+)/); if (m) resolve(m[1].replace(/\/$/, '')); });
  server.on('exit', (c) => reject(new Error(`server exited ${c}: ${out}`)));
  setTimeout(() => reject(new Error('server did not start')), 15000);
});
console.log(`studio at ${base}, dubbing with ${dub}`);

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-audio-capture=${micWav}`, '--autoplay-policy=no-user-gesture-required',
    '--enable-blink-features=AudioVideoTracks'],
});
const context = await browser.newContext({ viewport: { width: 1366, height: 800 }, acceptDownloads: true, permissions: ['microphone'] });
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text()); });
const shot = async (name) => { if (shots) { fs.mkdirSync(imgDir, { recursive: true }); await page.screenshot({ path: path.join(imgDir, `studio-${name}.png`) }); } };
const tab = async (name) => { await page.click(`.steps a[data-tab=${name}]`); await page.waitForSelector(`#tab-${name}:not([hidden])`); };

// Drops a file on a zone the way a user's drag and drop does.
async function dropFile(selector, file, mime) {
  const data = fs.readFileSync(file).toString('base64');
  const dt = await page.evaluateHandle(({ data, name, mime }) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const d = new DataTransfer(); d.items.add(new File([bytes], name, { type: mime })); return d;
  }, { data, name: path.basename(file), mime });
  await page.dispatchEvent(selector, 'dragover', { dataTransfer: dt });
  await page.dispatchEvent(selector, 'drop', { dataTransfer: dt });
}

try {
  await step('opens without making a project; the first upload makes one', async () => {
    await page.goto(base);
    await page.waitForFunction(() => window.studio && window.studio.project);
    expect(await page.evaluate(() => window.studio.pid) === null, 'no project before the user does something');
    await page.reload();
    await page.waitForFunction(() => window.studio && window.studio.project);
    expect(fs.readdirSync(path.join(tmp, 'data/projects')).length === 0, 'visits make no projects on the server');
    await shot('1-upload-empty');
  });

  await step('uploads video and subtitles by drag and drop; video plays with ranges', async () => {
    await dropFile('#drop-video', path.join(media, 'sample.mkv'), 'video/x-matroska');
    await page.waitForSelector('#drop-video.done', { timeout: 30000 });
    const pid = await page.evaluate(() => window.studio.pid);
    expect(/^[0-9a-f]{16}$/.test(pid) && page.url().includes(`?project=${pid}`), `the project is made and in the address: ${page.url()}`);
    await dropFile('#drop-subtitles', path.join(media, 'sample.en.ass'), 'text/plain');
    await page.waitForSelector('#drop-subtitles.done', { timeout: 30000 });
    expect((await page.textContent('#drop-subtitles .drop-status')).includes('cues'), 'cue count shown');
    await page.waitForFunction(() => document.querySelector('#video-upload').readyState >= 1, null, { timeout: 15000 });
    const dur = await page.$eval('#video-upload', (v) => v.duration);
    expect(Math.abs(dur - 27) < 1, `video duration ${dur}`);
    await shot('1-upload');
  });

  await step('refuses a file that is not what it claims', async () => {
    const fake = path.join(tmp, 'holiday.mp4');
    fs.writeFileSync(fake, 'not a video at all\n'.repeat(100));
    await page.setInputFiles('#drop-video input[type=file]', fake);
    await page.waitForSelector('#drop-video.bad', { timeout: 20000 });
    const msg = await page.textContent('#notice-text');
    expect(/refused/.test(msg), `error in plain words: ${msg}`);
    // The next upload that works takes the red banner away.
    await dropFile('#drop-video', path.join(media, 'sample.mkv'), 'video/x-matroska');
    await page.waitForSelector('#drop-video:is(.done, .bad)', { timeout: 90000 });
    expect(await page.$('#drop-video.done'), `the upload: ${await page.textContent('#drop-video .drop-status')}`);
    expect(await page.isHidden('#notice'), 'the error banner is gone after a good upload');
    // The video it replaced is not kept on the server.
    const pid = await page.evaluate(() => window.studio.pid);
    const ups = fs.readdirSync(path.join(tmp, 'data/projects', pid, 'uploads')).filter((f) => /^[0-9a-f]{16}$/.test(f));
    const subs = await page.evaluate(() => window.studio.project.subtitles.id);
    expect(ups.length === 2 && ups.includes(subs), `one video and the subtitles on disk: ${ups}`);
  });

  await step('voices gallery with previews', async () => {
    await tab('voices');
    const n = await page.$$eval('#voice-gallery .voice', (x) => x.length);
    expect(n >= 2, `voices: ${n}`);
    await page.click('#voice-gallery .voice:nth-child(2)');
    expect(await page.getAttribute('#voice-gallery .voice:nth-child(2)', 'aria-checked') === 'true', 'voice chosen');
    await page.click('#voice-gallery .voice:nth-child(2) button');
    // Either it plays, or the page says in plain words why it cannot.
    await page.waitForFunction(() => !document.querySelector('#voice-gallery .voice:nth-child(2) button').disabled, null, { timeout: 120000 });
    await page.waitForTimeout(300);
    await shot('2-voices');
    if (!(await page.isHidden('#notice'))) console.log(`     preview: ${await page.textContent('#notice-text')}`);
  });

  await step('voices: languages and names in words, preview stop, arrow keys, language warning', async () => {
    const cards = await page.$$eval('#voice-gallery .voice', (x) => x.map((c) => ({
      name: c.querySelector('.name').textContent, meta: c.querySelector('.meta').textContent,
      voice: c.dataset.voice, tab: c.tabIndex })));
    // No language codes ("en-us"), no raw names ("allison-es").
    for (const c of cards) {
      expect(!/\b[a-z]{2,3}-[a-z0-9]{2,3}\b/i.test(c.meta), `language in words: ${c.meta}`);
      expect(/^[A-Z]/.test(c.name) && !/[-_]/.test(c.name), `readable name: ${c.name} (${c.voice})`);
    }
    const voices = await page.evaluate(() => window.studio.voices);
    const us = voices.findIndex((v) => v.language === 'en-us');
    if (us >= 0) expect(cards[us].meta.startsWith('English (US)'), `en-us in words: ${cards[us].meta}`);
    // One tab stop in the radio group; arrows move the choice.
    expect(cards.filter((c) => c.tab === 0).length === 1, 'one tab stop in the gallery');
    await page.focus('#voice-gallery .voice[aria-checked=true]');
    await page.keyboard.press('ArrowRight');
    const third = await page.evaluate(() => [document.activeElement.dataset.voice, window.studio.settings.voice]);
    expect(third[0] === cards[2].voice && third[1] === cards[2].voice, `ArrowRight chooses the next voice: ${third}`);
    await page.keyboard.press('ArrowLeft');
    expect(await page.getAttribute('#voice-gallery .voice:nth-child(2)', 'aria-checked') === 'true', 'ArrowLeft goes back');
    // The subtitles are English: a voice of another language is flagged.
    const second = voices[1];
    if (second && !second.language.startsWith('en')) {
      await page.waitForSelector('#voices-warn:not([hidden])');
      expect((await page.textContent('#voices-warn')).includes('English'), await page.textContent('#voices-warn'));
      expect(await page.$('#voice-gallery .voice:nth-child(2) .lang-warn'), 'the card says it');
    }
    if (us >= 0) expect(!(await page.$(`#voice-gallery .voice:nth-child(${us + 1}) .lang-warn`)), 'an English voice is not flagged');
    // A preview shows that it plays, and stops.
    const listen = '#voice-gallery .voice:nth-child(1) button.listen';
    await page.click(listen);
    await page.waitForFunction((s) => !document.querySelector(s).disabled, listen, { timeout: 120000 });
    if (await page.isHidden('#notice')) {
      await page.waitForFunction((s) => document.querySelector(s).getAttribute('aria-pressed') === 'true', listen, { timeout: 5000 });
      expect((await page.textContent(listen)).includes('Stop'), 'a stop button while it plays');
      await page.click(listen);
      await page.waitForFunction((s) => document.querySelector(s).getAttribute('aria-pressed') === 'false', listen);
      expect((await page.textContent(listen)).includes('Listen'), 'stopped');
    }
  });

  await step('records a voice with the fake microphone and asks for a profile', async () => {
    await tab('myvoice');
    // Nothing is recorded or cloned before the consent statement is confirmed.
    expect(await page.isDisabled('#rec-start'), 'recording waits for consent');
    expect(await page.isDisabled('#read-begin'), 'reading waits for consent');
    expect((await page.textContent('#consent-text')).includes('permission'), 'the consent statement is shown');
    await page.check('#consent-check');
    await page.click('#rec-start');
    await page.waitForFunction(() => document.querySelector('#rec-countdown').textContent.includes('REC'), null, { timeout: 5000 });
    await page.waitForTimeout(1500);
    const level = await page.$eval('#rec-level', (e) => parseFloat(e.style.width));
    expect(level > 0, 'level meter moves');
    await shot('3-recording');
    await page.waitForTimeout(3000);
    await page.click('#rec-stop');
    // The recording plays back with its length, and can be sought.
    await page.waitForFunction(() => document.querySelector('.rec-info')?.dataset.seconds, null, { timeout: 10000 });
    const info = await page.textContent('.rec-info');
    expect(/Your recording: 0:0[3-6]\.\d long/.test(info), `recording length shown: ${info}`);
    const sought = await page.$eval('#rec-playback', async (a) => {
      if (a.readyState < 1) await new Promise((r) => a.addEventListener('loadedmetadata', r, { once: true }));
      a.currentTime = 1.5;
      await new Promise((r) => a.addEventListener('seeked', r, { once: true }));
      return [a.duration, a.currentTime];
    });
    expect(Number.isFinite(sought[0]) && Math.abs(sought[1] - 1.5) < 0.1, `seekable recording: ${sought}`);
    await page.waitForSelector('#drop-recording.done', { timeout: 30000 });
    expect(!(await page.isDisabled('#profile-make')), 'can make a voice');
    await page.fill('#profile-name', 'Test voice');
    await page.click('#profile-make');
    await page.waitForSelector('#profile-list li .state:is(.ready, .failed)', { timeout: 60000 });
    const state = await page.textContent('#profile-list li .state');
    if (state !== 'Ready') {
      const err = await page.textContent('#profile-list li .perr');
      expect(!realModels, `a spoken recording makes a voice: ${err}`);
      expect(/not available yet|could not be made from this recording/.test(err), `clear reason: ${err}`);
    } else {
      // The new voice is chosen, and the next step is offered.
      await page.waitForSelector('#made-next a[data-tab=editor]');
      const chosen = await page.evaluate(() => [window.studio.settings.voice, window.studio.project.profiles[0].voice]);
      expect(chosen[0] === chosen[1], `the new voice is chosen: ${chosen}`);
    }
    page.once('dialog', (d) => d.accept('Renamed voice'));
    await page.click('#profile-list li button:text("Rename")');
    await page.waitForFunction(() => document.querySelector('#profile-list li .pname').textContent === 'Renamed voice');
    await shot('3-your-voice');
  });

  // Training is left to the API test (tiny models): here the page records,
  // sends and shows a take's check.
  await step('Read to me: a take is recorded, checked and shown', async () => {
    await page.selectOption('#read-lang', 'en');
    await page.fill('#read-name', 'Deep test voice');
    await page.click('#read-begin');
    await page.waitForSelector('#read-session:not([hidden])');
    await page.waitForFunction(() => document.querySelector('#read-sentence').textContent.length > 10);
    expect((await page.textContent('#read-pos')).startsWith('Sentence 1 of 60'), 'the first sentence');
    await page.click('#read-rec');
    await page.waitForTimeout(3500);
    await page.click('#read-stop');
    await page.waitForSelector('#read-check .good, #read-check ul', { timeout: 30000 });
    expect(/dBFS/.test(await page.textContent('#read-check')), `the check shows what it measured: ${await page.textContent('#read-check')}`);
    await page.waitForSelector('#read-dots button.cur:is(.ok, .bad)');
    expect(!(await page.isDisabled('#read-redo')), 'the take can be read again');
    expect(await page.isDisabled('#read-train'), 'one take is not enough to train');
    await page.click('#read-next');
    expect((await page.textContent('#read-pos')).startsWith('Sentence 2 of'), 'the next sentence');
  });

  let exported = '';
  await step('edits cues on the timeline', async () => {
    await tab('editor');
    await page.waitForSelector('#cue-list .cue');
    const n0 = await page.$$eval('#cue-list .cue', (x) => x.length);
    expect(n0 === 8, `cues from the ASS file: ${n0}`);
    // Scrub on the timeline.
    const box = await page.locator('#timeline').boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + 8);
    await page.mouse.down(); await page.mouse.move(box.x + box.width * 0.35, box.y + 8); await page.mouse.up();
    const t = await page.$eval('#video-editor', (v) => v.currentTime);
    expect(t > 0, `scrubbed to ${t}`);
    // Edit the second cue's text.
    await page.fill('#cue-list .cue[data-i="1"] textarea', 'Did you see that ship last night?');
    // A new cue at 25.0 s with keys, Aegisub style.
    await page.$eval('#video-editor', (v) => { v.currentTime = 26.6; });
    await page.waitForFunction(() => Math.abs(document.querySelector('#video-editor').currentTime - 26.6) < 0.05);
    await page.click('#ed-time');
    await page.keyboard.press('Insert');
    await page.keyboard.type('The end.');
    await page.keyboard.press('Escape');
    await page.$eval('#video-editor', (v) => { v.currentTime = 26.9; });
    await page.waitForTimeout(200);
    await page.keyboard.press(']');
    const cues = await page.evaluate(() => window.studio.cues.map((c) => ({ ...c })));
    expect(cues.length === 9, `cues after insert: ${cues.length}`);
    const last = cues[cues.length - 1];
    expect(last.text === 'The end.' && Math.abs(last.start - 26.6) < 0.05 && Math.abs(last.end - 26.9) < 0.05, `new cue ${JSON.stringify(last)}`);
    // Split and merge back.
    await page.$eval('#video-editor', (v) => { v.currentTime = 1.5; });
    await page.waitForTimeout(200);
    await page.click('#ed-split');
    expect((await page.evaluate(() => window.studio.cues.length)) === 10, 'split');
    await page.evaluate(() => window.studio.sel = 0);
    await page.click('#ed-merge');
    expect((await page.evaluate(() => window.studio.cues.length)) === 9, 'merge');
    // A voice for one speaker.
    const sel = page.locator('#speaker-map .sp:has-text("Tom") select');
    await sel.selectOption({ index: 2 });
    await page.waitForFunction(() => document.querySelector('#ed-saved').textContent === 'All changes saved', null, { timeout: 10000 });
    await page.$eval('#video-editor', (v) => { v.currentTime = 4.2; });
    await page.waitForTimeout(300);
    await shot('4-editor');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-export=srt]')]);
    exported = fs.readFileSync(await download.path(), 'utf8');
    expect(/^1\n00:00:00,500 --> /.test(exported) && exported.includes('Did you see that ship last night?'), 'SRT export');
    // Per-cue preview answers (a sound, or a plain reason).
    await page.click('#cue-list .cue[data-i="1"] .cue-actions button');
    await page.waitForFunction(() => !document.querySelector('#cue-list .cue[data-i="1"] .cue-actions button').disabled, null, { timeout: 120000 });
  });

  // The editor's timing work, on the cues as the step above left them.
  const cues = () => page.evaluate(() => window.studio.cues.map((c) => ({ start: c.start, end: c.end, text: c.text, speaker: c.speaker })));
  const row = (i) => `#cue-list .cue[data-i="${i}"]`;
  const fmtT = (t) => { const ms = Math.round(t * 1000); return `${Math.floor(ms / 60000)}:${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0').slice(0, 2)}`; };
  const exportFile = async (kind) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-export=${kind}]`)]);
    return fs.readFileSync(await download.path(), 'utf8');
  };

  await step('ASS import keeps line breaks; export keeps what was not edited', async () => {
    const storm = (await cues()).findIndex((c) => c.text.startsWith('The storm'));
    expect(storm >= 0, 'the storm cue');
    expect(await page.inputValue(`${row(storm)} textarea`) === 'The storm is coming closer.\nWe should light the lamp early.', 'the line break is in the text box');
    // Over the video: the file's italics, from a tag and from a style.
    await page.$eval('#video-editor', (v) => { v.currentTime = 7.5; });
    await page.waitForFunction(() => document.querySelector('#ed-caption i')?.textContent === 'closer', null, { timeout: 5000 });
    await page.$eval('#video-editor', (v) => { v.currentTime = 14; });
    await page.waitForFunction(() => document.querySelector('#ed-caption i')?.textContent.startsWith('"Keep the light burning," my father said,\n'), null, { timeout: 5000 });
    let ass = await exportFile('ass');
    const lines = () => ass.split('\n');
    for (const kept of ['Title: The lighthouse', 'Style: Narration,DejaVu Sans,44,&H00E0E0FF,&H000000FF,&H00000000,&H64000000,0,1,0,0,100,100,0,0,1,2,1,2,40,40,40,1',
      'Style: Sign,DejaVu Sans,40,&H0000FFFF,&H000000FF,&H00000000,&H64000000,1,0,0,0,100,100,0,0,1,2,1,8,40,40,40,1',
      'Comment: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Translator note: keep this line short.',
      'Dialogue: 1,0:00:00.50,0:00:03.00,Sign,,0,0,0,,{\\pos(640,80)}THE NORTH LIGHT',
      'Dialogue: 0,0:00:06.90,0:00:09.80,Default,Mara,0,0,0,,The storm is coming {\\i1}closer{\\i0}.\\NWe should light the lamp early.',
      'Dialogue: 0,0:00:13.50,0:00:16.50,Narration,Narrator,0,0,0,,"Keep the light burning," my father said,\\N"and nobody is ever lost."',
      'Dialogue: 0,0:00:03.60,0:00:06.40,Default,Tom,0,0,0,,Did you see that ship last night?']) {
      expect(lines().includes(kept), `the export keeps ${kept}:\n${ass}`);
    }
    // An edited line keeps its style, speaker and the tags whose words are still there.
    await page.fill(`${row(storm)} textarea`, 'The storm is coming closer now.\nWe light the lamp.');
    ass = await exportFile('ass');
    expect(ass.includes('Dialogue: 0,0:00:06.90,0:00:09.80,Default,Mara,0,0,0,,The storm is coming {\\i1}closer now{\\i0}.\\NWe light the lamp.\n'), `edited line with its tags:\n${ass}`);
    // The text edit is one undo step.
    await page.click('#ed-time');
    await page.keyboard.press('Control+z');
    expect((await cues())[storm].text === 'The storm is coming closer.\nWe should light the lamp early.', `undo of typing: ${(await cues())[storm].text}`);
  });

  await step('typed times: checked, with errors in words', async () => {
    const i = (await cues()).findIndex((c) => c.text.startsWith('I will fetch'));
    await page.fill(`${row(i)} input.t-end`, '0:09.00');
    await page.press(`${row(i)} input.t-end`, 'Enter');
    expect(/end must be after the start/.test(await page.textContent(`${row(i)} .cue-err`)), `end before start refused: ${await page.textContent(`${row(i)} .cue-err`)}`);
    expect(await page.getAttribute(`${row(i)} input.t-end`, 'aria-invalid') === 'true', 'the box is marked invalid');
    await page.fill(`${row(i)} input.t-end`, '5:00');
    await page.press(`${row(i)} input.t-end`, 'Enter');
    expect(/only 0:27/.test(await page.textContent(`${row(i)} .cue-err`)), `past the video refused: ${await page.textContent(`${row(i)} .cue-err`)}`);
    await page.fill(`${row(i)} input.t-end`, 'soon');
    await page.press(`${row(i)} input.t-end`, 'Enter');
    expect(/Write a time like/.test(await page.textContent(`${row(i)} .cue-err`)), 'not a time');
    expect((await cues())[i].end === 13, 'nothing changed by bad times');
    await page.fill(`${row(i)} input.t-end`, '0:12.50');
    await page.press(`${row(i)} input.t-end`, 'Enter');
    await page.fill(`${row(i)} input.t-start`, '10.1');
    await page.press(`${row(i)} input.t-start`, 'Tab');
    const c = (await cues())[i];
    expect(c.start === 10.1 && c.end === 12.5, `typed times ${JSON.stringify(c)}`);
    expect((await page.textContent(`${row(i)} .cue-err`)) === '', 'the error is gone');
  });

  await step('dragged times on the timeline: an edge, then the whole cue; undo and redo', async () => {
    await page.$eval('#ed-zoom', (z) => { z.value = '80'; z.dispatchEvent(new Event('input')); });
    await page.$eval('#video-editor', (v) => { v.currentTime = 10.5; });
    await page.waitForTimeout(300);
    const box = await page.locator('#timeline').boundingBox();
    const find = (text) => page.evaluate((t) => {
      const i = window.studio.cues.findIndex((c) => c.text.startsWith(t));
      return { i, box: window.studio.timelineBoxes.find((b) => b.i === i) };
    }, text);
    let { i, box: b } = await find('I will fetch');
    expect(b, 'the cue is on the timeline');
    const before = (await cues())[i];
    // Its end edge, half a second (40 px) to the right.
    await page.mouse.move(box.x + b.x + b.w - 2, box.y + b.y + b.h / 2);
    await page.mouse.down(); await page.mouse.move(box.x + b.x + b.w + 20, box.y + b.y + b.h / 2, { steps: 4 });
    await page.mouse.move(box.x + b.x + b.w + 38, box.y + b.y + b.h / 2, { steps: 4 }); await page.mouse.up();
    let c = (await cues())[i];
    expect(Math.abs(c.end - (before.end + 0.5)) < 0.05 && c.start === before.start, `dragged end ${JSON.stringify(before)} -> ${JSON.stringify(c)}`);
    expect(await page.inputValue(`${row(i)} input.t-end`) === fmtT(c.end), `the list shows the new end: ${await page.inputValue(`${row(i)} input.t-end`)}`);
    // The whole cue, 0.2 s to the left.
    ({ i, box: b } = await find('I will fetch'));
    await page.mouse.move(box.x + b.x + b.w / 2, box.y + b.y + b.h / 2);
    await page.mouse.down(); await page.mouse.move(box.x + b.x + b.w / 2 - 16, box.y + b.y + b.h / 2, { steps: 5 }); await page.mouse.up();
    const moved = (await cues())[i];
    expect(Math.abs(moved.start - (c.start - 0.2)) < 0.05 && Math.abs((moved.end - moved.start) - (c.end - c.start)) < 0.002, `moved ${JSON.stringify(c)} -> ${JSON.stringify(moved)}`);
    await page.click('#ed-time');
    await page.keyboard.press('Control+z');
    expect(JSON.stringify((await cues())[i]) === JSON.stringify(c), 'undo of the move');
    await page.keyboard.press('Control+z');
    expect((await cues())[i].end === before.end, 'undo of the edge');
    await page.keyboard.press('Control+Shift+z');
    await page.keyboard.press('Control+y');
    expect(JSON.stringify((await cues())[i]) === JSON.stringify(moved), 'redo of both');
  });

  await step('undo and redo of split, merge and delete; the caption follows a split', async () => {
    const n = (await cues()).length;
    const orig = await cues();
    await page.$eval('#video-editor', (v) => { v.currentTime = 1.5; });
    await page.waitForFunction(() => document.querySelector('#ed-caption').textContent.startsWith('Every morning'));
    await page.click('#ed-split');
    // The caption shows the new text at once (the playhead, at the split, is
    // at the start of the second half), without the playhead moving.
    const second = (await cues())[1].text;
    expect(second && !orig[0].text.startsWith(second) && (await page.textContent('#ed-caption')) === second, `caption after a split: "${await page.textContent('#ed-caption')}" vs "${second}"`);
    await page.click('#ed-time');
    await page.keyboard.press('Control+z');
    expect(JSON.stringify(await cues()) === JSON.stringify(orig), 'undo of split');
    expect((await page.textContent('#ed-caption')) === orig[0].text, 'the caption after undo');
    await page.keyboard.press('Control+Shift+Z');
    expect((await cues()).length === n + 1, 'redo of split');
    await page.keyboard.press('Control+z');
    await page.evaluate(() => { window.studio.sel = 1; });
    await page.click('#ed-merge');
    expect((await cues()).length === n - 1, 'merge');
    await page.keyboard.press('Control+z');
    expect(JSON.stringify(await cues()) === JSON.stringify(orig), 'undo of merge');
    await page.evaluate(() => { window.studio.sel = 2; });
    await page.click('#ed-delete');
    expect((await cues()).length === n - 1 && !(await cues()).some((c) => c.text === orig[2].text), 'delete');
    await page.click('#ed-undo');
    expect(JSON.stringify(await cues()) === JSON.stringify(orig), 'undo of delete (button)');
    await page.click('#ed-redo');
    expect((await cues()).length === n - 1, 'redo of delete (button)');
    await page.click('#ed-undo');
    expect(await page.$$eval('#cue-list .cue', (x) => x.length) === n, 'the list follows');
  });

  await step('overlapping cues in lanes, with a warning; reading speed limits', async () => {
    // Tom and Mara overlap in the file (5.0-6.4 s); add a third one over both.
    await page.$eval('#video-editor', (v) => { v.currentTime = 5.5; });
    await page.waitForTimeout(200);
    await page.click('#ed-time');
    await page.keyboard.press('n');
    await page.keyboard.type('Look, over there! The ship is much closer to the rocks than we thought!');
    await page.keyboard.press('Escape');
    const i = (await cues()).findIndex((c) => c.text.startsWith('Look, over there'));
    await page.fill(`${row(i)} input.t-end`, '0:06.20');
    await page.press(`${row(i)} input.t-end`, 'Enter');
    await page.waitForTimeout(200);
    const boxes = await page.evaluate(() => window.studio.timelineBoxes.filter((b) => { const c = window.studio.cues[b.i]; return c.start < 6.4 && c.end > 5.0; }));
    expect(boxes.length === 3, `three overlapping cues on the timeline: ${JSON.stringify(boxes)}`);
    for (const a of boxes) for (const b of boxes) {
      if (a === b) continue;
      const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
      expect(apart, `boxes overlap: ${JSON.stringify(a)} ${JSON.stringify(b)}`);
    }
    expect(/3 overlapping/.test(await page.textContent('#ed-warnings')), `overlap count: ${await page.textContent('#ed-warnings')}`);
    for (const b of boxes) expect(/overlaps/.test(await page.textContent(`${row(b.i)} .overlap`)), `cue ${b.i + 1} marked`);
    // 72 characters in 0.7 s: far over 20 a second.
    const stats = page.locator(`${row(i)} .stats`);
    expect(await stats.getAttribute('class') === 'stats lvl-2' && /cps/.test(await stats.textContent()), `too fast: ${await stats.textContent()}`);
    expect(/too fast/.test(await page.textContent('#ed-warnings')), 'counted as too fast');
    await page.fill(`${row(i)} textarea`, 'Look!');
    expect(await stats.getAttribute('class') === 'stats lvl-0', `readable once short: ${await stats.textContent()}`);
    await page.fill(`${row(i)} textarea`, 'Look, a ship!'); // 13 characters in 0.7 s: 18.6 a second
    expect(await stats.getAttribute('class') === 'stats lvl-1', `fast: ${await stats.textContent()}`);
    await shot('4-editor-lanes');
    await page.click(`${row(i)} textarea`);
    await page.keyboard.press('Control+Delete');
    expect(!(await cues()).some((c) => c.text.startsWith('Look')), 'removed again');
  });

  await step('loop, speed, volume and the keys help', async () => {
    await page.selectOption('#ed-speed', '1.5');
    expect(await page.$eval('#video-editor', (v) => v.playbackRate) === 1.5, 'speed');
    await page.$eval('#ed-volume', (r) => { r.value = '0.4'; r.dispatchEvent(new Event('input')); });
    expect(Math.abs(await page.$eval('#video-editor', (v) => v.volume) - 0.4) < 0.01, 'volume');
    const i = (await cues()).findIndex((c) => c.text.startsWith('I will fetch'));
    await page.click(`${row(i)} .num`);
    await page.evaluate((k) => { window.studio.sel = k; }, i);
    await page.click('#ed-time');
    await page.keyboard.press('l');
    expect(await page.getAttribute('#ed-loop', 'aria-pressed') === 'true', 'loop on');
    const c = (await cues())[i];
    await page.waitForTimeout((c.end - c.start) / 1.5 * 1000 + 900);
    const t = await page.$eval('#video-editor', (v) => v.currentTime);
    expect(t >= c.start - 0.05 && t <= c.end + 0.1, `the playhead stays in the looped cue: ${t} in ${c.start}-${c.end}`);
    await page.keyboard.press('l');
    await page.$eval('#video-editor', (v) => v.pause());
    await page.selectOption('#ed-speed', '1');
    await page.keyboard.press('?');
    expect(await page.$eval('#ed-keys', (d) => d.open), 'the shortcuts open with ?');
    expect(/Ctrl\+Enter/.test(await page.textContent('#ed-keys')) && /Ctrl\+Z/.test(await page.textContent('#ed-keys')), 'the keys are listed');
    await page.keyboard.press('?');
    // A key for a new cue that laptops have, also while typing.
    const n = (await cues()).length;
    await page.click(`${row(0)} textarea`);
    await page.keyboard.press('Control+Enter');
    expect((await cues()).length === n + 1, 'Ctrl+Enter adds a cue while typing');
    expect(await page.evaluate(() => document.activeElement.getAttribute('aria-label')) === `Text of cue ${(await page.evaluate(() => window.studio.sel)) + 1}`, 'the new cue has the focus');
    await page.keyboard.press('Control+z');
    expect((await cues()).length === n, 'and its undo');
    await page.waitForFunction(() => document.querySelector('#ed-saved').textContent === 'All changes saved', null, { timeout: 10000 });
  });

  // In a browser of its own (a reload here would share the connections that
  // this page's players and event stream hold).
  await step('opened again: the edits are kept, and the export still keeps the untouched lines', async () => {
    expect(!(await page.evaluate(() => window.studio.dirty)), 'everything saved');
    const saved = await page.evaluate(() => localStorage.getItem('ganvoice.studio'));
    const other = await browser.newContext({ viewport: { width: 1366, height: 800 }, acceptDownloads: true });
    try {
      await other.addInitScript((v) => localStorage.setItem('ganvoice.studio', v), saved);
      const again = await other.newPage();
      again.on('pageerror', (e) => pageErrors.push(String(e)));
      await again.goto(`${base}/#editor`);
      await again.waitForSelector('#cue-list .cue');
      await again.waitForFunction(() => window.studio.cuesSource === 'edited' && window.studio.assSource);
      expect(JSON.stringify(await again.evaluate(() => window.studio.cues.map((c) => ({ start: c.start, end: c.end, text: c.text, speaker: c.speaker }))))
        === JSON.stringify(await cues()), 'the same cues');
      const [download] = await Promise.all([again.waitForEvent('download'), again.click('[data-export=ass]')]);
      const ass = fs.readFileSync(await download.path(), 'utf8');
      expect(ass.includes('Dialogue: 0,0:00:06.90,0:00:09.80,Default,Mara,0,0,0,,The storm is coming {\\i1}closer{\\i0}.\\NWe should light the lamp early.\n')
        && ass.includes('Style: Narration,') && ass.includes('The end.'), `export after opening again:\n${ass}`);
    } finally {
      await other.close();
    }
  });

  const longLine = 'The lighthouse keeper climbed the stairs every morning, and from the top he could see the harbour, '
    + 'the boats, the market and the long grey line of the sea beyond them all, every single day of the year.';
  let longStart = -1;
  await step('flags a line too long for its time before rendering', async () => {
    // A spoken line that the editor's steps above left alone.
    const at = await page.evaluate(() => window.studio.cues.findIndex((c) => c.text.startsWith('I will fetch')));
    expect(at >= 0, 'the line to lengthen');
    const cue = `#cue-list .cue[data-i="${at}"]`;
    const verdict = (v) => page.waitForSelector(`${cue} .fit${v}:not(.stale)`, { timeout: 90000 });
    await verdict(':not([data-verdict=""])[data-verdict]');
    await page.fill(`${cue} textarea`, longLine);
    await verdict('[data-verdict="too-long"]');
    longStart = await page.evaluate((i) => window.studio.cues[i].start, at);
    const detail = await page.textContent(`${cue} .fit-detail`);
    expect(/s of speech for .* cut\./.test(detail), `what the render will do: ${detail}`);
    expect(/too long/.test(await page.textContent('#fit-summary')), await page.textContent('#fit-summary'));
    // The engine's other choices, for the whole project.
    expect((await page.$$eval('#fit-overflow option', (o) => o.length)) === 5, 'overflow modes');
    await page.selectOption('#fit-overflow', 'compress');
    await page.waitForFunction((c) => /time-stretched/.test(document.querySelector(`${c} .fit:not(.stale) .fit-detail`)?.textContent), cue, { timeout: 60000 });
    expect(await page.$eval('#render-overflow', (s) => s.value) === 'compress', 'the render uses the same mode');
    await page.selectOption('#fit-overflow', 'default');
    await verdict('[data-verdict="too-long"]');
    // "Shorten the text" goes to the text; a short text fits.
    await page.click(`${cue} .fit-shorten`);
    expect(await page.evaluate((c) => document.activeElement === document.querySelector(`${c} textarea`), cue), 'the text has the focus');
    await page.fill(`${cue} textarea`, 'Yes.');
    await verdict(':is([data-verdict="fits"], [data-verdict="tight"])');
    // Long again, for the render to list it.
    await page.fill(`${cue} textarea`, longLine);
    await verdict('[data-verdict="too-long"]');
    await page.waitForFunction(() => document.querySelector('#ed-saved').textContent === 'All changes saved', null, { timeout: 10000 });
    await page.$eval(cue, (li) => li.scrollIntoView({ block: 'center' }));
    await shot('4-editor-fit');
  });

  await step('renders, previews and downloads the dubbed video', async () => {
    await tab('render');
    await page.click('input[name=mode][value=replace]');
    await shot('5-render-setup');
    await page.click('#render-start');
    await page.waitForSelector('#job-list li[data-state=running], #job-list li[data-state=done], #job-list li[data-state=failed]', { timeout: 60000 });
    if (await page.$('#job-list li[data-state=running] progress')) await shot('5-render-progress');
    await page.waitForSelector('#job-list li:is([data-state=done], [data-state=failed])', { timeout: 600000 });
    const state = await page.getAttribute('#job-list li', 'data-state');
    expect(state === 'done', `render ${state}: ${await page.textContent('#job-list li')}`);
    await page.click('#job-list li button:text("Watch")');
    await page.waitForFunction(() => document.querySelector('#video-result').readyState >= 1, null, { timeout: 20000 });
    await page.waitForTimeout(500);
    await shot('5-render-done');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#job-list li a:text("Download")')]);
    const file = path.join(tmp, download.suggestedFilename());
    await download.saveAs(file);
    expect(/\.dubbed\.(webm|mkv|mp4)$/.test(file), `download name ${file}`);
    const probe = JSON.parse(execFileSync(workerBin, ['probe', file], { encoding: 'utf8' }));
    expect(probe.video.length === 1, `video tracks: ${probe.video.length}`);
    expect(probe.audio.length >= 1, `audio tracks: ${probe.audio.length}`);
    expect(Math.abs(probe.duration - 27) < 1.5, `duration ${probe.duration}`);
    // The file says that its speech is synthetic (ffprobe's format tags).
    const tags = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format_tags', '-of', 'json', file],
      { encoding: 'utf8' })).format.tags || {};
    const note = Object.entries(tags).find(([k]) => /^comment/i.test(k))?.[1] || '';
    expect(note.startsWith('Synthetic speech: dubbed with AI voices by ganvoice-studio'), `provenance tag: ${JSON.stringify(tags)}`);
    // The render used the edited cues.
    const data = fs.readdirSync(path.join(tmp, 'data/projects'));
    const ass = fs.readFileSync(path.join(tmp, 'data/projects', data[0], 'edited.ass'), 'utf8');
    expect(ass.includes('Did you see that ship last night?') && ass.includes('The end.'), 'edited subtitles rendered');
  });

  await step('lists the line that was too long after rendering', async () => {
    const items = await page.$$eval('#job-list li .fits li', (x) => x.map((li) => [Number(li.dataset.start), li.textContent]));
    const mine = items.find(([s]) => Math.abs(s - longStart) < 0.01);
    expect(mine && /cut/.test(mine[1]), `the long line is listed with what was done: ${JSON.stringify(items)}`);
  });

  // Extra-track mode: the file keeps the original first and adds the dub;
  // the page plays a copy with the dub alone (a browser plays the first
  // audio track), and the dub's level is measured as it plays.
  await step('extra track: the page plays the dub; the file marks it default', async () => {
    await tab('render');
    await page.click('input[name=mode][value=add-track]');
    const before = await page.evaluate(() => window.studio.project.jobs.length);
    await page.click('#render-start');
    await page.waitForFunction((n) => {
      const j = window.studio.project.jobs[0];
      return window.studio.project.jobs.length > n && (j.state === 'failed' || (j.state === 'done' && j.preview));
    }, before, { timeout: 600000 });
    const job = await page.evaluate(() => window.studio.project.jobs[0]);
    expect(job.state === 'done' && job.preview, `render ${job.state}: ${job.error} ${JSON.stringify(job.warnings)}`);
    const cueStart = await page.evaluate(() => window.studio.cues[0].start);
    await page.click(`#job-list li[data-job="${job.id}"] button:text("Watch")`);
    const played = await page.evaluate(async (start) => {
      const v = document.querySelector('#video-result');
      if (v.readyState < 1) await new Promise((r) => v.addEventListener('loadedmetadata', r, { once: true }));
      const tracks = v.audioTracks ? [...v.audioTracks].map((t) => ({ label: t.label, enabled: t.enabled })) : null;
      const ctx = new AudioContext();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      ctx.createMediaElementSource(v).connect(analyser);
      analyser.connect(ctx.destination);
      v.pause(); v.currentTime = start; v.muted = false; v.volume = 1;
      await Promise.race([new Promise((r) => v.addEventListener('seeked', r, { once: true })), new Promise((r) => setTimeout(r, 3000))]);
      await ctx.resume(); await v.play();
      const buf = new Float32Array(analyser.fftSize);
      let sum = 0, n = 0, peak = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 2000) {
        await new Promise((r) => setTimeout(r, 40));
        analyser.getFloatTimeDomainData(buf);
        for (const x of buf) { sum += x * x; n++; peak = Math.max(peak, Math.abs(x)); }
      }
      v.pause(); ctx.close();
      return { src: v.currentSrc, tracks, dbfs: 10 * Math.log10(sum / Math.max(1, n) + 1e-12), peak };
    }, cueStart);
    expect(played.src.includes(`/jobs/${job.id}/preview`), `the page plays the copy with the dub: ${played.src}`);
    if (played.tracks) expect(played.tracks.length === 1 && played.tracks[0].enabled,
      `the one track the page plays is the dub: ${JSON.stringify(played.tracks)}`);
    expect(played.dbfs > -45 && played.peak > 0.01, `the dub is audible in the page: ${played.dbfs.toFixed(1)} dBFS, peak ${played.peak}`);
    // The downloaded file: both tracks, the dub titled, in its language and
    // the default one, the original's tags kept, and the provenance note.
    const [download] = await Promise.all([page.waitForEvent('download'),
      page.click(`#job-list li[data-job="${job.id}"] a:text("Download")`)]);
    const file = path.join(tmp, `extra-${download.suggestedFilename()}`);
    await download.saveAs(file);
    const info = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries',
      'stream=index,codec_type:stream_tags:stream_disposition=default:format_tags', '-of', 'json', file], { encoding: 'utf8' }));
    const audio = info.streams.filter((x) => x.codec_type === 'audio');
    // A tag's values (ffprobe gives a track's name as "title", and its
    // Matroska tags as written: "TITLE", maybe quoted and escaped).
    const tag = (x, k) => Object.entries(x.tags || {}).filter(([n]) => n.toLowerCase() === k)
      .map(([, v]) => v.replace(/^"|"$/g, '').replace(/\\(.)/g, '$1')).join(' | ');
    expect(audio.length === 2, `two audio tracks: ${JSON.stringify(audio)}`);
    const [orig, dubbed] = audio;
    expect(/(^|\| )Dub — voice /.test(tag(dubbed, 'title')) && tag(dubbed, 'language') === 'eng', `the dub's title and language: ${JSON.stringify(dubbed.tags)}`);
    expect(dubbed.disposition.default === 1 && orig.disposition.default === 0, `the dub is the default track: ${JSON.stringify(audio.map((x) => x.disposition))}`);
    expect(/Trip on the Funny Boat/.test(tag(orig, 'title')) && /Karjalainen/.test(tag(orig, 'artist')), `the original's tags kept: ${JSON.stringify(orig.tags)}`);
    expect(/^Synthetic speech: dubbed with AI voices by ganvoice-studio/.test(tag(info.format, 'comment') || tag(info.format, 'comments')),
      `provenance: ${JSON.stringify(info.format.tags)}`);
    const preview = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type:stream_tags', '-of', 'json',
      path.join(tmp, 'data/projects', await page.evaluate(() => window.studio.pid), 'results', job.file.replace(/(\.[a-z0-9]+)$/, '.dub-only$1'))],
    { encoding: 'utf8' })).streams;
    expect(preview.filter((x) => x.codec_type === 'audio').length === 1 && /Dub.*voice/.test(tag(preview.find((x) => x.codec_type === 'audio'), 'title')),
      `the page's copy has the dub alone: ${JSON.stringify(preview)}`);
  });

  // Projects: a new one from the list, the voice of the first one in it,
  // the link, and back to the first one from the list.
  await step('projects: a new one, a voice reused in it, back to the first from the list', async () => {
    const first = await page.evaluate(() => ({ pid: window.studio.pid, name: window.studio.project.name }));
    const voice = await page.evaluate(() => window.studio.project.profiles.find((p) => p.name === 'Renamed voice'));
    expect(voice && voice.library, `the recorded voice is in the owner's library: ${JSON.stringify(voice)}`);
    await page.click('#projects-open');
    await page.waitForSelector(`#project-list li[data-project="${first.pid}"].current`);
    expect((await page.inputValue('#project-link-text')).endsWith(`/?project=${first.pid}#token=${await page.evaluate(() => window.studio.token)}`), 'the link is shown');
    await shot('6-projects');
    await Promise.all([page.waitForURL(`${base}/`, { waitUntil: 'domcontentloaded' }), page.click('#project-new')]);
    await page.waitForFunction(() => window.studio && window.studio.project);
    expect(await page.evaluate(() => window.studio.pid) === null, 'a new project starts empty, and only when used');
    // The voice is there before the project exists, and in it afterwards.
    await tab('myvoice');
    await page.waitForSelector(`#profile-list li[data-profile="${voice.id}"]`);
    await tab('upload');
    await dropFile('#drop-subtitles', path.join(media, 'sample.es.srt'), 'text/plain');
    await page.waitForSelector('#drop-subtitles.done', { timeout: 30000 });
    const second = await page.evaluate(() => window.studio.pid);
    expect(second && second !== first.pid, `a second project: ${second}`);
    await tab('myvoice');
    await page.waitForSelector(`#profile-list li[data-profile="${voice.id}"]`);
    expect((await page.textContent(`#profile-list li[data-profile="${voice.id}"]`)).includes('from another project'), 'marked as from another project');
    if (voice.state === 'ready') {
      await tab('voices');
      await page.click(`#voice-gallery .voice[data-voice="${voice.voice}"]`);
      await page.waitForFunction((v) => window.studio.settings.voice === v, voice.voice);
    }
    // Back to the first project from the list.
    await page.click('#projects-open');
    await page.waitForSelector(`#project-list li[data-project="${first.pid}"] button:text("Open")`);
    expect(await page.$$eval('#project-list li', (x) => x.length) === 2, 'both projects listed');
    await Promise.all([page.waitForURL(`${base}/?project=${first.pid}`, { waitUntil: 'domcontentloaded' }),
      page.click(`#project-list li[data-project="${first.pid}"] button:text("Open")`)]);
    await page.waitForFunction(() => window.studio && window.studio.project && window.studio.project.video);
    expect(await page.evaluate(() => window.studio.pid) === first.pid && page.url().includes(`?project=${first.pid}`), 'the first project is open again');
    await page.waitForFunction(() => window.studio.cues.length > 0);
    expect((await page.evaluate(() => window.studio.cues.map((c) => c.text))).includes('Did you see that ship last night?'), 'with its edits');
    // A copied link opens it in a browser that never saw it.
    const link = `${base}/?project=${first.pid}#token=${await page.evaluate(() => window.studio.token)}`;
    const other = await browser.newContext();
    const p2 = await other.newPage();
    await p2.goto(link);
    await p2.waitForFunction((id) => window.studio && window.studio.project && window.studio.pid === id, first.pid);
    expect(!p2.url().includes('token='), 'the key leaves the address bar');
    await other.close();
    // Deleting the second project from the list.
    await page.click('#projects-open');
    page.once('dialog', (d) => d.accept());
    await page.click(`#project-list li[data-project="${second}"] button:text("Delete")`);
    await page.waitForFunction((id) => !document.querySelector(`#project-list li[data-project="${id}"]`), second);
    expect(!fs.existsSync(path.join(tmp, 'data/projects', second)), 'its files are gone');
    await page.click('#projects-close');
  });

  // A phone is a browser of its own (it does not share this page's connections).
  await step('phone layout', async () => {
    const saved = await page.evaluate(() => localStorage.getItem('ganvoice.studio'));
    const phoneContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await phoneContext.addInitScript((v) => localStorage.setItem('ganvoice.studio', v), saved);
    const phone = await phoneContext.newPage();
    phone.on('pageerror', (e) => pageErrors.push(String(e)));
    await phone.goto(`${base}/#editor`, { waitUntil: 'domcontentloaded' });
    await phone.waitForSelector('#cue-list .cue');
    await phone.waitForTimeout(300);
    if (shots) await phone.screenshot({ path: path.join(imgDir, 'studio-phone-editor.png') });
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const wide = await phone.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && e.getClientRects().length)
      .slice(0, 4).map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')}`).join(', '));
    expect(overflow <= 1, `no sideways scrolling on a phone (${overflow}px; too wide: ${wide})`);
    // Long voice names do not push the speakers' voice lists past the edge.
    await phone.$$eval('#speaker-map select', (list) => { for (const s of list) { s.append(new Option('Someone with a very long voice name indeed (English, United Kingdom)', 'long')); s.value = 'long'; } });
    const right = await phone.$$eval('#speaker-map select', (list) => Math.max(...list.map((s) => s.getBoundingClientRect().right)));
    expect(right <= 390, `voice lists end at ${right}px on a 390px screen`);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 1, 'no sideways scrolling with long voice names');
    // Typing in a cue far down the list: the video stays in view above it.
    const last = phone.locator('#cue-list .cue textarea').last();
    await last.scrollIntoViewIfNeeded();
    await last.click();
    await phone.waitForTimeout(300);
    const v = await phone.$eval('#video-editor', (e) => e.getBoundingClientRect().toJSON());
    const ta = await last.boundingBox();
    expect(v.top >= 0 && v.bottom <= 844 / 2 && v.height > 100, `the video is pinned while typing: ${JSON.stringify(v)}`);
    expect(ta.y >= v.bottom - 1 && ta.y + ta.height <= 844, `the text box is below the video and on screen: ${JSON.stringify(ta)} video ${JSON.stringify(v)}`);
    if (shots) await phone.screenshot({ path: path.join(imgDir, 'studio-phone-typing.png') });
    await phoneContext.close();
  });

  await step('every screen on a phone', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    const wide = [];
    await phone.goto(`${base}/#upload`, { waitUntil: 'domcontentloaded' });
    await phone.waitForFunction(() => window.studio && window.studio.project);
    for (const [n, name] of [[1, 'upload'], [2, 'voices'], [3, 'myvoice'], [5, 'render']]) {
      await phone.click(`.steps a[data-tab=${name}]`);
      await phone.waitForSelector(`#tab-${name}:not([hidden])`);
      if (name === 'render') {
        await phone.waitForFunction(() => /fits|too long/.test(document.querySelector('#fit-render-summary').textContent), null, { timeout: 90000 });
      }
      await phone.waitForTimeout(400);
      if (shots) await phone.screenshot({ path: path.join(imgDir, `studio-phone-${n}-${name === 'myvoice' ? 'your-voice' : name}.png`) });
      const over = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (over > 1) wide.push(`${name}: ${over}px`);
    }
    expect(!wide.length, `no sideways scrolling on a phone: ${wide.join(', ')}`);
    await phone.close();
  });

  await step('no script errors in the page', async () => {
    expect(pageErrors.length === 0, pageErrors.join('\n'));
  });
} finally {
  await browser.close().catch(() => {});
  server.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(failures.length ? `${failures.length} failed: ${failures.join(', ')}` : 'all passed');
process.exit(failures.length ? 1 : 0);
