"""One of each refusal that a case type's declaration adds to the bank's rules."""

from __future__ import annotations

from mediation import errors


def case_type_errors() -> list[errors.DomainError]:
    return [
        errors.SameEmployer("Aino Virtanen", "Kerava"),
        errors.OrganisationOutOfNetwork("Aino Virtanen", "Kerava"),
        errors.NotQualified("Aino Virtanen", "speech_therapist", "speech_therapy"),
        errors.ConsentMissing("2026-003", "convene"),
        errors.ConsentExceptionPending("2026-003", "share_plan"),
        errors.MeetingsOutOfOrder("common_time"),
        errors.NotInvited("2026-T01"),
        errors.AlreadyAnswered("2026-T01", "declined"),
        errors.InvitationDeclined("Aino Virtanen"),
        errors.CompetencesMissing("2026-T01", "speech_therapy"),
        errors.NotPublicService("Aino Virtanen"),
        errors.NotAllowed("recording consent", "only the convener"),
        errors.NotAllowed("recording the plan", "only the convener"),
        errors.NotAllowed("reading the plan", "only the family's agreed parties"),
        errors.NotAllowed("booking the follow-up", "only the responsible worker"),
        errors.NotAllowed("following up the plan", "only the responsible worker"),
        errors.NotAllowed("closing a case", "only the responsible worker"),
        errors.NotAllowed("cancelling a case", "only the convener"),
        errors.NotAllowed("filling a seat", "the case's type fills it another way"),
        errors.NotAllowed("approving an exception", "someone else must approve it"),
        errors.NotAllowed("approving an exception", "only a coordinator may do this"),
        errors.NotAllowed("viewing the family's details", "not for this case's type"),
    ]
