// A signed-in viewer in a browser: after following their emailed sign-in link, the public pages
// show them the NDA-only control (labelled "Confidential"), "Download" for the document their
// grant covers and a "Your documents" link; a visitor without the session sees none of it. axe
// (serious or critical fail) on the viewer's pages, light and dark.
//
// There is no mail server in the browser run, so the approval is written into the server's
// database by crates/candor-web/examples/viewer_seed.rs, which prints the sign-in link's path.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { launch, url, REPO_ROOT, assertNoSeriousAxeViolations } from './helpers.mjs';

const DATA = process.env.CANDOR_BROWSER_DATA;
const NDA_CONTROL = 'Latest penetration test results';
const NDA_DOC = 'soc-2-type-ii-report';

/** Builds (when missing) and runs the seeding example; returns the sign-in link's path. */
function approveViewer(email, documents) {
  assert.ok(DATA, 'CANDOR_BROWSER_DATA (the server\'s data directory) is set by browser/run.sh');
  const target = process.env.CARGO_TARGET_DIR || path.join(REPO_ROOT, 'target');
  const bin = path.join(target, 'debug', 'examples', 'viewer_seed');
  if (!existsSync(bin)) {
    execFileSync('cargo', ['build', '-q', '-p', 'candor-web', '--example', 'viewer_seed'], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  const out = execFileSync(bin, [`sqlite://${path.join(DATA, 'candor.db')}`, email, ...documents], { encoding: 'utf8' });
  return out.trim();
}

let browser;
let loginPath;
before(async () => {
  loginPath = approveViewer('reader@browser-buyer.example', [NDA_DOC]);
  assert.match(loginPath, /^\/viewer\/login\/[A-Za-z0-9_-]+$/);
  browser = await launch();
}, { timeout: 600_000 });
after(async () => {
  await browser?.close();
});

test('viewer: a signed-in viewer sees Download and the confidential control; a visitor does not', { timeout: 120_000 }, async (t) => {
  const visitor = await browser.newContext();
  const viewer = await browser.newContext();
  try {
    const anon = await visitor.newPage();
    await anon.goto(url('/s/secure-development'));
    assert.equal(await anon.getByText(NDA_CONTROL).count(), 0, 'a visitor does not see the NDA-only control');
    await anon.goto(url('/documents'));
    const request = anon.locator(`a[href="/documents/request?documents=${NDA_DOC}"]`);
    assert.equal(await request.count(), 1, 'a visitor is offered Request access');
    assert.equal(await anon.getByRole('link', { name: 'Your documents' }).count(), 0);

    // The emailed link: a page with one button, which signs in.
    const page = await viewer.newPage();
    await page.goto(url(loginPath));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(url('/viewer'));

    // From their own page, the header's Controls link and the overview lead to the section.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Controls' }).click();
    await page.waitForURL(url('/controls'));
    await page.getByRole('link', { name: NDA_CONTROL }).click();
    await page.waitForURL(url('/s/secure-development#pen-test-results'));
    const heading = page.getByRole('heading', { name: `${NDA_CONTROL} Confidential` });
    assert.equal(await heading.count(), 1, 'the control is shown, labelled Confidential in words');
    await assertNoSeriousAxeViolations(t, page, '/s/secure-development (viewer)');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Documents', exact: true }).click();
    await page.waitForURL(url('/documents'));
    const download = page.locator(`a[href="/viewer/documents/${NDA_DOC}"]`);
    assert.equal(await download.count(), 1, 'Download for the covered document');
    assert.match(await download.innerText(), /^Download/);
    assert.equal(await page.locator(`a[href="/documents/request?documents=${NDA_DOC}"]`).count(), 0, 'no Request access for it');
    await assertNoSeriousAxeViolations(t, page, '/documents (viewer)');
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    assert.ok((await file.suggestedFilename()).endsWith('.pdf'));

    await page.getByRole('link', { name: 'Your documents' }).click();
    await page.waitForURL(url('/viewer'));

    // The visitor's browser still sees the public pages.
    await anon.goto(url('/s/secure-development'));
    assert.equal(await anon.getByText(NDA_CONTROL).count(), 0);
  } finally {
    await visitor.close();
    await viewer.close();
  }
});

test('viewer: axe on the viewer\'s pages, light and dark', { timeout: 180_000 }, async (t) => {
  for (const scheme of ['light', 'dark']) {
    const context = await browser.newContext({ colorScheme: scheme });
    try {
      const page = await context.newPage();
      await page.goto(url(approveViewer(`reader-${scheme}@browser-buyer.example`, [])));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(url('/viewer'));
      for (const p of ['/viewer', '/', '/controls', '/s/secure-development', '/compliance', '/documents', '/search?q=penetration']) {
        const res = await page.goto(url(p));
        assert.equal(res.status(), 200, p);
        assert.equal(res.headers()['cache-control'], p === '/viewer' ? 'no-store' : 'private, no-store', p);
        await assertNoSeriousAxeViolations(t, page, `${p} (viewer, ${scheme})`);
      }
    } finally {
      await context.close();
    }
  }
});
