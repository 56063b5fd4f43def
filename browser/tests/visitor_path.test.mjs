// The visitor's path to an NDA document, counted in clicks: from the home page to the downloaded
// file takes 6 clicks for a visitor whose company is on the auto-approve list (it took 8 before
// the home page offered the request and before signing the NDA signed them in):
//
//   1. "Request access" on the home page        4. tick "I have read this agreement"
//   2. "Request access" (the form; typing is     5. "Sign the agreement": approved by the rule,
//      not counted, "All NDA documents" is          signed in, and on "Your documents"
//      ticked already)                           6. "Download"
//   3. "Confirm my email address", on the page
//      the emailed link opens (opening the mail and its link is the one step outside the site)
//
// Run at 1280 px and at 375 px (no sideways scroll on any page of the path), with axe on the
// pages of the path. A visitor at a free-mail address is told on the page that a person will
// review the request.
//
// The server has no mail server (browser/run.sh), so mail waits in its outbox: the test reads
// the emailed link from there, and sets the auto-approve rule, in the server's SQLite database
// (python3's sqlite3, as the Python test services need python3 anyway).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { launch, url, pathOf, assertNoSeriousAxeViolations } from './helpers.mjs';

const DATA = process.env.CANDOR_BROWSER_DATA;
const CUSTOMER = 'browser-customer.example';

/** Runs one SQL statement with parameters on the server's database; returns its rows. */
function sql(statement, params = []) {
  assert.ok(DATA, "CANDOR_BROWSER_DATA (the server's data directory) is set by browser/run.sh");
  const script = [
    'import json, sqlite3, sys',
    'c = sqlite3.connect(sys.argv[1], timeout=10)',
    'rows = c.execute(sys.argv[2], json.loads(sys.argv[3])).fetchall()',
    'c.commit()',
    'print(json.dumps(rows))',
  ].join('\n');
  const out = execFileSync('python3', ['-c', script, path.join(DATA, 'candor.db'), statement, JSON.stringify(params)]);
  return JSON.parse(out.toString());
}

/** The newest confirmation link mailed to `email`, waiting up to 10 s for it. */
async function verifyLink(email) {
  for (let i = 0; i < 100; i++) {
    const rows = sql("SELECT body_text FROM outbox WHERE recipient = ? AND purpose = 'access-verify' ORDER BY id DESC LIMIT 1", [email]);
    const link = rows[0]?.[0].match(/https?:\/\/\S+\/documents\/verify\/\S+/)?.[0];
    if (link) return link;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no confirmation link was queued for ${email}`);
}

/** The form rate limits are per address, and every request here comes from 127.0.0.1. */
function forgetRateLimits() {
  sql('DELETE FROM rate_limits');
}

let browser;
before(async () => {
  sql(
    "INSERT INTO org_settings (org_id, key, value) SELECT id, 'access.auto_approve', ? FROM orgs ORDER BY id LIMIT 1 " +
      'ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value',
    [CUSTOMER],
  );
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Fails when the page scrolls sideways at the context's width. */
async function assertNoSidewaysScroll(page, where) {
  const m = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth }));
  assert.ok(m.scroll <= m.width, `${where} scrolls sideways: ${m.scroll}px of content in ${m.width}px`);
}

for (const [label, viewport] of [['1280px', { width: 1280, height: 900 }], ['375px', { width: 375, height: 740 }]]) {
  test(`visitor path ${label}: home page to downloaded NDA document in 6 clicks`, { timeout: 120_000 }, async (t) => {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    const page = await context.newPage();
    const clicks = [];
    const click = async (what, locator) => {
      clicks.push(what);
      await locator.click();
    };
    const check = async (where) => {
      await assertNoSidewaysScroll(page, `${where} at ${label}`);
      await assertNoSeriousAxeViolations(t, page, `${where} at ${label}`);
    };
    const email = `reviewer-${label}@${CUSTOMER}`;
    try {
      forgetRateLimits();
      await page.goto(url('/'));
      await check('the home page');
      await click('Request access (home)', page.getByRole('main').getByRole('link', { name: 'Request access' }));
      assert.equal(pathOf(page), '/documents/request');
      await check('the request form');
      await page.getByLabel('Full name').fill('Robin Reviewer');
      await page.getByLabel('Work email').fill(email);
      await page.getByLabel('Company').fill('Browser Customer');
      assert.ok(await page.getByLabel('All NDA documents').isChecked(), 'every NDA document is asked for by default');
      await click('Request access (form)', page.getByRole('button', { name: 'Request access' }));
      await page.getByRole('heading', { name: 'Check your email' }).waitFor();

      // The one step outside the site: open the mail and its link.
      await page.goto(await verifyLink(email));
      await check('the confirmation page');
      await click('Confirm my email address', page.getByRole('button', { name: 'Confirm my email address' }));
      assert.equal(pathOf(page), '/documents/nda');
      await check('the NDA page');
      await page.getByLabel('Type your full name to sign').fill('Robin Reviewer');
      await click('I have read this agreement', page.getByLabel('I have read this agreement'));
      await click('Sign the agreement', page.getByRole('button', { name: 'Sign the agreement' }));

      // Signed in at once, on their documents.
      assert.equal(pathOf(page), '/viewer?welcome=approved');
      await page.getByRole('heading', { level: 1, name: 'Your documents' }).waitFor();
      assert.ok(await page.getByText(`Signed in as ${email}`).isVisible());
      await check('the documents page');
      const download = page.waitForEvent('download');
      await click('Download', page.getByRole('main').getByRole('link', { name: 'Download' }).first());
      const file = await download;
      assert.match(file.suggestedFilename(), /\.pdf$/, 'the NDA document is downloaded');
      assert.equal(await file.failure(), null);

      assert.deepEqual(clicks.length, 6, `clicks from the home page to the file: ${clicks.join(' → ')}`);
      t.diagnostic(`${clicks.length} clicks: ${clicks.join(' → ')}`);
    } finally {
      await context.close();
    }
  });
}

test('a visitor at a free-mail address is told a person will review the request', { timeout: 60_000 }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  try {
    forgetRateLimits();
    await page.goto(url('/documents/request'));
    await page.getByLabel('Full name').fill('Free Mailer');
    await page.getByLabel('Work email').fill('free.mailer@gmail.com');
    await page.getByLabel('Company').fill('Somewhere');
    await page.getByRole('button', { name: 'Request access' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    const text = await page.getByRole('main').innerText();
    assert.match(text, /gmail\.com is a free email service, so your request cannot be approved automatically/);
    await assertNoSidewaysScroll(page, 'the free-mail answer at 375px');
    await assertNoSeriousAxeViolations(t, page, 'the free-mail answer');
  } finally {
    await context.close();
  }
});
