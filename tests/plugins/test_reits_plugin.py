"""Infrastructure REITs: asset classes, operating years, cash flow, yield / IRR, asset value."""

from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import ValidationError

from greenmatch import reference
from greenmatch.facts import ProductFacts

THIS_YEAR = dt.date.today().year


def en(fit):
    return " | ".join(r.en for r in fit.reasons)


@pytest.fixture
def reits(builtin_plugins):
    return builtin_plugins["reits"]


def test_asset_class_prefixes_exist_in_the_catalogue(reits):
    for _, prefixes in reits.settings.asset_classes:
        for prefix in prefixes:
            assert reference.is_category(prefix), prefix


@pytest.mark.parametrize(("category", "asset_class"), [
    ("4.2.1", "clean_energy"), ("4.3.2", "energy_storage"), ("4.3.3", "energy_storage"), ("6.4.7", "water"),
    ("6.4.8", "waste"), ("2.5.2", "waste"), ("5.2.12", "ecological"), ("3.2.8", "park_infrastructure"),
    ("6.5.3", "heating"), ("6.6.2", "data_centres"),
])
def test_asset_classes(reits, project, category, asset_class):
    assert asset_class in reits.asset_classes(project(categories=[category]))


def test_non_infrastructure_category_refused(reits, project):
    fit = reits.assess(project("pv_plant", categories=["1.1.1"], industry_code="3411"))
    assert not fit.eligible and "no category maps to a REITs asset class" in en(fit)


def test_eligible_pv_plant_reason(reits, project):
    fit = reits.assess(project("pv_plant"))
    assert fit.eligible
    assert en(fit) == ("asset class: clean energy; operating 4 years; distribution yield 5.0% ≥ 3.8%; "
                       "asset value ¥1,000,000,000")
    assert fit.fit == pytest.approx(0.6 + 0.1 * 1.2)


def test_not_operating_and_unknown_commissioning(reits, project):
    assert "not yet operating" in en(reits.assess(project("pv_plant", stage="construction")))
    assert "commissioning year unknown" in en(reits.assess(project("pv_plant", commissioning_year=None)))


def test_cash_flow_must_be_positive(reits, project):
    fit = reits.assess(project("pv_plant", annual_net_cash_flow_cny=-1_000_000))
    assert not fit.eligible and "positive cash flow" in en(fit)


@pytest.mark.parametrize(("irr", "eligible"), [(4.2, False), (5.0, True), (6.5, True)])
def test_concession_assets_judged_on_irr(reits, project, irr, eligible):
    # a 3.0% distribution yield does not matter for a concession asset
    fit = reits.assess(project("pv_plant", is_concession=True, expected_irr_pct=irr, concession_end_year=2050,
                               annual_net_cash_flow_cny=30_000_000))
    assert fit.eligible is eligible
    assert ("IRR 4.2% below 5%" in en(fit)) is (not eligible)


def test_concession_without_irr(reits, project):
    assert "without an expected IRR" in en(reits.assess(project("pv_plant", is_concession=True)))


def test_short_remaining_concession_is_not_eligible_and_says_what_is_missing(reits, project):
    """A sewage plant whose 特许经营 right ends in three years cannot back a REIT (发改投资〔2024〕1014号)."""
    import datetime as dt
    end = dt.date.today().year + 3
    fit = reits.assess(project("pv_plant", is_concession=True, expected_irr_pct=6.5, concession_end_year=end,
                               annual_net_cash_flow_cny=30_000_000))
    assert not fit.eligible
    missing = fit.as_dict("en")["missing"]
    assert any(f"concession ends in {end} (3 years left): REITs need 10" in m for m in missing)
    assert "without a concession end year" in en(reits.assess(project(
        "pv_plant", is_concession=True, expected_irr_pct=6.5, annual_net_cash_flow_cny=30_000_000)))


@pytest.mark.parametrize(("value", "eligible"), [(800_000_000, False), (1_000_000_000, True)])
def test_first_issue_asset_value(reits, project, value, eligible):
    fit = reits.assess(project("pv_plant", asset_value_cny=value, annual_net_cash_flow_cny=value * 0.05))
    assert fit.eligible is eligible
    if not eligible:
        assert "asset value ¥800,000,000 below the ¥1,000,000,000" in en(fit)


def test_all_failures_are_reported(reits, project):
    fit = reits.assess(project("pv_plant", commissioning_year=THIS_YEAR - 1, annual_net_cash_flow_cny=20_000_000,
                               asset_value_cny=900_000_000))
    text = en(fit)
    assert "operating 1 years; REITs need 3" in text
    assert "distribution yield 2.2% below 3.8%" in text
    assert "asset value ¥900,000,000" in text


def test_params_and_requirements(reits, project):
    params = reits.load_params({"asset_classes": ["clean_energy"], "min_asset_value_cny": 2_000_000_000,
                                "min_operating_years": 3, "min_distribution_yield_pct": 4.5,
                                "allow_concession": False})
    req = reits.product_requirements(params)
    assert req.required_tags_any == {"reits:asset_class:clean_energy"}
    assert req.bounds["asset_value_cny"] == (2_000_000_000, None)
    assert req.bounds["is_concession"] == (None, 0.0)
    product = ProductFacts("reits", params)
    big = project("pv_plant", asset_value_cny=2_500_000_000, annual_net_cash_flow_cny=130_000_000)
    assert reits.check(big, product).eligible
    assert not reits.check(project("pv_plant"), product).eligible  # ¥1bn asset, 5% yield
    assert not reits.check(project("pv_plant", categories=["6.6.2"], asset_value_cny=2_500_000_000,
                                   annual_net_cash_flow_cny=130_000_000), product).eligible
    with pytest.raises(ValidationError) as err:
        reits.load_params({"asset_classes": ["shopping_malls"], "min_operating_years": -1})
    assert set(err.value.messages) == {"asset_classes", "min_operating_years"}


def test_metrics(reits, project):
    metrics = reits.project_metrics(project("pv_plant"))
    assert metrics["distribution_yield_pct"] == pytest.approx(5.0)
    assert metrics["operating_years"] == 4 and metrics["is_concession"] == 0.0


def test_settings_override(fresh, project):
    reits = fresh("reits")
    reits.configure({"min_operating_years": 2, "min_distribution_yield_pct": 3.0,
                     "asset_classes": {"clean_energy": ["4.2"]}})
    assert reits.settings.asset_classes == (("clean_energy", ("4.2",)),)
    assert reits.assess(project("pv_plant", commissioning_year=THIS_YEAR - 2,
                                annual_net_cash_flow_cny=35_000_000)).eligible
