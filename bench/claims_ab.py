"""Sopu's claim clicks at two git revisions, driven in turn in the same minutes of one machine.

    .venv/bin/python -m bench.claims_ab BASE [HEAD] [--rounds 4] [--seconds 4] [--concurrency 32]
    .venv/bin/python -m bench.claims_ab HEAD~1     # the last commit against the working tree
    .venv/bin/python -m bench.claims_ab HEAD~1 --postgres postgresql://root@127.0.0.1:5432/postgres
        # both sides on PostgreSQL, a fresh database each (created and dropped by the run)
    .venv/bin/python -m bench.claims_ab HEAD HEAD --head-env SOPU_TURNS_AT_ONCE=4
        # one revision against itself, HEAD's server with another setting

bench/claims.py measures one revision. On a shared machine two of its runs, one after the
other, differ by up to 30%: more than most changes are worth. This script starts a Sopu server
for each revision at once and drives them in turn with bench/claims.py's load (its ten-click
cycle per lane, every answer card checked): after a warm-up of each, every round drives BASE
and HEAD for the same seconds at the same concurrency, then reads the server's CPU time per
click once what it sends after answering is out. It prints each phase, the medians of the
rounds per side, HEAD/BASE ratios of the medians and how many rounds HEAD was faster in.

Which side goes first alternates from round to round. Whatever drifts while a round runs
(another job on the machine starting or ending, SQLite's files and Sopu's tables growing,
the CPU's clock) would otherwise favour the same side in every round; alternated, it favours
each side in half of them and the medians cancel most of it.

A revision is checked out with ``git worktree add --detach`` in a temporary directory and
removed at the end, also after an error or Ctrl-C. Without HEAD, the other side is the working
tree as it is, uncommitted changes included. Each side's server is this tree's
bench/claims.py (``--serve sopu``) run in that side's tree with PYTHONPATH set to it: the
application (bot, storage, mediation, cards, ...) and the test factories it seeds from are the
revision's, while the serving and seeding code is the one the load generator and its answer
checks come from here. Third-party packages are this virtualenv's for both sides. One fake Bot
Connector (this tree's) serves both; each side has its own SQLite file, or with ``--postgres``
its own database on that server, served by one replica.

At the end each side's journal is compared with the claims and releases its clients were
answered, and the card updates the connector received with the claims and releases of both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import claims
from bench.claims import ROOT, SETTLE_SECONDS, Child, Clicks, Result, drive

CLAIMS = Path(claims.__file__).resolve()  # serves both sides: it seeds what the load expects
PACKAGES = ("bot", "storage", "mediation", "cards", "tests")  # must come from the side's tree
SIDES = ("BASE", "HEAD")


@dataclass(frozen=True)
class Options:
    base: str  # a git revision
    head: str | None = None  # a git revision, or None for the working tree as it is
    rounds: int = 4
    seconds: float = 4.0  # per phase: one side driven once
    concurrency: int = 32
    requests: int = 100_000  # at most, per phase; the phases end by time
    warmup_requests: int = 400  # as bench.claims
    warmup_seconds: float = 2.0
    postgres: str | None = None  # a server URL: each side on a fresh database of its own
    # Settings of HEAD's server only (SOPU_TURNS_AT_ONCE=4, ...): one revision against itself
    # with another setting measures the setting.
    head_env: tuple[str, ...] = ()

    @classmethod
    def tiny(cls) -> Options:
        """The last commit against itself, one short round: for the smoke test."""
        return cls(
            base="HEAD",
            head="HEAD",
            rounds=1,
            seconds=1.0,
            concurrency=4,
            warmup_requests=20,
            warmup_seconds=1.0,
        )


# -- the two trees ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    name: str  # BASE or HEAD
    described: str  # the revision as given and its commit, or the working tree's state
    tree: Path  # where its application code is read from
    commit: str | None  # None for the working tree


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


@contextlib.contextmanager
def worktree(commit: str, path: Path) -> Iterator[Path]:
    """A detached checkout of ``commit`` at ``path``, removed on the way out."""
    try:
        git("worktree", "add", "--detach", "--quiet", str(path), commit)
        yield path
    finally:
        with contextlib.suppress(RuntimeError):  # it may not have been added
            git("worktree", "remove", "--force", str(path))


def working_tree() -> str:
    changed = git("status", "--porcelain").splitlines()
    state = f", with uncommitted changes ({len(changed)} paths)" if changed else ", clean"
    return f"working tree on {git('rev-parse', '--short', 'HEAD')}{state}"


@contextlib.contextmanager
def checked_out(options: Options, parent: Path) -> Iterator[list[Side]]:
    """BASE and HEAD with a tree each: worktrees under ``parent``, or this tree for HEAD."""
    with contextlib.ExitStack() as checkouts:
        sides = []
        for name, revision in zip(SIDES, (options.base, options.head), strict=True):
            if revision is None:
                sides.append(Side(name, working_tree(), ROOT, None))
                continue
            commit = git("rev-parse", "--verify", "--end-of-options", f"{revision}^{{commit}}")
            tree = checkouts.enter_context(worktree(commit, parent / name.lower()))
            short = git("rev-parse", "--short", commit)
            sides.append(Side(name, f"{revision} = {short}", tree, commit))
        yield sides


class SideServer(Child):
    """Sopu from this bench/claims.py, with the application code of another tree.

    The child runs as ``env -C TREE PYTHONPATH=TREE python -P .../bench/claims.py``: in the
    tree, importing from it first, and (``-P``) without this bench/ directory on sys.path.
    """

    def __init__(
        self, tree: Path, workdir: Path, database: str = "", env: Sequence[str] = ()
    ) -> None:
        # One replica per side on PostgreSQL: the A/B is of a click's cost, not of scaling.
        super().__init__("sopu-pg" if database else "sopu", workdir, database)
        self.tree = tree.resolve()
        self.python = ("env", "-C", str(tree), f"PYTHONPATH={tree}", *env, sys.executable, "-P")
        self.command = (*self.python, str(CLAIMS))

    async def start(self, connector_url: str = "", lanes: int = 1, timeout: float = 240) -> None:
        await self.check_imports()
        await super().start(connector_url, lanes, timeout)

    async def check_imports(self) -> None:
        """Fail unless the application's packages resolve to the tree (not, say, this one)."""
        where = (
            "import importlib.util as u, os, sys\n"
            "for name in sys.argv[1:]:\n"
            "    where = next(iter(u.find_spec(name).submodule_search_locations))\n"
            "    print(os.path.realpath(where))"
        )
        proc = await asyncio.create_subprocess_exec(
            *self.python,
            "-c",
            where,
            *PACKAGES,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        found = out.decode().splitlines()
        if proc.returncode or len(found) != len(PACKAGES):
            raise RuntimeError(f"{', '.join(PACKAGES)} not all in {self.tree}:\n{err.decode()}")
        for package, path in zip(PACKAGES, found, strict=True):
            if not Path(path).is_relative_to(self.tree):
                raise RuntimeError(f"{package} would come from {path}, not from {self.tree}")

    @property
    def api(self) -> str:
        return f"{self.url}/api/messages"


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Phase:
    round: int
    side: str
    result: Result

    @property
    def cpu_ms(self) -> float:
        return self.result.cpu_ms["server"]


@dataclass
class Report:
    options: Options
    started: datetime
    load: tuple[float, float, float]  # the machine's load average when the run began
    sides: list[Side]
    warmups: dict[str, Result]
    phases: list[Phase]
    checks: list[str]
    mismatches: list[str]  # answers the journal or the connector does not bear out

    def of(self, side: str) -> list[Phase]:
        return [p for p in self.phases if p.side == side]

    def errors(self, side: str) -> int:
        return self.warmups[side].errors + sum(p.result.errors for p in self.of(side))


def measure(options: Options) -> Report:
    """Check out the revisions, run the A/B, remove the checkouts: nothing outlives it."""
    with tempfile.TemporaryDirectory(prefix="sopu-claims-ab-") as tmp:
        trees, servers = Path(tmp) / "trees", Path(tmp) / "servers"
        trees.mkdir()
        with checked_out(options, trees) as sides:
            return asyncio.run(run_on_databases(options, sides, servers))


async def run_on_databases(options: Options, sides: list[Side], workdir: Path) -> Report:
    """The A/B on SQLite files, or on a PostgreSQL database per side, dropped at the end."""
    if options.postgres is None:
        return await run(options, sides, workdir, {})
    databases = {side.name: claims.postgres_database(options.postgres) for side in sides}
    try:
        for database in databases.values():
            await database.create()
        return await run(options, sides, workdir, {n: d.url for n, d in databases.items()})
    finally:
        for database in databases.values():
            await database.drop()


async def run(
    options: Options, sides: list[Side], workdir: Path, databases: dict[str, str]
) -> Report:
    """Start the servers, warm each up, drive them in turn round by round, stop them."""
    started, load = datetime.now(UTC), os.getloadavg()
    connector = Child("connector", workdir)
    servers = {
        side.name: SideServer(
            side.tree,
            workdir / side.name.lower(),
            databases.get(side.name, ""),
            options.head_env if side.name == "HEAD" else (),
        )
        for side in sides
    }
    for path in (workdir, *(s.workdir for s in servers.values())):
        path.mkdir(exist_ok=True)
    warmups: dict[str, Result] = {}
    phases: list[Phase] = []
    try:
        await connector.start()
        await asyncio.gather(
            *(server.start(connector.url, options.concurrency) for server in servers.values())
        )
        traffic = {name: Clicks(connector.url, server.info) for name, server in servers.items()}
        for name, server in servers.items():
            warmups[name] = await drive(
                server.api,
                traffic[name],
                options.concurrency,
                options.warmup_requests,
                options.warmup_seconds,
            )
        for round_ in range(1, options.rounds + 1):
            order = SIDES if round_ % 2 else SIDES[::-1]
            for name in order:
                result = await phase(servers[name], traffic[name], options)
                phases.append(Phase(round_, name, result))
    finally:
        await asyncio.gather(*(s.stop() for s in servers.values()), return_exceptions=True)
        await connector.stop()
    checks, mismatches = answers_borne_out(servers, traffic, connector.summary)
    return Report(options, started, load, sides, warmups, phases, checks, mismatches)


async def phase(server: SideServer, traffic: Clicks, options: Options) -> Result:
    """One side driven once; its server's CPU read after what it sends once it has answered."""
    before = server.cpu_seconds()
    result = await drive(
        server.api, traffic, options.concurrency, options.requests, options.seconds
    )
    await asyncio.sleep(SETTLE_SECONDS)
    result.cpu_ms = {"server": (server.cpu_seconds() - before) * 1000 / max(1, result.requests)}
    return result


def answers_borne_out(
    servers: dict[str, SideServer], traffic: dict[str, Clicks], connector: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """The checks of bench/claims.py, per side: the journal, then the cards of both sides."""
    checks: list[str] = []
    mismatches: list[str] = []
    changes = merged = 0
    for name, server in servers.items():
        answered = traffic[name].answered["real claim"], traffic[name].answered["release"]
        check, agrees = claims.journal_check(name, traffic[name], server.summary)
        checks.append(check)
        if not agrees:
            mismatches.append(check)
        changes += sum(answered)
        merged += int(server.summary.get("merged") or 0)
    updates = connector.get("received", {}).get("update", 0)
    checks.append(
        f"card updates: {updates} sent and {merged} merged into one already waiting, "
        f"for {changes} claims and releases of both sides"
    )
    # An update is made again when the case changed while it was shown: a few more is fine.
    if updates + merged < changes:
        mismatches.append(checks[-1])
    return checks, mismatches


# -- the report -------------------------------------------------------------------------------


def median(phases: Sequence[Phase], figure: Callable[[Phase], float]) -> float:
    return statistics.median(figure(p) for p in phases) if phases else float("nan")


def ratio(head: float, base: float) -> float:
    return head / base if base else float("nan")


FIGURES: dict[str, Callable[[Phase], float]] = {
    "req/s": lambda p: p.result.rate,
    "p50 ms": lambda p: p.result.p50,
    "p99 ms": lambda p: p.result.p99,
    "CPU ms": lambda p: p.cpu_ms,
}


def render(report: Report) -> str:
    o = report.options
    base, head = report.sides
    lines = [
        f"Sopu claim A/B benchmark, {report.started:%Y-%m-%d %H:%M} UTC, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs (load average "
        f"{report.load[0]:.1f} at the start), 127.0.0.1 only",
        f"BASE: {base.described}",
        f"HEAD: {head.described}",
        "Database: "
        + ("PostgreSQL, one replica per side" if o.postgres else "SQLite, a file per side"),
    ]
    if o.head_env:
        lines.append("HEAD's server only: " + " ".join(o.head_env))
    elif base.commit is not None and base.commit == head.commit:
        lines.append("The same commit on both sides: the differences are the machine's.")
    lines += [
        f"{o.rounds} round{'s' if o.rounds > 1 else ''} of BASE and HEAD in turn (the first "
        f"alternates), {o.seconds:g} s each at {o.concurrency} concurrent, after a "
        f"{o.warmup_seconds:g} s warm-up of each.",
        "Latency: from sending the POST to having read the whole answer, in the client.",
        f"CPU ms: the server's CPU time per click, read {SETTLE_SECONDS:g} s after the phase.",
        "",
        f"{'round':<7}{'side':<6}{'requests':>10}{'errors':>8}"
        + "".join(f"{name:>10}" for name in FIGURES),
    ]
    for p in report.phases:
        lines.append(
            f"{p.round:<7}{p.side:<6}{p.result.requests:>10}{p.result.errors:>8}"
            f"{p.result.rate:>10.0f}{p.result.p50:>10.1f}{p.result.p99:>10.1f}{p.cpu_ms:>10.2f}"
        )
    medians = {
        side: {name: median(report.of(side), figure) for name, figure in FIGURES.items()}
        for side in SIDES
    }
    lines.append("")
    for side in SIDES:
        m = medians[side]
        lines.append(
            f"{'median':<7}{side:<6}{'':>18}{m['req/s']:>10.0f}{m['p50 ms']:>10.1f}"
            f"{m['p99 ms']:>10.1f}{m['CPU ms']:>10.2f}"
        )
    ratios = {name: ratio(medians["HEAD"][name], medians["BASE"][name]) for name in FIGURES}
    lines.append(f"{'HEAD/BASE':<31}" + "".join(f"{r:>9.3f}x" for r in ratios.values()))
    rounds = list(zip(report.of("BASE"), report.of("HEAD"), strict=True))
    faster = sum(h.result.rate > b.result.rate for b, h in rounds)
    cheaper = sum(h.cpu_ms < b.cpu_ms for b, h in rounds)
    lines += [
        "",
        f"HEAD/BASE of the medians: req/s {ratios['req/s']:.3f}x, CPU per click "
        f"{ratios['CPU ms']:.3f}x, p50 {ratios['p50 ms']:.3f}x, p99 {ratios['p99 ms']:.3f}x "
        "(below 1 is better for CPU and latency)",
        f"HEAD was faster (req/s) in {faster} of {len(rounds)} rounds and cheaper (CPU per "
        f"click) in {cheaper} of {len(rounds)}.",
        "",
        "Checks:",
        *(f"  {c}" for c in report.checks),
    ]
    errors = {side: report.errors(side) for side in SIDES}
    if any(errors.values()):
        lines.append(
            "ERRORS (failed requests or answers not the expected card, warm-ups included): "
            + ", ".join(f"{side} {n}" for side, n in errors.items())
        )
    else:
        lines.append("No errors: every answer was the expected card.")
    if report.mismatches:
        lines.append("MISMATCH: see the checks above")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.claims_ab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("base", metavar="BASE", help="the git revision to compare with")
    parser.add_argument(
        "head",
        metavar="HEAD",
        nargs="?",
        help="the git revision measured (default: the working tree as it is)",
    )
    parser.add_argument("--rounds", type=int, default=4, help="rounds of both sides (4)")
    parser.add_argument(
        "--seconds", type=float, default=4.0, help="seconds each side is driven in a round (4)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="clients, each one click at a time (32)"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run both sides on PostgreSQL: a fresh database each on this server (one replica)",
    )
    parser.add_argument(
        "--head-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for HEAD's server only, e.g. SOPU_TURNS_AT_ONCE=4 (repeatable)",
    )
    args = parser.parse_args(argv)
    if any("=" not in e or not e.startswith("SOPU_") for e in args.head_env):
        parser.error("--head-env takes SOPU_NAME=VALUE")
    if args.rounds < 1 or args.seconds <= 0 or args.concurrency < 1:
        parser.error("--rounds, --seconds and --concurrency must be positive")
    options = Options(
        args.base,
        args.head,
        args.rounds,
        args.seconds,
        args.concurrency,
        postgres=args.postgres,
        head_env=tuple(args.head_env),
    )
    # Stopped by a signal, clean up as after Ctrl-C: stop the servers, remove the worktrees.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        report = measure(options)
    except KeyboardInterrupt:
        print("Interrupted: the servers are stopped and the worktrees removed.", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"claims_ab: {error}", file=sys.stderr)
        return 1
    print(render(report))
    return 1 if report.mismatches or any(report.errors(side) for side in SIDES) else 0


if __name__ == "__main__":
    sys.exit(main())
