import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliverableRow, ledgerSummary, myActivity, providerCard, servicesFromRegistry, subAccountRow } from '../src/views.js';

const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const CHARLIE = '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y';
const DAVE = '5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy';
const T = 1_700_000_000_000n;
const inf = { address: 'INF', kind: 'inference', label: 'inference v1' };

test('services come from the registry: known types, enabled, recommended first', () => {
  const e = (serviceType, version, isRecommended, enabled = true) => ({ address: `${serviceType}-${version}`, info: { serviceType, version, isRecommended, enabled, description: '', registeredAt: 0n } });
  const s = servicesFromRegistry([e('inference', 'v1', false), e('inference', 'v2', true), e('fine-tuning', 'v1', true), e('storage', 'v1', true), e('inference', 'v0', false, false)]);
  assert.deepEqual(s.map((x) => [x.label, x.kind]), [['fine-tuning v1', 'fine_tuning'], ['inference v2', 'inference'], ['inference v1', 'inference']]);
});

test('a provider card says whether its signer is usable and why', () => {
  const view = { provider: CHARLIE, updatedAt: T, teeSignerAcknowledged: false, stake: 5n, params: { url: 'https://c', model: 'llama', inputPrice: 1n, outputPrice: 2n, verifiability: 'TeeML', teeSigner: '0xab' } };
  const none = providerCard(inf, view, { usableSigner: null, attestation: null }, Number(T));
  assert.equal(none.usable, false);
  assert.match(none.why, /not usable/);
  assert.deepEqual(none.prices, [['input', 1n], ['output', 2n]]);
  const attested = providerCard(inf, view, { usableSigner: '0xab', attestation: { expiresAt: T + 3_600_000n } }, Number(T));
  assert.equal(attested.usable, true);
  assert.match(attested.why, /attested until 2023-11-14 23:13:20 UTC/);
  assert.equal(attested.attestationLeft, 'in 1 h 00 min');
  const acked = providerCard(inf, { ...view, teeSignerAcknowledged: true }, { usableSigner: '0xab', attestation: null }, Number(T));
  assert.match(acked.why, /acknowledged by the owner/);
  const ft = providerCard({ address: 'FT', kind: 'fine_tuning', label: 'fine-tuning v1' }, { ...view, params: { url: 'u', models: ['a', 'b'], pricePerToken: 3n, occupied: true, teeSigner: '0xab', quota: {} } }, null, Number(T));
  assert.equal(ft.model, 'a, b');
  assert.deepEqual(ft.prices, [['per token', 3n]]);
});

test('my ledger: available, at services, total', () => {
  assert.deepEqual(ledgerSummary({ user: BOB, availableBalance: 3n, totalBalance: 10n, additionalInfo: '' }), { available: 3n, atServices: 7n, total: 10n, note: '' });
  assert.equal(ledgerSummary(null), null);
});

test('a sub-account: refunds with countdowns, what is unlocked, consent and its end', () => {
  const acc = { provider: CHARLIE, balance: 100n, pendingRefund: 60n, acknowledged: true, consentEndsAt: null, refunds: [{ amount: 10n, createdAt: T - 10n, unlockAt: T - 1n }, { amount: 50n, createdAt: T, unlockAt: T + 90_000n }] };
  const r = subAccountRow(inf, acc, T);
  assert.equal(r.unlocked, 10n);
  assert.equal(r.requestable, 40n);
  assert.deepEqual(r.refunds.map((f) => [f.unlocked, f.left]), [[true, 'now'], [false, 'in 1 min 30 s']]);
  assert.equal(r.consent, 'given');
  const withdrawn = subAccountRow(inf, { ...acc, acknowledged: false, consentEndsAt: T + 7_200_000n }, T);
  assert.match(withdrawn.consent, /^withdrawn: settlements end in 2 h 00 min/);
  assert.equal(subAccountRow(inf, { ...acc, acknowledged: false, consentEndsAt: T - 1n }, T).consent, 'withdrawn');
});

test('deliverables in words', () => {
  const d = (state) => deliverableRow(CHARLIE, { id: 't1', modelRootHash: '0x01', encryptedSecret: '0x', state, addedAt: T, penaltyPercent: 30 });
  assert.equal(d('Pending').canAcknowledge, true);
  assert.equal(d('Acknowledged').canAcknowledge, false);
  assert.match(d({ Settled: { penalized: true } }).state, /penalty/);
  assert.match(d({ Settled: { penalized: false } }).state, /key revealed/);
  assert.match(d('Abandoned').state, /abandoned/);
});

test('activity: my events, and only my outcome of a settlement batch', () => {
  const events = [
    { block: 1, kind: 'ledger', name: 'LedgerAdded', args: { user: BOB, amount: 5n } },
    { block: 2, kind: 'ledger', name: 'LedgerAdded', args: { user: DAVE, amount: 9n } },
    {
      block: 3,
      kind: 'inference',
      name: 'TeeSettlementResults',
      args: {
        provider: CHARLIE,
        results: [{ user: DAVE, status: 'Success', settled: 100n, unsettled: 0n }, { user: BOB, status: 'Success', settled: 7n, unsettled: 1n }],
        balances: [{ user: DAVE, balance: 1n, pendingRefund: 0n }, { user: BOB, balance: 3n, pendingRefund: 0n }],
      },
    },
  ];
  const a = myActivity(events, BOB);
  assert.deepEqual(a.map((e) => [e.block, e.name, e.settlement]), [[3, 'TeeSettlementResults', true], [1, 'LedgerAdded', false]]);
  assert.deepEqual(a[0].amounts, [['settled', 7n], ['unsettled', 1n], ['balance', 3n], ['pendingRefund', 0n]]);
  assert.deepEqual(myActivity(events, CHARLIE).length, 1);
});
