"""The `sopu` command line, run in-process on a temporary database."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import demo, playground
from bot.__main__ import _listening_port, _supervise, main
from mediation.case_types import QUALIFICATIONS
from mediation.model import CaseStatus
from storage.db import create_engine
from storage.uow import SqlUnitOfWork, session_factory

ROOT = Path(__file__).resolve().parents[2]
DEMO_COUNT = len(demo.DEMO_PEOPLE)


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


Sopu = Callable[..., Outcome]


def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("SOPU_", "BOT_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def sopu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Sopu:
    """Runs `sopu ARGS` in-process on a fresh SQLite file, with no .env and no stray settings."""
    _clean_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'sopu.db'}")

    def run(*argv: str) -> Outcome:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def _registry_file(folder: Path, text: str | None = None, name: str = "registry.csv") -> Path:
    path = folder / name
    path.write_text(demo.registry_csv() if text is None else text, encoding="utf-8")
    return path


# -- db upgrade -------------------------------------------------------------------------


def test_db_upgrade_creates_and_then_keeps_the_schema(sopu: Sopu, tmp_path: Path) -> None:
    first = sopu("db", "upgrade")
    assert first.code == 0, first.err
    assert "revision" in first.out
    assert (tmp_path / "sopu.db").is_file()
    again = sopu("db", "upgrade")
    assert again.code == 0 and again.out == first.out


# -- mediators import -------------------------------------------------------------------


def test_import_creates_then_leaves_unchanged_then_updates(
    database_url: str, sopu: Sopu, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On SQLite and on PostgreSQL (conftest's database_url)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    path = _registry_file(tmp_path)

    first = sopu("mediators", "import", str(path))
    assert first.code == 0, first.err
    assert first.out.splitlines()[0] == f"created {DEMO_COUNT}, updated 0, unchanged 0"
    assert "Kaisa Koordinaattori" in first.out

    second = sopu("mediators", "import", str(path))
    assert second.code == 0, second.err
    assert second.out.splitlines()[0] == f"created 0, updated 0, unchanged {DEMO_COUNT}"

    changed = demo.registry_csv().replace("Hyvinkään kaupunki", "Hyvinkään kaupunki / perheneuvola")
    _registry_file(tmp_path, changed)
    third = sopu("mediators", "import", str(path))
    assert third.code == 0, third.err
    assert third.out.splitlines()[0] == f"created 0, updated 1, unchanged {DEMO_COUNT - 1}"
    assert "  updated: Pirjo Pari" in third.out.splitlines()
    assert "Hyvinkään kaupunki / perheneuvola" in sopu("mediators", "list").out


def test_a_bad_file_names_every_problem_and_changes_nothing(sopu: Sopu, tmp_path: Path) -> None:
    assert sopu("mediators", "import", str(_registry_file(tmp_path))).code == 0
    before = sopu("mediators", "list").out
    lines = demo.registry_csv().splitlines()
    lines[1] = lines[1].replace("Kaisa Koordinaattori", "Kaisa Renamed")  # good, but...
    lines[3] = lines[3].replace("@example.org", "")  # ...line 4: no e-mail address
    lines.append("not-a-guid,Nemo,nemo@example.org,Kerava,fi,maybe,mediator,yes")  # line 16
    bad = _registry_file(tmp_path, "\n".join(lines) + "\n", "bad.csv")

    result = sopu("mediators", "import", str(bad))

    assert result.code == 1
    assert result.out == ""
    assert "nothing was changed" in result.err
    assert "line 4, column email: not an e-mail address" in result.err
    assert "line 16, column aad_object_id" in result.err
    assert "line 16, column experienced" in result.err
    assert sopu("mediators", "list").out == before


def test_a_bad_file_on_an_empty_database_leaves_it_empty(sopu: Sopu, tmp_path: Path) -> None:
    bad = _registry_file(tmp_path, "name,email\nX,x@example.org\n")
    result = sopu("mediators", "import", str(bad))
    assert result.code == 1
    assert "column aad_object_id: column missing from the header" in result.err
    assert "registry is empty" in sopu("mediators", "list").out


def test_a_missing_file_is_a_clear_error(sopu: Sopu, tmp_path: Path) -> None:
    result = sopu("mediators", "import", str(tmp_path / "nowhere.csv"))
    assert result.code == 1
    assert result.err.strip() == f"sopu: no such file: {tmp_path / 'nowhere.csv'}"


# -- mediators list ---------------------------------------------------------------------


def test_list_shows_the_registry_as_a_table(sopu: Sopu) -> None:
    assert sopu("demo").code == 0
    result = sopu("mediators", "list")
    assert result.code == 0
    header, rule, *rows = result.out.splitlines()
    for column in ("name", "email", "employer", "languages", "role", "experienced", "away"):
        assert column in header
    assert set(rule) <= {"-", " "}
    assert len(rows) == DEMO_COUNT
    by_name = {row.split("  ")[0].strip(): row for row in rows}
    assert "coordinator" in by_name["Kaisa Koordinaattori"]
    assert "fi sv" in by_name["Kaisa Koordinaattori"]
    assert "yes (marked)" in by_name["Kaisa Koordinaattori"]
    assert "no (0 of 2)" in by_name["Uuno Uusi"]
    assert "until " in by_name["Ville Vanhemmuus"]
    assert by_name["Raili Reservi"].split()[-2:] == ["no", "-"]  # inactive, not away


def test_list_on_an_empty_registry_says_how_to_fill_it(sopu: Sopu) -> None:
    result = sopu("mediators", "list")
    assert result.code == 0
    assert "sopu mediators import" in result.out


# -- demo -------------------------------------------------------------------------------


async def _cases(url: str) -> list[tuple[str, CaseStatus, int]]:
    engine = create_engine(url)
    try:
        uow = SqlUnitOfWork(session_factory(engine))
        async with uow:
            cases = await uow.cases.with_status(list(CaseStatus))
            return [(c.code, c.status, len(c.holder_ids())) for c in cases]
    finally:
        await engine.dispose()


async def _qualified(url: str) -> dict[str, frozenset[str]]:
    """Each registry entry's qualifications, by name."""
    engine = create_engine(url)
    try:
        uow = SqlUnitOfWork(session_factory(engine))
        async with uow:
            people = {p.id: p.name for p in await uow.mediators.list()}
            held = await uow.qualifications.of([i for i in people if i is not None])
            return {people[i]: q for i, q in held.items() if q}
    finally:
        await engine.dispose()


def test_demo_fills_an_empty_database(sopu: Sopu, tmp_path: Path) -> None:
    result = sopu("demo")
    assert result.code == 0, result.err
    assert f"{DEMO_COUNT} mediators" in result.out
    assert "Stina Samförstånd took a seat" in result.out
    cases = asyncio.run(_cases(f"sqlite:///{tmp_path / 'sopu.db'}"))
    assert len(cases) == len(demo.DEMO_FAMILIES)
    assert {status for _, status, _ in cases} == {CaseStatus.OPEN}
    assert sorted(held for _, _, held in cases) == [0, 0, 1, 1]
    # A family centre's team, walk-in workers and experts whom a consultation can be asked of.
    qualified = asyncio.run(_qualified(f"sqlite:///{tmp_path / 'sopu.db'}"))
    held = frozenset().union(*qualified.values())
    assert held <= set(QUALIFICATIONS)
    assert {"child_psychiatry", "law", "walk_in_service", "family_counselling"} <= held


def test_demo_refuses_a_database_with_mediators(sopu: Sopu, tmp_path: Path) -> None:
    assert sopu("mediators", "import", str(_registry_file(tmp_path))).code == 0
    refused = sopu("demo")
    assert refused.code == 1
    assert f"already has {DEMO_COUNT} mediators" in refused.err
    assert asyncio.run(_cases(f"sqlite:///{tmp_path / 'sopu.db'}")) == []


def test_demo_if_empty_is_a_quiet_success_on_a_full_database(sopu: Sopu, tmp_path: Path) -> None:
    assert sopu("demo", "--if-empty").code == 0
    again = sopu("demo", "--if-empty")
    assert again.code == 0, again.err
    assert "not loaded" in again.out
    assert len(asyncio.run(_cases(f"sqlite:///{tmp_path / 'sopu.db'}"))) == len(demo.DEMO_FAMILIES)


# -- errors -----------------------------------------------------------------------------


def test_a_settings_error_exits_2_naming_the_variable(
    sopu: Sopu, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPU_ENV", "staging")
    result = sopu("mediators", "list")
    assert result.code == 2
    assert "SOPU_ENV" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_bad_database_url_exits_2(sopu: Sopu, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://sopu@localhost/sopu")
    result = sopu("db", "upgrade")
    assert result.code == 2
    assert "DATABASE_URL" in result.err


def test_settings_come_from_the_dotenv_file_in_the_working_folder(
    sopu: Sopu, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL")
    (tmp_path / ".env").write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'dotenv.db'}\n")
    assert sopu("db", "upgrade").code == 0
    assert (tmp_path / "dotenv.db").is_file()


def test_an_unreachable_database_is_one_line_and_exit_1(
    sopu: Sopu, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://sopu@127.0.0.1:{port}/sopu")
    result = sopu("mediators", "list")
    assert result.code == 1
    assert result.err.startswith("sopu: database error:")


@pytest.mark.parametrize("argv", [["frobnicate"], [], ["db"], ["mediators", "import"]])
def test_unknown_or_incomplete_commands_show_usage_and_exit_2(sopu: Sopu, argv: list[str]) -> None:
    result = sopu(*argv)
    assert result.code == 2
    assert "usage: sopu" in result.err


def test_help_exits_0(sopu: Sopu) -> None:
    result = sopu("--help")
    assert result.code == 0
    for command in ("serve", "db", "mediators", "demo", "run-dev"):
        assert command in result.out


def test_run_dev_refuses_production(sopu: Sopu, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    for name, value in {
        "SOPU_ENV": "production",
        "DATABASE_URL": "postgresql://sopu@127.0.0.1:1/sopu",
        "BOT_APP_ID": "11111111-2222-4333-8444-555555555555",
        "BOT_APP_PASSWORD": "not-a-real-secret",
        "BOT_TENANT_ID": tenant,
        "SOPU_ALLOWED_TENANTS": tenant,
        "SOPU_ALLOWED_TEAMS": "19:bank@thread.tacv2",
        "SOPU_ALLOWED_CHANNELS": "19:cases@thread.tacv2",
        "SOPU_SECRET_KEY": "k" * 40,
        "SOPU_PUBLIC_URL": "https://sopu.example.fi",
    }.items():
        monkeypatch.setenv(name, value)
    result = sopu("run-dev")
    assert result.code == 2
    assert "run-dev" in result.err and "production" in result.err


# -- the real process -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return None


@pytest.fixture
def process_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOPU_", "BOT_")) and k != "DATABASE_URL"
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'sopu.db'}"
    env["PYTHONPATH"] = str(ROOT)
    yield env


def test_python_m_bot_serve_answers_healthz(tmp_path: Path, process_env: dict[str, str]) -> None:
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=process_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while _status(f"http://127.0.0.1:{port}/healthz") != 200:
            if child.poll() is not None:
                pytest.fail(f"sopu serve exited: {child.communicate()[0].decode()}")
            assert time.monotonic() < deadline, "no answer from /healthz"
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGINT)
        output = child.communicate(timeout=20)[0].decode()
    assert child.returncode == 0, output
    assert "authentication is OFF" in output


# -- run-dev's care of the playground process ---------------------------------------------


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has stopped already


@pytest.mark.parametrize(
    ("line", "port"),
    [
        ("Listening on 56150", 56150),
        ("log Listening on 41234", 41234),
        ("Listening on soon", None),
        ("Microsoft 365 Agents Playground is being launched", None),
    ],
)
def test_the_playgrounds_port_is_read_from_its_output(line: str, port: int | None) -> None:
    assert _listening_port(line) == port


async def test_stopping_run_dev_ends_the_playgrounds_whole_process_group(tmp_path: Path) -> None:
    config = tmp_path / playground.CONFIG_FILE
    config.write_text("")
    script = 'sleep 300 & echo $! > grandchild; echo "Listening on 4321"; wait'
    stop = asyncio.Event()
    out = io.StringIO()
    supervising = asyncio.create_task(_supervise(["sh", "-c", script], config, stop, out))
    for _ in range(200):
        if "Open http://localhost:4321 in your browser." in out.getvalue():
            break
        await asyncio.sleep(0.05)
    assert demo.CURRENT_USER.name in out.getvalue()
    grandchild = int((tmp_path / "grandchild").read_text())
    assert _alive(grandchild)

    stop.set()

    assert await asyncio.wait_for(supervising, 15) == 0
    assert not _alive(grandchild)


async def test_a_playground_that_stops_by_itself_ends_run_dev_with_its_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / playground.CONFIG_FILE
    config.write_text("")
    script = (
        "mkdir -p devTools; echo 'Listening on 4321';"
        " echo 'error Reason: ConfigFileParseError users' > devTools/m365agentsplayground.log;"
        " exit 3"
    )
    caplog.set_level(logging.INFO)
    code = await asyncio.wait_for(
        _supervise(["sh", "-c", script], config, asyncio.Event(), io.StringIO()), 15
    )
    assert code == 1
    assert "exit code 3" in caplog.text
    assert "ConfigFileParseError users" in caplog.text


@pytest.mark.parametrize("command", [["serve", "--host", "0.0.0.0"], ["run-dev"]])
def test_without_authentication_only_loopback_is_served(
    sopu: Sopu, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("SOPU_HOST", "0.0.0.0")
    result = sopu(*command)
    assert result.code == 2
    assert "SOPU_ALLOW_UNAUTHENTICATED_PUBLIC_BIND" in result.err
