// The built page against a real dev node (run by scripts/web-node-e2e.sh from `make node-e2e`, after a deploy with
// a short lock time and Charlie registered and acknowledged): Bob opens a ledger and funds Charlie through the
// page, Charlie settles with `serving settle`, Bob sees the charge, requests a refund, waits out the lock time,
// collects and withdraws. After every step the chain state is read from Node (dry runs through the same Chain
// class, and Bob's native balance). Screenshots under target/web-screens/node-*.png.
//
//   node e2e/node-e2e.mjs <deployment.json> <tee-key.json>
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { Chain, NodeTransport } from '../src/chain.js';
import { injectWallet, launch, serve, shots } from '../test/lib/browser.mjs';
import { metadata, root } from '../test/lib/metadata.mjs';

const [deploymentFile, teeKey] = process.argv.slice(2);
const deployment = JSON.parse(readFileSync(deploymentFile, 'utf8'));
const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const CHARLIE = '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y';
const UNIT = 10n ** 12n;
const t0 = Date.now();
const say = (m) => console.log(`[web-node] ${((Date.now() - t0) / 1000).toFixed(1)} s: ${m}`);

const api = await ApiPromise.create({ provider: new WsProvider(deployment.url), noInitWarn: true });
const chain = new Chain(await new NodeTransport(deployment.url).connect(), metadata);
const keyring = new Keyring({ type: 'sr25519' });
const alice = keyring.addFromUri('//Alice');

const free = async (who) => (await api.query.system.account(who)).data.free.toBigInt();
const ledger = async () => (await chain.dryRun('ledger', deployment.ledger, 'get_ledger', [BOB])).value;
const account = async () => (await chain.dryRun('inference', deployment.inference, 'get_account', [BOB, CHARLIE])).value;
const lockMs = (await chain.dryRun('inference', deployment.inference, 'config', [])).value.lockTimeMs;
// The chain's token symbol, as the page shows amounts (a dev node's is "Unit").
const SYMBOL = chain.props.symbol;

// What Bob pays beyond the amounts he moves, block by block from `from`: his transactions' fees, and the storage
// deposits his calls hold (released ones come back).
async function bobCosts(from) {
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  let sum = 0n;
  for (let n = from; n <= head; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    for (const { event } of await (await api.at(hash)).query.system.events()) {
      const [a, b, c] = event.data;
      const is = (section, method) => event.section === section && event.method === method;
      if (is('transactionPayment', 'TransactionFeePaid') && a.toString() === BOB) sum += b.toBigInt();
      if (is('contracts', 'StorageDepositTransferredAndHeld') && a.toString() === BOB) sum += c.toBigInt();
      if (is('contracts', 'StorageDepositTransferredAndReleased') && b.toString() === BOB) sum -= c.toBigInt();
    }
  }
  return sum;
}

const server = await serve(deployment);
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
await injectWallet(page, ['//Bob'], { api });
const idle = () => page.waitForSelector('body:not([data-loading])', { state: 'attached', timeout: 60000 });
async function status(re) {
  try {
    await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status').textContent), re.source, { timeout: 60000 });
  } catch (e) {
    await page.screenshot({ path: path.join(shots, 'node-failure.png'), fullPage: true });
    throw new Error(`waited for ${re} in the page's status; it says: ${await page.getByTestId('status').textContent()} (screenshot node-failure.png)`);
  }
  await idle();
  const text = await page.getByTestId('status').textContent();
  const block = /block (0x[0-9a-f…]+)/.exec(text);
  return { text, block };
}
async function act(testid, values, re, scope = page) {
  await idle();
  const form = scope.getByTestId(testid).first();
  for (const [n, v] of Object.entries(values)) await form.locator(`[name="${n}"]`).fill(v);
  await form.locator('button').click();
  await status(re);
}
async function tab(id) {
  await idle();
  await page.getByTestId(`tab-${id}`).click();
  await idle();
}
const shot = (name) => page.screenshot({ path: path.join(shots, `node-${name}.png`), fullPage: true });

try {
  const bob0 = await free(BOB);
  const firstBlock = (await api.rpc.chain.getHeader()).number.toNumber() + 1;
  await page.goto(server.url);
  await page.getByTestId('market-row').first().waitFor({ timeout: 60000 });
  assert.equal(await page.getByTestId('warning').count(), 0, 'the deployed code is the metadata’s');
  assert.match(await page.locator('[data-testid="market-row"][data-kind="inference"]').getByTestId('usable').textContent(), /usable: TEE signer acknowledged/);
  await shot('market');
  say('marketplace shows Charlie');

  await page.getByTestId('connect-wallet').click();
  await tab('ledger');
  await act('add-ledger', { amount: '0.5' }, new RegExp(`At least 1 ${SYMBOL} is needed here \\(sent 0\\.5 ${SYMBOL}\\)`));
  await act('add-ledger', { amount: '10', note: 'bob via the page' }, /Open ledger: done/);
  assert.equal((await ledger()).availableBalance, 10n * UNIT);
  say(`Bob opened his ledger (10 ${SYMBOL})`);

  await tab('market');
  const card = page.locator('[data-testid="market-row"][data-kind="inference"]');
  await act('fund', { amount: '4' }, /done/, card);
  assert.equal((await account()).balance, 4n * UNIT);
  assert.equal((await ledger()).availableBalance, 6n * UNIT);
  say(`Bob funded Charlie (4 ${SYMBOL})`);

  // Charlie settles 1.5 UNIT with the provider's tools (serving sign, serving settle).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'web-node-'));
  const serving = path.join(root, 'target', 'debug', 'serving');
  const voucher = (nonce, fee, file) => {
    writeFileSync(path.join(dir, `v${nonce}.json`), JSON.stringify({ kind: 'inference', chainId: deployment.chainId, contract: deployment.inference, provider: CHARLIE, settlements: [{ user: BOB, totalFee: String(fee), requestsHash: '0x' + String(nonce).padStart(2, '0').repeat(32), nonce }] }));
    writeFileSync(file, execFileSync(serving, ['sign', '--key', teeKey, path.join(dir, `v${nonce}.json`)]));
  };
  voucher(1, 1_500_000_000_000n, path.join(dir, 's1.json'));
  execFileSync(serving, ['settle', '--url', deployment.url, '--contract', deployment.inference, '--suri', '//Charlie', path.join(dir, 's1.json')], { stdio: 'inherit' });
  assert.equal((await account()).balance, 2_500_000_000_000n);
  say(`Charlie settled 1.5 ${SYMBOL} with serving settle`);

  await tab('activity');
  await page.getByTestId('activity-row').first().waitFor({ timeout: 60000 });
  assert.equal(await page.getByTestId('activity-row').first().getAttribute('data-event'), 'TeeSettlementResults');
  assert.match(await page.getByTestId('activity-row').first().textContent(), new RegExp(`settled 1\\.5 ${SYMBOL}`));
  await shot('activity');
  await tab('accounts');
  const row = page.locator('[data-testid="sub-row"][data-kind="inference"]');
  assert.equal(await row.getByTestId('sub-balance').textContent(), `2.5 ${SYMBOL}`);
  say('Bob sees the charge');

  // Charlie's settlement agent (issue 25) from here on: a second voucher (0.5 UNIT) waits in its spool. Nothing
  // makes it due (its age limit is 10 minutes) until Bob asks for a refund: then it must settle before the unlock.
  const spool = path.join(dir, 'spool');
  mkdirSync(spool);
  const agentLog = [];
  const agent = spawn(serving, ['settle', '--watch', '--url', deployment.url, '--contract', deployment.inference, '--suri', '//Charlie', '--spool', spool, '--state', path.join(dir, 'agent-state.json'), '--interval', '1', '--max-age', '600', '--margin', '12', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let partial = '';
  agent.stdout.on('data', (b) => {
    const lines = (partial + String(b)).split('\n');
    partial = lines.pop();
    agentLog.push(...lines.filter(Boolean).map((l) => JSON.parse(l)));
  });
  voucher(2, 500_000_000_000n, path.join(dir, 'v2.signed'));
  renameSync(path.join(dir, 'v2.signed'), path.join(spool, 'v2.json'));
  const tAgent = Date.now();
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal((await account()).balance, 2_500_000_000_000n, 'not due yet: the agent waits');
  assert.ok(agentLog.some((e) => e.event === 'tick' && e.pending === 1), 'the agent sees the pending voucher');

  await act('request-refund', {}, /Request refund: done/, row);
  const requested = await account();
  assert.equal(requested.pendingRefund, 2_500_000_000_000n);
  assert.match(await row.getByTestId('refund-countdown').textContent(), /^in \d+ s$/);
  await shot('refund');
  const unlockAt = Number(requested.refunds[0].unlockAt);
  say(`refund requested; unlocks in ${Math.round((unlockAt - Date.now()) / 1000)} s (lock ${lockMs} ms)`);
  for (;;) {
    const a = await account();
    if (a.balance === 2_000_000_000_000n) break;
    assert.ok(Date.now() < unlockAt, 'the agent settled before the refund unlocked');
    await new Promise((r) => setTimeout(r, 500));
  }
  const settledAt = Date.now();
  assert.ok(settledAt < unlockAt, `settled ${unlockAt - settledAt} ms before the unlock`);
  say(`the agent settled the pending voucher ${((unlockAt - settledAt) / 1000).toFixed(1)} s before the unlock (${((settledAt - tAgent) / 1000).toFixed(1)} s after it saw the voucher)`);
  agent.kill('SIGTERM');
  const code = await new Promise((r) => agent.on('exit', r));
  assert.equal(code, 0, 'the agent stops cleanly on SIGTERM');
  assert.ok(agentLog.some((e) => e.event === 'stopped'), 'the agent reports that it stopped');
  const agentState = readFileSync(path.join(dir, 'agent-state.json'), 'utf8');
  assert.match(agentState, /settled/);

  // The dev node makes a block only for a transaction: wait out the lock time on the wall clock, then a filler
  // transaction (Alice's remark) gives the chain a block whose time is past the unlock.
  await new Promise((r) => setTimeout(r, Math.max(0, unlockAt - Date.now() + 1500)));
  await new Promise((resolve, reject) => api.tx.system.remark('0x00').signAndSend(alice, (r) => (r.status.isInBlock ? resolve() : r.dispatchError && reject(new Error('remark failed')))));
  await tab('ledger');
  await tab('accounts');
  await page.waitForFunction(() => /Collect/.test(document.querySelector('[data-testid="sub-row"][data-kind="inference"] [data-testid="request-refund"] button')?.textContent ?? ''), null, { timeout: 30000 });
  await act('request-refund', {}, /Collect refund: done/, row);
  assert.equal((await account()).balance, 0n);
  assert.equal((await ledger()).availableBalance, 8n * UNIT);
  say(`Bob collected his refund (2 ${SYMBOL}: 4 funded, 1.5 + 0.5 charged)`);

  await tab('ledger');
  await act('refund', { amount: '8' }, /Withdraw: done/);
  assert.equal((await ledger()).availableBalance, 0n);
  await shot('ledger');
  // Bob's wallet: 10 in, 8 back, his fees and the storage deposits still held: to the unit.
  const fees = await bobCosts(firstBlock);
  const bob1 = await free(BOB);
  assert.equal(bob1, bob0 - 10n * UNIT + 8n * UNIT - fees, `Bob's balance: ${bob0} → ${bob1}, fees ${fees}`);
  assert.deepEqual(pageErrors, []);
  say(`done: Bob's balance adds up (fees and deposits ${fees})`);
} finally {
  await browser.close();
  await server.close();
  await api.disconnect();
  await chain.t.api.disconnect();
}
