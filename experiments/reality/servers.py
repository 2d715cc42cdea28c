"""Scratch servers for the reality harness, on loopback only, each in its own temporary
directory and on its own free port: PostgreSQL 15 and PgBouncer from Debian's packages, and a
small asyncio TCP proxy that delays every new connection (to slow connects down, like
HikariCP's published spike test).

PostgreSQL and PgBouncer both refuse to run as root, so when we are root they run as the
`postgres` user (created by Debian's postgresql package) through `runuser`.

    with Postgres() as pg, PgBouncer(pg, pool_mode="transaction") as bouncer:
        psycopg.connect(pg.dsn()); psycopg.connect(bouncer.dsn())
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PGBOUNCER = Path("/usr/sbin/pgbouncer")
RUN_AS = "postgres"


class ServerError(RuntimeError):
    """A scratch server could not be started or stopped; the message has its log's tail."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", RUN_AS, "--", *cmd] if os.geteuid() == 0 else cmd


def _scratch_dir(prefix: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        pw = pwd.getpwnam(RUN_AS)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    return d


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class _Server:
    """`with` starts the server and stops it on the way out, whatever happened."""

    def start(self):
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Postgres(_Server):
    """A throw-away PostgreSQL 15 cluster: initdb in a temporary directory, trust
    authentication, listening on 127.0.0.1 only (no Unix socket outside its directory)."""

    def __init__(self, max_connections: int = 300, port: int | None = None) -> None:
        self.port = port or free_port()
        self.max_connections = max_connections
        self.dir: Path | None = None
        self.running = False

    @property
    def data(self) -> Path:
        assert self.dir is not None
        return self.dir / "data"

    @property
    def log(self) -> Path:
        assert self.dir is not None
        return self.dir / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} sslmode=disable"

    def url(self, driver: str = "postgresql") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, cmd: list[str], what: str) -> None:
        r = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise ServerError(f"postgres {what} failed ({r.returncode}): {r.stderr.strip()}\n"
                              f"{_tail(self.log)}")

    def start(self) -> "Postgres":
        if not (PG_BIN / "initdb").exists():
            raise ServerError(f"{PG_BIN / 'initdb'} not found: install the Debian package postgresql")
        self.dir = _scratch_dir("dbpoolsim-pg-")
        self._run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                   "--no-sync", "-E", "UTF8", "--locale=C"], "initdb")
        opts = {"listen_addresses": "127.0.0.1", "port": self.port,
                "unix_socket_directories": str(self.dir), "max_connections": self.max_connections,
                "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                "shared_buffers": "32MB", "log_min_messages": "warning",
                # Millisecond UTC timestamps on every line (restart_marks reads them).
                "log_line_prefix": "%m [%p] ", "log_timezone": "UTC"}
        with open(self.data / "postgresql.conf", "a") as f:
            for k, v in opts.items():
                f.write(f"{k} = '{v}'\n")
        self.up()
        return self

    def up(self) -> None:
        """Start (or start again after `down`) and wait until it accepts logins."""
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                   "-t", "60", "start"], "start")
        self.running = True

    def down(self, mode: str = "fast") -> None:
        """Stop: `fast` terminates the sessions, `immediate` kills them (crash-like)."""
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60",
                   "stop"], "stop")
        self.running = False

    def restart_marks(self, t_stop: float) -> dict:
        """When the server's own log says a restart's steps happened, in s after `t_stop` (a
        time.time() taken just before `down`): `stop_request_s` (the postmaster received the
        shutdown request and signals the backends), `shut_down_s` (the old server is gone),
        `listening_s` (the new postmaster listens: logins before it are refused by TCP, after
        it they reach the server) and `ready_s` (it accepts logins; before it a login is told
        57P03 "starting up"). pg_ctl looks for readiness only every 100 ms, so `ready_s` is up
        to that much earlier than `pg_ctl -w start` returning. The log has milliseconds, and
        time.time() and the log read the same clock. A step missing from the log (or the log
        itself) is left out."""
        marks = {"received fast shutdown request": "stop_request_s",
                 "received immediate shutdown request": "stop_request_s",
                 "database system is shut down": "shut_down_s",
                 'listening on IPv4 address "127.0.0.1"': "listening_s",
                 "database system is ready to accept connections": "ready_s"}
        out: dict = {}
        try:
            text = self.log.read_text(errors="replace")
        except OSError:             # no log: the replay falls back on pg_ctl's return
            return out
        for line in text.splitlines():
            try:
                ts = datetime.strptime(line[:27], "%Y-%m-%d %H:%M:%S.%f %Z").replace(tzinfo=timezone.utc)
            except ValueError:      # a continuation line, or another format
                continue
            rel = ts.timestamp() - t_stop
            if rel < -0.001:        # the log has whole milliseconds: truncated, up to 1 ms early
                continue
            for needle, key in marks.items():
                if needle in line and key not in out:
                    out[key] = round(max(0.0, rel), 3)
        return out

    def stop(self) -> None:
        if self.dir is None:
            return
        try:
            if self.running:
                self.down("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None



class PgBouncer(_Server):
    """PgBouncer in front of a `Postgres`, with its own config, port and logs; the database
    `postgres` is routed to the cluster. Its admin console is the database `pgbouncer`."""

    def __init__(self, pg: Postgres, pool_mode: str = "transaction", default_pool_size: int = 20,
                 max_client_conn: int = 500, **settings: object) -> None:
        self.pg = pg
        self.port = free_port()
        self.settings = {"pool_mode": pool_mode, "default_pool_size": default_pool_size,
                         "max_client_conn": max_client_conn, **settings}
        self.dir: Path | None = None
        self.proc: subprocess.Popen | None = None

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} sslmode=disable"

    def url(self, driver: str = "postgresql") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> "PgBouncer":
        if not PGBOUNCER.exists():
            raise ServerError(f"{PGBOUNCER} not found: install the Debian package pgbouncer")
        self.dir = _scratch_dir("dbpoolsim-pgb-")
        (self.dir / "users.txt").write_text('"postgres" ""\n')
        lines = ["[databases]",
                 f"postgres = host=127.0.0.1 port={self.pg.port} dbname=postgres user=postgres",
                 "[pgbouncer]", "listen_addr = 127.0.0.1", f"listen_port = {self.port}",
                 "unix_socket_dir =", "auth_type = trust", f"auth_file = {self.dir / 'users.txt'}",
                 "admin_users = postgres", f"logfile = {self.dir / 'pgbouncer.log'}",
                 "ignore_startup_parameters = extra_float_digits,options"]
        lines += [f"{k} = {v}" for k, v in self.settings.items()]
        ini = self.dir / "pgbouncer.ini"
        ini.write_text("\n".join(lines) + "\n")
        if os.geteuid() == 0:
            pw = pwd.getpwnam(RUN_AS)
            for p in (ini, self.dir / "users.txt"):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self.proc = subprocess.Popen(_as_server_user([str(PGBOUNCER), str(ini)]),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"pgbouncer exited ({self.proc.returncode}):\n"
                                  f"{_tail(self.dir / 'pgbouncer.log')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise ServerError("pgbouncer did not listen within 20 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None



class DelayProxy(_Server):
    """A TCP proxy on 127.0.0.1 that waits `connect_delay_s` before opening each upstream
    connection, then copies bytes both ways. Runs an asyncio loop in a daemon thread."""

    def __init__(self, upstream_port: int, connect_delay_s: float) -> None:
        self.upstream_port = upstream_port
        self.connect_delay_s = connect_delay_s
        self.port = free_port()
        self.connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        self.connections += 1
        uwriter = None
        try:
            await asyncio.sleep(self.connect_delay_s)
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            await asyncio.gather(self._pipe(creader, uwriter), self._pipe(ureader, cwriter))
        except (OSError, asyncio.CancelledError):
            pass      # upstream refused, or the proxy is stopping: just close both ends
        finally:
            cwriter.close()
            if uwriter is not None:
                uwriter.close()

    async def _drain(self) -> None:
        assert self._server is not None
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()

    def start(self) -> "DelayProxy":
        ready = threading.Event()

        def main() -> None:
            loop = self._loop = asyncio.new_event_loop()
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", self.port))
            ready.set()
            loop.run_forever()
            # Stopped: close the listener, end every copy task, then the loop itself.
            loop.run_until_complete(self._drain())
            loop.close()

        self._thread = threading.Thread(target=main, name="delay-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise ServerError("delay proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

