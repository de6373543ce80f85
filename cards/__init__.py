"""Adaptive Card builders for Sopu: pure functions from view data to card dicts, in fi/sv/en."""

from cards.case import (
    case_card,
    case_posted_card,
    details_card,
    my_cases_card,
    pair_complete_card,
    read_card_snapshot,
    seat_released_card,
)
from cards.commands import COMMANDS, parse_command
from cards.i18n import Lang, error_text, form_problems, lang_of, t
from cards.intake import intake_form
from cards.mediators import MediatorUpdate, quota_card, read_mediator_update, registry_card
from cards.messages import error_card, help_card, language_card, notice_card, setup_done_card

__all__ = [
    "COMMANDS",
    "Lang",
    "MediatorUpdate",
    "case_card",
    "case_posted_card",
    "details_card",
    "error_card",
    "error_text",
    "form_problems",
    "help_card",
    "intake_form",
    "lang_of",
    "language_card",
    "my_cases_card",
    "notice_card",
    "pair_complete_card",
    "parse_command",
    "quota_card",
    "read_card_snapshot",
    "read_mediator_update",
    "registry_card",
    "seat_released_card",
    "setup_done_card",
    "t",
]
