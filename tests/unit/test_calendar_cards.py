"""The meeting cards: structure, verbs, languages, and golden snapshots (UPDATE_GOLDEN=1)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cards import verbs
from cards.calendar import (
    meeting_changed_card,
    meetings_card,
    proposal_card,
    record_button,
    record_card,
    when_label,
)
from cards.i18n import LANGS, Lang, error_text, t
from mediation import errors
from mediation.calendar import MeetingChanged, MeetingView, Proposal
from mediation.model import MeetingKind, MeetingStatus
from mediation.slots import Slot
from tests.unit.cards_support import assert_well_formed, executes, inputs, size, texts

GOLDEN = Path(__file__).parent / "golden_calendar"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
ZONE = "Europe/Helsinki"
T0 = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # Tue 14:00 in Helsinki


def meeting(n: int, kind: MeetingKind, status: MeetingStatus, **kw: Any) -> MeetingView:
    start = T0 + timedelta(days=n)
    return MeetingView(
        meeting_id=n + 10,
        case_id=4,
        code="2026-004",
        kind=kind,
        parent_no=kw.pop("parent_no", None),
        starts_at=start,
        ends_at=start + timedelta(minutes=kw.pop("minutes", 60)),
        status=status,
        planned_minutes=60,
        **kw,
    )


MEETINGS = (
    meeting(0, MeetingKind.INDIVIDUAL, MeetingStatus.HELD, parent_no=1, held_minutes=55),
    meeting(1, MeetingKind.INDIVIDUAL, MeetingStatus.BOOKED, parent_no=2, calendar_pending=True),
    meeting(2, MeetingKind.JOINT, MeetingStatus.CANCELLED, minutes=90),
)
SLOTS = (
    Slot(T0 + timedelta(days=7), T0 + timedelta(days=7, hours=1), preferred=True),
    Slot(T0 + timedelta(days=8, hours=-4), T0 + timedelta(days=8, hours=-3), tentative=True),
)


def proposal(**kw: Any) -> Proposal:
    base: dict[str, Any] = {
        "case_id": 4,
        "code": "2026-004",
        "status": "in_progress",
        "kind": MeetingKind.INDIVIDUAL,
        "parent_no": 2,
        "minutes": 60,
        "slots": SLOTS,
        "meetings": MEETINGS,
        "package_size": 5,
        "zone": ZONE,
    }
    return Proposal(**{**base, **kw})


def samples(lang: Lang) -> dict[str, dict[str, Any]]:
    now = T0 + timedelta(days=1, minutes=30)
    return {
        "proposal": proposal_card(
            proposal(), lang, now=T0, feed_url="https://sopu.example/calendar/abc.ics"
        ),
        "proposal.blocked": proposal_card(
            proposal(
                kind=MeetingKind.JOINT,
                parent_no=None,
                slots=(),
                blocked=errors.MeetingsOutOfOrder(),
            ),
            lang,
        ),
        "proposal.move": proposal_card(proposal(moving=MEETINGS[1]), lang, now=T0),
        "proposal.none": proposal_card(proposal(slots=()), lang),
        "meetings": meetings_card(proposal(), lang, now=now, notice="Booked."),
        "record": record_card(
            MEETINGS[0],
            lang,
            ZONE,
            extra=[{"type": "Input.Text", "id": "fb_note", "label": "Note"}],
        ),
        "changed.moved": meeting_changed_card(
            MeetingChanged(4, "2026-004", 11, MeetingKind.JOINT, None, "moved", T0, T0, (1, 2)),
            lang,
            ZONE,
        ),
        "changed.cancelled": meeting_changed_card(
            MeetingChanged(4, "2026-004", 11, MeetingKind.INDIVIDUAL, 1, "cancelled", T0, T0, (1,)),
            lang,
            ZONE,
        ),
    }


CASES = [(lang, name) for lang in LANGS for name in samples(lang)]


@pytest.mark.parametrize(("lang", "name"), CASES)
def test_meeting_cards_are_well_formed_and_match_their_snapshots(lang: Lang, name: str) -> None:
    card = samples(lang)[name]
    assert_well_formed(card)
    assert size(card) < 28_000
    assert all(a["verb"] in verbs.VERBS for a in executes(card))
    path = GOLDEN / f"{name}.{lang}.json"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    assert json.loads(path.read_text(encoding="utf-8")) == card


def test_the_languages_differ() -> None:
    fi, sv, en = (samples(lang) for lang in ("fi", "sv", "en"))
    for name in en:
        assert fi[name] != sv[name] != en[name], name


def test_the_proposal_offers_the_slots_and_books_the_right_meeting() -> None:
    card = samples("en")["proposal"]
    (slot_input,) = [i for i in inputs(card) if i["id"] == "start"]
    values = [c["value"] for c in slot_input["choices"]]
    assert values == [s.start.isoformat(timespec="minutes") for s in SLOTS]
    assert "the family's preferred time" in slot_input["choices"][0]["title"]
    assert "tentative" in slot_input["choices"][1]["title"]
    book = next(a for a in card["actions"] if a.get("verb") == verbs.MEETINGS_BOOK)
    assert book["data"] == {"case_id": 4, "kind": "individual", "parent_no": 2}
    shown = texts(card)
    assert "Tue 2026-03-10 14:00–15:00 · the family's preferred time" in shown
    assert any("held (55 min)" in s for s in shown)
    assert any("not yet in the calendar" in s for s in shown)
    assert any("https://sopu.example/calendar/abc.ics" in s for s in shown)
    # The booked meeting can be moved or cancelled with a message; retried to the calendar.
    buttons = [(a["verb"], a["data"]) for a in executes(card)]
    assert (verbs.MEETING_CANCEL, {"case_id": 4, "meeting_id": 11}) in buttons
    assert (verbs.MEETINGS_PROPOSE, {"case_id": 4, "meeting_id": 11}) in buttons  # move
    assert (verbs.MEETINGS_BOOK, {"case_id": 4, "meeting_id": 11}) in buttons  # retry
    assert any(i["id"] == "message" for i in inputs(card))


def test_a_blocked_kind_says_why_and_offers_no_booking() -> None:
    card = samples("fi")["proposal.blocked"]
    assert error_text("fi", errors.MeetingsOutOfOrder()) in texts(card)
    assert verbs.MEETINGS_BOOK not in {a.get("verb") for a in card["actions"]}


def test_moving_uses_the_move_verb() -> None:
    card = samples("sv")["proposal.move"]
    move = next(a for a in card["actions"] if a.get("verb") == verbs.MEETING_MOVE)
    assert move["data"] == {"case_id": 4, "meeting_id": 11}


def test_the_record_card_carries_the_extra_inputs_and_the_meeting() -> None:
    card = samples("en")["record"]
    ids = [i["id"] for i in inputs(card)]
    assert ids == ["held", "minutes", "fb_note"]
    held = next(i for i in inputs(card) if i["id"] == "held")
    assert held["value"] == "yes"  # recorded already: the answer is shown
    submit = card["actions"][0]
    assert (submit["verb"], submit["data"]) == (
        verbs.MEETING_RECORD,
        {"case_id": 4, "meeting_id": 10},
    )
    assert record_button(4, 10, "fi")["data"] == {"case_id": 4, "meeting_id": 10, "form": 1}


def test_times_are_local_across_the_change_to_summer_time() -> None:
    before = datetime(2026, 3, 27, 7, tzinfo=UTC)  # 9:00 in Helsinki (UTC+2)
    after = datetime(2026, 3, 30, 6, tzinfo=UTC)  # 9:00 in Helsinki (UTC+3)
    hour = timedelta(hours=1)
    assert when_label("fi", before, before + hour, ZONE) == "pe 27.3.2026 klo 9.00–10.00"
    assert when_label("fi", after, after + hour, ZONE) == "ma 30.3.2026 klo 9.00–10.00"
    assert t(
        "sv", "calendar.when", weekday="mån", day=30, month=3, year=2026, start="9.00", end="10.00"
    )
