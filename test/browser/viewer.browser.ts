/**
 * The viewer in a real browser: headless Chromium from Debian (/usr/bin/chromium), driven by
 * playwright-core, never a downloaded browser. Run with `npm run test:browser` (not part of
 * `npm test`, so a clone without Chromium still passes `npm ci && npm test`).
 *
 * The page for the ZOOKEEPER-3911 trace (test/trace/fixture.ts) must draw a lane per server and
 * the arrows, jump to the violation, show the state that explains it, step by keyboard, filter,
 * and look like the reference layout (a coarse ink grid of the screenshot, not its pixels). A
 * second page, of a 100k-record trace, must stay a few hundred DOM nodes and answer jumps.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildViewerHtml } from '../../src/trace/html.ts';
import { parseTrace } from '../../src/trace/load.ts';
import { serverColour } from '../../src/trace/viewer/colors.ts';
import { cli } from '../cli/run-cli.ts';
import { flawTrace } from '../trace/fixture.ts';
import { countColour, inkGrid, readPng } from './png.ts';

const CHROMIUM = process.env['ZABSIM_CHROMIUM'] ?? '/usr/bin/chromium';
/** Where the screenshots go (outside the repository): look at them after a run. */
const OUT = join(tmpdir(), 'zabsim-browser-screenshots/');
const LAYOUT = fileURLToPath(new URL('./viewer.layout.json', import.meta.url));
const GRID = { cols: 35, rows: 25 };
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let dir = '';
let ctx: BrowserContext;
let page: Page;
const offsite: string[] = [];
const errors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
  dir = mkdtempSync(join(tmpdir(), 'zabsim-browser-'));
  mkdirSync(OUT, { recursive: true });
  ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
    deviceScaleFactor: 1,
  });
  // The page must work from file:// alone: any other request is recorded and refused.
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    offsite.push(url);
    return route.abort();
  });
  page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
});

afterAll(async () => {
  await ctx?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function open(html: string, name: string): Promise<void> {
  const file = join(dir, name);
  writeFileSync(file, html);
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 0 });
}

const selected = async (): Promise<number> => Number(await page.getAttribute('body', 'data-selected'));

describe('the viewer in headless Chromium', () => {
  it('draws a lane per server and the arrows, jumps to the violation, and shows the state that explains it', async () => {
    await open(buildViewerHtml(parseTrace(flawTrace(), 'flaw.jsonl')), 'flaw.html');
    const canvas = page.locator('#diagram');
    expect(await canvas.getAttribute('data-lanes')).toBe('5');
    expect(Number(await canvas.getAttribute('data-arrows'))).toBeGreaterThanOrEqual(0);
    await expect.poll(async () => (await page.locator('#violations .violation').count())).toBe(1);

    await page.click('#to-violation');
    expect(await selected()).toBe(1098);
    expect(Number(await canvas.getAttribute('data-arrows'))).toBeGreaterThan(5);
    expect(await page.textContent('#position')).toBe('record #1098 of 1212 · t = 25497 ms · send');
    expect(await page.textContent('#events .row.sel')).toContain('s2 -> s1     send      UPTODATE  #325');
    // The state panel at the violation: s2 has just established epoch 3 (LEADING/BROADCAST) on
    // s1's NEWLEADER ACK, while s1 is still FOLLOWING in SYNCHRONIZATION (epoch 3 accepted and
    // current, <2,5> applied); both rows are marked, the others are not.
    const s1 = page.locator('#state tr[data-sid="1"]');
    const s2 = page.locator('#state tr[data-sid="2"]');
    expect(await s1.getAttribute('class')).toBe('focus');
    expect(await s2.getAttribute('class')).toBe('focus');
    for (const other of [3, 4, 5]) expect(await page.locator(`#state tr[data-sid="${other}"]`).getAttribute('class'), `s${other}`).toBe('');
    const s1Text = (await s1.textContent()) ?? '';
    expect(s1Text).toContain('FOLLOWING');
    expect(s1Text).toContain('SYNCHRONIZATION → s2');
    expect(s1Text).toContain('applied ≤ <2,5>');
    expect(s1Text).toContain('3 / 3');
    const s2Text = (await s2.textContent()) ?? '';
    expect(s2Text).toContain('LEADING');
    expect(s2Text).toContain('learners s1 s4');
    expect(await page.locator('#state tr[data-sid="5"]').textContent()).toContain('DOWN');
    expect(await page.textContent('#violations .violation')).toContain("s2 established epoch 3 on NEWLEADER ACKs its learners' disks did not back");

    // The screenshot: each server's colour along its own lane, the violation's red in the
    // diagram, and the layout of the reference (a coarse ink grid).
    const png = await page.screenshot();
    writeFileSync(join(OUT, 'viewer.png'), png);
    process.stdout.write(`screenshot: ${join(OUT, 'viewer.png')}\n`);
    const img = readPng(png);
    const box = (await canvas.boundingBox())!;
    const ys = ((await canvas.getAttribute('data-lane-ys')) ?? '').split(',').map(Number);
    expect(ys.length).toBe(5);
    ys.forEach((y, k) => {
      const yy = Math.round(box.y + y);
      const own = countColour(img, serverColour(k + 1), Math.round(box.x), yy - 3, Math.round(box.x + box.width), yy + 4);
      // s2 leads, s1 follows and s3 (a leader of epoch 1 cut off in DISCOVERY) runs through the
      // window (solid lanes); s4 observes (a dotted lane) and s5 is down through it (no lane:
      // only the label), so their colour shows in fewer pixels.
      expect(own, `s${k + 1}'s lane`).toBeGreaterThan([4, 5].includes(k + 1) ? 5 : box.width / 4);
      for (const other of [1, 2, 3, 4, 5].filter((s) => s !== k + 1)) {
        expect(countColour(img, serverColour(other), Math.round(box.x + 60), yy - 1, Math.round(box.x + box.width), yy + 2), `s${other}'s colour on s${k + 1}'s lane`).toBeLessThan(own / 4);
      }
    });
    expect(countColour(img, '#d62728', Math.round(box.x), Math.round(box.y), Math.round(box.x + box.width), Math.round(box.y + box.height))).toBeGreaterThan(100);
    const grid = inkGrid(img, GRID.cols, GRID.rows);
    if (!existsSync(LAYOUT) && process.env['ZABSIM_UPDATE_LAYOUT'] !== '1') throw new Error(`${LAYOUT} is missing: run with ZABSIM_UPDATE_LAYOUT=1 once, look at ${OUT}viewer.png, and commit both`);
    if (process.env['ZABSIM_UPDATE_LAYOUT'] === '1') writeFileSync(LAYOUT, JSON.stringify(grid.map((r) => r.map((c) => (c ? '#' : '.')).join('')), null, 1) + '\n');
    const ref = (JSON.parse(readFileSync(LAYOUT, 'utf8')) as string[]).map((r) => [...r].map((c) => c === '#'));
    let differ = 0;
    for (let r = 0; r < GRID.rows; r++) for (let c = 0; c < GRID.cols; c++) if (grid[r]![c] !== ref[r]![c]) differ++;
    expect(differ, `cells that differ from test/browser/viewer.layout.json (screenshot in ${OUT})`).toBeLessThanOrEqual(Math.round(0.08 * GRID.cols * GRID.rows));
  });

  it('steps by keyboard and slider, and filters by server, message type and zxid', async () => {
    await page.click('#to-violation');
    await page.keyboard.press('ArrowRight');
    expect(await selected()).toBe(1099);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    expect(await selected()).toBe(1097);
    await page.keyboard.press('Shift+ArrowLeft');
    expect(await selected()).toBe(997);
    await page.keyboard.press('End');
    expect(await selected()).toBe(1211);
    await page.keyboard.press('Home');
    expect(await selected()).toBe(0);
    await page.keyboard.press('v');
    expect(await selected()).toBe(1098);
    await page.locator('#slider').fill('100');
    expect(await selected()).toBe(100);

    // A zxid filter: stepping visits only the records about <2,5>.
    await page.fill('#filter-zxid', '<2,5>');
    await page.click('#first');
    const seen: string[] = [];
    for (let k = 0; k < 6; k++) {
      await page.click('#next');
      seen.push((await page.textContent('#events .row.sel')) ?? '');
    }
    for (const row of seen) expect(row).toContain('<2,5>');
    await page.fill('#filter-zxid', '');

    // A message-type filter hides those arrows; a server filter hides the lane's messages.
    await page.click('#to-violation');
    const all = Number(await page.getAttribute('#diagram', 'data-arrows'));
    await page.locator('#filter-types input[data-type="NOTIFICATION"]').uncheck();
    await page.locator('#filter-types input[data-type="ACK"]').uncheck();
    const fewer = Number(await page.getAttribute('#diagram', 'data-arrows'));
    expect(fewer).toBeLessThan(all);
    await page.locator('#filter-servers input[data-sid="2"]').uncheck();
    expect(Number(await page.getAttribute('#diagram', 'data-arrows'))).toBe(0);
    expect(errors).toEqual([]);
    expect(offsite).toEqual([]);
  });

  it('a trace with no records, and one cut before its summary, open without a script error', async () => {
    // A run always starts its servers before it ends, so a trace with no records is the header
    // line alone (what a run stopped before its first event leaves).
    const empty = cli('run', '--until', '2', '--start-spread', '1', '--json').out.split('\n')[0] + '\n';
    await open(buildViewerHtml(parseTrace(empty, 'empty.jsonl')), 'empty.html');
    expect(await page.textContent('#position')).toBe('empty trace');
    expect(await page.textContent('#events')).toBe('The trace has no records.');
    const cut = flawTrace().split('\n').slice(0, 300).join('\n') + '\n';
    await open(buildViewerHtml(parseTrace(cut, 'cut.jsonl')), 'cut.html');
    expect(await page.textContent('#verdict')).toBe('no summary: the trace ends early');
    await page.keyboard.press('End');
    expect(await selected()).toBe(298);
    expect(errors).toEqual([]);
  });

  it("the results folder of the issue's command: its trace.html shows the run, its index shows the plots", async () => {
    // Exactly `npx zabsim run --seed 7 --servers 5 --clients 4 --crash-every 8s --until 60s --out results/`,
    // from source (dist/ may be older), in a fresh folder.
    const cwd = join(dir, 'issue');
    mkdirSync(cwd);
    const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href;
    const args = ['run', '--seed', '7', '--servers', '5', '--clients', '4', '--crash-every', '8s', '--until', '60s', '--out', 'results/'];
    const r = spawnSync(process.execPath, ['--import', tsx, join(ROOT, 'test/cli/entry.ts'), ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
    expect(r.status, r.stderr).toBe(0);
    const folder = join(cwd, 'results', 'latest');
    const trace = parseTrace(readFileSync(join(folder, 'trace.jsonl'), 'utf8'), 'trace.jsonl');
    expect(JSON.parse(readFileSync(join(folder, 'meta.json'), 'utf8'))).toMatchObject({ argv: args });
    await page.goto(`file://${join(folder, 'trace.html')}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 0 });
    const canvas = page.locator('#diagram');
    expect(await canvas.getAttribute('data-lanes')).toBe('5');
    expect(await page.textContent('#verdict')).toContain('checks: PASSED');
    expect(await page.locator('#state tr[data-sid]').count()).toBe(5);
    await page.keyboard.press('End');
    expect(await selected()).toBe(trace.records.length - 1);
    // Half way, a leader is established and messages cross the window.
    await page.locator('#slider').fill(String(Math.floor(trace.records.length / 2)));
    expect(Number(await canvas.getAttribute('data-arrows'))).toBeGreaterThan(0);
    expect(await page.locator('#state').textContent()).toContain('LEADING');
    const png = await page.screenshot();
    writeFileSync(join(OUT, 'results-trace.png'), png);
    process.stdout.write(`screenshot: ${join(OUT, 'results-trace.png')}\n`);
    // The index: both plots load as images, and it links the viewer.
    await page.goto(`file://${join(folder, 'index.html')}`);
    const widths = await page.evaluate(() => [...document.images].map((i) => i.naturalWidth));
    expect(widths).toEqual([900, 900]);
    expect(await page.locator('a[href="trace.html"]').count()).toBeGreaterThan(0);
    writeFileSync(join(OUT, 'results-index.png'), await page.screenshot({ fullPage: true }));
    expect(errors).toEqual([]);
    expect(offsite).toEqual([]);
  });

  it('a 100k-record trace stays a few hundred DOM nodes and answers jumps', async () => {
    const r = cli('run', '--seed', '7', '--servers', '5', '--clients', '8', '--ops-per-sec', '40', '--until', '30s', '--json');
    const trace = parseTrace(r.out, 'big.jsonl');
    expect(trace.records.length).toBeGreaterThan(100_000);
    const t0 = performance.now();
    await open(buildViewerHtml(trace), 'big.html');
    const loaded = performance.now() - t0;
    const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
    expect(nodes).toBeLessThan(1500);
    const t1 = performance.now();
    await page.keyboard.press('End');
    expect(await selected()).toBe(trace.records.length - 1);
    await page.locator('#slider').fill(String(Math.floor(trace.records.length / 2)));
    expect(await selected()).toBe(Math.floor(trace.records.length / 2));
    await page.keyboard.press('Shift+ArrowLeft');
    expect(await selected()).toBe(Math.floor(trace.records.length / 2) - 100);
    const jumps = performance.now() - t1;
    expect(Number(await page.getAttribute('#diagram', 'data-arrows'))).toBeGreaterThan(0);
    // Timings are printed, never asserted (a busy machine is slower, not wrong).
    process.stdout.write(`100k page: ${trace.records.length} records, ${nodes} DOM nodes, loaded in ${Math.round(loaded)} ms, 3 jumps in ${Math.round(jumps)} ms\n`);
    expect(errors).toEqual([]);
  });
});
