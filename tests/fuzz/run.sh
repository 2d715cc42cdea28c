#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 60) from its checked-in seed corpus
# (tests/fuzz/corpus/<target>/), growing a scratch corpus in build/fuzz/work/<target>/.
# FUZZ_JOBS targets (default 2, one per core) run at the same time.
# Fails if any target finds a crash, leak, hang (> 10 s per input) or memory blow-up
# (> 2 GiB); the input is saved as build/fuzz/crashes/<target>-<kind>-<sha1>, and this script
# prints its path (reproduce: pass that file to the same target).
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET ...]     (targets: scenario trace set)
# FUZZ_BIN (default build/fuzz/tests/fuzz) holds the libFuzzer executables and FUZZ_OUT
# (default build/fuzz) gets logs, work corpora and crashes (tests/python/test_fuzz_run.py
# points them at stand-ins).
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario trace set)
jobs=${FUZZ_JOBS:-2}
bin=${FUZZ_BIN:-build/fuzz/tests/fuzz}
out=${FUZZ_OUT:-build/fuzz}
mkdir -p "$out/crashes"

fuzz_one() {  # target: runs it, writes build/fuzz/<target>.log and its status to <target>.rc
  local t=$1 cmd
  if [ "$t" = set ]; then
    cmd=(.venv/bin/python tests/fuzz/fuzz_set.py)
  else
    cmd=("$bin/fuzz_$t")
  fi
  mkdir -p "$out/work/$t"
  "${cmd[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/$t-" "$out/work/$t" "tests/fuzz/corpus/$t" \
    >"$out/$t.log" 2>&1
  echo $? >"$out/$t.rc"
}

echo "fuzzing ${targets[*]} for ${seconds} s each, ${jobs} at a time"
running=0
for t in "${targets[@]}"; do
  case $t in scenario | trace | set) ;; *) echo "run.sh: unknown target '$t' (scenario, trace, set)" >&2; exit 2 ;; esac
  rm -f "$out/$t.rc"
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait

status=0
for t in "${targets[@]}"; do
  log="$out/$t.log"
  rc=$(cat "$out/$t.rc" 2>/dev/null || echo 99)
  # the last status line (#N ... cov: C ft: F corp: K/SIZE ...), executions, peak memory
  last=$(grep -E '^#[0-9]+[[:space:]].*cov: [0-9]+' "$log" | tail -1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  echo "$t: status $rc, ${execs:-?} executions, peak ${rss:-?} MB; last: ${last:-(no status line)}"
  if [ "$rc" != 0 ]; then
    status=1
    echo "fuzz target $t FAILED (status $rc); its log is $log; the end of it:"
    tail -40 "$log" | sed 's/^/  | /'
    grep -h -o 'Test unit written to .*' "$log" | sed "s/^Test unit written to /  crashing input: /"
    case $t in
      set) echo "  reproduce: .venv/bin/python tests/fuzz/fuzz_set.py FILE" ;;
      *) echo "  reproduce: $bin/fuzz_$t FILE" ;;
    esac
  fi
done
exit $status
