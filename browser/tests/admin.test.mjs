// The owner sets a password through the one-time setup link, signs in, previews an edit to a
// security control (nothing published), then saves and publishes it and sees it on the public site.
// Then, signed in with that same session, axe-core checks the back-office pages in light and dark
// colour schemes (no serious or critical violations). Last, the owner adds a passkey with
// Chromium's virtual authenticator (driven over the DevTools protocol) and signs in with it alone.
//
// The setup link works once, so it is used by this file's first test and nowhere else; the tests
// after it reuse its signed-in session (node --test runs a file's top-level tests in order).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, url, pathOf, BASE, assertNoSeriousAxeViolations } from './helpers.mjs';

const SETUP_LINK = process.env.CANDOR_SETUP_LINK || '';
const EMAIL = 'owner@corvellan.example';
const PASSWORD = 'correct-horse-battery-staple-42';
const CONTROL = '/admin/content/control/encryption-in-transit';
const PUBLIC_PAGE = '/s/encryption';

/**
 * Back-office pages checked with axe once signed in. /admin/mfa only shows the enrolment QR code:
 * the tests never enrol (that would ask for a TOTP code at the next sign-in).
 */
const ADMIN_PAGES = [
  '/admin',
  '/admin/content/control',
  CONTROL,
  `${CONTROL}/history`,
  '/admin/content/faq/new',
  '/admin/users',
  '/admin/tokens',
  '/admin/audit',
  '/admin/sessions',
  '/admin/password',
  '/admin/mfa',
  '/admin/passkeys',
  '/admin/documents',
  '/admin/documents/new',
  '/admin/access-requests',
  '/admin/grants',
  '/admin/access-settings',
  '/admin/access-log',
  '/admin/engagement',
  '/admin/status',
  '/admin/status/incidents',
  '/admin/status/incidents/new',
  '/admin/status/maintenance',
  '/admin/status/maintenance/new',
  '/admin/subscribers',
  '/admin/webhooks',
];

/** The signed-in owner's cookies (Playwright storage state), kept by the first test. */
let signedIn = null;

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/**
 * Which of `phrases` are visible on public page `p` to a signed-out visitor, in a fresh context
 * (no cookies, and no cached copy: public pages are sent with max-age=60).
 */
async function visibleOnPublicPage(p, phrases) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const res = await page.goto(url(p));
    assert.equal(res.status(), 200, `GET ${p} should answer 200`);
    const seen = {};
    for (const phrase of phrases) {
      const hit = page.locator('main').getByText(phrase);
      seen[phrase] = (await hit.count()) > 0 && (await hit.first().isVisible());
    }
    return seen;
  } finally {
    await context.close();
  }
}

test('admin: set the owner password, sign in, preview, then save and publish a control', { timeout: 120_000 }, async () => {
  assert.ok(SETUP_LINK, 'CANDOR_SETUP_LINK is not set: run with `bash browser/run.sh`');
  // The link is printed with the server's public URL; use it on the address under test.
  const setup = new URL(SETUP_LINK);
  assert.match(setup.pathname, /^\/admin\/setup\/[^/]+$/, `the setup link looks like /admin/setup/<token>: ${SETUP_LINK}`);

  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const previewPhrase = `Preview phrase ${stamp} not for publishing`;
  const publishPhrase = `Browser test phrase ${stamp} published`;

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  try {
    // 0. A mail scanner opens the link first, several times, with GET and HEAD: that uses nothing.
    for (let i = 0; i < 3; i++) {
      for (const method of ['GET', 'HEAD']) {
        const scanned = await fetch(BASE + setup.pathname, { method, redirect: 'manual' });
        assert.equal(scanned.status, 200, `a scanner's ${method} of the setup link answers 200`);
      }
    }

    // 1. Set the owner's name, email and password through the setup link.
    let res = await page.goto(BASE + setup.pathname);
    assert.equal(res.status(), 200, 'the setup link opens its form');
    await page.getByLabel('Your name').fill('Olivia Owner');
    await page.getByLabel('Email (you sign in with it)').fill(EMAIL);
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Save password' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/login');
    assert.equal(new URL(page.url()).pathname, '/admin/login', 'after setting the password the owner is sent to sign in');
    // The link worked once: opened again, it says so.
    const again = await fetch(BASE + setup.pathname);
    assert.equal(again.status, 400, 'the used setup link is refused');
    assert.match(await again.text(), /This link was used already/);

    // 2. Sign in.
    await page.getByLabel('Email', { exact: true }).fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/admin') && u.pathname !== '/admin/login');
    assert.equal(await page.locator('.error-summary').count(), 0, 'sign-in shows no error');
    signedIn = await context.storageState();

    // 3. Open the "Encryption in transit" control.
    res = await page.goto(url(CONTROL));
    assert.equal(res.status(), 200, `GET ${CONTROL} should answer 200 when signed in`);
    assert.equal(pathOf(page), CONTROL, 'the editor is not a redirect to sign-in');
    const body = page.locator('textarea[name="body"]');
    assert.equal(await body.count(), 1, 'the editor has one body textarea');
    assert.equal((await page.getByRole('textbox', { name: 'Description', exact: true }).getAttribute('name')), 'body', 'the Description field is the body textarea');
    const original = await body.inputValue();
    assert.ok(original.length > 0, 'the control has a description to edit');

    // 4. Preview: the preview section shows the change, nothing is published.
    await body.fill(`${original}\n\n${previewPhrase}.`);
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.waitForLoadState('load');
    const preview = page.getByRole('region', { name: 'Preview (not saved)' });
    await preview.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await preview.innerText(), new RegExp(previewPhrase), 'the preview shows the edited description');
    assert.ok(await preview.isVisible(), 'the "Preview (not saved)" section is visible');
    assert.equal((await visibleOnPublicPage(PUBLIC_PAGE, [previewPhrase]))[previewPhrase], false,
      `a preview does not publish the change: ${PUBLIC_PAGE} must not show "${previewPhrase}"`);

    // 5. Save and publish.
    const bodyAfterPreview = page.locator('textarea[name="body"]');
    await bodyAfterPreview.fill(`${original}\n\n${publishPhrase}.`);
    await page.getByRole('button', { name: 'Save and publish' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.locator('.error-summary').count(), 0,
      `saving shows no error: ${await page.locator('.error-summary').allInnerTexts()}`);
    assert.equal(await page.getByRole('region', { name: 'Preview (not saved)' }).count(), 0, 'publishing is not a preview');

    // 6. The public page shows the published phrase (and not the previewed one).
    const seen = await visibleOnPublicPage(PUBLIC_PAGE, [publishPhrase, previewPhrase]);
    assert.equal(seen[publishPhrase], true, `${PUBLIC_PAGE} shows the published phrase "${publishPhrase}"`);
    assert.equal(seen[previewPhrase], false, `${PUBLIC_PAGE} does not show the previewed phrase`);
  } finally {
    await context.close();
  }
});

test('status: add a component, open an incident on it, and see the incident in the list', { timeout: 120_000 }, async () => {
  assert.ok(signedIn, 'the sign-in test above did not get as far as signing in');
  const context = await browser.newContext({ storageState: signedIn, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const title = `Checkout errors ${Date.now().toString(36)}`;
  try {
    // The back office's navigation leads to the status page.
    await page.goto(url('/admin'));
    await page.getByRole('navigation', { name: 'Back office' }).getByRole('link', { name: 'Status', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/admin/status');

    // A component to affect.
    await page.getByLabel('Name', { exact: true }).fill('Checkout');
    await page.getByRole('button', { name: 'Add component' }).click();
    await page.waitForURL((u) => u.search.includes('notice=component-added'));
    assert.ok(await page.getByRole('rowheader', { name: 'Checkout' }).isVisible(), 'the component is listed');

    // A new incident: an empty message is refused at its field, then it opens.
    await page.getByRole('link', { name: 'Incidents and security notices' }).click();
    await page.getByRole('link', { name: 'New incident' }).click();
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Impact').selectOption('major');
    await page.getByLabel('Checkout').selectOption('partial_outage');
    await page.getByRole('button', { name: 'Open it' }).click();
    await page.waitForLoadState('load');
    const summary = page.locator('.error-summary');
    assert.match(await summary.innerText(), /Message: write what is happening/, 'the missing message is named as the form labels it');
    assert.equal(await page.getByLabel('Checkout').inputValue(), 'partial_outage', 'the choices are kept');
    await page.getByLabel('Message').fill('Some payments fail. We are **investigating**.');
    await page.getByRole('button', { name: 'Open it' }).click();
    await page.waitForURL((u) => /^\/admin\/status\/incidents\/\d+$/.test(u.pathname));
    assert.ok(await page.getByRole('heading', { name: title, level: 1 }).isVisible(), 'the incident page shows its title');
    assert.ok(await page.locator('.timeline .prose strong', { hasText: 'investigating' }).first().isVisible(), 'the message is on the timeline, Markdown rendered');

    // The list shows it among the open ones.
    await page.goto(url('/admin/status/incidents'));
    const open = page.getByRole('table', { name: 'Open incidents and notices' });
    assert.ok(await open.getByRole('link', { name: title }).isVisible(), `"${title}" is listed as open`);
    // And the component shows the incident's status.
    await page.goto(url('/admin/status'));
    assert.ok(await page.getByRole('row', { name: /Checkout/ }).getByText('Partial outage').first().isVisible(), 'the component is in partial outage');
  } finally {
    await context.close();
  }
});

// Signed in as the owner (the session of the test above), two pages at a time.
describe('axe-core on the back office (signed in), no serious or critical violations', { concurrency: 2 }, () => {
  const contexts = {};
  before(async () => {
    assert.ok(signedIn, 'the sign-in test above did not get as far as signing in');
    for (const scheme of ['light', 'dark']) {
      contexts[scheme] = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 800 }, storageState: signedIn });
    }
  });
  after(async () => {
    for (const c of Object.values(contexts)) await c.close();
  });

  for (const scheme of ['light', 'dark']) {
    for (const p of ADMIN_PAGES) {
      test(`axe ${scheme}: ${p} (signed in)`, { timeout: 60_000 }, async (t) => {
        const page = await contexts[scheme].newPage();
        try {
          const res = await page.goto(url(p), { waitUntil: 'load' });
          assert.equal(res.status(), 200, `GET ${p} should answer 200 when signed in`);
          assert.equal(pathOf(page), p, `GET ${p} is not a redirect (to sign-in or elsewhere)`);
          const matches = await page.evaluate(() => window.matchMedia('(prefers-color-scheme: dark)').matches);
          assert.equal(matches, scheme === 'dark', `the page should see prefers-color-scheme: ${scheme}`);
          await assertNoSeriousAxeViolations(t, page, `${p} (${scheme}, signed in)`);
        } finally {
          await page.close();
        }
      });
    }
  }
});

test('passkeys: add one with a virtual authenticator, then sign in with it and no password', { timeout: 120_000 }, async () => {
  assert.ok(signedIn, 'the sign-in test above did not get as far as signing in');
  const context = await browser.newContext({ storageState: signedIn });
  const page = await context.newPage();
  try {
    // A platform authenticator that keeps discoverable credentials and verifies the user.
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
        isUserVerified: true, automaticPresenceSimulation: true,
      },
    });

    let res = await page.goto(url('/admin/passkeys'));
    assert.equal(res.status(), 200);
    await page.getByLabel('Name it after the device or password manager').fill('Test laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL((u) => u.search.includes('notice=passkey-added'), { timeout: 20_000 });
    assert.ok(await page.getByRole('rowheader', { name: 'Test laptop' }).isVisible(), 'the new passkey is listed');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'the authenticator holds one credential');
    assert.ok(credentials[0].isResidentCredential, 'it is discoverable, so it can sign in without a username');

    // Signed out, then back in with the passkey alone: no email, no password.
    await context.clearCookies();
    res = await page.goto(url('/admin/login'));
    assert.equal(res.status(), 200);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL((u) => u.pathname === '/admin', { timeout: 20_000 });
    assert.ok(await page.getByText(EMAIL).first().isVisible(), 'signed in as the owner');

    // Remove it again, so a later password sign-in is not asked for a second step.
    await page.goto(url('/admin/passkeys'));
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.waitForURL((u) => u.search.includes('notice=passkey-removed'));
  } finally {
    await context.close();
  }
});
