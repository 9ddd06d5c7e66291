"""The measure vocabulary of indicator schemes: the figures of a window an indicator may score,
computed for every organization at once, each value explained by the ids behind it.

A measure gives ``None`` where it has no value (a ratio with nothing to divide by, a median of
no case): the indicator is then not scored for that organization, and says why.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from graph.model import Case, Organization, Position, Role, from_ordinal, to_ordinal
from graph.store import CATEGORIES, Store
from queries.findings import gaps, only_violators_held, portfolio_design, standards_compliance
from queries.pressure import OrgPressure, Pressure, evidence, org_pressures, pressure
from queries.window import Window


@dataclass(frozen=True)
class Measure:
    name: str
    zh: str
    en: str
    unit: str  # pressure | ratio | share | flag | count | days
    by_category: bool  # takes a duty category
    counts: bool  # counts occurrences: what a deduction rule takes
    ids: str  # what the ids behind a value are
    support: str | None = None  # what an indicator's min_support counts, where a value rests on few records


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in [
        Measure("received_pressure", "接收压力", "received pressure", "pressure", True, False, "actions received"),
        Measure("actions_received", "接收督导次数", "actions received", "count", True, True, "actions received"),
        Measure(
            "pass_on_ratio",
            "压力传导比",
            "pass-on ratio",
            "ratio",
            True,
            False,
            "actions received by it and its children",
        ),
        Measure(
            "pass_on_vs_level",
            "传导比相对水平",
            "pass-on ratio over the median of its level and kind",
            "ratio",
            True,
            False,
            "actions received by it and its children",
        ),
        Measure(
            "sink",
            "压力沉降",
            "pressure sink (1) or not (0)",
            "flag",
            True,
            True,
            "actions received by it and its children",
        ),
        Measure("cold", "压力偏冷", "cold (1) or not (0)", "flag", True, True, "actions received"),
        Measure(
            "weak_share",
            "弱形式占比",
            "weak-form share of actions sent",
            "share",
            True,
            False,
            "weak-form actions sent",
            "actions sent",
        ),
        Measure(
            "commission_share",
            "纪委代行占比",
            "commission share of actions sent",
            "share",
            True,
            False,
            "actions sent by its commission",
            "actions sent",
        ),
        Measure(
            "category_coverage",
            "类别覆盖",
            "share of duty categories received",
            "share",
            False,
            False,
            "actions received",
        ),
        Measure(
            "standards_missed", "未达标准", "standards missed (periods)", "count", False, True, "standard and period"
        ),
        Measure(
            "gaps", "制度缺口", "gaps at the window's end", "count", False, True, "positions, categories or duties"
        ),
        Measure(
            "portfolio_gaps",
            "分工缺口",
            "categories no member's portfolio holds, or several hold",
            "count",
            False,
            True,
            "categories",
        ),
        Measure(
            "vacant_seat_days", "空缺席位天数", "vacant leadership seat-days", "days", False, True, "vacant positions"
        ),
        Measure(
            "undecomposed_duties", "未分解责任", "duties not decomposed to a child", "count", False, True, "duties"
        ),
        Measure(
            "leader_turnover", "班子变动", "leadership tenures begun in the window", "count", False, True, "tenures"
        ),
        Measure("cases", "案件数", "cases begun in the window", "count", True, True, "cases"),
        Measure(
            "cases_without_leader_accountability",
            "未双查案件",
            "cases with only violators held",
            "count",
            True,
            True,
            "cases",
        ),
        Measure(
            "leader_accountability_share",
            "领导追责率",
            "share of decided cases with a leader held",
            "share",
            True,
            False,
            "cases",
            "decided cases",
        ),
        Measure(
            "days_to_accountability",
            "追责用时",
            "median days from discovery to the first accountability",
            "days",
            True,
            False,
            "cases",
            "decided cases",
        ),
        Measure(
            "soft_share",
            "轻处理占比",
            "share of soft outcomes",
            "share",
            True,
            False,
            "accountability records",
            "accountability records",
        ),
    ]
}


@dataclass
class _Cases:
    """An organization's cases begun in the window, with who was held and when."""

    cases: list[Case]
    held: dict[str, set[str]]  # case id -> persons held to account
    first: dict[str, int]  # case id -> the first accountability date
    records: dict[str, list[str]]  # case id -> accountability record ids
    soft: set[str]  # the records whose outcome is soft (criticism, admonishment)


class Figures:
    """Every measure of every organization of one window, computed once when first asked for."""

    def __init__(
        self,
        store: Store,
        window: Window,
        *,
        weights: dict[str, float] | None = None,
        min_pressure: float = 1.0,
        sink_ratio: float = 0.5,
    ) -> None:
        self.store, self.window, self.weights = store, window, weights
        self.rule = {"min_pressure": min_pressure, "sink_ratio": sink_ratio}
        self._pressure: dict[str | None, Pressure] = {}
        self._figures: dict[str | None, dict[str, OrgPressure]] = {}
        self._values: dict[tuple[str, str | None], dict[str, float | None]] = {}
        self._cases_by: dict[str | None, dict[str, _Cases]] = {}

    # ------------------------------------------------------------ what is scored
    @cached_property
    def orgs(self) -> dict[str, Organization]:
        """The organizations of the window the pressure figures cover (commissions excepted)."""
        p = self.pressure(None)
        return {o: p.orgs[o] for o in p.received}

    def pressure(self, category: str | None) -> Pressure:
        if category not in self._pressure:
            self._pressure[category] = pressure(self.store, self.window, category=category, weights=self.weights)
        return self._pressure[category]

    def org_figures(self, category: str | None) -> dict[str, OrgPressure]:
        if category not in self._figures:
            self._figures[category] = org_pressures(self.pressure(category), **self.rule)
        return self._figures[category]

    # ------------------------------------------------------------ values
    def values(self, measure: str, category: str | None = None) -> dict[str, float | None]:
        """``measure`` of every organization of the window."""
        key = (measure, category if MEASURES[measure].by_category else None)
        if key not in self._values:
            self._values[key] = getattr(self, f"_{measure}")(key[1])
        return self._values[key]

    def _pressure_field(self, category: str | None, name: str) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for o, f in self.org_figures(category).items():
            v = getattr(f, name)
            out[o] = None if v is None else float(v)
        return out

    def _received_pressure(self, category: str | None) -> dict[str, float | None]:
        return self._pressure_field(category, "received")

    def _pass_on_ratio(self, category: str | None) -> dict[str, float | None]:
        return self._pressure_field(category, "pass_on_ratio")

    def _pass_on_vs_level(self, category: str | None) -> dict[str, float | None]:
        """Its pass-on ratio over its peers' median: a county passing on half of what counties
        usually pass on, whatever the usual fade from counties to townships."""
        ratio = self._pass_on_ratio(category)
        peers: dict[tuple[str, str], list[float]] = defaultdict(list)
        for o, r in ratio.items():
            if r is not None:
                peers[(self.orgs[o].level.value, self.orgs[o].kind.value)].append(r)
        median = {k: statistics.median(v) for k, v in peers.items()}
        out: dict[str, float | None] = {}
        for o, r in ratio.items():
            m = median.get((self.orgs[o].level.value, self.orgs[o].kind.value))
            out[o] = None if r is None or not m else round(r / m, 4)
        return out

    def _sink(self, category: str | None) -> dict[str, float | None]:
        return self._pressure_field(category, "sink")

    def _cold(self, category: str | None) -> dict[str, float | None]:
        return self._pressure_field(category, "cold")

    def _weak_share(self, category: str | None) -> dict[str, float | None]:
        return self._pressure_field(category, "weak_share")

    def _commission_share(self, category: str | None) -> dict[str, float | None]:
        return self._pressure_field(category, "commission_share")

    def _actions_received(self, category: str | None) -> dict[str, float | None]:
        table = self.pressure(category).actions
        counts = np.bincount(table.to_org.astype(np.int64), minlength=len(table.orgs))
        return {o: float(counts[c]) if (c := table.codes.get(o)) is not None else 0.0 for o in self.orgs}

    def _category_coverage(self, _: str | None) -> dict[str, float | None]:
        table = self.pressure(None).actions
        seen: dict[int, set[int]] = defaultdict(set)
        for to, cat in set(zip(table.to_org.tolist(), table.category.tolist(), strict=True)):
            seen[to].add(cat)
        codes = table.codes
        return {o: round(len(seen.get(codes.get(o, -1), ())) / len(CATEGORIES), 4) for o in self.orgs}

    @cached_property
    def _missed(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for c in standards_compliance(self.store, self.window, self.pressure(None).actions):
            for o in c.missed:
                out[o].append(f"{c.standard_id} {c.period['from']}")
        return out

    def _standards_missed(self, _: str | None) -> dict[str, float | None]:
        return {o: float(len(self._missed.get(o, []))) for o in self.orgs}

    @cached_property
    def _at(self) -> str:
        return from_ordinal(self.window.end - 1)

    @cached_property
    def _gap_ids(self) -> dict[str, list[str]]:
        """Each organization's gaps at the window's last day, as ``kind: ids``."""
        out: dict[str, list[str]] = defaultdict(list)
        for g in gaps(self.store, self._at, list(self.orgs)):
            out[g.org_id].append(f"{g.kind}: {', '.join(g.ids)}")
        return out

    def _gaps(self, _: str | None) -> dict[str, float | None]:
        return {o: float(len(self._gap_ids.get(o, []))) for o in self.orgs}

    @cached_property
    def _portfolio(self) -> dict[str, list[str]]:
        """Each leading group's undivided categories, as its member positions divide them."""
        members: dict[str, list[Position]] = defaultdict(list)
        for p in self.store.get_positions(org_ids=list(self.orgs)).values():
            if p.role is Role.member:
                members[p.org_id].append(p)
        out: dict[str, list[str]] = {}
        for o, mine in members.items():
            unassigned, shared = portfolio_design(mine)
            out[o] = [f"unassigned: {c}" for c in unassigned] + [f"shared: {c}" for c in shared]
        return out

    def _portfolio_gaps(self, _: str | None) -> dict[str, float | None]:
        return {o: float(len(self._portfolio.get(o, []))) for o in self.orgs}

    @cached_property
    def _undecomposed(self) -> dict[str, list[str]]:
        """The duties not decomposed: those gaps, by duty id."""
        prefix = "undecomposed-duty: "
        return {o: [g.removeprefix(prefix) for g in gs if g.startswith(prefix)] for o, gs in self._gap_ids.items()}

    def _undecomposed_duties(self, _: str | None) -> dict[str, float | None]:
        return {o: float(len(self._undecomposed.get(o, []))) for o in self.orgs}

    @cached_property
    def _seats(self) -> tuple[dict[str, float], dict[str, list[str]], dict[str, list[str]]]:
        """Vacant leadership seat-days per organization, the positions vacant some day, and the
        leadership tenures begun in the window."""
        w = self.window
        positions = [p for p in self.store.get_positions(org_ids=list(self.orgs)).values() if p.role is not Role.staff]
        tenures = self.store.tenures(position_ids=[p.id for p in positions], overlapping=(w.start, w.end))
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        begun: dict[str, list[str]] = defaultdict(list)
        by_id = {p.id: p for p in positions}
        for t in tenures:
            spans[t.position_id].append((max(t.start_ordinal, w.start), min(t.end_ordinal, w.end)))
            if w.contains(t.start_ordinal):
                begun[by_id[t.position_id].org_id].append(t.id)
        vacant: dict[str, float] = defaultdict(float)
        where: dict[str, list[str]] = defaultdict(list)
        for p in positions:
            org = self.orgs[p.org_id]
            lo = max(w.start, to_ordinal(org.valid_from) if org.valid_from else w.start)
            hi = min(w.end, to_ordinal(org.valid_to) if org.valid_to else w.end)
            covered, cursor = 0, lo
            for a, b in sorted(spans.get(p.id, [])):
                a, b = max(a, cursor), min(b, hi)
                if b > a:
                    covered += b - a
                    cursor = b
            days = max(0, hi - lo - covered)
            if days:
                vacant[p.org_id] += days
                where[p.org_id].append(p.id)
        return vacant, where, begun

    def _vacant_seat_days(self, _: str | None) -> dict[str, float | None]:
        return {o: float(self._seats[0].get(o, 0.0)) for o in self.orgs}

    def _leader_turnover(self, _: str | None) -> dict[str, float | None]:
        return {o: float(len(self._seats[2].get(o, []))) for o in self.orgs}

    def _cases_of(self, category: str | None) -> dict[str, _Cases]:
        if category not in self._cases_by:
            cases = {
                i: c
                for i, c in self.store.get_cases().items()
                if self.window.contains(to_ordinal(c.start)) and (category is None or c.category.value == category)
            }
            held: dict[str, set[str]] = defaultdict(set)
            first: dict[str, int] = {}
            records: dict[str, list[str]] = defaultdict(list)
            soft: set[str] = set()
            for a in self.store.get_accountability(cases):
                held[a.case_id].add(a.person_id)
                records[a.case_id].append(a.id)
                if a.outcome.soft:
                    soft.add(a.id)
                if a.date:
                    d = to_ordinal(a.date)
                    first[a.case_id] = min(first.get(a.case_id, d), d)
            by_org: dict[str, list[Case]] = defaultdict(list)
            for c in sorted(cases.values(), key=lambda c: c.id):
                by_org[c.org_id].append(c)
            self._cases_by[category] = {o: _Cases(cs, held, first, records, soft) for o, cs in by_org.items()}
        return self._cases_by[category]

    def _cases(self, category: str | None) -> dict[str, float | None]:
        of = self._cases_of(category)
        return {o: float(len(of[o].cases)) if o in of else 0.0 for o in self.orgs}

    @staticmethod
    def _only_violators(k: _Cases) -> list[Case]:
        return [c for c in k.cases if only_violators_held(c, k.held.get(c.id, set()))]

    def _cases_without_leader_accountability(self, category: str | None) -> dict[str, float | None]:
        of = self._cases_of(category)
        return {o: float(len(self._only_violators(of[o]))) if o in of else 0.0 for o in self.orgs}

    def _leader_accountability_share(self, category: str | None) -> dict[str, float | None]:
        out: dict[str, float | None] = dict.fromkeys(self.orgs)
        for o, k in self._cases_of(category).items():
            decided = [c for c in k.cases if k.held.get(c.id)]
            if o in out and decided:
                out[o] = round(1 - len(self._only_violators(k)) / len(decided), 4)
        return out

    def _days_to_accountability(self, category: str | None) -> dict[str, float | None]:
        out: dict[str, float | None] = dict.fromkeys(self.orgs)
        for o, k in self._cases_of(category).items():
            days = [k.first[c.id] - to_ordinal(c.discovered or c.start) for c in k.cases if c.id in k.first]
            if o in out and days:
                out[o] = float(statistics.median(days))
        return out

    def _soft_share(self, category: str | None) -> dict[str, float | None]:
        out: dict[str, float | None] = dict.fromkeys(self.orgs)
        for o, k in self._cases_of(category).items():
            records = [r for c in k.cases for r in k.records.get(c.id, [])]
            if o in out and records:
                out[o] = round(sum(1 for r in records if r in k.soft) / len(records), 4)
        return out

    # ------------------------------------------------------------ how many records a value rests on
    def support(self, measure: str, category: str | None = None) -> dict[str, int]:
        """The records behind ``measure`` of each organization, where the vocabulary counts them
        (``Measure.support``): actions sent, decided cases, accountability records."""
        category = category if MEASURES[measure].by_category else None
        if MEASURES[measure].support == "actions sent":
            return {o: f.sent for o, f in self.org_figures(category).items()}
        out = dict.fromkeys(self.orgs, 0)
        for o, k in self._cases_of(category).items():
            if o not in out:
                continue
            if measure == "soft_share":
                out[o] = sum(len(k.records.get(c.id, [])) for c in k.cases)
            elif measure == "days_to_accountability":
                out[o] = sum(1 for c in k.cases if c.id in k.first)
            else:
                out[o] = sum(1 for c in k.cases if k.held.get(c.id))
        return out

    # ------------------------------------------------------------ the ids behind a value
    def ids(self, measure: str, category: str | None, org_id: str) -> list[str]:
        """The ids behind ``measure`` of ``org_id`` (what ``MEASURES[measure].ids`` says)."""
        category = category if MEASURES[measure].by_category else None
        if measure in ("received_pressure", "actions_received", "cold"):
            return evidence(self.pressure(category), org_id, "received")
        if measure == "category_coverage":
            return evidence(self.pressure(None), org_id, "received")
        if measure in ("pass_on_ratio", "pass_on_vs_level", "sink"):
            p = self.pressure(category)
            return [i for o in [org_id, *p.children.get(org_id, [])] for i in evidence(p, o, "received")]
        if measure == "weak_share":
            return evidence(self.pressure(category), org_id, "weak")
        if measure == "commission_share":
            return evidence(self.pressure(category), org_id, "commission")
        if measure == "standards_missed":
            return list(self._missed.get(org_id, []))
        if measure == "gaps":
            return list(self._gap_ids.get(org_id, []))
        if measure == "portfolio_gaps":
            return list(self._portfolio.get(org_id, []))
        if measure == "undecomposed_duties":
            return list(self._undecomposed.get(org_id, []))
        if measure == "vacant_seat_days":
            return list(self._seats[1].get(org_id, []))
        if measure == "leader_turnover":
            return list(self._seats[2].get(org_id, []))
        k = self._cases_of(category).get(org_id)
        if k is None:
            return []
        if measure == "cases_without_leader_accountability":
            return [c.id for c in self._only_violators(k)]
        if measure == "soft_share":
            return [r for c in k.cases for r in k.records.get(c.id, [])]
        return [c.id for c in k.cases]
