// Copies what the page reads at run time into web/public (Vite copies it into dist): the contracts' metadata
// from the release bundles (target/ink, `scripts/bundles.sh`) and, when present, the deployment file
// `make deploy` wrote at the repository's root.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const root = path.dirname(web);
mkdirSync(path.join(web, 'public', 'metadata'), { recursive: true });
for (const c of ['ledger', 'inference', 'fine_tuning']) {
  const from = path.join(root, 'target', 'ink', c, `${c}.json`);
  if (!existsSync(from)) {
    console.error(`[web] ${from} missing: run scripts/bundles.sh (make bundles) first`);
    process.exit(1);
  }
  copyFileSync(from, path.join(web, 'public', 'metadata', `${c}.json`));
}
const deployment = process.env.SERVING_DEPLOYMENT ?? path.join(root, 'deployment.json');
if (existsSync(deployment)) {
  copyFileSync(deployment, path.join(web, 'public', 'deployment.json'));
  console.log(`[web] deployment file: ${deployment}`);
}
