#!/usr/bin/env bash
# The README's test command: type check, lint, unit + integration (Vitest), browser (Playwright).
# Ends with one line `N passed, N failed` summing both test tiers; a failed type check, lint or
# build counts as one failure each, so the line never reads green over a red step.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p reports test-results
rm -f reports/vitest.json reports/e2e.json
status=0
step_failures=0
fail_step() { status=1; step_failures=$((step_failures + 1)); }

echo "== type check"; npm run --silent check || fail_step
echo "== lint"; npm run --silent lint || fail_step

echo "== unit and integration (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json || status=1

echo "== build"; npm run --silent build > reports/build.log 2>&1 || { cat reports/build.log; fail_step; }

echo "== browser (playwright)"
npx playwright test || status=1

node scripts/sum-results.js "$step_failures" || status=1
exit $status
