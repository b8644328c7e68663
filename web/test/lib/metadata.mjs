// The release bundles' metadata (scripts/bundles.sh writes target/ink), as the page reads it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// SERVING_METADATA: another folder of bundles (scripts/web-node-e2e.sh: the test-chain build it deployed).
const folder = process.env.SERVING_METADATA ?? path.join(root, 'target', 'ink');
export const metadata = Object.fromEntries(
  ['ledger', 'inference', 'fine_tuning'].map((c) => [c, JSON.parse(readFileSync(path.join(folder, c, `${c}.json`), 'utf8'))]),
);
