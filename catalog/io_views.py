"""HTTP API of the catalogue's spreadsheets and statistics: Excel export, bulk import, overview.

Registered by the app factory like the other API blueprints (``api.register_blueprint(blp)`` and
``csrf.exempt(blp)``); :func:`init_app` does the same, idempotently, and adds the ``seed`` CLI group.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify
from flask_smorest.fields import Upload
from marshmallow import INCLUDE, Schema, fields, validate

from greenmatch import permissions
from greenmatch.accounts.models import Role
from greenmatch.api import Blueprint, count_rows
from greenmatch.errors import Invalid
from greenmatch.extensions import db
from greenmatch.text import Msg

from . import excel_export, excel_import, excel_template, service, sheets, stats
from .schemas import ProjectQuerySchema, check_region

blp = Blueprint("catalog_io", __name__, url_prefix="/api/v1",
                description="Excel export and import of projects; statistics for bureaus")

XLSX_DOC = {"type": "string", "format": "binary"}


def init_app(app: Flask) -> None:
    """Register this blueprint and the ``greenmatch seed`` commands on ``app`` unless already there."""
    from greenmatch.extensions import csrf

    from .demo import seed_cli

    if blp.name not in app.blueprints:
        app.extensions["greenmatch.api"].register_blueprint(blp)
        csrf.exempt(blp)
    if seed_cli.name not in app.cli.commands:
        app.cli.add_command(seed_cli)


def _xlsx(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype=sheets.XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# -- export ----------------------------------------------------------------------------------------
class ExportQuerySchema(ProjectQuerySchema):
    class Meta:
        exclude = ("page", "per_page")


@blp.route("/projects/export.xlsx")
@blp.requires(Role.bureau, Role.admin)
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, XLSX_DOC, content_type=sheets.XLSX_MIMETYPE,
              description="An .xlsx workbook: one row per project, bilingual headers",
              headers={"Content-Disposition": {"description": "attachment; filename=greenmatch-projects-….xlsx",
                                               "schema": {"type": "string"}}})
@blp.errors(401, 403, 422)
def export_projects(args):
    """Export the projects the caller sees (bureau: its jurisdiction; admin: all) as an Excel workbook,
    with the filters of `GET /projects` (status, category, region, instrument, q, sort)."""
    actor = permissions.require_role(Role.bureau, Role.admin)
    stmt = service.filtered(actor, args)
    limit = sheets.setting("EXPORT_MAX_ROWS", excel_export.DEFAULT_EXPORT_MAX_ROWS)
    total = count_rows(db.session, stmt)
    if total > limit:
        message = Msg("%(n)s projects match; narrow the filters to at most %(m)s per export.", n=total, m=limit)
        raise Invalid(message, fields={"_schema": [message]})
    # streamed in batches: the write-only workbook takes one row at a time (linear time and memory)
    projects = db.session.scalars(excel_export.export_query(stmt))
    workbook = excel_export.export_workbook(projects, notes=excel_export.export_notes(actor, args))
    return _xlsx(sheets.workbook_bytes(workbook), excel_export.export_filename())


class ExportJobSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "queued | running | succeeded | failed"})
    filters = fields.Dict()
    total = fields.Integer(metadata={"description": "projects matching the filters when the export was asked for"})
    rows_written = fields.Integer()
    progress = fields.Float(metadata={"description": "0-1"})
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    file_url = fields.Method("_file_url", allow_none=True)

    def _file_url(self, job) -> str | None:
        return f"/api/v1/exports/{job.id}/file" if job.status == "succeeded" else None


@blp.route("/projects/exports", methods=["POST"])
@blp.requires(Role.bureau, Role.admin)
@blp.arguments(ExportQuerySchema)
@blp.response(202, ExportJobSchema)
@blp.errors(400, 401, 403, 422)
def start_export(args):
    """Export outside the request (bureau: its jurisdiction; admin: all), for workbooks of many thousand rows:
    202 with a job to poll at `GET /exports/{id}`; the workbook is at `file_url` once it has succeeded. Same
    filters as `GET /projects/export.xlsx`, in the JSON body."""
    return excel_export.start_export(permissions.require_user(), args)


@blp.route("/exports/<int:export_id>")
@blp.requires(Role.bureau, Role.admin)
@blp.response(200, ExportJobSchema)
@blp.errors(401, 403, 404)
def get_export(export_id: int):
    """An export job of the caller's organisation: status and progress."""
    return excel_export.get_export(permissions.require_user(), export_id)


@blp.route("/exports/<int:export_id>/file")
@blp.requires(Role.bureau, Role.admin)
@blp.response(200, XLSX_DOC, content_type=sheets.XLSX_MIMETYPE, description="The exported workbook")
@blp.errors(401, 403, 404, 409)
def export_file(export_id: int):
    """The workbook of a succeeded export job (409 while it is queued, running or failed)."""
    path = excel_export.export_file(permissions.require_user(), export_id)
    return _xlsx(path.read_bytes(), excel_export.export_filename())


@blp.route("/projects/import-template.xlsx")
@blp.response(200, XLSX_DOC, content_type=sheets.XLSX_MIMETYPE,
              description="An empty import sheet with one column per importable field")
@blp.errors(401)
def import_template():
    """The import sheet: a header per column (Chinese name and field), code columns formatted as text."""
    permissions.require_user()
    return _xlsx(sheets.workbook_bytes(excel_template.template_workbook()), "greenmatch-import-template.xlsx")


# -- import ----------------------------------------------------------------------------------------
class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": ".xlsx workbook or .csv (UTF-8, with or without BOM)"})


class ImportRowSchema(Schema):
    row = fields.Integer(required=True, metadata={"description": "row number in the spreadsheet (1-based)"})
    status = fields.String(required=True, validate=validate.OneOf(["accepted", "refused"]))
    project_id = fields.Integer()
    project_status = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ClaimCodeSchema(Schema):
    uscc = fields.String()
    name = fields.String()
    organization_id = fields.Integer()
    claim_code = fields.String()
    row = fields.Integer()


class ImportResultSchema(Schema):
    accepted = fields.Integer(required=True)
    refused = fields.Integer(required=True)
    rows = fields.List(fields.Nested(ImportRowSchema), required=True)
    ignored_columns = fields.List(fields.String(), metadata={"description": "header cells naming no known field"})
    claim_codes = fields.List(fields.Nested(ClaimCodeSchema), metadata={
        "description": "enterprises this import put on the platform (unclaimed), each with its one-time claim "
                       "code, shown only here: hand it to the enterprise, which registers with it (docs/claims.md)"})


@blp.route("/projects/import", methods=["POST"])
@blp.requires(Role.enterprise, Role.bureau)
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportResultSchema)
@blp.errors(401, 403, 413, 422)
def import_projects(files):
    """Import projects from a spreadsheet (multipart field `file`, .xlsx or .csv). Enterprises import drafts
    of their own organisation; bureaus import projects of the enterprises named per row (`enterprise_uscc`,
    `enterprise_name`) in their jurisdiction, which arrive `submitted`. Each row is validated like
    `POST /projects` and saved on its own: refused rows are reported with their row number and reasons."""
    actor = permissions.require_role(Role.enterprise, Role.bureau)
    upload = files["file"]
    return excel_import.import_projects(actor, upload.filename, upload.read()).as_dict()


# -- statistics ------------------------------------------------------------------------------------
class OverviewQuerySchema(Schema):
    region = fields.String(validate=check_region,
                           metadata={"description": "GB/T 2260 code; narrows a bureau's jurisdiction"})
    months = fields.Integer(load_default=stats.DEFAULT_MONTHS, validate=validate.Range(min=1, max=stats.MAX_MONTHS))


class NamedCountSchema(Schema):
    code = fields.String()
    key = fields.String()
    name_zh = fields.String()
    name_en = fields.String(allow_none=True)
    projects = fields.Integer()
    approved = fields.Integer()
    financing_need_cny = fields.Float(metadata={"description": "approved + submitted projects"})


class OverviewSchema(Schema):
    """Plus one key per section registered in ``stats.extra_sections`` (e.g. ``engagements_by_instrument``,
    ``financed_split``): the document allows additional properties for them."""

    class Meta:
        unknown = INCLUDE

    scope = fields.Dict()
    generated_at = fields.String()
    total_projects = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    total_financing_need_cny = fields.Float(metadata={"description": "approved + submitted projects"})
    financing_need_by_status = fields.Dict(keys=fields.String(), values=fields.Float())
    total_financed_cny = fields.Float()
    by_category = fields.List(fields.Nested(NamedCountSchema), metadata={"description": "level-1 areas"})
    uncategorised = fields.Integer()
    by_region = fields.List(fields.Nested(NamedCountSchema), metadata={"description": "prefectures"})
    by_instrument = fields.List(fields.Nested(NamedCountSchema))
    monthly = fields.List(fields.Dict(), metadata={"description": "{month, submitted, approved, rejected}"})


@blp.route("/stats/overview")
@blp.requires(Role.bureau, Role.admin)
@blp.arguments(OverviewQuerySchema, location="query")
@blp.response(200, OverviewSchema)
@blp.errors(401, 403, 422)
def overview(args):
    """Statistics (bureau: its jurisdiction, `region` may narrow it; admin: all or `region`): counts by status,
    level-1 category, prefecture and instrument; financing need (approved + submitted) and amount financed;
    submissions, approvals and rejections per month."""
    actor = permissions.require_role(Role.bureau, Role.admin)
    # returned as is (not dumped), so that sections registered in stats.extra_sections pass through
    return jsonify(stats.overview(actor, args.get("region"), months=args["months"]))
