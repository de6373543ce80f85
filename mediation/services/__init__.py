"""The bank's use cases: each takes its ports as arguments and commits once.

A use case loads what it needs inside one unit of work, lets the model and the rules
decide, writes the audit trail, commits, and only then notifies people. If someone else
changed the same case meanwhile, the whole decision is taken again on fresh data, so the
loser of a race gets the rule that now refuses them ("seat 2 is already taken").
"""

from mediation.model import Role
from mediation.services.common import CaseResult, actor, quota_usage
from mediation.services.lifecycle import (
    CancelCase,
    CaseStep,
    CloseCase,
    RegisterCase,
    begin_follow_up,
    cancel_case,
    clear_safety_concern,
    close_case,
    may_register,
    register_case,
    start_case,
)
from mediation.services.network import UpdateOrganisation, network, update_organisation
from mediation.services.reads import (
    QuotaReport,
    ViewDetails,
    assignable,
    case_summary,
    my_cases,
    my_quota,
    open_cases,
    summary_of,
    view_details,
    worked_together,
    workload,
)
from mediation.services.registry import (
    ImportReport,
    UpdateMediator,
    import_registry,
    list_registry,
    update_mediator,
)
from mediation.services.seats import (
    AssignSeat,
    ClaimSeat,
    ReleaseSeat,
    assign_seat,
    claim_seat,
    release_seat,
)

__all__ = [
    "AssignSeat",
    "CancelCase",
    "CaseResult",
    "CaseStep",
    "ClaimSeat",
    "CloseCase",
    "ImportReport",
    "QuotaReport",
    "RegisterCase",
    "ReleaseSeat",
    "Role",
    "UpdateMediator",
    "UpdateOrganisation",
    "ViewDetails",
    "actor",
    "assign_seat",
    "assignable",
    "begin_follow_up",
    "cancel_case",
    "case_summary",
    "claim_seat",
    "clear_safety_concern",
    "close_case",
    "import_registry",
    "list_registry",
    "may_register",
    "my_cases",
    "my_quota",
    "network",
    "open_cases",
    "quota_usage",
    "register_case",
    "release_seat",
    "start_case",
    "summary_of",
    "update_mediator",
    "update_organisation",
    "view_details",
    "worked_together",
    "workload",
]
