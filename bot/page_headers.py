"""The security headers of Sopu's public pages (no scripts; only their own inline CSS)."""

from __future__ import annotations

import base64
import hashlib


def page_headers(css: str) -> dict[str, str]:
    """Headers that let a page use exactly its own ``css`` and nothing else from anywhere."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; "
        f"style-src 'sha256-{digest}'; "
        "img-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # A token may be in the address: it must not travel on to any other site.
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
