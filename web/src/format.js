// Amounts, addresses and times as the page shows and reads them. Plain functions: unit-tested in Node
// (web/test/format.test.mjs) and used unchanged by the page.
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';

export const U128_MAX = (1n << 128n) - 1n;

/** A user's input that cannot become an amount: the message says why, in words. */
export class InputError extends Error {}

/**
 * Reads an amount in whole tokens ("1.5") into the chain's smallest unit (with `decimals` digits).
 * Refuses what the chain would refuse or misread: empty, signs, exponents, separators other than one '.', more
 * decimals than the chain has, zero (unless `allowZero`), more than u128, more than `max` (the balance it is
 * taken from, with `maxLabel` naming it).
 */
export function parseAmount(text, decimals, { allowZero = false, max, maxLabel = 'your balance', symbol = '' } = {}) {
  const s = String(text ?? '').trim().replace(/_/g, '');
  if (s === '') throw new InputError('Enter an amount.');
  if (!/^\d*\.?\d*$/.test(s) || s === '.') {
    throw new InputError(`"${text}" is not an amount: use digits and at most one "." (e.g. 1.5).`);
  }
  const [whole, frac = ''] = s.split('.');
  if (frac.length > decimals) {
    throw new InputError(`At most ${decimals} decimal places: the chain's smallest unit is 10^-${decimals}.`);
  }
  const units = BigInt(whole || '0') * 10n ** BigInt(decimals) + BigInt((frac + '0'.repeat(decimals)).slice(0, decimals) || '0');
  if (units > U128_MAX) throw new InputError('That amount is larger than the chain can hold.');
  if (units === 0n && !allowZero) throw new InputError('The amount must be more than 0.');
  if (max !== undefined && units > max) {
    throw new InputError(`That is more than ${maxLabel} (${formatAmount(max, decimals, symbol)}).`);
  }
  return units;
}

/** The chain's smallest unit as whole tokens: "1,234.5 UNIT"; trailing zeros dropped, digits never rounded. */
export function formatAmount(units, decimals, symbol = '') {
  const v = BigInt(units);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const base = 10n ** BigInt(decimals);
  const whole = (a / base).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = decimals > 0 ? (a % base).toString().padStart(decimals, '0').replace(/0+$/, '') : '';
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''}${symbol ? ' ' + symbol : ''}`;
}

/** Time left until `atMs` (chain time, ms) from `nowMs`, for refund unlocks and consent withdrawals. */
export function countdown(atMs, nowMs) {
  const left = Number(BigInt(atMs) - BigInt(nowMs));
  if (left <= 0) return 'now';
  const s = Math.ceil(left / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  if (d > 0) return `in ${d} d ${h} h`;
  if (h > 0) return `in ${h} h ${two(m)} min`;
  if (m > 0) return `in ${m} min ${two(sec)} s`;
  return `in ${sec} s`;
}

/** A chain time (ms since 1970) as a UTC date and time. */
export function formatTime(ms) {
  const n = Number(ms);
  if (!Number.isFinite(n) || n <= 0) return '—';
  return new Date(n).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** Checks an address typed by a user (SS58 of any prefix or 32-byte hex); returns it in the chain's format. */
export function parseAddress(text, ss58Format = 42) {
  const s = String(text ?? '').trim();
  if (s === '') throw new InputError('Enter an address.');
  let raw;
  try {
    raw = decodeAddress(s);
  } catch {
    throw new InputError(`"${s}" is not an account address (SS58, or 0x and 64 hex digits).`);
  }
  if (raw.length !== 32) throw new InputError(`"${s}" is not a 32-byte account address.`);
  if (raw.every((b) => b === 0)) throw new InputError('The zero address cannot hold funds.');
  return encodeAddress(raw, ss58Format);
}

/** Same account? (SS58 of any prefix or hex on either side.) */
export function sameAccount(a, b) {
  try {
    return u8aToHex(decodeAddress(String(a))) === u8aToHex(decodeAddress(String(b)));
  } catch {
    return false;
  }
}

export function shortAddress(a) {
  const s = String(a);
  return s.length > 16 ? `${s.slice(0, 6)}…${s.slice(-6)}` : s;
}

/** A length of time in ms in words: "1 d", "2 h 30 min", "1 min", "45 s". */
export function duration(ms) {
  let s = Math.round(Number(ms) / 1000);
  if (s <= 0) return '0 s';
  const parts = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]]) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)} ${unit}`);
      s %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}
