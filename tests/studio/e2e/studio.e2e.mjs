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
    await page.mouse.move(box.x + box.width * 0.3, box.y + 50);
    await page.mouse.down(); await page.mouse.move(box.x + box.width * 0.35, box.y + 50); await page.mouse.up();
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

  await step('phone layout', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${base}/#editor`);
    await phone.waitForSelector('#cue-list .cue');
    await phone.waitForTimeout(300);
    if (shots) await phone.screenshot({ path: path.join(imgDir, 'studio-phone-editor.png') });
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const wide = await phone.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && e.getClientRects().length)
      .slice(0, 4).map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')}`).join(', '));
    expect(overflow <= 1, `no sideways scrolling on a phone (${overflow}px; too wide: ${wide})`);
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
