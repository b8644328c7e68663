// The marketplace page: boot (deployment file, metadata, node, services from the ledger's registry), the wallet
// (the injected-accounts interface of polkadot.js extension, Talisman, SubWallet), five tabs, and one path for
// every action: read the inputs (refusing bad ones before anything else), dry-run, show the contract's error in
// words or ask the wallet to sign, send, refresh.
import { Chain, ChainError, NodeTransport, signingText } from './chain.js';
import { InputError, countdown, duration, formatAmount, parseAddress, parseAmount, sameAccount, shortAddress } from './format.js';
import { deliverableRow, ledgerSummary, myActivity, providerCard, servicesFromRegistry, subAccountRow } from './views.js';

const APP = 'Serving marketplace';
const CALL_TIMEOUT_MS = 20000;
const ACTIVITY_BLOCKS = 200;
const TABS = [
  ['market', 'Marketplace'],
  ['ledger', 'My ledger'],
  ['accounts', 'My sub-accounts'],
  ['tuning', 'Fine-tuning'],
  ['activity', 'Activity'],
];

const S = {
  tab: new URLSearchParams(location.search).get('tab') || 'market',
  chain: null,
  transport: null,
  deployment: null,
  services: [],
  wallets: [], // { address, name, source, signer }
  me: null,
  connected: false,
  busy: false,
  data: {},
};
window.servingPage = S; // read by the browser tests (state only; nothing secret lives here)

const $ = (id) => document.getElementById(id);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const amount = (v) => formatAmount(v, S.chain.props.decimals, S.chain.props.symbol);
const addr = (a) => h('span', { class: 'mono', title: a }, shortAddress(a));

function setStatus(kind, text) {
  const el = $('status');
  el.className = kind;
  el.textContent = text;
}

function withTimeout(p, what) {
  return Promise.race([
    p,
    new Promise((_, reject) => setTimeout(() => reject(new ChainError(`The node did not answer (${what}): nothing was sent.`, { kind: 'node' })), CALL_TIMEOUT_MS)),
  ]);
}

function words(e) {
  if (e instanceof InputError || e instanceof ChainError) return e.message;
  const m = String(e?.message ?? e);
  if (/disconnect|not connected|WebSocket|socket/i.test(m)) return 'The node is unreachable: nothing was sent. The page reconnects by itself.';
  return m;
}

// ---- boot -----------------------------------------------------------------------------------------------

async function loadDeployment(params) {
  const file = params.get('deployment') || 'deployment.json';
  let d = {};
  try {
    const r = await fetch(file, { cache: 'no-store' });
    if (r.ok) d = await r.json();
  } catch {
    // no deployment file: the URL must name the node and the ledger
  }
  if (params.get('ws')) d.url = params.get('ws');
  if (params.get('ledger')) d.ledger = params.get('ledger');
  if (!d.url || !d.ledger) {
    throw new InputError(`No deployment: serve ${file} (written by make deploy) beside the page, or open it with ?ws=ws://host:9944&ledger=<address>.`);
  }
  return d;
}

async function loadMetadata() {
  const out = {};
  for (const c of ['ledger', 'inference', 'fine_tuning']) {
    const r = await fetch(`metadata/${c}.json`, { cache: 'no-store' });
    if (!r.ok) throw new Error(`metadata/${c}.json is missing from the build (make web copies it from target/ink)`);
    out[c] = await r.json();
  }
  return out;
}

async function boot() {
  renderTabs();
  const params = new URLSearchParams(location.search);
  try {
    S.deployment = await loadDeployment(params);
    const metadata = await loadMetadata();
    $('chain').textContent = `connecting to ${S.deployment.url}…`;
    S.transport = window.servingTransport ?? new NodeTransport(S.deployment.url);
    await withTimeout(S.transport.connect(), 'connect');
    S.connected = true;
    S.transport.onStatus((s) => {
      S.connected = s === 'connected';
      renderConn();
      if (S.connected) refresh();
    });
    S.chain = new Chain(S.transport, metadata);
    renderConn();
    const [entries] = (await S.chain.dryRun('ledger', S.deployment.ledger, 'get_all_services', [0, 50])).value;
    S.services = servicesFromRegistry(entries);
    S.chain.kindOf = (a) => (sameAccount(a, S.deployment.ledger) ? 'ledger' : S.services.find((s) => sameAccount(s.address, a))?.kind);
    await checkCode(metadata);
    renderWallet();
    await refresh();
    setInterval(tick, 1000);
  } catch (e) {
    S.connected = false;
    renderConn(words(e));
    setStatus('error', words(e));
  } finally {
    loadingCount -= 1;
    if (loadingCount === 0) delete document.body.dataset.loading;
  }
}

// The code at each address must be the code the page's metadata describes, or calls would be misencoded.
async function checkCode(metadata) {
  const warnings = [];
  const all = [{ label: 'ledger', kind: 'ledger', address: S.deployment.ledger }, ...S.services];
  for (const s of all) {
    const onChain = await S.transport.codeHash(s.address);
    const expected = metadata[s.kind].source.hash;
    if (onChain === null) warnings.push(`No contract at ${s.address} (${s.label}).`);
    else if (onChain !== expected) warnings.push(`The ${s.label} contract at ${shortAddress(s.address)} runs code ${shortAddress(onChain)}, not the ${shortAddress(expected)} this page's metadata describes: calls may be misread. Rebuild the page from the deployed bundles.`);
  }
  $('warnings').replaceChildren(...warnings.map((w) => h('div', { class: 'warn', 'data-testid': 'warning' }, w)));
}

function renderConn(error) {
  const el = $('chain');
  if (!S.deployment) return;
  el.className = S.connected ? '' : 'down';
  el.textContent = S.connected ? `${S.deployment.url} · ledger ${shortAddress(S.deployment.ledger)}` : error ? `${error}` : `node unreachable (${S.deployment.url}): reconnecting…`;
  document.querySelectorAll('button.primary').forEach((b) => (b.disabled = !S.connected || S.busy));
}

// ---- wallet ---------------------------------------------------------------------------------------------

function connectWallet() {
  return loading(enableWallets);
}

async function enableWallets() {
  const sources = Object.entries(window.injectedWeb3 ?? {});
  if (sources.length === 0) {
    setStatus('error', 'No wallet extension found: install polkadot.js extension, Talisman or SubWallet, then reload.');
    return;
  }
  const wallets = [];
  for (const [source, ext] of sources) {
    try {
      const injected = await ext.enable(APP);
      for (const a of await injected.accounts.get()) wallets.push({ address: parseAddress(a.address, S.chain.props.ss58), name: a.name ?? source, source, signer: injected.signer });
    } catch (e) {
      setStatus('error', `${source}: ${signingText(e)}`);
    }
  }
  S.wallets = wallets;
  if (wallets.length === 0) setStatus('error', 'The wallet shares no account with this page.');
  S.me = wallets[0] ?? null;
  renderWallet();
  await refresh();
}

function renderWallet() {
  const el = $('wallet');
  if (S.wallets.length === 0) {
    el.replaceChildren(h('button', { class: 'primary', 'data-testid': 'connect-wallet', onclick: connectWallet }, 'Connect wallet'));
    return;
  }
  const select = h(
    'select',
    { 'data-testid': 'account-select', onchange: (ev) => { S.me = S.wallets[ev.target.selectedIndex]; refresh(); } },
    S.wallets.map((w) => h('option', { selected: S.me === w }, `${w.name} ${shortAddress(w.address)}`)),
  );
  el.replaceChildren(select);
}

// ---- data -----------------------------------------------------------------------------------------------

async function view(kind, address, name, args) {
  return (await withTimeout(S.chain.dryRun(kind, address, name, args), name)).value;
}

async function optional(kind, address, name, args) {
  try {
    return await view(kind, address, name, args);
  } catch (e) {
    if (e instanceof ChainError && e.kind === 'contract') return null; // e.g. LedgerNotExists, AccountNotExists
    throw e;
  }
}

async function loadMarket() {
  const now = Date.now();
  const cards = [];
  for (const s of S.services) {
    const [views] = await view(s.kind, s.address, 'get_all_services', [0, 50]);
    for (const v of views) cards.push(providerCard(s, v, await view(s.kind, s.address, 'provider_state', [v.provider]), now));
  }
  const configs = {};
  for (const s of S.services) configs[s.address] = await view(s.kind, s.address, 'config', []);
  return { cards, configs };
}

async function loadMine() {
  const me = S.me.address;
  const ledger = await optional('ledger', S.deployment.ledger, 'get_ledger', [me]);
  const [minAccount, minTransfer] = await view('ledger', S.deployment.ledger, 'minimums', []);
  const wallet = await S.transport.balance(me);
  const rows = [];
  const deliverables = [];
  for (const s of S.services) {
    const providers = ledger ? await view('ledger', S.deployment.ledger, 'get_ledger_providers', [me, s.address]) : [];
    for (const p of providers) {
      const acc = await optional(s.kind, s.address, 'get_account', [me, p]);
      if (!acc) continue;
      rows.push(subAccountRow(s, acc, Date.now()));
      if (s.kind === 'fine_tuning') {
        const [list] = await view(s.kind, s.address, 'get_deliverables', [me, p, 0, 20]);
        deliverables.push(...list.map((d) => ({ ...deliverableRow(p, d), service: s })));
      }
    }
  }
  return { ledger: ledgerSummary(ledger), minAccount, minTransfer, wallet, rows, deliverables };
}

// While the page boots, connects a wallet or reads the chain, <body data-loading> is set (index.html sets it
// first; the browser tests wait for it to clear).
let loadingCount = 1;
async function loading(fn) {
  loadingCount += 1;
  document.body.dataset.loading = '';
  try {
    return await fn();
  } finally {
    loadingCount -= 1;
    if (loadingCount === 0) delete document.body.dataset.loading;
  }
}

function refresh() {
  return loading(reload);
}

async function reload() {
  if (!S.chain || !S.connected) return;
  try {
    S.data.market = await loadMarket();
    if (S.me) S.data.mine = await loadMine();
    if (S.me && S.tab === 'activity') {
      const raw = await withTimeout(S.transport.recentEvents(ACTIVITY_BLOCKS), 'events');
      S.data.activity = myActivity(S.chain.decodeEvents(raw), S.me.address);
    }
    render();
  } catch (e) {
    setStatus('error', words(e));
  }
}

// Countdowns run on the wall clock: a dev node seals blocks on demand, and a block's time is the wall clock.
// A countdown that reaches its time reloads the figures (a refund becomes collectable, consent ends).
function tick() {
  const now = Date.now();
  let due = false;
  document.querySelectorAll('[data-until]').forEach((el) => {
    el.textContent = countdown(el.dataset.until, now);
    due ||= BigInt(el.dataset.until) <= BigInt(now);
  });
  if (due && !S.busy && loadingCount === 0) refresh();
}

// ---- actions --------------------------------------------------------------------------------------------

/**
 * One path for every transaction: `build()` reads the inputs (an InputError stops here, nothing sent), then a dry
 * run (the contract's error in words stops here, nothing signed), then the wallet signs and the node includes it.
 */
async function act(label, build) {
  if (S.busy) return;
  let call;
  try {
    if (!S.me) throw new InputError('Connect a wallet first.');
    if (!S.connected) throw new ChainError('The node is unreachable: nothing was sent. The page reconnects by itself.');
    call = build();
  } catch (e) {
    setStatus('error', `${label}: ${words(e)}`);
    return;
  }
  S.busy = true;
  renderConn();
  try {
    setStatus('working', `${label}: checking with a dry run…`);
    const dry = await withTimeout(S.chain.dryRun(call.kind, call.address, call.message, call.args, { origin: S.me.address, value: call.value ?? 0n }), 'dry run');
    setStatus('working', `${label}: waiting for your signature…`);
    const res = await S.chain.send(call.kind, call.address, call.message, call.args, { from: S.me.address, signer: S.me.signer, value: call.value ?? 0n, dry });
    await refresh();
    setStatus('ok', `${label}: done (block ${shortAddress(String(res.block))}${res.decoded?.length ? `; ${res.decoded.map((e) => e.name).join(', ')}` : ''}).`);
  } catch (e) {
    setStatus('error', `${label}: ${words(e)}`);
  } finally {
    S.busy = false;
    renderConn();
  }
}

function input(form, name) {
  return form.querySelector(`[name="${name}"]`).value;
}

const dec = () => S.chain.props.decimals;
const sym = () => S.chain.props.symbol;

function actionForm(testid, label, fields, onsubmit) {
  const form = h('form', { class: 'act', 'data-testid': testid }, ...fields, h('button', { class: 'primary', type: 'submit', disabled: !S.connected || S.busy }, label));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    onsubmit(form);
  });
  return form;
}

const amountInput = (placeholder = `amount (${'UNIT'})`) => h('input', { name: 'amount', placeholder, inputmode: 'decimal', autocomplete: 'off' });

// ---- tabs -----------------------------------------------------------------------------------------------

function renderTabs() {
  $('tabs').replaceChildren(
    ...TABS.map(([id, label]) =>
      h('button', { class: S.tab === id ? 'on' : '', 'data-testid': `tab-${id}`, onclick: () => { S.tab = id; renderTabs(); render(); refresh(); } }, label),
    ),
  );
}

function render() {
  if (!S.chain) return;
  const body = { market: marketTab, ledger: ledgerTab, accounts: accountsTab, tuning: tuningTab, activity: activityTab }[S.tab]();
  $('view').replaceChildren(...[body].flat());
  renderConn();
  tick();
}

function needWallet() {
  return h('p', { 'data-testid': 'need-wallet' }, 'Connect a wallet to see your own funds (the marketplace needs none).');
}

function marketTab() {
  const m = S.data.market;
  if (!m) return h('p', {}, 'Loading…');
  const lock = (s) => duration(m.configs[s]?.lockTimeMs ?? 0n);
  if (m.cards.length === 0) return h('p', {}, 'No provider has registered a service yet.');
  return h(
    'div',
    { class: 'cards' },
    m.cards.map((c) => {
      const existing = S.data.mine?.rows.find((r) => r.serviceAddress === c.serviceAddress && sameAccount(r.provider, c.provider));
      return h(
        'div',
        { class: 'card', 'data-testid': 'market-row', 'data-provider': c.provider, 'data-kind': c.kind },
        h('h3', {}, c.model || '(no model named)'),
        h('div', { class: c.usable ? 'usable' : 'unusable', 'data-testid': 'usable' }, c.why),
        h(
          'dl',
          {},
          h('dt', {}, 'service'), h('dd', {}, c.service),
          h('dt', {}, 'provider'), h('dd', { class: 'mono' }, c.provider),
          h('dt', {}, 'URL'), h('dd', {}, c.url),
          ...c.prices.flatMap(([k, v]) => [h('dt', {}, `price ${k}`), h('dd', { 'data-testid': 'price' }, amount(v))]),
          h('dt', {}, 'stake'), h('dd', {}, amount(c.stake)),
          h('dt', {}, 'TEE signer'), h('dd', { class: 'mono' }, c.teeSigner),
          c.attestationExpires && [h('dt', {}, 'attestation'), h('dd', {}, `until ${c.attestationExpires} (${c.attestationLeft})`)],
          c.occupied !== undefined && [h('dt', {}, 'occupied'), h('dd', {}, c.occupied ? 'yes' : 'no')],
          h('dt', {}, 'refund lock'), h('dd', {}, lock(c.serviceAddress)),
        ),
        existing && h('div', { class: 'muted' }, `You hold ${amount(existing.balance)} here.`),
        actionForm('fund', existing ? 'Add funds' : 'Fund', [amountInput(`amount (${sym()})`)], (form) =>
          act(`Fund ${shortAddress(c.provider)}`, () => fundCall(c.provider, c.serviceAddress, input(form, 'amount'), existing)),
        ),
      );
    }),
  );
}

// transfer_fund takes back pending refunds of that provider first, then the rest from the ledger's available.
function fundCall(provider, service, text, existing) {
  const mine = S.data.mine;
  if (!mine?.ledger) throw new InputError('Open your ledger first (My ledger).');
  const max = mine.ledger.available + (existing?.pending ?? 0n);
  const units = parseAmount(text, dec(), { max, maxLabel: 'what your ledger can move', symbol: sym() });
  return { kind: 'ledger', address: S.deployment.ledger, message: 'transfer_fund', args: [provider, service, units] };
}

function ledgerTab() {
  if (!S.me) return needWallet();
  const m = S.data.mine;
  if (!m) return h('p', {}, 'Loading…');
  const walletLine = h('p', { class: 'muted' }, `Wallet ${S.me.name}: ${amount(m.wallet.free)} free.`);
  if (!m.ledger) {
    return [
      walletLine,
      h('p', { 'data-testid': 'no-ledger' }, `You have no ledger yet. Open one with at least ${amount(m.minAccount)}.`),
      actionForm('add-ledger', 'Open ledger', [amountInput(`amount (${sym()})`), h('input', { name: 'note', placeholder: 'note (optional)', class: 'wide' })], (form) =>
        act('Open ledger', () => ({ kind: 'ledger', address: S.deployment.ledger, message: 'add_ledger', args: [input(form, 'note')], value: parseAmount(input(form, 'amount'), dec(), { max: m.wallet.free, maxLabel: 'your wallet’s free balance', symbol: sym() }) })),
      ),
    ];
  }
  const l = m.ledger;
  return [
    walletLine,
    h(
      'div',
      { class: 'figures' },
      h('div', {}, 'available', h('strong', { 'data-testid': 'ledger-available' }, amount(l.available))),
      h('div', {}, 'at services', h('strong', { 'data-testid': 'ledger-at-services' }, amount(l.atServices))),
      h('div', {}, 'total', h('strong', { 'data-testid': 'ledger-total' }, amount(l.total))),
    ),
    h('h2', {}, 'Deposit'),
    actionForm('deposit', 'Deposit', [amountInput(`amount (${sym()})`)], (form) =>
      act('Deposit', () => ({ kind: 'ledger', address: S.deployment.ledger, message: 'deposit_fund', args: [], value: parseAmount(input(form, 'amount'), dec(), { max: m.wallet.free, maxLabel: 'your wallet’s free balance', symbol: sym() }) })),
    ),
    actionForm('deposit-for', 'Deposit for', [amountInput(`amount (${sym()})`), h('input', { name: 'recipient', placeholder: 'recipient address', class: 'wide' })], (form) =>
      act('Deposit for', () => {
        const to = parseAddress(input(form, 'recipient'), S.chain.props.ss58);
        return { kind: 'ledger', address: S.deployment.ledger, message: 'deposit_fund_for', args: [to], value: parseAmount(input(form, 'amount'), dec(), { max: m.wallet.free, maxLabel: 'your wallet’s free balance', symbol: sym() }) };
      }),
    ),
    h('h2', {}, 'Withdraw to your wallet'),
    h('p', { class: 'muted' }, `What stays in the ledger must be 0 or at least ${amount(m.minAccount)}. Money at services comes back with a refund request (My sub-accounts).`),
    actionForm('refund', 'Withdraw', [amountInput(`amount (${sym()})`)], (form) =>
      act('Withdraw', () => ({ kind: 'ledger', address: S.deployment.ledger, message: 'refund', args: [parseAmount(input(form, 'amount'), dec(), { max: l.available, maxLabel: 'your available balance', symbol: sym() })] })),
    ),
    h('h2', {}, 'Close'),
    h('p', { class: 'muted' }, 'Possible when the total is 0 (take everything back first).'),
    actionForm('delete-ledger', 'Delete ledger', [], () => act('Delete ledger', () => ({ kind: 'ledger', address: S.deployment.ledger, message: 'delete_ledger', args: [] }))),
  ];
}

function accountsTab() {
  if (!S.me) return needWallet();
  const m = S.data.mine;
  if (!m) return h('p', {}, 'Loading…');
  if (m.rows.length === 0) return h('p', { 'data-testid': 'no-accounts' }, 'No sub-accounts yet: fund a provider from the marketplace.');
  return h(
    'table',
    {},
    h('tr', {}, ['service', 'provider', 'balance', 'refunds', 'consent', 'actions'].map((x) => h('th', {}, x))),
    m.rows.map((r) =>
      h(
        'tr',
        { 'data-testid': 'sub-row', 'data-provider': r.provider, 'data-kind': r.kind },
        h('td', {}, r.service),
        h('td', {}, addr(r.provider)),
        h('td', { 'data-testid': 'sub-balance' }, amount(r.balance)),
        h(
          'td',
          {},
          r.refunds.length === 0 ? h('span', { class: 'muted' }, 'none') : null,
          r.refunds.map((f) =>
            h('div', { 'data-testid': 'refund' }, `${amount(f.amount)} `, f.unlocked ? h('strong', {}, 'unlocked') : h('span', {}, 'unlocks '), f.unlocked ? null : h('span', { 'data-until': f.unlockAt, 'data-testid': 'refund-countdown', title: f.at }, f.left)),
          ),
        ),
        h('td', { 'data-testid': 'consent' }, r.consent),
        h(
          'td',
          {},
          actionForm('request-refund', r.unlocked > 0n ? `Collect ${amount(r.unlocked)}` : 'Request refund', [], () =>
            act(r.unlocked > 0n ? 'Collect refund' : 'Request refund', () => {
              if (r.unlocked === 0n && r.requestable === 0n) throw new InputError('Everything here is already requested; collect it when the lock time is over.');
              return { kind: 'ledger', address: S.deployment.ledger, message: 'retrieve_fund', args: [[r.provider], r.serviceAddress] };
            }),
          ),
          actionForm('consent', r.acknowledged ? 'Withdraw consent' : 'Give consent', [], () =>
            act(r.acknowledged ? 'Withdraw consent' : 'Give consent', () => ({ kind: r.kind, address: r.serviceAddress, message: 'acknowledge_tee_signer', args: [r.provider, !r.acknowledged] })),
          ),
          r.kind === 'inference' &&
            actionForm('revoke', 'Revoke tokens', [h('input', { name: 'ids', placeholder: 'token ids: 1, 2 (empty: all)' })], (form) =>
              act('Revoke tokens', () => {
                const text = input(form, 'ids').trim();
                if (text === '') return { kind: r.kind, address: r.serviceAddress, message: 'revoke_all_tokens', args: [r.provider] };
                const ids = text.split(/[\s,]+/).map((x) => {
                  if (!/^\d+$/.test(x) || Number(x) > 255) throw new InputError(`"${x}" is not a token id (0 to 255).`);
                  return Number(x);
                });
                return { kind: r.kind, address: r.serviceAddress, message: 'revoke_tokens', args: [r.provider, ids] };
              }),
            ),
        ),
      ),
    ),
  );
}

function tuningTab() {
  if (!S.me) return needWallet();
  const m = S.data.mine;
  if (!m) return h('p', {}, 'Loading…');
  if (m.deliverables.length === 0) return h('p', { 'data-testid': 'no-deliverables' }, 'No deliverables: a fine-tuning provider adds one when your model is ready.');
  return h(
    'table',
    {},
    h('tr', {}, ['provider', 'task', 'state', 'added', 'penalty if never acknowledged', ''].map((x) => h('th', {}, x))),
    m.deliverables.map((d) =>
      h(
        'tr',
        { 'data-testid': 'deliverable-row' },
        h('td', {}, addr(d.provider)),
        h('td', { class: 'mono' }, d.id),
        h('td', { 'data-testid': 'deliverable-state' }, d.state),
        h('td', {}, d.added),
        h('td', {}, `${d.penaltyPercent} %`),
        h('td', {}, d.canAcknowledge && actionForm('acknowledge', 'Acknowledge', [], () => act('Acknowledge', () => ({ kind: 'fine_tuning', address: d.service.address, message: 'acknowledge_deliverable', args: [d.provider, d.id] })))),
      ),
    ),
  );
}

function activityTab() {
  if (!S.me) return needWallet();
  const a = S.data.activity;
  if (!a) return h('p', {}, 'Loading…');
  if (a.length === 0) return h('p', { 'data-testid': 'no-activity' }, `No events of yours in the last ${ACTIVITY_BLOCKS} blocks.`);
  return h(
    'table',
    {},
    h('tr', {}, ['block', 'contract', 'event', 'amounts'].map((x) => h('th', {}, x))),
    a.map((e) =>
      h(
        'tr',
        { 'data-testid': 'activity-row', 'data-event': e.name },
        h('td', {}, String(e.block ?? '')),
        h('td', {}, e.kind),
        h('td', {}, e.settlement ? h('strong', {}, `${e.name} (a provider charged you)`) : e.name),
        h('td', {}, e.amounts.map(([k, v]) => `${k} ${amount(v)}`).join(' · ')),
      ),
    ),
  );
}

boot();
