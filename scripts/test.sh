#!/usr/bin/env bash
# Every check CI runs, in order: formatting, vet, the whole test suite, the
# race detector on the packages with shared state, and a short fuzz run of
# every fuzz target. Run it from anywhere: bash scripts/test.sh
# FUZZTIME (default 3s) sets the length of each fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-3s}
start=$SECONDS
step() { printf '\n== %s (%ds)\n' "$1" $((SECONDS - start)); }

step "gofmt"
unformatted=$(find . -name '*.go' -not -path './.git/*' -print0 | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "go test"
go test -count=1 -timeout 15m ./...

step "go test -race (packages with shared state)"
race_pkgs=()
for p in chain mempool miner p2p rpc node wallet internal/metrics internal/testnet; do
  [ -d "$p" ] && race_pkgs+=("./$p/...")
done
if [ ${#race_pkgs[@]} -gt 0 ]; then
  go test -race -short -count=1 -timeout 15m "${race_pkgs[@]}"
fi

step "fuzz (${fuzztime} per target)"
# Every 'func FuzzX(' in a _test.go file is a target: run each briefly.
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
  pkg=./$(dirname "${file#./}")
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    echo "-- $pkg $target"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" > /tmp/ledger-fuzz.log 2>&1 || {
      cat /tmp/ledger-fuzz.log; exit 1; }
    tail -1 /tmp/ledger-fuzz.log
  done
done

step "all checks passed"
