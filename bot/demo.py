"""Demo data for a first local run: a small mediator bank and a few fictitious families.

The six people of the Agents Playground (bot/playground.py) are the first six of the
registry, so whoever the playground lets you be is a known coordinator or mediator.
Every name, e-mail address and phone number here is made up.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from mediation import registry
from mediation.model import AwayPeriod, Role
from mediation.organisations import Organisation, OrganisationKind
from mediation.policy import BankPolicy
from mediation.ports import Clock, Notification, UnitOfWork
from mediation.services import (
    ClaimSeat,
    RegisterCase,
    UpdateMediator,
    claim_seat,
    import_registry,
    register_case,
    update_mediator,
)

COUNTY = "Keski-Uudenmaan hyvinvointialue"
FAMILY_LAW_UNIT = f"{COUNTY}, perheoikeudellinen yksikkö"


def demo_aad(n: int) -> str:
    """A fixed, obviously made-up Entra object id."""
    return f"00000000-0000-4000-8000-{n:012d}"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


@dataclass(frozen=True)
class DemoPerson:
    """One person of the demo bank; ``playground_id`` is set for the playground's six."""

    given_name: str
    surname: str
    aad_object_id: str
    employer: str
    languages: str  # "fi sv"
    role: Role = Role.MEDIATOR
    experienced: bool = False
    active: bool = True
    away_days: int = 0  # away from the demo's first day for this many days
    playground_id: str = ""

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.surname}"

    @property
    def email(self) -> str:
        return f"{_ascii(self.given_name)}.{_ascii(self.surname)}@example.org"

    @property
    def describe(self) -> str:
        """'coordinator, experienced, fi+sv' — for telling a demo user who they are."""
        kind = "coordinator (also mediates)" if self.role is Role.COORDINATOR else "mediator"
        level = "experienced" if self.experienced else "new"
        return f"{kind}, {level}, speaks {'+'.join(self.languages.split())}"


# The playground's current user first, then its five other users.
PLAYGROUND_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "Kaisa", "Koordinaattori", demo_aad(1), FAMILY_LAW_UNIT, "fi sv",
        Role.COORDINATOR, experienced=True, playground_id="user-id-0",
    ),
    DemoPerson(
        "Sanna", "Sovittelija", demo_aad(2), "Järvenpään kaupunki", "fi",
        experienced=True, playground_id="user-id-1",
    ),
    DemoPerson(
        "Mats", "Medlare", demo_aad(3), "Tusby svenska församling, familjerådgivningen", "sv fi",
        experienced=True, playground_id="user-id-2",
    ),
    DemoPerson(
        "Uuno", "Uusi", demo_aad(4), "Tuusulan kunta", "fi",
        playground_id="user-id-3",
    ),
    DemoPerson(
        "Nora", "Nybörjare", demo_aad(5), f"{COUNTY}, perheneuvola", "sv fi",
        playground_id="user-id-4",
    ),
    DemoPerson(
        "Kerttu", "Koordinoija", demo_aad(6), FAMILY_LAW_UNIT, "fi",
        Role.COORDINATOR, experienced=True, playground_id="user-id-5",
    ),
)  # fmt: skip

OTHER_MEDIATORS: tuple[DemoPerson, ...] = (
    DemoPerson("Pirjo", "Pari", demo_aad(7), "Hyvinkään kaupunki", "fi", experienced=True),
    DemoPerson("Tuomo", "Tapaaminen", demo_aad(8), "Nurmijärven kunta", "fi", experienced=True),
    DemoPerson("Heli", "Huolenpito", demo_aad(9), "Keravan kaupunki", "fi"),
    DemoPerson(
        "Stina", "Samförstånd", demo_aad(10), "Kervo svenska församling, familjerådgivningen",
        "sv fi", experienced=True,
    ),
    DemoPerson("Linnea", "Lösning", demo_aad(11), f"{COUNTY}, perheneuvola", "sv"),
    DemoPerson(
        "Ville", "Vanhemmuus", demo_aad(12),
        "Järvenpään seurakunta, perheasiain neuvottelukeskus", "fi",
        experienced=True, away_days=21,
    ),
    DemoPerson("Eeva", "Eroauttaja", demo_aad(13), "Mäntsälän kunta", "fi", experienced=True),
    DemoPerson(
        "Raili", "Reservi", demo_aad(14), "Nurmijärven kunta", "fi",
        experienced=True, active=False,
    ),
)  # fmt: skip

DEMO_PEOPLE = PLAYGROUND_PEOPLE + OTHER_MEDIATORS
CURRENT_USER = PLAYGROUND_PEOPLE[0]

# The local calendar's rooms for a common time's meetings (SOPU_ROOMS names others).
ROOMS: tuple[str, ...] = ("Perhekeskus, neuvotteluhuone 1", "Perhekeskus, neuvotteluhuone 2")

# The playground's people as a family centre's team: what each can be invited for, who
# works the family-law unit's walk-in service, and who sits on the expert team that answers
# consultation requests (so that a request can be asked of someone and answered here).
TEAM_COMPETENCES: dict[str, frozenset[str]] = {
    "Kaisa Koordinaattori": frozenset({"child_welfare", "walk_in_service"}),
    "Sanna Sovittelija": frozenset({"family_counselling", "walk_in_service"}),
    "Mats Medlare": frozenset({"family_counselling", "child_psychiatry"}),
    "Uuno Uusi": frozenset({"school_social_work", "child_welfare", "walk_in_service"}),
    "Nora Nybörjare": frozenset({"child_health_clinic", "psychology", "law", "child_protection"}),
    "Kerttu Koordinoija": frozenset({"family_work"}),
}
# Employers of public services (a common time's responsible worker comes from one).
PUBLIC_EMPLOYERS: dict[str, OrganisationKind] = {
    "Järvenpään kaupunki": OrganisationKind.MUNICIPALITY,
    "Tuusulan kunta": OrganisationKind.MUNICIPALITY,
    f"{COUNTY}, perheneuvola": OrganisationKind.WELLBEING_COUNTY,
}


def registry_csv(people: tuple[DemoPerson, ...] = DEMO_PEOPLE) -> str:
    """The people as the coordinators' registry spreadsheet (CSV) that `import` reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(registry.COLUMNS)
    for p in people:
        cells = {
            "aad_object_id": p.aad_object_id,
            "name": p.name,
            "email": p.email,
            "employer": p.employer,
            "languages": p.languages,
            "experienced": "yes" if p.experienced else "no",
            "role": p.role.value,
            "active": "yes" if p.active else "no",
        }
        writer.writerow([cells[c] for c in registry.COLUMNS])
    return out.getvalue()


@dataclass(frozen=True)
class DemoFamily:
    """An intake form; children's ages are years before the demo's first day."""

    form: dict[str, object]
    child_ages: tuple[int, ...]
    claimed_by: DemoPerson | None = None


def _by_name(name: str) -> DemoPerson:
    return next(p for p in DEMO_PEOPLE if p.name == name)


def _family(
    area: str, language: str, parents: tuple[tuple[str, str], ...], **extra: object
) -> dict[str, object]:
    form: dict[str, object] = {
        "area": area,
        "language": language,
        "interpreter": "false",
        "safety_concern": "false",
    }
    for n, (name, phone) in enumerate(parents, start=1):
        form[f"parent{n}_name"] = name
        form[f"parent{n}_phone"] = phone
        form[f"parent{n}_email"] = f"{'.'.join(_ascii(name).split())}@example.org"
    form.update(extra)
    return form


DEMO_FAMILIES: tuple[DemoFamily, ...] = (
    DemoFamily(
        _family(
            "Järvenpää", "fi",
            (("Aino Esimerkki", "040 555 0101"), ("Mikko Esimerkki", "040 555 0102")),
            topics="custody,contact", preferred_times="tue_afternoon,thu_morning",
            referral_source="child_welfare_supervisor",
        ),
        child_ages=(10, 6),
    ),
    DemoFamily(
        _family(
            "Kerava", "sv",
            (("Anna Exempelsson", "040 555 0201"), ("Johan Exempelsson", "040 555 0202")),
            topics="residence,contact", preferred_times="mon_evening,wed_evening",
            referral_source="family_counselling",
        ),
        child_ages=(4,),
        claimed_by=_by_name("Stina Samförstånd"),
    ),
    DemoFamily(
        _family(
            "Tuusula", "fi",
            (("Liisa Malli", "040 555 0301"), ("Pekka Malli", "040 555 0302")),
            topics="contact,maintenance", preferred_times="fri_morning",
            referral_source="self",
        ),
        child_ages=(14, 11, 7),
        claimed_by=_by_name("Heli Huolenpito"),
    ),
    DemoFamily(
        _family(
            "Hyvinkää", "fi",
            (("Tiina Kuvitelma", "040 555 0401"), ("Jari Kuvitelma", "040 555 0402")),
            topics="custody,residence", preferred_times="wed_afternoon",
            referral_source="school", safety_concern="true",
        ),
        child_ages=(8,),
    ),
)  # fmt: skip


class DatabaseNotEmpty(Exception):
    """The demo is loaded only into a bank without mediators."""

    def __init__(self, mediators: int) -> None:
        super().__init__(f"the database already has {mediators} mediators")
        self.mediators = mediators


class _Silent:
    """Nobody is told about demo changes: no card of these cases is posted anywhere yet."""

    async def notify(self, notification: Notification) -> None:
        return None


@dataclass
class DemoReport:
    mediators: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    claims: list[tuple[str, str]] = field(default_factory=list)  # (case code, mediator)
    away: list[tuple[str, AwayPeriod]] = field(default_factory=list)


async def mediator_count(uow: UnitOfWork) -> int:
    async with uow:
        return len(await uow.mediators.list())


async def load(new_uow: Callable[[], UnitOfWork], clock: Clock, policy: BankPolicy) -> DemoReport:
    """Import the demo registry, mark the away, register the families and claim seats."""
    count = await mediator_count(new_uow())
    if count:
        raise DatabaseNotEmpty(count)
    report = DemoReport()
    imported = await import_registry(registry.parse_registry(registry_csv()), new_uow(), clock)
    report.mediators = imported.created
    today = policy.local_date(clock.now())
    coordinator = CURRENT_USER.aad_object_id
    for person in DEMO_PEOPLE:
        if not person.away_days:
            continue
        uow = new_uow()
        async with uow:
            stored = await uow.mediators.by_aad(person.aad_object_id)
        assert stored is not None and stored.id is not None
        period = AwayPeriod(today, today + timedelta(days=person.away_days))
        cmd = UpdateMediator(coordinator, stored.id, add_away=period)
        await update_mediator(cmd, new_uow(), clock, policy)
        report.away.append((person.name, period))
    for family in DEMO_FAMILIES:
        form = dict(family.form)
        form["children"] = ", ".join(str(today.year - age) for age in family.child_ages)
        case = await register_case(RegisterCase(coordinator, form), new_uow(), clock, policy)
        report.cases.append(case.code)
        if family.claimed_by is not None:
            claim = ClaimSeat(family.claimed_by.aad_object_id, case.case_id)
            await claim_seat(claim, new_uow(), _Silent(), clock, policy)
            report.claims.append((case.code, family.claimed_by.name))
    await family_centre_team(new_uow)
    return report


async def family_centre_team(new_uow: Callable[[], UnitOfWork]) -> None:
    """The competences and public employers a common time needs, for the playground."""
    uow = new_uow()
    async with uow:
        for person in PLAYGROUND_PEOPLE:
            stored = await uow.mediators.by_aad(person.aad_object_id)
            assert stored is not None and stored.id is not None
            await uow.qualifications.set(stored.id, TEAM_COMPETENCES[person.name])
        for name, kind in PUBLIC_EMPLOYERS.items():
            await uow.organisations.save(Organisation(name, kind))
        await uow.commit()
