"""What the benchmarks share: a deadline for the whole run, figures with their verdict against the page
target, running our own manage.py and server on loopback, a temporary PostgreSQL database, Django set up
in the benchmark's own process, and the frame of the two sandbox benchmarks (`sandbox_bench`: options,
work directory, seeding report, server, client-time line)."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

REPOSITORY = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PAGE_TARGET_MS = 200.0
# What seeding 100,000 invoices into one sandbox organisation or company may take.
SEED_TARGET_SECONDS = 120.0
# The development machine's PostgreSQL: loopback, user postgres, trust authentication.
POSTGRES = f"postgres://postgres@{HOST}:5432"


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def left(self, at_most: float | None = None) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError("The benchmark ran out of time (--timeout).")
        return left if at_most is None else min(left, at_most)


@dataclass
class Figures:
    label: str
    milliseconds: list[float]
    points: Sequence[int]
    size: int = 0
    # What the points are: "pages" (Xero's page numbers) or "STARTPOSITION" (QBO's query offsets).
    point_name: str = "pages"

    def line(self) -> str:
        ordered = sorted(self.milliseconds)
        median = statistics.median(ordered)
        p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]
        verdict = "OK" if median <= PAGE_TARGET_MS else "OVER"
        size = f", {self.size / 1_048_576:.1f} MB per page" if self.size else ""
        return (
            f"{self.label}: median {median:.0f} ms, p95 {p95:.0f} ms, min {ordered[0]:.0f} ms, "
            f"max {ordered[-1]:.0f} ms over {len(ordered)} requests ({self.point_name} "
            f"{', '.join(map(str, self.points))}{size})  [target {PAGE_TARGET_MS:.0f} ms: {verdict}]"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def manage(
    arguments: Sequence[str], environment: dict[str, str], deadline: Deadline, limit: float
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "manage.py", *arguments]
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py, fixed arguments
        command,
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=deadline.left(limit),
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"manage.py {arguments[0]} failed with exit code {result.returncode}")
    return result


def wait_until_serving(
    url: str,
    headers: dict[str, str],
    server: subprocess.Popen[bytes],
    deadline: Deadline,
    name: str = "The sandbox server",
) -> None:
    """Poll `url` until the server process answers 200; stop if it exits or answers anything else."""
    until = time.monotonic() + deadline.left(60)
    while time.monotonic() < until:
        if server.poll() is not None:
            raise SystemExit(f"{name} exited with code {server.returncode} before serving.")
        try:
            response = requests.get(url, headers=headers, timeout=10)
        except requests.ConnectionError:
            time.sleep(0.2)
            continue
        if response.status_code == 200:
            return
        raise SystemExit(f"{name} answered {response.status_code}: {response.text[:300]}")
    raise SystemExit(f"{name} did not start serving within 60 s.")


def timed(
    label: str,
    call: Callable[[int], int],
    points: list[int],
    requests_wanted: int,
    deadline: Deadline,
    point_name: str = "pages",
) -> Figures:
    """Call each point (page or position) once untimed (warm-up), then `requests_wanted` timed calls
    cycling through them. `call` returns the response size in bytes."""
    for point in points:
        call(point)
        deadline.left()
    figures = Figures(label, [], points, point_name=point_name)
    for index in range(requests_wanted):
        point = points[index % len(points)]
        started = time.perf_counter()
        figures.size = call(point)
        figures.milliseconds.append((time.perf_counter() - started) * 1000)
        deadline.left()
    return figures


def sandbox_environment(work: Path, *, debug: bool) -> dict[str, str]:
    """Our manage.py against two fresh SQLite databases in `work`, with the sandbox mounted."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": f"sqlite:///{work / 'default.sqlite3'}",
        "SANDBOX_DATABASE_URL": f"sqlite:///{work / 'sandbox.sqlite3'}",
        "LEDGERLINK_SANDBOX_ENABLED": "true",
        "DEBUG": "true" if debug else "false",
        "PYTHONUNBUFFERED": "1",
    }


def migrate(environment: dict[str, str], deadline: Deadline) -> None:
    for database in ("default", "sandbox"):
        manage(["migrate", "--database", database, "--verbosity", "0"], environment, deadline, 300)


def server_start(
    environment: dict[str, str], work: Path, port: int | None = None, *, sandbox_only: bool = False
) -> tuple[subprocess.Popen[bytes], int]:
    """`manage.py runserver` on a (free) loopback port, as its own process, logging to work/server.log.
    With `sandbox_only`, `manage.py sandbox_serve` instead: the sandbox alone (its routes, its threaded
    server), its database already migrated."""
    port = port or free_port()
    log = (work / "server.log").open("wb")
    if sandbox_only:
        arguments = ["sandbox_serve", "--host", HOST, "--port", str(port), "--no-migrate"]
        arguments.append("--settings=config.settings.sandbox_server")
    else:
        arguments = ["runserver", "--noreload", f"{HOST}:{port}"]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py, fixed arguments
        [sys.executable, "manage.py", *arguments],
        cwd=REPOSITORY,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return server, port


def finish(server: subprocess.Popen[bytes] | None, work: Path, *, keep: bool) -> None:
    """Stop our own server (only it) and remove the work directory unless asked to keep it."""
    if server is not None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        print("server stopped")
    if keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def django_setup(environment: dict[str, str]) -> None:
    """Django in this process, configured like the processes the benchmark starts."""
    os.environ.update(environment)
    if str(REPOSITORY) not in sys.path:
        sys.path.insert(0, str(REPOSITORY))
    import django

    django.setup()


@contextmanager
def postgres_database(prefix: str, *, keep: bool = False) -> Iterator[str]:
    """A fresh, empty PostgreSQL database on loopback for the run; its URL. Dropped at the end (with any
    session still on it) unless `keep`."""
    import psycopg

    name = f"{prefix}_{os.getpid()}_{int(time.time())}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        if keep:
            print(f"kept PostgreSQL database {name}")
        else:
            with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=10) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"dropped PostgreSQL database {name}")


@dataclass
class SandboxBench:
    """One run of a sandbox benchmark: its deadline, its work directory (two fresh SQLite databases,
    migrated), the environment of its manage.py processes, and its server once `serve` started it."""

    deadline: Deadline
    work: Path
    environment: dict[str, str]
    server: subprocess.Popen[bytes] | None = None

    def shell_json(self, script: str, limit: float) -> Any:
        """`manage.py shell -c script`; the JSON the script printed as its last line."""
        result = manage(["shell", "--no-imports", "-c", script], self.environment, self.deadline, limit)
        return json.loads(result.stdout.strip().splitlines()[-1])

    def database_size_print(self) -> None:
        size = (self.work / "sandbox.sqlite3").stat().st_size
        print(f"  sandbox database: {size / 1_048_576:,.0f} MB")

    def serve(self, probe: Callable[[str], str], headers: dict[str, str]) -> str:
        """`manage.py runserver` serving the sandbox, once `probe(root)` answers 200; the root URL."""
        self.server, port = server_start(self.environment, self.work)
        root = f"http://{HOST}:{port}"
        wait_until_serving(probe(root), headers, self.server, self.deadline)
        print(f"server: manage.py runserver --noreload on {HOST}:{port} (pid {self.server.pid})")
        return root


@contextmanager
def sandbox_bench(options: argparse.Namespace, prefix: str) -> Iterator[SandboxBench]:
    """The frame of a sandbox benchmark: a deadline of --timeout, a temporary work directory with both
    databases migrated; at the end the server stopped and the directory removed (unless --keep)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    bench = SandboxBench(Deadline(options.timeout), work, sandbox_environment(work, debug=options.debug))
    try:
        print(f"work directory: {work}")
        migrate(bench.environment, bench.deadline)
        yield bench
    finally:
        finish(bench.server, work, keep=options.keep)


def seed_line(*, invoices: int, parties: int, party_name: str, seconds: float, wall: float) -> str:
    """The seeding figures against SEED_TARGET_SECONDS; `seconds` as the seeder measured it, `wall` with
    the command's start-up."""
    verdict = "OK" if seconds < SEED_TARGET_SECONDS else "OVER"
    return (
        f"seed: {invoices:,} invoices, {parties:,} {party_name} in {seconds:.1f} s "
        f"({invoices / seconds:,.0f} invoices/s; {wall:.1f} s with the command's start-up)  "
        f"[target {SEED_TARGET_SECONDS:.0f} s: {verdict}]"
    )


def client_time_line(what: str, sdk: Figures, transport: Figures) -> str:
    """What the SDK's own building of its objects costs: the median of `sdk` over `transport`'s."""
    difference = statistics.median(sdk.milliseconds) - statistics.median(transport.milliseconds)
    return f"  ({what} takes the difference: ~{difference:.0f} ms of client time)"


def sandbox_parser(description: str | None, *, parties: str, points: str) -> argparse.ArgumentParser:
    """The options both sandbox benchmarks take; `parties` names what is seeded beside the invoices
    (contacts, customers), `points` the option for how many pages are measured (pages, positions)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--invoices", type=int, default=100_000, help="invoices to seed (default 100,000)")
    parser.add_argument(
        f"--{parties}", type=int, default=0, help=f"{parties} to seed (default: invoices / 20)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=25, help="timed requests per measurement")
    parser.add_argument(f"--{points}", type=int, default=5, help="pages measured, spread over the list")
    parser.add_argument("--timeout", type=float, default=900.0, help="stop the whole run after this many s")
    parser.add_argument("--debug", action="store_true", help="run the server with DEBUG on")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases and server log")
    return parser


def sandbox_main(
    parser: argparse.ArgumentParser,
    points: str,
    run: Callable[[argparse.Namespace], None],
    argv: Sequence[str] | None,
) -> None:
    options = parser.parse_args(argv)
    if options.invoices < 1 or options.requests < 1 or getattr(options, points) < 1:
        parser.error(f"--invoices, --requests and --{points} must be at least 1")
    # The sandbox speaks plain http on loopback; oauthlib (under the SDKs) refuses that unless told.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    run(options)
