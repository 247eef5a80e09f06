// The interactive API docs work in a real browser: headless Chromium loads
// /docs, signs in through "Authorize" (the OAuth2 password flow), runs
// "List Users" and sees the caller in the answer. A person with the second
// factor on (C5) signs in from "Try it out" on the token endpoint with
// `otp`, a code this test computes from the enrollment's secret, and the
// `token` cookie carries the next call.
//
// Run by tests/docs/run.sh, which starts a server and registers the accounts.
// Environment: BASE_URL (e.g. http://127.0.0.1:18090), EMAIL, PASSWORD,
// MFA_EMAIL (an account without a factor yet; the test turns it on);
// CHROMIUM (default /usr/bin/chromium).
// Writes tests/docs/out/docs.png (the whole page) and out/list-users.png (the
// operation), or out/docs-failure.png when it fails.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium } from 'playwright-core';

const STEP_TIMEOUT_MS = 30_000;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (tests/docs/run.sh sets it)`);
  return value;
}

const BASE_URL = required('BASE_URL').replace(/\/+$/, '');
const EMAIL = required('EMAIL');
const PASSWORD = required('PASSWORD');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LOCAL_PART = EMAIL.slice(0, EMAIL.indexOf('@'));
const MFA_EMAIL = required('MFA_EMAIL');

const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));

// For a failure message: what the docs sent to the token endpoint, and what
// the server answers to the very same request.
async function replay(request) {
  const headers = request.headers();
  const sent = {
    authorization: headers.authorization ?? null,
    'content-type': headers['content-type'] ?? null,
    body: (request.postData() ?? '').replace(/password=[^&]*/, 'password=***'),
  };
  let answer;
  try {
    const res = await fetch(request.url(), {
      method: request.method(),
      headers: Object.fromEntries(
        ['authorization', 'content-type', 'accept']
          .filter((h) => headers[h] !== undefined)
          .map((h) => [h, headers[h]]),
      ),
      body: request.postData() ?? undefined,
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    answer = `${res.status} www-authenticate=${res.headers.get('www-authenticate')} ${await res.text()}`;
  } catch (err) {
    answer = `no answer (${err.message})`;
  }
  return `The docs sent ${JSON.stringify(sent)}; the server answers that request with ${answer}`;
}

test('the docs sign in and List Users shows the caller', { timeout: 180_000 }, async (t) => {
  mkdirSync(OUT_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: STEP_TIMEOUT_MS,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // Closing never holds the run up: a browser that does not close in time is
  // left to the runner's exit.
  t.after(() =>
    Promise.race([browser.close(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]),
  );

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));

  let passed = false;
  try {
    // GET /docs redirects to /docs/, whose UI loads /docs/openapi.json.
    await page.goto(`${BASE_URL}/docs`, { waitUntil: 'load' });
    assert.equal(new URL(page.url()).pathname, '/docs/', 'GET /docs lands on /docs/');
    await page.locator('.swagger-ui .info .title').waitFor();

    // Authorize: the OAuth2PasswordBearer scheme, e-mail as username.
    await page.locator('.auth-wrapper button.authorize').click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    await dialog.waitFor();
    const scheme = dialog.locator('.auth-container').filter({ hasText: 'OAuth2PasswordBearer' });
    await scheme.waitFor();
    await scheme.locator('input#oauth_username').fill(EMAIL);
    await scheme.locator('input#oauth_password').fill(PASSWORD);
    // Client credentials stay empty, in the location the docs offer first.
    const isTokenCall = (r) => new URL(r.url()).pathname === '/api/v1/auth/token';
    const tokenRequestSeen = page.waitForRequest(isTokenCall, { timeout: STEP_TIMEOUT_MS });
    const tokenResponseSeen = page.waitForResponse(isTokenCall, { timeout: STEP_TIMEOUT_MS });
    await scheme.locator('button.authorize').click();
    const tokenRequest = await tokenRequestSeen;
    const tokenResponse = await tokenResponseSeen.catch(async (err) => {
      throw new Error(
        `no answer to the docs' sign-in reached the page in ${STEP_TIMEOUT_MS / 1000} s ` +
          `(${err.message.split('\n')[0]}). ${await replay(tokenRequest)}`,
      );
    });
    assert.equal(
      tokenResponse.status(),
      200,
      `POST /api/v1/auth/token from the docs answered ${tokenResponse.status()}: ` +
        `${await tokenResponse.text()}. ${await replay(tokenRequest)}`,
    );
    const token = await tokenResponse.json();
    assert.equal(token.token_type, 'bearer');
    assert.ok(token.access_token, 'the token answer has an access_token');
    // Signed in: the scheme now offers "Logout" instead of "Authorize".
    await scheme.locator('button', { hasText: 'Logout' }).waitFor();
    await scheme.locator('button.btn-done').click();
    await dialog.waitFor({ state: 'detached' });

    // Expand "List Users" (GET /api/v1/users/ under the "users" tag).
    const op = page
      .locator('.opblock.opblock-get')
      .filter({ has: page.locator('.opblock-summary-path[data-path="/api/v1/users/"]') });
    await op.first().waitFor();
    assert.equal(await op.count(), 1, 'exactly one GET /api/v1/users/ operation');
    await op.locator('.opblock-summary').click();
    await op.locator('.opblock-body').waitFor();

    // tryItOutEnabled is set, so "Try it out" may already be on.
    const tryItOut = op.locator('button.try-out__btn', { hasText: 'Try it out' });
    if (await tryItOut.isVisible()) await tryItOut.click();

    const [usersResponse] = await Promise.all([
      page.waitForResponse(
        (r) => new URL(r.url()).pathname === '/api/v1/users/' && r.request().method() === 'GET',
        { timeout: STEP_TIMEOUT_MS },
      ),
      op.locator('button.execute').click(),
    ]);
    const authorization = await usersResponse.request().headerValue('authorization');
    assert.equal(authorization, `Bearer ${token.access_token}`, 'the call carries the docs\' token');

    // The live response, as the page shows it.
    const live = op.locator('.live-responses-table .response');
    await live.first().waitFor();
    const status = (await live.first().locator('.response-col_status').innerText()).trim();
    const body = await live.first().locator('.response-col_description pre').first().innerText();
    assert.equal(status, '200', `the docs show status ${status}: ${body}`);
    assert.ok(body.includes(LOCAL_PART), `the response body names ${LOCAL_PART}: ${body}`);
    const users = JSON.parse(body);
    assert.ok(Array.isArray(users) && users.length >= 1, `a non-empty array: ${body}`);
    // The caller comes first: an account (not a managed user) with no names,
    // so its display_name is the e-mail's local part.
    assert.equal(users[0].display_name, LOCAL_PART, 'the first user is the caller');
    assert.equal(users[0].is_managed, false, 'the first user is the caller\'s own account');

    assert.deepEqual(pageErrors, [], 'no uncaught errors on the page');

    // Bring the answer into view for the screenshot.
    await live.first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${OUT_DIR}docs.png`, fullPage: true, timeout: STEP_TIMEOUT_MS });
    await op.screenshot({ path: `${OUT_DIR}list-users.png`, timeout: STEP_TIMEOUT_MS });
    passed = true;
    t.diagnostic(`screenshot: ${OUT_DIR}docs.png`);
  } finally {
    if (!passed) {
      await page
        .screenshot({ path: `${OUT_DIR}docs-failure.png`, fullPage: true, timeout: STEP_TIMEOUT_MS })
        .then(() => t.diagnostic(`failure screenshot: ${OUT_DIR}docs-failure.png`))
        .catch(() => {});
    }
  }
});

// RFC 4648 base32 (the enrollment's `secret`) to bytes.
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${text}`);
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

// The TOTP code (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps) of `step`.
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', secret).update(counter).digest();
  const offset = h[h.length - 1] & 0xf;
  const value =
    ((h[offset] & 0x7f) << 24) | (h[offset + 1] << 16) | (h[offset + 2] << 8) | h[offset + 3];
  return String(value % 1_000_000).padStart(6, '0');
}

const step = () => Math.floor(Date.now() / 1000 / 30);

async function api(path, { method = 'GET', token, basic, json, otp } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (basic) headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  if (otp) headers['x-otp'] = otp;
  if (json) headers['content-type'] = 'application/json';
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers,
    body: json ? JSON.stringify(json) : undefined,
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

test('a person with the second factor on signs in from "Try it out" with otp', { timeout: 180_000 }, async (t) => {
  mkdirSync(OUT_DIR, { recursive: true });
  // The factor on, through the API: enroll, confirm with the previous
  // step's code (one step of drift), so the current step is left for the
  // browser. Early in a step, so "current" does not move meanwhile.
  if (Math.floor(Date.now() / 1000) % 30 >= 24) await new Promise((r) => setTimeout(r, 7_000));
  const signIn = await api('/api/v1/auth/token', { method: 'POST', basic: `${MFA_EMAIL}:${PASSWORD}` });
  assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
  const token = signIn.body.access_token;
  const enrolled = await api('/api/v1/auth/mfa/totp', { method: 'POST', token, json: { password: PASSWORD } });
  assert.equal(enrolled.status, 201, JSON.stringify(enrolled.body));
  const secret = base32(enrolled.body.secret);
  const confirmed = await api('/api/v1/auth/mfa/totp/confirm', {
    method: 'POST',
    token,
    json: { code: totp(secret, step() - 1) },
  });
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  const without = await api('/api/v1/auth/token', { method: 'POST', basic: `${MFA_EMAIL}:${PASSWORD}` });
  assert.equal(without.status, 401);
  assert.equal(without.headers.get('x-otp'), 'required');

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: STEP_TIMEOUT_MS,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() =>
    Promise.race([browser.close(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]),
  );
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));

  let passed = false;
  try {
    await page.goto(`${BASE_URL}/docs/`, { waitUntil: 'load' });
    await page.locator('.swagger-ui .info .title').waitFor();

    // "Sign in" (POST /api/v1/auth/token), Try it out, the form with otp.
    const op = page
      .locator('.opblock.opblock-post')
      .filter({ has: page.locator('.opblock-summary-path[data-path="/api/v1/auth/token"]') });
    await op.first().waitFor();
    await op.locator('.opblock-summary').click();
    await op.locator('.opblock-body').waitFor();
    const tryItOut = op.locator('button.try-out__btn', { hasText: 'Try it out' });
    if (await tryItOut.isVisible()) await tryItOut.click();
    const field = (name) => op.locator(`tr[data-property-name="${name}"] input`).first();
    await field('username').fill(MFA_EMAIL);
    await field('password').fill(PASSWORD);
    await field('otp').fill(totp(secret, step()));
    const isTokenCall = (r) =>
      new URL(r.url()).pathname === '/api/v1/auth/token' && r.request().method() === 'POST';
    const [tokenResponse] = await Promise.all([
      page.waitForResponse(isTokenCall, { timeout: STEP_TIMEOUT_MS }),
      op.locator('button.execute').click(),
    ]);
    const sent = tokenResponse.request().postData() ?? '';
    assert.ok(/(^|&)otp=\d{6}(&|$)/.test(sent), `the form carries otp: ${sent.replace(/password=[^&]*/, 'password=***')}`);
    assert.equal(tokenResponse.status(), 200, `the sign-in answered ${tokenResponse.status()}: ${await tokenResponse.text()}`);
    const issued = await tokenResponse.json();
    const claims = JSON.parse(Buffer.from(issued.access_token.split('.')[1], 'base64url').toString());
    assert.deepEqual(claims.amr, ['pwd', 'otp'], 'the token says a second factor was given');

    // The token cookie now carries "Who am I" (GET /api/v1/auth/me), with
    // nothing in Authorize.
    const me = page
      .locator('.opblock.opblock-get')
      .filter({ has: page.locator('.opblock-summary-path[data-path="/api/v1/auth/me"]') });
    await me.first().waitFor();
    await me.locator('.opblock-summary').click();
    await me.locator('.opblock-body').waitFor();
    const tryMe = me.locator('button.try-out__btn', { hasText: 'Try it out' });
    if (await tryMe.isVisible()) await tryMe.click();
    const [meResponse] = await Promise.all([
      page.waitForResponse(
        (r) => new URL(r.url()).pathname === '/api/v1/auth/me' && r.request().method() === 'GET',
        { timeout: STEP_TIMEOUT_MS },
      ),
      me.locator('button.execute').click(),
    ]);
    assert.equal(await meResponse.request().headerValue('authorization'), null, 'no bearer: the cookie carries it');
    assert.equal(meResponse.status(), 200, `GET /auth/me answered ${meResponse.status()}: ${await meResponse.text()}`);
    const meBody = await meResponse.json();
    assert.equal(meBody.display_name, MFA_EMAIL.slice(0, MFA_EMAIL.indexOf('@')), 'the account that signed in');
    assert.equal(meBody.id, claims.sub);
    assert.deepEqual(pageErrors, [], 'no uncaught errors on the page');
    await op.screenshot({ path: `${OUT_DIR}sign-in-with-otp.png`, timeout: STEP_TIMEOUT_MS });
    passed = true;
  } finally {
    if (!passed) {
      await page
        .screenshot({ path: `${OUT_DIR}otp-failure.png`, fullPage: true, timeout: STEP_TIMEOUT_MS })
        .then(() => t.diagnostic(`failure screenshot: ${OUT_DIR}otp-failure.png`))
        .catch(() => {});
    }
  }
});
