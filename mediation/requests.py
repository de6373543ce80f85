"""A family's contact request: what the public form asks, and its way through the queue.

A parent sends the form; the request waits in the coordinators' queue until one of them
takes it ("I'll call"), records the calls, and judges it: suitable (the intake opens and
the case is linked), not suitable (a reason and where the family was referred), or no
answer after the set number of calls. Each parent may send their own request.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

from mediation import errors
from mediation.intake import parse_birth_years
from mediation.model import TOPICS

CALL_TIMES = ("morning", "midday", "afternoon")  # 8-11, 11-14, 14-17 on weekdays
FAMILY_LANGUAGES = ("fi", "sv", "en", "other")
OTHER_PARENT_KNOWS = ("yes", "no", "unsure")
YES_NO = ("yes", "no")
OUTSIDE_AREA = "other"  # the municipality choice of a family living elsewhere
NOT_SUITABLE_REASONS = (
    "violence",
    "outside_area",
    "court_process",
    "no_dispute",
    "other_service",
    "declined",
    "other",
)
REFERRALS = (
    "none",
    "child_welfare_supervisor",
    "family_counselling",
    "violence_services",
    "legal_aid",
    "other_municipality",
    "other",
)
NAME_LIMIT = 100
EMAIL_LIMIT = 254
CHILDREN_LIMIT = 60
_PHONE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")
PHONE_DIGITS = 7  # the shortest Finnish number with its area code: 09 123 45
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# A Finnish personal identity code is never asked for, so it is refused on sight.
_IDENTITY_CODE = re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b", re.IGNORECASE)
_T = TypeVar("_T")


class RequestStatus(enum.StrEnum):
    NEW = "new"  # nobody has taken it yet
    TAKEN = "taken"  # a coordinator will call
    SUITABLE = "suitable"  # judged suitable: the intake is open until the case is saved
    NOT_SUITABLE = "not_suitable"
    NO_ANSWER = "no_answer"

    @property
    def in_queue(self) -> bool:
        return self in (RequestStatus.NEW, RequestStatus.TAKEN, RequestStatus.SUITABLE)


@dataclass(frozen=True)
class FrontDoorPolicy:
    """The contact form's and the queue's settings."""

    municipalities: tuple[str, ...] = (
        "Hyvinkää",
        "Järvenpää",
        "Kerava",
        "Mäntsälä",
        "Nurmijärvi",
        "Pornainen",
        "Tuusula",
    )
    max_attempts: int = 3  # calls without an answer before "no answer" may be recorded
    escalate_after_working_days: int = 2
    per_address_per_hour: int = 5
    per_hour: int = 200  # all addresses together: a flood stops here, not in the database
    retention_days: int = 180  # a request that never became a case is erased after this
    # An urgent request a coordinator has just taken is being called: it escalates only if
    # its taker records no call within this time (an untaken urgent one escalates at once).
    urgent_taken_grace: timedelta = timedelta(hours=2)

    def __post_init__(self) -> None:
        if not self.municipalities or OUTSIDE_AREA in self.municipalities:
            raise ValueError("the municipality list is empty or uses a reserved name")
        if self.max_attempts < 1 or self.escalate_after_working_days < 1 or self.retention_days < 1:
            raise ValueError("call attempts and escalation days must be at least 1")
        if self.urgent_taken_grace < timedelta(0):
            raise ValueError("the urgent requests' grace period cannot be negative")


@dataclass(frozen=True)
class RequestForm:
    """What a parent told the form; nothing else about them is kept."""

    parent_name: str
    phone: str
    email: str
    call_times: tuple[str, ...]
    language: str
    municipality: str
    child_birth_years: tuple[int, ...]
    topics: tuple[str, ...]
    other_parent_knows: str
    violence_or_fear: bool
    page_lang: str  # the language the parent read the form in

    @property
    def urgent(self) -> bool:
        """Violence or fear makes a request urgent."""
        return self.violence_or_fear


@dataclass(frozen=True)
class ContactRequest:
    id: int
    form: RequestForm
    created_at: datetime
    status: RequestStatus = RequestStatus.NEW
    version: int = 1
    taken_by: int | None = None
    taken_at: datetime | None = None
    attempts: int = 0
    first_call_at: datetime | None = None
    last_call_at: datetime | None = None
    reason: str = ""
    referred_to: str = ""
    judged_by: int | None = None
    judged_at: datetime | None = None
    case_id: int | None = None


# -- the form -------------------------------------------------------------------------------


def _one(raw: Mapping[str, str], key: str, allowed: Sequence[str]) -> str:
    value = raw.get(key, "").strip()
    if not value:
        raise errors.InvalidInput(key, "required")
    if value not in allowed:
        raise errors.InvalidInput(key, "unknown choice")
    return value


def _many(raw: Mapping[str, str], key: str, allowed: Sequence[str]) -> tuple[str, ...]:
    # A browser sends each ticked box as its own field; the page joins them with commas.
    values = tuple(dict.fromkeys(v.strip() for v in raw.get(key, "").split(",") if v.strip()))
    if any(v not in allowed for v in values):
        raise errors.InvalidInput(key, "unknown choice")
    return values


def _plain(raw: Mapping[str, str], key: str, limit: int) -> str:
    value = " ".join(raw.get(key, "").split())
    if len(value) > limit:
        raise errors.InvalidInput(key, "too long", limit=limit)
    if _CONTROL.search(value):
        raise errors.InvalidInput(key, "not text")
    if _IDENTITY_CODE.search(value):
        raise errors.InvalidInput(key, "identity codes are not stored")
    return value


def _visible(text: str) -> bool:
    """Whether ``text`` shows anything: zero-width and other format characters show nothing."""
    return any(not c.isspace() and unicodedata.category(c) != "Cf" for c in text)


def parse_contact_form(
    raw: Mapping[str, str], today: date, policy: FrontDoorPolicy, page_lang: str
) -> RequestForm:
    """Validate the whole form; every problem is reported at once, by field."""
    problems: dict[str, errors.InvalidInput] = {}

    def check(key: str, fn: Callable[[], _T], fallback: _T) -> _T:
        try:
            return fn()
        except errors.InvalidInput as exc:
            problems.setdefault(key, exc)
            return fallback

    def name() -> str:
        value = _plain(raw, "parent_name", NAME_LIMIT)
        if not _visible(value):
            raise errors.InvalidInput("parent_name", "required")
        return value

    def phone() -> str:
        value = _plain(raw, "phone", 30)
        digits = sum(c in "0123456789" for c in value)
        if value and (not _PHONE.match(value) or digits < PHONE_DIGITS):
            raise errors.InvalidInput("phone", "not a phone number")
        return value

    def email() -> str:
        value = _plain(raw, "email", EMAIL_LIMIT)
        if value and not _EMAIL.match(value):
            raise errors.InvalidInput("email", "not an e-mail address")
        return value

    def children() -> tuple[int, ...]:
        return parse_birth_years(_plain(raw, "children", CHILDREN_LIMIT), today)

    def topics() -> tuple[str, ...]:
        values = _many(raw, "topics", TOPICS)
        if not values:
            raise errors.InvalidInput("topics", "choose at least one topic")
        return values

    def consent() -> None:
        if raw.get("consent", "") != "yes":
            raise errors.InvalidInput("consent", "required")

    form = RequestForm(
        parent_name=check("parent_name", name, ""),
        phone=check("phone", phone, ""),
        email=check("email", email, ""),
        call_times=check("call_times", lambda: _many(raw, "call_times", CALL_TIMES), ()),
        language=check("language", lambda: _one(raw, "language", FAMILY_LANGUAGES), ""),
        municipality=check(
            "municipality",
            lambda: _one(raw, "municipality", (*policy.municipalities, OUTSIDE_AREA)),
            "",
        ),
        child_birth_years=check("children", children, ()),
        topics=check("topics", topics, ()),
        other_parent_knows=check(
            "other_parent_knows", lambda: _one(raw, "other_parent_knows", OTHER_PARENT_KNOWS), ""
        ),
        violence_or_fear=check("fear", lambda: _one(raw, "fear", YES_NO), "no") == "yes",
        page_lang=page_lang,
    )
    if "phone" not in problems and "email" not in problems and not (form.phone or form.email):
        problems["phone"] = errors.InvalidInput("phone", "a phone number or an e-mail is needed")
    check("consent", consent, None)
    if problems:
        raise errors.InvalidForm(problems)
    return form


# -- the queue's rules ----------------------------------------------------------------------


class AboutRequest(errors.DomainError):
    """A refusal about one request; the answer shows the request as it now is."""

    def __init__(self, request: ContactRequest, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.request = request


class StaleRequest(AboutRequest):
    """The clicked card showed an older state of the request."""

    key = "request.error.stale"

    def __init__(self, request: ContactRequest) -> None:
        super().__init__(request, f"request {request.id} has changed since the card was shown")


class RequestClosed(AboutRequest):
    key = "request.error.closed"

    def __init__(self, request: ContactRequest) -> None:
        super().__init__(
            request, f"request {request.id} is already judged ({request.status.value})"
        )


class NotJudgedYet(AboutRequest):
    """A case is made only of a request judged suitable."""

    key = "request.error.not_judged"

    def __init__(self, request: ContactRequest) -> None:
        super().__init__(request, f"request {request.id} is not judged suitable yet")


class TakenByAnother(AboutRequest):
    key = "request.error.taken"

    def __init__(self, request: ContactRequest) -> None:
        super().__init__(request, f"request {request.id} is taken by another coordinator")


class TooFewAttempts(AboutRequest):
    key = "request.error.too_few_attempts"

    def __init__(self, request: ContactRequest, needed: int) -> None:
        super().__init__(
            request,
            f"no answer needs {needed} call attempts, {request.attempts} recorded",
            needed=needed,
            made=request.attempts,
        )


class CoordinatorsOnly(errors.DomainError):
    """Requests hold a family's contact details: only coordinators see or handle them."""

    key = "request.error.coordinators_only"

    def __init__(self) -> None:
        super().__init__("only a coordinator may see or handle contact requests")


class RequestNotFound(errors.NotFound):
    key = "request.error.not_found"

    def __init__(self, request_id: object) -> None:
        super().__init__(f"request {request_id} does not exist")


def check_request_current(request: ContactRequest, shown_version: int | None) -> None:
    """A click must act on the request as its card showed it; a button that does not say
    which version it showed (data made by hand) never does."""
    if shown_version is None or shown_version != request.version:
        raise StaleRequest(request)


def require_in_queue(request: ContactRequest) -> None:
    """A judged request takes no more actions."""
    if request.status not in (RequestStatus.NEW, RequestStatus.TAKEN):
        raise RequestClosed(request)


def take(request: ContactRequest, me: int, now: datetime) -> ContactRequest:
    """One coordinator says they will call; taking what you hold changes nothing."""
    require_in_queue(request)
    if request.taken_by == me:
        return request
    if request.taken_by is not None:
        raise TakenByAnother(request)
    return dataclasses.replace(request, status=RequestStatus.TAKEN, taken_by=me, taken_at=now)


def take_over(request: ContactRequest, me: int, now: datetime) -> ContactRequest:
    """Another coordinator may take over a request someone holds: it is theirs from now."""
    require_in_queue(request)
    if request.taken_by is None or request.taken_by == me:
        return take(request, me, now)
    return dataclasses.replace(request, taken_by=me, taken_at=now)


def waiting_since(request: ContactRequest) -> datetime | None:
    """When the family's wait for a call began: the request's arrival while nobody has taken
    it, the taking while its taker has recorded no call; None once a call is recorded or the
    request is judged."""
    if request.status is RequestStatus.NEW:
        return request.created_at
    if request.status is RequestStatus.TAKEN and request.first_call_at is None:
        return request.taken_at or request.created_at
    return None


def in_taken_grace(request: ContactRequest, now: datetime, policy: FrontDoorPolicy) -> bool:
    """An urgent request taken less than the grace period ago, its taker's call not yet
    recorded: the taker is calling, and the other coordinators are not alarmed yet."""
    return (
        request.form.urgent
        and request.status is RequestStatus.TAKEN
        and request.first_call_at is None
        and request.taken_at is not None
        and now < request.taken_at + policy.urgent_taken_grace
    )


def is_overdue(
    request: ContactRequest,
    today: date,
    policy: FrontDoorPolicy,
    is_holiday: Callable[[date], bool],
    local_date: Callable[[datetime], date],
) -> bool:
    """A family waiting for a call is escalated: urgent at once, others after N working days.

    An urgent request just taken waits out its grace period first (``in_taken_grace``)."""
    since = waiting_since(request)
    if since is None:
        return False
    if request.form.urgent:
        return True
    waited = working_days_after(local_date(since), today, is_holiday)
    return waited >= policy.escalate_after_working_days


def _holder(request: ContactRequest, me: int, now: datetime) -> ContactRequest:
    """Acting on an untaken request takes it; another's request is theirs to act on."""
    return take(request, me, now)


def record_attempt(request: ContactRequest, me: int, now: datetime) -> ContactRequest:
    """A call attempt counts for the request; the first one starts the time to first call."""
    held = _holder(request, me, now)
    return dataclasses.replace(
        held,
        attempts=held.attempts + 1,
        first_call_at=held.first_call_at or now,
        last_call_at=now,
    )


def judge_suitable(request: ContactRequest, me: int, now: datetime) -> ContactRequest:
    """Suitable: the intake opens; the request stays in the queue until its case is saved."""
    held = _holder(request, me, now)
    return dataclasses.replace(
        held,
        status=RequestStatus.SUITABLE,
        judged_by=me,
        judged_at=now,
        first_call_at=held.first_call_at or now,
    )


def judge_not_suitable(
    request: ContactRequest, me: int, now: datetime, reason: str, referred_to: str
) -> ContactRequest:
    """Not suitable needs a reason code and where the family was referred."""
    problems = {}
    if reason not in NOT_SUITABLE_REASONS:
        problems["reason"] = errors.InvalidInput("reason", "unknown choice")
    if referred_to not in REFERRALS:
        problems["referred_to"] = errors.InvalidInput("referred_to", "unknown choice")
    if problems:
        raise errors.InvalidForm(problems)
    held = _holder(request, me, now)
    return dataclasses.replace(
        held,
        status=RequestStatus.NOT_SUITABLE,
        reason=reason,
        referred_to=referred_to,
        judged_by=me,
        judged_at=now,
        first_call_at=held.first_call_at or now,
    )


def close_no_answer(
    request: ContactRequest, me: int, now: datetime, policy: FrontDoorPolicy
) -> ContactRequest:
    """No answer may be recorded only after the set number of call attempts."""
    held = _holder(request, me, now)
    if held.attempts < policy.max_attempts:
        raise TooFewAttempts(held, policy.max_attempts)
    return dataclasses.replace(held, status=RequestStatus.NO_ANSWER, judged_by=me, judged_at=now)


def same_family(request: ContactRequest, me: int, now: datetime, case_id: int) -> ContactRequest:
    """The other parent's request of a family already in a case joins that case."""
    held = _holder(request, me, now)
    return dataclasses.replace(
        held,
        status=RequestStatus.SUITABLE,
        judged_by=me,
        judged_at=now,
        first_call_at=held.first_call_at or now,
        case_id=case_id,
    )


def require_suitable(request: ContactRequest) -> None:
    """Only a request judged suitable, and not yet a case, becomes a case."""
    if request.status in (RequestStatus.NEW, RequestStatus.TAKEN):
        raise NotJudgedYet(request)
    if request.status is not RequestStatus.SUITABLE or request.case_id is not None:
        raise RequestClosed(request)


def link_case(request: ContactRequest, case_id: int) -> ContactRequest:
    """A suitable request ends in its case; it is linked once."""
    require_suitable(request)
    return dataclasses.replace(request, case_id=case_id)


def intake_values(request: ContactRequest) -> dict[str, object]:
    """The intake form's fields that the request already answers."""
    form = request.form
    values: dict[str, object] = {
        "children": ", ".join(str(y) for y in form.child_birth_years),
        "topics": ",".join(form.topics),
        "referral_source": "self",
        "safety_concern": form.violence_or_fear,
        "parent1_name": form.parent_name,
        "parent1_phone": form.phone,
        "parent1_email": form.email,
    }
    if form.municipality != OUTSIDE_AREA:
        values["area"] = form.municipality
    if form.language in ("fi", "sv"):
        values["language"] = form.language
    elif form.language in ("en", "other"):
        # The intake knows Finnish, Swedish or another language with an interpreter; the
        # prefilled form says when English was the parent's choice.
        values["language"] = "other"
        values["interpreter"] = True
    return values


def working_days_after(start: date, end: date, is_holiday: Callable[[date], bool]) -> int:
    """The working days (Monday to Friday, no public holiday) after ``start`` up to ``end``."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if day.weekday() < 5 and not is_holiday(day):
            count += 1
    return count


# -- the year's figures -----------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFigures:
    """The contact requests of one year, for the bank's joint meetings."""

    year: int
    per_month: tuple[int, ...]  # January to December, by the day the request came
    urgent: int
    waiting: int  # not judged yet
    suitable: int
    not_suitable: Mapping[str, int]  # reason code -> requests
    no_answer: int
    days_to_first_call: float | None  # median, of the requests called
    days_to_first_meeting: float | None  # median, of the requests whose case has met

    @property
    def total(self) -> int:
        return sum(self.per_month)

    @property
    def suitable_share(self) -> float | None:
        """Of the requests judged, the share judged suitable."""
        judged = self.suitable + sum(self.not_suitable.values()) + self.no_answer
        return self.suitable / judged if judged else None


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def request_figures(
    year: int,
    requests: Sequence[ContactRequest],
    first_meetings: Mapping[int, datetime],
    local_date: Callable[[datetime], date],
) -> RequestFigures:
    """Count a year's requests by month and result; time to first call and to first meeting."""
    mine = [r for r in requests if local_date(r.created_at).year == year]
    per_month = [0] * 12
    reasons: dict[str, int] = {}
    for request in mine:
        per_month[local_date(request.created_at).month - 1] += 1
        if request.status is RequestStatus.NOT_SUITABLE:
            reasons[request.reason] = reasons.get(request.reason, 0) + 1
    day = 86400.0
    to_call = [
        (r.first_call_at - r.created_at).total_seconds() / day for r in mine if r.first_call_at
    ]
    to_meeting = [
        (first_meetings[r.case_id] - r.created_at).total_seconds() / day
        for r in mine
        if r.case_id is not None and r.case_id in first_meetings
    ]
    return RequestFigures(
        year=year,
        per_month=tuple(per_month),
        urgent=sum(r.form.urgent for r in mine),
        waiting=sum(r.status in (RequestStatus.NEW, RequestStatus.TAKEN) for r in mine),
        suitable=sum(r.status is RequestStatus.SUITABLE for r in mine),
        not_suitable=reasons,
        no_answer=sum(r.status is RequestStatus.NO_ANSWER for r in mine),
        days_to_first_call=_median(to_call),
        days_to_first_meeting=_median(to_meeting),
    )


# -- the port -------------------------------------------------------------------------------


class RequestLinks(Protocol):
    """Requests inside a unit of work: a change joins the transaction of the case it names."""

    async def save(self, request: ContactRequest, expected_version: int) -> bool:
        """Stage the change if the request is still at ``expected_version`` (then +1)."""
        ...


class RequestStore(Protocol):
    """Where requests are kept; every method is its own transaction."""

    async def add(self, form: RequestForm, now: datetime, form_id: str) -> ContactRequest | None:
        """Store a new request; None when the same form (``form_id``) was stored already."""
        ...

    async def get(self, request_id: int) -> ContactRequest | None: ...

    async def queue(self) -> list[ContactRequest]:
        """Requests not yet judged, or judged suitable and waiting for their case; oldest first."""
        ...

    async def save(self, request: ContactRequest, expected_version: int) -> bool:
        """Store the change if the request is still at ``expected_version`` (then +1)."""
        ...

    async def count_since(self, since: datetime) -> int: ...

    async def received_between(self, start: datetime, end: datetime) -> list[ContactRequest]:
        """Every request received in [start, end), for the year's figures."""
        ...

    async def first_meetings(self, case_ids: Sequence[int]) -> dict[int, datetime]:
        """The start of each case's first meeting that was not cancelled."""
        ...

    async def erase_unlinked(self, before: datetime) -> int:
        """Erase judged requests received before ``before`` that never became a case."""
        ...

    async def forget_details_of_cases(self, case_ids: Sequence[int]) -> int:
        """Blank the name and contact details of the requests linked to these cases."""
        ...
