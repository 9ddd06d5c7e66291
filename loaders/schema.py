"""The canonical input format (docs/input-format.md) as data: files, columns,
Chinese aliases, types, and the references between files."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from graph.model import (
    ActionKind,
    Category,
    ChangeKind,
    LabelledEnum,
    Level,
    OrgKind,
    Outcome,
    Period,
    Role,
)


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    datatype: str = "str"  # str | date | int | enum | list | enumlist
    enum: type[LabelledEnum] | None = None
    ref: str | None = None  # the entity whose id this column names
    aliases: tuple[str, ...] = ()
    # Its values repeat from row to row (a reference, a date, a title): a load keeps each once.
    repeats: bool = False


def _c(name: str, *flags: str, aliases: tuple[str, ...] = (), **kw: object) -> Column:
    """A column; flags ``req`` (required) and ``rep`` (values repeat: references and dates do)."""
    repeats = "rep" in flags or kw.get("ref") is not None or kw.get("datatype") == "date"
    return Column(name, required="req" in flags, aliases=aliases, repeats=repeats, **kw)  # type: ignore[arg-type]


ID = ("编号",)

FILES: dict[str, tuple[Column, ...]] = {
    "organizations": (
        _c("id", "req", aliases=ID),
        _c("name", "req", aliases=("名称",)),
        _c("kind", "req", datatype="enum", enum=OrgKind, aliases=("类别",)),
        _c("level", "req", datatype="enum", enum=Level, aliases=("层级",)),
        _c("parent_id", ref="organizations", aliases=("上级",)),
        _c("supervised_by", ref="organizations", aliases=("监督机关",)),
        _c("valid_from", datatype="date", aliases=("设立时间",)),
        _c("valid_to", datatype="date", aliases=("撤销时间",)),
        _c("predecessor_ids", datatype="list", ref="organizations", aliases=("前身",)),
    ),
    "positions": (
        _c("id", "req", aliases=ID),
        _c("org_id", "req", ref="organizations", aliases=("单位",)),
        _c("title", "req", "rep", aliases=("职务",)),
        _c("role", "req", datatype="enum", enum=Role, aliases=("角色",)),
        _c("rank", datatype="int", aliases=("职级",)),
        _c("portfolio", datatype="enumlist", enum=Category, aliases=("分管",)),
    ),
    "persons": (
        _c("id", "req", aliases=ID),
        _c("name", "req", aliases=("姓名",)),
        _c("gender", "rep", aliases=("性别",)),
        _c("birth", datatype="date", aliases=("出生日期", "出生年月")),
        _c("native_place", "rep", aliases=("籍贯",)),
        # identity across sources (loaders.identity): read by the load, ``same_as`` never stored
        _c("same_as", ref="persons", aliases=("同一人",)),
        _c("not_same_as", datatype="list", ref="persons", aliases=("非同一人",)),
        _c("aliases", datatype="list", aliases=("曾用编号",)),
    ),
    "tenures": (
        _c("person_id", "req", ref="persons", aliases=("人员",)),
        _c("position_id", "req", ref="positions", aliases=("职位",)),
        _c("start", "req", datatype="date", aliases=("任职时间",)),
        _c("end", datatype="date", aliases=("离任时间",)),
    ),
    "changes": (
        _c("id", "req", aliases=ID),
        _c("date", "req", datatype="date", aliases=("日期",)),
        _c("kind", "req", datatype="enum", enum=ChangeKind, aliases=("类别",)),
        _c("person_id", "req", ref="persons", aliases=("人员",)),
        _c("from_position_id", ref="positions", aliases=("原职位",)),
        _c("to_position_id", ref="positions", aliases=("新职位",)),
        _c("source", "rep", aliases=("依据",)),
    ),
    "duties": (
        _c("id", "req", aliases=ID),
        _c("org_id", "req", ref="organizations", aliases=("单位",)),
        _c("category", "req", datatype="enum", enum=Category, aliases=("类别",)),
        _c("parent_duty_id", ref="duties", aliases=("上级责任",)),
        _c("description", aliases=("内容",)),
    ),
    "actions": (
        _c("id", "req", aliases=ID),
        _c("date", "req", datatype="date", aliases=("日期",)),
        _c("kind", "req", datatype="enum", enum=ActionKind, aliases=("形式",)),
        _c("from_org_id", "req", ref="organizations", aliases=("发出单位",)),
        _c("to_org_id", "req", ref="organizations", aliases=("接收单位",)),
        _c("category", "req", datatype="enum", enum=Category, aliases=("类别",)),
        _c("by_org_id", ref="organizations", aliases=("实施单位",)),
    ),
    "cases": (
        _c("id", "req", aliases=ID),
        _c("org_id", "req", ref="organizations", aliases=("单位",)),
        _c("category", "req", datatype="enum", enum=Category, aliases=("类别",)),
        _c("start", "req", datatype="date", aliases=("开始",)),
        _c("end", datatype="date", aliases=("结束",)),
        _c("discovered", datatype="date", aliases=("发现时间",)),
        _c("severity", "rep", aliases=("严重程度",)),
        _c("violator_ids", datatype="list", ref="persons", aliases=("违纪人员",)),
    ),
    "accountability": (
        _c("id", "req", aliases=ID),
        _c("case_id", "req", ref="cases", aliases=("案件",)),
        _c("person_id", "req", ref="persons", aliases=("人员",)),
        _c("outcome", "req", datatype="enum", enum=Outcome, aliases=("处理结果",)),
        _c("date", datatype="date", aliases=("日期",)),
    ),
    "standards": (
        _c("id", "req", aliases=ID),
        _c("level", "req", datatype="enum", enum=Level, aliases=("层级",)),
        _c("action_kind", "req", datatype="enum", enum=ActionKind, aliases=("形式",)),
        _c("min_count", "req", datatype="int", aliases=("最少次数",)),
        _c("period", "req", datatype="enum", enum=Period, aliases=("周期",)),
        _c("org_kind", datatype="enum", enum=OrgKind),
        _c("category", datatype="enum", enum=Category),
        _c("description", aliases=("说明",)),
    ),
}

# Files are loaded (and references resolved) in this order.
ORDER: tuple[str, ...] = tuple(FILES)
EXTENSIONS = (".csv", ".jsonl", ".xlsx")
# Interval columns checked as end >= start, per file.
INTERVALS = {
    "organizations": ("valid_from", "valid_to"),
    "tenures": ("start", "end"),
    "cases": ("start", "end"),
}


@lru_cache
def header_map(entity: str) -> dict[str, str]:
    """Every accepted header (English name or Chinese alias) to its column name."""
    out: dict[str, str] = {}
    for col in FILES[entity]:
        out[col.name] = col.name
        for alias in col.aliases:
            out[alias] = col.name
    return out


# The column a rejects file adds to each row (its error): the loader reads past it, so a fixed
# rejects file loads as it is (docs/input-format.md, "Tolerant loads").
REJECT_COLUMN = "rtc_error"
# A header with a unit or a format after the name: 出生日期(YYYY-MM-DD), start （年月）, 任职时间【起】.
_SUFFIXED = re.compile(r"^(.*?)\s*[(（\[【]\s*([^)）\]】]*?)\s*[)）\]】]\s*$")


@dataclass
class Headers:
    """A file's headers as given, each to its column (None: an unknown column, kept as a
    property), resolved once per distinct header. A header is its column's name, an alias, or
    either with a suffix in brackets (a unit or a format, which is ignored unless it declares
    a date order: ``dates.DECLARED``)."""

    entity: str
    names: dict[str, str | None] = field(default_factory=dict)
    orders: dict[str, str] = field(default_factory=dict)  # header -> the date order it declares
    suffixed: dict[str, str] = field(default_factory=dict)  # header -> column, read through a suffix

    def __post_init__(self) -> None:
        self.names.update(header_map(self.entity))
        self.names[REJECT_COLUMN] = None

    def column(self, header: str) -> str | None:
        try:
            return self.names[header]
        except KeyError:
            return self._resolve(header)

    def _resolve(self, header: str) -> str | None:
        from loaders.dates import declared_order  # dates imports nothing of the schema

        name = None
        known = header_map(self.entity)
        if (m := _SUFFIXED.match(header)) and m[1] in known:
            name = known[m[1]]
            self.suffixed[header] = name
            order = declared_order(m[2])
            if order and next(c for c in FILES[self.entity] if c.name == name).datatype == "date":
                self.orders[header] = order
        self.names[header] = name
        return name

    def unknown_like_known(self, header: str) -> str | None:
        """The known header an unknown one looks like (a near spelling, or one inside the
        other), to warn that its values may be lost to a property."""
        if self.column(header) is not None or header == REJECT_COLUMN:
            return None
        base = (m[1] if (m := _SUFFIXED.match(header)) else header).strip()
        known = [h for h in header_map(self.entity) if len(h) > 1]
        # Chinese headers are a few characters: half of them shared is already a likeness
        close = difflib.get_close_matches(base, known, n=1, cutoff=0.75 if base.isascii() else 0.5)
        if close:
            return close[0]
        inside = [h for h in known if not h.isascii() and (h in base or base in h) and len(base) > 1]
        return inside[0] if inside else None


@lru_cache
def headers(entity: str) -> Headers:
    """The ``Headers`` of ``entity``'s files (a header declares what it declares wherever it
    comes, so one resolution serves every file)."""
    return Headers(entity)
