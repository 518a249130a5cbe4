// The status page of an exporter with 10,000 servers, in Debian's headless Chromium:
//   node status_page_scale.test.mjs BASE_URL SCREENSHOT.png EXPECT.json
// EXPECT.json: { total, pools, deepServer }. Asserts that the page renders its first page within
// Playwright's default timeouts, keeps far fewer than 10,000 rows in the DOM, pages, filters and
// searches the whole set, and survives auto-refreshes of it. No wall-clock assertions: the
// timings printed are for the reader.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, makeRunner, refreshCount, visibleRows, waitForRefreshes, watchPage } from './lib.mjs';

const [base, screenshot, expectPath] = process.argv.slice(2);
if (!base || !screenshot || !expectPath) {
  console.error('usage: node status_page_scale.test.mjs BASE_URL SCREENSHOT.png EXPECT.json');
  process.exit(2);
}
const expected = JSON.parse(await readFile(expectPath, 'utf8'));
const fmt = (n) => n.toLocaleString('en-US');
const run = makeRunner();
const browser = await launch();
const { page } = browser;
const problems = watchPage(page, base);
const rowCount = () => page.locator('#groups tr.row').count();
const search = () => page.getByRole('searchbox', { name: 'Search' });

try {
  await run.step(`first page of ${fmt(expected.total)} servers renders; the DOM holds one page`, async () => {
    const t0 = Date.now();
    await page.goto(base + '/');
    await waitForRefreshes(page, 1);
    console.log(`     first render ${Date.now() - t0} ms after navigation (not asserted)`);
    const totals = await page.locator('#totals').textContent();
    assert.ok(totals.startsWith(`${fmt(expected.total)} servers in ${expected.pools} pools`), totals);
    assert.equal(await rowCount(), 100);
    const elements = await page.evaluate(() => document.getElementsByTagName('*').length);
    console.log(`     ${elements} DOM elements for ${fmt(expected.total)} servers`);
    assert.ok(elements < 5000, `${elements} elements in the DOM`);
    assert.equal(await page.locator('#pager-top .info').textContent(),
      `Showing 1\u2013100 of ${fmt(expected.total)} matching servers`);
  });

  await run.step('pages through all of them', async () => {
    await page.locator('#pager-top').getByRole('button', { name: 'Last page' }).click();
    const last = Math.ceil(expected.total / 100);
    assert.equal(await page.locator('#pager-top .pos').textContent(), `Page ${last} of ${fmt(last)}`);
    assert.equal(await page.locator('#pager-top .info').textContent(),
      `Showing ${fmt(expected.total - 99)}\u2013${fmt(expected.total)} of ${fmt(expected.total)} matching servers`);
    assert.equal(await rowCount(), 100);
    assert.match(page.url(), new RegExp(`#page=${last}$`));
    await page.locator('#pager-top').getByRole('button', { name: 'Previous page' }).click();
    assert.match(page.url(), new RegExp(`#page=${last - 1}$`));
    // Page 90 of 100: rows 8,901-9,000 of the 9,000-server group, whose last page it is.
    await page.evaluate(() => { location.hash = 'page=90'; });
    await page.waitForFunction(() => document.querySelector('#pager-top .pos').textContent === 'Page 90 of 100');
    assert.equal(await page.locator('section.group .gnote').first().textContent(),
      'rows 8,901\u20139,000 of 9,000 matching \u00B7 continued from the previous page');
    await page.evaluate(() => { location.hash = 'page=50'; });
    await page.waitForFunction(() => document.querySelector('#pager-top .pos').textContent === 'Page 50 of 100');
    assert.equal(await page.locator('section.group .gnote').first().textContent(),
      'rows 4,901\u20135,000 of 9,000 matching \u00B7 continued from the previous page \u00B7 continues on the next page');
    await page.locator('#pager-bottom').getByRole('button', { name: 'First page' }).click();
    assert.ok(!page.url().includes('#'), page.url());
    // The big group spans pages: its header says which part is shown.
    assert.match(await page.locator('section.group .gnote').first().textContent(),
      /^rows 1\u2013100 of 9,000 matching \u00B7 continues on the next page$/);
  });

  await run.step('search finds one server deep in the big pool', async () => {
    await search().fill(expected.deepServer);
    await page.waitForFunction(() => document.querySelectorAll('#groups tr.row').length === 1);
    const [row] = await visibleRows(page);
    assert.equal(row.server, expected.deepServer);
    assert.equal(await page.locator('section.group .gnote').textContent(), '1 of 9,000 shown (filtered)');
    await search().fill('');
    await page.waitForFunction(() => document.querySelectorAll('#groups tr.row').length === 100);
  });

  await run.step('state filters work over the whole set', async () => {
    for (const [name, state] of [['Unknown', 'unknown'], ['Unhealthy', 'unhealthy'], ['Healthy', 'healthy']]) {
      await page.getByRole('radio', { name: new RegExp('^' + name) }).check();
      const n = Number((await page.locator(`[data-count="${state}"]`).textContent()).replace(/,/g, ''));
      const rows = await visibleRows(page);
      assert.equal(rows.length, Math.min(n, 100), name);
      assert.ok(rows.every((r) => r.state === state), name);
      console.log(`     ${name}: ${fmt(n)}`);
    }
    await page.getByRole('radio', { name: /^All/ }).check();
  });

  await run.step('500 rows per page is the most the DOM ever holds', async () => {
    await page.getByRole('combobox', { name: 'Rows per page' }).selectOption('500');
    assert.equal(await rowCount(), 500);
    assert.match(page.url(), /#size=500$/);
    await page.getByRole('combobox', { name: 'Rows per page' }).selectOption('100');
  });

  await run.step('stays responsive through auto-refreshes of the whole document', async () => {
    const n = await refreshCount(page);
    await waitForRefreshes(page, n + 2);
    await search().fill('pool-07');
    await page.waitForFunction(() => document.querySelectorAll('#groups tr.row').length === 50);
    const row = page.locator('#groups tr.row').first();
    await row.locator('button.tog').click();
    assert.equal(await page.locator('tr.more').count(), 1);
    await waitForRefreshes(page, n + 3);
    assert.equal(await page.locator('tr.more').count(), 1, 'expanded row kept');
    assert.equal(await rowCount(), 50);
    await page.screenshot({ path: screenshot });
    console.log('     screenshot: ' + screenshot);
  });

  await run.step('no script errors, console errors or requests outside the exporter', async () => {
    assert.deepEqual(problems, []);
  });
} catch (e) {
  // reported by the step runner
} finally {
  await browser.close();
}
process.exit(run.finish() ? 0 : 1);
