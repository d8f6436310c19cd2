// ganvoice studio: projects. The owner key kept in this browser (it owns
// the projects and the cloned voices), the list of projects, the project's
// link (?project=ID#token=TOKEN), opening one from the address, creating a
// project only when the user does something, and deleting one.
// SPDX-License-Identifier: LGPL-2.1-or-later

const OWNER = 'ganvoice.owner'; // the owner key: 48 hex digits
const TOKENS = 'ganvoice.projects'; // {PID: token} of this browser's projects
const CURRENT = 'ganvoice.studio'; // {id, token} of the project last open
const ID = /^[0-9a-f]{16}$/;
const TOKEN = /^[0-9a-f]{48}$/;

const read = (key, fallback) => {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
};

export function ownerKey() {
  let k = localStorage.getItem(OWNER);
  if (!k || !/^[0-9a-f]{32,64}$/.test(k)) {
    const b = crypto.getRandomValues(new Uint8Array(24));
    k = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    localStorage.setItem(OWNER, k);
  }
  return k;
}
const tokens = () => read(TOKENS, {});
function remember(id, token) {
  const t = tokens(); t[id] = token;
  localStorage.setItem(TOKENS, JSON.stringify(t));
  localStorage.setItem(CURRENT, JSON.stringify({ id, token }));
}
function forget(id) {
  const t = tokens(); delete t[id];
  localStorage.setItem(TOKENS, JSON.stringify(t));
  if (read(CURRENT, {})?.id === id) localStorage.removeItem(CURRENT);
}

// What the page shows before a project exists: the owner's voices only.
export const blankProject = (profiles = []) => ({
  id: null, name: '', video: null, subtitles: null, edited: false, settings: {},
  recordings: [], profiles, readings: [], jobs: [],
});

export function setupProjects(ctx) {
  const { S, api, notify, plain, el, $ } = ctx;
  let keepDays = 0;
  let creating = null;

  const link = () => (S.pid ? `${location.origin}/?project=${S.pid}#token=${S.token}` : '');
  function showLabel() {
    $('#project-label').textContent = S.pid ? `Project “${S.project?.name || S.pid}”` : 'No project yet: it starts when you upload or record something.';
    $('#project-copy').disabled = !S.pid;
    $('#project-link-text').value = link();
  }
  function setAddress() {
    const hash = location.hash.startsWith('#token=') ? '' : location.hash;
    history.replaceState(null, '', `${location.pathname}${S.pid ? `?project=${S.pid}` : ''}${hash}`);
  }

  // Opens the project of the address (?project=ID, with #token=TOKEN from a
  // copied link), else the one last open here; none: a blank page.
  async function open() {
    const url = new URL(location.href);
    const wanted = url.searchParams.get('project');
    const fromLink = location.hash.startsWith('#token=') ? location.hash.slice(7) : '';
    if (fromLink && TOKEN.test(fromLink) && wanted && ID.test(wanted)) remember(wanted, fromLink);
    const cur = read(CURRENT, null);
    const id = wanted && ID.test(wanted) ? wanted : cur?.id;
    const token = id ? tokens()[id] || (cur?.id === id ? cur.token : null) : null;
    S.pid = null; S.token = null; S.project = null;
    if (id && token) {
      S.pid = id; S.token = token;
      try {
        S.project = await api('GET', `/api/projects/${id}`);
        remember(id, token);
      } catch (e) {
        if (e.status !== 403 && e.status !== 404) throw e;
        S.pid = null; S.token = null;
        if (e.status === 404) forget(id);
        if (wanted) notify(e.status === 404 ? 'This project does not exist any more (deleted, or cleaned up after a long time unused).' : plain(e));
      }
    } else if (wanted) {
      notify('This project needs its own link, with its key: copy it from the page where the project was made (“Copy the link”).');
    }
    if (!S.project) {
      localStorage.removeItem(CURRENT);
      const lib = await api('GET', '/api/library').catch(() => ({ profiles: [] }));
      S.project = blankProject(lib.profiles);
    }
    setAddress();
    showLabel();
  }

  // The project, made the first time something needs it (an upload, a
  // recording, a setting): a visit alone makes none.
  function ensure() {
    if (S.pid) return Promise.resolve();
    if (!creating) {
      creating = (async () => {
        const p = await api('POST', '/api/projects', { name: 'My video' });
        const before = S.project;
        S.pid = p.id; S.token = p.token;
        remember(p.id, p.token);
        delete p.token;
        S.project = { ...p, profiles: p.profiles.length ? p.profiles : before.profiles };
        setAddress();
        showLabel();
        ctx.onCreated();
      })().finally(() => { creating = null; });
    }
    return creating;
  }

  async function listProjects() {
    const list = $('#project-list');
    list.replaceChildren(el('li', { class: 'muted', text: 'Loading…' }));
    let projects = [];
    try { projects = (await api('GET', '/api/projects')).projects; } catch (e) { notify(plain(e)); }
    const known = tokens();
    list.replaceChildren();
    $('#project-list-empty').hidden = projects.length > 0;
    for (const p of projects) {
      const what = [p.video, p.subtitles].filter(Boolean).join(' + ') || 'nothing uploaded yet';
      const when = new Date(p.updated * 1000).toLocaleString();
      const current = p.id === S.pid;
      list.append(el('li', { 'data-project': p.id, class: current ? 'current' : '' },
        el('div', { class: 'pname' }, el('b', { text: p.name || 'Untitled' }), current ? el('span', { class: 'state ready', text: 'open now' }) : null),
        el('div', { class: 'muted', text: `${what} · ${p.renders} ${p.renders === 1 ? 'render' : 'renders'} · used ${when}` }),
        el('div', { class: 'actions' },
          current ? null : el('button', { type: 'button', class: 'button secondary', text: 'Open', disabled: !known[p.id],
            title: known[p.id] ? '' : 'This browser does not have this project’s key', onclick: () => location.assign(`/?project=${p.id}`) }),
          el('button', { type: 'button', class: 'button secondary', text: 'Delete', disabled: !known[p.id], onclick: () => remove(p) }))));
    }
  }

  async function remove(p) {
    if (!confirm(`Delete the project “${p.name || p.id}”, its uploads and its renders? Your voices stay in your library.`)) return;
    const r = await fetch(`/api/projects/${p.id}`, { method: 'DELETE', headers: { 'X-Studio-Token': tokens()[p.id], 'X-Studio-Owner': ownerKey() } });
    if (!r.ok && r.status !== 404) { notify(`The project could not be deleted (${r.status}).`); return; }
    forget(p.id);
    if (p.id === S.pid) { location.assign('/'); return; }
    listProjects();
  }

  function startNew() {
    localStorage.removeItem(CURRENT);
    location.assign('/');
  }

  // The dialog and the buttons.
  const dialog = $('#projects-dialog');
  $('#projects-open').addEventListener('click', () => {
    $('#projects-keep').textContent = keepDays > 0 ? `Projects not used for ${keepDays} days are deleted from the server; your voices stay.` : '';
    showLabel();
    dialog.showModal();
    listProjects();
  });
  $('#projects-close').addEventListener('click', () => dialog.close());
  $('#project-new').addEventListener('click', startNew);
  $('#new-project').addEventListener('click', () => {
    if (confirm('Start a new, empty project? This one stays in “Projects”.')) startNew();
  });
  $('#project-copy').addEventListener('click', async () => {
    const text = link();
    try { await navigator.clipboard.writeText(text); notify('The link to this project is copied. Anyone with it can open and change the project.', 'info'); } catch {
      $('#project-link-text').select();
      notify('Copy the selected link (Ctrl+C).', 'info');
    }
  });
  api('GET', '/api/config').then((c) => { keepDays = c.keep_days || 0; }).catch(() => {});

  return { open, ensure, showLabel, ownerKey };
}
