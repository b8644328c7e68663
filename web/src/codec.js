// Decoded polkadot.js values as plain JavaScript: integers as BigInt, accounts as SS58 strings, byte arrays as
// 0x-hex, structs as objects, Option as the value or null, an enum as its variant name (no data) or
// { Variant: data }. The views and the error texts work on these only, so they are tested without a chain.
export function plain(c) {
  if (c === null || c === undefined) return null;
  if (typeof c.isNone === 'boolean' && typeof c.unwrapOr === 'function') return c.isNone ? null : plain(c.unwrap());
  if (typeof c.isBasic === 'boolean' && typeof c.type === 'string' && 'inner' in c) {
    if (c.isBasic) return c.type;
    const inner = c.inner;
    const isNull = inner && inner.toRawType && inner.toRawType() === 'Null';
    return { [c.type]: isNull ? null : plain(inner) };
  }
  if (typeof c.toBigInt === 'function' && !(c instanceof Uint8Array)) return c.toBigInt();
  if (typeof c.isTrue === 'boolean') return c.isTrue;
  if (c instanceof Uint8Array) return c.toString();
  if (c instanceof String) return c.toString();
  if (c instanceof Map) return Object.fromEntries([...c.entries()].map(([k, v]) => [k, plain(v)]));
  if (Array.isArray(c)) return c.map(plain);
  if (typeof c.toPrimitive === 'function') return c.toPrimitive();
  return c;
}

/** [name, data] of a plain enum value. */
export function variant(e) {
  if (typeof e === 'string') return [e, null];
  if (e && typeof e === 'object') {
    const [k] = Object.keys(e);
    return [k, e[k]];
  }
  return [String(e), null];
}
