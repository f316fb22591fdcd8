/**
 * Writes every generated file of infra/kubernetes (the CRD, the kustomize base and overlays, the
 * self-update CV) from src/install: `npm run manifests` (also `npm run manifests:crd`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installFiles } from '../src/install/install-files.js';
import { defaultInstallOptions } from '../src/install/install-manifests.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
};
const files = installFiles(defaultInstallOptions(version));
for (const [path, text] of Object.entries(files)) {
  const target = join(ROOT, 'infra/kubernetes', path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
}
process.stdout.write(`wrote ${Object.keys(files).length} files under infra/kubernetes\n`);
