// Sums Vitest's and Playwright's JSON reports into the one closing line CI reads.
import fs from 'node:fs';

function read(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}
let passed = 0;
// Failed steps that are not tests (type check, lint, build), passed in by test-all.sh.
let failed = Number(process.argv[2] ?? 0);
const v = read('reports/vitest.json');
if (v) {
  passed += v.numPassedTests ?? 0;
  failed += (v.numFailedTests ?? 0) + (v.numRuntimeErrorTestSuites ?? 0);
} else failed += 1;
const p = read('reports/e2e.json');
if (p) {
  passed += p.stats?.expected ?? 0;
  failed += (p.stats?.unexpected ?? 0) + (p.stats?.flaky ?? 0);
  if (!p.stats) failed += 1;
} else failed += 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
