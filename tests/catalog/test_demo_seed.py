"""`greenmatch seed demo`: a realistic demo data set, idempotent; `greenmatch seed logins`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from greenmatch.accounts.models import Organization, User
from greenmatch.catalog import demo, service
from greenmatch.catalog.models import Project, ProjectTransition
from greenmatch.codes import uscc_problem
from greenmatch.extensions import db


def snapshot():
    """Every row of every table (sorted), so two runs can be compared exactly."""
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name.startswith("ref_"):
            continue
        rows = db.session.execute(select(table)).all()
        out[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return out


@pytest.fixture
def seed(app, app_ctx):
    def run():
        result = app.test_cli_runner().invoke(demo.seed_cli, ["demo"])
        assert result.exit_code == 0, result.output + repr(result.exception)
        db.session.remove()  # the CLI ran in its own app context: read fresh
        return result.output

    return run


def test_seed_twice_leaves_exactly_the_same_data(seed):
    first_output = seed()
    assert "projects" in first_output
    first = snapshot()
    assert len(first["projects"]) >= 40 and len(first["users"]) >= 30
    second_output = seed()
    assert "nothing new" in second_output
    assert snapshot() == first


def test_demo_contents(seed):
    seed()
    projects = db.session.scalars(select(Project)).all()
    assert len(projects) >= 40
    areas = {code.split(".")[0] for p in projects for code in p.categories}
    assert areas == {str(n) for n in range(1, 10)}  # all nine level-1 areas of the 2025 catalogue
    assert {p.status for p in projects} == {"draft", "submitted", "returned", "approved", "rejected"}

    orgs = db.session.scalars(select(Organization)).all()
    bureaus = {o.region_code for o in orgs if o.kind == "bureau"}
    assert bureaus == {"130000", "130700", "110000", "120000", "320000", "330000", "330500"}
    enterprises = [o for o in orgs if o.kind == "enterprise"]
    assert len(enterprises) >= 10 and all(uscc_problem(o.uscc) is None for o in enterprises)
    prefixes = {o.region_code[:4] for o in enterprises}
    for city in ("1307", "1302", "1301", "1306", "1304", "3205", "3201", "3204", "3305", "3308", "3301"):
        assert city in prefixes, city
    assert {o.region_code[:2] for o in enterprises} >= {"11", "12", "13", "32", "33"}
    institutions = [o for o in orgs if o.kind == "institution"]
    assert {o.institution_type for o in institutions} >= {"bank", "insurer", "securities", "fund_manager"}
    assert sum(not o.verified for o in institutions) == 1 and all(uscc_problem(o.uscc) is None for o in institutions)
    assert db.session.scalar(select(User).where(User.role == "admin")) is not None

    def find(**where):
        return [p for p in projects if all(getattr(p, k) == v for k, v in where.items())]

    pv = [p for p in projects if p.region_code.startswith("1307") and "4.2.2" in p.categories]
    assert pv and pv[0].industry_code == "4416"
    offshore = [p for p in projects if p.region_code.startswith("32") and "4.2.1" in p.categories]
    assert offshore and "海上风电" in offshore[0].name
    steel = find(industry_code="3120")
    assert any("2.2.2" in p.categories and p.region_code.startswith("1302") for p in steel)
    coking = [p for p in find(industry_code="2521") if not p.categories]
    assert coking and coking[0].status == "submitted" and coking[0].flagged
    assert service.assessment_of(coking[0]).two_high.flag
    hydrogen = [p for p in projects if "first_of_kind_equipment" in p.risk_exposures]
    assert hydrogen and "4.1.9" in hydrogen[0].categories
    assert find(industry_code="4210")  # battery recycling
    assert any("6.4.7" in p.categories for p in projects)  # wastewater plant
    assert any(c.startswith("6.1.") for p in projects for c in p.categories)  # green buildings
    assert any("6.2.3" in p.categories for p in projects)  # EV charging
    assert any("carbon_sink" in p.risk_exposures and "5.1.9" in p.categories for p in projects)
    signals = {s.code for p in projects for s in service.assessment_of(p, with_instruments=False).greenwashing_signals}
    assert "whole_firm_on_small_project" in signals


def test_history_and_derived_fields_come_from_the_service(seed):
    seed()
    approved = db.session.scalars(select(Project).where(Project.status == "approved")).all()
    assert approved and all(p.decided_at and p.submitted_at and p.label for p in approved)
    resubmitted = db.session.scalar(select(Project).where(Project.name == "朝阳CBD既有商务楼宇绿色化改造"))
    history = db.session.scalars(select(ProjectTransition).where(ProjectTransition.project_id == resubmitted.id)
                                 .order_by(ProjectTransition.id)).all()
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, "draft"), ("draft", "submitted"), ("submitted", "returned"), ("returned", "submitted"),
        ("submitted", "approved")]
    bureau = db.session.get(User, history[2].actor_id)
    assert bureau.role == "bureau" and bureau.organization.region_code == "110000"
    returned = db.session.scalars(select(Project).where(Project.status == "returned")).all()
    assert all(p.review_note for p in returned)


def test_demo_logins_work(seed, client):
    seed()
    response = client.post("/api/v1/auth/token", json={"email": demo.PLATFORM.email, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 200
    bureau = demo.BUREAUS[0]
    assert client.post("/api/v1/auth/token", json={"email": bureau.email,
                                                   "password": demo.DEMO_PASSWORD}).status_code == 200


def test_seed_logins_prints_the_accounts(app):
    result = app.test_cli_runner().invoke(demo.seed_cli, ["logins"])
    assert result.exit_code == 0
    assert demo.DEMO_PASSWORD in result.output and len(demo.DEMO_PASSWORD) >= 10
    for org in (demo.PLATFORM, *demo.BUREAUS, demo.ENTERPRISES[0], demo.INSTITUTIONS[0]):
        assert org.email in result.output


def test_more_steps_can_be_appended(app_ctx, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_STEPS", list(demo.DEMO_STEPS))
    calls = []

    @demo.demo_step("extra")
    def extra(ctx):
        calls.append(ctx.org("bank_jjj").name)
        assert ctx.project("zjk_energy", "张北50MW集中式光伏电站").status == "approved"

    names = [name for name, _ in demo.DEMO_STEPS]
    assert names[:2] == ["accounts", "projects"] and names[-1] == "extra"
    demo.seed_demo()
    assert calls == ["京津冀绿色商业银行股份有限公司"]
