from __future__ import annotations

import pytest

from graph.model import Level, PDate, Role, default_rank, to_ordinal


def test_partial_dates_keep_their_precision() -> None:
    assert (PDate("2019").precision, PDate("2019-03").precision, PDate("2019-03-05").precision) == (
        "year",
        "month",
        "day",
    )
    assert str(PDate("2019-03")) == "2019-03"
    assert to_ordinal("2019-03") == to_ordinal("2019-03-01")
    with pytest.raises(ValueError):
        PDate("2019-02-30")
    with pytest.raises(ValueError):
        PDate("03/2019")


def test_default_rank_and_labels() -> None:
    assert default_rank(Level.county, Role.secretary) == 35
    assert default_rank(Level.village, Role.staff) == 10
    assert Level.parse("乡镇") is Level.township and Level.township.zh == "乡镇"
    assert not Role.staff.one_holder and Role.discipline_secretary.one_holder
