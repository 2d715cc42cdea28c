"""tests/fuzz/run.sh, the fuzz step of CI (`make fuzz`), on stand-in targets: it runs two
targets at a time, and a finding fails the run and names the crashing input's file.

The stand-ins are shell scripts taking libFuzzer's arguments; the real targets are built by
`make fuzz-build` (clang) and are not needed here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "tests" / "fuzz" / "run.sh"

pytestmark = pytest.mark.skipif(not RUN.is_file(), reason="tests/fuzz/run.sh not in this tree")

# A stand-in libFuzzer target: waits (up to 20 s) for the other target's start marker, so it
# only finishes promptly if both run at the same time, then passes or "crashes" like libFuzzer.
STAND_IN = """#!/usr/bin/env bash
me={me}; other={other}; out={out}
touch "$out/started-$me"
for i in $(seq 200); do [ -e "$out/started-$other" ] && break; sleep 0.1; done
[ -e "$out/started-$other" ] && echo "saw $other running" || echo "did not see $other running"
prefix=""
for a in "$@"; do case $a in -artifact_prefix=*) prefix=${{a#-artifact_prefix=}} ;; esac; done
echo "#42	DONE   cov: 7 ft: 9 corp: 3/30b lim: 4 exec/s: 1 rss: 30Mb"
echo "stat::number_of_executed_units: 42"
echo "stat::peak_rss_mb: 30"
if [ {crash} = 1 ]; then
  echo boom > "${{prefix}}crash-0123abcd"
  echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow"
  echo "artifact_prefix='$prefix'; Test unit written to ${{prefix}}crash-0123abcd"
  exit 1
fi
"""


def stand_ins(tmp_path: Path, crash: str) -> dict[str, str]:
    bin_dir, out = tmp_path / "bin", tmp_path / "out"
    bin_dir.mkdir()
    for me, other in (("scenario", "trace"), ("trace", "scenario")):
        exe = bin_dir / f"fuzz_{me}"
        exe.write_text(STAND_IN.format(me=me, other=other, out=out, crash=int(me == crash)))
        exe.chmod(0o755)
    return {**os.environ, "FUZZ_BIN": str(bin_dir), "FUZZ_OUT": str(out)}


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RUN), "1", "scenario", "trace"], env=env, capture_output=True,
                          text=True, timeout=60)


def test_two_targets_run_at_the_same_time_and_pass(tmp_path):
    done = run(stand_ins(tmp_path, crash="none"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scenario: status 0, 42 executions, peak 30 MB" in done.stdout
    assert "trace: status 0, 42 executions" in done.stdout
    assert "last: #42\tDONE   cov: 7 ft: 9" in done.stdout
    for t, other in (("scenario", "trace"), ("trace", "scenario")):
        assert f"saw {other} running" in (tmp_path / "out" / f"{t}.log").read_text()


def test_a_finding_fails_and_names_the_crashing_input(tmp_path):
    done = run(stand_ins(tmp_path, crash="trace"))
    assert done.returncode == 1
    crash = tmp_path / "out" / "crashes" / "trace-crash-0123abcd"
    assert crash.read_text() == "boom\n"
    assert f"crashing input: {crash}" in done.stdout
    assert "fuzz target trace FAILED (status 1)" in done.stdout
    assert f"reproduce: {tmp_path / 'bin' / 'fuzz_trace'} FILE" in done.stdout
    assert "scenario: status 0" in done.stdout  # the other target still ran to the end
