/**
 * The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core.
 * Logs in with the token (a wrong one is refused), sees a client connected by the test appear,
 * searches for it, browses retained messages, kicks it (MQTT 5 DISCONNECT 0x98) and saves a
 * screenshot to build/screenshots/dashboard.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { IDisconnectPacket } from 'mqtt';
import { chromium } from 'playwright-core';
import { repoRoot } from '../../bench/lib/repo.js';
import { connect } from '../interop/harness.js';
import { adminBroker, TOKEN } from './admin-broker.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('the dashboard in Chromium: log in, see a client appear, search, browse retained, kick it, save a screenshot', async (t) => {
  const a = await adminBroker(t, ['--node-name', 'dash-node']);
  await a.api('POST', '/api/v1/publish', { topic: 'dash/state', payload: 'all good', retain: true });

  const profile = mkdtempSync(path.join(os.tmpdir(), 'junction-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 1000 } });
  t.after(async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // The refused login's 401 and the bad filter's 400 are the test's own doing; anything else (a CSP violation, a script error, a missing file) is not.
    if (msg.type() === 'error' && !/status of 40[01]/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });

  await page.goto(`${a.base}/`);
  await page.fill('#token', 'not-the-right-token-at-all');
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error')?.textContent === 'The token was not accepted.');
  assert.equal(await page.isHidden('#app'), true);

  await page.fill('#token', TOKEN);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#app', { state: 'visible' });
  await page.waitForFunction(() => document.getElementById('node')?.textContent?.startsWith('dash-node'));

  const device = await connect(t, a.broker.url, { clientId: 'dash-dev-1', username: 'dash-user', protocolVersion: 5 });
  const kicked = new Promise<IDisconnectPacket>((resolve) => device.once('disconnect', resolve));
  const row = page.locator('#clients tr[data-client-id="dash-dev-1"]');
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  const cells = async (rows: ReturnType<typeof page.locator>): Promise<string> => (await rows.locator('td').allTextContents()).join(' | ');
  assert.match(await cells(row), /^dash-dev-1 \| dash-user \| mqtt 5 \/ tcp \| 127\.0\.0\.1:\d+ \| /);
  await page.waitForFunction(() => document.getElementById('stat-online')?.textContent === '1');

  await page.fill('#search', 'nobody-like-this');
  await row.waitFor({ state: 'detached' });
  await page.fill('#search', 'dash-us');
  await row.waitFor({ state: 'visible' });

  await page.click('#retained-form button[type=submit]');
  const retained = page.locator('#retained tr[data-topic="dash/state"]');
  await retained.waitFor({ state: 'visible' });
  assert.match(await cells(retained), /^dash\/state \| 0 \| 8 B \| all good \| /);
  await page.fill('#retained-filter', 'dash/#/x');
  await page.click('#retained-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('retained-error')?.textContent?.startsWith('topic: not a valid topic filter'));
  await page.fill('#retained-filter', '#');
  await page.click('#retained-form button[type=submit]');
  await retained.waitFor({ state: 'visible' });
  assert.match(await cells(page.locator('#nodes tbody')), /^dash-node \| 0\.1\.0 \| running \| /);

  // Some traffic and two refreshes give the chart lines to draw before the picture is taken.
  device.subscribe('dash/telemetry');
  const traffic = setInterval(() => device.publish('dash/telemetry', '{"t":21.5}'), 50);
  await page.waitForTimeout(4500);
  clearInterval(traffic);
  assert.notEqual(await page.textContent('#stat-in'), '0.0', 'the message rate shows the traffic');
  const dir = path.join(repoRoot(), 'build', 'screenshots');
  mkdirSync(dir, { recursive: true });
  const shot = path.join(dir, 'dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(statSync(shot).size > 10_000, 'a screenshot with content');

  await row.locator('button.kick').click();
  assert.equal((await kicked).reasonCode, 0x98);
  await row.waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.getElementById('notice')?.textContent === 'Kicked dash-dev-1.');
  const left = (await a.api('GET', '/api/v1/clients')).body as { meta: { count: number } };
  assert.equal(left.meta.count, 0);
  assert.deepEqual(problems, []);
});
