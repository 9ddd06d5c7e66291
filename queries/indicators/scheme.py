"""Indicator schemes: a tree of indicators read from a YAML file (docs/indicators.md).

A scheme is data, not code: each leaf indicator names a measure from the vocabulary of
``queries.indicators.measures``, a direction, a scoring rule and its points; groups add up
their children. A file that does not fit is refused with every error at once, each naming
the line of the file it comes from.
"""

from __future__ import annotations

from enum import Enum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from graph.errors import InvalidInput
from graph.model import Category, Level, OrgKind
from queries.indicators.measures import MEASURES

SHIPPED = {"default": "default.yaml", "six-plus-x": "six_plus_x.yaml"}


class Direction(str, Enum):
    higher_better = "higher_better"
    higher_worse = "higher_worse"


class Rule(BaseModel):
    """How a measure's value becomes points (of the indicator's ``points``):

    - ``linear``: all points at ``best``, none at ``worst``, in proportion between;
    - ``rank``: within the organizations of the same level the indicator applies to, all
      points to the best, none to the worst, in proportion to the rank between (ties share);
    - ``threshold``: all points when the value reaches ``at`` in the indicator's direction, none otherwise;
    - ``deduction``: ``per`` points off for each occurrence the value counts, down to zero.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["linear", "rank", "threshold", "deduction"]
    worst: float | None = None
    best: float | None = None
    at: float | None = None
    per: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _parameters(self) -> Rule:
        need = {"linear": ("worst", "best"), "rank": (), "threshold": ("at",), "deduction": ("per",)}[self.kind]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.kind} rule needs {' and '.join(missing)}")
        extra = [k for k in ("worst", "best", "at", "per") if k not in need and getattr(self, k) is not None]
        if extra:
            raise ValueError(f"a {self.kind} rule takes no {' or '.join(extra)}")
        if self.kind == "linear" and self.worst == self.best:
            raise ValueError("a linear rule needs worst and best to differ")
        return self


class Warning(BaseModel):
    """An indicator's own warning, on its measure's value in its direction: for higher_worse,
    red at ``red`` or above, yellow at ``yellow`` or above; for higher_better, at or below."""

    model_config = ConfigDict(extra="forbid")

    red: float
    yellow: float


class Applies(BaseModel):
    """The organizations an indicator is scored for: levels and kinds (empty: every one;
    commissions are never scored, as the pressure figures leave them out)."""

    model_config = ConfigDict(extra="forbid")

    levels: list[Level] = Field(default_factory=list)
    kinds: list[OrgKind] = Field(default_factory=list)

    def covers(self, level: Level, kind: OrgKind) -> bool:
        return (not self.levels or level in self.levels) and (not self.kinds or kind in self.kinds)


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    applies_to: Applies | None = None  # none: the parent group's
    measure: str | None = None
    category: Category | None = None
    direction: Direction | None = None
    rule: Rule | None = None
    points: float | None = Field(default=None, gt=0)
    warning: Warning | None = None
    veto: bool = False  # 一票否决: a red warning here makes the organization red whatever its score
    # scored only where the value rests on at least this many records (a share of one case is no share)
    min_support: int | None = Field(default=None, ge=1)
    children: list[Indicator] = Field(default_factory=list)

    @model_validator(mode="after")
    def _leaf_or_group(self) -> Indicator:
        if self.children:
            for key in ("measure", "category", "direction", "rule", "warning", "veto", "min_support"):
                if getattr(self, key) not in (None, False):
                    raise ValueError(f"a group (an indicator with children) takes no {key}")
            total = sum(c.points or 0.0 for c in self.children)
            if self.points is not None and abs(self.points - total) > 1e-9:
                raise ValueError(f"a group's points ({self.points}) must be its children's sum ({total})")
            self.points = total
            return self
        missing = [k for k in ("measure", "direction", "rule", "points") if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a leaf indicator needs {', '.join(missing)}")
        assert self.measure is not None and self.rule is not None
        measure = MEASURES.get(self.measure)
        if measure is None:
            raise ValueError(f"unknown measure {self.measure!r}: one of {', '.join(sorted(MEASURES))}")
        if self.min_support is not None and measure.support is None:
            raise ValueError(f"the measure {self.measure} counts no records for a min_support")
        if self.veto and self.warning is None:
            raise ValueError("a veto needs a warning (its red threshold)")
        if self.category is not None and not measure.by_category:
            raise ValueError(f"the measure {self.measure} takes no category")
        if self.rule.kind == "deduction" and (self.direction is not Direction.higher_worse or not measure.counts):
            raise ValueError("a deduction rule needs a count measure and direction higher_worse")
        if self.rule.kind == "linear":
            assert self.rule.best is not None and self.rule.worst is not None
            if (self.rule.best > self.rule.worst) != (self.direction is Direction.higher_better):
                raise ValueError(f"best and worst contradict the direction {self.direction.value}")  # type: ignore[union-attr]
        return self


class OrgWarning(BaseModel):
    """An organization's colour: ``share``, red under ``red`` of the points that apply to it and
    yellow under ``yellow``; or ``rank``, red in the bottom ``red`` share of its level and
    yellow in the bottom ``yellow`` share."""

    model_config = ConfigDict(extra="forbid")

    by: Literal["share", "rank"] = "share"
    red: float = Field(default=0.6, ge=0, le=1)
    yellow: float = Field(default=0.8, ge=0, le=1)

    @model_validator(mode="after")
    def _order(self) -> OrgWarning:
        if self.red > self.yellow:
            raise ValueError("red must not be above yellow")
        return self


class Scheme(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    description: str | None = None
    scale: float | None = Field(default=None, gt=0)  # the leaves' points scaled to add up to this
    warning: OrgWarning = Field(default_factory=OrgWarning)
    indicators: list[Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Scheme:
        seen: set[str] = set()
        for ind in self.walk():
            if ind.id in seen:
                raise ValueError(f"indicator id {ind.id!r} is used twice")
            seen.add(ind.id)
        return self

    def walk(self) -> list[Indicator]:
        """Every indicator, groups before their children."""
        out: list[Indicator] = []
        stack = list(reversed(self.indicators))
        while stack:
            ind = stack.pop()
            out.append(ind)
            stack.extend(reversed(ind.children))
        return out

    def leaves(self) -> list[tuple[Indicator, list[str], Applies]]:
        """Each leaf with the ids of the groups above it and the organizations it applies to."""
        out: list[tuple[Indicator, list[str], Applies]] = []

        def visit(ind: Indicator, path: list[str], applies: Applies) -> None:
            applies = ind.applies_to or applies
            if not ind.children:
                out.append((ind, path, applies))
            for child in ind.children:
                visit(child, [*path, ind.id], applies)

        for ind in self.indicators:
            visit(ind, [], Applies())
        return out

    @property
    def factor(self) -> float:
        """What every indicator's points are multiplied by: ``scale`` over the leaves' total."""
        total = sum(ind.points or 0.0 for ind, _, _ in self.leaves())
        return self.scale / total if self.scale and total else 1.0


# ---------------------------------------------------------------- reading a file


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    """The line (1-based) of every key and item of a composed YAML document, by its path."""
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _lines(value, (*path, key.value), out)
            out[(*path, key.value)] = key.start_mark.line + 1  # an error about a key: the key's line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)


def parse_scheme(text: str, source: str = "<scheme>") -> Scheme:
    """A scheme from YAML text; ``InvalidInput`` naming ``source``, the line and the field of every error."""
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        where = f"{source}:{exc.problem_mark.line + 1}" if exc.problem_mark is not None else source
        raise InvalidInput(f"{where}: not YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not YAML: {exc}") from None
    if not isinstance(data, dict) or node is None:
        raise InvalidInput(f"{source}:1: a scheme is a mapping with id, name_zh, name_en and indicators")
    lines: dict[tuple[Any, ...], int] = {}
    _lines(node, (), lines)
    try:
        return Scheme.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            line = next((lines[loc[:k]] for k in range(len(loc), -1, -1) if loc[:k] in lines), 1)
            field = ".".join(str(p) for p in loc) or "the scheme"
            problems.append(f"{source}:{line}: {field}: {err['msg'].removeprefix('Value error, ')}")
        raise InvalidInput("; ".join(problems)) from None


def load_scheme(name_or_path: str | Path | None = None) -> Scheme:
    """A shipped scheme by name (``default``, ``six-plus-x``) or a scheme file."""
    name = str(name_or_path or "default")
    if name in SHIPPED:
        return _shipped(name)
    path = Path(name)
    if not path.is_file():
        raise InvalidInput(f"no scheme {name!r}: a file, or one of {', '.join(SHIPPED)}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the scheme {path}: {exc}") from None
    return parse_scheme(text, str(path))


@cache
def _shipped(name: str) -> Scheme:
    text = resources.files("queries.indicators").joinpath("schemes", SHIPPED[name]).read_text(encoding="utf-8")
    return parse_scheme(text, f"{name} ({SHIPPED[name]})")
