"""Sopu's settings, read once from the environment (and an optional .env file)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mediation.policy import BankPolicy, TermSpec

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/sopu.db"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names it."""


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; '#' comments; optional quotes. No interpolation."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not re.match(r"^[A-Z_][A-Z0-9_]*$", key.strip()):
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _csv(value: str) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in value.split(",") if v.strip())


def _int(env: Mapping[str, str], name: str, default: int, low: int = 0) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {text!r}") from None
    if value < low:
        raise SettingsError(f"{name} must be at least {low}")
    return value


def _terms(text: str) -> tuple[TermSpec, ...]:
    """'spring:1-6:2,autumn:7-12:2' -> term specs."""
    specs = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*([a-zåäö]+):(\d{1,2})-(\d{1,2}):(\d+)\s*", part, re.IGNORECASE)
        if not m:
            raise SettingsError(f"SOPU_TERMS: {part.strip()!r} is not name:first-last:quota")
        specs.append(TermSpec(m[1].lower(), int(m[2]), int(m[3]), int(m[4])))
    return tuple(specs)


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 3978
    bot_app_id: str = ""
    bot_app_password: str = field(default="", repr=False)
    bot_tenant_id: str = ""
    allowed_tenants: frozenset[str] = frozenset()
    allowed_teams: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()
    policy: BankPolicy = field(default_factory=BankPolicy)
    processed_activity_hours: int = 48
    playground_port: int = 56150

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def auth_enabled(self) -> bool:
        return bool(self.bot_app_id)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
    ) -> Settings:
        """The environment wins over .env; every problem names its variable."""
        env: dict[str, str] = read_dotenv(dotenv) if dotenv else {}
        env.update(os.environ if environ is None else environ)
        mode = env.get("SOPU_ENV", "development").strip().lower() or "development"
        if mode not in ("development", "production"):
            raise SettingsError(f"SOPU_ENV must be development or production, not {mode!r}")
        from storage.db import normalize_url  # storage owns what a database URL may be

        try:
            url = normalize_url(env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        try:
            policy = BankPolicy(
                experience_threshold=_int(env, "SOPU_EXPERIENCE_THRESHOLD", 2),
                terms=_terms(env["SOPU_TERMS"]) if env.get("SOPU_TERMS") else BankPolicy().terms,
                year_quota=_int(env, "SOPU_YEAR_QUOTA", 4),
                package_min=_int(env, "SOPU_PACKAGE_MIN", 4, 1),
                package_max=_int(env, "SOPU_PACKAGE_MAX", 6, 1),
                timezone=env.get("SOPU_TIMEZONE", "Europe/Helsinki"),
            )
        except SettingsError:
            raise
        except (ValueError, KeyError) as exc:
            raise SettingsError(f"SOPU_TERMS / quotas / SOPU_TIMEZONE: {exc}") from None
        settings = cls(
            env=mode,
            database_url=url,
            host=env.get("SOPU_HOST", "127.0.0.1"),
            port=_int(env, "SOPU_PORT", 3978, 1),
            bot_app_id=env.get("BOT_APP_ID", "").strip(),
            bot_app_password=env.get("BOT_APP_PASSWORD", "").strip(),
            bot_tenant_id=env.get("BOT_TENANT_ID", "").strip(),
            allowed_tenants=_csv(env.get("SOPU_ALLOWED_TENANTS", "")),
            allowed_teams=_csv(env.get("SOPU_ALLOWED_TEAMS", "")),
            allowed_channels=_csv(env.get("SOPU_ALLOWED_CHANNELS", "")),
            policy=policy,
            playground_port=_int(env, "SOPU_PLAYGROUND_PORT", 56150, 1),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.bot_app_id and not _GUID.match(self.bot_app_id):
            raise SettingsError("BOT_APP_ID must be the bot's app registration id (a GUID)")
        if self.bot_app_id and not self.bot_app_password:
            raise SettingsError("BOT_APP_PASSWORD is needed with BOT_APP_ID")
        if self.bot_app_id and not self.bot_tenant_id:
            raise SettingsError("BOT_TENANT_ID is needed with BOT_APP_ID (single-tenant bot)")
        if not self.production:
            return
        missing = [
            name
            for name, value in (
                ("BOT_APP_ID", self.bot_app_id),
                ("BOT_APP_PASSWORD", self.bot_app_password),
                ("BOT_TENANT_ID", self.bot_tenant_id),
                ("SOPU_ALLOWED_TENANTS", self.allowed_tenants),
                ("SOPU_ALLOWED_TEAMS", self.allowed_teams),
                ("SOPU_ALLOWED_CHANNELS", self.allowed_channels),
            )
            if not value
        ]
        if missing:
            raise SettingsError("production mode (SOPU_ENV=production) needs " + ", ".join(missing))
        if self.database_url.startswith("sqlite"):
            raise SettingsError("production mode needs a PostgreSQL DATABASE_URL")
