// The built page (web/dist) in Debian's Chromium, driven by playwright-core (its own browser download does not
// work on these machines). Signing without an extension: an injected account set (the injected-accounts
// interface wallets implement) whose keys stay in this Node process (page.exposeFunction), so the page runs its
// real wallet path and no key enters the bundle.
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { root } from './metadata.mjs';

export const dist = path.join(root, 'web', 'dist');
export const shots = path.join(root, 'target', 'web-screens');

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml' };

/** Serves web/dist on a free port; `deployment` (an object) is served as deployment.json when given. */
export async function serve(deployment) {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error('web/dist is missing: npm run build (make web) first');
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/deployment.json' && deployment) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(deployment));
      return;
    }
    const file = path.join(dist, path.normalize(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

export function chromiumPath() {
  for (const p of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (p && existsSync(p)) return p;
  throw new Error('Chromium not found: apt-get install chromium (scripts/web.sh installs it), or set CHROMIUM');
}

export async function launch() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A test wallet in the page: accounts from dev seeds (//Bob, …), signing in this process. `wallet.reject = true`
 * makes the next signatures fail as a user's "Cancel" does in an extension.
 */
export async function injectWallet(page, seeds, { api } = {}) {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const pairs = seeds.map((s) => keyring.addFromUri(s, { name: s.replace('//', '') }));
  const wallet = { reject: false, signed: 0, pairs };
  await page.exposeFunction('__walletSign', (kind, payload) => {
    if (wallet.reject) throw new Error('Cancelled');
    const pair = pairs.find((p) => p.address === payload.address);
    if (!pair) throw new Error(`no key for ${payload.address}`);
    wallet.signed += 1;
    if (kind === 'raw') return u8aToHex(pair.sign(hexToU8a(payload.data)));
    // An extrinsic payload: signed as an extension does, with the chain's registry (a real node's run).
    const ext = api.registry.createType('ExtrinsicPayload', payload, { version: payload.version });
    return ext.sign(pair).signature;
  });
  const accounts = pairs.map((p) => ({ address: p.address, name: p.meta.name, type: 'sr25519' }));
  await page.addInitScript((accounts) => {
    let id = 0;
    window.injectedWeb3 = {
      'serving-test-keys': {
        version: '1.0.0',
        enable: async () => ({
          accounts: { get: async () => accounts, subscribe: (cb) => (cb(accounts), () => {}) },
          signer: {
            signRaw: async (p) => ({ id: ++id, signature: await window.__walletSign('raw', p) }),
            signPayload: async (p) => ({ id: ++id, signature: await window.__walletSign('payload', p) }),
          },
        }),
      },
    };
  }, accounts);
  return wallet;
}

/** The scripted chain (fake-node.mjs) as the page's transport. */
export async function injectFakeNode(page, node) {
  await page.exposeFunction('__fakeNode', (op, args) => node.handle(op, args));
  await page.addInitScript(() => {
    const big = (r) => (r && r.gasRequired ? { ...r, gasRequired: { refTime: BigInt(r.gasRequired.refTime), proofSize: BigInt(r.gasRequired.proofSize) }, deposit: BigInt(r.deposit) } : r);
    window.servingTransport = {
      async connect() {},
      onStatus(f) {
        window.__servingStatus = f;
      },
      properties: () => ({ decimals: 12, symbol: 'UNIT', ss58: 42 }),
      now: async () => BigInt(await window.__fakeNode('now', [])),
      codeHash: (a) => window.__fakeNode('codeHash', [a]),
      balance: async (a) => {
        const b = await window.__fakeNode('balance', [a]);
        return { free: BigInt(b.free), reserved: BigInt(b.reserved) };
      },
      call: async (origin, dest, value, data) => big(await window.__fakeNode('call', [origin, dest, String(value), data])),
      // As a node would: the wallet signs (here the call data, raw), then the call is included.
      async submit({ from, signer, dest, value, data }) {
        let signature;
        try {
          ({ signature } = await signer.signRaw({ address: from, data, type: 'bytes' }));
        } catch (e) {
          const err = new Error(/cancel/i.test(String(e?.message ?? e)) ? 'You declined to sign: nothing was sent.' : `The wallet could not sign: ${e?.message ?? e}`);
          throw err;
        }
        return window.__fakeNode('submit', [{ from, dest, value: String(value), data, signature }]);
      },
      recentEvents: (n) => window.__fakeNode('events', [n]),
    };
  });
}
