"""Sopu's secret key and the HMAC signatures made with it (download links, form nonces)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

KEY_FILE = "secret_key"


def secret_key(settings: Settings) -> bytes:
    """SOPU_SECRET_KEY, or in development a key generated once and kept in var_dir.

    Production refuses to start without SOPU_SECRET_KEY (Settings.validate), so a key
    file is never what protects a real deployment.
    """
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    if settings.production:
        raise SettingsError("SOPU_SECRET_KEY is needed in production")
    path = Path(settings.var_dir) / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting together keep the first one's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48))
            log.warning("generated a development secret key in %s", path)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise SettingsError(f"{path} holds no usable key; delete it to make a new one")
    return key.encode("ascii")


def sign(key: bytes, message: str) -> str:
    """A URL-safe HMAC-SHA256 of the message."""
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def verify(key: bytes, message: str, signature: str) -> bool:
    """Constant-time comparison of a signature with the one the message should have.

    Compared as bytes: compare_digest refuses a str with characters outside ASCII, and a
    signature from a URL or a form can hold anything.
    """
    if not isinstance(signature, str):
        return False
    given = signature.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(sign(key, message).encode("ascii"), given)


# -- form nonces -----------------------------------------------------------------------------
#
# A public page's form carries a signed nonce: the moment it was shown, a random salt, and a
# signature over both and the form's purpose. It proves the form came from Sopu lately,
# without a session; its hash is the form's identity for the double-submit check.

NONCE_LIMIT = 120  # characters; a real nonce is about 70


def make_nonce(key: bytes, purpose: str, now: float) -> str:
    stamp = str(int(now))
    salt = secrets.token_urlsafe(12)
    return f"{stamp}.{salt}.{sign(key, f'{purpose}|{stamp}|{salt}')}"


def nonce_ok(key: bytes, purpose: str, nonce: str, now: float, max_age: float) -> bool:
    """Whether the nonce was made for this purpose, by this key, at most max_age ago."""
    parts = nonce.split(".")
    if len(parts) != 3 or not (parts[0].isascii() and parts[0].isdigit()):
        return False
    if len(nonce) > NONCE_LIMIT:
        return False
    stamp, salt, signature = parts
    if not 0 <= now - int(stamp) <= max_age:
        return False
    return verify(key, f"{purpose}|{stamp}|{salt}", signature)


def form_id(nonce: str) -> str:
    """The form's identity for the double-submit check: a hash, never the nonce itself."""
    return hashlib.sha256(nonce.encode("ascii", "replace")).hexdigest()
