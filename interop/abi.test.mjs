// polkadot.js (@polkadot/api-contract's Abi, offline) and cargo-contract against our release bundles' metadata.
// Inputs, written by `cargo test -p serving-e2e-tests --test sandbox interop::` and `scripts/bundles.sh`:
//   target/ink/<contract>/<contract>.json   the metadata cargo-contract wrote for each release bundle
//   target/interop/calls.json                calls and constructors with fixed arguments and the bytes Rust encodes
//   target/interop/events.json               events recorded in the sandbox and the values Rust decodes from them
//   target/interop/events-all/*.jsonl        every event the contracts emitted during the e2e suite (SERVING_EVENT_LOG)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Abi } from '@polkadot/api-contract';
import { compactAddLength, compactStripLength, u8aConcat, u8aToHex, hexToU8a } from '@polkadot/util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readJson = (p) => JSON.parse(readFileSync(path.join(root, p), 'utf8'));
const metadataPath = (c) => path.join(root, 'target', 'ink', c, `${c}.json`);
const abis = Object.fromEntries(
  ['ledger', 'inference', 'fine_tuning'].map((c) => [c, new Abi(JSON.parse(readFileSync(metadataPath(c), 'utf8')))]),
);
const calls = readJson('target/interop/calls.json');
const events = readJson('target/interop/events.json');

/// polkadot.js's `toU8a` prefixes the call data with its compact length; the contract receives what follows.
const encode = (abi, c) => {
  const item = c.kind === 'constructor' ? abi.findConstructor(c.name) : abi.findMessage(c.name);
  const [, data] = compactStripLength(item.toU8a(c.args));
  return u8aToHex(data);
};

test('the fixtures cover every contract, constructors and messages', () => {
  for (const c of ['ledger', 'inference', 'fine_tuning']) {
    assert.ok(calls.some((x) => x.contract === c && x.kind === 'constructor'), `${c} constructor`);
    assert.ok(calls.filter((x) => x.contract === c && x.kind === 'message').length >= 3, `${c} messages`);
  }
});

for (const c of calls) {
  test(`polkadot.js encodes ${c.contract}.${c.name} exactly like our Rust code`, () => {
    const abi = abis[c.contract];
    const js = encode(abi, c);
    assert.equal(js, c.rust);
    // And decodes the Rust bytes (given length-prefixed, as it encodes them) back to the same call.
    const input = compactAddLength(hexToU8a(c.rust));
    const decoded = c.kind === 'constructor' ? abi.decodeConstructor(input) : abi.decodeMessage(input);
    const item = abi[c.kind === 'constructor' ? 'findConstructor' : 'findMessage'](c.name);
    assert.equal(decoded.message.method, item.method);
    assert.equal(decoded.args.length, c.args.length);
    // The values: each argument decoded from the Rust bytes equals the intended argument as polkadot.js builds it
    // from the fixture (same SCALE bytes and same JSON), so Rust encoded exactly these values.
    item.args.forEach((a, i) => {
      const want = abi.registry.createTypeUnsafe(a.type.lookupName || a.type.type, [c.args[i]]);
      assert.equal(u8aToHex(decoded.args[i].toU8a()), u8aToHex(want.toU8a()), `${c.name} argument ${a.name}`);
      assert.deepEqual(decoded.args[i].toJSON(), want.toJSON(), `${c.name} argument ${a.name}`);
    });
  });
}

test('a wrong argument changes the bytes (the comparison can fail)', () => {
  const c = calls.find((x) => x.contract === 'ledger' && x.name === 'transfer_fund');
  const changed = { ...c, args: [c.args[0], c.args[1], '5000001'] };
  assert.notEqual(encode(abis.ledger, changed), c.rust);
});

/// Event arguments as the Rust side wrote them: accounts as 0x-hex, numbers as decimal strings, enums by
/// variant name, structs as objects (camelCase keys), vectors and tuples as arrays.
const plain = (codec) => {
  const raw = codec.toRawType();
  if (raw === 'AccountId' || raw === 'AccountId32' || raw === '[u8;32]') return u8aToHex(codec.toU8a());
  if (codec instanceof Map) return Object.fromEntries([...codec.entries()].map(([k, v]) => [k, plain(v)]));
  if (Array.isArray(codec)) return codec.map(plain);
  if (typeof codec.isBasic === 'boolean' && typeof codec.type === 'string') return codec.type;
  return codec.toString();
};

// The event type of a record: by its signature topic, or, with no topic, the contract's one anonymous event type
// without indexed fields (inference's TeeSettlementResults), as polkadot.js's own decodeEvent finds it.
const findEvent = (abi, topics) =>
  topics.length > 0
    ? abi.events.find((e) => e.signatureTopic === topics[0])
    : abi.events.find((e) => !e.signatureTopic && e.args.every((a) => !a.indexed));

test('every event the contracts emitted decodes with the metadata', () => {
  assert.ok(events.recorded.length >= 5);
  for (const r of events.recorded) {
    const abi = abis[r.contract];
    assert.ok(abi, `event from an unknown contract ${r.contract}`);
    const ev = findEvent(abi, r.topics);
    assert.ok(ev, `no event in ${r.contract}'s metadata has signature topic ${r.topics[0]}`);
    const decoded = ev.fromU8a(hexToU8a(r.data));
    assert.equal(decoded.args.length, ev.args.length);
  }
});

test('polkadot.js decodes our events to the values Rust decodes', () => {
  const seen = {};
  for (const r of events.recorded) {
    const abi = abis[r.contract];
    const ev = findEvent(abi, r.topics);
    const name = ev.identifier.split('::').pop();
    const decoded = ev.fromU8a(hexToU8a(r.data));
    const args = Object.fromEntries(ev.args.map((a, i) => [a.name, plain(decoded.args[i])]));
    (seen[`${r.contract}/${name}`] ??= []).push(args);
  }
  for (const e of events.expected) {
    const list = seen[`${e.contract}/${e.event}`];
    assert.ok(list && list.length > 0, `polkadot.js saw no ${e.event}`);
    const got = list.shift();
    const want = Object.fromEntries(Object.entries(e.args).map(([k, v]) => [k.replace(/_([a-z])/g, (_, x) => x.toUpperCase()), v]));
    assert.deepEqual(got, want, `${e.contract} ${e.event}`);
  }
});

// cargo-contract 5.0.3 `encode` against the same metadata: the same bytes for the same arguments.
const cargoEncode = (contract, message, args) => {
  const out = execFileSync('cargo', ['contract', 'encode', metadataPath(contract), '--message', message, '--args', ...args], {
    encoding: 'utf8',
  });
  const m = out.match(/Encoded data:\s*([0-9A-Fa-f]+)/);
  assert.ok(m, `unexpected cargo contract output: ${out}`);
  return `0x${m[1].toLowerCase()}`;
};

const cargoCases = [
  ['ledger', 'transfer_fund', (c) => c.args.map(String)],
  ['ledger', 'retrieve_fund', (c) => [`[${c.args[0].join(', ')}]`, c.args[1]]],
  ['inference', 'acknowledge_tee_signer', (c) => c.args.map(String)],
  ['inference', 'revoke_tokens', (c) => [c.args[0], `[${Array.from(hexToU8a(c.args[1])).join(', ')}]`]],
  [
    'fine_tuning',
    'settle_fees',
    (c) => {
      const v = c.args[0];
      const bytes = (h) => `[${Array.from(hexToU8a(h)).join(', ')}]`;
      return [
        `{ id: ${JSON.stringify(v.id)}, encrypted_secret: ${bytes(v.encrypted_secret)}, model_root_hash: ${bytes(v.model_root_hash)}, ` +
          `nonce: ${v.nonce}, task_fee: ${v.task_fee}, user: ${v.user}, signature: ${bytes(v.signature)} }`,
      ];
    },
  ],
];

for (const [contract, message, toArgs] of cargoCases) {
  test(`cargo contract encode gives our bytes for ${contract}.${message}`, () => {
    const c = calls.find((x) => x.contract === contract && x.name === message);
    assert.ok(c, `fixture for ${contract}.${message}`);
    assert.equal(cargoEncode(contract, message, toArgs(c)), c.rust);
  });
}

// Every event the contracts emitted during the whole e2e suite (logged by the sandbox harness): each decodes with
// the metadata of a contract that declares its signature topic, and every event type the three contracts declare
// was emitted at least once.
const logged = readdirSync(path.join(root, 'target/interop/events-all'))
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(path.join(root, 'target/interop/events-all', f), 'utf8').split('\n').filter(Boolean))
  .map((l) => JSON.parse(l));

const eventKey = (e) => e.signatureTopic ?? e.identifier;

test('every event emitted in the e2e suite decodes, and every event type was emitted', () => {
  assert.ok(logged.length > 100, `only ${logged.length} events logged`);
  const seen = new Set();
  let unknown = 0;
  for (const r of logged) {
    // An anonymous event (inference's TeeSettlementResults: no topic at all) is known by its contract's one
    // anonymous event type with as many indexed fields as the record has topics.
    const matches = Object.values(abis).flatMap((abi) =>
      abi.events.filter((e) => (r.topics.length > 0 && e.signatureTopic === r.topics[0]) || (!e.signatureTopic && r.topics.length === e.args.filter((a) => a.indexed).length)),
    );
    if (matches.length === 0) {
      unknown += 1; // the e2e suite's mock service emits its own events
      continue;
    }
    for (const ev of matches) {
      const decoded = ev.fromU8a(hexToU8a(r.data));
      assert.equal(decoded.args.length, ev.args.length);
      // Re-encoding the decoded fields gives the emitted bytes back: nothing was left over or misread.
      assert.equal(u8aToHex(u8aConcat(...decoded.args.map((a) => a.toU8a()))), r.data, ev.identifier);
      seen.add(eventKey(ev));
    }
  }
  const missing = [];
  for (const [c, abi] of Object.entries(abis)) {
    for (const e of abi.events) {
      if (!seen.has(eventKey(e))) missing.push(`${c}.${e.identifier.split('::').pop()}`);
    }
  }
  assert.deepEqual(missing, [], `event types never emitted in the e2e suite (${logged.length} events, ${unknown} from other contracts)`);
});

// The thin build deployed at a service's address forwards its rarely used messages to the full build by delegate
// call: both must describe the very same contract (constructors, messages with their selectors, argument and
// return types, events, storage), or a caller encoding for one would be wrong for the other (issue 23).
for (const c of ['ledger', 'inference', 'fine_tuning']) {
  test(`${c}: the thin and the full build's metadata describe the same contract`, () => {
    const thin = JSON.parse(readFileSync(metadataPath(c), 'utf8'));
    // Type paths and an event's `module_path` name the crate that declared them (`inference_full` in the full
    // build): only that crate name is set aside. Decoders match events by `signature_topic` and types by shape,
    // both compared here.
    const full = JSON.parse(
      readFileSync(metadataPath(`${c}_full`), 'utf8')
        .replaceAll(`"${c}_full"`, `"${c}"`)
        .replaceAll(`"${c}_full::`, `"${c}::`),
    );
    for (const section of ['spec', 'types', 'storage']) {
      assert.deepEqual(full[section], thin[section], `${c} ${section}`);
    }
    const selectors = (m) => m.spec.messages.map((x) => `${x.label} ${x.selector}`).sort();
    assert.deepEqual(selectors(full), selectors(thin));
    assert.ok(thin.spec.messages.some((x) => x.label === 'set_code' && x.args.length === 2), 'set_code(code, full)');
    assert.ok(thin.spec.constructors[0].args.some((x) => x.label === 'full_code'), 'the constructor takes the full build');
  });
}
