"""Starts the Node load generator (loadgen/node) with node-postgres from Debian's node-pg.

Where Debian's nodejs is installed, `apt-get install node-pg` puts it in /usr/share/nodejs.
Where a newer nodejs from another repository is installed (it conflicts with node-pg's
dependency on Debian's nodejs), the packages node-pg, node-split2 and node-xtend are fetched
with `apt-get download` and unpacked (`dpkg -x`) under build/reality-node: the same files,
pure JavaScript (pg's native binding is not used)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE.parents[1] / "build" / "reality-node"
DEBS = ["node-pg", "node-split2", "node-xtend"]


def node_path() -> Path:
    system = Path("/usr/share/nodejs")
    if (system / "pg").is_dir() and (system / "split2").is_dir():
        return system
    local = BUILD / "usr" / "share" / "nodejs"
    if not (local / "pg").is_dir():
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["apt-get", "download", *DEBS], cwd=d, check=True,
                           stdout=subprocess.DEVNULL)
            for deb in Path(d).glob("*.deb"):
                subprocess.run(["dpkg", "-x", str(deb), str(BUILD)], check=True)
    return local


def command(trace: Path, target, cfg: dict, out: Path) -> list[str]:
    d = dict(p.split("=", 1) for p in target.dsn().split())
    return ["env", f"NODE_PATH={node_path()}", "node", str(HERE / "loadgen" / "node" / "loadgen.js"),
            str(trace), d["host"], d["port"], str(out), *(f"{k}={v}" for k, v in cfg.items())]
