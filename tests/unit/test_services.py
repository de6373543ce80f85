"""The use cases over in-memory ports: roles, refusals, idempotence, the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mediation import errors, rules, services
from mediation.journal import CaseEventKind
from mediation.model import AwayPeriod, CaseStatus, Mediator, Outcome, ReleaseReason, Role
from mediation.policy import BankPolicy
from mediation.ports import CaseChanged, PairComplete, SeatReleased
from mediation.registry import parse_registry
from mediation.views import CaseSummary
from tests.clock import FixedClock
from tests.fakes.memory_uow import MemoryUnitOfWork, RecordingNotifier
from tests.unit.factories import FORM, mediator

P = BankPolicy()


class Bank:
    """A small bank: a coordinator and some mediators, with helpers to act as them."""

    def __init__(self) -> None:
        self.uow = MemoryUnitOfWork()
        self.clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        self.notifier = RecordingNotifier()
        self.people: dict[str, Mediator] = {}

    async def add(self, key: str, m: Mediator) -> Mediator:
        async with self.uow:
            stored = await self.uow.mediators.add(m)
            await self.uow.commit()
        self.people[key] = stored
        return stored

    def aad(self, key: str) -> str:
        return self.people[key].aad_object_id

    async def new_case(self, **form: object) -> int:
        s = await services.register_case(
            services.RegisterCase(self.aad("coord"), {**FORM, **form}), self.uow, self.clock, P
        )
        return s.case_id

    async def claim(self, key: str, case_id: int) -> services.CaseResult:
        return await services.claim_seat(
            services.ClaimSeat(self.aad(key), case_id), self.uow, self.notifier, self.clock, P
        )

    async def release(self, key: str, case_id: int, **kw: object) -> services.CaseResult:
        return await services.release_seat(
            services.ReleaseSeat(self.aad(key), case_id, **kw),  # type: ignore[arg-type]
            self.uow,
            self.notifier,
            self.clock,
            P,
        )

    async def events(self, case_id: int) -> list[CaseEventKind]:
        async with self.uow:
            return [e.kind for e in await self.uow.journal.case_events(case_id)]


@pytest.fixture
async def bank() -> Bank:
    b = Bank()
    await b.add("coord", mediator("Kaisa Koordinaattori", role=Role.COORDINATOR))
    await b.add("old", mediator("Olli Kokenut"))
    await b.add("old2", mediator("Outi Kokenut", languages="fi sv"))
    await b.add("new", mediator("Niina Uusi", experienced=False))
    await b.add("new2", mediator("Nils Ny", experienced=False, languages="sv fi"))
    await b.add("swede", mediator("Sven Svensson", languages="sv"))
    return b


async def test_a_case_goes_from_intake_to_a_full_pair(bank: Bank) -> None:
    case_id = await bank.new_case()
    first = await bank.claim("new", case_id)
    assert first.changed and first.case.status == "open"
    assert first.case.seats[1].needs_experienced
    second = await bank.claim("old", case_id)
    assert second.case.status == "paired"
    assert [s.holder_name for s in second.case.seats] == ["Niina Uusi", "Olli Kokenut"]
    assert (
        PairComplete(case_id, "2026-001", (bank.people["new"].id, bank.people["old"].id))
        in bank.notifier.sent
    )  # type: ignore[arg-type]
    assert await bank.events(case_id) == [
        CaseEventKind.CREATED,
        CaseEventKind.CLAIMED,
        CaseEventKind.CLAIMED,
    ]
    # The notes bring the case as the claim left it, and the pair, for their delivery.
    changed, pair = bank.notifier.sent[-2:]
    assert isinstance(changed, CaseChanged) and isinstance(pair, PairComplete)
    assert changed.summary == pair.summary == second.case
    assert pair.people is not None
    assert {m.name for m in pair.people.values()} == {"Niina Uusi", "Olli Kokenut"}


async def test_claiming_twice_is_a_no_op(bank: Bank) -> None:
    case_id = await bank.new_case()
    await bank.claim("old", case_id)
    again = await bank.claim("old", case_id)
    assert not again.changed and again.case.seats[0].holder_name == "Olli Kokenut"
    assert await bank.events(case_id) == [CaseEventKind.CREATED, CaseEventKind.CLAIMED]


async def test_two_new_mediators_never_share_a_case(bank: Bank) -> None:
    case_id = await bank.new_case()
    await bank.claim("new", case_id)
    with pytest.raises(errors.NeedsExperienced, match="Niina Uusi"):
        await bank.claim("new2", case_id)


async def test_the_last_seat_goes_once(bank: Bank) -> None:
    case_id = await bank.new_case()
    await bank.claim("old", case_id)
    await bank.claim("old2", case_id)
    with pytest.raises(errors.NoFreeSeat) as refused:
        await bank.claim("new", case_id)
    # The refusal brings the case as the use case read it, so the answer need not re-read it.
    shown = refused.value.case
    assert shown is not None and shown.case_id == case_id and shown.status == "paired"
    assert [s.holder_name for s in shown.seats] == ["Olli Kokenut", "Outi Kokenut"]


async def test_quota_counts_per_term_and_refuses_with_numbers(bank: Bank) -> None:
    ids = [await bank.new_case() for _ in range(3)]
    await bank.claim("old", ids[0])
    await bank.claim("old", ids[1])
    with pytest.raises(errors.QuotaExceeded, match="2 of 2 this spring"):
        await bank.claim("old", ids[2])
    # A released seat stops counting.
    await bank.release("old", ids[1])
    await bank.claim("old", ids[2])
    # A new term brings new quota.
    bank.clock.set(datetime(2026, 8, 3, 9, 0, tzinfo=UTC))
    more = [await bank.new_case() for _ in range(3)]
    await bank.claim("old", more[0])
    await bank.claim("old", more[1])
    with pytest.raises(errors.QuotaExceeded, match="2 of 2 this autumn"):
        await bank.claim("old", more[2])


async def test_the_year_quota_binds_across_terms(bank: Bank) -> None:
    tight = BankPolicy(year_quota=3)
    ids = [await bank.new_case() for _ in range(2)]
    for case_id in ids:
        await services.claim_seat(
            services.ClaimSeat(bank.aad("old"), case_id), bank.uow, bank.notifier, bank.clock, tight
        )
    bank.clock.set(datetime(2026, 9, 1, 9, 0, tzinfo=UTC))
    more = [await bank.new_case() for _ in range(2)]
    await services.claim_seat(
        services.ClaimSeat(bank.aad("old"), more[0]), bank.uow, bank.notifier, bank.clock, tight
    )
    with pytest.raises(errors.QuotaExceeded, match="3 of 3 this year"):
        await services.claim_seat(
            services.ClaimSeat(bank.aad("old"), more[1]), bank.uow, bank.notifier, bank.clock, tight
        )


async def test_cancelled_cases_do_not_use_quota(bank: Bank) -> None:
    ids = [await bank.new_case() for _ in range(3)]
    await bank.claim("old", ids[0])
    await bank.claim("old", ids[1])
    await services.cancel_case(
        services.CancelCase(bank.aad("coord"), ids[0]), bank.uow, bank.notifier, bank.clock, P
    )
    await bank.claim("old", ids[2])


async def test_language_and_away_refusals(bank: Bank) -> None:
    case_id = await bank.new_case()
    with pytest.raises(errors.LanguageMismatch):
        await bank.claim("swede", case_id)
    sv_case = await bank.new_case(language="sv")
    await bank.claim("swede", sv_case)
    await services.update_mediator(
        services.UpdateMediator(
            bank.aad("old"),
            bank.people["old"].id or 0,
            add_away=AwayPeriod(date(2026, 3, 1), date(2026, 3, 20)),
        ),
        bank.uow,
        bank.clock,
        P,
    )
    with pytest.raises(errors.MediatorAway, match="2026-03-20"):
        await bank.claim("old", case_id)


async def test_release_reopens_and_tells_the_coordinators(bank: Bank) -> None:
    case_id = await bank.new_case()
    await bank.claim("old", case_id)
    await bank.claim("old2", case_id)
    result = await bank.release("old2", case_id, reason=ReleaseReason.CONFLICT_OF_INTEREST)
    assert result.case.status == "open"
    note = bank.notifier.sent[-1]
    assert isinstance(note, SeatReleased) and note.reason == "conflict_of_interest"
    assert note.coordinator_ids == (bank.people["coord"].id,)
    assert note.summary == result.case and note.summary.version > 0
    assert note.people is not None
    assert {m.name for m in note.people.values()} == {"Kaisa Koordinaattori", "Outi Kokenut"}
    # Access ends at once.
    with pytest.raises(errors.NotAllowed):
        await services.view_details(
            services.ViewDetails(bank.aad("old2"), case_id), bank.uow, bank.clock, P
        )
    # A second click on release changes nothing and is not an error.
    again = await bank.release("old2", case_id)
    assert not again.changed
    with pytest.raises(errors.NotSeatHolder):
        await bank.release("new", case_id)


async def test_details_only_for_the_pair_and_coordinators_and_every_view_logged(bank: Bank) -> None:
    case_id = await bank.new_case()
    await bank.claim("old", case_id)
    details = await services.view_details(
        services.ViewDetails(bank.aad("old"), case_id), bank.uow, bank.clock, P
    )
    assert details.family.parents[0].name == "Aino Virtanen"
    await services.view_details(
        services.ViewDetails(bank.aad("coord"), case_id), bank.uow, bank.clock, P
    )
    with pytest.raises(errors.NotAllowed):
        await services.view_details(
            services.ViewDetails(bank.aad("old2"), case_id), bank.uow, bank.clock, P
        )
    async with bank.uow:
        log = await bank.uow.journal.accesses(case_id)
    assert [(e.viewer_id, e.purpose.value) for e in log] == [
        (bank.people["old"].id, "seat_holder"),
        (bank.people["coord"].id, "coordination"),
    ]


async def test_roles_are_checked_and_strangers_are_refused(bank: Bank) -> None:
    with pytest.raises(errors.NotAllowed):
        await services.register_case(
            services.RegisterCase(bank.aad("old"), dict(FORM)), bank.uow, bank.clock, P
        )
    with pytest.raises(errors.NotInRegistry, match="Kaisa Koordinaattori"):
        await services.register_case(
            services.RegisterCase("0000-stranger", dict(FORM)), bank.uow, bank.clock, P
        )
    case_id = await bank.new_case()
    with pytest.raises(errors.NotAllowed):
        await services.close_case(
            services.CloseCase(bank.aad("old"), case_id, Outcome.AGREEMENT),
            bank.uow,
            bank.notifier,
            bank.clock,
            P,
        )
    with pytest.raises(errors.CaseNotFound):
        await bank.claim("old", 999)


async def test_invalid_intake_writes_nothing(bank: Bank) -> None:
    with pytest.raises(errors.InvalidForm):
        await bank.new_case(children="", area="")
    async with bank.uow:
        assert await bank.uow.cases.with_status(list(CaseStatus)) == []


async def test_assignment_over_quota_needs_a_reason_that_is_logged(bank: Bank) -> None:
    ids = [await bank.new_case() for _ in range(3)]
    await bank.claim("old", ids[0])
    await bank.claim("old", ids[1])
    target = bank.people["old"].id or 0
    with pytest.raises(errors.OverrideReasonRequired, match="2 of 2"):
        await services.assign_seat(
            services.AssignSeat(bank.aad("coord"), ids[2], target),
            bank.uow,
            bank.notifier,
            bank.clock,
            P,
        )
    done = await services.assign_seat(
        services.AssignSeat(
            bank.aad("coord"), ids[2], target, override_reason="only fi speaker free"
        ),
        bank.uow,
        bank.notifier,
        bank.clock,
        P,
    )
    assert done.changed
    async with bank.uow:
        events = await bank.uow.journal.case_events(ids[2])
    overridden = [e for e in events if e.kind is CaseEventKind.OVERRIDDEN]
    assert overridden and overridden[0].detail["reason"] == "only fi speaker free"


async def test_reassignment_replaces_a_holder_and_keeps_the_rules(bank: Bank) -> None:
    case_id = await bank.new_case()
    await bank.claim("old", case_id)
    await bank.claim("new", case_id)
    coord = bank.aad("coord")
    with pytest.raises(errors.NeedsExperienced):
        await services.assign_seat(
            services.AssignSeat(coord, case_id, bank.people["new2"].id or 0, seat=1),
            bank.uow,
            bank.notifier,
            bank.clock,
            P,
        )
    result = await services.assign_seat(
        services.AssignSeat(coord, case_id, bank.people["old2"].id or 0, seat=1),
        bank.uow,
        bank.notifier,
        bank.clock,
        P,
    )
    assert [s.holder_name for s in result.case.seats] == ["Outi Kokenut", "Niina Uusi"]
    assert any(
        isinstance(n, SeatReleased) and n.reason == "coordinator" for n in bank.notifier.sent
    )


async def test_close_and_cancel_are_idempotent_and_count_experience(bank: Bank) -> None:
    coord = bank.aad("coord")
    for _ in range(2):
        case_id = await bank.new_case()
        await bank.claim("old", case_id)
        await bank.claim("new", case_id)
        for _ in range(2):
            await services.close_case(
                services.CloseCase(coord, case_id, Outcome.AGREEMENT),
                bank.uow,
                bank.notifier,
                bank.clock,
                P,
            )
    async with bank.uow:
        newbie = await bank.uow.mediators.get(bank.people["new"].id or 0)
    assert newbie is not None and newbie.completed_cases == 2 and newbie.is_experienced(P)
    cancelled = await bank.new_case()
    first = await services.cancel_case(
        services.CancelCase(coord, cancelled), bank.uow, bank.notifier, bank.clock, P
    )
    second = await services.cancel_case(
        services.CancelCase(coord, cancelled), bank.uow, bank.notifier, bank.clock, P
    )
    assert first.changed and not second.changed
    with pytest.raises(errors.IllegalTransition):
        await services.close_case(
            services.CloseCase(coord, cancelled, Outcome.AGREEMENT),
            bank.uow,
            bank.notifier,
            bank.clock,
            P,
        )
    assert isinstance(bank.notifier.sent[-1], CaseChanged)


async def test_registry_updates_by_role(bank: Bank) -> None:
    new_id = bank.people["new"].id or 0
    with pytest.raises(errors.NotAllowed):
        await services.update_mediator(
            services.UpdateMediator(bank.aad("new"), new_id, experienced=True),
            bank.uow,
            bank.clock,
            P,
        )
    with pytest.raises(errors.NotAllowed):
        await services.update_mediator(
            services.UpdateMediator(
                bank.aad("old"), new_id, add_away=AwayPeriod(date(2026, 4, 1), date(2026, 4, 2))
            ),
            bank.uow,
            bank.clock,
            P,
        )
    updated = await services.update_mediator(
        services.UpdateMediator(
            bank.aad("coord"), new_id, experienced=True, languages=frozenset({"fi", "sv"})
        ),
        bank.uow,
        bank.clock,
        P,
    )
    assert updated.experienced_mark and updated.languages == {"fi", "sv"}
    with pytest.raises(errors.InvalidInput):
        await services.update_mediator(
            services.UpdateMediator(bank.aad("coord"), new_id, languages=frozenset({"de"})),
            bank.uow,
            bank.clock,
            P,
        )


async def test_import_twice_changes_nothing_and_a_changed_row_updates(bank: Bank) -> None:
    a = "11111111-1111-1111-1111-111111111111"
    text = "aad_object_id;name;email;employer;languages;experienced;role;active\n"
    first = parse_registry(text + f"{a};Anna Aalto;anna@example.org;Kerava;fi;ei;mediator;kyllä\n")
    r1 = await services.import_registry(first, bank.uow, bank.clock)
    r2 = await services.import_registry(first, bank.uow, bank.clock)
    assert (r1.created, r2.created, r2.unchanged) == (["Anna Aalto"], [], ["Anna Aalto"])
    changed = parse_registry(
        text + f"{a};Anna Aalto;anna@example.org;Kerava;fi sv;kyllä;mediator;kyllä\n"
    )
    r3 = await services.import_registry(changed, bank.uow, bank.clock)
    assert r3.updated == ["Anna Aalto"]
    async with bank.uow:
        anna = await bank.uow.mediators.by_aad(a)
    assert anna is not None and anna.experienced_mark and anna.languages == {"fi", "sv"}


async def test_my_cases_and_quota(bank: Bank) -> None:
    case_id = await bank.new_case()
    await bank.claim("old", case_id)
    await bank.new_case()
    mine = await services.my_cases(bank.aad("old"), bank.uow, bank.clock, P)
    assert [c.case_id for c in mine] == [case_id]
    report = await services.my_quota(bank.aad("old"), bank.uow, bank.clock, P)
    assert (report.usage.term_used, report.usage.term_limit, report.waiting_cases) == (1, 2, 2)


async def test_safety_concern_is_cleared_by_a_coordinator_only(bank: Bank) -> None:
    case_id = await bank.new_case(safety_concern="true")
    await bank.claim("old", case_id)
    with pytest.raises(errors.NotAllowed):
        await services.clear_safety_concern(
            services.CaseStep(bank.aad("old"), case_id), bank.uow, bank.clock, P
        )
    done = await services.clear_safety_concern(
        services.CaseStep(bank.aad("coord"), case_id), bank.uow, bank.clock, P
    )
    assert done.changed


# -- stale cards ---------------------------------------------------------------------------


def card_of(summary: CaseSummary) -> rules.CardSnapshot:
    """What a card drawn from ``summary`` carries on its buttons."""
    holders = tuple(s.holder_id for s in summary.seats)
    return rules.CardSnapshot(summary.version, CaseStatus(summary.status), holders)


async def drawn(bank: Bank, case_id: int) -> rules.CardSnapshot:
    return card_of(await services.summary_of(bank.uow, case_id, bank.clock, P))


async def test_two_mediators_claim_both_seats_from_one_card(bank: Bank) -> None:
    case_id = await bank.new_case()
    card = await drawn(bank, case_id)
    for key in ("old", "new"):
        result = await services.claim_seat(
            services.ClaimSeat(bank.aad(key), case_id, shown=card),
            bank.uow,
            bank.notifier,
            bank.clock,
            P,
        )
        assert result.changed
    assert result.case.status == "paired"
    again = await services.claim_seat(  # a double click on the same old card
        services.ClaimSeat(bank.aad("new"), case_id, shown=card),
        bank.uow,
        bank.notifier,
        bank.clock,
        P,
    )
    assert not again.changed and again.seat == 2


async def test_an_assignment_from_a_stale_card_replaces_nobody(bank: Bank) -> None:
    case_id = await bank.new_case()
    card = await drawn(bank, case_id)
    await bank.claim("old", case_id)  # seat 1, after the coordinator's card was drawn
    sent = len(bank.notifier.sent)
    with pytest.raises(errors.StaleCard) as refused:
        await services.assign_seat(
            services.AssignSeat(
                bank.aad("coord"), case_id, bank.people["old2"].id or 0, 1, "", card
            ),
            bank.uow,
            bank.notifier,
            bank.clock,
            P,
        )
    assert refused.value.params["seat"] == 1
    fresh = refused.value.case
    assert fresh is not None and fresh.seats[0].holder_name == "Olli Kokenut"
    assert len(bank.notifier.sent) == sent
    assert await bank.events(case_id) == [CaseEventKind.CREATED, CaseEventKind.CLAIMED]
    # The same choice from the fresh card is the coordinator's decision, and it stands.
    done = await services.assign_seat(
        services.AssignSeat(
            bank.aad("coord"), case_id, bank.people["old2"].id or 0, 1, "", card_of(fresh)
        ),
        bank.uow,
        bank.notifier,
        bank.clock,
        P,
    )
    assert done.changed and done.case.seats[0].holder_name == "Outi Kokenut"


async def test_an_old_release_does_not_empty_a_seat_taken_since(bank: Bank) -> None:
    case_id = await bank.new_case()
    await bank.claim("old", case_id)
    card = await drawn(bank, case_id)  # Olli in seat 1
    await bank.release("old", case_id, shown=card)
    await bank.claim("old2", case_id)  # seat 1 goes to Outi
    await bank.claim("old", case_id)  # Olli is back, in seat 2
    with pytest.raises(errors.StaleCard) as refused:
        await bank.release("old", case_id, shown=card)
    assert refused.value.params["seat"] == 2
    summary = await services.summary_of(bank.uow, case_id, bank.clock, P)
    assert [s.holder_name for s in summary.seats] == ["Outi Kokenut", "Olli Kokenut"]


async def test_close_and_cancel_from_a_card_of_another_status_change_nothing(bank: Bank) -> None:
    case_id = await bank.new_case()
    await bank.claim("old", case_id)
    await bank.claim("new", case_id)
    card = await drawn(bank, case_id)
    coord = bank.aad("coord")
    await services.start_case(services.CaseStep(coord, case_id), bank.uow, bank.clock, P)
    with pytest.raises(errors.StaleCard) as refused:
        await services.close_case(
            services.CloseCase(coord, case_id, Outcome.AGREEMENT, card),
            bank.uow,
            bank.notifier,
            bank.clock,
            P,
        )
    assert refused.value.params["status"] == "in_progress"
    assert refused.value.case is not None and refused.value.case.status == "in_progress"
    with pytest.raises(errors.StaleCard):
        await services.cancel_case(
            services.CancelCase(coord, case_id, "", card), bank.uow, bank.notifier, bank.clock, P
        )
    fresh = await drawn(bank, case_id)
    closed = await services.close_case(
        services.CloseCase(coord, case_id, Outcome.AGREEMENT, fresh),
        bank.uow,
        bank.notifier,
        bank.clock,
        P,
    )
    assert closed.changed and closed.case.status == "closed"


async def _update(bank: Bank, key: str, target: str, **change: object) -> Mediator:
    cmd = services.UpdateMediator(bank.aad(key), bank.people[target].id or 0, **change)  # type: ignore[arg-type]
    return await services.update_mediator(cmd, bank.uow, bank.clock, P)


async def test_someone_not_active_can_neither_read_nor_act(bank: Bank) -> None:
    case_id = await bank.new_case()
    await bank.claim("old", case_id)
    await _update(bank, "coord", "old", active=False)
    # Not even their own case: an inactive entry is as one who has left the bank.
    with pytest.raises(errors.NotActive) as refused:
        await services.view_details(
            services.ViewDetails(bank.aad("old"), case_id), bank.uow, bank.clock, P
        )
    assert "Kaisa Koordinaattori" in str(refused.value)
    with pytest.raises(errors.NotActive):
        await bank.release("old", case_id)
    with pytest.raises(errors.NotActive):
        await services.my_cases(bank.aad("old"), bank.uow, bank.clock, P)
    await _update(bank, "coord", "old", active=True)
    await bank.release("old", case_id)


async def test_the_last_active_coordinator_stays_active(bank: Bank) -> None:
    with pytest.raises(errors.LastCoordinator):
        await _update(bank, "coord", "coord", active=False)
    await bank.add("coord2", mediator("Kerttu Koordinoija", role=Role.COORDINATOR))
    await _update(bank, "coord", "coord2", active=False)
    with pytest.raises(errors.LastCoordinator):
        await _update(bank, "coord", "coord", active=False)
    await _update(bank, "coord", "coord2", active=True)
    await _update(bank, "coord", "coord", active=False)  # another one is active now
    with pytest.raises(errors.NotActive):
        await _update(bank, "coord", "coord", active=True)


async def test_an_away_period_ends_within_two_years(bank: Bank) -> None:
    with pytest.raises(errors.InvalidInput, match="too long"):
        await _update(bank, "old", "old", add_away=AwayPeriod(date(2026, 3, 2), date(9999, 12, 31)))
    kept = await _update(
        bank, "old", "old", add_away=AwayPeriod(date(2026, 3, 2), date(2028, 3, 1))
    )
    assert kept.away == (AwayPeriod(date(2026, 3, 2), date(2028, 3, 1)),)
