#!/usr/bin/env bash
# Long local fuzz run: the CI fuzz suites (test/fuzz-*.test.ts, test/security-images.test.ts) with SCALE times
# more cases per reader, repeated with fresh random seeds until MINUTES have passed or a case fails.
# Every seed is printed; a failure is reproduced with CNN_ZOO_FUZZ_SEED=<seed> CNN_ZOO_FUZZ_SCALE=<scale>.
# Usage: tools/fuzz/long-run.sh [MINUTES=30] [SCALE=20]
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-30}
scale=${2:-20}
end=$(( $(date +%s) + minutes * 60 ))
runs=0
while [ "$(date +%s)" -lt "$end" ]; do
  seed=$(( (RANDOM << 15) | RANDOM ))
  echo "== run $((runs + 1)): CNN_ZOO_FUZZ_SEED=$seed CNN_ZOO_FUZZ_SCALE=$scale"
  log=$(mktemp)
  status=0
  CNN_ZOO_FUZZ_SEED=$seed CNN_ZOO_FUZZ_SCALE=$scale npx mocha --no-parallel test/fuzz-checkpoints.test.ts test/fuzz-models.test.ts \
    test/security-images.test.ts >"$log" 2>&1 || status=$?
  grep -E "fuzz |truncations|flips|passing|failing|Error|Counterexample|^\s+[0-9]+\) " "$log" || true
  if [ "$status" -ne 0 ]; then echo "FAILED with CNN_ZOO_FUZZ_SEED=$seed CNN_ZOO_FUZZ_SCALE=$scale (full log: $log)"; exit 1; fi
  rm -f "$log"
  runs=$((runs + 1))
done
echo "$runs runs without a failure"
