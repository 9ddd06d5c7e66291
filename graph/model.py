"""The domain model: enums of docs/domain.md, partial dates, and the node and
relationship records of section 3 as pydantic models."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Sequence
from enum import Enum
from functools import cached_property, lru_cache
from typing import Any, ClassVar, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from graph.errors import InvalidInput


class LabelledEnum(str, Enum):
    """A string enum whose members carry a Chinese display label."""

    zh: str

    def __new__(cls, value: str, zh: str = "") -> LabelledEnum:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.zh = zh
        return obj

    @classmethod
    def parse(cls, text: str) -> LabelledEnum:
        """Accept the English id or the Chinese label; raise ValueError otherwise."""
        key = text.strip()
        for member in cls:
            if key == member.value or key == member.zh:
                return member
        raise ValueError(key)

    @classmethod
    def allowed(cls) -> str:
        return ", ".join(m.value for m in cls)

    def __str__(self) -> str:
        return self.value


class Level(LabelledEnum):
    central = "central", "中央"
    province = "province", "省"
    city = "city", "市"
    county = "county", "县"
    township = "township", "乡镇"
    village = "village", "村"

    @property
    def depth(self) -> int:
        return list(Level).index(self)

    @property
    def rank_base(self) -> int:
        return 60 - 10 * self.depth


class OrgKind(LabelledEnum):
    committee = "committee", "党委"
    party_group = "party_group", "党组"
    commission = "commission", "纪委"
    branch = "branch", "党支部"
    department = "department", "部门"


class Role(LabelledEnum):
    secretary = "secretary", "书记"
    deputy_secretary = "deputy_secretary", "副书记"
    member = "member", "班子成员"
    discipline_secretary = "discipline_secretary", "纪委书记"
    staff = "staff", "其他"

    @property
    def one_holder(self) -> bool:
        """Every leadership position is one seat; staff positions may have several holders."""
        return self is not Role.staff

    @property
    def rank_offset(self) -> int:
        return _ROLE_OFFSET[self]


_ROLE_OFFSET = {
    Role.secretary: 5,
    Role.deputy_secretary: 3,
    Role.discipline_secretary: 2,
    Role.member: 1,
    Role.staff: 0,
}


class Category(LabelledEnum):
    discipline = "discipline", "纪律建设"
    cadre_selection = "cadre_selection", "选人用人"
    work_style = "work_style", "作风建设"
    case_support = "case_support", "支持执纪执法"
    power_oversight = "power_oversight", "权力制约监督"
    education = "education", "责任意识教育"


class ResponsibilityKind(LabelledEnum):
    direct = "direct", "直接责任"
    first = "first", "第一责任"
    portfolio = "portfolio", "一岗双责"
    supervisory = "supervisory", "监督责任"
    upstream = "upstream", "传导责任"
    collective = "collective", "集体责任"


class ActionKind(LabelledEnum):
    inspection = "inspection", "巡视巡察"
    interview = "interview", "约谈"
    report_hearing = "report_hearing", "听取汇报"
    guidance = "guidance", "个别指导"
    meeting = "meeting", "会议部署"
    countersign = "countersign", "签字背书"
    document = "document", "发文"


DEFAULT_WEIGHTS: dict[str, float] = {
    "inspection": 1.0,
    "interview": 0.8,
    "report_hearing": 0.6,
    "guidance": 0.5,
    "meeting": 0.2,
    "countersign": 0.15,
    "document": 0.1,
}
STRONG_FORM_MIN_WEIGHT = 0.5


class Outcome(LabelledEnum):
    criticism = "criticism", "通报批评"
    admonishment = "admonishment", "诫勉谈话"
    organizational = "organizational", "组织处理"
    disciplinary = "disciplinary", "党纪政务处分"

    @property
    def soft(self) -> bool:
        return self in (Outcome.criticism, Outcome.admonishment)


class ChangeKind(LabelledEnum):
    appoint = "appoint", "任命"
    transfer = "transfer", "调任"
    promote = "promote", "提拔"
    demote = "demote", "降职"
    concurrent = "concurrent", "兼任"
    remove = "remove", "免职"
    retire = "retire", "退休"

    @property
    def opens(self) -> bool:
        return self not in (ChangeKind.remove, ChangeKind.retire)

    @property
    def closes(self) -> bool:
        return self not in (ChangeKind.appoint, ChangeKind.concurrent)


class Period(LabelledEnum):
    year = "year", "年"
    quarter = "quarter", "季度"


def default_rank(level: Level, role: Role) -> int:
    """docs/domain.md, "The graph": level base plus role offset (an explicit rank wins)."""
    return level.rank_base + role.rank_offset


# ---------------------------------------------------------------- partial dates

_PDATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class PDate:
    """A date given to year, month or day precision.

    It compares and computes as its first day (``2019-03`` is 2019-03-01) but keeps
    the text it was given, so a stored ``2019`` is printed back as ``2019``.
    """

    __slots__ = ("date", "text")

    def __init__(self, text: str) -> None:
        m = _PDATE.match(text.strip())
        if not m:
            raise InvalidInput(f"not a date (YYYY, YYYY-MM or YYYY-MM-DD): {text!r}")
        year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
        try:
            self.date = dt.date(year, month, day)
        except ValueError as exc:  # 2019-02-30
            raise InvalidInput(f"not a date: {text.strip()!r} ({exc})") from None
        self.text = text.strip()

    @classmethod
    def of(cls, value: PDate | dt.date | str) -> PDate:
        if isinstance(value, PDate):
            return value
        if isinstance(value, dt.date):
            return cls(value.isoformat())
        return cls(value)

    @property
    def precision(self) -> Literal["year", "month", "day"]:
        precisions: tuple[Literal["year", "month", "day"], ...] = ("year", "month", "day")
        return precisions[self.text.count("-")]

    @property
    def ordinal(self) -> int:
        return self.date.toordinal()

    @property
    def last_ordinal(self) -> int:
        """The last day a date of its precision may mean (``2004``: 2004-12-31)."""
        if self.precision == "day":
            return self.ordinal
        if self.precision == "month":
            d = self.date
            return dt.date(d.year + d.month // 12, d.month % 12 + 1, 1).toordinal() - 1
        return dt.date(self.date.year, 12, 31).toordinal()

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"PDate({self.text!r})"


def to_ordinal(value: str | dt.date | PDate) -> int:
    if isinstance(value, str):
        return _text_ordinal(value)
    return PDate.of(value).ordinal


@lru_cache(maxsize=1 << 16)
def _text_ordinal(text: str) -> int:
    return PDate(text).ordinal


def dates_agree(a: str | None, b: str | None) -> bool:
    """Two stored dates that can be the same day at their precisions (``1959`` and ``1959-07``
    can; ``1959-07`` and ``1959-08`` cannot). Both must be given."""
    if not a or not b:
        return False
    return a.startswith(b) or b.startswith(a)


def from_ordinal(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after the month of ``day``."""
    m = day.month - 1 + months
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


OPEN_END = dt.date.max.toordinal()  # the ordinal of a tenure still in office


# ---------------------------------------------------------------- records


class Record(BaseModel):
    """Base of every stored record. Unknown input columns land in ``props``."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    entity: ClassVar[str]
    props: dict[str, Any] = Field(default_factory=dict)


class Organization(Record):
    entity: ClassVar[str] = "organizations"
    id: str
    name: str
    kind: OrgKind
    level: Level
    parent_id: str | None = None
    supervised_by: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    # what this organization continues (a prefecture that became a city, two counties merged):
    # accountability and careers follow it (queries.lineage)
    predecessor_ids: tuple[str, ...] = ()


class OrgFacts(NamedTuple):
    """What a whole-hierarchy figure reads of an organization (``Store.organization_facts``):
    a tuple, not a model, so that a nation's 458,678 are read in a fraction of a second."""

    kind: OrgKind
    level: Level
    parent_id: str | None
    valid_from: str | None
    valid_to: str | None

    @classmethod
    def of(cls, org: Organization) -> OrgFacts:
        return cls(org.kind, org.level, org.parent_id, org.valid_from, org.valid_to)


class Position(Record):
    entity: ClassVar[str] = "positions"
    id: str
    org_id: str
    title: str
    role: Role
    rank: int
    portfolio: tuple[Category, ...] = ()


class Person(Record):
    """A person. ``aliases``: the ids other sources gave this person (a match by name and
    birth, or ``same_as``: docs/input-format.md, "People"); ``not_same_as``: persons this
    one must never be matched with."""

    entity: ClassVar[str] = "persons"
    id: str
    name: str
    gender: str | None = None
    birth: str | None = None
    native_place: str | None = None
    aliases: tuple[str, ...] = ()
    not_same_as: tuple[str, ...] = ()


class TenureRow(Record):
    """A tenure as given in a ``tenures`` file (input, before derivation)."""

    entity: ClassVar[str] = "tenure_rows"
    person_id: str
    position_id: str
    start: str
    end: str | None = None


class Change(Record):
    entity: ClassVar[str] = "changes"
    id: str
    date: str
    kind: ChangeKind
    person_id: str
    from_position_id: str | None = None
    to_position_id: str | None = None
    source: str | None = None


class Tenure(BaseModel):
    """A derived tenure: ``(Person)-[:HELD {start, end}]->(Position)``, half-open.

    ``opened_by``/``closed_by`` name the evidence: a change id, or ``tenure-row``.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)
    id: str
    person_id: str
    position_id: str
    start: str
    end: str | None = None
    opened_by: str
    open_kind: str  # a ChangeKind value, or "tenure"
    closed_by: str | None = None
    close_kind: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its field values: a streamed load sends millions of tenures to the
        writing process, and pydantic's own state took 4.4 us a tenure, this about 1."""
        return _tenure_from_values, tenure_values(self)

    @cached_property  # a tenure is frozen; the queries read these thousands of times a second
    def start_ordinal(self) -> int:
        return to_ordinal(self.start)

    @cached_property
    def end_ordinal(self) -> int:
        return OPEN_END if self.end is None else to_ordinal(self.end)


def uncertain_overlap(a: Tenure, b: Tenure) -> bool:
    """Whether two overlapping tenures could be one after the other, were each start as late
    and each end as early as its precision allows (a start ``2004`` may be 2004-12-31; an end
    ``2004-10`` is stored as its first day, the earliest it may be)."""
    return (b.end is not None and PDate(a.start).last_ordinal >= b.end_ordinal) or (
        a.end is not None and PDate(b.start).last_ordinal >= a.end_ordinal
    )


# Roles one person cannot hold twice at one grade: first responsible of two organizations, or
# deputy or discipline secretary of two (a member post beside another post is common practice).
_EXCLUSIVE = frozenset({"secretary", "deputy_secretary", "discipline_secretary"})


def incompatible_posts(a: tuple[str, int | None], b: tuple[str, int | None]) -> bool:
    """Whether one person may not hold both posts at once: the same exclusive leadership role
    at the same rank. ``a`` and ``b`` are ``(role, rank)`` of two different positions."""
    return a[0] == b[0] and a[0] in _EXCLUSIVE and a[1] is not None and a[1] == b[1]


def double_post_pairs(
    tenures: Sequence[Tenure], post: Callable[[str], tuple[str, int | None]]
) -> list[tuple[Tenure, Tenure]]:
    """Pairs of one person's tenures at incompatible posts that overlap beyond what the
    dates' imprecision explains; ``post`` gives a position's ``(role, rank)``."""
    by_person: dict[str, list[Tenure]] = {}
    for t in tenures:
        if post(t.position_id)[0] in _EXCLUSIVE:
            by_person.setdefault(t.person_id, []).append(t)
    pairs = []
    for theirs in by_person.values():
        theirs.sort(key=lambda t: (t.start_ordinal, t.position_id))
        for i, a in enumerate(theirs):
            for b in theirs[i + 1 :]:
                if b.start_ordinal >= a.end_ordinal:
                    break
                if (
                    a.position_id != b.position_id
                    and incompatible_posts(post(a.position_id), post(b.position_id))
                    and not uncertain_overlap(a, b)
                ):
                    pairs.append((a, b))
    return pairs


_TENURE_FIELDS = tuple(Tenure.model_fields)
# A tenure's field values, in field order (``tenure_from_values`` makes it again).
tenure_values: Callable[[Tenure], tuple[Any, ...]] = operator.attrgetter(*_TENURE_FIELDS)


# The fields set of every tenure made by ``tenure_from_values``: one set, not one a tenure (728
# bytes each, a third of a tenure's memory). No one changes it: a tenure is frozen, and
# ``model_copy`` copies the set before it adds to it.
_EVERY_FIELD = set(_TENURE_FIELDS)


def tenure_from_values(values: Sequence[Any], ordinals: tuple[int, int] | None = None) -> Tenure:
    """The tenure with these field values (``tenure_values`` of one), not validated again: they
    come from a validated tenure (a streamed load's writing process makes millions: 1.6 us
    each, against 2.5 through validation). What ``model_construct`` does, at less than half
    of its cost (3.7 us): the values are complete and in field order. ``ordinals``: its
    ``start_ordinal`` and ``end_ordinal`` where they are known (a store keeps them beside it),
    so that its dates are not parsed again."""
    tenure = Tenure.__new__(Tenure)
    fields = dict(zip(_TENURE_FIELDS, values, strict=True))
    if ordinals is not None:  # where the cached properties keep what they compute
        fields["start_ordinal"], fields["end_ordinal"] = ordinals
    object.__setattr__(tenure, "__dict__", fields)
    object.__setattr__(tenure, "__pydantic_fields_set__", _EVERY_FIELD)
    object.__setattr__(tenure, "__pydantic_extra__", None)
    object.__setattr__(tenure, "__pydantic_private__", None)
    return tenure


def _tenure_from_values(*values: Any) -> Tenure:  # pickle's
    return tenure_from_values(values)


class Duty(Record):
    entity: ClassVar[str] = "duties"
    id: str
    org_id: str
    category: Category
    parent_duty_id: str | None = None
    description: str | None = None


class Action(Record):
    entity: ClassVar[str] = "actions"
    id: str
    date: str
    kind: ActionKind
    from_org_id: str
    to_org_id: str
    category: Category
    by_org_id: str


class Case(Record):
    entity: ClassVar[str] = "cases"
    id: str
    org_id: str
    category: Category
    start: str
    end: str | None = None
    discovered: str | None = None
    severity: str | None = None
    violator_ids: tuple[str, ...] = ()


class Accountability(Record):
    entity: ClassVar[str] = "accountability"
    id: str
    case_id: str
    person_id: str
    outcome: Outcome
    date: str | None = None


class Standard(Record):
    entity: ClassVar[str] = "standards"
    id: str
    level: Level
    action_kind: ActionKind
    min_count: int
    period: Period
    org_kind: OrgKind | None = None
    category: Category | None = None
    description: str | None = None


ENTITY_MODELS: dict[str, type[Record]] = {
    m.entity: m
    for m in (
        Organization,
        Position,
        Person,
        TenureRow,
        Change,
        Duty,
        Action,
        Case,
        Accountability,
        Standard,
    )
}


def ancestor_chain(org_id: str, get: Callable[[str], Organization | None]) -> list[Organization]:
    """The organization and its ancestors, itself first, each found by ``get`` (``dict.get`` of
    organizations in hand, or a read of one); a cycle stops it."""
    chain: list[Organization] = []
    seen: set[str] = set()
    current = get(org_id)
    while current is not None and current.id not in seen:
        chain.append(current)
        seen.add(current.id)
        current = get(current.parent_id) if current.parent_id else None
    return chain
