"""Synthetic datasets in the canonical format (the README, `rtc generate`).

Deterministic for a seed. Plants what the queries must find (pressure that fades
with depth and fades most at one boundary, pressure sinks, commissions doing
committee work, weak-form-heavy senders, leaders moved after cases, soft
accountability, standards missed, portfolio gaps and overlaps, duties not
decomposed) and writes what it planted to ``truth.json``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from graph.model import DEFAULT_WEIGHTS, Category, Level, Role, add_months, default_rank

CATS = [c.value for c in Category]
KINDS = list(DEFAULT_WEIGHTS)
LEVELS = [lv.value for lv in Level]
# Kind mixes: (inspection, interview, report_hearing, guidance, meeting, countersign, document)
# Pressure a standard action adds each year to the organizations the default standards cover.
STANDARD_WEIGHT = {
    ("committee", "township"): DEFAULT_WEIGHTS["interview"],
    ("committee", "county"): DEFAULT_WEIGHTS["inspection"],
}
NORMAL_MIX = np.array([0.10, 0.14, 0.16, 0.14, 0.22, 0.09, 0.15])
WEAK_MIX = np.array([0.02, 0.03, 0.03, 0.02, 0.40, 0.20, 0.30])


@dataclass(frozen=True)
class Preset:
    name: str
    provinces: int = 1
    cities: int = 1  # per province
    counties: int = 1  # per city
    townships: int = 6  # per county
    villages: int = 8  # per township
    departments: tuple[int, int, int] = (2, 2, 2)  # party groups under province, city, county committees
    start_year: int = 2021
    years: int = 5
    village_actions_per_year: float = 3.4
    fade: float = 0.85  # expected R(child level) / R(level) at an ordinary boundary
    steep_level: str = "township"  # the level whose boundary from above fades most
    steep_fade: float = 0.55
    sink_share: float = 0.04  # of county and township committees
    sink_factor: float = 0.12
    commission_heavy_share: float = 0.05
    weak_heavy_share: float = 0.05
    soft_orgs: int = 3
    cases: int = 60
    standard_miss_share: float = 0.05
    portfolio_gap_share: float = 0.04
    decomposition_gap_share: float = 0.02
    late_fill_share: float = 0.04


PRESETS: dict[str, Preset] = {
    "tiny": Preset("tiny", townships=8),
    "county": Preset("county", counties=10, townships=13, cases=600, soft_orgs=6, start_year=2016, years=10),
    "province": Preset(
        "province",
        cities=12,
        counties=9,
        townships=13,
        departments=(10, 6, 4),
        start_year=2016,
        years=10,
        cases=5000,
        soft_orgs=15,
    ),
    "nation": Preset(
        "nation",
        provinces=31,
        cities=12,
        counties=9,
        townships=13,
        departments=(10, 6, 4),
        start_year=2016,
        years=10,
        cases=155000,
        soft_orgs=100,
    ),
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国志红文玲斌东海波辉鹏宇浩凯晨阳博峰林倩婷雪梅兰琳亮成荣新春彬德"
)
PLACE = "东西南北中新安平和兴宁康泰丰华阳山河湖桥溪岭坪石林源田水清云龙凤"


@dataclass
class _Org:
    id: str
    name: str
    kind: str
    level: str
    parent: str | None
    children: list[str] = field(default_factory=list)
    positions: list[str] = field(default_factory=list)
    commission: str | None = None


@dataclass
class _Term:
    position: str
    start: int  # ordinal
    end: int | None
    person: str


class Generator:
    """One shard of a dataset: every province of ``provinces`` (default: all of the preset's),
    with ids numbered from ``offsets`` (so shards written one after another never collide).
    ``central`` says whether this shard writes the central committee and its commission; a
    shard without them still builds them (they are its provinces' parent) but gives them no
    positions, and leaves their rows to the shard that owns them."""

    def __init__(
        self,
        preset: Preset,
        seed: int,
        *,
        provinces: range | None = None,
        offsets: dict[str, int] | None = None,
        central: bool = True,
    ) -> None:
        self.p = preset
        self.provinces = provinces if provinces is not None else range(preset.provinces)
        self.offsets = {"U": 0, "X": 0, "A": 0, "K": 0, "Q": 0, **(offsets or {})}
        self.central = central
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.orgs: dict[str, _Org] = {}
        self.positions: dict[str, dict[str, Any]] = {}
        self.persons: dict[str, dict[str, Any]] = {}
        self.t0 = dt.date(preset.start_year, 1, 1).toordinal()
        self.t1 = dt.date(preset.start_year + preset.years, 1, 1).toordinal()
        self.truth: dict[str, Any] = {"preset": asdict(preset), "seed": seed}

    # ------------------------------------------------------------ hierarchy
    def _org(self, oid: str, name: str, kind: str, level: str, parent: str | None) -> _Org:
        org = _Org(oid, name, kind, level, parent)
        self.orgs[oid] = org
        if parent:
            self.orgs[parent].children.append(oid)
        return org

    def _place(self) -> str:
        return "".join(self.rng.choice(PLACE) for _ in range(2))

    def _unit(self, oid: str, name: str, level: str, parent: str | None, kind: str = "committee") -> _Org:
        committee = self._org(oid, f"{name}委员会", kind, level, parent)
        if kind == "committee":
            commission = self._org(f"{oid}-JW", f"{name}纪律检查委员会", "commission", level, oid)
            committee.commission = commission.id
        return committee

    def build_hierarchy(self) -> None:
        p = self.p
        self._unit("C", "中央", "central", None)
        for pi in self.provinces:
            prov = self._unit(f"P{pi:02d}", f"{self._place()}省", "province", "C")
            self._departments(prov, p.departments[0])
            for ci in range(p.cities):
                city = self._unit(f"{prov.id}-{ci:02d}", f"{self._place()}市", "city", prov.id)
                self._departments(city, p.departments[1])
                for ki in range(p.counties):
                    county = self._unit(f"{city.id}-{ki:02d}", f"{self._place()}县", "county", city.id)
                    self._departments(county, p.departments[2])
                    for ti in range(p.townships):
                        town = self._unit(f"{county.id}-{ti:02d}", f"{self._place()}镇", "township", county.id)
                        for vi in range(p.villages):
                            self._unit(
                                f"{town.id}-{vi:02d}", f"{self._place()}村党支部", "village", town.id, kind="branch"
                            )

    def _departments(self, parent: _Org, n: int) -> None:
        names = ["组织部", "宣传部", "发改委", "财政局", "教育局", "公安局", "卫健委", "交通局", "农业局", "审计局"]
        for i in range(n):
            self._org(
                f"{parent.id}-D{i}",
                f"{parent.name.removesuffix('委员会')}{names[i % len(names)]}党组",
                "party_group",
                parent.level,
                parent.id,
            )

    # ------------------------------------------------------------ positions
    def build_positions(self) -> None:
        gap_orgs: list[str] = []
        overlap_orgs: list[str] = []
        for org in self.orgs.values():
            level = Level(org.level)
            if not self.central and org.level == "central":
                continue  # another shard owns the central committee
            if org.kind == "commission":
                self._position(org, "discipline_secretary", "纪委书记", level)
                self._position(org, "staff", "纪检干部", level)
                continue
            self._position(org, "secretary", "书记", level)
            members = 3 if org.kind == "committee" else 2
            if org.kind == "committee":
                self._position(org, "deputy_secretary", "副书记", level)
            portfolios = [CATS[i::members] for i in range(members)]
            if org.kind == "committee" and self.rng.random() < self.p.portfolio_gap_share:
                if self.rng.random() < 0.5:
                    portfolios[0] = portfolios[0][1:]  # one category left to nobody
                    gap_orgs.append(org.id)
                else:
                    portfolios[1] = [*portfolios[1], portfolios[0][0]]  # one category in two portfolios
                    overlap_orgs.append(org.id)
            for i, cats in enumerate(portfolios):
                self._position(org, "member", f"班子成员{i + 1}", level, cats)
            self._position(org, "staff", "工作人员", level)
        self.truth["portfolio_gap_orgs"] = sorted(gap_orgs)
        self.truth["portfolio_overlap_orgs"] = sorted(overlap_orgs)

    def _position(self, org: _Org, role: str, title: str, level: Level, portfolio: list[str] | None = None) -> None:
        pid = f"{org.id}/{role[:3]}{len(org.positions)}"
        self.positions[pid] = {
            "id": pid,
            "org_id": org.id,
            "title": f"{org.name}{title}",
            "role": role,
            "rank": default_rank(level, Role(role)),
            "portfolio": ";".join(portfolio or []),
        }
        org.positions.append(pid)

    # ------------------------------------------------------------ people and moves
    def _person(self) -> str:
        pid = f"U{self.offsets['U'] + len(self.persons):07d}"
        name = self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))
        birth = self.rng.randint(1960, 1995)
        self.persons[pid] = {"id": pid, "name": name, "gender": self.rng.choice("男女"), "birth": str(birth)}
        return pid

    def _month_after(self, day: int, months: int) -> int:
        return add_months(dt.date.fromordinal(day), months).toordinal()

    def build_tenures(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[_Term]]:
        """Initial holders as tenure rows; every later move as a change row."""
        rng = self.rng
        tenure_rows: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        terms: list[_Term] = []
        vacancies: dict[int, list[str]] = {}  # month ordinal -> positions to fill
        for pid in self.positions:
            person = self._person()
            start = self._month_after(self.t0, -rng.randint(1, 36))
            end = self._month_after(self.t0, rng.randint(1, 40))
            term = _Term(pid, start, end, person)
            terms.append(term)
            vacancies.setdefault(end, []).append(pid)
            tenure_rows.append(
                {"person_id": person, "position_id": pid, "start": dt.date.fromordinal(start).isoformat(), "end": ""}
            )
        holder: dict[str, _Term | None] = {t.position: t for t in terms}
        month = self._month_after(self.t0, 1)
        while month < self.t1:
            todo = vacancies.pop(month, [])
            day = dt.date.fromordinal(month).isoformat()
            leavers: dict[int, list[_Term]] = {}
            for pid in todo:
                current = holder[pid]
                if current is not None and current.end == month:
                    leavers.setdefault(self.positions[pid]["rank"], []).append(current)
                    holder[pid] = None
            for same_rank in leavers.values():
                rng.shuffle(same_rank)
            for pid in todo:
                if rng.random() < self.p.late_fill_share:  # the seat stays vacant for a few months
                    vacancies.setdefault(self._month_after(month, rng.randint(1, 3)), []).append(pid)
                    continue
                rank = self.positions[pid]["rank"]
                r = rng.random()
                pool: list[_Term] | None = (
                    leavers.get(rank)
                    if r < 0.35
                    else (leavers.get(rank - rng.choice((4, 6, 8, 10))) if r < 0.6 else None)
                )
                mover = None
                if pool and pool[-1].position == pid and len(pool) > 1:
                    pool[-1], pool[-2] = pool[-2], pool[-1]
                if pool and pool[-1].position != pid:
                    mover = pool.pop()
                if mover is None:
                    person = self._person()
                    changes.append(
                        {
                            "id": f"X{self.offsets['X'] + len(changes):07d}",
                            "date": day,
                            "kind": "appoint",
                            "person_id": person,
                            "from_position_id": "",
                            "to_position_id": pid,
                            "source": "组织部文件",
                        }
                    )
                else:
                    person = mover.person
                    a, b = self.positions[mover.position]["rank"], rank
                    kind = "promote" if b > a else "transfer" if b == a else "demote"
                    changes.append(
                        {
                            "id": f"X{self.offsets['X'] + len(changes):07d}",
                            "date": day,
                            "kind": kind,
                            "person_id": person,
                            "from_position_id": mover.position,
                            "to_position_id": pid,
                            "source": "组织部文件",
                        }
                    )
                term = _Term(pid, month, self._month_after(month, rng.randint(12, 48)), person)
                terms.append(term)
                holder[pid] = term
                vacancies.setdefault(term.end or 0, []).append(pid)
            for remaining in leavers.values():  # not moved to another post: they leave
                for old in remaining:
                    kind = "retire" if rng.random() < 0.3 else "remove"
                    changes.append(
                        {
                            "id": f"X{self.offsets['X'] + len(changes):07d}",
                            "date": day,
                            "kind": kind,
                            "person_id": old.person,
                            "from_position_id": old.position,
                            "to_position_id": "",
                            "source": "组织部文件",
                        }
                    )
            month = self._month_after(month, 1)
        for t in terms:
            if t.end is not None and t.end >= self.t1:
                t.end = None
        return tenure_rows, changes, terms

    # ------------------------------------------------------------ actions
    def _pick(self, pool: list[_Org], share: float) -> set[str]:
        """A planted subset: ``share`` of the pool, at least one."""
        if not pool:
            return set()
        return {o.id for o in self.rng.sample(pool, max(1, round(share * len(pool))))}

    def _senders(self) -> list[_Org]:
        return [o for o in self.orgs.values() if o.kind != "commission" and o.children]

    def build_actions(self) -> list[dict[str, Any]]:
        p, rng = self.p, self.rng
        depth = {lv: i for i, lv in enumerate(LEVELS)}
        steep = depth[p.steep_level]
        weights = np.array([DEFAULT_WEIGHTS[k] for k in KINDS])
        mean_weight = float(NORMAL_MIX @ weights)
        # planted pressure per organization-year by level: the village base, growing upwards by 1/fade
        target = {"village": p.village_actions_per_year * mean_weight}
        for i in range(len(LEVELS) - 2, -1, -1):
            target[LEVELS[i]] = target[LEVELS[i + 1]] / (p.steep_fade if i + 1 == steep else p.fade)
        committees = [o for o in self.orgs.values() if o.kind == "committee" and o.level in ("county", "township")]
        sinks = self._pick(committees, p.sink_share)
        senders = [o for o in self._senders() if o.level != "central"]
        heavy = self._pick([o for o in senders if o.kind == "committee" and o.commission], p.commission_heavy_share)
        weak = self._pick([o for o in senders if o.id not in sinks and o.id not in heavy], p.weak_heavy_share)
        self.truth.update(sinks=sorted(sinks), commission_heavy=sorted(heavy), weak_heavy=sorted(weak))
        src, dst, n = [], [], []
        years = p.years
        for sender in self._senders():
            for cid in sender.children:
                child = self.orgs[cid]
                if child.kind == "commission":
                    continue
                goal = target[child.level] - STANDARD_WEIGHT.get((child.kind, child.level), 0.0)
                expected = max(goal, 0.0) / mean_weight * years  # standard actions are part of the target
                if sender.id in sinks:
                    expected *= p.sink_factor
                if sender.id in weak:
                    expected *= 2.0  # a flood of circulars and meetings: as many points, little pressure
                src.append(sender.id)
                dst.append(cid)
                n.append(round(expected * rng.uniform(0.9, 1.1)))
        counts = np.asarray(n)
        frm = np.repeat(np.asarray(src, dtype=object), counts)
        to = np.repeat(np.asarray(dst, dtype=object), counts)
        total = len(frm)
        dates = self.np.integers(self.t0, self.t1, size=total)
        weak_mask = np.isin(frm, list(weak))
        kind = np.where(
            weak_mask, self.np.choice(7, size=total, p=WEAK_MIX), self.np.choice(7, size=total, p=NORMAL_MIX)
        )
        cat = self.np.integers(0, len(CATS), size=total)
        commission_prob = np.where(np.isin(frm, list(heavy)), 0.85, 0.08)
        by_commission = (self.np.random(total) < commission_prob) & (cat != CATS.index("case_support"))
        misses = self._standard_misses()
        rows = []
        for i in range(total):
            f, t = frm[i], to[i]
            k = int(kind[i])
            year = dt.date.fromordinal(int(dates[i])).year
            if KINDS[k] in ("interview", "inspection") and (t, year, KINDS[k]) in misses:
                k = KINDS.index("report_hearing")
            commission = self.orgs[f].commission
            by = commission if (by_commission[i] and commission) else f
            rows.append(
                {
                    "id": f"A{self.offsets['A'] + i:08d}",
                    "date": dt.date.fromordinal(int(dates[i])).isoformat(),
                    "kind": KINDS[k],
                    "from_org_id": f,
                    "to_org_id": t,
                    "category": CATS[int(cat[i])],
                    "by_org_id": by,
                }
            )
        rows.extend(self._standard_actions(misses, len(rows), heavy))
        rows.sort(key=lambda r: (r["date"], r["id"]))
        return rows

    def _standard_misses(self) -> set[tuple[str, int, str]]:
        """(org, year, kind) where the planted standards are missed."""
        slots = [
            (org.id, year, "interview" if org.level == "township" else "inspection")
            for org in self.orgs.values()
            if org.kind == "committee" and org.level in ("township", "county")
            for year in range(self.p.start_year, self.p.start_year + self.p.years)
        ]
        out = set(self.rng.sample(slots, max(1, round(self.p.standard_miss_share * len(slots)))))
        self.truth["standard_misses"] = sorted([list(m) for m in out])
        return out

    def _standard_actions(
        self, misses: set[tuple[str, int, str]], offset: int, heavy: set[str]
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for org in self.orgs.values():
            if org.kind != "committee" or org.level not in ("township", "county") or not org.parent:
                continue
            kind = "interview" if org.level == "township" else "inspection"
            for year in range(self.p.start_year, self.p.start_year + self.p.years):
                if (org.id, year, kind) in misses:
                    continue
                day = dt.date(year, self.rng.randint(1, 12), self.rng.randint(1, 28)).isoformat()
                category = self.rng.choice(CATS)
                by = org.parent  # a commission-heavy sender lets its commission do these too
                commission = self.orgs[org.parent].commission
                if org.parent in heavy and commission and category != "case_support" and self.rng.random() < 0.85:
                    by = commission
                rows.append(
                    {
                        "id": f"A{self.offsets['A'] + offset + len(rows):08d}",
                        "date": day,
                        "kind": kind,
                        "from_org_id": org.parent,
                        "to_org_id": org.id,
                        "category": category,
                        "by_org_id": by,
                    }
                )
        return rows

    def standards(self) -> list[dict[str, Any]]:
        return [
            {
                "id": "S-township-interview",
                "level": "township",
                "action_kind": "interview",
                "min_count": 1,
                "period": "year",
                "org_kind": "committee",
                "category": "",
                "description": "每个乡镇党委书记每年至少被约谈一次",
            },
            {
                "id": "S-county-inspection",
                "level": "county",
                "action_kind": "inspection",
                "min_count": 1,
                "period": "year",
                "org_kind": "committee",
                "category": "",
                "description": "每个县级党委每年至少接受一次检查",
            },
        ]

    # ------------------------------------------------------------ cases
    def build_cases(self, terms: list[_Term]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        p, rng = self.p, self.rng
        by_position: dict[str, list[_Term]] = {}
        for t in terms:
            by_position.setdefault(t.position, []).append(t)
        candidates = [o for o in self.orgs.values() if o.kind in ("committee", "branch") and o.level != "central"]
        weights = [{"village": 6, "township": 3, "county": 1}.get(o.level, 0.2) for o in candidates]
        township_pool = [o for o in candidates if o.level == "township"]
        soft = set(o.id for o in rng.sample(township_pool, min(p.soft_orgs, len(township_pool))))
        self.truth["soft_orgs"] = sorted(soft)
        orgs = [self.orgs[o] for o in rng.sample(sorted(soft), len(soft)) for _ in range(8)]
        orgs += rng.choices(candidates, weights, k=max(0, p.cases - len(orgs)))
        cases: list[dict[str, Any]] = []
        outcomes: list[dict[str, Any]] = []
        not_done = []
        for i, org in enumerate(orgs):
            start = rng.randint(self.t0, self.t1 - 400)
            end = min(start + rng.randint(30, 540), self.t1 - 1)
            cat = rng.choice(CATS)
            violators = []
            for pid in org.positions:
                if self.positions[pid]["role"] in ("member", "staff") and rng.random() < 0.5:
                    violators += [t.person for t in by_position.get(pid, ()) if t.start <= start < (t.end or 10**9)]
            violators = violators[:2]
            cid = f"K{self.offsets['K'] + i:06d}"
            cases.append(
                {
                    "id": cid,
                    "org_id": org.id,
                    "category": cat,
                    "start": dt.date.fromordinal(start).isoformat(),
                    "end": dt.date.fromordinal(end).isoformat(),
                    "discovered": dt.date.fromordinal(min(end + rng.randint(10, 200), self.t1 - 1)).isoformat(),
                    "severity": rng.choice(("一般", "较重", "严重")),
                    "violator_ids": ";".join(violators),
                }
            )
            is_soft = org.id in soft
            decided = dt.date.fromordinal(min(end + rng.randint(60, 300), self.t1 - 1)).isoformat()
            for person in violators:
                outcome = (
                    rng.choice(("criticism", "admonishment"))
                    if is_soft
                    else rng.choice(("disciplinary", "disciplinary", "organizational", "admonishment"))
                )
                outcomes.append(
                    {
                        "id": f"Q{self.offsets['Q'] + len(outcomes):07d}",
                        "case_id": cid,
                        "person_id": person,
                        "outcome": outcome,
                        "date": decided,
                    }
                )
            if violators and rng.random() < (0.85 if is_soft else 0.25):
                not_done.append(cid)
                continue
            secretary = next((pid for pid in org.positions if self.positions[pid]["role"] == "secretary"), None)
            for t in by_position.get(secretary or "", ()):
                if t.start < end and (t.end or 10**9) > start and t.person not in violators:
                    outcome = (
                        rng.choice(("criticism", "admonishment"))
                        if is_soft
                        else rng.choice(
                            ("criticism", "admonishment", "organizational", "organizational", "disciplinary")
                        )
                    )
                    outcomes.append(
                        {
                            "id": f"Q{self.offsets['Q'] + len(outcomes):07d}",
                            "case_id": cid,
                            "person_id": t.person,
                            "outcome": outcome,
                            "date": decided,
                        }
                    )
        self.truth["double_investigation_not_done"] = sorted(not_done)
        return cases, outcomes

    # ------------------------------------------------------------ duties
    def build_duties(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        gaps = []
        for org in self.orgs.values():
            if org.kind not in ("committee", "branch"):
                continue
            for cat in CATS:
                parent_duty = ""
                parent = self.orgs.get(org.parent or "")
                if parent is not None and parent.kind == "committee":
                    parent_duty = f"{parent.id}#{cat}"
                rows.append(
                    {
                        "id": f"{org.id}#{cat}",
                        "org_id": org.id,
                        "category": cat,
                        "parent_duty_id": parent_duty,
                        "description": f"{org.name}{Category(cat).zh}主体责任",
                    }
                )
        skip = {
            r["id"]
            for r in rows
            if r["org_id"] != "C"
            and not r["org_id"].count("-") >= 4
            and self.rng.random() < self.p.decomposition_gap_share
        }
        for r in rows:
            if r["parent_duty_id"] in skip:
                r["parent_duty_id"] = ""
        has_children = {r["parent_duty_id"] for r in rows if r["parent_duty_id"]}
        gaps = [
            d
            for d in skip
            if d not in has_children
            and any(self.orgs[c].kind in ("committee", "branch") for c in self.orgs[d.split("#")[0]].children)
        ]
        self.truth["undecomposed_duties"] = sorted(gaps)
        return rows

    # ------------------------------------------------------------ output
    def organizations(self) -> list[dict[str, Any]]:
        return [
            {
                "id": o.id,
                "name": o.name,
                "kind": o.kind,
                "level": o.level,
                "parent_id": o.parent or "",
                "supervised_by": "",
                "valid_from": "",
                "valid_to": "",
            }
            for o in self.orgs.values()
        ]


HEADERS = {
    "organizations": ["id", "name", "kind", "level", "parent_id", "supervised_by", "valid_from", "valid_to"],
    "positions": ["id", "org_id", "title", "role", "rank", "portfolio"],
    "persons": ["id", "name", "gender", "birth"],
    "tenures": ["person_id", "position_id", "start", "end"],
    "changes": ["id", "date", "kind", "person_id", "from_position_id", "to_position_id", "source"],
    "duties": ["id", "org_id", "category", "parent_duty_id", "description"],
    "actions": ["id", "date", "kind", "from_org_id", "to_org_id", "category", "by_org_id"],
    "cases": ["id", "org_id", "category", "start", "end", "discovered", "severity", "violator_ids"],
    "accountability": ["id", "case_id", "person_id", "outcome", "date"],
    "standards": ["id", "level", "action_kind", "min_count", "period", "org_kind", "category", "description"],
}
TRUTH_LISTS = (
    "portfolio_gap_orgs",
    "portfolio_overlap_orgs",
    "sinks",
    "commission_heavy",
    "weak_heavy",
    "standard_misses",
    "soft_orgs",
    "double_investigation_not_done",
    "undecomposed_duties",
    "worked_examples",
)


class _Files:
    """One CSV writer per entity, open for the whole run: shards append to them in turn."""

    def __init__(self, folder: Path) -> None:
        self.handles = {e: (folder / f"{e}.csv").open("w", encoding="utf-8", newline="") for e in HEADERS}
        self.writers = {e: csv.DictWriter(fh, fieldnames=HEADERS[e]) for e, fh in self.handles.items()}
        for w in self.writers.values():
            w.writeheader()
        self.counts = dict.fromkeys(HEADERS, 0)

    def write(self, entity: str, rows: Iterable[dict[str, Any]]) -> int:
        n = 0
        writer = self.writers[entity]
        for row in rows:
            writer.writerow(row)
            n += 1
        self.counts[entity] += n
        return n

    def close(self) -> None:
        for fh in self.handles.values():
            fh.close()


def _share(total: int, parts: int, k: int) -> int:
    """Part ``k`` of ``total`` split into ``parts`` nearly equal whole parts."""
    return total // parts + (1 if k < total % parts else 0)


def generate(out: str | Path, preset: str | Preset = "tiny", seed: int = 7, **overrides: Any) -> dict[str, Any]:
    """Write a dataset folder for ``preset`` and return what was planted (also ``truth.json``).

    A preset of several provinces is generated one province at a time (a shard), each
    appended to the files before the next is built, so memory stays that of one province
    however many there are. Shard ``k`` has its own seed; ids run on across shards.

    Examples
    --------
    >>> truth = generate("/tmp/tiny", "tiny", seed=1)  # doctest: +SKIP
    >>> truth["steepest_fade"]  # doctest: +SKIP
    {'from_level': 'county', 'to_level': 'township'}
    """
    spec = PRESETS[preset] if isinstance(preset, str) else preset
    if overrides:
        spec = replace(spec, **overrides)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    files = _Files(folder)
    truth: dict[str, Any] = {}
    offsets = {"U": 0, "X": 0, "A": 0, "K": 0, "Q": 0}
    shards = 1 if spec.provinces == 1 else spec.provinces
    try:
        for k in range(shards):
            if shards == 1:
                g = Generator(spec, seed)
            else:
                part = replace(spec, cases=_share(spec.cases, shards, k), soft_orgs=_share(spec.soft_orgs, shards, k))
                g = Generator(part, seed * 100_003 + k, provinces=range(k, k + 1), offsets=offsets, central=k == 0)
            written = _write_shard(g, files)
            for key, n in written.items():
                offsets[key] += n
            for key, value in g.truth.items():
                if key in TRUTH_LISTS:
                    truth.setdefault(key, []).extend(value)
                else:
                    truth.setdefault(key, value)
            del g
            gc.collect()
    finally:
        files.close()
    truth["preset"] = asdict(spec)
    truth["seed"] = seed
    truth["worked_examples"] = truth.get("worked_examples", [])[:50]
    truth["counts"] = files.counts
    (folder / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth


def _write_shard(g: Generator, files: _Files) -> dict[str, int]:
    """Build one shard, append its rows, and return how many ids of each series it used."""
    spec = g.p
    g.build_hierarchy()
    g.build_positions()
    tenure_rows, changes, terms = g.build_tenures()
    actions = g.build_actions()
    cases, outcomes = g.build_cases(terms)
    duties = g.build_duties()
    steep = LEVELS.index(spec.steep_level)
    g.truth["steepest_fade"] = {"from_level": LEVELS[steep - 1], "to_level": LEVELS[steep]}
    g.truth["window"] = {"from": dt.date.fromordinal(g.t0).isoformat(), "to": dt.date.fromordinal(g.t1).isoformat()}
    g.truth["worked_examples"] = _moved_leader_cases(g, cases, changes)
    owned = [o for o in g.organizations() if g.central or o["level"] != "central"]
    files.write("organizations", owned)
    files.write("positions", g.positions.values())
    files.write("persons", g.persons.values())
    files.write("tenures", tenure_rows)
    files.write("changes", changes)
    files.write("duties", (d for d in duties if g.central or g.orgs[d["org_id"]].level != "central"))
    files.write("actions", actions)
    files.write("cases", cases)
    files.write("accountability", outcomes)
    if g.central:
        files.write("standards", g.standards())
    return {"U": len(g.persons), "X": len(changes), "A": len(actions), "K": len(cases), "Q": len(outcomes)}


def _moved_leader_cases(g: Generator, cases: list[dict[str, Any]], changes: list[dict[str, Any]]) -> list[str]:
    """Cases whose secretary at the time was later promoted and a portfolio member later transferred."""
    moved: dict[tuple[str, str], tuple[str, str]] = {}  # (person, from_position) -> (kind, date)
    for c in changes:
        if c["kind"] in ("promote", "transfer") and c["from_position_id"]:
            moved[(c["person_id"], c["from_position_id"])] = (c["kind"], c["date"])
    by_position: dict[str, list[tuple[str, str]]] = {}
    for (_, pos), (kind, day) in moved.items():
        by_position.setdefault(pos, []).append((kind, day))
    out = []
    for case in cases:
        org = g.orgs[case["org_id"]]
        kinds = set()
        for pid in org.positions:
            role = g.positions[pid]["role"]
            for kind, day in by_position.get(pid, ()):
                if day > case["end"] and (
                    (role == "secretary" and kind == "promote")
                    or (role == "member" and case["category"] in g.positions[pid]["portfolio"] and kind == "transfer")
                ):
                    kinds.add(role)
        if kinds == {"secretary", "member"}:
            out.append(case["id"])
    return out[:50]
