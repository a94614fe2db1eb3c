"""The bulk import of financing-need forms and its template (the export: :mod:`.excel_export`; what both
share: :mod:`.sheets`).

Import (:func:`import_projects`): an ``.xlsx`` or ``.csv`` (UTF-8 with or without BOM; GB18030 as the
fallback Excel in Chinese locales writes) whose header names the contract's project fields in Chinese or
English (``项目名称``, ``name``, ``项目名称 Project name`` …, see :data:`IMPORT_COLUMNS`). Every row is
validated with the same :class:`~greenmatch.catalog.schemas.ProjectInSchema` as ``POST /projects`` and
created through :mod:`greenmatch.catalog.service` in its own transaction: a bad row is reported with its
spreadsheet row number and reasons and never blocks or half-writes the good ones.

* an enterprise imports drafts of its own organisation;
* a bureau imports projects of enterprises named per row (``enterprise_uscc`` + ``enterprise_name``; an
  unknown USCC creates the enterprise), each in its jurisdiction; they arrive ``submitted`` (they still
  go through review).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from greenmatch.accounts.models import Organization, OrgKind, Role, User
from greenmatch.accounts.service import new_claim_code
from greenmatch.codes import region_covers, uscc_problem
from greenmatch.errors import ApiError, Forbidden, Invalid, flatten_messages
from greenmatch.extensions import db
from greenmatch.text import Msg, Name, render

from . import reference, service
from .models import Project
from .schemas import ProjectInSchema
from .sheets import HEADER_ALIGNMENT, HEADER_FILL, HEADER_FONT, setting, unescape_text

log = logging.getLogger(__name__)

# Settings (app.config) with their defaults.
DEFAULT_IMPORT_MAX_ROWS = 5000  # IMPORT_MAX_ROWS: data rows per imported file
MAX_COLUMNS = 120  # columns read from an imported sheet (more are ignored)
HEADER_SCAN_ROWS = 10  # the header row must be among the first rows

# ================================================================================================
# Import: columns
# ================================================================================================
@dataclass(frozen=True)
class ImportColumn:
    """One importable column: ``key`` is the contract field (``benefits.co2_reduction_t`` for nested
    ones; ``enterprise_*`` are the bureau's per-row enterprise), ``kind`` how a cell becomes a value."""

    key: str
    kind: str  # text | code | int | number | money | bool | list
    zh: tuple[str, ...]
    en: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.zh[0]} {self.key}"


IMPORT_COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn("name", "text", ("项目名称", "名称", "项目"), ("project name", "project")),
    ImportColumn("description", "text", ("项目简介", "项目描述", "项目概况", "描述", "简介"), ("project description",)),
    ImportColumn("industry_code", "code", ("行业代码", "国民经济行业代码", "行业分类代码", "所属行业代码"),
                 ("industry", "gbt4754", "gb/t 4754", "industry code gb/t 4754")),
    ImportColumn("region_code", "code",
                 ("地区代码", "行政区划代码", "项目所在地区代码", "所在地区代码", "项目地区代码"),
                 ("region", "project region")),
    ImportColumn("categories", "list",
                 ("目录类别", "目录类别代码", "绿色类别", "类别代码", "目录代码", "绿色金融支持项目目录"),
                 ("category", "category codes", "catalogue codes", "catalogue categories")),
    ImportColumn("stage", "text", ("阶段", "项目阶段"), ("project stage",)),
    ImportColumn("commissioning_year", "int", ("投产年份", "投运年份", "建成年份"), ("commissioning",)),
    ImportColumn("total_investment_cny", "money", ("总投资", "项目总投资", "总投资额"), ("total investment",)),
    ImportColumn("financing_need_cny", "money", ("融资需求", "融资需求金额", "拟融资金额", "融资金额"),
                 ("financing need",)),
    ImportColumn("annual_revenue_cny", "money", ("年营业收入", "年收入", "预计年收入"), ("annual revenue", "revenue")),
    ImportColumn("annual_net_cash_flow_cny", "money", ("年净现金流", "年经营性净现金流"), ("annual net cash flow",)),
    ImportColumn("asset_value_cny", "money", ("资产价值", "资产估值", "资产评估值"), ("asset value",)),
    ImportColumn("is_concession", "bool", ("特许经营", "是否特许经营"), ("concession",)),
    ImportColumn("expected_irr_pct", "number", ("预期内部收益率", "内部收益率", "预期收益率"),
                 ("expected irr", "irr", "expected irr pct")),
    ImportColumn("benefits.energy_saving_tce", "number", ("年节能量", "节能量"),
                 ("energy saving tce", "energy saving")),
    ImportColumn("benefits.co2_reduction_t", "number",
                 ("年减排二氧化碳", "年二氧化碳减排量", "二氧化碳减排量", "年碳减排量", "碳减排量", "年减排量"),
                 ("co2 reduction t", "co2 reduction")),
    ImportColumn("benefits.renewable_generation_mwh", "number", ("年可再生能源发电量", "可再生能源发电量", "年发电量"),
                 ("renewable generation mwh", "renewable generation")),
    ImportColumn("benefits.water_saving_t", "number", ("年节水量", "节水量"), ("water saving t", "water saving")),
    ImportColumn("certifications", "list", ("资质认证", "认证资质", "绿色认证", "认证"), ()),
    ImportColumn("collateral", "list", ("抵质押物", "可抵质押资产", "担保物", "抵押物"), ()),
    ImportColumn("risk_exposures", "list", ("风险敞口", "风险类型", "保险需求"), ("risks",)),
    ImportColumn("compliance.eia_approved", "bool", ("环评批复", "已取得环评批复", "环评"), ("eia approved", "eia")),
    ImportColumn("compliance.pollutant_permit", "bool", ("排污许可证", "排污许可"), ("pollutant permit",)),
    ImportColumn("compliance.env_penalties_3y", "int", ("近三年环境处罚次数", "环境处罚次数"),
                 ("env penalties 3y", "environmental penalties")),
    ImportColumn("compliance.major_env_penalty_3y", "bool", ("近三年重大环境处罚", "重大环境处罚"),
                 ("major env penalty 3y", "major environmental penalty")),
    ImportColumn("preferred_instruments", "list", ("意向融资工具", "融资工具", "金融工具"), ("instruments",)),
    ImportColumn("contact.name", "text", ("联系人", "联系人姓名"), ("contact name", "contact")),
    ImportColumn("contact.phone", "code", ("联系电话", "联系人电话", "电话", "手机"), ("contact phone", "phone")),
    ImportColumn("contact.email", "text", ("联系邮箱", "电子邮箱", "邮箱"), ("contact email", "email")),
    ImportColumn("enterprise_uscc", "code", ("统一社会信用代码", "企业统一社会信用代码", "信用代码"),
                 ("uscc", "enterprise uscc")),
    ImportColumn("enterprise_name", "text", ("企业名称", "企业", "申报企业"), ("enterprise name", "enterprise")),
    ImportColumn("enterprise_region_code", "code", ("企业所在地区代码", "企业地区代码"), ("enterprise region code",)),
)
ENTERPRISE_KEYS = ("enterprise_uscc", "enterprise_name", "enterprise_region_code")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PARENS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_NOISE = re.compile(r"[\s_\-.·:：*]+")
_SPLIT_PARTS = re.compile(r"[\n\r/|]+")
# Money headers may carry a unit; amounts are stored in yuan.
MONEY_UNITS = (("亿元", 100_000_000), ("万元", 10_000))


def normalize_header(text: str) -> str:
    return _NOISE.sub("", _PARENS.sub("", text)).casefold()


def _aliases() -> dict[str, ImportColumn]:
    out: dict[str, ImportColumn] = {}
    for column in IMPORT_COLUMNS:
        names = (column.key, column.key.replace(".", "_"), column.key.split(".")[-1]
                 if column.key.startswith(("benefits.", "compliance.")) else column.key, *column.zh, *column.en)
        for name in names:
            out.setdefault(normalize_header(name), column)
    return out


_ALIASES = _aliases()


def match_header(text: Any) -> tuple[ImportColumn, int] | None:
    """The column a header cell names, with the money scale of its unit (1, or 10,000 for ``万元``).
    Accepts ``项目名称``, ``name``, ``Project name``, ``项目名称 Project name``, ``项目名称\\nname``,
    ``总投资（元）`` and ``benefits.co2_reduction_t``."""
    if text is None:
        return None
    text = str(text).strip()
    if not text:
        return None
    candidates = [text, *_SPLIT_PARTS.split(text), "".join(_CJK.findall(text)), _CJK.sub(" ", text)]
    for candidate in candidates:
        column = _ALIASES.get(normalize_header(candidate))
        if column is not None:
            scale = next((s for unit, s in MONEY_UNITS if unit in text), 1) if column.kind == "money" else 1
            return column, scale
    return None


def template_workbook() -> Workbook:
    """An empty import sheet: a header cell ``中文名\\nfield`` per column, code columns formatted as text."""
    wb = Workbook()
    ws = wb.active
    ws.title = "项目 Projects"
    ws.append([f"{c.zh[0]}\n{c.key}" for c in IMPORT_COLUMNS])
    for index, column in enumerate(IMPORT_COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = 40 if column.key in ("name", "description") else 18
        cell = ws.cell(row=1, column=index)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
        if column.kind in ("code", "list"):
            for row in range(2, 502):
                ws.cell(row=row, column=index).number_format = "@"
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "B2"
    help_ws = wb.create_sheet("填写说明 Help")
    help_ws.append(["列 Column", "说明 Notes"])
    help_ws.append(["categories / certifications / collateral / risk_exposures / preferred_instruments",
                    "多个值用“;”或“、”分隔 Separate several values with ; or 、"])
    help_ws.append(["compliance.*", "是/否、true/false、1/0"])
    help_ws.append(["*_cny", "金额单位：元（表头写“万元”时按万元换算）Amounts in yuan (a 万元 header is scaled)"])
    help_ws.append(["enterprise_uscc, enterprise_name",
                    "仅工信部门导入时填写 Bureaus only: the enterprise of each row"])
    help_ws.column_dimensions["A"].width = 60
    help_ws.column_dimensions["B"].width = 70
    return wb


# ================================================================================================
# Import: reading files
# ================================================================================================
class FileProblem(Invalid):
    """The uploaded file as a whole cannot be imported (422 naming ``file``)."""

    def __init__(self, message: Msg):
        super().__init__(Msg("%(field)s: %(message)s", field="file", message=message), fields={"file": [message]})


@dataclass
class Sheet:
    """Rows of an uploaded file: ``(spreadsheet row number, cells)``; the header is found later."""

    rows: list[tuple[int, list[Any]]]


def read_upload(filename: str | None, content: bytes, max_rows: int) -> Sheet:
    """Rows of an ``.xlsx`` or ``.csv`` upload; :class:`FileProblem` when unreadable, of the wrong type or
    longer than ``max_rows`` data rows (plus up to :data:`HEADER_SCAN_ROWS` header rows)."""
    if not content:
        raise FileProblem(Msg("the file is empty"))
    name = (filename or "").lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(Msg("old Excel 97-2003 (.xls) files are not supported; save it as .xlsx or CSV UTF-8"))
    if ext in ("xlsx", "xlsm") or (not ext and content.startswith(b"PK\x03\x04")):
        return Sheet(_xlsx_rows(content, max_rows))
    if ext in ("csv", "txt") or not ext:
        return Sheet(_csv_rows(content, max_rows))
    raise FileProblem(Msg("unsupported file type .%(ext)s: upload an .xlsx workbook or a .csv file", ext=ext))


def _limit(max_rows: int) -> int:
    return max_rows + HEADER_SCAN_ROWS


def _too_many(max_rows: int) -> FileProblem:
    return FileProblem(f"more than {max_rows} rows: split the file (the limit is {max_rows} projects per import)")


def _blank(cells: Iterable[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _xlsx_rows(content: bytes, max_rows: int) -> list[tuple[int, list[Any]]]:
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, InvalidFileException, KeyError, XML errors...
        raise FileProblem(Msg("not a readable .xlsx workbook")) from exc
    try:
        ws = _project_sheet(wb)
        rows: list[tuple[int, list[Any]]] = []
        for number, values in enumerate(ws.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            cells = list(values)
            if _blank(cells):
                continue
            rows.append((number, cells))
            if len(rows) > _limit(max_rows):
                raise _too_many(max_rows)
        return rows
    except FileProblem:
        raise
    except Exception as exc:
        raise FileProblem(Msg("not a readable .xlsx workbook")) from exc
    finally:
        wb.close()


def _project_sheet(wb: Any) -> Any:
    for ws in wb.worksheets:
        if any(word in ws.title.casefold() for word in ("项目", "project")):
            return ws
    return wb.worksheets[0]


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # Excel's "CSV" in a Chinese locale (GBK, a subset of GB18030)
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FileProblem(Msg("the CSV is not UTF-8 text; save it as “CSV UTF-8”")) from exc


def _csv_rows(content: bytes, max_rows: int) -> list[tuple[int, list[Any]]]:
    text = _decode(content)
    if "\x00" in text:
        raise FileProblem(Msg("not a text CSV file (binary content); upload an .xlsx workbook or a .csv file"))
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    rows: list[tuple[int, list[Any]]] = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            cells = cells[:MAX_COLUMNS]
            if _blank(cells):
                continue
            rows.append((number, cells))
            if len(rows) > _limit(max_rows):
                raise _too_many(max_rows)
    except csv.Error as exc:
        raise FileProblem(Msg("not a readable CSV file (%(error)s)", error=str(exc))) from exc
    return rows


@dataclass
class Header:
    row_number: int
    columns: dict[int, tuple[ImportColumn, int]]  # cell index -> (column, money scale)
    ignored: list[str] = field(default_factory=list)


def find_header(sheet: Sheet) -> tuple[Header, list[tuple[int, list[Any]]]]:
    """The header row (the first of the first rows naming at least two known columns) and the data rows
    after it; a second header row right below (e.g. English names under Chinese ones) is skipped."""
    for position, (number, cells) in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        matches = {i: m for i, cell in enumerate(cells) if (m := match_header(cell)) is not None}
        if len({m[0].key for m in matches.values()}) < 2:
            continue
        seen: dict[str, Any] = {}
        for i, (column, _scale) in matches.items():
            if column.key in seen:
                raise FileProblem(Msg("the columns “%(a)s” and “%(b)s” both give %(key)s", a=seen[column.key],
                                      b=cells[i], key=column.key))
            seen[column.key] = cells[i]
        ignored = [str(c).strip() for i, c in enumerate(cells) if i not in matches and c not in (None, "")]
        data = sheet.rows[position + 1:]
        if data:
            second = {i for i, cell in enumerate(data[0][1]) if match_header(cell) is not None}
            if len(second) >= 2 and second <= set(matches):
                data = data[1:]
        return Header(number, matches, ignored), data
    known = ", ".join(c.label for c in IMPORT_COLUMNS[:8])
    raise FileProblem(Msg("no header row with known columns in the first %(rows)s rows (e.g. %(known)s, ...)",
                          rows=HEADER_SCAN_ROWS, known=known))


# ================================================================================================
# Import: cells -> the contract's JSON
# ================================================================================================
_LIST_SEPARATORS = re.compile(r"[;；、,，\n]+")
_TRUE = {"是", "有", "已取得", "已批复", "√", "y", "yes", "true", "t", "1", "on"}
_FALSE = {"否", "无", "未取得", "未批复", "×", "n", "no", "false", "f", "0", "off"}


def _number_text(value: str) -> str:
    return re.sub(r"[,，\s¥￥]|元$", "", value)


def _code_text(value: Any, key: str) -> str:
    """Codes typed into number cells come back as numbers: 4416.0 -> "4416"; a GB/T 4754 code that lost its
    leading zero (511 for 0511) is restored when only the padded form exists."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        lost_zero = len(text) == 1 or (len(text) == 3 and not reference.is_industry(text)
                                       and reference.is_industry("0" + text))
        if key == "industry_code" and lost_zero:
            text = "0" + text
        return text
    return str(value).strip()


def convert_cell(column: ImportColumn, value: Any, scale: int = 1) -> Any:
    """A cell as the JSON value the schema expects; ``None`` for an empty cell. Values that cannot be
    converted are passed on unchanged so that the schema reports them in its own words."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = column.kind
    if kind == "code":
        return _code_text(value, column.key)
    if kind == "text":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return unescape_text(value.strip()) if isinstance(value, str) else str(value)
    if kind == "list":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return [part.strip() for part in _LIST_SEPARATORS.split(str(value)) if part.strip()]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return {1: True, 0: False}.get(value, value)
        if not isinstance(value, str):  # a date or Decimal cell: the schema refuses it, naming the field
            return value
        word = value.strip().casefold()
        return True if word in _TRUE else False if word in _FALSE else value
    # int, number, money
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = _number_text(value.strip())
        try:
            value = float(text)
        except ValueError:
            return value.strip()
    if isinstance(value, int | float):
        if kind == "money" and scale != 1:
            value = value * scale
        if kind == "int" and float(value).is_integer():
            return int(value)
        return value
    return str(value)


def row_payload(header: Header, cells: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the project JSON of ``POST /projects``, the per-row enterprise fields)."""
    data: dict[str, Any] = {}
    enterprise: dict[str, Any] = {}
    for index, (column, scale) in header.columns.items():
        value = convert_cell(column, cells[index] if index < len(cells) else None, scale)
        if value is None:
            continue
        if column.key in ENTERPRISE_KEYS:
            enterprise[column.key] = value
        elif "." in column.key:
            group, key = column.key.split(".", 1)
            data.setdefault(group, {})[key] = value
        else:
            data[column.key] = value
    return data, enterprise


_INDEX_PART = re.compile(r"\.\d+(?=\.|$)")


def field_errors(messages: Any) -> dict[str, list[str]]:
    """marshmallow messages -> {"categories": ["unknown catalogue code 9.9.9"]} (list indexes dropped)."""
    out: dict[str, list[str]] = {}
    for name, msgs in flatten_messages(messages).items():
        bucket = out.setdefault(_INDEX_PART.sub("", name), [])
        bucket.extend(m for m in msgs if m not in bucket)
    return out


# ================================================================================================
# Import: the transaction per row
# ================================================================================================
@dataclass
class RowResult:
    row: int
    status: str  # accepted | refused
    project_id: int | None = None
    project_status: str | None = None
    errors: dict[str, list[str]] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "status": self.status}
        if self.project_id is not None:
            out["project_id"] = self.project_id
            out["project_status"] = self.project_status
        if self.errors:  # message codes, rendered for the reader
            out["errors"] = {name: [render(m) for m in messages] for name, messages in self.errors.items()}
        return out


@dataclass
class ImportResult:
    rows: list[RowResult]
    ignored_columns: list[str]
    claim_codes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(r.status == "accepted" for r in self.rows)

    @property
    def refused(self) -> int:
        return sum(r.status == "refused" for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "refused": self.refused, "rows": [r.as_dict() for r in self.rows],
                "ignored_columns": self.ignored_columns, "claim_codes": self.claim_codes}


IMPORT_ROLES = (Role.enterprise, Role.bureau)


def import_projects(actor: User, filename: str | None, content: bytes) -> ImportResult:
    """Import the projects of an uploaded sheet, row by row (see the module docstring)."""
    if actor.role not in IMPORT_ROLES:
        raise Forbidden(Msg("Only enterprises (their own drafts) and bureaus (their jurisdiction) import projects"))
    max_rows = setting("IMPORT_MAX_ROWS", DEFAULT_IMPORT_MAX_ROWS)
    sheet = read_upload(filename, content, max_rows)
    header, data_rows = find_header(sheet)
    if len(data_rows) > max_rows:
        raise _too_many(max_rows)
    importer = _RowImporter(actor, filename, header)
    rows = [importer.run(number, cells) for number, cells in data_rows]
    return ImportResult(rows, header.ignored, importer.claim_codes)


class _RowImporter:
    def __init__(self, actor: User, filename: str | None, header: Header):
        self.actor = actor
        self.header = header
        self.actor_id = actor.id
        self.role = actor.role
        self.organization_id = actor.organization_id
        self.own_uscc = actor.organization.uscc
        self.jurisdiction = actor.organization.region_code if actor.role == Role.bureau else None
        self.bureau_name = actor.organization.name
        self.filename = (filename or "upload")[:100]
        self.schema = ProjectInSchema()
        self.claim_codes: list[dict[str, Any]] = []  # enterprises this import put on the platform, unclaimed
        self._new_claim: dict[str, Any] | None = None

    def _actor(self) -> User:
        # commits expire the actor; reload it once per row (cheap, and never a stale organisation)
        return db.session.get(User, self.actor_id) or self.actor

    def run(self, number: int, cells: list[Any]) -> RowResult:
        try:
            data, enterprise = row_payload(self.header, cells)
        except Exception:  # a cell no conversion foresaw refuses its own row, never the whole import
            log.exception("import row %s of %s: a cell could not be converted", number, self.filename)
            return RowResult(number, "refused",
                             errors={"_schema": ["a cell could not be read; the error has been logged"]})
        try:
            loaded = self.schema.load(data)
        except ValidationError as exc:
            errors = field_errors(exc.messages)
            errors.update(self._enterprise_problems(enterprise, data)[0])
            return RowResult(number, "refused", errors=errors)
        problems, org = self._enterprise_problems(enterprise, loaded)
        problems.update(self._region_problems(loaded))
        if problems:
            return RowResult(number, "refused", errors=problems)
        try:
            project = self._create(number, loaded, enterprise, org)
        except ApiError as exc:
            db.session.rollback()
            return RowResult(number, "refused", errors=exc.fields or {"_schema": [exc.message]})
        except IntegrityError as exc:
            db.session.rollback()
            log.info("import row %s refused by the database: %s", number, exc.orig)
            return RowResult(number, "refused", errors={"_schema": ["conflicts with existing data (duplicate)"]})
        except Exception:
            db.session.rollback()
            log.exception("import row %s of %s failed", number, self.filename)
            return RowResult(number, "refused", errors={"_schema": ["could not be saved; the error has been logged"]})
        finally:
            new_claim, self._new_claim = self._new_claim, None
        if new_claim is not None:  # committed with the row: shown once in this import's result
            self.claim_codes.append({**new_claim, "row": number})
        return RowResult(number, "accepted", project.id, project.status)

    # -- checks beyond the form -------------------------------------------------------------------
    def _enterprise_problems(self, enterprise: Mapping[str, Any],
                             data: Mapping[str, Any]) -> tuple[dict[str, list[str]], Organization | None]:
        """(the problems of the row's enterprise fields, the enterprise already on the platform if a bureau's row
        names one): the row is written with that organisation, not looked up again."""
        uscc = str(enterprise.get("enterprise_uscc") or "").strip().upper()
        if self.role == Role.enterprise:
            if uscc and uscc != (self.own_uscc or ""):
                return {"enterprise_uscc": [Msg("an enterprise imports projects of its own organisation only")]}, None
            return {}, None
        if not uscc:
            return {"enterprise_uscc": [
                Msg("required: the unified social credit code of the project's enterprise")]}, None
        problem = uscc_problem(uscc)
        if problem:
            return {"enterprise_uscc": [problem]}, None
        org = self._organization(uscc)
        if org is not None:
            if org.kind != OrgKind.enterprise:
                return {"enterprise_uscc": [
                    Msg("this USCC belongs to an organisation that is not an enterprise")]}, None
            if self.jurisdiction is not None and not region_covers(self.jurisdiction, org.region_code):
                # a bureau acts only for enterprises of its jurisdiction: another region's enterprise (registered
                # or named by another bureau) registers its projects itself or through its own bureau
                return {"enterprise_uscc": [Msg("this enterprise is registered outside your jurisdiction; it or its "
                                                "own bureau registers its projects")]}, None
            return {}, org
        errors: dict[str, list[str]] = {}
        name = str(enterprise.get("enterprise_name") or "").strip()
        if not 2 <= len(name) <= 200:
            errors["enterprise_name"] = [Msg("required (2-200 characters) for an enterprise not yet on the platform")]
        region = enterprise.get("enterprise_region_code")
        if region is not None and not reference.is_region(str(region)):
            errors["enterprise_region_code"] = [Msg("Unknown region code.")]
        elif (region is not None and self.jurisdiction is not None
              and not region_covers(self.jurisdiction, str(region))):
            errors["enterprise_region_code"] = [Msg("Region %(region)s is outside your jurisdiction %(jurisdiction)s",
                                                    region=Name("region", str(region)),
                                                    jurisdiction=Name("region", self.jurisdiction))]
        return errors, None

    def _region_problems(self, data: Mapping[str, Any]) -> dict[str, list[str]]:
        if self.jurisdiction is None or region_covers(self.jurisdiction, data["region_code"]):
            return {}
        return {"region_code": [Msg("Region %(region)s is outside your jurisdiction %(jurisdiction)s",
                                    region=Name("region", data["region_code"]),
                                    jurisdiction=Name("region", self.jurisdiction))]}

    @staticmethod
    def _organization(uscc: str) -> Organization | None:
        return db.session.scalar(select(Organization).where(Organization.uscc == uscc))

    # -- writing ----------------------------------------------------------------------------------
    def _create(self, number: int, data: dict[str, Any], enterprise: Mapping[str, Any],
                org: Organization | None) -> Project:
        """Write one row; ``org`` is the bureau's row's enterprise found by the checks (``None``: a new one)."""
        actor = self._actor()
        if self.role == Role.enterprise:
            return service.create_project(actor, data)
        if org is None:
            uscc = str(enterprise["enterprise_uscc"]).strip().upper()
            # not on the platform yet: an *unclaimed* organisation, unverified, that the company claims when it
            # registers with the one-time code shown to the bureau in this import's result (docs/claims.md)
            code, code_hash = new_claim_code()
            org = Organization(kind=OrgKind.enterprise.value, name=str(enterprise["enterprise_name"]).strip(),
                               uscc=uscc, region_code=str(enterprise.get("enterprise_region_code")
                                                          or data["region_code"]),
                               verified=False, claim_state="unclaimed", claim_code_hash=code_hash,
                               imported_by_id=self._actor().organization_id)
            db.session.add(org)
            db.session.flush()
            self._new_claim = {"uscc": uscc, "name": org.name, "organization_id": org.id, "claim_code": code}
        # the new enterprise (if any), the draft and its submission commit together (in _submit): a row that
        # fails on the way leaves nothing behind (run rolls the session back)
        project = service.create_project(actor, data, enterprise_id=org.id, commit=False)
        return self._submit(actor, project, number)

    def _submit(self, actor: User, project: Project, number: int) -> Project:
        """A bureau's import enters the review queue at once: the draft → submitted transition, recorded in
        the history with the bureau as actor (``service.submit_project`` is for the owning enterprise)."""
        note = f"{self.bureau_name}批量导入（{self.filename} 第{number}行） imported by the bureau"
        return service.submit_on_behalf(actor, project, note)
