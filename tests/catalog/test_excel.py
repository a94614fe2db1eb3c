"""Excel export and spreadsheet import of projects (GET /projects/export.xlsx, POST /projects/import)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from greenmatch.accounts.models import Organization
from greenmatch.catalog import io_views, service
from greenmatch.catalog.excel_read import convert_cell, match_header
from greenmatch.catalog.models import Project, ProjectTransition
from greenmatch.catalog.sheets import XLSX_MIMETYPE
from greenmatch.codes import make_uscc
from greenmatch.errors import Conflict
from greenmatch.extensions import db
from support.payloads import project

API = "/api/v1/projects"
IMPORT = f"{API}/import"
EXPORT = f"{API}/export.xlsx"


@pytest.fixture
def io_app(make_app):
    """An app serving the spreadsheet endpoints (init_app is idempotent: fine once app.py registers them)."""

    def build(**config):
        app = make_app(**config)
        io_views.init_app(app)
        return app

    return build


@pytest.fixture
def io_client(io_app):
    return io_app().test_client()


# -- building upload files -------------------------------------------------------------------------
COLUMNS = [  # (key, Chinese header, English header)
    ("name", "项目名称", "Project name"),
    ("description", "项目简介", "Description"),
    ("industry_code", "行业代码", "Industry code"),
    ("region_code", "地区代码", "Region code"),
    ("categories", "目录类别", "Categories"),
    ("stage", "阶段", "Stage"),
    ("commissioning_year", "投产年份", "Commissioning year"),
    ("total_investment_cny", "总投资（元）", "Total investment (CNY)"),
    ("financing_need_cny", "融资需求（元）", "Financing need (CNY)"),
    ("annual_revenue_cny", "年营业收入（元）", "Annual revenue (CNY)"),
    ("co2_reduction_t", "年减排二氧化碳（吨）", "CO2 reduction (t)"),
    ("renewable_generation_mwh", "年可再生能源发电量（MWh）", "Renewable generation (MWh)"),
    ("certifications", "资质认证", "Certifications"),
    ("collateral", "抵质押物", "Collateral"),
    ("risk_exposures", "风险敞口", "Risk exposures"),
    ("eia_approved", "环评批复", "EIA approved"),
    ("pollutant_permit", "排污许可证", "Pollutant permit"),
    ("preferred_instruments", "意向融资工具", "Preferred instruments"),
    ("contact_name", "联系人", "Contact name"),
    ("contact_phone", "联系电话", "Contact phone"),
    ("contact_email", "联系邮箱", "Contact email"),
]
BUREAU_COLUMNS = [("enterprise_uscc", "统一社会信用代码", "Enterprise USCC"),
                  ("enterprise_name", "企业名称", "Enterprise name")]


def good_row(i: int, **overrides):
    row = {
        "name": f"张家口光伏电站{i:03d}号", "description": "集中式光伏电站，配套储能。", "industry_code": "4416",
        "region_code": "130700", "categories": "4.2.2;4.3.1" if i % 2 else "4.2.2、4.3.2", "stage": "construction",
        "commissioning_year": 2026, "total_investment_cny": 100_000_000 + i, "financing_need_cny": 60_000_000,
        "annual_revenue_cny": 12_000_000, "co2_reduction_t": 20_000, "renewable_generation_mwh": 38_000,
        "certifications": "high_tech", "collateral": "receivables;green_power_certificates",
        "risk_exposures": "climate_catastrophe", "eia_approved": "是", "pollutant_permit": "否",
        "preferred_instruments": "green_credit", "contact_name": "王经理", "contact_phone": "0313-1234567",
        "contact_email": "wang@example.cn",
    }
    row.update(overrides)
    return row


# index in the file (0-based) -> (override, the field named in the errors)
DEFECTS = {
    4: ({"categories": "4.2.2;9.9.9"}, "categories"),  # unknown category
    17: ({"total_investment_cny": -5_000_000}, "total_investment_cny"),  # negative amount
    29: ({"financing_need_cny": 900_000_000}, "financing_need_cny"),  # need > investment
    41: ({"region_code": "999999"}, "region_code"),  # unknown region
    58: ({"stage": "demolition"}, "stage"),  # bad stage enum
    73: ({"name": ""}, "name"),  # missing name
    96: ({"industry_code": "9999"}, "industry_code"),  # bad industry code
}


def hundred_rows():
    rows = []
    for i in range(100):
        override, _ = DEFECTS.get(i, ({}, None))
        rows.append(good_row(i, **override))
    return rows


def xlsx_file(rows, columns=COLUMNS, header_rows=2) -> bytes:
    """A workbook with a Chinese and an English header row (or one "中文 English" row)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "项目"
    if header_rows == 2:
        ws.append([zh for _, zh, _ in columns])
        ws.append([en for _, _, en in columns])
    else:
        ws.append([f"{zh} {en}" for _, zh, en in columns])
    for row in rows:
        ws.append([row.get(key) for key, _, _ in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_file(rows, columns=COLUMNS, bom=True, header="bilingual", encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{zh} {en}" if header == "bilingual" else key for key, zh, en in columns])
    for row in rows:
        writer.writerow(["" if row.get(key) is None else row.get(key) for key, _, _ in columns])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def upload(client, headers, content: bytes, filename: str):
    return client.post(IMPORT, data={"file": (io.BytesIO(content), filename)}, headers=headers,
                       content_type="multipart/form-data")


def first_data_row(kind: str) -> int:
    return 3 if kind == "xlsx" else 2  # two header rows in the workbooks, one in the CSVs


# -- import ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_import_of_100_rows_with_7_bad_ones(io_client, auth, f, kind):
    owner = f.enterprise_user(region_code="130700")
    rows = hundred_rows()
    content = xlsx_file(rows) if kind == "xlsx" else csv_file(rows)
    response = upload(io_client, auth(owner), content, f"projects.{kind}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["accepted"], body["refused"]) == (93, 7)
    assert len(body["rows"]) == 100

    first = first_data_row(kind)
    refused = {r["row"]: r for r in body["rows"] if r["status"] == "refused"}
    assert set(refused) == {first + i for i in DEFECTS}
    for i, (_, field) in DEFECTS.items():
        errors = refused[first + i]["errors"]
        assert field in errors, (i, errors)
        assert "project_id" not in refused[first + i]
    assert "9.9.9" in " ".join(refused[first + 4]["errors"]["categories"])
    assert refused[first + 29]["errors"]["financing_need_cny"] == ["不得超过总投资。"]  # the API speaks Chinese

    accepted = [r for r in body["rows"] if r["status"] == "accepted"]
    assert all(r["project_status"] == "draft" and r["project_id"] for r in accepted)
    assert accepted[0]["row"] == first

    projects = db.session.scalars(select(Project).order_by(Project.id)).all()
    assert len(projects) == 93
    assert {p.enterprise_id for p in projects} == {owner.organization_id}
    assert {p.status for p in projects} == {"draft"}
    one = db.session.get(Project, accepted[1]["project_id"])  # file index 1 (odd: 4.2.2;4.3.1)
    assert one.name == "张家口光伏电站001号"
    assert one.declared_categories == ["4.2.2", "4.3.1"]
    assert float(one.total_investment_cny) == 100_000_001
    assert one.benefits == {"co2_reduction_t": 20_000, "renewable_generation_mwh": 38_000}
    assert one.compliance["eia_approved"] is True and one.compliance["pollutant_permit"] is False
    assert one.collateral == ["receivables", "green_power_certificates"]
    assert one.contact == {"name": "王经理", "phone": "0313-1234567", "email": "wang@example.cn"}
    assert one.created_by_id == owner.id
    assert db.session.get(Project, accepted[0]["project_id"]).declared_categories == ["4.2.2", "4.3.2"]
    # the imported drafts are the owner's, through the normal API
    listing = io_client.get(f"{API}?per_page=100", headers=auth(owner)).get_json()
    assert listing["total"] == 93


def test_header_names_in_chinese_english_or_field_keys(io_client, auth, f):
    owner = f.enterprise_user(region_code="130700")
    rows = [good_row(1), good_row(2)]
    for content, name in ((xlsx_file(rows, header_rows=1), "one-header.xlsx"),
                          (csv_file(rows, header="keys", bom=False), "keys.csv")):
        body = upload(io_client, auth(owner), content, name).get_json()
        assert (body["accepted"], body["refused"]) == (2, 0), body
    assert match_header("总投资（万元）")[1] == 10_000
    assert match_header("benefits.co2_reduction_t")[0].key == "benefits.co2_reduction_t"
    assert match_header("项目名称\nname")[0].key == "name"
    assert match_header("Unrelated column") is None


def test_csv_saved_by_excel_in_a_chinese_locale(io_client, auth, f):
    owner = f.enterprise_user(region_code="130700")
    body = upload(io_client, auth(owner), csv_file([good_row(1)], bom=False, encoding="gb18030"), "gbk.csv").get_json()
    assert body["accepted"] == 1
    assert db.session.scalar(select(Project.name)) == "张家口光伏电站001号"


def test_money_in_wan_yuan_is_scaled(io_client, auth, f):
    owner = f.enterprise_user(region_code="130700")
    columns = [c for c in COLUMNS if c[0] not in ("total_investment_cny", "financing_need_cny")]
    columns += [("total_investment_cny", "总投资（万元）", "Total"), ("financing_need_cny", "融资需求（万元）", "Need")]
    body = upload(io_client, auth(owner), xlsx_file([good_row(1, total_investment_cny=12_000,
                                                              financing_need_cny=8_000)], columns), "wan.xlsx")
    assert body.get_json()["accepted"] == 1
    p = db.session.scalar(select(Project))
    assert float(p.total_investment_cny) == 120_000_000 and float(p.financing_need_cny) == 80_000_000


def test_enterprise_cannot_import_for_another_organisation(io_client, auth, f):
    owner = f.enterprise_user(region_code="130700")
    other_uscc = make_uscc("91130700MA0TE0001")
    rows = [good_row(1, enterprise_uscc=other_uscc), good_row(2, enterprise_uscc=owner.organization.uscc)]
    body = upload(io_client, auth(owner), csv_file(rows, COLUMNS + BUREAU_COLUMNS), "x.csv").get_json()
    assert [r["status"] for r in body["rows"]] == ["refused", "accepted"]
    assert "enterprise_uscc" in body["rows"][0]["errors"]


def test_bureau_import_creates_submitted_projects_in_its_jurisdiction_only(io_client, auth, f):
    bureau = f.bureau_user(region_code="130000")
    known = f.enterprise_user(region_code="130100")
    new_uscc = make_uscc("91130700MA0NW0001")
    outside_uscc = make_uscc("91320500MA0NW0002")
    rows = [
        good_row(1, enterprise_uscc=new_uscc, enterprise_name="张家口新建光伏有限公司"),
        good_row(2, enterprise_uscc=known.organization.uscc, region_code="130100"),
        good_row(3, enterprise_uscc=outside_uscc, enterprise_name="苏州某新能源有限公司", region_code="320500"),
        good_row(4, enterprise_uscc="911301001234567890", enterprise_name="校验码错误有限公司"),
        good_row(5, enterprise_name="没有信用代码的企业"),
        good_row(6, enterprise_uscc=make_uscc("91130700MA0NW0003")),  # unknown enterprise without a name
        good_row(7, enterprise_uscc=new_uscc, enterprise_name="张家口新建光伏有限公司"),  # same new enterprise again
    ]
    response = upload(io_client, auth(bureau), xlsx_file(rows, COLUMNS + BUREAU_COLUMNS), "bureau.xlsx")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    status = {r["row"]: r for r in body["rows"]}
    assert [status[n]["status"] for n in range(3, 10)] == ["accepted", "accepted", "refused", "refused", "refused",
                                                          "refused", "accepted"]
    assert "不在您的辖区" in status[5]["errors"]["region_code"][0]
    assert "校验码不符" in status[6]["errors"]["enterprise_uscc"][0]
    assert "enterprise_uscc" in status[7]["errors"]
    assert "enterprise_name" in status[8]["errors"]
    assert status[3]["project_status"] == "submitted"

    new_org = db.session.scalar(select(Organization).where(Organization.uscc == new_uscc))
    assert new_org.kind == "enterprise" and new_org.name == "张家口新建光伏有限公司" and new_org.region_code == "130700"
    assert db.session.scalar(select(func.count()).select_from(Organization)
                             .where(Organization.uscc == outside_uscc)) == 0  # the refused row left nothing
    first = db.session.get(Project, status[3]["project_id"])
    second = db.session.get(Project, status[4]["project_id"])
    last = db.session.get(Project, status[9]["project_id"])
    assert first.enterprise_id == new_org.id == last.enterprise_id
    assert second.enterprise_id == known.organization_id
    assert first.status == "submitted" and first.submitted_at is not None
    history = db.session.scalars(select(ProjectTransition).where(ProjectTransition.project_id == first.id)
                                 .order_by(ProjectTransition.id)).all()
    assert [(h.from_status, h.to_status, h.actor_id) for h in history] == [
        (None, "draft", bureau.id), ("draft", "submitted", bureau.id)]
    assert "bureau.xlsx" in history[1].note
    # they wait in the bureau's review queue; the enterprise owns them
    queue = io_client.get("/api/v1/review-queue", headers=auth(bureau)).get_json()
    assert queue["total"] == 3
    assert io_client.get(f"{API}/{second.id}", headers=auth(known)).status_code == 200


def test_city_bureau_cannot_import_elsewhere_in_the_province(io_client, auth, f):
    bureau = f.bureau_user(region_code="130700")
    uscc = make_uscc("91130100MA0NW0004")
    rows = [good_row(1, enterprise_uscc=uscc, enterprise_name="石家庄某企业", region_code="130100")]
    body = upload(io_client, auth(bureau), csv_file(rows, COLUMNS + BUREAU_COLUMNS), "b.csv").get_json()
    assert body["refused"] == 1 and "region_code" in body["rows"][0]["errors"]
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_a_date_in_a_yes_no_column_refuses_only_its_row(io_client, auth, f):
    owner = f.enterprise_user(region_code="130700")
    rows = [good_row(1), good_row(2, eia_approved=dt.datetime(2024, 5, 1)), good_row(3)]
    response = upload(io_client, auth(owner), xlsx_file(rows), "dates.xlsx")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [r["status"] for r in body["rows"]] == ["accepted", "refused", "accepted"]
    assert "compliance.eia_approved" in body["rows"][1]["errors"], body["rows"][1]
    assert db.session.scalar(select(func.count()).select_from(Project)) == 2
    # cells no bool reading fits reach the schema unchanged (it refuses them in its own words)
    column = match_header("环评批复")[0]
    assert convert_cell(column, Decimal("2.5")) == Decimal("2.5")
    assert convert_cell(column, dt.date(2024, 5, 1)) == dt.date(2024, 5, 1)
    assert convert_cell(column, "是") is True and convert_cell(column, 0) is False


@pytest.mark.parametrize("failure", [Conflict("the submission failed"), RuntimeError("database went away")])
def test_a_bureau_row_failing_at_submission_leaves_nothing_behind(io_client, auth, f, monkeypatch, failure):
    bureau = f.bureau_user(region_code="130000")
    failing_uscc, good_uscc = make_uscc("91130700MA0TX0001"), make_uscc("91130700MA0TX0002")
    rows = [good_row(1, enterprise_uscc=failing_uscc, enterprise_name="提交失败的新企业有限公司"),
            good_row(2, enterprise_uscc=good_uscc, enterprise_name="正常导入的新企业有限公司")]
    real_transition = service._transition

    def transition(project, actor, action, note):
        # the draft (and its new enterprise) are written; the submission of the first row then fails
        if action == "submit" and project.name == rows[0]["name"]:
            raise failure
        return real_transition(project, actor, action, note)

    monkeypatch.setattr(service, "_transition", transition)
    response = upload(io_client, auth(bureau), xlsx_file(rows, COLUMNS + BUREAU_COLUMNS), "atomic.xlsx")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [r["status"] for r in body["rows"]] == ["refused", "accepted"]
    assert "project_id" not in body["rows"][0] and body["rows"][0]["errors"]
    assert db.session.scalars(select(Project.name)).all() == [rows[1]["name"]]
    assert db.session.scalar(select(func.count()).select_from(Organization)
                             .where(Organization.uscc == failing_uscc)) == 0
    assert db.session.scalar(select(func.count()).select_from(Organization)
                             .where(Organization.uscc == good_uscc)) == 1
    assert db.session.scalar(select(func.count()).select_from(ProjectTransition)) == 2  # the good row's two


def test_import_is_for_enterprises_and_bureaus(io_client, auth, f):
    content = csv_file([good_row(1)])
    assert upload(io_client, {}, content, "a.csv").status_code == 401
    for user in (f.institution_user(), f.admin_user()):
        assert upload(io_client, auth(user), content, "a.csv").status_code == 403


@pytest.mark.parametrize(("content", "filename"), [
    (b"%PDF-1.7 not a spreadsheet", "scan.pdf"),
    (b"PK\x03\x04 broken zip", "broken.xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old excel", "old.xls"),
    (b"", "empty.csv"),
    (b"just,some,words\n1,2,3\n", "unknown-columns.csv"),
])
def test_unreadable_or_wrong_files_are_422_naming_file(io_client, auth, f, content, filename):
    owner = f.enterprise_user()
    response = upload(io_client, auth(owner), content, filename)
    assert response.status_code == 422, response.get_json()
    assert "file" in response.get_json()["error"]["fields"]


def test_missing_file_field_is_422(io_client, auth, f):
    response = io_client.post(IMPORT, data={"other": "x"}, headers=auth(f.enterprise_user()),
                              content_type="multipart/form-data")
    assert response.status_code == 422
    assert "file" in response.get_json()["error"]["fields"]


def test_too_many_rows_is_422_and_imports_nothing(io_app, auth, f):
    client = io_app(IMPORT_MAX_ROWS=5).test_client()
    owner = f.enterprise_user(region_code="130700")
    response = upload(client, auth(owner), csv_file([good_row(i) for i in range(6)]), "big.csv")
    assert response.status_code == 422
    assert "5" in response.get_json()["error"]["fields"]["file"][0]
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0
    assert upload(client, auth(owner), csv_file([good_row(i) for i in range(5)]), "ok.csv").get_json()["accepted"] == 5


def test_template_round_trips(io_client, auth, f):
    owner = f.enterprise_user(region_code="130700")
    response = io_client.get(f"{API}/import-template.xlsx", headers=auth(owner))
    assert response.status_code == 200 and response.mimetype == XLSX_MIMETYPE
    wb = load_workbook(io.BytesIO(response.data))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    body = project()
    values = {"name": body["name"], "industry_code": "4416", "region_code": "130700", "categories": "4.2.2",
              "stage": "operation", "total_investment_cny": 1e8, "financing_need_cny": 5e7,
              "compliance.eia_approved": "是"}
    ws.append([values.get(h.split("\n")[1]) for h in headers])
    out = io.BytesIO()
    wb.save(out)
    result = upload(io_client, auth(owner), out.getvalue(), "template.xlsx").get_json()
    assert result["accepted"] == 1, result


# -- export ----------------------------------------------------------------------------------------
def _create(client, auth, owner, **overrides):
    response = client.post(API, json=project(**overrides), headers=auth(owner))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _advance(client, auth, owner, bureau, pid, to):
    if to == "draft":
        return
    assert client.post(f"{API}/{pid}/submit", headers=auth(owner)).status_code == 200
    if to == "approved":
        assert client.post(f"{API}/{pid}/review", json={"decision": "approve"}, headers=auth(bureau)).status_code == 200


def _workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == XLSX_MIMETYPE
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".xlsx" in disposition
    return load_workbook(io.BytesIO(response.data))


def test_export_is_a_real_workbook_of_the_bureaus_jurisdiction(io_client, auth, f):
    hebei_owner = f.enterprise_user(region_code="130700")
    jiangsu_owner = f.enterprise_user(region_code="320500")
    hebei, jiangsu = f.bureau_user(region_code="130000"), f.bureau_user(region_code="320000")
    ids = {}
    for name, status, region in (("张家口光伏电站甲", "approved", "130700"), ("石家庄污水处理厂提标", "submitted", "130100"),
                                 ("河北草稿项目", "draft", "130700")):
        ids[name] = _create(io_client, auth, hebei_owner, name=name, region_code=region)
        _advance(io_client, auth, hebei_owner, hebei, ids[name], status)
    ids["苏州光伏"] = _create(io_client, auth, jiangsu_owner, name="苏州工业园区屋顶光伏", region_code="320500")
    _advance(io_client, auth, jiangsu_owner, jiangsu, ids["苏州光伏"], "approved")

    wb = _workbook(io_client.get(EXPORT + "?sort=name", headers=auth(hebei)))
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "C3"
    header_zh = [c.value for c in ws[1]]
    header_en = [c.value for c in ws[2]]
    assert header_zh[:3] == ["编号", "项目名称", "企业名称"] and header_en[:3] == ["ID", "Project name", "Enterprise"]
    data = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert len(data) == 2  # the bureau's jurisdiction, never drafts, never Jiangsu
    by_name = {row[1]: dict(zip(header_en, row, strict=True)) for row in data}
    assert set(by_name) == {"张家口光伏电站甲", "石家庄污水处理厂提标"}
    pv = by_name["张家口光伏电站甲"]
    assert pv["ID"] == ids["张家口光伏电站甲"]
    assert pv["Enterprise"] == hebei_owner.organization.name
    assert pv["Region code"] == "130700" and pv["Region"] == "河北省张家口市"
    assert pv["Industry code (GB/T 4754)"] == "4416" and pv["Industry"] == "太阳能发电"
    assert pv["Catalogue codes"] == "4.2.2" and pv["Catalogue categories"] == "太阳能利用设施建设和运营"
    assert pv["Financing need (CNY)"] == 150_000_000 and pv["Total investment (CNY)"] == 220_000_000
    assert pv["Status"] == "已入库 approved" and pv["Stage"] == "建设阶段 construction"
    assert pv["Submitted on"] is not None and pv["Decided on"] is not None
    need_col = header_en.index("Financing need (CNY)") + 1
    assert ws.cell(row=3, column=need_col).number_format == "#,##0.00"
    assert ws.column_dimensions["B"].width >= 30

    filtered = _workbook(io_client.get(EXPORT + "?status=approved", headers=auth(hebei))).worksheets[0]
    assert [row[1].value for row in filtered.iter_rows(min_row=3)] == ["张家口光伏电站甲"]

    jiangsu_rows = list(_workbook(io_client.get(EXPORT, headers=auth(jiangsu))).worksheets[0].iter_rows(min_row=3))
    assert [row[1].value for row in jiangsu_rows] == ["苏州工业园区屋顶光伏"]

    everything = _workbook(io_client.get(EXPORT, headers=auth(f.admin_user()))).worksheets[0]
    assert everything.max_row - 2 == 4  # admins: every project, drafts included


@pytest.mark.parametrize("name", ['=HYPERLINK("http://attacker.example/","点击查看")', "+86-10-1234 光伏电站",
                                  "-1+1 储能电站扩容", "@SUM(A1:A9) 余热回收"])
def test_export_neutralises_formula_like_text_on_every_sheet(io_client, auth, f, name):
    """OWASP CSV Injection: text starting with = + - @ (or a tab/CR) is quoted, as a string cell, in the
    project rows and on the About sheet alike."""
    owner = f.enterprise_user(region_code="130700")
    bureau = f.bureau_user(region_code="130000", name="=cmd|' /C calc'!A0 工信局")
    pid = _create(io_client, auth, owner, name=name)
    _advance(io_client, auth, owner, bureau, pid, "submitted")
    wb = _workbook(io_client.get(EXPORT, headers=auth(bureau)))
    cell = wb.worksheets[0].cell(row=3, column=2)
    assert cell.value == "'" + name and cell.data_type == "s"
    about = {row[0].value: row[1] for row in wb["说明 About"].iter_rows()}
    exported_by = about["导出人 Exported by"]
    assert exported_by.value.startswith("'=cmd|") and exported_by.data_type == "s"
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                assert not (isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@", "\t", "\r"))), \
                    (ws.title, c.coordinate, c.value)


def test_control_characters_never_break_the_export(io_client, auth, f):
    """A C0 control character in a name or description (pasted from a PDF) used to make every later export
    fail with IllegalCharacterError; it is dropped from the cell, the stored project is unchanged."""
    owner, bureau = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000")
    dirty = "张家口\x0b风电\x01场\x1f二期"
    pid = _create(io_client, auth, owner, name=dirty, description="项目简介\x07含控制字符" + "。" * 30)
    _advance(io_client, auth, owner, bureau, pid, "submitted")
    clean = _create(io_client, auth, owner, name="承德围场风电场")
    _advance(io_client, auth, owner, bureau, clean, "submitted")
    rows = list(_workbook(io_client.get(EXPORT + "?sort=name", headers=auth(bureau))).worksheets[0].iter_rows(
        min_row=3, values_only=True))
    assert sorted(row[1] for row in rows) == sorted(["张家口风电场二期", "承德围场风电场"])
    assert io_client.get(f"{API}/{pid}", headers=auth(owner)).get_json()["name"] == dirty


def test_an_exported_formula_like_name_re_imports_as_the_original_text(io_client, auth, f):
    from greenmatch.catalog.excel_template import IMPORT_COLUMNS

    name_column = next(c for c in IMPORT_COLUMNS if c.key == "name")
    assert convert_cell(name_column, "'=1+1 光伏") == "=1+1 光伏"
    assert convert_cell(name_column, "'-5 储能") == "-5 储能"
    assert convert_cell(name_column, "'普通引号开头") == "'普通引号开头"  # only the quote the export adds


def test_safe_text_rules():
    from greenmatch.catalog.sheets import safe_text, unescape_text

    for text in ("=A1", "+A1", "-A1", "@A1", "\tA1", "\rA1"):
        assert safe_text(text) == "'" + text and unescape_text(safe_text(text)) == text
    assert safe_text("a\x00b\x08c\x0bd\x1fe\tf\ng") == "abcde\tf\ng"  # tab and LF are legal XML
    assert safe_text("光伏 = 清洁") == "光伏 = 清洁"


def test_export_is_for_bureaus_and_admins(io_client, auth, f):
    assert io_client.get(EXPORT).status_code == 401
    for user in (f.enterprise_user(), f.institution_user()):
        assert io_client.get(EXPORT, headers=auth(user)).status_code == 403
    assert io_client.get(EXPORT + "?status=bogus", headers=auth(f.bureau_user())).status_code == 422


def test_endpoints_are_documented(io_app):
    from openapi_spec_validator import validate

    spec = io_app().test_client().get("/api/v1/openapi.json").get_json()
    validate(spec)
    export = spec["paths"]["/api/v1/projects/export.xlsx"]["get"]
    assert XLSX_MIMETYPE in export["responses"]["200"]["content"]
    imported = spec["paths"]["/api/v1/projects/import"]["post"]
    assert "multipart/form-data" in imported["requestBody"]["content"]
    assert "422" in imported["responses"]
    assert "/api/v1/stats/overview" in spec["paths"]


# -- tenancy: a bureau acts only for enterprises of its jurisdiction; unknown companies stay unclaimed -----------
def _register(client, uscc, email, name="张家口新建光伏有限公司", region="130700", **org):
    return client.post("/api/v1/auth/register", json={
        "email": email, "password": "Zhangjiakou-PV-2026!", "name": "李总",
        "organization": {"kind": "enterprise", "name": name, "uscc": uscc, "region_code": region, **org}})


def _token_for(client, email):
    response = client.post("/api/v1/auth/token", json={"email": email, "password": "Zhangjiakou-PV-2026!"})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_a_bureau_cannot_import_into_another_regions_registered_enterprise(io_client, auth, f):
    hebei = f.bureau_user(region_code="130000")
    suzhou_firm = f.enterprise_user(region_code="320500", name="苏州工业园区绿能环境服务有限公司")
    # the row's project lies in Hebei, but the enterprise it names is registered in Suzhou
    rows = [good_row(1, enterprise_uscc=suzhou_firm.organization.uscc, region_code="130700",
                     contact_name="冒名联系人", contact_phone="13800000000")]
    body = upload(io_client, auth(hebei), csv_file(rows, COLUMNS + BUREAU_COLUMNS), "rows.csv").get_json()
    assert body["accepted"] == 0 and body["rows"][0]["status"] == "refused"
    assert "注册在您的辖区之外" in body["rows"][0]["errors"]["enterprise_uscc"][0]
    assert io_client.get(API, headers=auth(suzhou_firm)).get_json()["total"] == 0  # nothing in its list
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_an_unregistered_company_becomes_unclaimed_and_claims_with_the_code(io_client, auth, f):
    hebei = f.bureau_user(region_code="130000")
    uscc = make_uscc("91130700MA0CLM001")
    rows = [good_row(1, enterprise_uscc=uscc, enterprise_name="张家口新建光伏有限公司"),
            good_row(2, enterprise_uscc=uscc, enterprise_name="张家口新建光伏有限公司")]
    body = upload(io_client, auth(hebei), csv_file(rows, COLUMNS + BUREAU_COLUMNS), "rows.csv").get_json()
    assert body["accepted"] == 2
    [claim] = body["claim_codes"]  # one code per new enterprise, shown once
    assert claim["uscc"] == uscc and claim["row"] == 2 and claim["claim_code"].startswith("GM-")
    org = db.session.scalar(select(Organization).where(Organization.uscc == uscc))
    assert (org.claim_state, org.verified) == ("unclaimed", False)
    assert org.claim_code_hash and claim["claim_code"] not in org.claim_code_hash  # only its hash is kept

    # a wrong code is a 422 naming the field, and claims nothing
    wrong = _register(io_client, uscc, "li@zjk-pv.cn", claim_code="GM-0000-0000")
    assert wrong.status_code == 422 and "organization.claim_code" in wrong.get_json()["error"]["fields"]
    # the real company registers with the code: 201, never 409; it owns the imported projects at once
    registered = _register(io_client, uscc, "li@zjk-pv.cn", claim_code=claim["claim_code"].lower())
    assert registered.status_code == 201, registered.get_json()
    assert registered.get_json()["organization"]["claim_state"] == "claimed"
    headers = _token_for(io_client, "li@zjk-pv.cn")
    mine = io_client.get(API, headers=headers).get_json()
    assert mine["total"] == 2 and {p["name"] for p in mine["items"]} == {"张家口光伏电站001号", "张家口光伏电站002号"}
    # single use: a second claim with the same code is refused; the USCC is now taken as usual (409)
    again = _register(io_client, uscc, "other@zjk-pv.cn", claim_code=claim["claim_code"])
    assert again.status_code == 409


def test_a_claim_without_the_code_waits_for_the_bureau(io_client, auth, f):
    hebei, jiangsu = f.bureau_user(region_code="130000"), f.bureau_user(region_code="320000")
    uscc = make_uscc("91130700MA0CLM002")
    rows = [good_row(1, enterprise_uscc=uscc, enterprise_name="张家口坝上储能科技有限公司")]
    upload(io_client, auth(hebei), csv_file(rows, COLUMNS + BUREAU_COLUMNS), "rows.csv")
    registered = _register(io_client, uscc, "wang@bashang.cn", name="张家口坝上储能科技有限公司")
    assert registered.status_code == 201  # not 409
    org = registered.get_json()["organization"]
    assert org["claim_state"] == "pending"
    headers = _token_for(io_client, "wang@bashang.cn")
    assert io_client.get(API, headers=headers).get_json()["total"] == 0  # sees nothing of the firm yet
    assert io_client.post(API, json=project(), headers=headers).status_code == 403
    confirm = f"/api/v1/organizations/{org['id']}/confirm-claim"
    assert io_client.post(confirm, headers=headers).status_code == 403
    assert io_client.post(confirm, headers=auth(jiangsu)).status_code == 404  # outside its jurisdiction
    confirmed = io_client.post(confirm, headers=auth(hebei))
    assert confirmed.status_code == 200 and confirmed.get_json()["claim_state"] == "claimed"
    assert io_client.get(API, headers=headers).get_json()["total"] == 1
    assert io_client.post(confirm, headers=auth(hebei)).status_code == 409


def test_a_bureau_cannot_use_another_bureaus_unclaimed_enterprise(io_client, auth, f):
    hebei, jiangsu = f.bureau_user(region_code="130000"), f.bureau_user(region_code="320000")
    uscc = make_uscc("91130700MA0CLM003")
    upload(io_client, auth(hebei), csv_file([good_row(1, enterprise_uscc=uscc, enterprise_name="张家口某新能源有限公司")],
                                             COLUMNS + BUREAU_COLUMNS), "rows.csv")
    body = upload(io_client, auth(jiangsu), csv_file(
        [good_row(2, enterprise_uscc=uscc, region_code="320500")], COLUMNS + BUREAU_COLUMNS), "rows.csv").get_json()
    assert body["rows"][0]["status"] == "refused" and "enterprise_uscc" in body["rows"][0]["errors"]
    # nor name a new enterprise located outside its jurisdiction
    body = upload(io_client, auth(jiangsu), csv_file(
        [good_row(3, enterprise_uscc=make_uscc("91130700MA0CLM004"), enterprise_name="异地企业有限公司",
                  enterprise_region_code="130700", region_code="320500")],
        COLUMNS + BUREAU_COLUMNS + [("enterprise_region_code", "企业所在地区代码", "Enterprise region code")]),
        "rows.csv").get_json()
    assert body["rows"][0]["status"] == "refused" and "enterprise_region_code" in body["rows"][0]["errors"]


def test_ordinary_chinese_values_and_the_screening_columns_import(io_client, auth, f):
    """Offices write "建设阶段", "绿色工厂", "绿色信贷", "改造", "已备案" — not the API's keys — and the sheet
    carries what the 两高 and compliance rules need (issue #12/#13)."""
    owner = f.enterprise_user(region_code="130200")
    columns = [("name", "项目名称", "Name"), ("industry_code", "行业代码", "Industry"), ("region_code", "所在地区代码", "Region"),
               ("categories", "目录类别", "Categories"), ("stage", "项目阶段", "Stage"),
               ("total_investment_cny", "总投资（元）", "total investment"),
               ("financing_need_cny", "融资需求（元）", "financing need"), ("certifications", "资质认证", "Certifications"), ("preferred_instruments", "意向融资工具", "Instruments"),
               ("capacity_change", "产能变化", "Capacity change"), ("primary_fuel", "主要燃料", "Fuel"),
               ("compliance.eia_status", "环评状态", "EIA status"),
               ("compliance.largest_env_fine_cny", "近三年单笔最大环境罚款（万元）", "largest env fine"),
               ("benefits.electricity_saving_mwh", "年节电量", "Electricity saved")]
    rows = [{"name": "唐钢2号高炉TRT余压发电改造", "industry_code": "3110", "region_code": "130200", "categories": "1.4.1",
             "stage": "建设阶段", "total_investment_cny": 86_000_000, "financing_need_cny": 50_000_000,
             "certifications": "绿色工厂、高新技术企业", "preferred_instruments": "绿色信贷", "capacity_change": "改造",
             "primary_fuel": "煤", "compliance.eia_status": "环评已备案", "compliance.largest_env_fine_cny": 12,
             "benefits.electricity_saving_mwh": 42_000}]
    body = upload(io_client, auth(owner), csv_file(rows, columns), "rows.csv").get_json()
    assert body["accepted"] == 1, body
    project = io_client.get(f"{API}/{body['rows'][0]['project_id']}", headers=auth(owner)).get_json()
    assert (project["stage"], project["capacity_change"], project["primary_fuel"]) == ("construction", "retrofit", "coal")
    assert project["certifications"] == ["green_factory", "high_tech"]
    assert project["preferred_instruments"] == ["green_credit"]
    assert project["compliance"]["eia_status"] == "registration"
    assert project["compliance"]["largest_env_fine_cny"] == 120_000
    assert project["benefits"]["electricity_saving_mwh"] == 42_000
    rows[0].update(name="未知阶段的项目", stage="筹备中")  # not a stage: refused, naming the field
    refused = upload(io_client, auth(owner), csv_file(rows, columns), "rows.csv").get_json()
    assert refused["accepted"] == 0 and "stage" in refused["rows"][0]["errors"]
