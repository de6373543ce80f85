"""Feedback: the mediators' own after meetings and cases, and the parents' anonymous answers.

The parents answer on a web page through a one-time link per case. The link's token is
random and holds no personal data; it maps to the case only so that responses can be
counted. An answer is stored with the term it belongs to and nothing else that could tie
it to a family: no case id, no token, no time of answering.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from mediation import errors
from mediation.model import Case, CaseStatus
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.services import actor

# -- what is asked -----------------------------------------------------------------------

RATING = ("1", "2", "3", "4", "5")
COOPERATION = ("yes", "partly", "no")  # did the pair's cooperation work
HEARD_FROM = (
    "child_welfare_supervisor",
    "family_counselling",
    "maternity_clinic",
    "school",
    "health_care",
    "internet",
    "friend",
    "other",
)
SETTLED = ("fully", "partly", "not")
RECOMMEND = ("yes", "maybe", "no")
HELPED = (
    "individual_meetings",
    "joint_meetings",
    "child_meeting",
    "pair_work",
    "written_agreement",
    "coordinator_support",
    "other",
)
HARD = (
    "scheduling",
    "high_conflict",
    "safety",
    "interpreter",
    "commitment",
    "own_time",
    "other",
)

NOTE_LIMIT = 2000  # characters of a mediator's note to the coordinators
CLIENT_TEXT_LIMIT = 2000  # characters of each of the parents' open answers
LINK_USES = 1  # each parent has a link of their own and answers once
PARENTS = (1, 2)
TOKEN_BYTES = 24  # 192 random bits, URL-safe: 32 characters


def new_token() -> str:
    """A link token: random, so it says nothing about the family or the case."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(text: str) -> bool:
    """A cheap shape check before the database is asked about a token."""
    return len(text) == 32 and text.isascii() and all(c.isalnum() or c in "-_" for c in text)


# -- reading forms -----------------------------------------------------------------------


def _choice(
    form: Mapping[str, object],
    key: str,
    options: Sequence[str],
    problems: dict[str, errors.InvalidInput],
    *,
    required: bool = True,
) -> str | None:
    value = form.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems[key] = errors.InvalidInput(key, "required")
        return None
    if not isinstance(value, str) or value.strip() not in options:
        problems[key] = errors.InvalidInput(key, "unknown choice")
        return None
    return value.strip()


def _choices(
    form: Mapping[str, object],
    key: str,
    options: Sequence[str],
    problems: dict[str, errors.InvalidInput],
) -> tuple[str, ...]:
    value = form.get(key)
    if value is None or value == "":
        return ()
    parts: list[object]
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        parts = [value]
    if len(parts) > len(options) or not all(isinstance(p, str) and p in options for p in parts):
        problems[key] = errors.InvalidInput(key, "unknown choice")
        return ()
    return tuple(sorted({str(p) for p in parts}, key=options.index))


def _text(
    form: Mapping[str, object], key: str, limit: int, problems: dict[str, errors.InvalidInput]
) -> str:
    value = form.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems[key] = errors.InvalidInput(key, "not text")
        return ""
    value = value.replace("\r\n", "\n").strip()
    if len(value) > limit:
        problems[key] = errors.InvalidInput(key, "too long", limit=limit)
        return ""
    # Control characters other than line breaks and tabs have no place in an answer.
    return "".join(c for c in value if c in "\n\t" or c.isprintable())


def _raise(problems: dict[str, errors.InvalidInput]) -> None:
    if len(problems) == 1:
        raise next(iter(problems.values()))
    if problems:
        raise errors.InvalidForm(problems)


@dataclass(frozen=True)
class ClientAnswer:
    """One parent's answers; nothing in it names the family."""

    heard_from: str | None
    settled: str | None
    felt_heard: int | None
    impartial: int | None
    child_view: int | None  # None: no answer (e.g. the children were not discussed)
    recommend: str | None
    good: str
    missing: str


CLIENT_FIELDS = (
    "heard_from",
    "settled",
    "felt_heard",
    "impartial",
    "child_view",
    "recommend",
    "good",
    "missing",
)


def parse_client_answer(form: Mapping[str, object]) -> ClientAnswer:
    """The parents' form; every question may be skipped, but what is given must fit."""
    problems: dict[str, errors.InvalidInput] = {}

    def rating(key: str) -> int | None:
        value = _choice(form, key, RATING, problems, required=False)
        return int(value) if value else None

    answer = ClientAnswer(
        heard_from=_choice(form, "heard_from", HEARD_FROM, problems, required=False),
        settled=_choice(form, "settled", SETTLED, problems, required=False),
        felt_heard=rating("felt_heard"),
        impartial=rating("impartial"),
        child_view=rating("child_view"),
        recommend=_choice(form, "recommend", RECOMMEND, problems, required=False),
        good=_text(form, "good", CLIENT_TEXT_LIMIT, problems),
        missing=_text(form, "missing", CLIENT_TEXT_LIMIT, problems),
    )
    if problems:
        raise errors.InvalidForm(problems)
    if answer == ClientAnswer(None, None, None, None, None, None, "", ""):
        raise errors.InvalidInput("answers", "required")
    return answer


@dataclass(frozen=True)
class MeetingFeedback:
    rating: int
    cooperation: str
    note: str


def parse_meeting_feedback(form: Mapping[str, object]) -> MeetingFeedback:
    """``fb_rating`` (1-5), ``fb_cooperation`` (yes/partly/no), ``fb_note`` (optional)."""
    problems: dict[str, errors.InvalidInput] = {}
    rating = _choice(form, "fb_rating", RATING, problems)
    cooperation = _choice(form, "fb_cooperation", COOPERATION, problems)
    note = _text(form, "fb_note", NOTE_LIMIT, problems)
    _raise(problems)
    assert rating is not None and cooperation is not None
    return MeetingFeedback(int(rating), cooperation, note)


@dataclass(frozen=True)
class CaseFeedback:
    """A mediator's look back at a whole package."""

    package_rating: int  # how the package went, 1-5
    pair_rating: int  # how the pair worked together, 1-5
    helped: tuple[str, ...]
    hard: tuple[str, ...]
    note: str  # shown only to the coordinators


def parse_case_feedback(form: Mapping[str, object]) -> CaseFeedback:
    problems: dict[str, errors.InvalidInput] = {}
    package = _choice(form, "cf_package", RATING, problems)
    pair = _choice(form, "cf_pair", RATING, problems)
    helped = _choices(form, "cf_helped", HELPED, problems)
    hard = _choices(form, "cf_hard", HARD, problems)
    note = _text(form, "cf_note", NOTE_LIMIT, problems)
    _raise(problems)
    assert package is not None and pair is not None
    return CaseFeedback(int(package), int(pair), helped, hard, note)


# -- the client link ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClientLink:
    token: str
    case_id: int
    year: int
    term: str
    expires_at: datetime
    uses: int
    max_uses: int = LINK_USES
    last_form: str | None = None  # a hash of the last form sent through it
    parent_no: int = 1  # whose link it is (0: one link of both parents, made before)


class LinkState:
    """Why a token cannot take an answer (or that it can)."""

    OPEN = "open"
    UNKNOWN = "unknown"  # forged, mistyped, or the case was purged
    EXPIRED = "expired"
    USED = "used"
    SENT = "sent"  # this very form was sent already (a double click or a reload)


@dataclass(frozen=True)
class TermBucket:
    """All that an answer row knows of where it came from."""

    year: int
    term: str


class FeedbackStore(Protocol):
    """Where feedback is kept (storage/feedback.py); each method is its own transaction."""

    async def link_for_case(self, case_id: int, parent_no: int) -> ClientLink | None: ...

    async def add_link(self, link: ClientLink, now: datetime) -> ClientLink:
        """Store a new link; if the parent has one already, that one is returned."""
        ...

    async def link(self, token: str) -> ClientLink | None: ...

    async def answer_once(
        self, token: str, now: datetime, answer: ClientAnswer, form_id: str = ""
    ) -> str:
        """Take one use of the link and store the answer in the same transaction.

        ``form_id`` names the form the answer came from; the same form twice takes no second
        use (``SENT``). Returns a :class:`LinkState`: ``OPEN`` when the answer was stored.
        """
        ...

    async def meeting_case(self, meeting_id: int) -> int | None:
        """The case a meeting belongs to."""
        ...

    async def save_meeting_feedback(
        self, meeting_id: int, mediator_id: int, feedback: MeetingFeedback, now: datetime
    ) -> bool:
        """Insert or update; True when something changed."""
        ...

    async def save_case_feedback(
        self, case_id: int, mediator_id: int, feedback: CaseFeedback, now: datetime
    ) -> bool: ...

    async def case_feedback(self, case_id: int, mediator_id: int) -> CaseFeedback | None: ...

    async def meeting_feedback(
        self, meeting_id: int, mediator_id: int
    ) -> MeetingFeedback | None: ...


# -- use cases ---------------------------------------------------------------------------


def link_state(link: ClientLink | None, now: datetime) -> str:
    if link is None:
        return LinkState.UNKNOWN
    if link.uses >= link.max_uses:
        return LinkState.USED
    if now >= link.expires_at:
        return LinkState.EXPIRED
    return LinkState.OPEN


async def client_link(
    case_id: int,
    parent_no: int,
    uow: UnitOfWork,
    store: FeedbackStore,
    clock: Clock,
    policy: BankPolicy,
    valid_for: timedelta,
) -> ClientLink:
    """One parent's feedback link, made the first time it is asked for.

    Each parent has their own, for one answer: one parent answering twice cannot use up
    the other's. Only a closed case gets links: the form asks about a finished mediation.
    """
    if parent_no not in PARENTS:
        raise errors.InvalidInput("parent_no", "unknown choice")
    known = await store.link_for_case(case_id, parent_no)
    if known is not None:
        return known
    async with uow:
        case = await uow.cases.get(case_id)
        if case is None:
            raise errors.CaseNotFound(case_id)
        if case.status is not CaseStatus.CLOSED:
            raise errors.IllegalTransition("ask feedback for", case.status.value)
        term = policy.term_of(case.created_at)
    now = clock.now()
    return await store.add_link(
        ClientLink(
            new_token(), case_id, term.year, term.name, now + valid_for, 0, parent_no=parent_no
        ),
        now,
    )


async def submit_client_answer(
    token: str,
    form: Mapping[str, object],
    store: FeedbackStore,
    clock: Clock,
    form_id: str = "",
) -> str:
    """A parent sends the form: one use of the link is taken and the answer stored.

    Returns a :class:`LinkState`; raises InvalidInput/InvalidForm for answers that do not fit,
    before anything is stored.
    """
    if not looks_like_token(token):
        return LinkState.UNKNOWN
    now = clock.now()
    link = await store.link(token)
    state = link_state(link, now)
    if link is not None and form_id and link.last_form == form_id:
        return LinkState.SENT
    if state != LinkState.OPEN:
        return state
    answer = parse_client_answer(form)
    return await store.answer_once(token, now, answer, form_id)


async def _seat_holder_on(uow: UnitOfWork, actor_aad: str, case_id: int) -> tuple[int, Case]:
    me = await actor(uow, actor_aad)
    case = await uow.cases.get(case_id)
    if case is None:
        raise errors.CaseNotFound(case_id)
    assert me.id is not None
    if case.seat_of(me.id) is None:
        raise errors.NotSeatHolder(case.code)
    return me.id, case


async def my_meeting_feedback(
    actor_aad: str, meeting_id: int, uow: UnitOfWork, store: FeedbackStore
) -> MeetingFeedback | None:
    """The mediator's own stored answer about a meeting, to show it again on the form."""
    async with uow:
        me = await actor(uow, actor_aad)
    if me.id is None:
        return None
    return await store.meeting_feedback(meeting_id, me.id)


async def record_meeting_feedback(
    actor_aad: str,
    meeting_id: int,
    fields: Mapping[str, object],
    uow: UnitOfWork,
    store: FeedbackStore,
    clock: Clock,
) -> bool:
    """A mediator of the pair says how a meeting went; answering again updates the answer.

    ``fields`` holds ``fb_rating``, ``fb_cooperation`` and ``fb_note`` as the card sends them.
    Returns True when something changed.
    """
    feedback = parse_meeting_feedback(fields)
    case_id = await store.meeting_case(meeting_id)
    if case_id is None:
        raise errors.NotFound(f"meeting {meeting_id} does not exist")
    async with uow:
        mediator_id, _ = await _seat_holder_on(uow, actor_aad, case_id)
    return await store.save_meeting_feedback(meeting_id, mediator_id, feedback, clock.now())


async def record_case_feedback(
    actor_aad: str,
    case_id: int,
    fields: Mapping[str, object],
    uow: UnitOfWork,
    store: FeedbackStore,
    clock: Clock,
) -> tuple[str, bool]:
    """A mediator of the pair looks back at the package; answering again updates the answer.

    Returns the case code and whether anything changed.
    """
    feedback = parse_case_feedback(fields)
    async with uow:
        mediator_id, case = await _seat_holder_on(uow, actor_aad, case_id)
    changed = await store.save_case_feedback(case_id, mediator_id, feedback, clock.now())
    return case.code, changed
