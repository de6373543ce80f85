"""Domain errors: each names what was tried and why not, with the numbers a user needs.

Every error carries a catalog key and parameters so the Teams layer can say it in the
user's language; ``str(error)`` is an English sentence for logs and tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # views imports the model, which imports this module
    from mediation.views import CaseSummary


class DomainError(Exception):
    """A rule of the bank refused an action; nothing was changed."""

    key = "error.generic"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.params: dict[str, Any] = params
        # The case as the refusing use case read it, when it had one: the answer shows it
        # with the reason, without reading it again.
        self.case: CaseSummary | None = None

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFound(DomainError):
    key = "error.not_found"


class CaseNotFound(NotFound):
    key = "error.case_not_found"

    def __init__(self, case_id: object) -> None:
        super().__init__(f"case {case_id} does not exist", case_id=case_id)


class MediatorNotFound(NotFound):
    key = "error.mediator_not_found"

    def __init__(self, mediator_id: object) -> None:
        super().__init__(f"mediator {mediator_id} is not in the registry", mediator_id=mediator_id)


class NotActive(DomainError):
    """The acting user is in the registry but not active: as one who has left the bank."""

    key = "error.not_active"

    def __init__(self, coordinators: list[str]) -> None:
        names = ", ".join(coordinators) or "-"
        super().__init__(
            f"your registry entry is not active; ask a coordinator ({names})",
            coordinators=names,
        )


class LastCoordinator(DomainError):
    """A change would leave the bank without an active coordinator."""

    key = "error.last_coordinator"

    def __init__(self) -> None:
        super().__init__("the bank must keep at least one active coordinator")


class NotInRegistry(DomainError):
    """The acting user is not a registered mediator or coordinator."""

    key = "error.not_in_registry"

    def __init__(self, coordinators: list[str]) -> None:
        names = ", ".join(coordinators) or "-"
        super().__init__(
            f"you are not in the mediator registry; ask a coordinator ({names})",
            coordinators=names,
        )


class NotAllowed(DomainError):
    """The actor's role does not allow the action."""

    key = "error.not_allowed"

    def __init__(self, action: str, why: str) -> None:
        super().__init__(f"{action} is not allowed: {why}", action=action, why=why)


class BookerNotAllowed(DomainError):
    """A booker books the first meetings of paired cases, and may do nothing else."""

    key = "error.booker_only"

    def __init__(self) -> None:
        super().__init__("a booker may only book the first individual meetings (command: book)")


class BookerFirstMeetingsOnly(DomainError):
    """A booker books only a parent's first individual meeting, once the pair is complete."""

    key = "error.booker_first_meetings"

    def __init__(self, code: str) -> None:
        super().__init__(
            f"case {code}: a booker books only the parents' first individual meetings, "
            "once the pair is complete",
            code=code,
        )


class BookingDeskOnly(DomainError):
    """The list of cases to book is for the bookers and the coordinators."""

    key = "error.booking_desk_only"

    def __init__(self) -> None:
        super().__init__("only a booker or a coordinator books from the list of cases to book")


class BookerHoldsNoSeat(DomainError):
    """A booker is not a mediator: no seat may be given to them."""

    key = "error.booker_no_seat"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is a booker and holds no seat", name=name)


class IllegalTransition(DomainError):
    key = "error.illegal_transition"

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"cannot {action} a case that is {status}", action=action, status=status)


class SeatTaken(DomainError):
    key = "error.seat_taken"

    def __init__(self, seat: int, holder: str) -> None:
        super().__init__(f"seat {seat} is already taken by {holder}", seat=seat, holder=holder)


class NoFreeSeat(DomainError):
    key = "error.no_free_seat"

    def __init__(self, code: str) -> None:
        super().__init__(f"case {code} has no free seat", code=code)


class StaleCard(DomainError):
    """The card clicked showed the case as it no longer is, in what the action is about."""

    key = "error.stale_seat"

    def __init__(self, code: str, *, status: str | None = None, seat: int | None = None) -> None:
        if status is not None:
            self.key = "error.stale_status"
            text = f"case {code} is {status} now, which its card did not show"
        elif seat is not None:
            text = f"seat {seat} of case {code} changed since its card was shown"
        else:
            # The button does not say what its card showed (a card drawn before buttons
            # carried it, or data made by hand): it cannot be told current, so it is not.
            self.key = "error.stale_card"
            text = f"the card of case {code} does not say which version of it it showed"
        super().__init__(text, code=code, status=status, seat=seat)


class NotSeatHolder(DomainError):
    key = "error.not_seat_holder"

    def __init__(self, code: str) -> None:
        super().__init__(f"you hold no seat on case {code}", code=code)


class NeedsExperienced(DomainError):
    key = "error.needs_experienced"

    def __init__(self, partner: str) -> None:
        super().__init__(
            f"the other seat holder ({partner}) is new: this seat needs an experienced mediator",
            partner=partner,
        )


class SameMediatorTwice(DomainError):
    key = "error.same_mediator_twice"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} already holds the other seat of this case", name=name)


class SameEmployer(DomainError):
    """A case type that wants its holders from different employers got two of one."""

    key = "error.same_employer"

    def __init__(self, name: str, employer: str) -> None:
        super().__init__(
            f"{name} works for {employer}, like another holder of this case",
            name=name,
            employer=employer,
        )


class OrganisationOutOfNetwork(DomainError):
    """The mediator's organisation is outside its agreement period: no new seats."""

    key = "error.organisation_out_of_network"

    def __init__(self, name: str, organisation: str) -> None:
        super().__init__(
            f"{name}'s organisation {organisation} is not in the network now",
            name=name,
            organisation=organisation,
        )


class NotQualified(DomainError):
    key = "error.not_qualified"

    def __init__(self, name: str, role: str, missing: str) -> None:
        super().__init__(
            f"{name} lacks what a {role} seat needs ({missing})",
            name=name,
            role=role,
            missing=missing,
        )


class ConsentMissing(DomainError):
    """A step of the case waits for the family's recorded consent (or an approved exception)."""

    key = "error.consent_missing"

    def __init__(self, code: str, step: str) -> None:
        super().__init__(f"case {code}: {step} needs the family's consent", code=code, step=step)


class ConsentExceptionPending(DomainError):
    key = "error.consent_exception_pending"

    def __init__(self, code: str, step: str) -> None:
        super().__init__(
            f"case {code}: the exception to consent for {step} waits for a coordinator's approval",
            code=code,
            step=step,
        )


class NotInvited(DomainError):
    key = "error.not_invited"

    def __init__(self, code: str) -> None:
        super().__init__(f"you have no open invitation to case {code}", code=code)


class AlreadyAnswered(DomainError):
    key = "error.already_answered"

    def __init__(self, code: str, answer: str) -> None:
        super().__init__(
            f"the invitation to case {code} is {answer} already", code=code, answer=answer
        )


class InvitationDeclined(DomainError):
    key = "error.invitation_declined"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} declined this case already: invite someone else", name=name)


class CompetencesMissing(DomainError):
    """A common time is booked only when someone has accepted for each competence asked."""

    key = "error.competences_missing"

    def __init__(self, code: str, missing: str) -> None:
        super().__init__(
            f"case {code}: nobody has accepted for {missing}", code=code, missing=missing
        )


class NotPublicService(DomainError):
    key = "error.not_public_service"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name} does not work in a public service: a responsible worker must", name=name
        )


class QuotaExceeded(DomainError):
    key = "error.quota_term"

    def __init__(self, scope: str, used: int, limit: int, name: str = "you") -> None:
        # scope is a term name ("spring", "autumn") or "year".
        if scope == "year":
            self.key = "error.quota_year"
            text = f"{name} have {used} of {limit} this year"
        else:
            text = f"{name} have {used} of {limit} this {scope}"
        super().__init__(text, scope=scope, used=used, limit=limit, name=name)


class MediatorAway(DomainError):
    key = "error.mediator_away"

    def __init__(self, name: str, until: str) -> None:
        super().__init__(f"{name} is marked away until {until}", name=name, until=until)


class MediatorInactive(DomainError):
    key = "error.mediator_inactive"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not active in the bank", name=name)


class LanguageMismatch(DomainError):
    key = "error.language_mismatch"

    def __init__(self, name: str, language: str) -> None:
        super().__init__(
            f"{name} does not speak the family's language ({language}) and no interpreter "
            "is booked",
            name=name,
            language=language,
        )


class OverrideReasonRequired(DomainError):
    key = "error.override_reason_required"

    def __init__(self, scope: str, used: int, limit: int) -> None:
        super().__init__(
            f"assigning over the quota ({used} of {limit}, {scope}) needs a reason",
            scope=scope,
            used=used,
            limit=limit,
        )


class MeetingsOutOfOrder(DomainError):
    """A meeting its case type's order rules hold back; the pair's rule is said as it reads."""

    key = "error.individual_meetings_first"

    def __init__(self, after: str | None = None) -> None:
        if after is None:
            super().__init__(
                "a joint meeting needs both parents' individual meetings recorded as held"
            )
            return
        self.key = "error.meeting_order"
        super().__init__(f"this meeting needs the {after} meeting recorded as held", after=after)


class SafetyConcernOpen(DomainError):
    key = "error.safety_concern_open"

    def __init__(self) -> None:
        super().__init__(
            "a safety concern is open: joint meetings wait until a coordinator clears it"
        )


class PackageFull(DomainError):
    key = "error.package_full"

    def __init__(self, size: int) -> None:
        super().__init__(f"the package already has {size} meetings", size=size)


class UnmarkedForm(DomainError):
    """A form sent without the id its card gave it: sent twice, it could be done twice."""

    key = "error.unmarked_form"

    def __init__(self) -> None:
        super().__init__("a form without its form id")


class InvalidInput(DomainError):
    """Input from a form or file that does not fit; ``field`` names the input."""

    key = "error.invalid_input"

    def __init__(self, field: str, problem: str, **params: Any) -> None:
        super().__init__(f"{field}: {problem}", field=field, problem=problem, **params)


class ConcurrentChange(Exception):
    """Someone changed the same case or seat between our read and our write.

    Raised by a unit of work's save; use cases retry on it so the loser of a race sees
    the refreshed state and the rule that now refuses them.
    """


class InvalidForm(DomainError):
    """Several inputs of one form do not fit; ``problems`` maps each field to its error."""

    key = "error.invalid_form"

    def __init__(self, problems: dict[str, InvalidInput]) -> None:
        fields = ", ".join(problems)
        super().__init__(f"please check: {fields}", fields=fields)
        self.problems = problems


class ShiftRefused(DomainError):
    """A walk-in shift, phone hour or swap of shifts refused (mediation/walk_in.py); the
    ``reason`` ends the catalog key: ``error.shift.<reason>``."""

    key = "error.shift"

    def __init__(self, reason: str, message: str, **params: Any) -> None:
        super().__init__(message, reason=reason, **params)
        self.key = f"error.shift.{reason}"
