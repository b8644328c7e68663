// The release bundles' metadata (scripts/bundles.sh writes target/ink), as the page reads it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const metadata = Object.fromEntries(
  ['ledger', 'inference', 'fine_tuning'].map((c) => [c, JSON.parse(readFileSync(path.join(root, 'target', 'ink', c, `${c}.json`), 'utf8'))]),
);
