// The page's one door to the chain. `Chain` encodes calls with the contracts' metadata (@polkadot/api-contract's
// Abi), dry-runs every call first, decodes answers and events; a transport moves the bytes. `NodeTransport` talks
// to a node with @polkadot/api; tests hand the page a transport that answers from recorded chain answers (a
// `window.servingTransport` set before the page loads), so the same encoding and decoding run in both.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Abi } from '@polkadot/api-contract';
import { compactStripLength, hexToU8a, u8aToHex } from '@polkadot/util';
import { plain } from './codec.js';
import { describeDispatch, describeError } from './errors.js';
import { formatAmount, formatTime } from './format.js';

/** A call the chain or the contract refused (or would refuse); `message` is for the user. */
export class ChainError extends Error {
  constructor(message, { kind = 'contract', detail } = {}) {
    super(message);
    this.kind = kind;
    this.detail = detail;
  }
}

export class NodeTransport {
  constructor(url) {
    this.url = url;
    this.listeners = [];
  }

  async connect() {
    const provider = new WsProvider(this.url, 2000);
    provider.on('disconnected', () => this.listeners.forEach((f) => f('disconnected')));
    provider.on('connected', () => this.listeners.forEach((f) => f('connected')));
    this.api = await Promise.race([
      ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true }),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no node answers at ${this.url}`)), 15000)),
    ]);
    return this;
  }

  onStatus(f) {
    this.listeners.push(f);
  }

  properties() {
    const r = this.api.registry;
    return { decimals: r.chainDecimals[0] ?? 12, symbol: r.chainTokens[0] ?? 'UNIT', ss58: r.chainSS58 ?? 42 };
  }

  async now() {
    return (await this.api.query.timestamp.now()).toBigInt();
  }

  async codeHash(address) {
    const info = await this.api.query.contracts.contractInfoOf(address);
    return info.isSome ? info.unwrap().codeHash.toHex() : null;
  }

  async balance(address) {
    const a = await this.api.query.system.account(address);
    return { free: a.data.free.toBigInt(), reserved: a.data.reserved.toBigInt() };
  }

  /** Dry run: { ok, data (hex), revert, gasRequired: {refTime, proofSize}, deposit, error } */
  async call(origin, dest, value, data) {
    const r = await this.api.call.contractsApi.call(origin, dest, value, null, null, data);
    const base = {
      gasRequired: { refTime: r.gasRequired.refTime.toBigInt(), proofSize: r.gasRequired.proofSize.toBigInt() },
      deposit: r.storageDeposit.isCharge ? r.storageDeposit.asCharge.toBigInt() : 0n,
    };
    if (r.result.isErr) return { ...base, ok: false, error: this.dispatchName(r.result.asErr) };
    const ok = r.result.asOk;
    return { ...base, ok: true, revert: ok.flags.isRevert, data: ok.data.toHex() };
  }

  dispatchName(e) {
    if (e.isModule) {
      const m = this.api.registry.findMetaError(e.asModule);
      return `${m.section}.${m.name}`;
    }
    return e.type;
  }

  /** Signs with the wallet's signer and waits for the block; resolves to { block, events } or rejects. */
  submit({ from, signer, dest, value, gas, deposit, data }) {
    const tx = this.api.tx.contracts.call(dest, value, { refTime: gas.refTime, proofSize: gas.proofSize }, deposit, data);
    return new Promise((resolve, reject) => {
      tx.signAndSend(from, { signer }, (res) => {
        if (res.dispatchError) {
          reject(new ChainError(describeDispatch(this.dispatchName(res.dispatchError)), { kind: 'dispatch' }));
        } else if (res.status.isInBlock || res.status.isFinalized) {
          resolve({ block: res.status.isInBlock ? res.status.asInBlock.toHex() : res.status.asFinalized.toHex(), events: this.contractEvents(res.events) });
        } else if (res.status.isInvalid || res.status.isDropped || res.status.isUsurped) {
          reject(new ChainError(`The node did not include the transaction (${res.status.type}).`, { kind: 'dispatch' }));
        }
      }).catch((e) => reject(new ChainError(signingText(e), { kind: 'signer' })));
    });
  }

  contractEvents(records, block) {
    return records
      .filter((r) => r.event.section === 'contracts' && r.event.method === 'ContractEmitted')
      .map((r) => ({ block, contract: r.event.data[0].toString(), data: r.event.data[1].toHex(), topics: r.topics.map((t) => t.toHex()) }));
  }

  /** Contract events of the last `blocks` blocks, oldest first. */
  async recentEvents(blocks) {
    const head = (await this.api.rpc.chain.getHeader()).number.toNumber();
    const out = [];
    for (let n = Math.max(0, head - blocks + 1); n <= head; n++) {
      const hash = await this.api.rpc.chain.getBlockHash(n);
      const at = await this.api.at(hash);
      out.push(...this.contractEvents(await at.query.system.events(), n));
    }
    return out;
  }
}

export function signingText(e) {
  const m = String(e?.message ?? e);
  return /cancel|reject|denied|declined/i.test(m) ? 'You declined to sign: nothing was sent.' : `The wallet could not sign: ${m}`;
}

const LIMIT_MARGIN = 110n; // gas and deposit limits: the dry run's figures plus 10 %

export class Chain {
  /** transport: NodeTransport or a recorded one; metadata: { ledger, inference, fine_tuning } JSON. */
  constructor(transport, metadata) {
    this.t = transport;
    this.abi = Object.fromEntries(Object.entries(metadata).map(([k, m]) => [k, new Abi(m)]));
    this.metadata = metadata;
    this.props = transport.properties();
  }

  fmt = (units) => formatAmount(units, this.props.decimals, this.props.symbol);


  message(kind, name) {
    const m = this.abi[kind].messages.find((x) => x.method === name || x.identifier === name || x.identifier === `Serving::${name}`);
    if (!m) throw new Error(`${kind} has no message ${name}`);
    return m;
  }

  /**
   * The call data of `kind.name(args)`: selector and SCALE-encoded arguments, as hex. (api-contract's
   * `toU8a` puts a length prefix in front, for its own `Bytes`; the runtime API and the extrinsic take the raw
   * bytes, so the prefix is stripped here: sent with it, every call answers `CouldNotReadInput`.)
   */
  encode(kind, name, args) {
    return u8aToHex(compactStripLength(this.message(kind, name).toU8a(args))[1]);
  }

  /**
   * Dry-runs `kind.name(args)` at `address` as `origin`; returns { value, gas, deposit } with `value` the message's
   * Ok value as plain JavaScript, or throws ChainError with the contract's error in words.
   */
  async dryRun(kind, address, name, args = [], { origin, value = 0n } = {}) {
    const m = this.message(kind, name);
    const r = await this.t.call(origin ?? address, address, value, this.encode(kind, name, args));
    if (!r.ok) throw new ChainError(describeDispatch(r.error), { kind: 'dispatch', detail: r.error });
    const out = this.abi[kind].registry.createTypeUnsafe(m.returnType.lookupName || m.returnType.type, [hexToU8a(r.data)]);
    // ink!'s outer Result: a LangError means the selector or the arguments were not understood.
    if (out.isErr) throw new ChainError(describeDispatch(out.asErr.type), { kind: 'lang', detail: out.asErr.type });
    let v = out.asOk;
    if (v && isResult(v)) {
      if (v.isErr) {
        const e = plain(v.asErr);
        throw new ChainError(describeError(kind === 'ledger' ? 'ledger' : 'service', e, this.fmt, formatTime), { detail: e });
      }
      v = v.asOk;
    }
    if (r.revert) throw new ChainError('The contract reverted the call.', { kind: 'revert' });
    return { value: plain(v), gas: r.gasRequired, deposit: r.deposit };
  }

  /** Dry-runs, then (when that succeeds) asks the wallet to sign and sends; resolves to the included events. */
  async send(kind, address, name, args, { from, signer, value = 0n, dry }) {
    dry ??= await this.dryRun(kind, address, name, args, { origin: from, value });
    const gas = { refTime: (dry.gas.refTime * LIMIT_MARGIN) / 100n, proofSize: (dry.gas.proofSize * LIMIT_MARGIN) / 100n };
    const deposit = dry.deposit > 0n ? (dry.deposit * LIMIT_MARGIN) / 100n : null;
    const res = await this.t.submit({ from, signer, dest: address, value, gas, deposit, data: this.encode(kind, name, args) });
    return { ...res, result: dry.value, decoded: this.decodeEvents(res.events ?? []) };
  }

  /** Our contracts' events (address → kind) decoded into { contract, kind, name, args, block }. */
  decodeEvents(raw, addresses) {
    const out = [];
    for (const r of raw) {
      const kind = addresses ? addresses[r.contract] : this.kindOf?.(r.contract);
      if (!kind) continue;
      const abi = this.abi[kind];
      const sig = r.topics[0];
      let ev = abi.events.find((e) => e.signatureTopic && e.signatureTopic === sig);
      if (!ev) {
        const anon = abi.events.filter((e) => !e.signatureTopic && e.args.filter((a) => a.indexed).length === r.topics.length);
        if (anon.length !== 1) continue;
        [ev] = anon;
      }
      try {
        const d = ev.fromU8a(hexToU8a(r.data));
        out.push({ block: r.block, contract: r.contract, kind, name: ev.identifier.split('::').pop(), args: Object.fromEntries(ev.args.map((a, i) => [a.name, plain(d.args[i])])) });
      } catch {
        // not one of ours after all
      }
    }
    return out;
  }
}

function isResult(v) {
  return typeof v.isOk === 'boolean' && typeof v.isErr === 'boolean';
}
