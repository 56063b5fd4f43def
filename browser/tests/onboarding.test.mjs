// First start in the browser: the setup page asks "keep the demo or start blank"; starting blank
// leads the owner to their profile's form, and the new pages pass axe. This test starts its own
// demo server (its own data directory and port), so the shared demo server of the other tests
// keeps its demo and its setup link.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { REPO_ROOT, launch, assertNoSeriousAxeViolations } from './helpers.mjs';

const BIN = path.join(process.env.CARGO_TARGET_DIR || path.join(REPO_ROOT, 'target'), 'debug', 'candor');
const EMAIL = 'blank-owner@brightwater.example';
const PASSWORD = 'a long enough password for the blank start';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

let server, work, base, setupPath, browser;
before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'candor-onboarding-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CANDOR_')));
  Object.assign(env, { CANDOR_LISTEN: `127.0.0.1:${port}`, CANDOR_PUBLIC_URL: base, CANDOR_LOG_FORMAT: 'json' });
  server = spawn(BIN, ['serve'], { cwd: work, env, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  setupPath = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no setup link within 60 s:\n${out}`)), 60_000);
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/https?:\/\/[^\s]*(\/admin\/setup\/[A-Za-z0-9_-]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`candor exited (${code}):\n${out}`)));
  });
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(base + '/readyz')).status === 200) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.kill();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('setup offers a blank start, which leads to the profile form', { timeout: 120_000 }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  const res = await page.goto(base + setupPath);
  assert.equal(res.status(), 200, 'the setup link opens its form');
  const keep = page.getByLabel('Keep the demo to look around first');
  const blank = page.getByLabel(/Start blank/);
  assert.ok(await keep.isChecked(), 'keeping the demo is the default');
  assert.ok(!(await blank.isChecked()));
  await assertNoSeriousAxeViolations(t, page, 'setup page with the start choice');

  await page.getByLabel('Your name').fill('Bea Blank');
  await page.getByLabel('Email (you sign in with it)').fill(EMAIL);
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByLabel('Confirm password').fill(PASSWORD);
  await blank.check();
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.waitForURL((u) => u.pathname === '/admin/login');

  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: /Sign in/ }).click();
  await page.waitForURL((u) => u.pathname === '/admin/content/profile/new');
  await assertNoSeriousAxeViolations(t, page, 'the profile form after a blank start');

  const home = await (await fetch(base + '/')).text();
  assert.ok(!home.includes('Corvellan'), 'the demo is gone from the public site');
  for (const p of ['/admin/logo', '/admin/demo/remove']) {
    const r = await page.goto(base + p);
    assert.equal(r.status(), 200, `GET ${p}`);
    await assertNoSeriousAxeViolations(t, page, p);
  }
  await context.close();
});
