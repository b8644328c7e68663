import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Abi } from '@polkadot/api-contract';
import { u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import { Chain } from '../src/chain.js';
import { describeDispatch, describeError } from '../src/errors.js';
import { metadata } from './lib/metadata.mjs';

const fmt = (v) => `${v} u`;
const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';

// Every leaf of an error enum as the plain value the page decodes ('NotOwner', { Task: { InvalidNonce: null } },
// { Service: { Account: 'TooManyRefunds' } }, …), walking nested enums through their codec classes.
function leaves(reg, Enum) {
  const sample = new Enum(reg);
  const out = [];
  for (const key of sample.defKeys) {
    if (sample.isBasic) {
      out.push(key);
      continue;
    }
    const inner = new Enum(reg, { [key]: undefined }).inner;
    if (typeof inner.isBasic === 'boolean' && Array.isArray(inner.defKeys)) {
      for (const l of leaves(reg, inner.constructor)) out.push({ [key]: typeof l === 'string' ? l : l });
    } else {
      out.push({ [key]: inner.toRawType() === 'Null' ? null : {} });
    }
  }
  return out;
}

for (const [kind, errType] of [['ledger', 'LedgerErrorsError'], ['inference', 'ServiceCoreError'], ['fine_tuning', 'ServiceCoreError']]) {
  test(`${kind}: every error variant in the metadata has words`, () => {
    const reg = new Abi(metadata[kind]).registry;
    const all = leaves(reg, reg.createType(errType).constructor);
    for (const e of all) {
      const text = describeError(kind === 'ledger' ? 'ledger' : 'service', e, fmt, String);
      assert.ok(!/refused the call \(/.test(text), `${kind} ${JSON.stringify(e)} has no text: ${text}`);
    }
    assert.ok(all.length > 40, `${all.length} variants`);
  });
}

test('nested service errors and amounts in words', () => {
  assert.equal(describeError('ledger', { InsufficientBalance: { available: 5n, requested: 7n } }, fmt), 'Your ledger has 5 u available, less than 7 u.');
  assert.equal(describeError('ledger', { Service: { Account: 'TooManyRefunds' } }, fmt), 'Too many refunds are pending with this provider: collect them first.');
  assert.equal(describeError('service', { Stake: { StakeLocked: { releaseAt: 5n } } }, fmt, (t) => `t=${t}`), 'The stake stays locked until t=5.');
  assert.equal(describeError('service', { Ownership: 'NotOwner' }), 'Only the contract owner may do this.');
  assert.equal(describeError('ledger', { SomethingNew: null }), 'The contract refused the call (SomethingNew).');
  assert.equal(describeDispatch('Contracts.StorageDepositLimitExhausted'), 'The storage deposit needed is more than allowed.');
  assert.equal(describeDispatch('Balances.Weird'), 'The chain refused the call (Balances.Weird).');
});

// The page's decoding: a dry run's output bytes, encoded from the metadata's own types, come back as the plain
// values the views use, and a contract error as its words.
function transportAnswering(outputs) {
  return {
    properties: () => ({ decimals: 12, symbol: 'UNIT', ss58: 42 }),
    calls: [],
    async call(origin, dest, value, data) {
      this.calls.push({ origin, dest, value, data });
      const o = outputs.shift();
      return { ok: true, revert: o.revert ?? false, data: o.data, gasRequired: { refTime: 10n, proofSize: 20n }, deposit: 0n };
    },
  };
}

test('views decode through the metadata; errors become words', async () => {
  const abi = new Abi(metadata.ledger);
  const get = abi.messages.find((m) => m.identifier === 'get_ledger');
  const reg = abi.registry;
  const out = (v) => u8aToHex(reg.createTypeUnsafe(get.returnType.lookupName || get.returnType.type, [v]).toU8a());
  const t = transportAnswering([
    { data: out({ Ok: { Ok: { user: BOB, availableBalance: 5n * 10n ** 12n, totalBalance: 7n * 10n ** 12n, additionalInfo: 'hi' } } }) },
    { data: out({ Ok: { Err: 'LedgerNotExists' } }), revert: true },
    { data: out({ Ok: { Err: { InsufficientBalance: { available: 1, requested: 2 } } } }), revert: true },
    { data: out({ Err: 'CouldNotReadInput' }), revert: true },
  ]);
  const chain = new Chain(t, metadata);
  const { value } = await chain.dryRun('ledger', BOB, 'get_ledger', [BOB]);
  assert.deepEqual(value, { user: BOB, availableBalance: 5_000_000_000_000n, totalBalance: 7_000_000_000_000n, additionalInfo: 'hi' });
  // Raw call data, as a node takes it: the selector, then the account (no length prefix in front).
  assert.equal(t.calls[0].data, `${get.selector.toHex()}${u8aToHex(decodeAddress(BOB)).slice(2)}`);
  await assert.rejects(chain.dryRun('ledger', BOB, 'get_ledger', [BOB]), /You have no ledger yet/);
  await assert.rejects(chain.dryRun('ledger', BOB, 'get_ledger', [BOB]), /has 0\.000000000001 UNIT available, less than 0\.000000000002 UNIT/);
  await assert.rejects(chain.dryRun('ledger', BOB, 'get_ledger', [BOB]), /metadata does not match the code on chain/);
});
