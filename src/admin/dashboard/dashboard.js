// The Junction dashboard: plain JavaScript against the admin API (/api/v1), no build step.
// The token stays in this tab's sessionStorage and goes out as a bearer header; nothing else
// is stored. Figures refresh every two seconds; the chart keeps the last five minutes.

const REFRESH_MS = 2000;
const HISTORY = 150;
const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem('junction-token') ?? '',
  history: [],
  last: null,
  timer: 0,
};

/** Calls the API; a 401 sends the user back to the login form. */
async function api(method, path, body) {
  const headers = { authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) {
    logout('The token was not accepted.');
    throw new Error('unauthorized');
  }
  const text = await res.text();
  const data = text === '' ? null : JSON.parse(text);
  if (!res.ok) throw new Error(data?.message ?? `HTTP ${res.status}`);
  return data;
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function since(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return duration(s);
}

function duration(s) {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

// --- figures and chart ------------------------------------------------------------------------

async function refreshStats() {
  const s = await api('GET', '/api/v1/stats');
  const now = Date.now();
  let rateIn = 0;
  let rateOut = 0;
  if (state.last !== null) {
    const dt = (now - state.last.at) / 1000;
    rateIn = Math.max(0, (s.messages.received - state.last.received) / dt);
    rateOut = Math.max(0, (s.messages.sent - state.last.sent) / dt);
  }
  state.last = { at: now, received: s.messages.received, sent: s.messages.sent };
  state.history.push({ conn: s.connections.online, in: rateIn, out: rateOut });
  if (state.history.length > HISTORY) state.history.shift();
  $('stat-online').textContent = String(s.connections.online);
  $('stat-in').textContent = rateIn.toFixed(1);
  $('stat-out').textContent = rateOut.toFixed(1);
  $('stat-sessions').textContent = String(s.sessions);
  $('stat-retained').textContent = String(s.retained);
  $('stat-dropped').textContent = String(s.messages.dropped);
  $('node').textContent = `${s.node} · ${s.version} · up ${duration(s.uptimeSeconds)}`;
  drawChart();
}

function drawChart() {
  const canvas = $('chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 960;
  const height = canvas.clientHeight || 200;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  const css = getComputedStyle(document.documentElement);
  g.strokeStyle = css.getPropertyValue('--line');
  g.beginPath();
  for (let y = 0; y <= 4; y++) {
    const at = 10 + ((height - 20) * y) / 4;
    g.moveTo(0, at);
    g.lineTo(width, at);
  }
  g.stroke();
  const series = [
    ['conn', css.getPropertyValue('--accent')],
    ['in', css.getPropertyValue('--in')],
    ['out', css.getPropertyValue('--out')],
  ];
  const top = Math.max(1, ...state.history.flatMap((p) => [p.conn, p.in, p.out]));
  const step = width / (HISTORY - 1);
  const offset = HISTORY - state.history.length;
  for (const [key, colour] of series) {
    g.strokeStyle = colour;
    g.lineWidth = 2;
    g.beginPath();
    state.history.forEach((p, i) => {
      const x = (offset + i) * step;
      const y = height - 10 - ((height - 20) * p[key]) / top;
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    });
    g.stroke();
  }
  g.fillStyle = css.getPropertyValue('--muted');
  g.fillText(String(Math.round(top)), 4, 20);
}

// --- clients ---------------------------------------------------------------------------------

async function refreshClients() {
  const q = $('search').value.trim();
  const page = await api('GET', '/api/v1/clients?limit=1000');
  const rows = page.data.filter((c) => q === '' || c.clientId.includes(q) || (c.username ?? '').includes(q));
  const body = $('clients').querySelector('tbody');
  body.replaceChildren();
  for (const c of rows) {
    const tr = document.createElement('tr');
    tr.dataset.clientId = c.clientId;
    cell(tr, c.clientId);
    cell(tr, c.username ?? '-');
    cell(tr, `${c.protocol} ${c.protocolVersion} / ${c.transport}`);
    cell(tr, `${c.address}:${c.port}`);
    cell(tr, since(c.connectedAt));
    cell(tr, String(c.subscriptions));
    cell(tr, String(c.queued));
    const kick = document.createElement('button');
    kick.type = 'button';
    kick.className = 'danger kick';
    kick.textContent = 'Kick';
    kick.addEventListener('click', () => kickClient(c.clientId, kick));
    cell(tr, '').appendChild(kick);
    body.appendChild(tr);
  }
  $('clients-count').textContent = `${rows.length} shown of ${page.meta.count}`;
}

async function kickClient(clientId, button) {
  button.disabled = true;
  try {
    await api('DELETE', `/api/v1/clients/${encodeURIComponent(clientId)}`);
    status(`Kicked ${clientId}.`);
  } catch (err) {
    status(`Could not kick ${clientId}: ${err.message}`);
  }
  await refreshClients();
}

// --- retained --------------------------------------------------------------------------------

async function refreshRetained() {
  const filter = $('retained-filter').value.trim() || '#';
  const body = $('retained').querySelector('tbody');
  $('retained-error').textContent = '';
  let page;
  try {
    page = await api('GET', `/api/v1/retained?limit=200&topic=${encodeURIComponent(filter)}`);
  } catch (err) {
    $('retained-error').textContent = err.message;
    body.replaceChildren();
    return;
  }
  body.replaceChildren();
  for (const m of page.data) {
    const tr = document.createElement('tr');
    tr.dataset.topic = m.topic;
    cell(tr, m.topic);
    cell(tr, String(m.qos));
    cell(tr, bytes(m.size));
    cell(tr, m.encoding === 'utf8' ? m.payload : `base64:${m.payload}`, 'payload');
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'danger';
    del.textContent = 'Delete';
    del.addEventListener('click', async () => {
      await api('DELETE', `/api/v1/retained/${m.topic.split('/').map(encodeURIComponent).join('/')}`);
      status(`Deleted the retained message on ${m.topic}.`);
      await refreshRetained();
    });
    cell(tr, '').appendChild(del);
    body.appendChild(tr);
  }
}

// --- nodes -----------------------------------------------------------------------------------

async function refreshNodes() {
  const { data } = await api('GET', '/api/v1/nodes');
  const body = $('nodes').querySelector('tbody');
  body.replaceChildren();
  for (const n of data) {
    const tr = document.createElement('tr');
    cell(tr, n.name);
    cell(tr, n.version);
    cell(tr, n.status);
    cell(tr, duration(n.uptimeSeconds));
    cell(tr, String(n.connections));
    cell(tr, bytes(n.rss));
    body.appendChild(tr);
  }
}

// --- session ---------------------------------------------------------------------------------

/** What the last action did (kept until the next one; the periodic refresh writes elsewhere). */
function status(text) {
  $('notice').textContent = text;
}

async function tick() {
  try {
    await Promise.all([refreshStats(), refreshClients(), refreshNodes()]);
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}.`;
  } catch (err) {
    if (err.message !== 'unauthorized') $('updated').textContent = `Update failed: ${err.message}`;
  }
}

async function login(token) {
  state.token = token;
  try {
    await api('GET', '/api/v1/stats');
  } catch (err) {
    if (err.message !== 'unauthorized') $('login-error').textContent = err.message;
    return;
  }
  sessionStorage.setItem('junction-token', token);
  $('login-panel').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  $('login-error').textContent = '';
  await tick();
  await refreshRetained();
  state.timer = setInterval(tick, REFRESH_MS);
}

function logout(why) {
  clearInterval(state.timer);
  sessionStorage.removeItem('junction-token');
  state.token = '';
  state.history = [];
  state.last = null;
  $('app').hidden = true;
  $('logout').hidden = true;
  $('login-panel').hidden = false;
  $('login-error').textContent = why ?? '';
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  void login($('token').value.trim());
});
$('logout').addEventListener('click', () => logout());
$('search').addEventListener('input', () => void refreshClients());
$('retained-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void refreshRetained();
});
if (state.token !== '') void login(state.token);
