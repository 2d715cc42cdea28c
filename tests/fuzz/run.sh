#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 60) from its checked-in seed corpus
# (tests/fuzz/corpus/<target>/), growing a scratch corpus in build/fuzz/work/<target>/.
# Fails on the first target that finds a crash, hang (> 10 s) or memory blow-up (> 2 GiB);
# the input is saved as build/fuzz/crashes/<target>-crash-<sha1> (reproduce: pass that file
# to the same target). Usage: tests/fuzz/run.sh [SECONDS] [TARGET ...]
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario trace set)
mkdir -p build/fuzz/crashes
status=0
for t in "${targets[@]}"; do
  mkdir -p "build/fuzz/work/$t"
  if [ "$t" = set ]; then
    cmd=(.venv/bin/python tests/fuzz/fuzz_set.py)
  else
    cmd=("build/fuzz/tests/fuzz/fuzz_$t")
  fi
  echo "fuzzing $t for ${seconds} s"
  log="build/fuzz/$t.log"
  "${cmd[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/crashes/$t-" "build/fuzz/work/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|cov: [0-9]+ ft: [0-9]+' "$log" | tail -3
  if [ $rc -ne 0 ]; then
    echo "fuzz target $t failed (status $rc); its log is $log:"
    tail -40 "$log"
    status=1
  fi
done
exit $status
