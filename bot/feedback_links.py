"""The feedback page's addresses and their QR codes, as cards show them to be handed over."""

from __future__ import annotations

import segno

from cards.common_time_feedback import FamilyLinkShown
from mediation.common_time_views import CommonTimeView
from mediation.policy import BankPolicy


def qr_data_uri(url: str) -> str:
    """A PNG QR code of the URL as a data: URI, small enough for a card."""
    return str(segno.make(url, error="m").png_data_uri(scale=6, border=2))


def client_url(base_url: str, token: str) -> str:
    return f"{base_url}/feedback/{token}"


def family_link_shown(
    view: CommonTimeView, base_url: str, policy: BankPolicy
) -> FamilyLinkShown | None:
    """The family's feedback link of a common time, when the view holds one (the convener's)."""
    link = view.family_link
    if link is None:
        return None
    url = client_url(base_url, link.token)
    return FamilyLinkShown(url, qr_data_uri(url), policy.local_date(link.expires_at))
