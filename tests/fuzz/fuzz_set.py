"""Fuzz target (atheris, libFuzzer for Python): the CLI's `--set path=value` parser.

The --set parser is Python (dbpoolsim.cli._load and dbpoolsim.with_overrides), so clang's
libFuzzer cannot reach it; atheris drives the same libFuzzer engine over Python coverage.
Each input is split into lines, one --set item each, applied to the built-in
medium-application scenario, and the result validated by the C++ reader (what `dbpoolsim
run --set ...` does before simulating). ScenarioError (a ValueError) is the expected answer
to bad input; any other exception is a finding (atheris reports it with the input).

    .venv/bin/python tests/fuzz/fuzz_set.py -max_total_time=60 build/fuzz/work/set tests/fuzz/corpus/set
"""

import sys

import atheris

with atheris.instrument_imports(include=["dbpoolsim"]):
    from dbpoolsim import ScenarioError, _core
    from dbpoolsim.cli import _load


def one_input(data: bytes) -> None:
    text = data.decode("utf-8", errors="surrogateescape")  # as Python decodes argv
    sets = text.split("\n")
    try:
        scenario = _load("medium-application", sets)
        _core.resolve_scenario(scenario, "/nonexistent-fuzz-dir")
    except ScenarioError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
