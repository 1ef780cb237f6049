// stubwatch dashboard: reads the sensor's /api/v1 (the same objects as its
// events) and renders the device table, a device's page, the alerts and the
// network; polls every few seconds while the tab is visible. No framework,
// no build step, nothing loaded from elsewhere.
'use strict';

// Where each fact sits in an event: the one place to change when event
// fields are renamed (the sensor keeps the same list in sensor/web/fields.h).
const FIELDS = {
  timestamp: '@timestamp',
  deviceId: 'stubwatch.device.key', mac: 'stubwatch.device.mac', vlan: 'stubwatch.device.vlan',
  vendor: 'device.manufacturer', hostname: 'host.hostname', ip: 'host.ip',
  firstSeen: 'stubwatch.device.first_seen', lastSeen: 'stubwatch.device.last_seen',
  localMac: 'stubwatch.device.mac_locally_administered',
  resolvers: 'stubwatch.resolvers', assigned: 'stubwatch.assigned_resolvers',
  designatedFrom: 'stubwatch.designated_from', dns: 'stubwatch.dns',
  queries: 'stubwatch.dns.queries', randomness: 'stubwatch.randomness',
  encrypted: 'stubwatch.encrypted', cache: 'stubwatch.cache', rate: 'stubwatch.rate',
  failure: 'stubwatch.failure', integrity: 'stubwatch.integrity',
  scorecard: 'stubwatch.scorecard', score: 'stubwatch.scorecard.score',
  ruleId: 'rule.id', ruleName: 'rule.name', reference: 'rule.reference',
  severity: 'event.severity', message: 'message', evidence: 'stubwatch.evidence',
  stats: 'stubwatch.stats',
};
const POLL_MS = 5000;
const PAGE = 1000;

function get(o, key) {
  let cur = o;
  for (const k of (FIELDS[key] || key).split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[k];
  }
  return cur;
}

// The scorecard's lines, in line order: the members of the scorecard that
// carry a line number (the others are its totals).
function scoreLines(ev) {
  const sc = get(ev, 'scorecard') || {};
  return Object.values(sc).filter((l) => l !== null && typeof l === 'object' && 'line' in l)
    .sort((a, b) => a.line - b.line);
}

function esc(s) {
  return String(s === undefined || s === null ? '' : s)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

async function api(path) {
  const r = await fetch('api/v1/' + path, { cache: 'no-store' });
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}

// Every page of a paginated list.
async function apiAll(path) {
  let offset = 0, items = [], extra = {};
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(`${path}${sep}offset=${offset}&limit=${PAGE}`);
    items = items.concat(page.items);
    Object.assign(extra, page.alerts || {});
    offset += page.items.length;
    if (page.items.length === 0 || offset >= page.total) return { items, alerts: extra };
  }
}

let guidelines = [];
const state = { filter: '', failing: '', sortKey: 'id', sortDir: 1, alertRule: '' };

function verdictOf(ev, n) {
  const l = scoreLines(ev).find((x) => x.line === n);
  return l ? l.verdict : 'unknown';
}
function mark(v) { return v === 'pass' ? '✔' : v === 'fail' ? '✘' : '?'; }
function pct(s) { return typeof s === 'number' ? Math.round(s * 100) + ' %' : '–'; }

// A guideline's evidence in a sentence: the sensor's template with the values.
function explain(n, evidence) {
  const g = guidelines.find((x) => x.line === n);
  if (!g) return '';
  return g.evidence.replace(/\{([a-z_0-9]+)\}/g, (m, k) => {
    const v = (evidence || {})[k];
    if (v === undefined) return '?';
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (typeof v === 'number' && !Number.isInteger(v)) return String(+v.toPrecision(6));
    return String(v);
  });
}

function setStatus(text) { document.getElementById('status').textContent = text; }
function main() { return document.getElementById('main'); }

// ---- devices -------------------------------------------------------------

function deviceRow(ev, alerts) {
  const id = get(ev, 'deviceId');
  const nAlerts = Object.values(alerts[id] || {}).reduce((a, b) => a + b, 0);
  const cells = [];
  for (let n = 1; n <= 11; n++) {
    const v = verdictOf(ev, n);
    cells.push(`<td class="v ${v}" title="${esc(n + ': ' + v)}">${mark(v)}</td>`);
  }
  return `<tr class="link" data-id="${esc(id)}"><td><code>${esc(id)}</code></td>` +
    `<td>${esc(get(ev, 'vendor'))}</td><td>${esc(get(ev, 'hostname'))}</td>` +
    `<td>${esc(get(ev, 'queries'))}</td>${cells.join('')}` +
    `<td class="score">${pct(get(ev, 'score'))}</td><td>${nAlerts}</td></tr>`;
}

function sortValue(ev, key, alerts) {
  switch (key) {
    case 'vendor': return (get(ev, 'vendor') || '').toLowerCase();
    case 'hostname': return (get(ev, 'hostname') || '').toLowerCase();
    case 'queries': return get(ev, 'queries') || 0;
    case 'score': { const s = get(ev, 'score'); return typeof s === 'number' ? s : -1; }
    case 'alerts': return Object.values(alerts[get(ev, 'deviceId')] || {}).reduce((a, b) => a + b, 0);
    default: return get(ev, 'deviceId');
  }
}

function matches(ev) {
  const q = state.filter.trim().toLowerCase();
  if (state.failing && verdictOf(ev, Number(state.failing)) !== 'fail') return false;
  if (!q) return true;
  const hay = [get(ev, 'deviceId'), get(ev, 'vendor'), get(ev, 'hostname'),
    ...(get(ev, 'ip') || [])].join(' ').toLowerCase();
  return hay.includes(q);
}

async function showDevices() {
  const { items, alerts } = await apiAll('devices');
  const rows = items.filter(matches);
  rows.sort((a, b) => {
    const x = sortValue(a, state.sortKey, alerts), y = sortValue(b, state.sortKey, alerts);
    return (x < y ? -1 : x > y ? 1 : 0) * state.sortDir;
  });
  const head = [['id', 'device'], ['vendor', 'vendor'], ['hostname', 'host name'], ['queries', 'queries']];
  const th = (k, label) => `<th class="sortable${state.sortKey === k ? (state.sortDir > 0 ? ' sorted-asc' : ' sorted-desc') : ''}" data-sort="${k}">${label}</th>`;
  let lines = '';
  for (let n = 1; n <= 11; n++) {
    const g = guidelines.find((x) => x.line === n);
    lines += `<th title="${esc(g ? g.requirement : '')}">${n}</th>`;
  }
  const opts = guidelines.map((g) => `<option value="${g.line}"${state.failing === String(g.line) ? ' selected' : ''}>fails ${g.line}: ${esc(g.requirement.slice(0, 60))}</option>`).join('');
  main().innerHTML = `<h2>Devices <span class="meta">(${rows.length} of ${items.length})</span></h2>
    <div class="toolbar"><input id="filter" type="search" placeholder="filter: MAC, vendor, host, IP" value="${esc(state.filter)}">
    <select id="failing"><option value="">every device</option>${opts}</select></div>
    <table id="devices"><thead><tr>${head.map(([k, l]) => th(k, l)).join('')}${lines}${th('score', 'score')}${th('alerts', 'alerts')}</tr></thead>
    <tbody>${rows.map((ev) => deviceRow(ev, alerts)).join('')}</tbody></table>`;
  const f = document.getElementById('filter');
  f.addEventListener('input', () => { state.filter = f.value; rerender(true); });
  if (document.activeElement !== f && state.focusFilter) { f.focus(); f.setSelectionRange(f.value.length, f.value.length); }
  document.getElementById('failing').addEventListener('change', (e) => { state.failing = e.target.value; rerender(); });
  for (const h of main().querySelectorAll('th.sortable')) {
    h.addEventListener('click', () => {
      const k = h.dataset.sort;
      state.sortDir = state.sortKey === k ? -state.sortDir : 1;
      state.sortKey = k;
      rerender();
    });
  }
  for (const r of main().querySelectorAll('tr.link')) {
    r.addEventListener('click', () => { location.hash = '#/device/' + encodeURIComponent(r.dataset.id); });
  }
}

// ---- one device -----------------------------------------------------------

function dl(obj) {
  return '<dl>' + Object.entries(obj || {}).filter(([, v]) => typeof v !== 'object' || v === null)
    .map(([k, v]) => `<dt>${esc(k.replace(/_/g, ' '))}</dt><dd>${esc(v)}</dd>`).join('') + '</dl>';
}

// σ of ports and IDs against the classes' thresholds (Good 296, Excellent
// 3980) and what a uniform 16-bit value gives (~18,900), on a log scale.
function spreadChart(rnd) {
  const W = 420, x = (s) => 90 + Math.log10(Math.max(1, s)) / Math.log10(30000) * (W - 140);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="86" role="img" aria-label="port and ID spread">`;
  for (const [t, label] of [[296, 'good'], [3980, 'excellent'], [18900, 'random']]) {
    svg += `<line x1="${x(t)}" y1="4" x2="${x(t)}" y2="62" stroke="#8a93a3" stroke-dasharray="3 2"/><text x="${x(t)}" y="76" text-anchor="middle">${label}</text>`;
  }
  [['ports', 10], ['txid', 36]].forEach(([k, y]) => {
    const r = (rnd || {})[k] || {};
    const col = r.class === 'excellent' ? '#17803d' : r.class === 'good' ? '#d08a00' : '#c0262d';
    svg += `<text x="0" y="${y + 12}">${k === 'ports' ? 'source ports' : 'transaction IDs'}</text>`;
    if (typeof r.sigma === 'number') svg += `<rect x="90" y="${y}" width="${Math.max(1, x(r.sigma) - 90)}" height="16" fill="${col}"/>`;
  });
  return svg + '</svg>';
}

function timeline(alerts) {
  if (alerts.length === 0) return '<p class="meta">No alerts in the recent ones kept.</p>';
  const ts = alerts.map((a) => Date.parse(get(a, 'timestamp')));
  const lo = Math.min(...ts), hi = Math.max(...ts, lo + 1);
  const rules = [...new Set(alerts.map((a) => get(a, 'ruleId')))];
  const W = 760, H = rules.length * 18 + 20;
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="alerts over time">`;
  rules.forEach((r, i) => { svg += `<text x="0" y="${i * 18 + 14}">${esc(r)}</text>`; });
  alerts.forEach((a, i) => {
    const cx = 230 + (ts[i] - lo) / (hi - lo) * (W - 240), cy = rules.indexOf(get(a, 'ruleId')) * 18 + 10;
    const sev = get(a, 'severity');
    svg += `<circle cx="${cx.toFixed(1)}" cy="${cy}" r="5" fill="${sev >= 3 ? '#c0262d' : sev === 2 ? '#d08a00' : '#8a93a3'}"><title>${esc(get(a, 'timestamp') + ' ' + get(a, 'message'))}</title></circle>`;
  });
  return svg + '</svg>';
}

async function showDevice(id) {
  const d = await api('devices/' + encodeURIComponent(id));
  const ev = d.device;
  const lines = scoreLines(ev).map((l) => `<tr><td>${l.line}</td><td>${esc(l.guideline)}</td>
    <td class="v ${esc(l.verdict)}">${mark(l.verdict)} ${esc(l.verdict)}</td><td>${esc(explain(l.line, l.evidence))}</td></tr>`).join('');
  const assigned = (get(ev, 'assigned') || []).map((r) => `<li><code>${esc(r.ip)}</code> <span class="meta">${esc(r.source || '')}</span></li>`).join('') || '<li class="meta">none seen for this device (designated from ' + esc(get(ev, 'designatedFrom')) + ')</li>';
  const used = (get(ev, 'resolvers') || []).map((r) => `<tr><td><code>${esc(r.ip)}</code></td><td>${esc(r.protocol)}</td><td>${esc((r.transport || []).join(', '))}</td>
    <td>${esc(r.operator || '')}</td><td class="v ${r.designated ? 'pass' : 'fail'}">${r.designated ? '✔' : '✘'}</td><td>${esc(r.queries)}</td><td>${esc(r.responses)}</td></tr>`).join('');
  const enc = get(ev, 'encrypted') || {};
  const endpoints = (enc.endpoints || []).map((e) => `<li>${esc(e.protocol || '')} <code>${esc(e.ip || '')}</code> ${esc(e.sni || e.server_name || '')} ${esc(e.operator || '')}</li>`).join('') || '<li class="meta">none</li>';
  const alertRows = Object.entries(d.alerts || {}).map(([r, a]) => `<tr><td><code>${esc(r)}</code></td><td class="sev${a.severity}">${a.severity}</td><td>${a.count}</td><td>${esc(a.first)}</td><td>${esc(a.last)}</td></tr>`).join('');
  main().innerHTML = `<h2 id="device-title"><code>${esc(get(ev, 'deviceId'))}</code> ${esc(get(ev, 'vendor') || '')} ${esc(get(ev, 'hostname') || '')}</h2>
    <p class="meta">Addresses ${esc((get(ev, 'ip') || []).join(', '))}; VLAN ${esc(get(ev, 'vlan'))}; seen ${esc(get(ev, 'firstSeen'))} to ${esc(get(ev, 'lastSeen'))}; score <span class="score">${pct(get(ev, 'score'))}</span>.</p>
    <h3>Scorecard</h3><table id="scorecard"><tr><th>#</th><th>guideline</th><th>verdict</th><th>evidence</th></tr>${lines}</table>
    <div class="cards">
      <div class="card"><h3>Resolvers assigned</h3><ul>${assigned}</ul></div>
      <div class="card"><h3>Encrypted DNS</h3>${dl(enc.transports)}<ul>${endpoints}</ul></div>
      <div class="card"><h3>Port and ID randomness</h3>${spreadChart(get(ev, 'randomness'))}
        <p class="meta">ports: ${esc(((get(ev, 'randomness') || {}).ports || {}).class)}, IDs: ${esc(((get(ev, 'randomness') || {}).txid || {}).class)}</p></div>
      <div class="card"><h3>Caching</h3>${dl(get(ev, 'cache'))}</div>
      <div class="card"><h3>Failure behaviour</h3>${dl(get(ev, 'failure'))}${dl(get(ev, 'rate'))}</div>
    </div>
    <h3>Resolvers used</h3><table><tr><th>resolver</th><th>protocol</th><th>transport</th><th>operator</th><th>designated</th><th>queries</th><th>responses</th></tr>${used}</table>
    <h3>Alerts</h3>${timeline(d.recent_alerts || [])}
    <table><tr><th>rule</th><th>severity</th><th>count</th><th>first</th><th>last</th></tr>${alertRows}</table>`;
}

// ---- alerts, network, sensor ------------------------------------------------

async function showAlerts() {
  const page = await api('alerts?limit=1000');
  const rules = [...new Set(page.items.map((a) => get(a, 'ruleId')))].sort();
  const rows = page.items.filter((a) => !state.alertRule || get(a, 'ruleId') === state.alertRule);
  main().innerHTML = `<h2>Alerts <span class="meta">(${rows.length} shown; ${page.alerts_seen} raised)</span></h2>
    <div class="toolbar"><select id="rule"><option value="">every rule</option>${rules.map((r) => `<option${r === state.alertRule ? ' selected' : ''}>${esc(r)}</option>`).join('')}</select></div>
    <table id="alerts"><tr><th>time</th><th>severity</th><th>rule</th><th>device</th><th>message</th></tr>
    ${rows.map((a) => `<tr><td>${esc(get(a, 'timestamp'))}</td><td class="sev${get(a, 'severity')}">${esc(get(a, 'severity'))}</td><td><code>${esc(get(a, 'ruleId'))}</code></td>
    <td><a href="#/device/${encodeURIComponent(get(a, 'deviceId') || '')}">${esc(get(a, 'deviceId'))}</a></td><td>${esc(get(a, 'message'))}</td></tr>`).join('')}</table>`;
  document.getElementById('rule').addEventListener('change', (e) => { state.alertRule = e.target.value; rerender(); });
}

async function showNetwork() {
  const n = await api('network');
  main().innerHTML = '<h2>Network segments</h2><div class="cards">' + n.segments.map((s) => `<div class="card"><h3>VLAN ${esc(s.vlan)} <span class="meta">${esc(s.devices)} devices</span></h3>
    <ul>${(s.offers.segment_resolvers || []).map((r) => `<li><code>${esc(r.ip)}</code> <span class="meta">${esc(r.source)}</span></li>`).join('')}</ul>${dl(s.offers)}</div>`).join('') + '</div>';
}

async function showSensor() {
  let st;
  try { st = await api('stats'); } catch (e) { main().innerHTML = '<p class="meta">No stats event yet.</p>'; return; }
  const s = get(st, 'stats') || {};
  const sinks = ((s.output || {}).sinks || []).map((k) => `<tr><td>${esc(k.name)}</td><td>${esc(k.kind)}</td><td>${esc(k.delivered)}</td><td>${esc(k.dropped)}</td><td>${esc(k.spooled)}</td><td>${esc(k.spool_bytes)}</td></tr>`).join('');
  main().innerHTML = `<h2>Sensor</h2><p class="meta">Stats at ${esc(get(st, 'timestamp'))}.</p>
    <div class="cards"><div class="card"><h3>Capture</h3>${dl({ packets: s.packets, bytes: s.bytes, ...(s.capture || {}) })}</div>
    <div class="card"><h3>DNS</h3>${dl({ udp_queries: ((s.dns || {}).queries || {}).udp, tcp_queries: ((s.dns || {}).queries || {}).tcp, unanswered: (s.dns || {}).unanswered })}</div>
    <div class="card"><h3>Tables</h3><dl>${Object.entries(s.tables || {}).map(([k, t]) => `<dt>${esc(k)}</dt><dd>${esc(t.count)} / ${esc(t.capacity)}, ${esc(t.evictions)} evicted</dd>`).join('')}</dl></div></div>
    <h3>Sinks</h3><table><tr><th>sink</th><th>kind</th><th>delivered</th><th>dropped</th><th>spooled</th><th>spool bytes</th></tr>${sinks}</table>`;
}

// ---- routing and polling ----------------------------------------------------

let busy = false;
async function rerender(keepFocus) {
  if (busy) return;
  busy = true;
  state.focusFilter = keepFocus === true;
  const h = location.hash.replace(/^#\/?/, '');
  const view = h.startsWith('device/') ? 'devices' : (h || 'devices');
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.view === view);
  try {
    if (guidelines.length === 0) guidelines = await api('guidelines');
    if (h.startsWith('device/')) await showDevice(decodeURIComponent(h.slice(7)));
    else if (h === 'alerts') await showAlerts();
    else if (h === 'network') await showNetwork();
    else if (h === 'sensor') await showSensor();
    else await showDevices();
    setStatus('updated ' + new Date().toLocaleTimeString());
  } catch (e) {
    setStatus('cannot reach the sensor: ' + e.message);
  } finally {
    busy = false;
  }
}

window.addEventListener('hashchange', () => { window.scrollTo(0, 0); rerender(); });
// Polling redraws the current view, but not while the user is typing in it.
setInterval(() => {
  if (!document.hidden && !(document.activeElement && document.activeElement.id === 'filter')) rerender();
}, POLL_MS);
rerender();
