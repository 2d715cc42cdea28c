"""Builds and starts the JVM load generator (loadgen/HikariLoad.java) offline, from Debian's
jars in /usr/share/java (libhikaricp-java, libpostgresql-jdbc-java, libslf4j-java)."""

from __future__ import annotations

import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
JARS = [Path("/usr/share/java") / j for j in ("HikariCP.jar", "postgresql.jar", "slf4j-api.jar",
                                               "slf4j-nop.jar")]
CLASSES = HERE.parents[1] / "build" / "reality-java"


def classpath() -> str:
    missing = [str(j) for j in JARS if not j.exists()]
    if missing:
        raise FileNotFoundError(f"missing jars {missing}: install libhikaricp-java "
                                "libpostgresql-jdbc-java libslf4j-java")
    src = HERE / "loadgen" / "HikariLoad.java"
    cls = CLASSES / "HikariLoad.class"
    if not cls.exists() or cls.stat().st_mtime < src.stat().st_mtime:
        CLASSES.mkdir(parents=True, exist_ok=True)
        subprocess.run(["javac", "-d", str(CLASSES), "-cp", ":".join(map(str, JARS)), str(src)],
                       check=True)
    return ":".join([str(CLASSES), *map(str, JARS)])


def jdbc_url(target) -> str:
    d = dict(p.split("=", 1) for p in target.dsn().split())
    return f"jdbc:postgresql://{d['host']}:{d['port']}/{d.get('dbname', 'postgres')}?user={d.get('user', 'postgres')}&sslmode=disable"


def command(trace: Path, target, cfg: dict, out: Path) -> list[str]:
    versions = sorted(p.stem.removeprefix("HikariCP-") for p in JARS[0].parent.glob("HikariCP-*.jar"))
    version = versions[-1] if versions else "?"
    return ["java", "-Xmx256m", f"-Dreality.version={version}", "-cp", classpath(), "HikariLoad", str(trace), jdbc_url(target),
            str(out), *(f"{k}={v}" for k, v in cfg.items())]
