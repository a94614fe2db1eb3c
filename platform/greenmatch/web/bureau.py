"""Industry bureau pages: the review queue (green-priority order), the review page, the jurisdiction's
catalogue with Excel export and import, and the statistics dashboard."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import permissions
from ..accounts.models import Role
from ..catalog import excel_import
from ..catalog import service as catalog
from ..catalog.assessment import score_formula
from ..catalog.models import ProjectStatus
from ..catalog.schemas import ReviewSchema
from ..errors import ApiError
from ..instruments import current_plugins
from ..text import render
from . import forms
from .dashboard import dashboard
from .formatting import PROJECT_STATUS, label_of, lang, name_of, region_label
from .messages import field_errors, form_problem
from .views import bp, catalogue_filters, category_choices, pages

QUEUE_TIERS = {0: "green", 1: "flagged", 2: "standard"}


@bp.route("/review")
def review_queue():
    actor = permissions.require_role(Role.bureau, Role.admin)
    page = pages(catalog.review_queue(actor), per_page=25)
    rows = []
    for project in page["items"]:
        result = catalog.assessment_of(project, with_instruments=False)
        rows.append({"project": project, "tier": QUEUE_TIERS[catalog.queue_tier(project)], "assessment": result})
    return render_template("bureau/queue.html", page=page, rows=rows)


def _review_page(project, actor, values: dict, errors: dict, status: int = 200):
    assessment = catalog.assessment_of(project).as_dict(lang())
    declared = set(project.declared_categories)
    suggested = [c for c in assessment["categories"] if c["source"] == "suggested"]
    return render_template(
        "bureau/review.html", project=catalog.present(project, actor), raw=project, assessment=assessment,
        formula=score_formula(catalog.rule_settings()), history=catalog.history(actor, project.id),
        declared=declared, suggested=suggested, values=values, errors=errors,
        can_review=project.status == ProjectStatus.submitted and permissions.can(actor, "review", project),
    ), status


@bp.route("/review/<int:project_id>", methods=["GET", "POST"])
def review(project_id: int):
    actor = permissions.require_role(Role.bureau, Role.admin)
    project = catalog.get_project(actor, project_id)
    if request.method == "GET":
        return _review_page(project, actor, {"categories": project.categories, "decision": ""}, {})
    form = request.form
    chosen = list(dict.fromkeys([*form.getlist("categories"), *forms.split_list(form.get("extra_categories"))]))
    payload = {"decision": form.get("decision") or None, "note": (form.get("note") or "").strip() or None}
    if payload["decision"] is None:
        payload.pop("decision")
    if payload.get("decision") == "approve" and chosen:
        payload["categories"] = chosen
    values = {"decision": form.get("decision", ""), "note": form.get("note", ""), "categories": chosen,
              "extra_categories": form.get("extra_categories", "")}
    data, errors = forms.load(ReviewSchema(), payload)
    if errors:
        if "decision" in errors:
            errors["decision"] = [_("Choose a decision.")]
        flash(form_problem(), "danger")
        return _review_page(project, actor, values, errors, 422)
    version = forms.form_version(form)
    try:
        catalog.review_project(actor, project.id, data["decision"], data.get("note"), data.get("categories"),
                               version)
    except ApiError as exc:
        if not exc.fields or exc.status == 409:
            raise
        flash(form_problem(), "danger")
        return _review_page(project, actor, values, forms.page_errors(exc.fields), 422)
    done = {"approve": _("Approved: “%(name)s” is now in the catalogue and has been matched with products.",
                         name=project.name),
            "return": _("Returned to the enterprise for changes: “%(name)s”.", name=project.name),
            "reject": _("Rejected: “%(name)s”.", name=project.name)}[data["decision"]]
    flash(done, "success")
    return redirect(url_for("web.review_queue"))


# -- the jurisdiction's catalogue, Excel ----------------------------------------------------------------
def _export_url(filters: dict) -> str:
    query = {k: v for k, v in filters.items() if v and k in ("status", "category", "region", "instrument", "q")}
    return "/api/v1/projects/export.xlsx" + (f"?{urlencode(query)}" if query else "")


def _catalogue_page(actor, report=None, status: int = 200):
    filters = catalogue_filters()
    page = pages(catalog.filtered(actor, {k: v for k, v in filters.items() if v}))
    return render_template(
        "bureau/catalogue.html", page=page, filters=filters, categories=category_choices(),
        provinces=forms.provinces(), region_tree=forms.region_tree(),
        region_value=forms.split_region(filters["region"]), instruments=current_plugins(),
        export_url=_export_url(filters), report=report, jurisdiction=actor.organization.region_code,
    ), status


@bp.route("/bureau/catalogue")
def bureau_catalogue():
    actor = permissions.require_role(Role.bureau, Role.admin)
    return _catalogue_page(actor)


@bp.route("/bureau/catalogue/import", methods=["POST"])
def bureau_import():
    """Upload a spreadsheet; the catalogue's importer validates each row like ``POST /projects``
    (the same code as ``POST /api/v1/projects/import``) and the page shows its per-row report."""
    actor = permissions.require_role(Role.bureau)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose an .xlsx or .csv file to import."), "warning")
        return redirect(url_for("web.bureau_catalogue"))
    try:
        result = excel_import.import_projects(actor, upload.filename, upload.read())
    except ApiError as exc:
        if exc.status in (401, 403):
            raise
        flash(render(exc.message), "danger")
        return redirect(url_for("web.bureau_catalogue"))
    report = result.as_dict()
    for row in report["rows"]:
        if row.get("errors"):
            row["errors"] = field_errors(row["errors"])
    if report["accepted"]:
        flash(ngettext("%(num)s project imported into the review queue.",
                       "%(num)s projects imported into the review queue.", report["accepted"]), "success")
    if report["refused"]:
        flash(ngettext("%(num)s row was refused: see the reason below.",
                       "%(num)s rows were refused: see the reasons below.", report["refused"]), "warning")
    return _catalogue_page(actor, report)


# -- statistics -------------------------------------------------------------------------------------------
def _charts(data: dict) -> dict:
    """The series of the dashboard's charts, with labels in the page's language (rendered by app.js)."""
    categories = [row for row in data["by_category"] if row["projects"] or row["financed_cny"]]
    regions = sorted(data["by_region"], key=lambda row: -row["financing_need_cny"])[:15]
    statuses = [s for s in ("draft", "submitted", "returned", "approved", "rejected") if s in data["by_status"]]
    return {
        "locale": lang(),
        "series": {"need": _("Financing need"), "financed": _("Financed"), "projects": _("Projects"),
                   "submitted": _("Submitted"), "approved": _("Approved"), "rejected": _("Rejected")},
        "category": {"labels": [f"{row['code']} {name_of(row)}" for row in categories],
                     "need": [row["financing_need_cny"] for row in categories],
                     "financed": [row["financed_cny"] for row in categories]},
        "region": {"labels": [region_label(row["code"], full=False) for row in regions],
                   "need": [row["financing_need_cny"] for row in regions],
                   "financed": [row["financed_cny"] for row in regions]},
        "instrument": {"labels": [name_of(row) for row in data["by_instrument"]],
                       "need": [row["financing_need_cny"] for row in data["by_instrument"]],
                       "financed": [row["financed_cny"] for row in data["by_instrument"]]},
        "status": {"labels": [label_of(PROJECT_STATUS, s) for s in statuses], "keys": statuses,
                   "counts": [data["by_status"][s] for s in statuses]},
        "monthly": {"labels": [row["month"] for row in data["monthly"]],
                    "submitted": [row.get("submitted", 0) for row in data["monthly"]],
                    "approved": [row.get("approved", 0) for row in data["monthly"]],
                    "rejected": [row.get("rejected", 0) for row in data["monthly"]],
                    "financed": [row.get("financed_cny", 0) for row in data["monthly"]]},
    }


@bp.route("/bureau/statistics")
def statistics():
    actor = permissions.require_role(Role.bureau, Role.admin)
    region = request.args.get("region") or None
    data = dashboard(actor, region)
    scope_region = data["scope"]["region"]
    cities = forms.region_tree().get(scope_region, []) if scope_region and scope_region.endswith("0000") else []
    if actor.role == Role.admin:
        cities = []
    generated = dt.datetime.fromisoformat(data["generated_at"]) if data.get("generated_at") else None
    return render_template("bureau/statistics.html", data=data, charts=_charts(data), region=region, cities=cities,
                           generated=generated,
                           jurisdiction=actor.organization.region_code if actor.role == Role.bureau else None,
                           provinces=forms.provinces() if actor.role == Role.admin else [])

