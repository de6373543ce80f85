from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mediation.policy import BankPolicy, TermSpec


def test_default_terms_are_spring_and_autumn() -> None:
    p = BankPolicy()
    assert p.term_of(date(2026, 6, 30)).name == "spring"
    assert p.term_of(date(2026, 7, 1)).name == "autumn"
    autumn = p.term_of(date(2026, 12, 31))
    assert (autumn.start, autumn.end) == (date(2026, 7, 1), date(2027, 1, 1))
    assert p.term_quota(autumn) == 2 and p.year_quota == 4


def test_term_follows_helsinki_date_not_utc() -> None:
    # 22:30 UTC on 30 June is already 1 July in Helsinki (UTC+3 in summer).
    p = BankPolicy()
    assert p.term_of(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)).name == "autumn"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        BankPolicy().term_of(datetime(2026, 1, 1))


def test_terms_must_cover_the_year() -> None:
    with pytest.raises(ValueError, match="twelve months"):
        BankPolicy(terms=(TermSpec("spring", 1, 5, 2), TermSpec("autumn", 7, 12, 2)))


def test_custom_terms() -> None:
    p = BankPolicy(terms=(TermSpec("kevät", 1, 5, 3), TermSpec("syksy", 6, 12, 1)), year_quota=4)
    assert p.term_of(date(2026, 6, 1)).name == "syksy"
    assert p.term_quota(p.term_of(date(2026, 2, 1))) == 3
