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


def test_a_tenure_made_again_from_its_values_is_the_same_tenure() -> None:
    """``tenure_from_values`` skips validation (the values come from a tenure): the result
    must behave as the validated one does, frozen, hashable, copyable and pickled."""
    import pickle

    from pydantic import ValidationError

    from graph.model import Tenure, tenure_from_values, tenure_values

    tenure = Tenure(
        id="U1|P1|2015-01", person_id="U1", position_id="P1", start="2015-01", end=None,
        opened_by="X1", open_kind="appoint",
    )  # fmt: skip
    again = tenure_from_values(tenure_values(tenure))
    assert again == tenure and hash(again) == hash(tenure) and again.model_dump() == tenure.model_dump()
    assert (again.start_ordinal, again.end_ordinal) == (tenure.start_ordinal, tenure.end_ordinal)
    known = tenure_from_values(tenure_values(tenure), ordinals=(tenure.start_ordinal, tenure.end_ordinal))
    assert known == tenure and known.model_dump() == tenure.model_dump()
    assert (known.start_ordinal, known.end_ordinal) == (tenure.start_ordinal, tenure.end_ordinal)
    assert again.model_fields_set == tenure.model_fields_set | {"end", "closed_by", "close_kind"}
    assert again.model_copy(update={"end": "2016"}).end == "2016" and again.end is None
    # every tenure made again shares one fields set: a copy that adds to its own leaves it
    other = tenure_from_values(tenure_values(tenure.model_copy(update={"id": "U1|P1|2016-01"})))
    assert again.model_copy(update={"extra_field": 1}).model_fields_set >= {"extra_field"}
    assert "extra_field" not in other.model_fields_set | again.model_fields_set
    assert pickle.loads(pickle.dumps(tenure)) == tenure
    with pytest.raises(ValidationError):
        again.end = "2016"  # type: ignore[misc]


def test_double_post_pairs_is_the_one_rule_of_incompatible_posts() -> None:
    from graph.model import Tenure, double_post_pairs

    def held(person: str, position: str, start: str, end: str | None) -> Tenure:
        return Tenure(
            id=f"{person}|{position}|{start}", person_id=person, position_id=position, start=start, end=end,
            opened_by="tenure-row", open_kind="tenure",
        )  # fmt: skip

    posts = {"C/sec": ("secretary", 25), "D/sec": ("secretary", 25), "P/sec": ("secretary", 35), "P/m": ("member", 31)}
    tenures = [
        held("a", "C/sec", "2003-01-01", "2006-01-01"),
        held("a", "D/sec", "2005-06-01", None),  # the same role and rank: a pair
        held("b", "C/sec", "1990", "1995-06"),
        held("b", "D/sec", "1995", "1999"),  # overlap within the imprecision of "1995": none
        held("c", "P/sec", "2001-01-01", None),
        held("c", "C/sec", "2001-01-01", None),  # another rank
        held("c", "P/m", "2001-01-01", None),  # a member post
    ]
    pairs = double_post_pairs(tenures, posts.__getitem__)
    assert [(a.id, b.id) for a, b in pairs] == [("a|C/sec|2003-01-01", "a|D/sec|2005-06-01")]
