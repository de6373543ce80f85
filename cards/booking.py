"""The booker's cards: the cases waiting for their first meetings, and times to book them.

A booker sees what booking needs and nothing else: the case code, its language and
interpreter need, the family's preferred times, the pair's common free times and the
first meetings already booked. No names, no contact details, no notes, no case history.
"""

from __future__ import annotations

from collections.abc import Sequence

from cards import verbs
from cards.base import (
    Card,
    Element,
    card,
    choice_set,
    execute,
    facts,
    fitted,
    heading,
    text,
)
from cards.calendar import cap, kind_label, slot_title, slot_value, when_label
from cards.commands import BOOK, CANONICAL, HELP, LANGUAGE, SHIFTS, WORDS
from cards.i18n import Lang, label, t, time_label
from mediation.calendar import CaseToBook, Proposal
from mediation.model import MeetingKind, MeetingStatus


def _parents(lang: Lang, parents: Sequence[int]) -> str:
    return ", ".join(t(lang, "booking.parent", n=n) for n in parents)


def cases_to_book_card(cases: Sequence[CaseToBook], lang: Lang) -> Card:
    """The cases whose pair is complete and whose first meetings wait to be booked."""
    body: list[Element] = [heading(t(lang, "booking.title"))]
    if not cases:
        body.append(text(t(lang, "booking.none")))
    body += fitted(
        (_case_to_book(case, lang) for case in cases),
        lambda n: text(t(lang, "list.more", n=n), subtle=True),
    )
    return card(lang, body)


def _case_to_book(case: CaseToBook, lang: Lang) -> list[Element]:
    language = label(lang, "language", case.language)
    if case.interpreter:
        language = t(lang, "booking.with_interpreter", language=language)
    line = t(
        lang,
        "booking.line",
        code=case.code,
        language=language,
        parents=_parents(lang, case.open_parents),
    )
    button = execute(
        t(lang, "booking.book", code=case.code), verbs.MEETINGS_PROPOSE, {"case_id": case.case_id}
    )
    return [text(line, separator=True), {"type": "ActionSet", "actions": [button]}]


def booker_card(
    proposal: Proposal, lang: Lang, *, notice: str | None = None, notice_is_error: bool = False
) -> Card:
    """Times the pair is free for a parent's first meeting, and the first meetings booked."""
    body: list[Element] = []
    if notice:
        body.append(text(notice, weight="Bolder", color="Attention" if notice_is_error else "Good"))
    body.append(heading(t(lang, "booking.case_title", code=proposal.code)))
    if proposal.preferred:
        times = ", ".join(time_label(lang, code) for code in proposal.preferred)
        body.append(text(t(lang, "booking.preferred", times=times), subtle=True))
    actions: list[Element] = []
    if not proposal.open_parents:
        body.append(text(t(lang, "booking.done")))
    else:
        kind = kind_label(lang, proposal.kind, proposal.parent_no)
        body.append(text(cap(kind), weight="Bolder"))
        if not proposal.slots:
            body.append(text(t(lang, "calendar.propose.none"), color="Warning"))
        else:
            body.append(text(t(lang, "booking.intro", minutes=proposal.minutes), subtle=True))
            body.append(
                choice_set(
                    "start",
                    t(lang, "calendar.propose.slot_label"),
                    [(slot_value(s), slot_title(lang, s, proposal.zone)) for s in proposal.slots],
                    style="expanded",
                    value=slot_value(proposal.slots[0]),
                    required_message=t(lang, "calendar.propose.choose"),
                )
            )
            data: dict[str, object] = {
                "case_id": proposal.case_id,
                "kind": MeetingKind.INDIVIDUAL.value,
                "parent_no": proposal.parent_no,
            }
            actions.append(
                execute(
                    t(lang, "calendar.propose.book"), verbs.MEETINGS_BOOK, data, style="positive"
                )
            )
        for other in proposal.open_parents:
            if other != proposal.parent_no:
                data = {"case_id": proposal.case_id, "kind": "individual", "parent_no": other}
                actions.append(
                    execute(t(lang, "booking.other_parent", n=other), verbs.MEETINGS_PROPOSE, data)
                )
    booked = [m for m in proposal.meetings if m.status is not MeetingStatus.CANCELLED]
    if booked:
        body.append(text(t(lang, "booking.booked"), weight="Bolder", separator=True))
        for m in booked:
            when = when_label(lang, m.starts_at, m.ends_at, proposal.zone)
            body.append(text(f"{cap(kind_label(lang, m.kind, m.parent_no))}: {when}"))
    body.append(text(t(lang, "booking.privacy"), subtle=True, size="Small"))
    return card(lang, body, actions)


def booker_help_card(lang: Lang) -> Card:
    """What a booker can do: list the cases to book, and book their first meetings."""
    words = dict(zip(CANONICAL, WORDS[lang], strict=True))
    return card(
        lang,
        [
            heading(t(lang, "help.title")),
            text(t(lang, "booking.help")),
            text(t(lang, "help.commands"), weight="Bolder"),
            facts([(words[c], t(lang, f"help.cmd.{c}")) for c in (HELP, BOOK, SHIFTS, LANGUAGE)]),
        ],
    )
