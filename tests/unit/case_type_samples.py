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
        errors.NotAllowed("filling a seat", "the case's type fills it another way"),
        errors.NotAllowed("approving an exception", "someone else must approve it"),
        errors.NotAllowed("approving an exception", "only a coordinator may do this"),
        errors.NotAllowed("viewing the family's details", "not for this case's type"),
    ]
