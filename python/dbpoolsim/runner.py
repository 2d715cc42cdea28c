"""dbpoolsim.run: one scenario, all replications, in parallel C++ threads."""

from __future__ import annotations

import os
import sys
from typing import Optional

from . import _core
from .result import Result
from .scenario import ScenarioLike, load_scenario, scenario_base_dir, scenario_error

MAX_THREADS = 256  # docs/limits.md


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run`: a KeyboardInterrupt whose ``result`` is the partial
    :class:`Result` (``result.interrupted`` is True; ``result.progress`` says how far each
    replication got)."""

    def __init__(self, result: Result) -> None:
        super().__init__("run interrupted: the partial result is on .result")
        self.result = result


def run(scenario: ScenarioLike, threads: Optional[int] = None, progress: Optional[bool] = None,
        base_dir: Optional[str] = None) -> Result:
    """Simulate every replication of ``scenario`` and return a :class:`Result`.

    - ``scenario``: dict, JSON string, path, or built-in scenario name;
    - ``threads``: replications run in parallel on this many threads (default: all cores).
      The result is identical whatever the thread count;
    - ``progress``: show a progress bar (default: when stderr is a terminal);
    - ``base_dir``: the directory relative trace files are resolved against (default: the
      scenario file's directory, or the current directory when ``scenario`` is not a file).

    The GIL is released while simulating. Ctrl-C cancels the run within a fraction of a
    second and raises :class:`RunInterrupted` (a KeyboardInterrupt) whose ``result`` holds
    what was simulated, with ``interrupted`` True. That holds until this function returns:
    a Ctrl-C while the result is built (C++) gives the finished replications' metrics with
    the scenario echo's long arrays and the series beyond a million values left out
    (``result.omitted`` lists them); one while the request records are converted gives
    the result without ``requests``. A second Ctrl-C while the first is being honoured
    raises a plain KeyboardInterrupt. Invalid scenarios raise ScenarioError listing every
    problem.
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or not 0 <= threads <= MAX_THREADS):
        raise scenario_error(f"threads: must be an integer from 1 to {MAX_THREADS} (0 or None: all cores), "
                             f"got {threads!r}")
    text = load_scenario(scenario)
    base = scenario_base_dir(scenario) if base_dir is None else base_dir
    job = _core.Job(text, int(threads or 0), base)  # validates: raises ScenarioError
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")
    job.start()
    bar = None
    res: Optional[Result] = None
    try:
        try:
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=100, unit="%", desc="simulating", leave=False,
                           bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
            while not job.wait(0.1):
                if bar is not None:
                    bar.n = round(100 * job.progress(), 1)
                    bar.refresh()
            res = Result._from_parts(*job.result())
            if res._brief["run"].get("record_requests"):
                res.attach_requests(job.requests())
        except KeyboardInterrupt:
            job.cancel()
            if res is None:
                # Cancelled while simulating or building the result: the core stops within a
                # second with what it has (models/run.hpp, result_json_parts; docs/limits.md).
                # A second Ctrl-C while waiting for it raises a plain KeyboardInterrupt.
                res = Result._from_parts(*job.result())
            else:  # while the request records were converted: the result without them
                res.requests = None
                res.omitted.append({"path": "/requests", "values": sum(res._records["recorded"])})
            res.interrupted = True
            raise RunInterrupted(res) from None
        finally:
            if bar is not None:
                bar.close()
    finally:
        job.close()  # cancels and joins the run's thread, if it still runs (milliseconds)
    return res
