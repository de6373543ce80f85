"""The public pages' form nonces: made for one purpose, by one key, and not too old."""

from __future__ import annotations

from bot.signing import NONCE_LIMIT, form_id, make_nonce, nonce_ok

KEY = b"k" * 48
NOW = 1_790_000_000.0


def test_a_fresh_nonce_is_good_for_its_own_purpose_only() -> None:
    nonce = make_nonce(KEY, "contact-form", NOW)
    assert nonce_ok(KEY, "contact-form", nonce, NOW + 60, 3600)
    assert not nonce_ok(KEY, "feedback-form|t1", nonce, NOW + 60, 3600)
    assert not nonce_ok(b"x" * 48, "contact-form", nonce, NOW + 60, 3600)


def test_an_old_or_future_nonce_is_refused() -> None:
    nonce = make_nonce(KEY, "contact-form", NOW)
    assert not nonce_ok(KEY, "contact-form", nonce, NOW + 3601, 3600)
    assert not nonce_ok(KEY, "contact-form", nonce, NOW - 1, 3600)


def test_forged_and_malformed_nonces_are_refused_without_an_error() -> None:
    stamp, salt, signature = make_nonce(KEY, "p", NOW).split(".")
    for bad in (
        "",
        "...",
        f"{stamp}.{salt}",
        f"{int(NOW) + 1}.{salt}.{signature}",
        f"{stamp}.{salt}x.{signature}",
        f"١٢٣.{salt}.{signature}",  # digits, but not ASCII ones
        f"{stamp}.{salt}.{signature}\udcff",
        f"{stamp}.{'a' * NONCE_LIMIT}.{signature}",
    ):
        assert not nonce_ok(KEY, "p", bad, NOW, 3600), bad


def test_the_form_id_is_a_hash_not_the_nonce() -> None:
    nonce = make_nonce(KEY, "p", NOW)
    assert form_id(nonce) == form_id(nonce) != form_id(make_nonce(KEY, "p", NOW))
    assert nonce not in form_id(nonce) and len(form_id(nonce)) == 64
    assert len(form_id("ä\udcff")) == 64
