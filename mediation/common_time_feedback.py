"""Feedback on a common time: the attendees' after the meeting, and the family's, anonymous.

Each attendee (the convener and those who accepted) answers once: how useful the meeting
was for the family and whether the right competences were there. The family answers on
the public feedback page through one link per common time; an answer is stored with the
year it belongs to and nothing else that could tie it to the family (as the bank's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from statistics import fmean
from typing import Protocol

from mediation import errors
from mediation.common_time import COMMON_TIME_KIND, CommonTime
from mediation.feedback import RATING, LinkState
from mediation.intake import has_control_characters, holds_identity_code

COMMENT_MAX = 500
PRESENT = ("yes", "no")  # were the right competences present
FAMILY_ANSWERS = 3  # one link a family: the parents, and a child old enough to answer
FAMILY_FIELDS = ("useful", "heard", "good")  # the family's questions, as the form shows them


@dataclass(frozen=True)
class TeamFeedback:
    """One attendee's answer."""

    useful: int  # how useful the meeting was for the family, 1-5
    competences_present: bool
    comment: str = ""


@dataclass(frozen=True)
class FamilyAnswer:
    """One answer of the family; nothing in it names them. Every question may be skipped."""

    useful: int | None  # how useful the common time was for the family, 1-5
    heard: int | None  # whether they and their child felt heard, 1-5
    good: str = ""


def _rating(form: Mapping[str, object], key: str, *, required: bool) -> int | None:
    value = form.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise errors.InvalidInput(key, "required")
        return None
    # A card sends text; a forged one may send a number, a flag or a list.
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(RATING):
        return value
    if isinstance(value, str) and value.strip() in RATING:
        return int(value.strip())
    raise errors.InvalidInput(key, "unknown choice")


def _comment(form: Mapping[str, object], key: str) -> str:
    """A short plain text: no control characters beyond line breaks, no identity codes."""
    value = form.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.InvalidInput(key, "not text")
    value = value.replace("\r\n", "\n").strip()
    if len(value) > COMMENT_MAX:
        raise errors.InvalidInput(key, "too long", limit=COMMENT_MAX)
    if has_control_characters(value.replace("\n", " ")):
        raise errors.InvalidInput(key, "a character that cannot be saved")
    if holds_identity_code(value):
        raise errors.InvalidInput(key, "identity codes are not stored")
    return value


def parse_team_feedback(form: Mapping[str, object]) -> TeamFeedback:
    """``useful`` (1-5), ``competences_present`` (yes/no), ``comment`` (optional)."""
    useful = _rating(form, "useful", required=True)
    present = form.get("competences_present")
    if present is None or present == "":
        raise errors.InvalidInput("competences_present", "required")
    if not isinstance(present, str) or present.strip() not in PRESENT:
        raise errors.InvalidInput("competences_present", "unknown choice")
    assert useful is not None
    return TeamFeedback(useful, present.strip() == "yes", _comment(form, "comment"))


def parse_family_answer(form: Mapping[str, object]) -> FamilyAnswer:
    """The family's form; what is given must fit, and an empty form is no answer."""
    problems: dict[str, errors.InvalidInput] = {}
    useful = heard = None
    good = ""
    try:
        useful = _rating(form, "useful", required=False)
    except errors.InvalidInput as exc:
        problems["useful"] = exc
    try:
        heard = _rating(form, "heard", required=False)
    except errors.InvalidInput as exc:
        problems["heard"] = exc
    try:
        good = _comment(form, "good")
    except errors.InvalidInput as exc:
        problems["good"] = exc
    if len(problems) == 1:
        raise next(iter(problems.values()))
    if problems:
        raise errors.InvalidForm(problems)
    answer = FamilyAnswer(useful, heard, good)
    if answer == FamilyAnswer(None, None, ""):
        raise errors.InvalidInput("answers", "required")
    return answer


def held_year(ct: CommonTime, local_date: Callable[[datetime], date]) -> int | None:
    """The bank's year the common-time meeting was held in, which its feedback is counted in."""
    held = next((m for m in ct.meetings if m.kind == COMMON_TIME_KIND and m.held), None)
    return local_date(held.starts_at).year if held is not None else None


def check_may_give_feedback(
    ct: CommonTime, person_id: int, local_date: Callable[[datetime], date]
) -> int:
    """Only those who attended the held meeting give feedback on it; returns its year."""
    year = held_year(ct, local_date)
    if year is None:
        raise errors.IllegalTransition("give feedback on", ct.status.value)
    if person_id not in ct.attendee_ids():
        raise errors.NotAllowed("giving feedback on the common time", "only its attendees")
    return year


# -- the family's link -------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyLink:
    """The family's link to the feedback page: counts its uses, never says who used it."""

    token: str
    ct_id: int
    year: int
    expires_at: datetime
    uses: int = 0
    max_uses: int = FAMILY_ANSWERS
    last_form: str | None = None  # a hash of the last form sent through it


def family_link_state(link: FamilyLink | None, now: datetime) -> str:
    """Whether the link takes an answer (a :class:`LinkState`)."""
    if link is None:
        return LinkState.UNKNOWN
    if link.uses >= link.max_uses:
        return LinkState.USED
    if now >= link.expires_at:
        return LinkState.EXPIRED
    return LinkState.OPEN


class CommonTimeFeedbackRepository(Protocol):
    """The common times' feedback, in the unit of work's transaction."""

    async def add_link(self, link: FamilyLink, now: datetime) -> None: ...

    async def link_of(self, ct_id: int) -> FamilyLink | None: ...

    async def link(self, token: str) -> FamilyLink | None: ...

    async def answer_once(
        self, token: str, now: datetime, answer: FamilyAnswer, form_id: str = ""
    ) -> str:
        """Take one use of the link and store the answer with its year only; the same form
        twice takes no second use (``SENT``). Returns a :class:`LinkState`."""
        ...

    async def add_team_feedback(
        self, ct_id: int, person_id: int, year: int, feedback: TeamFeedback, now: datetime
    ) -> bool:
        """Store an attendee's answer; False (nothing stored) if they answered already.
        Called before anything else is written in the transaction: a racing second answer
        rolls it back."""
        ...

    async def team_feedback(self, ct_id: int, person_id: int) -> TeamFeedback | None: ...

    async def of_year(self, year: int) -> tuple[list[TeamFeedback], list[FamilyAnswer]]:
        """The attendees' and the families' answers counted in a year."""
        ...


# -- statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommonTimeFeedbackFigures:
    """A year's feedback on common times. Averages are None without answers; the card
    that shows them hides small counts as the bank's statistics do."""

    team_answers: int
    team_useful: float | None  # average, 1-5
    competences_present: int  # attendees who found the right competences there
    family_answers: int
    family_useful: float | None  # average, 1-5
    family_heard: float | None  # average, 1-5


def _average(values: Iterable[int | None]) -> float | None:
    given = [v for v in values if v is not None]
    return round(fmean(given), 1) if given else None


def common_time_feedback_figures(
    team: Iterable[TeamFeedback], family: Iterable[FamilyAnswer]
) -> CommonTimeFeedbackFigures:
    """How many answered, how useful they found the meeting and how many found the right
    competences present; the families' answers likewise, each question's average over
    those who answered it."""
    team, family = list(team), list(family)
    return CommonTimeFeedbackFigures(
        team_answers=len(team),
        team_useful=_average(f.useful for f in team),
        competences_present=sum(f.competences_present for f in team),
        family_answers=len(family),
        family_useful=_average(a.useful for a in family),
        family_heard=_average(a.heard for a in family),
    )
