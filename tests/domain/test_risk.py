"""Risk classification (plan points 4 and 5), measure dates and the risk templates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.places import Place
from bot.domain.regions import Region
from bot.domain.risk import (
    FEVER_THRESHOLD,
    MEASURE_KINDS,
    RISK_CATEGORIES,
    SYMPTOMS,
    Assessment,
    MeasurePlan,
    Reason,
    RiskFacts,
    assess,
    plan_measure,
)
from bot.runtime.render import LOCALES, Renderer


@dataclass(frozen=True)
class M:
    kind: str
    days: int
    test_days: tuple[int, ...]
    alert: bool


# As in config.example.toml.
MEASURES = {
    "symptomatic": M("medical_care", 14, (1,), True),
    "overseas": M("centralized_isolation", 14, (1, 7, 14), True),
    "high_risk": M("centralized_isolation", 14, (1, 7, 14), True),
    "red_code": M("centralized_isolation", 14, (1, 7, 14), True),
    "medium_risk": M("home_observation", 14, (1, 7, 14), False),
    "yellow_code": M("home_monitoring", 7, (1, 7), False),
    "quarantine_done": M("home_monitoring", 7, (7,), False),
    "low": M("self_monitoring", 14, (), False),
}

ARRIVAL = date(2020, 10, 26)
WUHAN_JIANGHAN = Place("湖北省", "武汉市", "江汉区")
WUHAN_WUCHANG = Place("湖北省", "武汉市", "武昌区")
QINGDAO_SHIBEI = Place("山东省", "青岛市", "市北区")
QINGDAO = Place("山东省", "青岛市", None)
SHANDONG = Place("山东省", None, None)
KASHGAR = Place("新疆维吾尔自治区", "喀什地区", "喀什市")
BINHAI = Place("天津市", None, "滨海新区")
JIANGJIN = Place("重庆市", None, "江津区")
CHENGDU = Place("四川省", "成都市", "武侯区")

R_KASHGAR = Region("新疆维吾尔自治区", "喀什地区", None, "high", date(2020, 10, 24), None)
R_QINGDAO = Region("山东省", "青岛市", None, "medium", date(2020, 10, 11), date(2020, 11, 30))
R_BINHAI = Region("天津市", None, "滨海新区", "medium", date(2020, 10, 1), None)
R_JIANGHAN = Region("湖北省", "武汉市", "江汉区", "high", date(2020, 10, 1), None)
R_HUBEI = Region("湖北省", None, None, "medium", date(2020, 10, 1), None)
REGIONS = (R_KASHGAR, R_QINGDAO, R_BINHAI, R_JIANGHAN)


def facts(**changes: object) -> RiskFacts:
    base = RiskFacts(
        overseas=False,
        origin=CHENGDU,
        travel=(),
        arrival_date=ARRIVAL,
        health_code="green",
        temperature=36.5,
        symptoms=frozenset(),
        quarantine_done=False,
    )
    return replace(base, **changes)


def run(f: RiskFacts, regions: tuple[Region, ...] = REGIONS, **kw: object) -> Assessment:
    return assess(f, regions, MEASURES, **kw)  # type: ignore[arg-type]


def codes(a: Assessment) -> list[str]:
    return [r.code for r in a.reasons]


# ---- each rule ----


def test_low_risk_by_default() -> None:
    a = run(facts())
    assert (a.category, a.reasons, a.alert, a.regions) == ("low", (), False, ())
    assert a.measure is MEASURES["low"]


def test_no_health_code_and_no_temperature_is_low() -> None:
    assert run(facts(health_code=None, temperature=None)).category == "low"


@pytest.mark.parametrize(
    ("temperature", "feverish"), [(37.2, False), (FEVER_THRESHOLD, True), (38.5, True)]
)
def test_fever_threshold(temperature: float, feverish: bool) -> None:
    a = run(facts(temperature=temperature))
    if feverish:
        assert a.category == "symptomatic"
        assert a.reasons == (Reason("fever", (("temperature", temperature),)),)
        assert a.alert
        assert a.measure.kind == "medical_care"
    else:
        assert a.category == "low"


def test_symptoms_in_plan_order() -> None:
    a = run(facts(symptoms=frozenset({"diarrhoea", "dry_cough", "fever"})))
    assert a.category == "symptomatic"
    assert a.reasons == (Reason("symptoms", (("names", ("fever", "dry_cough", "diarrhoea")),)),)


def test_fever_and_symptoms_both_listed() -> None:
    a = run(facts(temperature=38.0, symptoms=frozenset({"fatigue"})))
    assert codes(a) == ["fever", "symptoms"]


def test_overseas() -> None:
    a = run(facts(overseas=True, origin=None))
    assert (a.category, codes(a), a.alert) == ("overseas", ["overseas"], True)
    assert a.measure.kind == "centralized_isolation"


def test_red_and_yellow_codes() -> None:
    red = run(facts(health_code="red"))
    assert (red.category, codes(red), red.alert) == ("red_code", ["code_red"], True)
    yellow = run(facts(health_code="yellow"))
    assert (yellow.category, codes(yellow), yellow.alert) == (
        "yellow_code",
        ["code_yellow"],
        False,
    )
    assert run(facts(health_code="purple")).category == "low"


def test_quarantine_done_by_own_word_stays_key_control() -> None:
    """Entered via Shanghai, quarantined there, drove on: still from abroad until a worker saw
    the release certificate; alerts even with a quiet overseas measure."""
    quiet = {k: replace(m, alert=False) for k, m in MEASURES.items()}
    for changes in ({"origin": Place("上海市", None, "浦东新区")},
                    {"overseas": True, "origin": None}):  # fmt: skip
        a = assess(facts(quarantine_done=True, **changes), REGIONS, quiet)
        assert (a.category, codes(a), a.alert) == (
            "overseas", ["overseas", "certificate_pending"], True)  # fmt: skip
        assert a.measure is quiet["overseas"]
        assert (a.certificate_pending, a.positive) == (True, False)


def test_quarantine_done_with_a_checked_certificate_replaces_overseas() -> None:
    """Served the first-entry quarantine, certificate seen: filed (备案), not isolated again."""
    a = run(facts(overseas=True, origin=None, quarantine_done=True, certificate_checked=True))
    assert (a.category, codes(a), a.alert) == ("quarantine_done", ["quarantine_done"], False)
    assert not a.certificate_pending


def test_a_checked_certificate_alone_changes_nothing() -> None:
    a = run(facts(overseas=True, origin=None, certificate_checked=True))
    assert (a.category, codes(a)) == ("overseas", ["overseas"])


@pytest.mark.parametrize(
    ("changes", "category", "reasons"),
    [
        ({}, "symptomatic", ["positive"]),
        ({"overseas": True, "origin": None}, "symptomatic", ["positive", "overseas"]),
        ({"temperature": 38.0}, "symptomatic", ["positive", "fever"]),
        ({"health_code": "red", "origin": KASHGAR}, "symptomatic",
         ["positive", "region_high", "code_red"]),
    ],
)  # fmt: skip
def test_positive_test_comes_first_and_always_alerts(
    changes: dict[str, object], category: str, reasons: list[str]
) -> None:
    """A green code and a positive result is not low risk: medical care, alert, case."""
    quiet = {k: replace(m, alert=False) for k, m in MEASURES.items()}
    a = assess(facts(test_result="positive", **changes), REGIONS, quiet)
    assert (a.category, codes(a), a.alert, a.positive) == (category, reasons, True, True)
    assert a.measure.kind == "medical_care"


@pytest.mark.parametrize("result", ["negative", "pending", None, "", "POSITIVE"])
def test_other_results_are_not_positive(result: str | None) -> None:
    a = run(facts(test_result=result))
    assert (a.category, a.alert, a.positive) == ("low", False, False)


def test_high_risk_region_from_origin() -> None:
    a = run(facts(origin=KASHGAR))
    assert a.category == "high_risk"
    assert a.reasons == (
        Reason("region_high", (("place", "新疆维吾尔自治区 喀什地区"), ("risk", "high"))),
    )
    assert a.regions == (R_KASHGAR,)
    assert a.alert


def test_medium_risk_region_from_travel() -> None:
    a = run(facts(travel=(JIANGJIN, QINGDAO_SHIBEI)))
    assert (a.category, codes(a), a.alert) == ("medium_risk", ["region_medium"], False)
    assert a.regions == (R_QINGDAO,)
    assert a.measure.kind == "home_observation"


# ---- containment ----


@pytest.mark.parametrize(
    ("place", "region", "inside"),
    [
        (WUHAN_JIANGHAN, R_HUBEI, True),  # a province contains its districts
        (Place("湖北省", "宜昌市", None), R_HUBEI, True),  # ... and its cities
        (SHANDONG, R_HUBEI, False),
        (QINGDAO_SHIBEI, R_QINGDAO, True),  # a city contains its districts
        (QINGDAO, R_QINGDAO, True),
        (Place("山东省", "济南市", "历下区"), R_QINGDAO, False),
        (SHANDONG, R_QINGDAO, False),  # less precise than the region: see region_possible
        (WUHAN_JIANGHAN, R_JIANGHAN, True),  # district level
        (WUHAN_WUCHANG, R_JIANGHAN, False),
        (Place("湖北省", "武汉市", None), R_JIANGHAN, False),
        (BINHAI, R_BINHAI, True),  # a municipality's district, no city level
        (Place("天津市", None, "和平区"), R_BINHAI, False),
    ],
)
def test_containment(place: Place, region: Region, inside: bool) -> None:
    a = run(facts(origin=place), regions=(region,))
    assert (a.regions == (region,)) is inside
    # a place less precise than a region inside it is flagged, never low (issue 10)
    flagged = inside or "region_possible" in codes(a)
    assert (a.category != "low") is flagged


# ---- validity window ----


def _qingdao_until(until: date) -> Region:
    return Region("山东省", "青岛市", None, "medium", date(2020, 9, 1), until)


def test_region_ended_the_day_before_the_window_does_not_match() -> None:
    region = _qingdao_until(ARRIVAL - timedelta(days=15))
    assert run(facts(origin=QINGDAO), regions=(region,)).category == "low"


def test_region_ending_on_the_windows_first_day_matches() -> None:
    region = _qingdao_until(ARRIVAL - timedelta(days=14))
    assert run(facts(origin=QINGDAO), regions=(region,)).category == "medium_risk"


def test_region_starting_on_arrival_day_matches_but_not_the_day_after() -> None:
    on = replace(R_QINGDAO, start=ARRIVAL, until=None)
    after = replace(R_QINGDAO, start=ARRIVAL + timedelta(days=1), until=None)
    assert run(facts(origin=QINGDAO), regions=(on,)).category == "medium_risk"
    assert run(facts(origin=QINGDAO), regions=(after,)).category == "low"


def test_lookback_days_widens_the_window() -> None:
    region = _qingdao_until(ARRIVAL - timedelta(days=20))
    assert run(facts(origin=QINGDAO), regions=(region,)).category == "low"
    assert run(facts(origin=QINGDAO), regions=(region,), lookback_days=21).category == (
        "medium_risk"
    )


# ---- assessed later than the arrival (submit after arriving, a re-screen) ----

_LISTED_TODAY = replace(R_QINGDAO, start=ARRIVAL + timedelta(days=3), until=None)


@pytest.mark.parametrize(
    ("start_after_arrival", "as_of_after_arrival", "category"),
    [
        (3, 3, "medium_risk"),  # listed "from today", arrived 3 days ago
        (3, 2, "low"),  # not in force yet on the assessment day
        (3, None, "low"),  # by default assessed on the arrival day
        (0, -5, "medium_risk"),  # registered ahead of the arrival: the arrival day still counts
        (1, -5, "low"),
        (20, 20, "medium_risk"),  # however long after the arrival it was listed
    ],
)
def test_a_region_in_force_by_the_assessment_day_counts(
    start_after_arrival: int, as_of_after_arrival: int | None, category: str
) -> None:
    region = replace(R_QINGDAO, start=ARRIVAL + timedelta(days=start_after_arrival), until=None)
    as_of = None if as_of_after_arrival is None else ARRIVAL + timedelta(days=as_of_after_arrival)
    assert run(facts(origin=QINGDAO), regions=(region,), as_of=as_of).category == category


def test_a_region_ended_before_the_look_back_stays_out_whatever_the_assessment_day() -> None:
    region = _qingdao_until(ARRIVAL - timedelta(days=15))
    late = ARRIVAL + timedelta(days=30)
    assert run(facts(origin=QINGDAO), regions=(region,), as_of=late).category == "low"


def test_a_vague_place_is_possibly_from_a_region_listed_after_the_arrival() -> None:
    a = run(facts(origin=SHANDONG), regions=(_LISTED_TODAY,), as_of=_LISTED_TODAY.start)
    assert codes(a) == ["region_possible"]
    assert run(facts(origin=SHANDONG), regions=(_LISTED_TODAY,)).category == "low"


# ---- several reasons, precedence ----


def test_same_region_counted_once() -> None:
    a = run(
        facts(origin=QINGDAO_SHIBEI, travel=(QINGDAO, QINGDAO_SHIBEI)), regions=(R_QINGDAO,) * 2
    )
    assert codes(a) == ["region_medium"]
    assert a.regions == (R_QINGDAO,)


def test_all_reasons_collected_most_serious_first() -> None:
    a = run(
        facts(
            overseas=True,
            origin=None,
            travel=(QINGDAO, KASHGAR, BINHAI),
            health_code="red",
            temperature=37.8,
            symptoms=frozenset({"dry_cough"}),
        )
    )
    assert a.category == "symptomatic"
    assert codes(a) == [
        "fever",
        "symptoms",
        "overseas",
        "region_high",
        "code_red",
        "region_medium",
        "region_medium",
    ]
    assert a.regions == (R_KASHGAR, R_QINGDAO, R_BINHAI)
    assert dict(a.reasons[5].params)["place"] == "山东省 青岛市"
    assert dict(a.reasons[6].params)["place"] == "天津市 滨海新区"


@pytest.mark.parametrize(
    ("changes", "category"),
    [
        ({"temperature": 37.5, "overseas": True}, "symptomatic"),
        ({"overseas": True, "origin": None, "travel": (KASHGAR,)}, "overseas"),
        ({"origin": KASHGAR, "health_code": "red"}, "high_risk"),
        ({"health_code": "red", "origin": QINGDAO}, "red_code"),
        ({"origin": QINGDAO, "health_code": "yellow"}, "medium_risk"),
        ({"health_code": "yellow", "quarantine_done": True}, "overseas"),
        (
            {"health_code": "yellow", "quarantine_done": True, "certificate_checked": True},
            "yellow_code",
        ),
        ({"quarantine_done": True}, "overseas"),
        ({"test_result": "positive", "overseas": True}, "symptomatic"),
    ],
)
def test_precedence(changes: dict[str, object], category: str) -> None:
    a = run(facts(**changes))
    assert a.category == category
    assert a.measure is MEASURES[category]
    assert len(a.reasons) >= 2 or category == "quarantine_done"


def test_alert_when_any_reason_alerts() -> None:
    quiet = {k: replace(m, alert=False) for k, m in MEASURES.items()}
    loud_high = {**quiet, "high_risk": replace(MEASURES["high_risk"], alert=True)}
    f = facts(origin=KASHGAR, symptoms=frozenset({"fatigue"}))
    assert not assess(f, REGIONS, quiet).alert
    a = assess(f, REGIONS, loud_high)
    assert a.category == "symptomatic"
    assert a.alert  # a symptomatic person from a high-risk region
    # A category that alerts by itself alerts.
    loud_low = {**quiet, "low": replace(MEASURES["low"], alert=True)}
    assert assess(facts(), REGIONS, loud_low).alert


def test_missing_measure_is_a_clear_error() -> None:
    measures = {k: m for k, m in MEASURES.items() if k != "low"}
    with pytest.raises(ValueError, match="low"):
        assess(facts(), REGIONS, measures)


# ---- plan_measure ----


def test_plan_measure_dates() -> None:
    plan = plan_measure(MEASURES["overseas"], ARRIVAL)
    assert plan == MeasurePlan(
        "centralized_isolation",
        ARRIVAL,
        date(2020, 11, 8),
        (date(2020, 10, 26), date(2020, 11, 1), date(2020, 11, 8)),
    )


def test_plan_measure_one_day_and_zero_days() -> None:
    one = plan_measure(M("home_monitoring", 1, (1,), False), ARRIVAL)
    assert (one.end, one.test_dates) == (ARRIVAL, (ARRIVAL,))
    zero = plan_measure(M("self_monitoring", 0, (1,), False), ARRIVAL)
    assert (zero.start, zero.end, zero.test_dates) == (ARRIVAL, ARRIVAL, ())


def test_plan_measure_sorts_dedupes_and_drops_out_of_range_test_days() -> None:
    plan = plan_measure(M("home_monitoring", 7, (7, 1, 7, 8, 0), False), ARRIVAL)
    assert plan.test_dates == (ARRIVAL, ARRIVAL + timedelta(days=6))
    assert plan.end == date(2020, 11, 1)


def test_plan_measure_across_the_year() -> None:
    plan = plan_measure(M("home_observation", 14, (14,), False), date(2020, 12, 25))
    assert plan.end == plan.test_dates[-1] == date(2021, 1, 7)


# ---- property ----

REAL_PLACES = [
    WUHAN_JIANGHAN,
    WUHAN_WUCHANG,
    QINGDAO_SHIBEI,
    QINGDAO,
    SHANDONG,
    KASHGAR,
    BINHAI,
    JIANGJIN,
    CHENGDU,
    Place("湖北省", None, "仙桃市"),
    Place("广东省", "广州市", "天河区"),
]
REAL_REGIONS = [*REGIONS, R_HUBEI, Region("广东省", None, None, "high", date(2020, 1, 1), None)]

places = st.sampled_from(REAL_PLACES)
regions_st = st.lists(
    st.builds(
        lambda r, start, length: replace(
            r, start=start, until=None if length is None else start + timedelta(days=length)
        ),
        st.sampled_from(REAL_REGIONS),
        st.dates(min_value=date(2019, 1, 1), max_value=date(2022, 12, 31)),
        st.none() | st.integers(0, 400),
    ),
    max_size=6,
)
facts_st = st.builds(
    RiskFacts,
    overseas=st.booleans(),
    origin=st.none() | places,
    travel=st.lists(places, max_size=5).map(tuple),
    arrival_date=st.dates(),
    health_code=st.sampled_from([None, "green", "yellow", "red", ""]),
    temperature=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    symptoms=st.frozensets(st.sampled_from(SYMPTOMS)),
    quarantine_done=st.booleans(),
    test_result=st.sampled_from([None, "negative", "positive", "pending"]),
    certificate_checked=st.booleans(),
)


@given(facts_st, regions_st, st.integers(0, 60))
def test_assess_never_raises_and_is_consistent(
    f: RiskFacts, regions: list[Region], lookback: int
) -> None:
    a = assess(f, regions, MEASURES, lookback_days=lookback)
    assert a.category in RISK_CATEGORIES
    assert a.measure is MEASURES[a.category]
    assert (a.category == "low") == (a.reasons == ())
    assert a.alert >= a.measure.alert
    assert a.alert >= (f.test_result == "positive")
    assert a.positive == (f.test_result == "positive")
    assert a.category == "symptomatic" or not a.positive
    # never downgraded by the resident's word: unchecked quarantine stays key control
    if f.quarantine_done and not f.certificate_checked and f.test_result != "positive":
        assert a.category in ("symptomatic", "overseas") and a.alert
    assert len(set(a.regions)) == len(a.regions)
    assert all(r in regions for r in a.regions)


# ---- templates ----

SAMPLE_PARAMS: dict[str, list[dict[str, object]]] = {
    "fever": [{"temperature": 37.8}],
    "symptoms": [{"names": SYMPTOMS}, {"names": ("dry_cough",)}],
    "overseas": [{}],
    "region_high": [{"place": "新疆维吾尔自治区 喀什地区", "risk": "high"}],
    "region_medium": [{"place": "天津市 滨海新区", "risk": "medium"}],
    "region_possible": [{"place": "湖北省 武汉市"}],
    "code_red": [{}],
    "code_yellow": [{}],
    "quarantine_done": [{}],
    "positive": [{}],
    "certificate_pending": [{}],
    "category": [{"code": c} for c in RISK_CATEGORIES],
    "measure_kind": [{"kind": k} for k in MEASURE_KINDS],
    "symptom": [{"code": s} for s in SYMPTOMS],
    "measure_summary": [
        {
            "kind": k,
            "days": p.end.toordinal() - p.start.toordinal() + 1,
            "start": p.start,
            "end": p.end,
            "test_dates": p.test_dates,
        }
        for k in MEASURE_KINDS
        for p in [plan_measure(M(k, 14, (1, 7, 14), False), ARRIVAL)]
    ]
    + [
        {"kind": "self_monitoring", "days": 0, "start": ARRIVAL, "end": ARRIVAL, "test_dates": ()},
    ],
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def test_both_locales_define_the_same_macros(renderer: Renderer) -> None:
    zh, en = (renderer.messages(loc, "risk") for loc in LOCALES)
    assert zh == en == set(SAMPLE_PARAMS)


def test_every_reason_code_has_a_macro(renderer: Renderer) -> None:
    from bot.domain.risk import REASON_CATEGORIES

    assert set(REASON_CATEGORIES) <= renderer.messages("zh_CN", "risk")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_macro_renders(renderer: Renderer, locale: str) -> None:
    for name, samples in SAMPLE_PARAMS.items():
        for params in samples:
            text = renderer.text(locale, "risk", name, **params)
            assert text, (name, params)
            assert "\n" not in text, (name, params)


@pytest.mark.parametrize("locale", LOCALES)
def test_reasons_of_an_assessment_render(renderer: Renderer, locale: str) -> None:
    a = run(
        facts(
            overseas=True,
            origin=None,
            travel=(QINGDAO, KASHGAR),
            health_code="yellow",
            temperature=38.1,
            symptoms=frozenset(SYMPTOMS),
        )
    )
    for reason in a.reasons:
        assert renderer.text(locale, "risk", reason.code, **dict(reason.params))


def test_chinese_texts(renderer: Renderer) -> None:
    def zh(name: str, **params: object) -> str:
        return renderer.text("zh_CN", "risk", name, **params)

    plan = plan_measure(M("home_monitoring", 14, (1, 7, 14), False), ARRIVAL)
    summary = zh(
        "measure_summary",
        kind=plan.kind,
        days=14,
        start=plan.start,
        end=plan.end,
        test_dates=plan.test_dates,
    )
    assert summary.startswith(
        "请从10月26日起居家健康监测14天（至11月8日），于10月26日、11月1日、11月8日进行核酸检测。"
    )
    assert zh("category", code="high_risk") == "高风险地区来返"
    assert zh("category", code="quarantine_done") == "入境隔离期满自驾返回"
    assert zh("measure_kind", kind="medical_care") == "立即就医（发热门诊）"
    assert zh("symptom", code="smell_taste") == "嗅（味）觉减退"
    assert zh("symptoms", names=("fever", "dry_cough")) == "有发热、干咳症状"
    assert zh("fever", temperature=37.3) == "发热（体温37.3℃）"
    assert zh("region_high", place="湖北省 <武汉市>", risk="high").endswith("湖北省 &lt;武汉市&gt;")


def test_year_shown_when_the_measure_crosses_it(renderer: Renderer) -> None:
    plan = plan_measure(M("home_observation", 14, (1, 14), False), date(2020, 12, 25))
    params = {
        "kind": plan.kind,
        "days": 14,
        "start": plan.start,
        "end": plan.end,
        "test_dates": plan.test_dates,
    }
    assert "（至2021年1月7日）" in renderer.text("zh_CN", "risk", "measure_summary", **params)
    assert "(until 7 Jan 2021)" in renderer.text("en", "risk", "measure_summary", **params)


def test_english_summary(renderer: Renderer) -> None:
    plan = plan_measure(MEASURES["overseas"], ARRIVAL)
    text = renderer.text(
        "en",
        "risk",
        "measure_summary",
        kind=plan.kind,
        days=14,
        start=plan.start,
        end=plan.end,
        test_dates=plan.test_dates,
    )
    assert "for 14 days from 26 Oct (until 8 Nov)" in text
    assert "tests on 26 Oct, 1 Nov and 8 Nov." in text
