import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, U128_MAX, countdown, duration, formatAmount, parseAddress, parseAmount, sameAccount } from '../src/format.js';

const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const BOB_HEX = '0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48';

test('amounts in whole tokens become the smallest unit, exactly', () => {
  assert.equal(parseAmount('1', 12), 1_000_000_000_000n);
  assert.equal(parseAmount('1.5', 12), 1_500_000_000_000n);
  assert.equal(parseAmount(' 0.000000000001 ', 12), 1n);
  assert.equal(parseAmount('.5', 12), 500_000_000_000n);
  assert.equal(parseAmount('1_000', 0), 1000n);
  assert.equal(parseAmount('340282366920938463463374607431768211455', 0), U128_MAX);
});

test('bad amounts are refused with the reason', () => {
  const refused = (text, dec, opts, re) => assert.throws(() => parseAmount(text, dec, opts), (e) => e instanceof InputError && re.test(e.message), text);
  refused('', 12, {}, /Enter an amount/);
  refused('0', 12, {}, /more than 0/);
  refused('0.000', 12, {}, /more than 0/);
  refused('1.0000000000001', 12, {}, /At most 12 decimal places/);
  refused('-1', 12, {}, /not an amount/);
  refused('+1', 12, {}, /not an amount/);
  refused('1e3', 12, {}, /not an amount/);
  refused('1,5', 12, {}, /not an amount/);
  refused('1.2.3', 12, {}, /not an amount/);
  refused('.', 12, {}, /not an amount/);
  refused('0x10', 12, {}, /not an amount/);
  refused('340282366920938463463374607431768211456', 0, {}, /larger than the chain can hold/);
  refused('2', 12, { max: 1_999_999_999_999n, maxLabel: 'your available balance', symbol: 'UNIT' }, /more than your available balance \(1\.999999999999 UNIT\)/);
  assert.equal(parseAmount('0', 12, { allowZero: true }), 0n);
  assert.equal(parseAmount('2', 12, { max: 2_000_000_000_000n }), 2_000_000_000_000n);
});

test('amounts are shown in whole tokens, never rounded', () => {
  assert.equal(formatAmount(1_500_000_000_000n, 12, 'UNIT'), '1.5 UNIT');
  assert.equal(formatAmount(1n, 12), '0.000000000001');
  assert.equal(formatAmount(1_234_567_000_000_000_000n, 12, 'UNIT'), '1,234,567 UNIT');
  assert.equal(formatAmount(0n, 12, 'UNIT'), '0 UNIT');
  assert.equal(formatAmount(-5n, 1), '-0.5');
  assert.equal(formatAmount(U128_MAX, 0), '340,282,366,920,938,463,463,374,607,431,768,211,455');
  for (const text of ['1', '0.1', '123456.789', '0.000000000001']) assert.equal(parseAmount(formatAmount(parseAmount(text, 12), 12).replace(/,/g, ''), 12), parseAmount(text, 12));
});

test('countdowns to an unlock', () => {
  const t0 = 1_700_000_000_000;
  assert.equal(countdown(t0, t0), 'now');
  assert.equal(countdown(t0 - 1, t0), 'now');
  assert.equal(countdown(t0 + 1, t0), 'in 1 s');
  assert.equal(countdown(t0 + 59_000, t0), 'in 59 s');
  assert.equal(countdown(t0 + 61_000, t0), 'in 1 min 01 s');
  assert.equal(countdown(t0 + 3_600_000 + 4 * 60_000, t0), 'in 1 h 04 min');
  assert.equal(countdown(BigInt(t0 + 86_400_000 * 2 + 3 * 3_600_000), BigInt(t0)), 'in 2 d 3 h');
});

test('addresses: SS58 or hex in, SS58 out; anything else refused', () => {
  assert.equal(parseAddress(BOB_HEX), BOB);
  assert.equal(parseAddress(` ${BOB} `), BOB);
  assert.ok(sameAccount(BOB, BOB_HEX));
  assert.ok(!sameAccount(BOB, '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'));
  for (const bad of ['', 'bob', '0x1234', BOB.slice(0, -1) + 'x', '0x' + '00'.repeat(32)]) {
    assert.throws(() => parseAddress(bad), InputError, bad);
  }
});

test('lock times in words', () => {
  assert.equal(duration(86_400_000n), '1 d');
  assert.equal(duration(60_000), '1 min');
  assert.equal(duration(9_000_000), '2 h 30 min');
  assert.equal(duration(0), '0 s');
});
