"""Builds and starts the Go load generator (loadgen/go, database/sql with lib/pq) offline,
from Debian's packages only: golang-go and golang-github-lib-pq-dev (GOPATH=/usr/share/gocode,
no modules, nothing downloaded)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE.parents[1] / "build" / "reality-go"
GOPATH = Path("/usr/share/gocode")


def binary() -> Path:
    if not (GOPATH / "src" / "github.com" / "lib" / "pq").is_dir():
        raise FileNotFoundError(f"{GOPATH}/src/github.com/lib/pq missing: install golang-github-lib-pq-dev")
    src = HERE / "loadgen" / "go" / "main.go"
    exe = BUILD / "reality-go"
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        BUILD.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GOPATH": str(GOPATH), "GO111MODULE": "off", "GOFLAGS": "",
               "GOCACHE": str(BUILD / "cache"), "GOPROXY": "off"}
        subprocess.run(["go", "build", "-o", str(exe), "."], cwd=src.parent, env=env, check=True)
    return exe


def command(trace: Path, target, cfg: dict, out: Path) -> list[str]:
    d = dict(p.split("=", 1) for p in target.dsn().split())
    dsn = (f"host={d['host']} port={d['port']} user={d.get('user', 'postgres')} "
           f"dbname={d.get('dbname', 'postgres')} sslmode=disable")
    return [str(binary()), str(trace), dsn, str(out), *(f"{k}={v}" for k, v in cfg.items())]
