// Serves the built app for the browser tests on a new, empty temp database (no demo seed),
// so the first-admin set-up is what a new user sees.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nurture-e2e-'));
process.env.DATA_DIR = dir;
process.env.SEED = 'none';
process.env.BODY_SIZE_LIMIT ??= '64M';
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
// The same entry as `npm start`, so the browser tests exercise the real start-up and shutdown.
await import('../../scripts/start.js');
