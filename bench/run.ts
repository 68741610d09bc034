/** `npm run bench -- <name> [args]`: runs bench/<name>.ts, whose default export does the measuring. */
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);
const names = fs.readdirSync(here).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace('.bench.ts', ''));
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench -- <${names.join('|')}>`);
  process.exit(2);
}
const mod = (await import(path.join(here, `${name}.bench.ts`))) as { default: (args: string[]) => Promise<void> };
await mod.default(args);
