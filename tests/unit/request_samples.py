"""Sample contact requests for the unit tests, and one of each of their refusals."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from mediation.errors import DomainError
from mediation.requests import (
    AboutRequest,
    ContactRequest,
    CoordinatorsOnly,
    NotJudgedYet,
    RequestClosed,
    RequestForm,
    RequestNotFound,
    RequestStatus,
    StaleRequest,
    TakenByAnother,
    TooFewAttempts,
)

RECEIVED = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # a Monday

FORM = RequestForm(
    parent_name="Maija Meikäläinen",
    phone="040 123 4567",
    email="maija@example.org",
    call_times=("morning",),
    language="fi",
    municipality="Kerava",
    child_birth_years=(2016, 2019),
    topics=("residence", "contact"),
    other_parent_knows="yes",
    violence_or_fear=False,
    page_lang="fi",
)


def sample(request_id: int = 7, **changes: Any) -> ContactRequest:
    form_changes = {k: changes.pop(k) for k in list(changes) if hasattr(FORM, k)}
    form = dataclasses.replace(FORM, **form_changes)
    return dataclasses.replace(ContactRequest(request_id, form, RECEIVED), **changes)


def request_errors() -> list[DomainError]:
    taken = sample(status=RequestStatus.TAKEN, taken_by=2)
    return [
        AboutRequest(taken, "request 1 cannot be handled now"),
        StaleRequest(taken),
        RequestClosed(sample(status=RequestStatus.NO_ANSWER)),
        NotJudgedYet(taken),
        TakenByAnother(taken),
        TooFewAttempts(sample(attempts=1), 3),
        RequestNotFound(99),
        CoordinatorsOnly(),
    ]
