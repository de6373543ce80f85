"""Sopu's settings, read once from the environment (and an optional .env file)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from mediation.consultation import ConsultationDays
from mediation.policy import BankPolicy, TermSpec
from mediation.reminders import ReminderPolicy
from mediation.requests import FrontDoorPolicy
from mediation.slots import WorkingHours
from mediation.walk_in import WalkInPolicy, parse_windows

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/sopu.db"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


_MAILBOX = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


def _areas(value: str) -> tuple[str, ...]:
    """SOPU_AREAS: the bank's municipalities and districts, separated by semicolons."""
    return tuple(dict.fromkeys(v.strip() for v in value.split(";") if v.strip()))


def _consultation_days(env: Mapping[str, str]) -> ConsultationDays:
    capacity = _int(env, "SOPU_CONSULTATION_CAPACITY", ConsultationDays().capacity, 1)
    try:
        return ConsultationDays.parse(env.get("SOPU_CONSULTATION_DAYS", ""), capacity)
    except ValueError as exc:
        raise SettingsError(f"SOPU_CONSULTATION_DAYS: {exc}") from None


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


def _on_off(env: Mapping[str, str], name: str, default: bool) -> bool:
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("on", "1", "true", "yes"):
        return True
    if text in ("off", "0", "false", "no"):
        return False
    raise SettingsError(f"{name} must be on or off, not {text!r}")


def _windows(env: Mapping[str, str], name: str, default: tuple[tuple[int, float], ...]) -> Any:
    """'7/1,60/30' -> ((7, 1.0), (60, 30.0)): at most N messages in S seconds."""
    text = env.get(name, "").strip()
    if not text:
        return default
    found = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)/(\d+(?:\.\d+)?)\s*", part)
        if not m or int(m[1]) < 1 or float(m[2]) <= 0:
            raise SettingsError(f"{name}: {part.strip()!r} is not count/seconds, e.g. 30/1")
        found.append((int(m[1]), float(m[2])))
    return tuple(found)


def _month_days(env: Mapping[str, str], name: str, default: tuple[tuple[int, int], ...]) -> Any:
    """'02-10,05-19,11-17' -> ((2, 10), (5, 19), (11, 17))."""
    text = env.get(name, "").strip()
    if not text:
        return default
    found = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d{1,2})-(\d{1,2})\s*", part)
        try:
            if not m:
                raise ValueError(part)
            date(2024, int(m[1]), int(m[2]))
        except ValueError:
            raise SettingsError(f"{name}: {part.strip()!r} is not a month-day like 05-19") from None
        found.append((int(m[1]), int(m[2])))
    return tuple(found)


def _clock_time(env: Mapping[str, str], name: str, default: str) -> str:
    text = env.get(name, "").strip() or default
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise SettingsError(f"{name} must be a time of day like 09:00, not {text!r}")
    return f"{int(m[1]):02d}:{m[2]}"


TEAMS_PER_CONVERSATION = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
TEAMS_PER_TENANT = ((30, 1.0),)


@dataclass(frozen=True)
class SendLimits:
    """How fast the proactive sender may post; the defaults are Teams' limits (FACTS.md)."""

    per_conversation: tuple[tuple[int, float], ...] = TEAMS_PER_CONVERSATION
    per_tenant: tuple[tuple[int, float], ...] = TEAMS_PER_TENANT
    concurrency: int = 16  # posts under way at once
    max_tries: int = 6
    # A claimed message whose sender has not renewed its claim for this long was left by a
    # sender that died; live senders renew theirs every quarter of it.
    claim_lease_seconds: float = 60.0
    tenant_pause_cap: float = 5.0  # the longest the whole sender pauses after one refusal

    def scaled(self, factor: float) -> SendLimits:
        """The same counts in 1/factor of the time: for tests and benchmarks."""

        def faster(windows: tuple[tuple[int, float], ...]) -> tuple[tuple[int, float], ...]:
            return tuple((n, s / factor) for n, s in windows)

        return replace(
            self,
            per_conversation=faster(self.per_conversation),
            per_tenant=faster(self.per_tenant),
            tenant_pause_cap=self.tenant_pause_cap / factor,
        )

    def shared(self, replicas: int) -> SendLimits:
        """One replica's share of the tenant's limit, when ``replicas`` send at once.

        Teams counts the tenant's requests from every replica together; each sender paces
        only its own, so each keeps to its share. A conversation's posts are spread over
        the replicas too, but one case's card is seldom sent by two at once: the
        conversation limit stays whole.
        """
        if replicas <= 1:
            return self
        return replace(
            self,
            per_tenant=tuple((max(1, n // replicas), s) for n, s in self.per_tenant),
        )

    @property
    def tenant_rate(self) -> float:
        """The steady messages per second the tenant limit allows."""
        return min(n / s for n, s in self.per_tenant)


def is_loopback(host: str) -> bool:
    """True of an address only this machine can reach (localhost, 127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _public_url(text: str) -> str:
    url = text.strip().rstrip("/")
    if url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise SettingsError(f"SOPU_PUBLIC_URL must be an http(s):// address, not {url!r}")
    return url


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
    calendar: CalendarSettings = field(default_factory=lambda: CalendarSettings())
    # Where parents' browsers and the coordinators' downloads reach Sopu (no trailing /).
    public_url: str = ""
    # Signs download links and form nonces; generated under var_dir in development.
    secret_key: str = field(default="", repr=False)
    var_dir: str = "var"
    feedback_link_days: int = 60
    stats_link_minutes: int = 15
    # The scheduled jobs and the proactive sender. Off unless asked for: SOPU_SCHEDULER
    # defaults to on in from_env, tests that build Settings themselves start it knowingly.
    scheduler: bool = False
    send_limits: SendLimits = field(default_factory=SendLimits)
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    jobs_time: str = "09:00"  # the local time of the daily jobs
    election_seconds: float = 15.0  # how often a replica tries to become the scheduler
    # Activities worked on at once (README: "Tuning"); the sender's posts at once are
    # send_limits.concurrency (SOPU_SEND_CONCURRENCY).
    turns_at_once: int = 2
    # Connections one process keeps open to PostgreSQL (SOPU_DB_POOL_SIZE; 0: as many as its
    # turns, its sender's posts and the jobs can use at once). README: "Tuning".
    db_pool_size: int = 0
    # Without authentication anyone who reaches the port acts as anyone: only loopback is
    # served unless this is set on purpose (SOPU_ALLOW_UNAUTHENTICATED_PUBLIC_BIND=1).
    allow_unauthenticated_public_bind: bool = False
    # The families' contact form and the coordinators' queue of requests.
    front_door: FrontDoorPolicy = field(default_factory=FrontDoorPolicy)
    # Reverse proxies in front of Sopu that append to X-Forwarded-For; the contact form's
    # per-address limit reads the client's address that many entries from the right.
    trusted_proxy_hops: int = 0
    # The bank's shared mailbox that e-mails to families are sent from (Graph mode).
    family_mailbox: str = ""
    # The expert team's consultation days (SOPU_CONSULTATION_DAYS, e.g. "tue 13:00-16:00")
    # and how many requests one day's agenda takes (SOPU_CONSULTATION_CAPACITY).
    consultation_days: ConsultationDays = field(default_factory=ConsultationDays)
    # The walk-in shifts' and phone hours' windows (SOPU_WALK_IN_HOURS, SOPU_PHONE_HOURS).
    walk_in: WalkInPolicy = field(default_factory=WalkInPolicy)

    @property
    def connections(self) -> int:
        """How many connections to PostgreSQL this process keeps once it has opened them.

        A turn holds one for its transaction and each of the sender's posts one at a time
        for its short reads and writes; the jobs, the lease renewal and the scheduler's
        election take one each now and then. A pool smaller than that closes a connection
        each time the extra one is given back and opens a new one for the next: a new
        PostgreSQL backend and every statement prepared again, at a cost of several clicks.
        """
        return self.db_pool_size or self.turns_at_once + self.send_limits.concurrency + 2

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
                areas=_areas(env.get("SOPU_AREAS", "")) or BankPolicy().areas,
                language=env.get("SOPU_BANK_LANGUAGE", "fi").strip().lower() or "fi",
            )
        except SettingsError:
            raise
        except (ValueError, KeyError) as exc:
            raise SettingsError(
                f"SOPU_TERMS / quotas / SOPU_TIMEZONE / SOPU_AREAS / SOPU_BANK_LANGUAGE: {exc}"
            ) from None
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
            calendar=calendar_settings(env, policy.timezone),
            public_url=_public_url(env.get("SOPU_PUBLIC_URL", "")),
            secret_key=env.get("SOPU_SECRET_KEY", "").strip(),
            var_dir=env.get("SOPU_VAR_DIR", "").strip() or "var",
            feedback_link_days=_int(env, "SOPU_FEEDBACK_LINK_DAYS", 60, 1),
            stats_link_minutes=_int(env, "SOPU_STATS_LINK_MINUTES", 15, 1),
            scheduler=_on_off(env, "SOPU_SCHEDULER", True),
            send_limits=SendLimits(
                per_conversation=_windows(
                    env, "SOPU_SEND_LIMIT_CONVERSATION", TEAMS_PER_CONVERSATION
                ),
                per_tenant=_windows(env, "SOPU_SEND_LIMIT_TENANT", TEAMS_PER_TENANT),
                concurrency=_int(env, "SOPU_SEND_CONCURRENCY", 16, 1),
                max_tries=_int(env, "SOPU_SEND_MAX_TRIES", 6, 1),
                claim_lease_seconds=_int(env, "SOPU_SEND_CLAIM_LEASE", 60, 2),
            ).shared(_int(env, "SOPU_SENDING_REPLICAS", 1, 1)),
            reminders=_reminders(env),
            jobs_time=_clock_time(env, "SOPU_JOBS_TIME", "09:00"),
            turns_at_once=_int(env, "SOPU_TURNS_AT_ONCE", 2, 1),
            db_pool_size=_int(env, "SOPU_DB_POOL_SIZE", 0, 0),
            allow_unauthenticated_public_bind=_on_off(
                env, "SOPU_ALLOW_UNAUTHENTICATED_PUBLIC_BIND", False
            ),
            front_door=_front_door(env),
            trusted_proxy_hops=_int(env, "SOPU_TRUSTED_PROXY_HOPS", 0),
            family_mailbox=env.get("SOPU_FAMILY_MAILBOX", "").strip().lower(),
            consultation_days=_consultation_days(env),
            walk_in=_walk_in(env),
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
        self.calendar.validate(self.production)
        if self.family_mailbox and not _MAILBOX.match(self.family_mailbox):
            raise SettingsError("SOPU_FAMILY_MAILBOX must be an e-mail address")
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
                ("SOPU_SECRET_KEY", self.secret_key),
                ("SOPU_PUBLIC_URL", self.public_url),
            )
            if not value
        ]
        if missing:
            raise SettingsError("production mode (SOPU_ENV=production) needs " + ", ".join(missing))
        if self.database_url.startswith("sqlite"):
            raise SettingsError("production mode needs a PostgreSQL DATABASE_URL")
        if len(self.secret_key) < 32:
            raise SettingsError("SOPU_SECRET_KEY must be at least 32 characters")
        if not self.public_url.startswith("https://"):
            raise SettingsError("SOPU_PUBLIC_URL must be an https:// address in production")

    def bind_problem(self, host: str) -> str | None:
        """Why Sopu must not listen on ``host`` with these settings, or None."""
        if self.auth_enabled or self.allow_unauthenticated_public_bind or is_loopback(host):
            return None
        return (
            f"authentication is off (no BOT_APP_ID), so Sopu listens only on loopback, "
            f"not on {host or 'every interface'!r}; set BOT_APP_ID, BOT_APP_PASSWORD and "
            "BOT_TENANT_ID, or SOPU_ALLOW_UNAUTHENTICATED_PUBLIC_BIND=1 if anyone who reaches "
            "this address may act as any user"
        )

    def base_url(self) -> str:
        """Sopu's address as others reach it: the public URL, or this host and port."""
        return self.public_url or f"http://{self.host}:{self.port}"


def _front_door(env: Mapping[str, str]) -> FrontDoorPolicy:
    default = FrontDoorPolicy()
    names = tuple(
        dict.fromkeys(n.strip() for n in env.get("SOPU_MUNICIPALITIES", "").split(",") if n.strip())
    )
    try:
        return FrontDoorPolicy(
            municipalities=names or default.municipalities,
            max_attempts=_int(env, "SOPU_REQUEST_CALL_ATTEMPTS", default.max_attempts, 1),
            escalate_after_working_days=_int(
                env, "SOPU_REQUEST_ESCALATE_DAYS", default.escalate_after_working_days, 1
            ),
            per_address_per_hour=_int(
                env, "SOPU_CONTACT_PER_ADDRESS_HOUR", default.per_address_per_hour, 1
            ),
            per_hour=_int(env, "SOPU_CONTACT_PER_HOUR", default.per_hour, 1),
            retention_days=_int(env, "SOPU_REQUEST_RETENTION_DAYS", default.retention_days, 1),
            urgent_taken_grace=timedelta(
                minutes=_int(
                    env,
                    "SOPU_REQUEST_URGENT_GRACE_MINUTES",
                    int(default.urgent_taken_grace.total_seconds()) // 60,
                    0,
                )
            ),
        )
    except SettingsError:
        raise
    except ValueError as exc:
        raise SettingsError(f"SOPU_MUNICIPALITIES: {exc}") from None


def _walk_in(env: Mapping[str, str]) -> WalkInPolicy:
    """SOPU_WALK_IN_HOURS and SOPU_PHONE_HOURS: 'thu:08:00-12:00', several separated by
    semicolons; 'none' for no such windows."""
    windows: dict[str, Any] = {}
    for name, kind in (("SOPU_WALK_IN_HOURS", "walk_in"), ("SOPU_PHONE_HOURS", "phone")):
        text = env.get(name, "").strip()
        if not text:
            continue
        if text.lower() == "none":
            windows[kind] = ()
            continue
        try:
            windows[kind] = parse_windows(text)
        except ValueError as exc:
            raise SettingsError(f"{name}: {exc}") from None
        if not windows[kind]:
            raise SettingsError(f"{name} must be like thu:08:00-12:00, or none")
    return replace(WalkInPolicy(), **windows)


def _reminders(env: Mapping[str, str]) -> ReminderPolicy:
    mid = env.get("SOPU_MID_TERM_DAY", "").strip()
    try:
        return ReminderPolicy(
            escalate_after_days=_int(env, "SOPU_ESCALATE_AFTER_DAYS", 7, 1),
            mid_term_day=_int(env, "SOPU_MID_TERM_DAY", 0) if mid else None,
            meeting_lead_days=_int(env, "SOPU_MEETING_REMINDER_DAYS", 1, 1),
            follow_up_after_days=_int(env, "SOPU_FOLLOW_UP_AFTER_DAYS", 90, 1),
            follow_up_lead_days=_int(env, "SOPU_FOLLOW_UP_LEAD_DAYS", 14),
            joint_meetings=_month_days(env, "SOPU_JOINT_MEETINGS", ((2, 10), (5, 19), (11, 17))),
            joint_lead_days=_int(env, "SOPU_JOINT_MEETING_LEAD_DAYS", 7),
            retention_days=_int(env, "SOPU_RETENTION_DAYS", 730, 1),
            skip_holidays=_on_off(env, "SOPU_REMINDERS_SKIP_HOLIDAYS", False),
        )
    except ValueError as exc:
        raise SettingsError(f"reminder settings: {exc}") from None


# -- the calendar (SOPU_CALENDAR) ----------------------------------------------------------------

GRAPH_DEFAULT_URL = "https://graph.microsoft.com/v1.0"


@dataclass(frozen=True)
class CalendarSettings:
    """Which calendar Sopu books into, and how; Graph's credentials never show in a repr."""

    mode: str = "local"  # "local" (Sopu's own, the default) or "graph"
    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    certificate_path: str = ""
    # Azure's managed identity instead of an app secret or certificate; with
    # GRAPH_CLIENT_ID set, that user-assigned identity.
    managed_identity: bool = False
    base_url: str = GRAPH_DEFAULT_URL
    follow_up_weeks: int = 13
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    # The rooms a common time's meetings are booked in: room mailboxes in Graph mode, room
    # names in the local calendar (SOPU_ROOMS, separated by semicolons).
    rooms: tuple[str, ...] = ()

    def validate(self, production: bool) -> None:
        if self.mode not in ("local", "graph"):
            raise SettingsError(f"SOPU_CALENDAR must be local or graph, not {self.mode!r}")
        for room in self.rooms:
            if len(room) > 200 or not room.isprintable():
                raise SettingsError("SOPU_ROOMS: each room is a short name or a mailbox")
            if self.mode == "graph" and not _MAILBOX.match(room):
                raise SettingsError("SOPU_ROOMS: with SOPU_CALENDAR=graph each room is a mailbox")
        if not re.fullmatch(r"https://[^\s/?#]+(/[^\s?#]*)?", self.base_url) and not re.fullmatch(
            r"http://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(/[^\s?#]*)?", self.base_url
        ):
            raise SettingsError(
                "GRAPH_BASE_URL must be an https:// address (plain http only for localhost)"
            )
        if self.mode != "graph":
            return
        needed = (
            ()
            if self.managed_identity
            else (
                ("GRAPH_TENANT_ID", self.tenant_id),
                ("GRAPH_CLIENT_ID", self.client_id),
                (
                    "GRAPH_CLIENT_SECRET or GRAPH_CERTIFICATE_PATH or GRAPH_MANAGED_IDENTITY=on",
                    self.client_secret or self.certificate_path,
                ),
            )
        )
        missing = [name for name, value in needed if not value]
        if missing:
            mode = "production mode with " if production else ""
            raise SettingsError(f"{mode}SOPU_CALENDAR=graph needs " + ", ".join(missing))
        if self.certificate_path and not Path(self.certificate_path).is_file():
            raise SettingsError(f"GRAPH_CERTIFICATE_PATH: no file at {self.certificate_path}")


def _working_hours(text: str, zone: str) -> WorkingHours:
    """'08:00-17:00' (Monday to Friday) -> working hours."""
    m = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})\s*", text)
    try:
        if not m:
            raise ValueError
        return WorkingHours(
            start=time(int(m[1]), int(m[2])), end=time(int(m[3]), int(m[4])), zone=zone
        )
    except ValueError:
        raise SettingsError(
            f"SOPU_WORKING_HOURS must be like 08:00-17:00, not {text.strip()!r}"
        ) from None


def calendar_settings(env: Mapping[str, str], zone: str) -> CalendarSettings:
    mode = env.get("SOPU_CALENDAR", "local").strip().lower() or "local"
    hours = env.get("SOPU_WORKING_HOURS", "").strip()
    return CalendarSettings(
        mode=mode,
        tenant_id=env.get("GRAPH_TENANT_ID", "").strip(),
        client_id=env.get("GRAPH_CLIENT_ID", "").strip(),
        client_secret=env.get("GRAPH_CLIENT_SECRET", "").strip(),
        certificate_path=env.get("GRAPH_CERTIFICATE_PATH", "").strip(),
        managed_identity=_on_off(env, "GRAPH_MANAGED_IDENTITY", False),
        base_url=(env.get("GRAPH_BASE_URL", "").strip() or GRAPH_DEFAULT_URL).rstrip("/"),
        follow_up_weeks=_int(env, "SOPU_FOLLOW_UP_WEEKS", 13, 1),
        working_hours=_working_hours(hours, zone) if hours else WorkingHours(zone=zone),
        rooms=tuple(r.lower() if mode == "graph" else r for r in _areas(env.get("SOPU_ROOMS", ""))),
    )
