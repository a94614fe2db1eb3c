"""The bureau's Excel export: one row per project the caller may see, bilingual headers (a Chinese row above
an English row), frozen header, column widths, money and date formats, and an "About" sheet saying what was
exported.

Written with openpyxl's write-only (streaming) workbook, rows produced one at a time from the query, so time
and memory grow linearly with the rows (``bench/export.py``: 50,000 rows). Every text cell goes through
:func:`greenmatch.catalog.sheets.safe_value` (no XML-illegal characters, formula-like text quoted).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, update
from sqlalchemy.orm import load_only

from greenmatch import jobs, permissions, reference
from greenmatch.accounts.models import Role, User
from greenmatch.api import count_rows
from greenmatch.db import utcnow
from greenmatch.errors import Conflict, NotFound
from greenmatch.extensions import db
from greenmatch.labels import label
from greenmatch.text import Msg

from .models import ExportJob, Project
from .sheets import HEADER_ALIGNMENT, HEADER_FILL, HEADER_FONT, safe_value
from .stats import CHINA_TZ

log = logging.getLogger(__name__)
DEFAULT_EXPORT_MAX_ROWS = 50000  # EXPORT_MAX_ROWS: projects per exported workbook
EXPORT_BATCH_ROWS = 1000  # rows fetched from the database at a time
EXPORT_LOCALE = "zh_CN"  # the workbook is for Chinese offices: names in Chinese, codes beside them
MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class ExportColumn:
    key: str
    zh: str
    en: str
    width: float
    value: Callable[[Project], Any]
    number_format: str | None = None


def _china_date(value: dt.datetime | None) -> dt.date | None:
    return value.astimezone(CHINA_TZ).date() if value is not None else None


def _money(value: Any) -> float | None:
    return float(value) if value is not None else None


def _effective(project: Project) -> list[str]:
    return [row.code for row in project.category_rows if row.effective]


@cache
def _category_name(code: str) -> str | None:
    category = reference.catalogue().get(code)
    return category.name_zh if category else None


def _category_names(project: Project) -> str:
    return "；".join(name for name in map(_category_name, _effective(project)) if name)


@cache
def _region_name(code: str) -> str | None:
    return reference.region_name(code, full=True)


def _bilingual(table: str, key: str | None) -> str | None:
    """``"已入库 approved"``: the name (greenmatch.labels) and the code an import reads back."""
    if key is None:
        return None
    name = label(table, key, EXPORT_LOCALE)
    return f"{name} {key}" if name != key else key


EXPORT_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("id", "编号", "ID", 8, lambda p: p.id),
    ExportColumn("name", "项目名称", "Project name", 40, lambda p: p.name),
    ExportColumn("enterprise", "企业名称", "Enterprise", 32, lambda p: p.enterprise.name),
    ExportColumn("enterprise_uscc", "统一社会信用代码", "Enterprise USCC", 22, lambda p: p.enterprise.uscc),
    ExportColumn("region_code", "地区代码", "Region code", 11, lambda p: p.region_code),
    ExportColumn("region", "所在地区", "Region", 24, lambda p: _region_name(p.region_code)),
    ExportColumn("industry_code", "行业代码", "Industry code (GB/T 4754)", 11, lambda p: p.industry_code),
    ExportColumn("industry", "所属行业", "Industry", 24, lambda p: reference.industry_name(p.industry_code)),
    ExportColumn("categories", "目录类别代码", "Catalogue codes", 16, lambda p: "; ".join(_effective(p))),
    ExportColumn("category_names", "目录类别名称", "Catalogue categories", 40, _category_names),
    ExportColumn("stage", "阶段", "Stage", 16, lambda p: _bilingual("stage", p.stage)),
    ExportColumn("total_investment_cny", "总投资（元）", "Total investment (CNY)", 18,
                 lambda p: _money(p.total_investment_cny), MONEY_FORMAT),
    ExportColumn("financing_need_cny", "融资需求（元）", "Financing need (CNY)", 18,
                 lambda p: _money(p.financing_need_cny), MONEY_FORMAT),
    ExportColumn("status", "状态", "Status", 16, lambda p: _bilingual("project_status", p.status)),
    ExportColumn("green_score", "绿色评分", "Green score", 10, lambda p: p.green_score),
    ExportColumn("label", "绿色标识", "Label", 16, lambda p: _bilingual("label", p.label)),
    ExportColumn("flagged", "风险提示", "Flagged", 10, lambda p: "是 yes" if p.flagged else "否 no"),
    # dates get openpyxl's yyyy-mm-dd format by themselves
    ExportColumn("submitted_at", "提交日期", "Submitted on", 12, lambda p: _china_date(p.submitted_at)),
    ExportColumn("decided_at", "审核决定日期", "Decided on", 12, lambda p: _china_date(p.decided_at)),
)
EXPORT_HEADER_ROWS = 2  # Chinese names, then English names
# The project columns the rows read (the rest, JSON documents and descriptions, is never loaded for an export).
EXPORT_LOAD = ("id", "enterprise_id", "name", "region_code", "industry_code", "stage", "total_investment_cny",
               "financing_need_cny", "status", "green_score", "label", "flagged", "submitted_at", "decided_at")


def export_query(stmt: Select) -> Select:
    """``stmt`` (projects) as the export streams it: only the columns the rows show, in batches."""
    return stmt.options(load_only(*(getattr(Project, name) for name in EXPORT_LOAD))).execution_options(
        yield_per=EXPORT_BATCH_ROWS)


def _header_row(ws: Any, names: Iterable[str]) -> list[WriteOnlyCell]:
    cells = []
    for name in names:
        cell = WriteOnlyCell(ws, value=safe_value(name))
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
        cells.append(cell)
    return cells


def export_workbook(projects: Iterable[Project], *, title: str = "项目 Projects",
                    notes: Mapping[str, Any] | None = None) -> Workbook:
    """A write-only workbook with one row per project (sheet 1) and what was exported (sheet 2, ``notes``).
    ``projects`` is consumed once, row by row (pass a streaming query result)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = f"C{EXPORT_HEADER_ROWS + 1}"  # headers and id + name stay visible
    ws.append(_header_row(ws, (c.zh for c in EXPORT_COLUMNS)))
    ws.append(_header_row(ws, (c.en for c in EXPORT_COLUMNS)))
    formatted = [(i, c.number_format) for i, c in enumerate(EXPORT_COLUMNS) if c.number_format]
    count = 0
    for project in projects:
        row: list[Any] = [safe_value(column.value(project)) for column in EXPORT_COLUMNS]
        for i, number_format in formatted:
            if row[i] is not None:
                cell = WriteOnlyCell(ws, value=row[i])
                cell.number_format = number_format
                row[i] = cell
        ws.append(row)
        count += 1
    if count:
        last = get_column_letter(len(EXPORT_COLUMNS))
        ws.auto_filter.ref = f"A{EXPORT_HEADER_ROWS}:{last}{EXPORT_HEADER_ROWS + count}"

    about = wb.create_sheet("说明 About")
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 60
    rows = [("导出时间 Exported at", dt.datetime.now(CHINA_TZ).strftime("%Y-%m-%d %H:%M (UTC+8)")),
            ("项目数 Projects", count), *(notes or {}).items(), ("金额单位 Amounts", "人民币元 CNY yuan")]
    for key, value in rows:
        about.append([safe_value(key), safe_value(value)])
    return wb


def export_filename(prefix: str = "greenmatch-projects") -> str:
    return f"{prefix}-{dt.datetime.now(CHINA_TZ):%Y%m%d-%H%M}.xlsx"


# -- bulk exports as long work (api.md §5 "Long work": 202 + a job resource with progress) ---------------------
EXPORT_JOB = "catalog.export_projects"
PROGRESS_EVERY = 1000  # rows between two progress updates of the job row


def export_folder() -> Path:
    folder = Path(current_app.instance_path) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_notes(actor: User, filters: Mapping[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in filters.items() if k != "sort" and v not in (None, "")}
    notes = {"导出人 Exported by": f"{actor.organization.name} ({actor.email})",
             "筛选条件 Filters": ", ".join(f"{k}={v}" for k, v in shown.items()) or "—"}
    if actor.role == Role.bureau:
        notes["辖区 Jurisdiction"] = actor.organization.region_code
    return notes


def start_export(actor: User, filters: Mapping[str, Any]) -> ExportJob:
    """Queue an export of the projects ``actor`` sees with ``filters`` (those of ``GET /projects``)."""
    from . import service

    permissions.check_role(actor, Role.bureau, Role.admin)
    job = ExportJob(organization_id=actor.organization_id, requested_by_id=actor.id, status="queued",
                    filters=json.loads(json.dumps(dict(filters), default=str)),
                    total=count_rows(db.session, service.filtered(actor, filters)))
    db.session.add(job)
    db.session.commit()
    jobs.enqueue(EXPORT_JOB, job_id=job.id)
    return job


def _set(job_id: int, **values: Any) -> None:
    """Progress on its own connection: the export's streaming query keeps its transaction open meanwhile."""
    with db.engine.begin() as conn:
        conn.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values))


@jobs.register(EXPORT_JOB)
def run_export(job_id: int) -> None:
    from . import service
    from .schemas import ProjectQuerySchema

    job = db.session.get(ExportJob, job_id)
    if job is None or job.status != "queued":  # a re-delivered task: done already
        return
    actor, filters = db.session.get(User, job.requested_by_id), ProjectQuerySchema().load(job.filters)
    _set(job_id, status="running")
    total = max(job.total, 1)
    written = 0

    def counted(projects: Iterable[Project]) -> Iterator[Project]:
        nonlocal written
        for project in projects:
            yield project
            written += 1
            if written % PROGRESS_EVERY == 0:
                _set(job_id, rows_written=written, progress=min(written / total, 0.99))

    try:
        projects = db.session.scalars(export_query(service.filtered(actor, filters)))
        workbook = export_workbook(counted(projects), notes=export_notes(actor, filters))
        filename = f"{job_id}-{secrets.token_hex(8)}.xlsx"
        workbook.save(export_folder() / filename)
    except Exception as exc:  # recorded on the job; the log has the traceback
        log.exception("export job %s failed", job_id)
        db.session.rollback()
        _set(job_id, status="failed", error=type(exc).__name__, finished_at=utcnow())
        return
    _set(job_id, status="succeeded", rows_written=written, progress=1.0, filename=filename, finished_at=utcnow())


def get_export(actor: User, job_id: int) -> ExportJob:
    """The export job, for its own organisation (and admins); 404 for everyone else."""
    job = db.session.get(ExportJob, job_id)
    if job is None or (actor.role != Role.admin and job.organization_id != actor.organization_id):
        raise NotFound(Msg("Not found: %(what)s %(id)s", what="Export", id=job_id))
    db.session.refresh(job)
    return job


def export_file(actor: User, job_id: int) -> Path:
    job = get_export(actor, job_id)
    if job.status != "succeeded" or not job.filename:
        raise Conflict(Msg("The export's file is not ready yet (%(status)s)", status=job.status))
    return export_folder() / job.filename
