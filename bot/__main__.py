"""Sopu's command line: serve, migrate, keep the registry, load the demo, run locally."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import TextIO

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot import demo, playground
from bot.access_log import RedactingAccessLogger
from bot.bootstrap import create_app, open_storage
from bot.clock import SystemClock
from bot.settings import Settings, SettingsError, is_loopback
from mediation.errors import DomainError
from mediation.model import Mediator
from mediation.organisations import Organisation, OrganisationKind
from mediation.policy import BankPolicy
from mediation.registry import RegistryFileError, RegistryRow, parse_registry
from mediation.services import ImportReport, import_registry
from mediation.trouble import ValuesWithheld, trouble_at
from storage.uow import SqlUnitOfWork

log = logging.getLogger("sopu")

PLAYGROUND_DIR = Path("var") / "playground"
NODE_HELP = (
    "Node.js was not found, so the Agents Playground (the local Teams client) is not "
    "started.\n"
    "Install Node.js 20 or newer (https://nodejs.org/, or `apt install nodejs npm`) and run\n"
    "`make run` again: it uses tests/browser's copy after `cd tests/browser && npm ci`,\n"
    f"or else fetches {playground.PACKAGE}@{playground.VERSION} with npx."
)


class CommandError(Exception):
    """A command cannot go on; the message is for the person at the terminal."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# -- the parser -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sopu",
        description="Sopu, the family-mediation mediator bank in Microsoft Teams.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the bot's web service")
    serve.add_argument("--host", help="address to listen on (default: SOPU_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: SOPU_PORT or 3978)")

    db = commands.add_parser("db", help="the database")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="migrate the database to the newest schema")

    mediators = commands.add_parser("mediators", help="the mediator registry")
    registry = mediators.add_subparsers(dest="mediators_command", metavar="ACTION", required=True)
    load = registry.add_parser("import", help="create or update mediators from a CSV file")
    load.add_argument("file", type=Path, metavar="FILE.csv")
    registry.add_parser("list", help="show the registry")

    organisations = commands.add_parser("organisations", help="the network's organisations")
    network = organisations.add_subparsers(
        dest="organisations_command", metavar="ACTION", required=True
    )
    network.add_parser("list", help="show the organisations and their agreements")
    change = network.add_parser(
        "set", help="add an organisation or change its kind, agreement or hours"
    )
    change.add_argument("name", help="the organisation, as the registry names the employer")
    # Options left out keep what the organisation has: they are absent from the arguments.
    keep = argparse.SUPPRESS
    change.add_argument("--kind", choices=[k.value for k in OrganisationKind], default=keep)
    change.add_argument(
        "--from",
        dest="agreement_start",
        metavar="YYYY-MM-DD|none",
        type=_day_or_none,
        default=keep,
        help="the agreement's first day",
    )
    change.add_argument(
        "--until",
        dest="agreement_end",
        metavar="YYYY-MM-DD|none",
        type=_day_or_none,
        default=keep,
        help="the agreement's last day (leaving the network ends its members' new seats)",
    )
    change.add_argument(
        "--hours",
        dest="yearly_hours",
        metavar="N|none",
        type=_hours_or_none,
        default=keep,
        help="the hours a year the network agreed with it",
    )

    demo_cmd = commands.add_parser("demo", help="load demo mediators and families")
    demo_cmd.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing (and succeed) when the database already has mediators",
    )

    commands.add_parser(
        "run-dev", help="local run: migrate, demo data, Sopu and the Agents Playground"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2) and --help (0)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        settings = Settings.from_env()
        return _dispatch(args, settings)
    except SettingsError as exc:
        print(f"sopu: setting error: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"sopu: {exc}", file=sys.stderr)
        return exc.code
    except (SQLAlchemyError, OSError) as exc:
        # The engine hides statement parameters, so no family data reaches the terminal.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"sopu: database error: {first}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    out = sys.stdout
    if args.command == "serve":
        return serve(settings, args.host, args.port)
    if args.command == "run-dev":
        return run_dev(settings)
    _configure_logging(logging.WARNING)
    if args.command == "db":
        return asyncio.run(db_upgrade(settings, out))
    if args.command == "mediators" and args.mediators_command == "import":
        return import_file(settings, args.file, out)
    if args.command == "mediators":
        return asyncio.run(list_mediators(settings, out))
    if args.command == "organisations" and args.organisations_command == "set":
        return asyncio.run(set_organisation(settings, args, out))
    if args.command == "organisations":
        return asyncio.run(list_organisations(settings, out))
    if args.command == "demo":
        return asyncio.run(load_demo(settings, out, if_empty=args.if_empty))
    raise AssertionError(f"unhandled command {args.command}")


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _configure_logging(level: int) -> None:
    # A no-op when something (a test runner, an embedding program) configured it already.
    if logging.root.handlers:
        return
    logging.basicConfig(level=level, format=LOG_FORMAT)
    for handler in logging.root.handlers:
        # Tracebacks keep their frames but not their exceptions' messages (mediation/trouble.py).
        handler.setFormatter(ValuesWithheld(LOG_FORMAT))


def _refuse_public_bind(settings: Settings, host: str) -> None:
    problem = settings.bind_problem(host)
    if problem is not None:
        raise CommandError(f"refusing to start: {problem}", code=2)
    if not settings.auth_enabled and not is_loopback(host):
        log.warning("*" * 72)
        log.warning("SOPU_ALLOW_UNAUTHENTICATED_PUBLIC_BIND is set: listening on %s", host)
        log.warning("WITHOUT authentication: anyone who reaches it can act as any user.")
        log.warning("*" * 72)


def _warn_if_unauthenticated(settings: Settings) -> None:
    if settings.auth_enabled:
        return
    for line in (
        "*" * 72,
        "Bot Framework authentication is OFF: BOT_APP_ID is empty.",
        "Anyone who can reach this port can post activities as any user.",
        "This is only for local use with the Agents Playground on this machine;",
        "set BOT_APP_ID, BOT_APP_PASSWORD and BOT_TENANT_ID for anything else.",
        "*" * 72,
    ):
        log.warning(line)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# -- the database -----------------------------------------------------------------------


@asynccontextmanager
async def open_bank(settings: Settings) -> AsyncIterator[Callable[[], SqlUnitOfWork]]:
    """A migrated database and a factory of units of work on it."""
    async with open_storage(settings) as storage:
        yield storage.uow


async def db_upgrade(settings: Settings, out: TextIO) -> int:
    async with open_storage(settings) as storage, storage.engine.connect() as connection:
        revision = await connection.execute(text("SELECT version_num FROM alembic_version"))
        heads = ", ".join(sorted(r[0] for r in revision))
    print(f"Database {_shown(settings.database_url)} is at revision {heads}.", file=out)
    return 0


# -- the registry -----------------------------------------------------------------------


def import_file(settings: Settings, path: Path, out: TextIO) -> int:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CommandError(f"no such file: {path}") from None
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    try:
        rows = parse_registry(data)
    except RegistryFileError as exc:
        count = len(exc.problems)
        print(
            f"sopu: {path} was not imported; nothing was changed ({count} "
            f"problem{'s' if count != 1 else ''}):",
            file=sys.stderr,
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    report = asyncio.run(_import(settings, rows))
    _print_import(report, out)
    return 0


async def _import(settings: Settings, rows: list[RegistryRow]) -> ImportReport:
    async with open_bank(settings) as new_uow:
        return await import_registry(rows, new_uow(), SystemClock())


def _print_import(report: ImportReport, out: TextIO) -> None:
    print(
        f"created {len(report.created)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}",
        file=out,
    )
    for label, names in (
        ("created", report.created),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("new organisations", report.organisations),
    ):
        if names:
            print(f"  {label}: {', '.join(names)}", file=out)


async def list_mediators(settings: Settings, out: TextIO) -> int:
    async with open_bank(settings) as new_uow:
        uow = new_uow()
        async with uow:
            people = await uow.mediators.list()
    policy = settings.policy
    today = policy.local_date(SystemClock().now())
    if not people:
        print("The registry is empty. Add people with `sopu mediators import FILE.csv`.", file=out)
        return 0
    print(registry_table(people, policy, today), file=out)
    return 0


# -- the organisations -------------------------------------------------------------------


def _day_or_none(value: str) -> date | None:
    if value.strip().lower() == "none":
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or none: {value}") from None


def _hours_or_none(value: str) -> int | None:
    if value.strip().lower() == "none":
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of hours or none: {value}") from None


async def set_organisation(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    async with open_bank(settings) as new_uow:
        uow = new_uow()
        async with uow:
            known = await uow.organisations.by_name(args.name) or Organisation(args.name)
            given = vars(args)
            changes: dict[str, object] = {
                name: given[name]
                for name in ("agreement_start", "agreement_end", "yearly_hours")
                if name in given
            }
            if "kind" in given:
                changes["kind"] = OrganisationKind(given["kind"])
            try:
                wanted = dataclasses.replace(known, **changes)  # type: ignore[arg-type]
            except DomainError as exc:
                raise CommandError(f"{args.name}: {exc}") from None
            saved = await uow.organisations.save(wanted)
            await uow.commit()
    print(organisations_table([saved], settings.policy.local_date(SystemClock().now())), file=out)
    return 0


async def list_organisations(settings: Settings, out: TextIO) -> int:
    async with open_bank(settings) as new_uow:
        uow = new_uow()
        async with uow:
            found = await uow.organisations.list()
    if not found:
        print("No organisations yet: `sopu mediators import` adds each employer.", file=out)
        return 0
    print(organisations_table(found, settings.policy.local_date(SystemClock().now())), file=out)
    return 0


def organisations_table(found: Sequence[Organisation], today: date) -> str:
    header = ("name", "kind", "from", "until", "hours a year", "in the network")
    rows = [header]
    for o in sorted(found, key=lambda o: o.name.casefold()):
        rows.append(
            (
                o.name,
                o.kind.value if o.kind else "-",
                o.agreement_start.isoformat() if o.agreement_start else "-",
                o.agreement_end.isoformat() if o.agreement_end else "-",
                str(o.yearly_hours) if o.yearly_hours is not None else "-",
                "yes" if o.in_network(today) else "no",
            )
        )
    return _table(rows)


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def registry_table(people: Sequence[Mediator], policy: BankPolicy, today: date) -> str:
    header = ("name", "email", "employer", "languages", "role", "experienced", "active", "away")
    rows = [header]
    for m in sorted(people, key=lambda p: p.name.casefold()):
        rows.append(
            (
                m.name,
                m.email,
                m.employer,
                " ".join(sorted(m.languages)),
                m.role.value,
                _experience(m, policy),
                "yes" if m.active else "no",
                _away(m, today),
            )
        )
    return _table(rows)


def _experience(m: Mediator, policy: BankPolicy) -> str:
    done = f"{m.completed_cases} done"
    if m.experienced_mark:
        return f"yes (marked, {done})" if m.completed_cases else "yes (marked)"
    if m.is_experienced(policy):
        return f"yes ({done})"
    return f"no ({m.completed_cases} of {policy.experience_threshold})"


def _away(m: Mediator, today: date) -> str:
    now = m.away_on(today)
    if now is not None:
        return f"until {now.end.isoformat()}"
    coming = sorted((p for p in m.away if p.start > today), key=lambda p: p.start)
    if coming:
        return f"from {coming[0].start.isoformat()}"
    return "-"


# -- the demo ---------------------------------------------------------------------------


async def load_demo(settings: Settings, out: TextIO, *, if_empty: bool = False) -> int:
    async with open_bank(settings) as new_uow:
        try:
            report = await demo.load(new_uow, SystemClock(), settings.policy)
        except demo.DatabaseNotEmpty as exc:
            if if_empty:
                print(f"Demo data not loaded: {exc}.", file=out)
                return 0
            raise CommandError(
                f"{exc}; the demo is loaded only into an empty database "
                "(use a new DATABASE_URL, or --if-empty to skip quietly)"
            ) from None
    print(f"Demo data loaded into {_shown(settings.database_url)}:", file=out)
    playground_names = ", ".join(p.name for p in demo.PLAYGROUND_PEOPLE)
    print(f"  {len(report.mediators)} mediators (in the playground: {playground_names})", file=out)
    print(f"  {len(report.cases)} open cases: {', '.join(report.cases)}", file=out)
    for code, name in report.claims:
        print(f"  {name} took a seat on {code}", file=out)
    for name, period in report.away:
        print(f"  {name} is away until {period.end.isoformat()}", file=out)
    return 0


# -- local run with the Agents Playground ------------------------------------------------


def serve(settings: Settings, host: str | None, port: int | None) -> int:
    _configure_logging(logging.INFO)
    _refuse_public_bind(settings, host or settings.host)
    _warn_if_unauthenticated(settings)
    web.run_app(
        create_app(settings),
        access_log_class=RedactingAccessLogger,
        host=host or settings.host,
        port=port or settings.port,
        print=lambda message: log.info("%s", message.strip()),
    )
    return 0


def run_dev(settings: Settings) -> int:
    if settings.production:
        raise CommandError(
            "run-dev is for a local run only and refuses SOPU_ENV=production; use `sopu serve`",
            code=2,
        )
    _configure_logging(logging.INFO)
    _refuse_public_bind(settings, settings.host)
    config = playground.write_config(PLAYGROUND_DIR.resolve() / playground.CONFIG_FILE)
    log.info("playground config written to %s", config)
    if not settings.calendar.rooms and settings.calendar.mode == "local":
        # The local calendar's rooms are names: the demo's, unless SOPU_ROOMS names others.
        rooms = dataclasses.replace(settings.calendar, rooms=demo.ROOMS)
        settings = dataclasses.replace(settings, calendar=rooms)
    return asyncio.run(_run_dev(settings, config, sys.stdout))


def _source_roots() -> list[Path]:
    return [Path.cwd(), Path(__file__).resolve().parents[1]]


async def _run_dev(settings: Settings, config: Path, out: TextIO) -> int:
    async with open_bank(settings) as new_uow:
        try:
            report = await demo.load(new_uow, SystemClock(), settings.policy)
            loaded = (len(report.mediators), len(report.cases))
            log.info("demo data loaded: %d mediators, %d cases", *loaded)
        except demo.DatabaseNotEmpty as exc:
            log.info("demo data not loaded: %s", trouble_at(exc))
    _warn_if_unauthenticated(settings)
    runner = web.AppRunner(create_app(settings), access_log_class=RedactingAccessLogger)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
                "is Sopu already running? Set SOPU_PORT to use another port."
            ) from None
        host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
        endpoint = f"http://{host}:{settings.port}/api/messages"
        log.info("Sopu is listening on %s", endpoint)
        return await _with_playground(settings, endpoint, config, out)
    finally:
        await runner.cleanup()


async def _with_playground(settings: Settings, endpoint: str, config: Path, out: TextIO) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        argv = playground.command(endpoint, settings.playground_port, _source_roots())
        if argv is None:
            print(NODE_HELP, file=out)
            print(f"Sopu alone is running at {endpoint}. Stop it with Ctrl-C.", file=out)
            out.flush()
            await stop.wait()
            return 0
        return await _supervise(argv, config, stop, out)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _supervise(argv: list[str], config: Path, stop: asyncio.Event, out: TextIO) -> int:
    """Run the playground until Ctrl-C, or until it stops by itself (an error)."""
    log.info("starting the Agents Playground: %s", " ".join(argv))
    child = await asyncio.create_subprocess_exec(
        *argv,
        cwd=config.parent,
        env=playground.environment(config),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own process group, so npx and node stop together
    )
    relay = asyncio.create_task(_relay(child, out))
    ended = asyncio.create_task(child.wait())
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({ended, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if stopped.done():
            log.info("stopping")
            return 0
        log.error("the Agents Playground stopped by itself (exit code %s)", child.returncode)
        for line in _playground_errors(config.parent):
            log.error("playground: %s", line)
        return 1
    finally:
        stopped.cancel()
        await _terminate(child)
        ended.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay


async def _relay(child: asyncio.subprocess.Process, out: TextIO) -> None:
    """Pass the playground's output on, and say where to point the browser once it listens."""
    assert child.stdout is not None
    async for raw in child.stdout:
        line = raw.decode("utf-8", "replace").rstrip()
        if not line:
            continue
        log.info("playground: %s", line)
        port = _listening_port(line)
        if port is not None:
            _banner(port, out)


def _listening_port(line: str) -> int | None:
    prefix = "Listening on "
    rest = line.strip().removeprefix("log ").strip()
    if rest.startswith(prefix) and rest[len(prefix) :].strip().isdigit():
        return int(rest[len(prefix) :])
    return None


def _banner(port: int, out: TextIO) -> None:
    me = demo.CURRENT_USER
    rule = "=" * 72
    print(
        "\n".join(
            (
                rule,
                f"  Open http://localhost:{port} in your browser.",
                f"  You are {me.name}: {me.describe}.",
                "  Write 'help' (or 'ohje', 'hjälp') to Sopu in the personal chat. In the",
                "  channel 'Cases' of 'Mediation Team', post '@Sopu setup' once to make it",
                "  the bank channel. The playground's client is English: Sopu answers in",
                "  English until you write 'kieli suomi' (or 'språk svenska'); the channel's",
                "  cards are in the bank's language. Stop everything with Ctrl-C.",
                rule,
            )
        ),
        file=out,
    )
    out.flush()


def _playground_errors(folder: Path) -> list[str]:
    logfile = folder / "devTools" / "m365agentsplayground.log"
    try:
        lines = logfile.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return [f"(no log at {logfile})"]
    errors = [line.removeprefix("error ").strip() for line in lines if line.startswith("error ")]
    return [*errors[-5:], f"(full log: {logfile})"]


async def _terminate(child: asyncio.subprocess.Process) -> None:
    """Stop the playground's whole process group (npx leaves node behind otherwise)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(child.wait(), timeout=5)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        await child.wait()


if __name__ == "__main__":
    sys.exit(main())
