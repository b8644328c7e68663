// What the page shows, computed from the contracts' answers (plain values, see codec.js) and the time. No DOM,
// no chain: unit-tested in web/test/views.test.mjs.
import { countdown, formatTime, sameAccount } from './format.js';
import { variant } from './codec.js';

/** The ledger registry's service types the page knows, and the metadata each is read with. */
export const KINDS = { inference: 'inference', 'fine-tuning': 'fine_tuning' };

/** Registered services of known types, enabled ones, recommended version first. */
export function servicesFromRegistry(entries) {
  return entries
    .filter((e) => KINDS[e.info.serviceType] && e.info.enabled)
    .map((e) => ({ address: e.address, kind: KINDS[e.info.serviceType], type: e.info.serviceType, version: e.info.version, recommended: e.info.isRecommended, label: `${e.info.serviceType} ${e.info.version}` }))
    .sort((a, b) => a.type.localeCompare(b.type) || Number(b.recommended) - Number(a.recommended) || a.version.localeCompare(b.version));
}

/**
 * A provider's card: its service view (get_all_services) and state (provider_state). Usable means its settlements
 * would pass the signer check now: the owner acknowledged its TEE signer, or an on-chain attestation counts.
 */
export function providerCard(service, view, state, nowMs) {
  const p = view.params;
  const attestation = state?.attestation ?? null;
  const usable = state ? state.usableSigner !== null : view.teeSignerAcknowledged;
  let why;
  if (!usable) why = 'not usable: no acknowledged signer and no valid attestation';
  else if (view.teeSignerAcknowledged) why = 'usable: TEE signer acknowledged by the owner';
  else why = `usable: attested until ${formatTime(attestation?.expiresAt)}`;
  const card = {
    service: service.label,
    kind: service.kind,
    serviceAddress: service.address,
    provider: view.provider,
    url: p.url,
    teeSigner: p.teeSigner,
    stake: view.stake,
    usable,
    why,
    updated: formatTime(view.updatedAt),
    attestationExpires: attestation ? formatTime(attestation.expiresAt) : null,
    attestationLeft: attestation ? countdown(attestation.expiresAt, nowMs) : null,
  };
  if (service.kind === 'inference') {
    return { ...card, model: p.model, prices: [['input', p.inputPrice], ['output', p.outputPrice]], verifiability: p.verifiability };
  }
  return { ...card, model: (p.models ?? []).join(', '), prices: [['per token', p.pricePerToken]], occupied: p.occupied };
}

/** My ledger: available, held at services, total. */
export function ledgerSummary(view) {
  if (!view) return null;
  return { available: view.availableBalance, atServices: view.totalBalance - view.availableBalance, total: view.totalBalance, note: view.additionalInfo };
}

/**
 * One sub-account (get_account): balance, what is still free to request back, refunds with their unlock
 * countdowns, what can be collected now, consent and when its withdrawal takes effect.
 */
export function subAccountRow(service, account, nowMs) {
  const refunds = (account.refunds ?? []).map((r) => ({ amount: r.amount, unlockAt: r.unlockAt, unlocked: BigInt(r.unlockAt) <= BigInt(nowMs), left: countdown(r.unlockAt, nowMs), at: formatTime(r.unlockAt) }));
  const unlocked = refunds.filter((r) => r.unlocked).reduce((s, r) => s + r.amount, 0n);
  const requestable = account.balance - account.pendingRefund;
  let consent;
  if (account.acknowledged) consent = 'given';
  else if (account.consentEndsAt !== null && BigInt(account.consentEndsAt) > BigInt(nowMs)) consent = `withdrawn: settlements end ${countdown(account.consentEndsAt, nowMs)} (${formatTime(account.consentEndsAt)})`;
  else consent = 'withdrawn';
  return {
    service: service.label,
    kind: service.kind,
    serviceAddress: service.address,
    provider: account.provider,
    balance: account.balance,
    pending: account.pendingRefund,
    requestable,
    refunds,
    unlocked,
    acknowledged: account.acknowledged,
    consent,
    deliverables: account.deliverables ?? null,
  };
}

/** A fine-tuning deliverable: its state in words and whether I can acknowledge it. */
export function deliverableRow(provider, d) {
  const [state, data] = variant(d.state);
  const words = { Pending: 'delivered, waiting for your acknowledgement', Acknowledged: 'acknowledged', Abandoned: 'abandoned by the provider' };
  return {
    provider,
    id: d.id,
    modelRootHash: d.modelRootHash,
    state: state === 'Settled' ? (data?.penalized ? 'settled with the penalty (never acknowledged)' : 'settled (key revealed)') : words[state] ?? state,
    canAcknowledge: state === 'Pending',
    added: formatTime(d.addedAt),
    penaltyPercent: d.penaltyPercent,
    secretRevealed: d.encryptedSecret && d.encryptedSecret !== '0x',
  };
}

const AMOUNT_FIELDS = ['amount', 'cancelled', 'sent', 'refundRequested', 'settled', 'unsettled', 'balance', 'pendingRefund', 'fee'];

/**
 * My events among the contracts' events, newest first: those naming me in a field, and settlement batches with an
 * outcome for me (the batch events carry only the provider as a topic). Amount fields are kept for formatting.
 */
export function myActivity(events, me) {
  const mine = [];
  for (const ev of events) {
    const hits = mentions(ev.args, me);
    if (!hits) continue;
    const amounts = [];
    collectAmounts(ev.args, me, amounts);
    mine.push({ block: ev.block, kind: ev.kind, name: ev.name, amounts, settlement: ev.name === 'TeeSettlementResults' || ev.name === 'FeesSettled' });
  }
  return mine.reverse();
}

function mentions(v, me) {
  if (typeof v === 'string') return sameAccount(v, me);
  if (Array.isArray(v)) return v.some((x) => mentions(x, me));
  if (v && typeof v === 'object') return Object.values(v).some((x) => mentions(x, me));
  return false;
}

// Amounts of the record that names me (in a batch event: only my outcomes, not other users').
function collectAmounts(v, me, out, key) {
  if (Array.isArray(v)) {
    for (const x of v) if (mentions(x, me)) collectAmounts(x, me, out, key);
    return;
  }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) collectAmounts(x, me, out, k);
    return;
  }
  if (typeof v === 'bigint' && AMOUNT_FIELDS.includes(key)) out.push([key, v]);
}
