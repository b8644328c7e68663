// A scripted chain for the browser tests in `make test` (no node there): the three contracts' state for a few
// accounts, their rules for the messages the page uses (the errors they give, with the contracts' own variants),
// and every answer encoded with the release bundles' metadata, so the page's real encoding and decoding run. The
// page reaches it through `window.servingTransport` (test/lib/browser.mjs); `make node-e2e` runs the same page
// against a real node instead (e2e/node-e2e.mjs).
import { Abi } from '@polkadot/api-contract';
import { compactAddLength, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { decodeAddress, encodeAddress, signatureVerify } from '@polkadot/util-crypto';
import { metadata } from './metadata.mjs';

export const UNIT = 10n ** 12n;
const acct = (byte) => encodeAddress(new Uint8Array(32).fill(byte), 42);
export const LEDGER = acct(0x11);
export const INFERENCE = acct(0x22);
export const FINE_TUNING = acct(0x33);
export const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
export const CHARLIE = '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y';
const key = (a) => u8aToHex(decodeAddress(a));

class Refused extends Error {
  constructor(err) {
    super(JSON.stringify(err, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
    this.err = err;
  }
}
const refuse = (err) => {
  throw new Refused(err);
};

export class FakeNode {
  constructor(now) {
    this.now = now;
    this.block = 100;
    this.abi = Object.fromEntries(Object.entries(metadata).map(([k, m]) => [k, new Abi(m)]));
    this.kinds = { [LEDGER]: 'ledger', [INFERENCE]: 'inference', [FINE_TUNING]: 'fine_tuning' };
    this.codeHashes = Object.fromEntries(Object.entries(this.kinds).map(([a, k]) => [a, metadata[k].source.hash]));
    this.down = false;
    this.submitted = []; // { from, kind, message, args, value }
    this.events = []; // { block, contract, data, topics }
    this.wallet = { [key(BOB)]: 1000n * UNIT, [key(CHARLIE)]: 1000n * UNIT };
    this.min = [1n * UNIT, UNIT / 10n];
    this.lockMs = 60_000n;
    this.ledgers = {}; // user key -> { available, info }
    this.subs = { inference: {}, fine_tuning: {} }; // `${user}|${provider}` -> sub-account
    this.deliverables = {}; // `${user}|${provider}` -> [deliverable]
    const signer = '0x' + 'ab'.repeat(20);
    this.providers = {
      inference: [{ provider: CHARLIE, updatedAt: BigInt(now) - 3_600_000n, teeSignerAcknowledged: true, stake: 100n * UNIT, params: { serviceType: 'chatbot', url: 'https://charlie.example/v1', inputPrice: 1_000_000n, outputPrice: 2_000_000n, model: 'llama-3.1-8b', verifiability: 'TeeML', additionalInfo: '', teeSigner: signer } }],
      fine_tuning: [{ provider: CHARLIE, updatedAt: BigInt(now) - 3_600_000n, teeSignerAcknowledged: false, stake: 100n * UNIT, params: { url: 'https://charlie.example/ft', quota: { cpuCount: 8, nodeMemory: 64, gpuCount: 1, nodeStorage: 500, gpuType: 'H100' }, pricePerToken: 5_000_000n, occupied: false, models: ['llama-3.1-8b', 'qwen2.5-7b'], teeSigner: signer } }],
    };
    this.attestation = { signer, attestor: '0x' + '01'.repeat(20), measurement: '0x' + '02'.repeat(32), expiresAt: BigInt(now) + 86_400_000n * 3n };
  }

  // ---- the transport's operations (window.servingTransport in the page calls these) ----------------------

  handle(op, args) {
    if (this.down) throw new Error('WebSocket is not connected');
    return this[`op_${op}`](...args);
  }

  op_codeHash(address) {
    return this.codeHashes[address] ?? null;
  }

  op_balance(address) {
    return { free: String(this.wallet[key(address)] ?? 0n), reserved: '0' };
  }

  op_now() {
    return String(this.now);
  }

  op_events(blocks) {
    return this.events.filter((e) => e.block > this.block - blocks);
  }

  op_call(origin, dest, value, data) {
    const kind = this.kinds[dest];
    if (!kind) return { ok: false, error: 'Contracts.ContractNotFound' };
    const { message, args } = this.decode(kind, data);
    const snapshot = this.save();
    try {
      const v = this.run(kind, message, args, origin, BigInt(value));
      return this.answer(kind, message, { Ok: v }, false);
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      return this.answer(kind, message, { Err: e.err }, true);
    } finally {
      this.restore(snapshot);
    }
  }

  op_submit({ from, dest, value, data, signature }) {
    // The wallet signed the call data for this account (the page's signer path ran), or nothing happens.
    if (!signatureVerify(hexToU8a(data), signature, from).isValid) throw new Error('bad signature');
    const kind = this.kinds[dest];
    const { message, args } = this.decode(kind, data);
    const before = this.events.length;
    this.block += 1;
    try {
      this.run(kind, message, args, from, BigInt(value));
    } catch (e) {
      if (e instanceof Refused) throw new Error(`Contracts.ContractReverted ${e.message}`);
      throw e;
    }
    this.submitted.push({ from, kind, message: message.identifier, args, value: BigInt(value) });
    return { block: `0x${this.block.toString(16).padStart(64, '0')}`, events: this.events.slice(before) };
  }

  // ---- encoding with the metadata -------------------------------------------------------------------------

  // The page sends raw call data (selector and arguments), as a node takes it; api-contract's decoder wants
  // the length prefix its own encoding carries.
  decode(kind, data) {
    const d = this.abi[kind].decodeMessage(compactAddLength(hexToU8a(data)));
    return { message: d.message, args: d.args };
  }

  answer(kind, message, result, revert) {
    const t = message.returnType;
    const nested = this.abi[kind].registry.createTypeUnsafe(t.lookupName || t.type, []).toRawType().startsWith('Result<Result<');
    const body = nested ? { Ok: result } : result.Ok !== undefined ? { Ok: result.Ok } : result;
    const bytes = this.abi[kind].registry.createTypeUnsafe(t.lookupName || t.type, [body]).toU8a();
    return { ok: true, revert, data: u8aToHex(bytes), gasRequired: { refTime: '1000000000', proofSize: '50000' }, deposit: '0' };
  }

  emit(kind, name, values) {
    const abi = this.abi[kind];
    const ev = abi.events.find((e) => e.identifier.split('::').pop() === name);
    const bytes = u8aConcat(...ev.args.map((a) => abi.registry.createTypeUnsafe(a.type.lookupName || a.type.type, [values[a.name]]).toU8a()));
    const address = Object.keys(this.kinds).find((a) => this.kinds[a] === kind);
    this.events.push({ block: this.block, contract: address, data: u8aToHex(bytes), topics: ev.signatureTopic ? [ev.signatureTopic] : [] });
  }

  save() {
    return structuredClone({ w: this.wallet, l: this.ledgers, s: this.subs, d: this.deliverables, e: this.events });
  }

  restore(s) {
    Object.assign(this, { wallet: s.w, ledgers: s.l, subs: s.s, deliverables: s.d, events: s.e });
  }

  // ---- the contracts' rules for what the page calls --------------------------------------------------------

  run(kind, message, a, origin, value) {
    const me = key(origin);
    const name = message.identifier.replace('Serving::', '');
    if (kind === 'ledger') return this.ledger(name, a, me, origin, value);
    return this.service(kind, name, a, me, origin);
  }

  pay(me, value) {
    if (value === 0n) return;
    if ((this.wallet[me] ?? 0n) < value) refuse('TransferFailed');
    this.wallet[me] -= value;
  }

  total(me) {
    const l = this.ledgers[me];
    if (!l) return 0n;
    let held = 0n;
    for (const k of ['inference', 'fine_tuning']) for (const [id, s] of Object.entries(this.subs[k])) if (id.startsWith(me)) held += s.balance;
    return l.available + held;
  }

  ledger(name, a, me, origin, value) {
    const l = this.ledgers[me];
    const need = () => l ?? refuse('LedgerNotExists');
    switch (name) {
      case 'get_all_services':
        return [[[INFERENCE, 'inference'], [FINE_TUNING, 'fine-tuning']].map(([address, serviceType]) => ({ address, info: { serviceType, version: 'v1', description: serviceType, isRecommended: true, enabled: true, registeredAt: 1n } })), 2];
      case 'minimums':
        return this.min;
      case 'get_ledger': {
        const u = key(a[0].toString());
        const x = this.ledgers[u] ?? refuse('LedgerNotExists');
        return { user: a[0].toString(), availableBalance: x.available, totalBalance: this.total(u), additionalInfo: x.info };
      }
      case 'get_ledger_providers': {
        const u = key(a[0].toString());
        const k = this.kinds[a[1].toString()];
        return Object.keys(this.subs[k] ?? {}).filter((id) => id.startsWith(u)).map((id) => encodeAddress(id.split('|')[1], 42));
      }
      case 'add_ledger':
        if (l) refuse('LedgerExists');
        if (value < this.min[0]) refuse({ MinimumDepositRequired: { amount: value, minimum: this.min[0] } });
        this.pay(me, value);
        this.ledgers[me] = { available: value, info: a[0].toString() };
        this.emit('ledger', 'LedgerAdded', { user: origin, amount: value });
        return null;
      case 'deposit_fund':
      case 'deposit_fund_for': {
        const to = name === 'deposit_fund' ? me : key(a[0].toString());
        if (value === 0n) refuse('ZeroAmount');
        if (!this.ledgers[to]) refuse('LedgerNotExists');
        this.pay(me, value);
        this.ledgers[to].available += value;
        this.emit('ledger', 'FundDeposited', { user: encodeAddress(to, 42), from: origin, amount: value });
        return null;
      }
      case 'refund': {
        const amount = a[0].toBigInt();
        need();
        if (amount === 0n) refuse('ZeroAmount');
        if (amount > l.available) refuse({ InsufficientBalance: { available: l.available, requested: amount } });
        const rest = l.available - amount;
        if (rest !== 0n && rest < this.min[0]) refuse({ InsufficientAvailableBalance: { available: l.available, required: amount + this.min[0] } });
        l.available = rest;
        this.wallet[me] += amount;
        this.emit('ledger', 'LedgerRefunded', { user: origin, amount });
        return null;
      }
      case 'transfer_fund': {
        const [provider, service, amt] = [a[0].toString(), a[1].toString(), a[2].toBigInt()];
        need();
        const k = this.kinds[service] ?? refuse('ServiceNotFound');
        const id = `${me}|${key(provider)}`;
        const sub = this.subs[k][id];
        if (!sub && amt < this.min[1]) refuse({ MinimumDepositRequired: { amount: amt, minimum: this.min[1] } });
        const cancelled = sub ? (sub.pendingRefund < amt ? sub.pendingRefund : amt) : 0n;
        const sent = amt - cancelled;
        if (sent > l.available) refuse({ InsufficientBalance: { available: l.available, requested: sent } });
        l.available -= sent;
        const s = sub ?? (this.subs[k][id] = { user: origin, provider, nonce: 0n, balance: 0n, pendingRefund: 0n, refunds: [], additionalInfo: '', acknowledged: true, consentEndsAt: null, generation: 0, deliverables: 0 });
        s.balance += sent;
        let left = cancelled;
        while (left > 0n) {
          const r = s.refunds[s.refunds.length - 1];
          const take = r.amount < left ? r.amount : left;
          r.amount -= take;
          left -= take;
          if (r.amount === 0n) s.refunds.pop();
        }
        s.pendingRefund -= cancelled;
        this.emit('ledger', 'FundTransferred', { user: origin, service, provider, amount: amt, cancelled, sent });
        return null;
      }
      case 'retrieve_fund': {
        need();
        const service = a[1].toString();
        const k = this.kinds[service];
        for (const p of a[0]) {
          const s = this.subs[k][`${me}|${key(p.toString())}`] ?? refuse({ Service: { Account: 'AccountNotExists' } });
          const due = s.refunds.filter((r) => r.unlockAt <= BigInt(this.now)).reduce((x, r) => x + r.amount, 0n);
          s.refunds = s.refunds.filter((r) => r.unlockAt > BigInt(this.now));
          s.balance -= due;
          s.pendingRefund -= due;
          l.available += due;
          const requested = s.balance - s.pendingRefund;
          if (requested > 0n) {
            const unlockAt = BigInt(this.now) + this.lockMs;
            s.refunds.push({ amount: requested, createdAt: BigInt(this.now), unlockAt });
            s.pendingRefund += requested;
            this.emit(k, 'RefundRequested', { user: origin, provider: p.toString(), amount: requested, index: s.refunds.length - 1, unlockAt });
          }
          this.emit('ledger', 'FundRetrieved', { user: origin, service, provider: p.toString(), amount: due, refundRequested: requested });
        }
        return null;
      }
      case 'delete_ledger': {
        need();
        const total = this.total(me);
        if (total > 0n) refuse({ MustWithdrawAllFundsFirst: { total } });
        delete this.ledgers[me];
        this.emit('ledger', 'LedgerDeleted', { user: origin });
        return 0;
      }
      default:
        throw new Error(`the fake ledger has no ${name}`);
    }
  }

  service(kind, name, a, me, origin) {
    const sub = (user, provider) => this.subs[kind][`${key(user)}|${key(provider)}`];
    switch (name) {
      case 'config':
        return { owner: CHARLIE, pendingOwner: null, ledger: LEDGER, chainId: 42n, lockTimeMs: this.lockMs, minStake: UNIT, liabilities: 0n, surplus: 0n, maxBatch: 50 };
      case 'get_all_services':
        return [this.providers[kind], this.providers[kind].length];
      case 'provider_state':
        return kind === 'inference'
          ? { stake: 100n * UNIT, unbonding: null, usableSigner: this.attestation.signer, attestation: null }
          : { stake: 100n * UNIT, unbonding: null, usableSigner: this.attestation.signer, attestation: this.attestation };
      case 'get_account': {
        const s = sub(a[0].toString(), a[1].toString()) ?? refuse({ Account: 'AccountNotExists' });
        const view = { ...s, user: a[0].toString(), provider: a[1].toString() };
        if (kind === 'inference') delete view.deliverables;
        else delete view.generation;
        return view;
      }
      case 'get_deliverables': {
        const list = this.deliverables[`${key(a[0].toString())}|${key(a[1].toString())}`] ?? [];
        return [list.slice(Number(a[2]), Number(a[2]) + Number(a[3])), list.length];
      }
      case 'acknowledge_tee_signer': {
        const s = sub(origin, a[0].toString()) ?? refuse({ Account: 'AccountNotExists' });
        const on = a[1].isTrue;
        s.acknowledged = on;
        s.consentEndsAt = on ? null : BigInt(this.now) + this.lockMs;
        this.emit(kind, 'UserAcknowledgementChanged', { user: origin, provider: a[0].toString(), acknowledged: on, effectiveAt: on ? BigInt(this.now) : s.consentEndsAt });
        return null;
      }
      case 'revoke_all_tokens': {
        const s = sub(origin, a[0].toString()) ?? refuse({ Account: 'AccountNotExists' });
        s.generation += 1;
        this.emit(kind, 'AllTokensRevoked', { user: origin, provider: a[0].toString(), generation: s.generation });
        return null;
      }
      case 'revoke_tokens': {
        sub(origin, a[0].toString()) ?? refuse({ Account: 'AccountNotExists' });
        this.emit(kind, 'TokensRevoked', { user: origin, provider: a[0].toString(), tokenIds: a[1] });
        return null;
      }
      case 'acknowledge_deliverable': {
        const list = this.deliverables[`${me}|${key(a[0].toString())}`] ?? [];
        const d = list.find((x) => x.id === a[1].toString()) ?? refuse({ Task: 'DeliverableNotExists' });
        d.state = 'Acknowledged';
        this.emit(kind, 'DeliverableAcknowledged', { user: origin, provider: a[0].toString(), id: d.id });
        return null;
      }
      default:
        throw new Error(`the fake ${kind} has no ${name}`);
    }
  }

  // ---- what the provider does (no page involved) -----------------------------------------------------------

  /** Charlie settles `fee` from `user`'s inference sub-account: one batch event, as the contract emits it. */
  settle(user, fee) {
    const s = this.subs.inference[`${key(user)}|${key(CHARLIE)}`];
    this.block += 1;
    s.balance -= fee;
    s.nonce += 1n;
    this.emit('inference', 'TeeSettlementResults', {
      provider: CHARLIE,
      results: [{ user, status: 'Success', settled: fee, unsettled: 0n }],
      balances: [{ user, balance: s.balance, pendingRefund: s.pendingRefund }],
    });
  }

  addDeliverable(user, id) {
    const k = `${key(user)}|${key(CHARLIE)}`;
    this.block += 1;
    (this.deliverables[k] ??= []).push({ id, modelRootHash: '0x' + 'cd'.repeat(32), encryptedSecret: '0x', state: 'Pending', addedAt: BigInt(this.now), penaltyPercent: 30 });
    this.subs.fine_tuning[k].deliverables += 1;
    this.emit('fine_tuning', 'DeliverableAdded', { user, provider: CHARLIE, id, modelRootHash: '0x' + 'cd'.repeat(32), penaltyPercent: 30 });
  }
}
