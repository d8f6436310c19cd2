// Unit test of the studio editor's logic (examples/studio/web/editor.js):
// typed times, lanes, reading-speed limits, and the ASS export that keeps
// what was not edited, with the sample ASS file and its parsed cues.
//   node test_editor.mjs SOURCE_DIR WORKER
// The cues come from `WORKER cues FILE`, the studio's parser.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [source, worker] = process.argv.slice(2);
const E = await import(path.resolve(source, 'examples/studio/web/editor.js'));
let failures = 0;
const check = (name, fn) => {
  try { fn(); console.log(`ok   ${name}`); } catch (e) { failures++; console.log(`FAIL ${name}: ${e.stack || e}`); }
};

check('typed times', () => {
  assert.equal(E.parseTime('1:02.5'), 62.5);
  assert.equal(E.parseTime('0:01:02,500'), 62.5);
  assert.equal(E.parseTime(' 62.5 '), 62.5);
  assert.ok(Number.isNaN(E.parseTime('1:75')));
  assert.ok(Number.isNaN(E.parseTime('soon')));
  assert.ok(Number.isNaN(E.parseTime('-3')));
  const cue = { start: 10, end: 12 };
  assert.deepEqual(E.checkTime(cue, 'end', '0:13.255', 27), { value: 13.255 });
  assert.match(E.checkTime(cue, 'end', '0:09', 27).error, /end must be after the start \(0:10\.00\)/);
  assert.match(E.checkTime(cue, 'start', '12', 27).error, /start must be before the end/);
  assert.match(E.checkTime(cue, 'end', '30', 27).error, /only 0:27\.00 long/);
  assert.match(E.checkTime(cue, 'start', 'x', 27).error, /Write a time like/);
  assert.deepEqual(E.checkTime(cue, 'end', '30', NaN), { value: 30 }); // no video yet
});

check('overlapping cues get lanes of their own', () => {
  const cues = [{ start: 0, end: 2 }, { start: 1, end: 3 }, { start: 2, end: 4 }, { start: 2.5, end: 5 }, { start: 6, end: 7 }];
  const lay = E.layoutLanes(cues);
  assert.deepEqual(lay.lanes, [0, 1, 0, 2, 0]);
  assert.equal(lay.count, 3);
  assert.deepEqual(lay.overlaps.map((o) => o.sort()), [[1], [0, 2, 3], [1, 3], [1, 2], []]);
  for (let i = 0; i < cues.length; i++) {
    for (let j = i + 1; j < cues.length; j++) {
      if (cues[i].start < cues[j].end && cues[j].start < cues[i].end) assert.notEqual(lay.lanes[i], lay.lanes[j]);
    }
  }
  assert.equal(E.layoutLanes([]).count, 1);
});

check('reading speed and line length limits', () => {
  const st = (text, dur) => E.cueStats({ start: 0, end: dur, text });
  assert.equal(st('x'.repeat(17), 1).level, 0);
  assert.equal(st('x'.repeat(18), 1).level, 1);
  assert.equal(st('x'.repeat(20), 1).level, 1);
  assert.equal(st('x'.repeat(21), 1).level, 2);
  assert.equal(st(`${'x'.repeat(10)}\n${'x'.repeat(10)}`, 1).chars, 20); // line breaks do not count
  assert.equal(st('x'.repeat(42), 10).level, 0);
  const long = st('x'.repeat(43), 10);
  assert.equal(long.level, 1); assert.equal(long.longest, 43); assert.match(long.notes[0], /43 characters/);
  const three = st('a\nb\nc', 10);
  assert.equal(three.level, 1); assert.equal(three.lines, 3);
  assert.deepEqual(E.LIMITS, { cpsWarn: 17, cpsError: 20, lineChars: 42, lines: 2 });
});

check('undo history: steps, coalesced typing, redo', () => {
  const h = new E.History();
  const s = { cues: [{ start: 0, end: 1, text: 'a' }], sel: 0 };
  h.record(s, 'text:0'); s.cues[0].text = 'ab';
  h.record(s, 'text:0'); s.cues[0].text = 'abc'; // same run of typing
  h.record(s); s.cues.push({ start: 2, end: 3, text: 'new' });
  let back = h.undo(s);
  assert.deepEqual(back.cues.map((c) => c.text), ['abc']);
  back = h.undo(back);
  assert.deepEqual(back.cues.map((c) => c.text), ['a']);
  assert.equal(h.canUndo, false);
  const fwd = h.redo(back);
  assert.deepEqual(fwd.cues.map((c) => c.text), ['abc']);
  assert.equal(h.canRedo, true);
});

check('tags that still apply', () => {
  assert.equal(E.reapplyTags('The storm is coming {\\i1}closer{\\i0}.\\NWe should light the lamp early.', 'The storm is coming closer now.\nWe light it.'),
    'The storm is coming {\\i1}closer now{\\i0}.\\NWe light it.');
  assert.equal(E.reapplyTags('{\\an8}Hello there', 'Hi there'), '{\\an8}Hi there');
  assert.equal(E.reapplyTags('Say {\\b1}this{\\b0} now', 'Say that now'), 'Say that now'); // the word is gone
  assert.equal(E.reapplyTags('plain', 'a {brace}'), 'a (brace)');
});

// The ASS sample as the studio reads it.
const assFile = path.join(source, 'examples/media/sample.en.ass');
const assText = fs.readFileSync(assFile, 'utf8');
const parsed = JSON.parse(execFileSync(worker, ['cues', assFile], { encoding: 'utf8' }));
check('ASS: line breaks shown, the file kept as written when nothing was edited', () => {
  const ass = E.parseAss(assText);
  ass.spoken = new Set(parsed.cues.map((c) => c.line));
  const cues = parsed.cues.map((c) => {
    const src = { line: c.line, turn: c.turn, n_turns: c.n_turns, start: c.start, end: c.end, text: E.displayText(c, parsed.format), speaker: c.speaker, style: c.style, markup: c.markup };
    return { start: c.start, end: c.end, text: src.text, speaker: c.speaker, src };
  });
  const storm = cues.find((c) => c.text.startsWith('The storm'));
  assert.equal(storm.text, 'The storm is coming closer.\nWe should light the lamp early.');
  // Over the video: italics from the tag, and from the Narration style.
  assert.deepEqual(E.captionRuns(storm, ass.styleLook.get('Default')).map((r) => [r.text, r.italic]),
    [['The storm is coming ', false], ['closer', true], ['.\nWe should light the lamp early.', false]]);
  assert.deepEqual(ass.styleLook.get('Narration'), { italic: true, bold: false });
  assert.deepEqual(ass.styleLook.get('Sign'), { italic: false, bold: true });
  const narration = cues.find((c) => c.src.style === 'Narration');
  assert.deepEqual(E.captionRuns(narration, ass.styleLook.get('Narration')).map((r) => r.italic), [true]);
  assert.deepEqual(E.captionRuns({ ...storm, text: 'Edited.' }).map((r) => [r.text, r.italic]), [['Edited.', false]]);
  const events = (t) => t.slice(t.indexOf('[Events]')).trim();
  const same = E.exportAss(cues, ass, '');
  assert.equal(events(same), events(assText.replace(/\r/g, '')));
  assert.ok(same.startsWith(assText.slice(0, assText.indexOf('[Events]'))), 'header and styles as written');
  // Edit one line, delete another, add one: the rest stays as it was.
  storm.text = 'The storm is coming closer now.\nWe light the lamp.';
  const tom = cues.findIndex((c) => c.text.startsWith('I will fetch'));
  cues.splice(tom, 1);
  cues.push({ start: 17, end: 18.5, text: 'A new line', speaker: 'Tom' });
  cues.sort((a, b) => a.start - b.start);
  const out = E.exportAss(cues, ass, '').split('\n');
  assert.ok(out.includes('Dialogue: 0,0:00:06.90,0:00:09.80,Default,Mara,0,0,0,,The storm is coming {\\i1}closer now{\\i0}.\\NWe light the lamp.'));
  assert.ok(!out.some((l) => l.includes('fetch the oil')), 'the deleted line is gone');
  assert.ok(out.includes('Comment: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Translator note: keep this line short.'));
  assert.ok(out.includes('Dialogue: 1,0:00:00.50,0:00:03.00,Sign,,0,0,0,,{\\pos(640,80)}THE NORTH LIGHT'));
  const added = out.indexOf('Dialogue: 0,0:00:17.00,0:00:18.50,Default,Tom,0,0,0,,A new line');
  assert.ok(added > out.findIndex((l) => l.includes('nobody is ever lost')) && added < out.findIndex((l) => l.includes('There it is')), 'a new cue in time order');
});

check('ASS: an edited dialogue turn keeps its tags, the other turn its own', () => {
  const markup = '- {\\i1}Did you{\\i0} see it?\\N- Only its lights.';
  const text = 'Dialogue: 0,0:00:01.00,0:00:04.00,Main,,0,0,0,,' + markup;
  const ass = E.parseAss(`[Script Info]\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n${text}\n`);
  ass.spoken = new Set([5]);
  const turn = (k, start, end, t) => ({ start, end, text: t, speaker: '', src: { line: 5, turn: k, n_turns: 2, start, end, text: t, speaker: '', markup } });
  const cues = [turn(0, 1, 2.452, 'Did you see it?'), turn(1, 2.452, 4, 'Only its lights.')];
  assert.ok(E.exportAss(cues, ass, '').includes(`\n${text}\n`), 'untouched: as written');
  cues[1].text = 'Only its bright lights.';
  const out = E.exportAss(cues, ass, '').split('\n');
  assert.ok(out.includes('Dialogue: 0,0:00:01.00,0:00:02.45,Main,,0,0,0,,{\\i1}Did you{\\i0} see it?'), out.join('\n'));
  assert.ok(out.includes('Dialogue: 0,0:00:02.45,0:00:04.00,Main,,0,0,0,,Only its bright lights.'), out.join('\n'));
});

check('SRT markup: line breaks and entities, the parser\'s text when words differ', () => {
  assert.equal(E.displayText({ text: '"Keep it," he said, "on."', markup: '&quot;Keep it,&quot; he said,\n&quot;on.&quot;', n_turns: 1 }, 'SubRip'), '"Keep it," he said,\n"on."');
  assert.equal(E.displayText({ text: 'The storm. We go.', markup: 'MARA: The storm.\nWe go.', n_turns: 1 }, 'SubRip'), 'The storm. We go.');
  assert.equal(E.displayText({ text: 'One.', markup: '- One.\n- Two.', n_turns: 2 }, 'SubRip'), 'One.');
});

check('SRT: a cue that was not edited keeps the file\'s markup', () => {
  const srtFile = path.join(source, 'examples/media/sample.en.srt');
  const srt = JSON.parse(execFileSync(worker, ['cues', srtFile], { encoding: 'utf8' }));
  const cues = srt.cues.map((c) => {
    const src = { line: c.line, turn: c.turn, n_turns: c.n_turns, start: c.start, end: c.end, text: E.displayText(c, srt.format), speaker: c.speaker || '', markup: c.markup };
    return { start: c.start, end: c.end, text: src.text, speaker: src.speaker, src };
  });
  const first = cues[0];
  assert.equal(first.src.n_turns, 1);
  let out = E.exportSrt(cues, true);
  assert.ok(out.startsWith(`1\n${out.split('\n')[1]}\n${first.src.markup}\n\n2\n`), out.slice(0, 200));
  assert.ok(!E.exportSrt(cues, false).includes(first.src.markup), 'from another format: the text');
  first.text = 'Every morning he climbed.';
  out = E.exportSrt(cues, true);
  assert.match(out, /^1\n00:00:00,500 --> 00:00:03,200\nEvery morning he climbed\.\n/);
});

console.log(failures ? `${failures} failed` : 'all passed');
process.exit(failures ? 1 : 0);
