// Serves the built app (adapter-node) with the project's defaults. `npm start` builds first.
import fs from 'node:fs';

if (!fs.existsSync(new URL('../build/index.js', import.meta.url))) {
  console.error('No build found: run `npm run build` (or `npm start`, which builds) first.');
  process.exit(1);
}
// CSV uploads are streamed by the import endpoint; other bodies stay small.
process.env.BODY_SIZE_LIMIT ??= '512M';
process.env.PORT ??= '3000';
await import('../build/index.js');
