// Browser tests of the web dashboard and the HTML report, in Debian's
// chromium (headless) driven by playwright-core.
//
//   node tests/web/browser.mjs URL EVENTS.json REPORT.html SHOTS_DIR
//
// URL is a sensor's --http endpoint after a replay, EVENTS.json the file
// sink of the same replay: what the dashboard must show is computed here from
// the events, independently of the sensor's view. Prints one "ok"/"FAIL" line
// per check and "N passed, N failed" last; exits 1 on any failure, including
// a browser that cannot start.
import { readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [url, eventsPath, reportPath, shots] = process.argv.slice(2);
let passed = 0, failed = 0;
const ok = (name) => { passed++; console.log('ok   ' + name); };
const bad = (name, why) => { failed++; console.log(`FAIL ${name}: ${why}`); };
const check = (name, cond, why) => (cond ? ok(name) : bad(name, why));
const done = () => { console.log(`${passed} passed, ${failed} failed`); process.exit(failed ? 1 : 0); };

// The whole run is bounded: a hung browser is a failure, not a hang.
setTimeout(() => { bad('time limit', 'browser tests took longer than 120 s'); done(); }, 120000).unref();

// Latest device event per device, from the event file.
const devices = new Map();
for (const line of readFileSync(eventsPath, 'utf8').split('\n')) {
  if (!line) continue;
  const e = JSON.parse(line);
  if (e.event.dataset === 'stubwatch.device') devices.set(e.stubwatch.device.key, e);
}
const pct = (s) => (typeof s === 'number' ? Math.round(s * 100) + ' %' : '–');
const fails = (e, n) => (Object.values(e.stubwatch.scorecard).find((l) => l && l.line === n) || {}).verdict === 'fail';

let pw;
try {
  pw = await import('playwright-core');
} catch (e) {
  bad('playwright-core', 'not installed (npm ci --prefix tests/web): ' + e.message);
  done();
}
const profile = mkdtempSync(join(tmpdir(), 'stubwatch-chromium-'));
let ctx;
try {
  ctx = await pw.chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 860 },
  });
} catch (e) {
  bad('chromium starts', e.message.split('\n')[0]);
  rmSync(profile, { recursive: true, force: true });
  done();
}
ok('chromium starts');
mkdirSync(shots, { recursive: true });

const page = await ctx.newPage();
page.setDefaultTimeout(15000);
const errors = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(e.message));
page.on('requestfailed', (r) => errors.push('request failed: ' + r.url()));

try {
  // The device table: every device of the replay, with its score.
  await page.goto(url);
  await page.waitForFunction((n) => document.querySelectorAll('#devices tbody tr').length === n,
    devices.size);
  ok(`device table lists the ${devices.size} devices`);
  const shown = await page.$$eval('#devices tbody tr', (rows) => rows.map((r) => [r.dataset.id,
    r.querySelector('td.score').textContent]));
  const wrong = shown.filter(([id, s]) => !devices.has(id) || pct(devices.get(id).stubwatch.scorecard.score) !== s);
  check('each device shows its score', wrong.length === 0 && shown.length === devices.size,
    'wrong rows: ' + JSON.stringify(wrong.slice(0, 3)));
  await page.screenshot({ path: join(shots, 'dashboard.png') });

  // Filtering by text: a vendor that some devices have.
  const vendor = [...devices.values()].map((e) => e.device.manufacturer).find((v) => v);
  const word = vendor.split(/[ ,.]/)[0];
  const want = [...devices.values()].filter((e) => [e.stubwatch.device.key, e.device.manufacturer, e.host.hostname,
    ...(e.host.ip || [])].join(' ').toLowerCase().includes(word.toLowerCase())).length;
  await page.fill('#filter', word);
  await page.waitForFunction((n) => document.querySelectorAll('#devices tbody tr').length === n, want);
  ok(`filter "${word}" leaves ${want} devices`);
  await page.fill('#filter', '');
  await page.waitForFunction((n) => document.querySelectorAll('#devices tbody tr').length === n,
    devices.size);

  // Filtering by a failing guideline.
  // A line some devices fail and others do not, so the filter has work to do.
  const failing = (n) => [...devices.values()].filter((e) => fails(e, n)).length;
  const line = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].find((n) => failing(n) > 0 && failing(n) < devices.size) || 2;
  const nfail = [...devices.values()].filter((e) => fails(e, line)).length;
  await page.selectOption('#failing', String(line));
  await page.waitForFunction((n) => document.querySelectorAll('#devices tbody tr').length === n, nfail);
  ok(`"fails ${line}" leaves the ${nfail} devices failing it`);
  await page.selectOption('#failing', '');

  // Sorting by score: ascending order of the scores shown.
  await page.click('th[data-sort="score"]');
  await page.waitForSelector('th.sorted-asc[data-sort="score"]');
  const scores = await page.$$eval('#devices tbody td.score', (c) => c.map((x) => x.textContent));
  const num = scores.map((s) => (s === '–' ? -1 : parseInt(s, 10)));
  check('sorting by score', num.every((v, i) => i === 0 || num[i - 1] <= v), scores.join(','));

  // Clicking a device opens its page.
  const target = [...devices.values()].find((e) => e.host.hostname) || [...devices.values()][0];
  await page.click(`#devices tbody tr[data-id="${target.stubwatch.device.key}"]`);
  await page.waitForSelector('#device-title');
  const title = await page.textContent('#device-title');
  const nlines = await page.$$eval('#scorecard tr', (r) => r.length - 1);
  check('clicking a device opens its page', page.url().endsWith('#/device/' + encodeURIComponent(target.stubwatch.device.key))
    && title.includes(target.stubwatch.device.key) && nlines === 11, `url ${page.url()}, title ${title}, ${nlines} lines`);
  await page.screenshot({ path: join(shots, 'device.png'), fullPage: true });

  // The alerts view lists alerts.
  await page.goto(url + '#/alerts');
  await page.waitForFunction(() => document.querySelectorAll('#alerts tr').length > 1);
  ok('alerts view lists alerts');
  await page.goto(url + '#/network');
  await page.waitForSelector('.card h3');
  ok('network view shows segments');
  check('dashboard: no console errors', errors.length === 0, errors.slice(0, 3).join(' | '));
} catch (e) {
  bad('dashboard', e.message.split('\n')[0]);
}

// The report: opens from disk with no request but its own file.
try {
  const rp = await ctx.newPage();
  const requests = [], rerrors = [];
  const fileUrl = pathToFileURL(reportPath).href;
  rp.on('request', (r) => { if (r.url() !== fileUrl) requests.push(r.url()); });
  rp.on('console', (m) => { if (m.type() === 'error') rerrors.push(m.text()); });
  rp.on('pageerror', (e) => rerrors.push(e.message));
  await rp.goto(fileUrl);
  const sections = await rp.$$eval('section', (s) => s.length);
  check('report: one section per device', sections === devices.size, `${sections} sections`);
  check('report: no network requests', requests.length === 0, requests.slice(0, 3).join(' '));
  check('report: no console errors', rerrors.length === 0, rerrors.slice(0, 3).join(' | '));
  await rp.screenshot({ path: join(shots, 'report.png') });
} catch (e) {
  bad('report', e.message.split('\n')[0]);
}
await ctx.close();
rmSync(profile, { recursive: true, force: true });
done();
