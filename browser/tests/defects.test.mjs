// What a person sees of the defects fixed for issue 12: a public form with errors moves the
// focus to its error summary and ties each error to its field; the back office's user menu
// leads to two-factor sign-in and passkeys; back-office list pages do not scroll sideways on a
// 375 px phone. axe stays at zero serious or critical findings on the pages with errors.
//
// The back office needs a user of this test's own (admin.test.mjs uses the setup link): it is
// added with `candor user add` on the server's database, as an operator would.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { launch, url, REPO_ROOT, assertNoSeriousAxeViolations } from './helpers.mjs';

const DATA = process.env.CANDOR_BROWSER_DATA;
const EMAIL = 'defects-owner@corvellan.example';
const PASSWORD = 'a long password for the defects test';

/** Back-office list pages checked at 375 px. */
const LIST_PAGES = [
  '/admin',
  '/admin/content/control',
  '/admin/users',
  '/admin/tokens',
  '/admin/audit',
  '/admin/sessions',
  '/admin/documents',
  '/admin/access-requests',
  '/admin/grants',
  '/admin/access-log',
  '/admin/status',
  '/admin/status/incidents',
  '/admin/status/monitors',
  '/admin/outbox',
  '/admin/subscribers',
  '/admin/webhooks',
  '/admin/operations',
];

let browser;
let signedIn = null;

/** Adds an owner with the command line on the server's database; returns their setup path. */
function addOwner() {
  assert.ok(DATA, 'CANDOR_BROWSER_DATA is set by browser/run.sh');
  const target = process.env.CARGO_TARGET_DIR || path.join(REPO_ROOT, 'target');
  const bin = path.join(target, 'debug', 'candor');
  const out = execFileSync(bin, ['user', 'add', EMAIL, '--name', 'Dee Fects', '--role', 'owner'], {
    cwd: path.dirname(DATA),
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    encoding: 'utf8',
  });
  const link = out.match(/https?:\/\/\S+\/admin\/reset\/\S+/);
  assert.ok(link, `candor user add printed a setup link: ${out}`);
  return new URL(link[0]).pathname;
}

before(async () => {
  browser = await launch();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url(addOwner()));
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByLabel('Confirm password').fill(PASSWORD);
  const name = page.getByLabel('Your name');
  if (await name.count()) await name.fill('Dee Fects');
  const email = page.getByLabel('Email (you sign in with it)');
  if (await email.count()) await email.fill(EMAIL);
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.waitForURL((u) => u.pathname === '/admin/login');
  await page.getByLabel('Email', { exact: true }).fill(EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.pathname.startsWith('/admin') && u.pathname !== '/admin/login');
  signedIn = await context.storageState();
  await context.close();
});
after(async () => {
  await browser?.close();
});

test('a public form with errors: focus on the summary, each error tied to its field', { timeout: 60_000 }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  try {
    await page.goto(url('/documents/request'));
    await page.getByLabel('Full name').fill(' ');
    await page.getByLabel('Work email').fill('not-an-address@');
    await page.getByLabel('Company').fill('Buyer Inc');
    // The browser's own checks would stop the form before the server sees it.
    await page.evaluate(() => { document.querySelector('form.edit-form').noValidate = true; });
    await page.getByRole('button', { name: 'Request access' }).click();
    await page.waitForLoadState('load');
    const summary = page.locator('#error-summary');
    await summary.waitFor({ state: 'visible' });
    const focused = await page.evaluate(() => document.activeElement?.id);
    assert.equal(focused, 'error-summary', 'the error summary has the focus after the page loads');
    assert.match(await summary.innerText(), /Full name: /);
    assert.match(await summary.innerText(), /Work email: /);
    for (const label of ['Full name', 'Work email']) {
      const field = page.getByLabel(label, { exact: true });
      assert.equal(await field.getAttribute('aria-invalid'), 'true', `${label} is marked invalid`);
      const described = await field.getAttribute('aria-describedby');
      const text = await page.locator(`#${described}`).innerText();
      assert.ok(text.length > 0, `${label} is described by its error`);
    }
    assert.equal(await page.getByLabel('Company', { exact: true }).getAttribute('aria-invalid'), null);
    assert.equal(await page.getByLabel('Company', { exact: true }).inputValue(), 'Buyer Inc', 'what was typed is kept');
    // The summary's links lead to the fields.
    await summary.getByRole('link', { name: /Work email/ }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'r-email');
    await assertNoSeriousAxeViolations(t, page, '/documents/request with errors');
  } finally {
    await context.close();
  }
});

test('the user menu leads to two-factor sign-in and passkeys; the users page to the policy', { timeout: 60_000 }, async (t) => {
  const context = await browser.newContext({ storageState: signedIn, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  try {
    await page.goto(url('/admin'));
    const menu = page.getByRole('navigation', { name: 'Your account' });
    await menu.getByRole('link', { name: 'Two-factor sign-in' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/mfa');
    await page.goto(url('/admin'));
    await page.getByRole('navigation', { name: 'Your account' }).getByRole('link', { name: 'Passkeys' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/passkeys');
    await page.goto(url('/admin/users'));
    assert.ok(await page.getByRole('heading', { name: 'Sign-in policy' }).isVisible());
    assert.ok(await page.getByRole('button', { name: 'Require two-factor sign-in' }).isVisible());
    await assertNoSeriousAxeViolations(t, page, '/admin/users');
  } finally {
    await context.close();
  }
});

test('back-office list pages do not scroll sideways at 375 px', { timeout: 180_000 }, async () => {
  const context = await browser.newContext({
    storageState: signedIn,
    viewport: { width: 375, height: 800 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  const failures = [];
  try {
    for (const p of LIST_PAGES) {
      const res = await page.goto(url(p));
      assert.equal(res.status(), 200, `GET ${p}`);
      const m = await page.evaluate(() => {
        const width = document.scrollingElement.clientWidth;
        const wide = [...document.body.querySelectorAll('*')]
          .map((el) => ({ el, right: el.getBoundingClientRect().right }))
          .filter((x) => x.right > width + 0.5)
          .sort((a, b) => b.right - a.right)
          .slice(0, 4)
          .map((x) => `${x.el.tagName.toLowerCase()}${x.el.className && typeof x.el.className === 'string' ? '.' + x.el.className.trim().split(/\s+/).join('.') : ''} (${Math.round(x.right)}px)`);
        // A table that scrolls inside its own box scrolls sideways too.
        const boxes = [...document.querySelectorAll('.table-wrap')]
          .filter((el) => el.scrollWidth > el.clientWidth + 1)
          .length;
        return { scrollWidth: document.scrollingElement.scrollWidth, wide, boxes };
      });
      if (m.scrollWidth > 375 || m.boxes > 0) {
        failures.push(`${p}: page ${m.scrollWidth}px wide, ${m.boxes} table(s) scrolling; widest: ${m.wide.join(', ')}`);
      }
    }
  } finally {
    await context.close();
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});
