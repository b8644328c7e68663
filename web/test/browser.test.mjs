// The built page in Chromium against the scripted chain (test/lib/fake-node.mjs): Bob's whole story through the
// page's own buttons, every bad input refused before anything is signed, the contract's errors in words, a
// declined signature, a node that goes away, a contract whose code is not the metadata's. Screenshots go to
// target/web-screens/. Run by `make test` (scripts/web.sh test).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { BOB, CHARLIE, FINE_TUNING, FakeNode, INFERENCE, LEDGER, UNIT } from './lib/fake-node.mjs';
import { injectFakeNode, injectWallet, launch, serve, shots } from './lib/browser.mjs';
import { decodeAddress } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';

const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const deployment = { url: 'ws://fake', chainId: 42, ledger: LEDGER, inference: INFERENCE, fineTuning: FINE_TUNING };
let server, browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await serve(deployment);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(node, { seeds = ['//Bob'] } = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.clock.setFixedTime(T0); // the page's wall clock, moved by the test
  await injectFakeNode(page, node);
  const wallet = await injectWallet(page, seeds);
  await page.goto(server.url);
  return { page, wallet, errors };
}

const status = (page) => page.getByTestId('status');
async function expectStatus(page, re) {
  await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status').textContent), re.source, { timeout: 10000 }).catch(() => {});
  await idle(page);
  assert.match(await status(page).textContent(), re);
}
async function shot(page, name) {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(statSync(file).size > 10_000, `${name}.png is not empty`);
}
const idle = (page) => page.waitForSelector('body:not([data-loading])', { state: 'attached' });
async function tab(page, id) {
  await idle(page);
  await page.getByTestId(`tab-${id}`).click();
  await idle(page);
}
async function submit(page, testid, values = {}, { nth = 0 } = {}) {
  await idle(page);
  const form = page.getByTestId(testid).nth(nth);
  for (const [name, v] of Object.entries(values)) await form.locator(`[name="${name}"]`).fill(v);
  await form.locator('button').click();
}
const sent = (node) => node.submitted.length;
const k = (a) => u8aToHex(decodeAddress(a));

test('the marketplace needs no wallet: providers, prices, usability, attestation', async () => {
  const node = new FakeNode(T0);
  const { page, errors } = await open(node);
  await page.getByTestId('market-row').first().waitFor();
  const cards = page.getByTestId('market-row');
  assert.equal(await cards.count(), 2);
  const inf = page.locator('[data-testid="market-row"][data-kind="inference"]');
  assert.match(await inf.textContent(), /llama-3\.1-8b/);
  assert.match(await inf.textContent(), /price input0\.000001 UNIT/);
  assert.match(await inf.textContent(), /price output0\.000002 UNIT/);
  assert.match(await inf.getByTestId('usable').textContent(), /usable: TEE signer acknowledged by the owner/);
  const ft = page.locator('[data-testid="market-row"][data-kind="fine_tuning"]');
  assert.match(await ft.getByTestId('usable').textContent(), /usable: attested until 2026-12-08 12:00:00 UTC/);
  assert.match(await ft.textContent(), /in 3 d 0 h/);
  assert.match(await page.getByTestId('conn').textContent(), /ws:\/\/fake · ledger/);
  assert.equal(await page.getByTestId('warning').count(), 0);
  await shot(page, 'market');
  assert.deepEqual(errors, []);
  await page.close();
});

test("Bob's story: open a ledger, fund a provider, see the charge, refund with a countdown, collect, withdraw, close", async () => {
  const node = new FakeNode(T0);
  const { page, wallet, errors } = await open(node);
  await page.getByTestId('connect-wallet').click();
  await page.getByTestId('account-select').waitFor();
  await tab(page, 'ledger');
  await page.getByTestId('no-ledger').waitFor();

  // Bad input is refused in the page: nothing dry-run, nothing signed.
  for (const [amount, re] of [
    ['', /Enter an amount/],
    ['0', /more than 0/],
    ['1.0000000000001', /At most 12 decimal places/],
    ['1,5', /not an amount/],
    ['5000', /more than your wallet’s free balance \(1,000 UNIT\)/],
  ]) {
    await submit(page, 'add-ledger', { amount });
    await expectStatus(page, re);
  }
  // The contract's own refusal, found by the dry run, in words.
  await submit(page, 'add-ledger', { amount: '0.5' });
  await expectStatus(page, /At least 1 UNIT is needed here \(sent 0\.5 UNIT\)/);
  assert.equal(sent(node), 0);
  assert.equal(wallet.signed, 0);
  await shot(page, 'errors');

  await submit(page, 'add-ledger', { amount: '10', note: 'bob' });
  await expectStatus(page, /Open ledger: done/);
  assert.deepEqual(node.submitted.map((s) => [s.message, s.value]), [['add_ledger', 10n * UNIT]]);
  await page.getByTestId('ledger-available').waitFor();
  assert.equal(await page.getByTestId('ledger-available').textContent(), '10 UNIT');
  assert.equal(node.wallet[k(BOB)], 990n * UNIT);

  await submit(page, 'deposit-for', { amount: '1', recipient: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694tx' });
  await expectStatus(page, /is not an account address/);
  await submit(page, 'deposit', { amount: '2.5' });
  await expectStatus(page, /Deposit: done/);
  assert.equal(await page.getByTestId('ledger-total').textContent(), '12.5 UNIT');

  // Fund Charlie's inference service from the marketplace (more than available: refused in the page).
  await tab(page, 'market');
  const inf = page.locator('[data-testid="market-row"][data-kind="inference"]');
  await inf.getByTestId('fund').locator('input').fill('13');
  await inf.getByTestId('fund').locator('button').click();
  await expectStatus(page, /more than what your ledger can move \(12\.5 UNIT\)/);
  await inf.getByTestId('fund').locator('input').fill('4');
  await inf.getByTestId('fund').locator('button').click();
  await expectStatus(page, /done/);
  const ft = page.locator('[data-testid="market-row"][data-kind="fine_tuning"]');
  await ft.getByTestId('fund').locator('input').fill('1');
  await ft.getByTestId('fund').locator('button').click();
  await expectStatus(page, /done/);
  assert.deepEqual(node.submitted.map((s) => s.message), ['add_ledger', 'deposit_fund', 'transfer_fund', 'transfer_fund']);
  assert.deepEqual(node.submitted[2].args.map(String), [CHARLIE, INFERENCE, String(4n * UNIT)]);

  // Charlie settles 1.5 UNIT (outside the page); Bob sees the charge in his sub-account and his activity.
  node.settle(BOB, 1_500_000_000_000n);
  await tab(page, 'activity');
  await page.getByTestId('activity-row').first().waitFor();
  const first = page.getByTestId('activity-row').first();
  assert.equal(await first.getAttribute('data-event'), 'TeeSettlementResults');
  assert.match(await first.textContent(), /a provider charged you.*settled 1\.5 UNIT/);
  assert.ok((await page.getByTestId('activity-row').count()) >= 5);
  await shot(page, 'activity');
  await tab(page, 'accounts');
  const row = page.locator('[data-testid="sub-row"][data-kind="inference"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('sub-balance').textContent(), '2.5 UNIT');

  // Refund: requested now, unlocked one lock time (60 s) later, counted down live on the wall clock.
  await row.getByTestId('request-refund').locator('button').click();
  await expectStatus(page, /Request refund: done/);
  assert.equal(await row.getByTestId('refund-countdown').textContent(), 'in 1 min 00 s');
  await page.clock.setFixedTime(T0 + 25_000);
  await page.waitForFunction(() => document.querySelector('[data-testid="refund-countdown"]').textContent === 'in 35 s', null, { timeout: 3000 });
  await row.getByTestId('request-refund').locator('button').click();
  await expectStatus(page, /already requested/);
  await shot(page, 'accounts');
  node.now = T0 + 61_000;
  await page.clock.setFixedTime(T0 + 61_000);
  await tab(page, 'ledger');
  await tab(page, 'accounts');
  assert.match(await row.getByTestId('request-refund').locator('button').textContent(), /Collect 2\.5 UNIT/);
  await row.getByTestId('request-refund').locator('button').click();
  await expectStatus(page, /Collect refund: done/);
  assert.equal(await row.getByTestId('sub-balance').textContent(), '0 UNIT');

  // Consent: withdrawing it takes effect one lock time later, and the page says when.
  await row.getByTestId('consent').locator('button').click();
  await expectStatus(page, /Withdraw consent: done/);
  assert.match(await row.getByTestId('consent').first().textContent(), /withdrawn: settlements end in 1 min 00 s/);

  // Withdraw: over the available balance refused in the page; leaving less than the minimum refused by the
  // contract's dry run; closing while money is held refused with the amount.
  await tab(page, 'ledger');
  // 12.5 in, 5 out to the two providers, 1.5 charged, 2.5 collected back: 10 available, 1 still at fine-tuning.
  assert.equal(await page.getByTestId('ledger-available').textContent(), '10 UNIT');
  assert.equal(await page.getByTestId('ledger-total').textContent(), '11 UNIT');
  await submit(page, 'refund', { amount: '10.1' });
  await expectStatus(page, /more than your available balance \(10 UNIT\)/);
  await submit(page, 'refund', { amount: '9.5' });
  await expectStatus(page, /Only 10 UNIT is available; 10\.5 UNIT is needed/);
  await submit(page, 'delete-ledger');
  await expectStatus(page, /Take all your funds back first \(11 UNIT still held\)/);
  const before = sent(node);
  await submit(page, 'refund', { amount: '10' });
  await expectStatus(page, /Withdraw: done/);
  assert.equal(sent(node), before + 1);
  assert.equal(await page.getByTestId('ledger-available').textContent(), '0 UNIT');
  // Bob's wallet: 1000 − 12.5 deposited + 10 withdrawn, to the unit.
  assert.equal(node.wallet[k(BOB)], 997_500_000_000_000n);
  await shot(page, 'ledger');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a declined signature and a node that goes away: a clear message, nothing sent', async () => {
  const node = new FakeNode(T0);
  node.ledgers[k(BOB)] = { available: 5n * UNIT, info: '' };
  const { page, wallet } = await open(node);
  await page.getByTestId('connect-wallet').click();
  await tab(page, 'ledger');
  await page.getByTestId('ledger-available').waitFor();
  wallet.reject = true;
  await submit(page, 'deposit', { amount: '1' });
  await expectStatus(page, /You declined to sign: nothing was sent/);
  assert.equal(sent(node), 0);
  wallet.reject = false;

  node.down = true;
  await page.evaluate(() => window.__servingStatus('disconnected'));
  assert.match(await page.getByTestId('conn').textContent(), /node unreachable/);
  assert.ok(await page.getByTestId('deposit').locator('button').isDisabled());
  await page.evaluate(() => document.querySelector('[data-testid="deposit"] button').removeAttribute('disabled'));
  await submit(page, 'deposit', { amount: '1' });
  await expectStatus(page, /The node is unreachable: nothing was sent/);
  node.down = false;
  await page.evaluate(() => window.__servingStatus('connected'));
  await submit(page, 'deposit', { amount: '1' });
  await expectStatus(page, /Deposit: done/);
  assert.equal(sent(node), 1);
  await page.close();
});

test('fine-tuning: my deliverables and acknowledging one', async () => {
  const node = new FakeNode(T0);
  node.ledgers[k(BOB)] = { available: 5n * UNIT, info: '' };
  node.subs.fine_tuning[`${k(BOB)}|${k(CHARLIE)}`] = { user: BOB, provider: CHARLIE, nonce: 0n, balance: 2n * UNIT, pendingRefund: 0n, refunds: [], additionalInfo: '', acknowledged: true, consentEndsAt: null, generation: 0, deliverables: 0 };
  node.addDeliverable(BOB, 'task-1');
  const { page } = await open(node);
  await page.getByTestId('connect-wallet').click();
  await tab(page, 'tuning');
  const row = page.getByTestId('deliverable-row');
  await row.waitFor();
  assert.match(await row.getByTestId('deliverable-state').textContent(), /waiting for your acknowledgement/);
  await row.getByTestId('acknowledge').locator('button').click();
  await expectStatus(page, /Acknowledge: done/);
  assert.equal(await row.getByTestId('deliverable-state').textContent(), 'acknowledged');
  assert.deepEqual(node.submitted.map((s) => [s.message, s.args.map(String)]), [['acknowledge_deliverable', [CHARLIE, 'task-1']]]);
  await shot(page, 'tuning');
  await page.close();
});

test('a contract whose code is not the one the metadata describes is named', async () => {
  const node = new FakeNode(T0);
  node.codeHashes[FINE_TUNING] = '0x' + '99'.repeat(32);
  const { page } = await open(node);
  await page.getByTestId('warning').waitFor();
  assert.match(await page.getByTestId('warning').textContent(), /The fine-tuning v1 contract at .* runs code 0x9999…999999, not the/);
  await page.close();
});
