"""Settings.from_env: where values come from, what they become, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import DEFAULT_DATABASE_URL, Settings, SettingsError
from mediation.policy import TermSpec

APP_ID = "11111111-2222-4333-8444-555555555555"
TENANT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
PRODUCTION = {
    "SOPU_ENV": "production",
    "DATABASE_URL": "postgresql://sopu@db.internal:5432/sopu",
    "BOT_APP_ID": APP_ID,
    "BOT_APP_PASSWORD": "not-a-real-secret",
    "BOT_TENANT_ID": TENANT,
    "SOPU_ALLOWED_TENANTS": TENANT,
    "SOPU_ALLOWED_TEAMS": "19:bank@thread.tacv2",
    "SOPU_ALLOWED_CHANNELS": "19:cases@thread.tacv2",
    "SOPU_SECRET_KEY": "k" * 40,
    "SOPU_PUBLIC_URL": "https://sopu.example.fi",
}


def settings(**env: str) -> Settings:
    return Settings.from_env(env, dotenv=None)


def test_defaults_are_the_local_development_setup() -> None:
    s = settings()
    assert s.env == "development" and not s.production
    assert s.database_url == DEFAULT_DATABASE_URL
    assert (s.host, s.port, s.playground_port) == ("127.0.0.1", 3978, 56150)
    assert not s.auth_enabled


def test_the_environment_wins_over_the_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# local settings\n"
        "SOPU_PORT=4000\n"
        "export SOPU_HOST='0.0.0.0'\n"
        'DATABASE_URL="sqlite:///from-dotenv.db"\n'
        "\n",
        encoding="utf-8",
    )
    s = Settings.from_env({"SOPU_PORT": "5000"}, dotenv=dotenv)
    assert s.port == 5000
    assert s.host == "0.0.0.0"
    assert s.database_url == "sqlite+aiosqlite:///from-dotenv.db"


def test_a_missing_dotenv_file_is_fine(tmp_path: Path) -> None:
    assert Settings.from_env({}, dotenv=tmp_path / "absent.env").port == 3978


def test_a_malformed_dotenv_line_is_named_by_file_and_line(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("SOPU_PORT=4000\nthis is not a setting\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\.env:2"):
        Settings.from_env({}, dotenv=dotenv)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///x", "sqlite+aiosqlite:///x"),
        ("sqlite:////var/lib/sopu/sopu.db", "sqlite+aiosqlite:////var/lib/sopu/sopu.db"),
        ("postgresql://sopu@db/sopu", "postgresql+asyncpg://sopu@db/sopu"),
        ("postgres://sopu:pw@db:5432/sopu", "postgresql+asyncpg://sopu:pw@db:5432/sopu"),
        ("postgresql+asyncpg://sopu@db/sopu", "postgresql+asyncpg://sopu@db/sopu"),
    ],
)
def test_database_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert settings(DATABASE_URL=given).database_url == expected


@pytest.mark.parametrize("bad", ["mysql://sopu@db/sopu", "sopu.db"])
def test_other_databases_are_refused_naming_the_variable(bad: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        settings(DATABASE_URL=bad)


@pytest.mark.parametrize("mode", ["staging", "prod", "test"])
def test_an_unknown_mode_is_refused(mode: str) -> None:
    with pytest.raises(SettingsError, match="SOPU_ENV"):
        settings(SOPU_ENV=mode)


def test_the_mode_is_case_insensitive() -> None:
    assert settings(**{**PRODUCTION, "SOPU_ENV": "Production"}).production


def test_a_complete_production_setup_is_accepted() -> None:
    s = settings(**PRODUCTION)
    assert s.production and s.auth_enabled
    assert s.allowed_tenants == frozenset({TENANT})
    assert s.database_url.startswith("postgresql+asyncpg://")
    assert "not-a-real-secret" not in repr(s)


@pytest.mark.parametrize(
    "missing",
    [
        "BOT_APP_ID",
        "BOT_APP_PASSWORD",
        "BOT_TENANT_ID",
        "SOPU_ALLOWED_TENANTS",
        "SOPU_ALLOWED_TEAMS",
        "SOPU_ALLOWED_CHANNELS",
        "SOPU_SECRET_KEY",
        "SOPU_PUBLIC_URL",
    ],
)
def test_production_refuses_to_start_without(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        settings(**env)


def test_production_needs_postgresql() -> None:
    with pytest.raises(SettingsError, match="PostgreSQL"):
        settings(**{**PRODUCTION, "DATABASE_URL": "sqlite:///var/sopu.db"})


def test_production_lists_every_missing_value_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        settings(SOPU_ENV="production", DATABASE_URL=PRODUCTION["DATABASE_URL"])
    for name in ("BOT_APP_ID", "SOPU_ALLOWED_TEAMS", "SOPU_ALLOWED_CHANNELS"):
        assert name in str(caught.value)


def test_an_app_id_must_be_a_guid() -> None:
    with pytest.raises(SettingsError, match="BOT_APP_ID"):
        settings(BOT_APP_ID="sopu-bot", BOT_APP_PASSWORD="x", BOT_TENANT_ID=TENANT)


def test_an_app_id_needs_its_password_even_in_development() -> None:
    with pytest.raises(SettingsError, match="BOT_APP_PASSWORD"):
        settings(BOT_APP_ID=APP_ID, BOT_TENANT_ID=TENANT)


def test_allow_lists_are_comma_separated_and_case_folded() -> None:
    s = settings(SOPU_ALLOWED_TEAMS=" 19:A@thread.tacv2 , 19:b@thread.tacv2,, ")
    assert s.allowed_teams == frozenset({"19:a@thread.tacv2", "19:b@thread.tacv2"})


@pytest.mark.parametrize(
    ("name", "value"), [("SOPU_PORT", "http"), ("SOPU_PORT", "0"), ("SOPU_YEAR_QUOTA", "-1")]
)
def test_numbers_are_checked_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        settings(**{name: value})


def test_terms_default_to_spring_and_autumn_with_two_packages_each() -> None:
    terms = settings().policy.terms
    assert terms == (TermSpec("spring", 1, 6, 2), TermSpec("autumn", 7, 12, 2))


def test_terms_are_read_from_sopu_terms() -> None:
    s = settings(SOPU_TERMS="Kevät:1-5:2, syksy:6-12:3", SOPU_YEAR_QUOTA="5")
    assert s.policy.terms == (TermSpec("kevät", 1, 5, 2), TermSpec("syksy", 6, 12, 3))
    assert s.policy.year_quota == 5


@pytest.mark.parametrize("bad", ["spring:1-6", "spring:1-6:two", "spring 1-6:2,autumn:7-12:2"])
def test_malformed_terms_are_refused_naming_the_part(bad: str) -> None:
    with pytest.raises(SettingsError, match="SOPU_TERMS"):
        settings(SOPU_TERMS=bad)


@pytest.mark.parametrize(
    "bad",
    [
        "spring:1-6:2",  # half the year has no term
        "spring:1-7:2,autumn:7-12:2",  # July twice
    ],
)
def test_terms_must_cover_the_year_exactly_once(bad: str) -> None:
    with pytest.raises(SettingsError, match="SOPU_TERMS"):
        settings(SOPU_TERMS=bad)


def test_an_unknown_timezone_is_refused() -> None:
    with pytest.raises(SettingsError, match="SOPU_TIMEZONE"):
        settings(SOPU_TIMEZONE="Europe/Atlantis")


def test_the_banks_areas_and_language_are_settings_with_the_banks_own_defaults() -> None:
    default = Settings.from_env(environ={})
    assert "Järvenpää" in default.policy.areas and default.policy.language == "fi"
    own = Settings.from_env(
        environ={"SOPU_AREAS": " Närpes; Kristinestad ;Närpes", "SOPU_BANK_LANGUAGE": "SV"}
    )
    assert own.policy.areas == ("Närpes", "Kristinestad") and own.policy.language == "sv"
    with pytest.raises(SettingsError, match="SOPU_BANK_LANGUAGE"):
        Settings.from_env(environ={"SOPU_BANK_LANGUAGE": "de"})


def test_replicas_that_send_share_the_tenants_limit_and_claims_expire() -> None:
    alone = settings().send_limits
    assert alone.per_tenant == ((30, 1.0),) and alone.claim_lease_seconds == 60
    two = settings(SOPU_SENDING_REPLICAS="2", SOPU_SEND_CLAIM_LEASE="10").send_limits
    assert two.per_tenant == ((15, 1.0),) and two.tenant_rate == 15
    assert two.per_conversation == alone.per_conversation
    assert two.claim_lease_seconds == 10
    assert settings(SOPU_SENDING_REPLICAS="4").send_limits.tenant_rate * 4 <= 30
    with pytest.raises(SettingsError, match="SOPU_SENDING_REPLICAS"):
        settings(SOPU_SENDING_REPLICAS="0")


def test_the_database_pool_holds_what_a_process_uses_at_once_unless_set() -> None:
    # Two turns, sixteen posts of the sender, two for the jobs.
    assert settings().connections == 20
    assert settings(SOPU_TURNS_AT_ONCE="4", SOPU_SEND_CONCURRENCY="8").connections == 14
    assert settings(SOPU_DB_POOL_SIZE="6", SOPU_TURNS_AT_ONCE="4").connections == 6
    with pytest.raises(SettingsError, match="SOPU_DB_POOL_SIZE"):
        settings(SOPU_DB_POOL_SIZE="many")


def test_trusted_proxy_hops_default_to_none_and_must_be_a_count() -> None:
    assert settings().trusted_proxy_hops == 0
    assert settings(SOPU_TRUSTED_PROXY_HOPS="2").trusted_proxy_hops == 2
    for bad in ("-1", "two"):
        with pytest.raises(SettingsError, match="SOPU_TRUSTED_PROXY_HOPS"):
            settings(SOPU_TRUSTED_PROXY_HOPS=bad)


def test_walk_in_and_phone_hours_default_to_thursday_mornings_and_two_phone_mornings() -> None:
    walk_in = settings().walk_in
    assert [w.code for w in walk_in.walk_in] == ["thu:08:00-12:00"]
    assert [w.code for w in walk_in.phone] == ["mon:09:00-11:00", "wed:09:00-11:00"]
    s = settings(SOPU_WALK_IN_HOURS="tue:12:00-15:00", SOPU_PHONE_HOURS="none")
    assert [w.code for w in s.walk_in.walk_in] == ["tue:12:00-15:00"]
    assert s.walk_in.phone == ()


@pytest.mark.parametrize("name", ["SOPU_WALK_IN_HOURS", "SOPU_PHONE_HOURS"])
@pytest.mark.parametrize("bad", ["thursday 8-12", "thu:12:00-08:00", ";", "thu:8-12"])
def test_malformed_shift_windows_are_refused_naming_the_setting(name: str, bad: str) -> None:
    with pytest.raises(SettingsError, match=name):
        settings(**{name: bad})
