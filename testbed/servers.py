"""Real servers for tests (one module: every server shares the same install-or-reuse, start-on-loopback, wait and
stop helpers above them): PostgreSQL, Redis and InfluxDB (reuse a local one that answers, else install and start
one), Celery workers, and `headroom serve` itself."""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg2
import redis

LOCALHOST = "127.0.0.1"


class ServerStartError(RuntimeError):
    """A test server could not be installed or started; the message carries the tail of its log."""


# -- small reusable helpers ------------------------------------------------------------------------
def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = LOCALHOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(check: Callable[[], bool], *, what: str, timeout: float = 60.0, log: Path | None = None) -> None:
    """Poll check() until it is true, or raise ServerStartError with the log's last lines."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - the server is still starting; keep polling
            pass
        time.sleep(0.2)
    raise ServerStartError(f"{what} did not come up within {timeout:.0f}s; last lines of {log}:\n{log_tail(log)}")


def find_binary(name: str, extra_globs: tuple[str, ...] = ()) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted((p for pattern in extra_globs for p in glob.glob(pattern)), reverse=True)
    return candidates[0] if candidates else None


def ensure_binary(name: str, apt_package: str, extra_globs: tuple[str, ...] = ()) -> str:
    """Path of a server binary, installing its Debian package with apt-get when it is missing."""
    found = find_binary(name, extra_globs)
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", apt_package]):
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise ServerStartError(f"`{' '.join(argv)}` failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    found = find_binary(name, extra_globs)
    if not found:
        raise ServerStartError(f"installed {apt_package} but found no {name} binary on PATH or in {extra_globs}")
    return found


def as_user(user: str, argv: list[str]) -> list[str]:
    """argv run as user when we are root (PostgreSQL refuses to run as root), else unchanged."""
    return ["runuser", "-u", user, "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class ManagedServer:
    """A server process we started (or None when reusing one), its scratch folder, and how to stop it."""

    name: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None
    stop_argv: list[str] | None = None
    log: Path | None = None

    def stop(self) -> None:
        if self.stop_argv:
            subprocess.run(self.stop_argv, capture_output=True, timeout=60)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_process(name: str, argv: list[str], workdir: Path, port: int) -> ManagedServer:
    log = workdir / f"{name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    return ManagedServer(name, port, process=proc, workdir=workdir, log=log)


# -- Celery workers ---------------------------------------------------------------------------------
def start_celery_worker(env: dict[str, str], log: Path, name: str, *, concurrency: int = 1,
                        extra: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """A real worker of services.tasks:app, configured by env (HEADROOM_*), one task at a time per process, in its
    own process group so that all of it can be SIGKILLed; its output goes to log."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "services.tasks:app", "worker", f"--concurrency={concurrency}",
             "--prefetch-multiplier=1", "--loglevel=INFO", f"--hostname={name}@%h", *extra],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop_celery_worker(worker: subprocess.Popen[bytes]) -> None:
    """A warm shutdown, or SIGKILL to the whole group when it does not end within 30 s."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


@contextmanager
def celery_worker(
    env: dict[str, str], log: Path, name: str, *, concurrency: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """start_celery_worker for the length of a with-block."""
    worker = start_celery_worker(env, log, name, concurrency=concurrency)
    try:
        yield worker
    finally:
        stop_celery_worker(worker)


# -- PostgreSQL ------------------------------------------------------------------------------------
PG_GLOBS = ("/usr/lib/postgresql/*/bin/{}",)


@dataclass
class PostgresServer:
    """A PostgreSQL we can create databases on as the superuser `postgres` (trust auth on loopback)."""

    port: int
    host: str = LOCALHOST
    managed: ManagedServer | None = None

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@{self.host}:{self.port}/{database}"

    def _admin(self) -> psycopg2.extensions.connection:
        conn = psycopg2.connect(host=self.host, port=self.port, user="postgres", dbname="postgres", connect_timeout=5)
        conn.autocommit = True
        return conn

    def create_database(self, prefix: str = "headroom_test") -> str:
        """A fresh, uniquely named, empty database; returns its URL."""
        name = f"{prefix}_{secrets.token_hex(4)}"
        conn = self._admin()
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        conn = self._admin()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            conn.close()

    def stop(self) -> None:
        if self.managed is not None:
            self.managed.stop()


def postgres_answers(port: int) -> bool:
    try:
        psycopg2.connect(host=LOCALHOST, port=port, user="postgres", dbname="postgres", connect_timeout=3).close()
        return True
    except psycopg2.Error:
        return False


def start_postgres() -> PostgresServer:
    """The PostgreSQL on 127.0.0.1:5432 if it lets `postgres` in, else a private throwaway cluster."""
    if port_open(5432) and postgres_answers(5432):
        return PostgresServer(5432)
    return start_private_postgres()


def start_private_postgres() -> PostgresServer:
    """initdb + pg_ctl start as the postgres user, data in a temp dir, on a free loopback port."""
    globs = tuple(g.format("initdb") for g in PG_GLOBS)
    initdb = ensure_binary("initdb", "postgresql", globs)
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    workdir = Path(tempfile.mkdtemp(prefix="headroom-pg-"))
    data, log, port = workdir / "data", workdir / "postgres.log", free_port()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(workdir, user.pw_uid, user.pw_gid)
    init = subprocess.run(
        as_user("postgres", [initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]),
        capture_output=True, text=True, timeout=300,
    )
    if init.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        raise ServerStartError(f"initdb failed ({init.returncode}):\n{init.stderr[-2000:]}")
    options = f"-p {port} -k {workdir} -c listen_addresses={LOCALHOST} -c fsync=off -c full_page_writes=off"
    start = subprocess.run(
        as_user("postgres", [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]),
        capture_output=True, text=True, timeout=120,
    )
    stop_argv = as_user("postgres", [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"])
    managed = ManagedServer("postgres", port, workdir=workdir, stop_argv=stop_argv, log=log)
    if start.returncode != 0:
        managed.stop()
        raise ServerStartError(f"pg_ctl start failed ({start.returncode}): {start.stderr[-1000:]}\n{log_tail(log)}")
    wait_until(lambda: postgres_answers(port), what=f"PostgreSQL on port {port}", log=log)
    return PostgresServer(port, managed=managed)


# -- Redis -----------------------------------------------------------------------------------------
@dataclass
class RedisServer:
    port: int
    managed: ManagedServer | None = None

    def url(self, db: int = 15) -> str:
        return f"redis://{LOCALHOST}:{self.port}/{db}"

    def flush(self, db: int = 15) -> None:
        client = redis.Redis.from_url(self.url(db), socket_timeout=5)
        try:
            client.flushdb()
        finally:
            client.close()

    def stop(self) -> None:
        if self.managed is not None:
            self.managed.stop()


def redis_answers(port: int) -> bool:
    client = redis.Redis(host=LOCALHOST, port=port, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def start_redis() -> RedisServer:
    """The Redis on 127.0.0.1:6379 if it answers PING, else a private one with persistence off."""
    if port_open(6379) and redis_answers(6379):
        return RedisServer(6379)
    return start_private_redis()


def start_private_redis() -> RedisServer:
    """redis-server on a free loopback port, no persistence, its folder in a temp dir."""
    binary = ensure_binary("redis-server", "redis-server")
    workdir, port = Path(tempfile.mkdtemp(prefix="headroom-redis-")), free_port()
    argv = [binary, "--port", str(port), "--bind", LOCALHOST, "--save", "", "--appendonly", "no", "--dir", str(workdir)]
    managed = start_process("redis", argv, workdir, port)
    try:
        wait_until(lambda: redis_answers(port), what=f"Redis on port {port}", timeout=30, log=managed.log)
    except ServerStartError:
        managed.stop()
        raise
    return RedisServer(port, managed=managed)


# -- InfluxDB 1.x ----------------------------------------------------------------------------------
INFLUX_CONFIG = """\
reporting-disabled = true
bind-address = "{host}:{rpc_port}"

[meta]
  dir = "{workdir}/meta"
  logging-enabled = false

[data]
  dir = "{workdir}/data"
  wal-dir = "{workdir}/wal"
  query-log-enabled = false

[http]
  enabled = true
  bind-address = "{host}:{http_port}"
  auth-enabled = true
  log-enabled = false
  max-row-limit = 0
  max-body-size = 0

[logging]
  level = "warn"
  suppress-logo = true

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false
"""


@dataclass
class InfluxServer:
    """A private influxd with auth enabled and one admin user."""

    port: int
    user: str
    password: str = field(repr=False)
    managed: ManagedServer | None = None

    def url(self, database: str) -> str:
        return f"influxdb://{self.user}:{self.password}@{LOCALHOST}:{self.port}/{database}"

    def query(self, q: str) -> httpx.Response:
        """Run one InfluxQL statement as the admin (DROP DATABASE in teardowns, say)."""
        response = httpx.post(
            f"http://{LOCALHOST}:{self.port}/query", data={"q": q}, auth=(self.user, self.password), timeout=60
        )
        response.raise_for_status()
        return response

    def stop(self) -> None:
        if self.managed is not None:
            self.managed.stop()


def influx_pings(port: int) -> bool:
    return httpx.get(f"http://{LOCALHOST}:{port}/ping", timeout=2).status_code == 204


def start_influxdb() -> InfluxServer:
    """influxd (Debian's `influxdb` package, 1.x) with every folder in a temp dir, on free loopback ports."""
    binary = ensure_binary("influxd", "influxdb")
    workdir = Path(tempfile.mkdtemp(prefix="headroom-influx-"))
    http_port, rpc_port = free_port(), free_port()
    while rpc_port == http_port:
        rpc_port = free_port()
    config = workdir / "influxdb.conf"
    config.write_text(INFLUX_CONFIG.format(host=LOCALHOST, workdir=workdir, http_port=http_port, rpc_port=rpc_port))
    managed = start_process("influxd", [binary, "-config", str(config)], workdir, http_port)
    user, password = "headroom", secrets.token_urlsafe(16)
    try:
        wait_until(lambda: influx_pings(http_port), what=f"influxd on port {http_port}", log=managed.log)
        # with auth on and no users yet, InfluxDB lets exactly this statement through unauthenticated
        created = httpx.post(
            f"http://{LOCALHOST}:{http_port}/query",
            data={"q": f"CREATE USER {user} WITH PASSWORD '{password}' WITH ALL PRIVILEGES"},
            timeout=30,
        )
        if created.status_code != 200 or "error" in created.text:
            raise ServerStartError(f"could not create the InfluxDB admin user: {created.text[:500]}")
    except BaseException:
        managed.stop()
        raise
    return InfluxServer(http_port, user, password, managed=managed)


# -- the API -----------------------------------------------------------------------------------------
@contextmanager
def headroom_serve(settings: dict[str, str], log: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`headroom serve --port <free> [args]` with HEADROOM_* `settings` (none inherited); yields its URL and process
    once /api/health answers, and stops it afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADROOM_")} | settings
    with log.open("wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("headroom")), "serve", "--port", str(port), *args],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://{LOCALHOST}:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/api/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, what=f"headroom serve {' '.join(args)}", timeout=90, log=log)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
