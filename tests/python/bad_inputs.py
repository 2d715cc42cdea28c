"""The bad-input corpus: every kind of bad or extreme input the issue names (issue 12) and
more, each with its expected outcome. tests/python/test_bad_inputs.py runs them.

A case is `Case(id, how, payload, expect, pattern, xfail)`:

- how: "file" (payload: the bytes of a scenario file; run as `dbpoolsim validate FILE` and
  `dbpoolsim.resolve_scenario(Path)`, and when it validates, `dbpoolsim run` with a short
  horizon), "argv" (payload: the CLI arguments after `dbpoolsim`; files named @trace,
  @scenario, @dir are created first) or "api" (payload: a Python expression using `d`
  = dbpoolsim and `Path`, evaluated for its exception);
- expect: "error" (exit 2, every stderr line "dbpoolsim: error: ...", ScenarioError in
  Python; `pattern` must be found in the message: it names the path and the value), "ok"
  (exit 0), or "clean" (either of those: an extreme value may be legal, but then the run
  must finish);
- xfail: why it still fails ("issue 12, after issue 9: <room>"), or None.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple, Optional


class Case(NamedTuple):
    id: str
    how: str
    payload: Any
    expect: str
    pattern: str = ""
    xfail: Optional[str] = None




def doc(**sections: Any) -> bytes:
    return json.dumps(sections).encode()


def with_token(base: dict, path: list, token: str) -> bytes:
    """`base` as JSON with the value at `path` replaced by the raw text `token`."""
    d = json.loads(json.dumps(base))
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = "__TOKEN__"
    return json.dumps(d).replace('"__TOKEN__"', token).encode()


def tx(**query_time: Any) -> dict:
    return {"transactions": [{"name": "q", "query_time": query_time}]}


DEEP = 100_000
CASES: list[Case] = [
    # ---- the list ----------------------------------------------------------------
    Case("deep-name", "file", b'{"name": ' + b"[" * DEEP + b"]" * DEEP + b"}", "error", r"/name/0/0.*nested deeper than 64"),
    Case("deep-bare-array", "file", b"[" * DEEP + b"]" * DEEP, "error", r"nested deeper than 64"),
    Case("deep-bare-object", "file", b'{"a":' * DEEP + b"1" + b"}" * DEEP, "error", r"nested deeper than 64"),
    Case("deep-mixture-500", "file",
         doc(workload=tx(**json.loads('{"kind": "mixture", "components": [{"weight": 1, "dist": ' * 250
                                      + '{"kind": "constant", "value_s": 0.01}' + "}]}" * 250))),
         "error", r"nested deeper than 64"),
    Case("threads-2000", "argv", ["run", "@scenario", "--threads", "2000", "--quiet"], "error", r"threads: .*got 2000"),
    Case("threads-negative", "argv", ["run", "@scenario", "--threads", "-1", "--quiet"], "error", r"threads: .*got -1"),
    Case("threads-text", "argv", ["run", "@scenario", "--threads", "many"], "error", r"--threads: invalid int value: 'many'"),
    Case("mmpp-holding-1e-300", "file",
         doc(workload={"arrivals": {"kind": "mmpp", "states": [{"rate_per_s": 10, "mean_holding_s": 1e-300},
                                                               {"rate_per_s": 0, "mean_holding_s": 1}]}}),
         "error", r"/workload/arrivals/states/0/mean_holding_s: must be >= 1e-06 s .*got 1e-300"),
    Case("idle-cleanup-1e-300", "file", doc(pool={"kind": "generic", "idle_cleanup_interval": 1e-300}), "error",
         r"/pool/idle_cleanup_interval: must be 0 or >= 1e-06 s \(the shortest step the clock takes.*got 1e-300"),
    Case("health-check-1e-300", "file", doc(pool={"kind": "generic", "health_check_interval": 1e-300}), "error",
         r"/pool/health_check_interval: must be 0 or >= 1e-06 s .*got 1e-300"),
    Case("health-check-hikaricp-unknown", "file", doc(pool={"kind": "hikaricp", "health_check_interval": 1e-300}),
         "error", r"/pool/health_check_interval: unknown key"),
    Case("psycopg-max-idle-1e-300", "file", doc(pool={"kind": "psycopg_pool", "max_idle": 1e-300}), "error",
         r"/pool/max_idle: must be 0 or >= 1e-06 s .*got 1e-300"),
    Case("named-pool-interval-1e-300", "file",
         doc(pools={"a": {"kind": "generic", "idle_cleanup_interval": 5e-7}},
             workload={"transactions": [{"name": "q", "pool": "a"}]}), "error",
         r"/pools/a/idle_cleanup_interval: must be 0 or >= 1e-06 s .*got 5e-07"),
    Case("pooler-interval-1e-300", "file", doc(pooler={"kind": "pgbouncer", "server_check_delay": 1e-300}), "error",
         r"/pooler/server_check_delay: must be 0 or >= 1e-06 s .*got 1e-300"),
    Case("pool-interval-1e-6-ok", "file", doc(run={"horizon_s": 2, "replications": 1, "warmup_s": 0},
                                              pool={"kind": "generic", "idle_cleanup_interval": 1e-6}), "clean",
         r"/pool/idle_cleanup_interval"),
    Case("closed-loop-think-1e-300", "file",
         doc(workload={"arrivals": {"kind": "closed_loop", "users": 5,
                                    "think_time": {"kind": "constant", "value_s": 1e-300}},
                       **tx(kind="constant", value_s=0)}, database={"network_rtt_s": 0}),
         "error", r"/workload/arrivals/think_time: a closed-loop cycle .*got 1e-300 s"),
    Case("burst-every-1e-300", "file", doc(workload={"arrivals": {"kind": "burst", "count": 10, "every_s": 1e-300}}),
         "error", r"/workload/arrivals/every_s: must be 0 \(one burst\) or >= 1e-06 s .*got 1e-300"),
    Case("number-1e400", "file", b'{"run": {"horizon_s": 1e400}}', "error",
         r"/run/horizon_s: number 1e400 is beyond the range of a double"),
    Case("number-1e400-in-array", "file", b'{"workload": {"transactions": [{"name": "q", "weight": 1}, {"weight": -1e400}]}}',
         "error", r"/workload/transactions/1/weight: number -1e400 is beyond"),
    Case("lognormal-sd-1e300", "file", doc(workload=tx(kind="lognormal", mean_s=0.01, sd_s=1e300)), "error",
         r"/workload/transactions/0/query_time/sd_s: must be small enough for mean_s 0.01 that samples stay below 1e\+300 s.*got 1e\+300"),
    Case("lognormal-p99-1e300", "file", doc(workload=tx(kind="lognormal", median_s=0.01, p99_s=1e300)), "error",
         r"query_time/p99_s: must be small enough"),
    Case("pareto-shape-1e-300", "file", doc(workload=tx(kind="pareto", shape=1e-300, scale_s=0.01)), "error",
         r"query_time/shape: must be small enough"),
    Case("weibull-shape-1e-300", "file", doc(workload=tx(kind="weibull", shape=1e-300, scale_s=0.01)), "error",
         r"query_time/shape: must be small enough"),
    Case("gamma-huge", "file", doc(workload=tx(kind="gamma", shape=1e300, scale_s=1e10)), "error",
         r"query_time/scale_s: must be small enough"),
    Case("exponential-1e300", "file", doc(workload=tx(kind="exponential", mean_s=1e300)), "error",
         r"query_time/mean_s: must be small enough"),
    Case("utf8-bom", "file", b"\xef\xbb\xbf" + doc(name="bom", run={"horizon_s": 2, "replications": 1, "warmup_s": 0}), "ok"),
    Case("nul-in-name", "file", doc(name="a\u0000b", run={"horizon_s": 2, "replications": 1, "warmup_s": 0}), "ok"),
    Case("usl-fit-empty", "file", doc(database={"usl": {"fit": {"n": [], "x": []}}}), "error",
         r"/database/usl/fit/n: must be a non-empty array of numbers, got \[\]"),
    Case("usl-fit-empty-x", "file", doc(database={"usl": {"fit": {"n": [1, 2, 4], "x": []}}}), "error",
         r"/database/usl/fit/x: must be a non-empty array of numbers, got \[\]"),
    Case("number-1e-400", "file", b'{"run": {"horizon_s": 1e-400}}', "error",
         r"/run/horizon_s: number 1e-400 is below the smallest double \(about 4.9e-324\): it would be read as 0"),
    Case("number-minus-1e-400-in-array", "file",
         b'{"workload": {"transactions": [{"name": "q", "weight": 1}, {"weight": -0.5e-400}]}}', "error",
         r"/workload/transactions/1/weight: number -0.5e-400 is below the smallest double"),
    Case("number-1e-400-after-strings", "file",
         b'{"name": "1e-400 \\" 2e-999", "run": {"seed": 3, "warmup_s": 1E-401}}', "error",
         r"/run/warmup_s: number 1E-401 is below"),
    Case("number-zero-exponent-ok", "file", b'{"name": "1e-400", "run": {"horizon_s": 2, "warmup_s": 0e-999, '
                                            b'"replications": 1}}', "ok"),
    Case("set-1e-400", "argv", ["run", "@scenario", "--set", "run.warmup_s=1e-400"], "error",
         r"--set 'run.warmup_s=1e-400': 1e-400 is below the smallest double"),
    Case("duplicate-pool", "file", b'{"pool": {"max_connections": 5}, "pool": {"max_connections": 6}}', "error",
         r"/pool: key given twice"),
    Case("duplicate-nested", "file", b'{"run": {"seed": 1, "horizon_s": 5, "seed": 2}}', "error", r"/run/seed: key given twice"),
    Case("duplicate-in-array", "file", b'{"workload": {"transactions": [{"name": "a", "name": "b"}]}}', "error",
         r"/workload/transactions/0/name: key given twice"),
    Case("utf16-le-bom", "file", "\ufeff{}".encode("utf-16-le"), "error", r"is UTF-16 text; scenario files must be UTF-8"),
    Case("utf16-be-bom", "file", "\ufeff{}".encode("utf-16-be"), "error", r"is UTF-16 text"),
    Case("utf32-bom", "file", "\ufeff{}".encode("utf-32-le"), "error", r"is UTF-32 text"),
    Case("latin1", "file", '{"name": "café"}'.encode("latin-1"), "error", r"is not UTF-8 text \(byte 0xe9 at line 1"),
    Case("name-escape-dotdot", "argv", ["run", "@escape", "--quiet"], "ok"),
    Case("set-nan", "argv", ["run", "@scenario", "--set", "run.horizon_s=NaN", "--quiet"], "error",
         r'/run/horizon_s: must be a number, got a string "NaN"'),
    Case("set-infinity", "argv", ["run", "@scenario", "--set", "pool.max_connections=-Infinity"], "error",
         r'/pool/max_connections: must be an integer, got a string "-Infinity"'),
    Case("set-1e400", "argv", ["run", "@scenario", "--set", "run.horizon_s=1e400"], "error",
         r"--set 'run.horizon_s=1e400': 1e400 is beyond the range of a double"),
    Case("set-empty-key", "argv", ["run", "@scenario", "--set", "=5"], "error", r"override '': expected a dotted path"),
    Case("set-no-equals", "argv", ["run", "@scenario", "--set", "pool.max_connections"], "error", r"expected path=value"),
    Case("set-deep", "argv", ["run", "@scenario", "--set", "name=" + "[" * 5000 + "]" * 5000], "error",
         r"nested deeper than 64"),
    Case("set-deep-object", "argv", ["run", "@scenario", "--set", "name=" + '{"a":' * 3000 + "1" + "}" * 3000], "error",
         r"nested deeper than 64"),
    Case("set-empty-part", "argv", ["run", "@scenario", "--set", "pool..max_connections=5"], "error",
         r"override 'pool..max_connections': expected a dotted path"),
    Case("set-through-number", "argv", ["run", "@scenario", "--set", "run.horizon_s.x=1"], "error",
         r"override run.horizon_s.x: horizon_s is not an object, got 2"),
    Case("set-root-array", "argv", ["run", "@scenario", "--set", "workload.transactions=[]"], "error",
         r"/workload/transactions"),
    Case("set-unknown", "argv", ["run", "@scenario", "--set", "pool.max_conections=5"], "error",
         r"/pool/max_conections: unknown key \(did you mean max_connections\?\)"),
    Case("trace-not-utf8", "argv", ["validate", "@tracebad"], "error",
         r"/workload/arrivals/file: t.csv:3: not UTF-8 text \(byte 0xff at column 2\)"),
    Case("trace-is-folder", "argv", ["validate", "@tracedir"], "error", r"/workload/arrivals/file: d: is a folder"),
    Case("trace-dev-zero", "argv", ["validate", "@tracedevzero"], "error", r"/dev/zero: is not a regular file"),
    Case("trace-loop-scale-1e-300", "argv", ["validate", "@traceloop"], "error",
         r"/workload/arrivals/time_scale: makes the loop period .* got 1e-300"),
    Case("trace-scale-1e300", "argv", ["validate", "@tracescale"], "error",
         r"/workload/arrivals/time_scale: makes the last arrival time 10 x 1e\+300 larger than 1e\+300 s, got 1e\+300"),
]

SHORT_RUN = {"horizon_s": 2, "replications": 1, "warmup_s": 0}
CASES += [
    # ---- syntax and encodings ------------------------------------------------------------
    Case("empty-file", "file", b"", "error", r"/: invalid JSON: .*line 1, column 1"),
    Case("blank-file", "file", b"  \n\t\n", "error", r"/: invalid JSON"),
    Case("null", "file", b"null", "error", r"/: must be an object, got null"),
    Case("top-array", "file", b"[]", "error", r"/: must be an object"),
    Case("top-number", "file", b"1", "error", r"/: must be an object"),
    Case("top-string", "file", b'"x"', "error", r"/: must be an object"),
    Case("top-true", "file", b"true", "error", r"/: must be an object"),
    Case("truncated", "file", b'{"run": {', "error", r"/: invalid JSON: .*line 1, column 10"),
    Case("trailing-comma", "file", b'{"name": "x",}', "error", r"/: invalid JSON"),
    Case("comment", "file", b'{"name": "x" // note\n}', "error", r"/: invalid JSON"),
    Case("single-quotes", "file", b"{'name': 'x'}", "error", r"/: invalid JSON"),
    Case("raw-nul", "file", b'{"name": "a\x00b"}', "error", r"/: invalid JSON"),
    Case("nul-after", "file", b"{}\x00", "error", r"/: invalid JSON"),
    Case("control-in-string", "file", b'{"name": "a\x01b"}', "error", r"/: invalid JSON"),
    Case("bad-escape", "file", b'{"name": "\\q"}', "error", r"/: invalid JSON"),
    Case("lone-surrogate", "file", b'{"name": "\\ud800"}', "error", r"/: invalid JSON"),
    Case("overlong-utf8", "file", b'{"name": "\xc0\x80"}', "error", r"is not UTF-8 text \(byte 0xc0"),
    Case("utf8-in-name", "file", doc(name="čaj ☕ 𝄞", run=SHORT_RUN), "ok"),
    Case("two-documents", "file", b"{}{}", "error", r"/: invalid JSON"),
    Case("nan-literal", "file", b'{"run": {"horizon_s": NaN}}', "error", r"/: invalid JSON: .*line 1, column 2[0-9]"),
    Case("infinity-literal", "file", b'{"run": {"horizon_s": Infinity}}', "error", r"/: invalid JSON"),
    Case("hex-number", "file", b'{"run": {"seed": 0x10}}', "error", r"/: invalid JSON"),
    Case("leading-zero", "file", b'{"run": {"seed": 007}}', "error", r"/: invalid JSON"),
    Case("plus-number", "file", b'{"run": {"seed": +7}}', "error", r"/: invalid JSON"),
    Case("huge-integer", "file", b'{"run": {"seed": 123456789012345678901234567890}}', "error", r"/run/seed"),
    Case("negative-seed", "file", b'{"run": {"seed": -1}}', "error", r"/run/seed: .*-1"),
    Case("denormal", "file", b'{"run": {"horizon_s": 1e-320}}', "error", r"/run/warmup_s: must be < horizon_s \(1e-320\)"),
    Case("big-file", "file", b"{}" + b" " * (65 * 1024 * 1024), "error", r"is \d+ bytes, more than the limit of 67108864"),
    # ---- types and structure -------------------------------------------------------------
    Case("pool-number", "file", b'{"pool": 5}', "error", r"/pool: must be an object, got a number 5"),
    Case("run-array", "file", b'{"run": []}', "error", r"/run: must be an object"),
    Case("workload-string", "file", b'{"workload": "x"}', "error", r'/workload: must be an object, got a string "x"'),
    Case("unknown-top", "file", b'{"nmae": "x"}', "error", r"/nmae: unknown key \(did you mean name\?\)"),
    Case("name-number", "file", b'{"name": 5}', "error", r"/name: must be a string, got a number 5"),
    Case("name-long", "file", doc(name="x" * 1_000_000, run=SHORT_RUN), "clean", r"/name"),
    Case("name-newline", "file", doc(name="a\nb", run=SHORT_RUN), "ok"),
    Case("name-slash", "file", doc(name="a/b/../../c", run=SHORT_RUN), "ok"),
    Case("name-dots", "file", doc(name="..", run=SHORT_RUN), "ok"),
    Case("name-empty", "file", doc(name="", run=SHORT_RUN), "ok"),
    Case("name-absolute", "file", doc(name="/tmp/escaped", run=SHORT_RUN), "ok"),
    Case("integer-as-float", "file", doc(pool={"max_connections": 20.5}), "error",
         r"/pool/max_connections: must be an integer, got a number 20.5"),
    Case("integer-as-string", "file", doc(pool={"max_connections": "20"}), "error",
         r'/pool/max_connections: must be an integer, got a string "20"'),
    Case("bool-as-number", "file", doc(pool={"max_connections": True}), "error", r"/pool/max_connections: must be an integer"),
    Case("transactions-object", "file", doc(workload={"transactions": {}}), "error", r"/workload/transactions"),
    Case("transactions-empty", "file", doc(workload={"transactions": []}), "error", r"/workload/transactions"),
    Case("transactions-1000", "file",
         doc(run=SHORT_RUN, workload={"transactions": [{"name": f"t{i}", "weight": 1} for i in range(1000)]}), "clean",
         r"/workload/transactions"),
    Case("empirical-1e6-samples", "file", doc(run=SHORT_RUN, workload=tx(kind="empirical", samples_s=[0.001] * 1_000_000)),
         "error", r"query_time/samples_s: must hold at most 100000 values .*got 1000000"),
    Case("empirical-1e5-samples", "file", doc(run=SHORT_RUN, workload=tx(kind="empirical", samples_s=[0.001] * 100_000)),
         "ok"),
    Case("empirical-empty", "file", doc(workload=tx(kind="empirical", samples_s=[])), "error",
         r"query_time/samples_s: must hold at least one value"),
    Case("empirical-negative", "file", doc(workload=tx(kind="empirical", samples_s=[0.1, -1])), "error",
         r"query_time/samples_s/1: must be >= 0"),
    Case("mixture-empty", "file", doc(workload=tx(kind="mixture", components=[])), "error", r"query_time/components"),
    Case("dist-unknown-kind", "file", doc(workload=tx(kind="normal", mean_s=1)), "error", r'query_time/kind: .*"normal"'),
    Case("dist-missing-kind", "file", doc(workload=tx(mean_s=1)), "error", r"query_time"),
    Case("pools-and-pool", "file", doc(pool={}, pools={"a": {}}), "error", r"/pools: give either pool"),
    Case("pools-bad-name", "file", doc(pools={"a b": {}}), "error", r"/pools/a b: pool names are 1-40"),
    Case("pool-kind-unknown", "file", doc(pool={"kind": "c3p0"}), "error", r'/pool/kind: .*"c3p0"'),
    Case("faults-object", "file", doc(faults={}), "error", r"/faults"),
    Case("fleet-string", "file", doc(fleet="x"), "error", r"/fleet"),
    Case("trace-missing-file", "file", doc(workload={"arrivals": {"kind": "trace"}}), "error",
         r"/workload/arrivals/file: missing"),
    Case("trace-empty-file-name", "file", doc(workload={"arrivals": {"kind": "trace", "file": ""}}), "error",
         r'/workload/arrivals/file: must name a CSV file, got ""'),
    Case("trace-nonexistent", "file", doc(workload={"arrivals": {"kind": "trace", "file": "nope.csv"}}), "error",
         r"/workload/arrivals/file: nope.csv: cannot be read"),
    Case("profile-empty", "file", doc(workload={"arrivals": {"kind": "poisson", "profile": {"points": []}}}), "error",
         r"/workload/arrivals/profile/points"),
    Case("mmpp-65-states", "file",
         doc(workload={"arrivals": {"kind": "mmpp", "states": [{"rate_per_s": 1, "mean_holding_s": 1}] * 65}}), "error",
         r"/workload/arrivals/states: must have at most 64 states, got 65"),
    Case("burst-every-1e-6", "file", doc(run=SHORT_RUN, workload={"arrivals": {"kind": "burst", "count": 1, "every_s": 1e-6}}),
         "ok"),
    # 10,000 req/s against about 9,000/s (the default pool and query time): the report must say
    # the offered load exceeds capacity, by how much, and what saturates.
    Case("overload-said", "argv", ["run", "@overload", "--quiet"], "ok",
         r"OVERLOAD: the offered load 10,\d{3} req/s exceeds capacity: 9,\d{3} req/s served \(1\.\d+x\); waiting "
         r"requests grow without bound \(1 replication\(s\)\); saturated: application pool at (99|100) % busy"),
    Case("overload-memory-budget", "argv", ["run", "@overload", "--quiet", "--set", "run.max_memory_mb=1"], "ok",
         r"STOPPED EARLY: 1 replication\(s\) reached the memory budget \(run.max_memory_mb 1\)"),
    Case("max-memory-0", "file", doc(run={"max_memory_mb": 0}), "error", r"/run/max_memory_mb: must be >= 1, got 0"),
    Case("max-memory-huge", "file", doc(run={"max_memory_mb": 1e300}), "error", r"/run/max_memory_mb: must be <= 1e\+07"),
    Case("series-memory-refused", "file", doc(run={"horizon_s": 1e6, "sample_interval_s": 0.1, "replications": 5}),
         "error", r"/run/sample_interval_s: the time series \(1e\+07 samples x \d+ columns x 5 replications\) would "
                  r"need about \d+ MiB, more than run.max_memory_mb \(2048\); use sample_interval_s >= [0-9.]+ or raise"),
    Case("series-memory-one-replication", "file", doc(run={"horizon_s": 100, "sample_interval_s": 1e-5,
                                                            "replications": 1}), "error",
         r"/run/sample_interval_s: the time series \(1e\+07 samples x \d+ columns x 1 replications\) would need"),
    # ---- the command line ----------------------------------------------------------------
    Case("cli-no-command", "argv", [], "error", r"the following arguments are required"),
    Case("cli-unknown-command", "argv", ["simulate"], "error", r"invalid choice: 'simulate'"),
    Case("cli-unknown-flag", "argv", ["run", "--fast"], "error", r"unrecognized arguments: --fast"),
    Case("cli-missing-file", "argv", ["validate", "nope.json"], "error",
         r"nope.json: scenario 'nope.json' is neither a JSON object, a file, nor a built-in"),
    Case("cli-folder", "argv", ["validate", "@dir"], "error", r"d: is a folder, not a scenario file"),
    Case("cli-long-path", "argv", ["validate", "x" * 5000], "error", r"'x{57}\.\.\.' is neither a JSON object"),
    Case("cli-long-name", "argv", ["validate", "y" * 300], "error", r"is neither a JSON object, a file"),
    Case("cli-json-text", "argv", ["validate", '{"pool": {"max_connections": 0}}'], "error",
         r"/pool/max_connections: must be >= 1, got 0"),
    Case("cli-array-text", "argv", ["validate", "[[[[1]]]]"], "error", r"is neither a JSON object"),
    Case("cli-bom-text", "argv", ["validate", "\ufeff{}"], "ok"),
    Case("cli-builtin-traversal", "argv", ["validate", "../cli"], "error", r"is neither a JSON object, a file"),
    Case("cli-validate-none", "argv", ["validate"], "error", r"the following arguments are required: scenarios"),
    Case("cli-threads-257", "argv", ["run", "@scenario", "--threads", "257"], "error", r"threads: .*got 257"),
    Case("cli-threads-huge", "argv", ["run", "@scenario", "--threads", "99999999999999999999"], "error", r"threads: "),
    Case("cli-threads-0", "argv", ["run", "@scenario", "--threads", "0", "--quiet"], "ok"),
    Case("cli-out-is-file", "argv", ["run", "@scenario", "--out", "@scenario", "--quiet"], "error", r"cannot write the results"),
    Case("cli-set-missing-value", "argv", ["run", "@scenario", "--set"], "error", r"--set: expected one argument"),
    Case("cli-set-value-empty", "argv", ["run", "@scenario", "--set", "name="], "ok"),
    Case("cli-set-string-for-number", "argv", ["run", "@scenario", "--set", "pool.max_connections=many"], "error",
         r'/pool/max_connections: must be an integer, got a string "many"'),
    Case("cli-set-object", "argv", ["run", "@scenario", "--set", "pool=5"], "error", r"/pool: must be an object"),
    Case("cli-set-new-section", "argv", ["run", "@scenario", "--set", "nosuch.x=1"], "error", r"/nosuch: unknown key"),
    Case("cli-set-non-utf8", "argv", ["run", "@scenario", "--set", b"name=\xff".decode("utf-8", "surrogateescape")],
         "error", r"--set 'name=\\udcff': not UTF-8 text"),
    Case("cli-set-nul-escape", "argv", ["run", "@scenario", "--set", 'name="a\\u0000b"', "--quiet"], "ok"),
    # ---- the Python API ------------------------------------------------------------------
    Case("api-threads-2000", "api", "d.run(TINY, threads=2000)", "error", r"threads: .*got 2000"),
    Case("api-threads-bool", "api", "d.run(TINY, threads=True)", "error", r"threads: .*got True"),
    Case("api-threads-float", "api", "d.run(TINY, threads=1.5)", "error", r"threads: .*got 1.5"),
    Case("api-threads-str", "api", "d.run(TINY, threads='2')", "error", r"threads: .*got '2'"),
    Case("api-dict-nan", "api", "d.resolve_scenario({'run': {'horizon_s': float('nan')}})", "error",
         r"NaN or infinite number"),
    Case("api-dict-inf", "api", "d.resolve_scenario({'run': {'horizon_s': float('inf')}})", "error", r"NaN or infinite"),
    Case("api-dict-deep", "api", "d.resolve_scenario(deep_dict(100000))", "error", r"/: nested deeper than 64"),
    Case("api-dict-deep-65", "api", "d.resolve_scenario(deep_dict(65))", "error", r"nested deeper than 64"),
    Case("api-text-deep", "api", "d.resolve_scenario('{\"name\": ' + '[' * 100000 + ']' * 100000 + '}')", "error",
         r"nested deeper than 64"),
    Case("api-1e400", "api", "d.resolve_scenario('{\"run\": {\"horizon_s\": 1e400}}')", "error",
         r"/run/horizon_s: number 1e400"),
    Case("api-nul-name", "api", "d.resolve_scenario('a\\x00b')", "error", r"cannot hold a NUL"),
    Case("api-overrides-empty-key", "api", "d.with_overrides(TINY, **{'': 5})", "error", r"expected a dotted path"),
    Case("api-overrides-deep", "api", "d.with_overrides(TINY, name=deep_dict(1000))", "error", r"override name: nested deeper"),
    Case("api-path-folder", "api", "d.resolve_scenario(Path('.'))", "error", r"is a folder"),
    Case("api-bytes", "api", "d.resolve_scenario(b'{}')", "typeerror", r"scenario must be a dict"),
    Case("api-result-deep-ok", "api", "d.resolve_scenario(deep_dict(10, inner={}))", "error", r"/a: unknown key"),
]


# Values tried at every numeric field of the resolved scenarios.
NUMBER_TOKENS = {
    "nan": ("NaN", "error", r"/: invalid JSON: .*line 1"),
    "inf": ("-Infinity", "error", r"/: invalid JSON"),
    "1e400": ("1e400", "error", r"{path}: number 1e400 is beyond the range of a double"),
    "1e-400": ("1e-400", "error", r"{path}: number 1e-400 is below the smallest double"),
    # An extreme value may be legal; if not, the error names the field or (a cross-field
    # rule at the other field) the value.
    "1e-300": ("1e-300", "clean", r"{path}|[ (]1e-300\b"),
    "1e300": ("1e300", "clean", r"{path}|[ (]1e\+300\b"),
    "minus1": ("-1", "clean", r"{path}|[ (]-1\b"),
    "string": ('"1"', "error", r'{path}: must be .*, got a string "1"'),
    "null": ("null", "error", r"{path}: must be .*, got null"),
}
# Known to hang or fail after validating (none left; an entry would be a strict xfail).
KNOWN: dict[tuple[str, str], str] = {}
# Fields where a token is a documented value rather than an error.
LEGAL = {
    ("/pool/pool_timeout", "null"): "clean",  # SQLAlchemy QueuePool: None = wait without limit
}


def field_cases(bases: dict[str, dict]) -> list[Case]:
    """NUMBER_TOKENS at every numeric field of each resolved base scenario (run settings
    shortened so a valid value runs in a moment)."""
    out, seen = [], set()
    for base_name, base in bases.items():
        def walk(node: Any, path: list) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, path + [k])
            elif isinstance(node, list):
                for i, v in enumerate(node[:2]):
                    walk(v, path + [i])
            elif isinstance(node, (int, float)) and not isinstance(node, bool):
                pointer = "/" + "/".join(map(str, path))
                if pointer in seen:
                    return
                seen.add(pointer)
                for tag, (token, expect, pattern) in NUMBER_TOKENS.items():
                    expect = LEGAL.get((pointer, tag), expect)
                    out.append(Case(f"field:{base_name}:{pointer}:{tag}", "file", with_token(base, path, token), expect,
                                    pattern.replace("{path}", pointer), KNOWN.get((pointer, tag))))
        walk(base, [])
    return out
