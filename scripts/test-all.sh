#!/usr/bin/env bash
# The README's test command: type check, lint, unit + integration (Vitest), browser (Playwright).
# Ends with one line `N passed, N failed` summing both test tiers.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
status=0

echo "== type check"; npm run --silent check || status=1
echo "== lint"; npm run --silent lint || status=1

echo "== unit and integration (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json || status=1

echo "== build"; npm run --silent build > test-results/build.log 2>&1 || { cat test-results/build.log; status=1; }

echo "== browser (playwright)"
npx playwright test || status=1

node scripts/sum-results.js || status=1
exit $status
