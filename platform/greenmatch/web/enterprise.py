"""Enterprise pages: my projects, the financing-need form (draft → submit), a project's page with its
history, assessment, instrument fit, matched products and engagement requests."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import permissions, reference
from ..accounts.models import Role
from ..catalog import service as catalog
from ..catalog.assessment import score_formula
from ..catalog.models import ProjectStatus
from ..catalog.schemas import ProjectInSchema
from ..errors import ApiError, Conflict
from ..extensions import db
from ..facts import BENEFIT_KEYS, CERTIFICATIONS, COLLATERAL, RISK_EXPOSURES
from ..instruments import current_plugins
from ..matching import engagements as engagement_service
from ..matching import queries as matching
from ..text import render
from . import forms
from .formatting import lang
from .messages import form_problem
from .views import bp, count, pages

EDITABLE = (ProjectStatus.draft, ProjectStatus.returned)


@bp.route("/my/projects")
def my_projects():
    actor = permissions.require_role(Role.enterprise)
    status = request.args.get("status")
    args = {"status": status} if status in {s.value for s in ProjectStatus} else {}
    page = pages(catalog.filtered(actor, args))
    open_requests = count(engagement_service.listing(actor, {"status": "requested"}))
    return render_template("enterprise/projects.html", page=page, status=args.get("status"),
                           open_requests=open_requests)


def _level3_groups():
    """Level-3 catalogue items grouped by their level-2 parent, for the category browser."""
    return [(l2, reference.search_categories(level=3, parent=l2.code)) for l2 in reference.search_categories(level=2)]


def _form_page(values: dict, errors: dict, project=None, status: int = 200):
    return render_template(
        "enterprise/project_form.html", values=values, errors=errors, project=project,
        provinces=forms.provinces(), region_tree=forms.region_tree(),
        region_value=forms.split_region(values.get("region_code")), instruments=current_plugins(),
        level3_groups=_level3_groups(), certifications=CERTIFICATIONS, collateral=COLLATERAL,
        risk_exposures=RISK_EXPOSURES, benefit_keys=BENEFIT_KEYS,
    ), status


def _validated(form):
    """The form through ProjectInSchema, exactly as ``POST /projects`` validates it."""
    return forms.load(ProjectInSchema(), forms.project_payload(form))


@bp.route("/projects/new", methods=["GET", "POST"])
def project_new():
    actor = permissions.require_role(Role.enterprise)
    if request.method == "GET":
        contact = {"contact.email": actor.email, "contact.name": actor.name or ""}
        return _form_page({"region_code": actor.organization.region_code, "compliance.env_penalties_3y": 0,
                           **contact}, {})
    data, errors = _validated(request.form)
    if errors:
        flash(form_problem(), "danger")
        return _form_page(forms.submitted_values(request.form), errors, status=422)
    try:
        project = catalog.create_project(actor, data)
    except ApiError as exc:
        if not exc.fields:
            raise
        flash(form_problem(), "danger")
        return _form_page(forms.submitted_values(request.form), forms.page_errors(exc.fields), status=422)
    if request.form.get("action") == "submit":
        return _submit(actor, project.id, project.version)
    flash(_("Draft saved. Check the assessment below, then submit the project for review."), "success")
    return redirect(url_for("web.project", project_id=project.id))


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
def project_edit(project_id: int):
    actor = permissions.require_role(Role.enterprise)
    project = catalog.get_project(actor, project_id)
    permissions.authorize(actor, "edit", project)
    if project.status not in EDITABLE:
        flash(_("A project can only be edited while it is a draft or returned for changes."), "warning")
        return redirect(url_for("web.project", project_id=project.id))
    if request.method == "GET":
        return _form_page(forms.project_form_values(project), {}, project)
    values = forms.submitted_values(request.form)
    data, errors = _validated(request.form)
    if errors:
        flash(form_problem(), "danger")
        return _form_page(values, errors, project, 422)
    version = forms.form_version(request.form)
    try:
        project = catalog.update_project(actor, project.id, {**data, "version": version})
    except Conflict as exc:
        flash(render(exc.message), "warning")
        values["version"] = catalog.get_project(actor, project_id).version
        return _form_page(values, {}, project, 409)
    except ApiError as exc:
        if not exc.fields:
            raise
        flash(form_problem(), "danger")
        return _form_page(values, forms.page_errors(exc.fields), project, 422)
    if request.form.get("action") == "submit":
        return _submit(actor, project.id, project.version)
    flash(_("Changes saved."), "success")
    return redirect(url_for("web.project", project_id=project.id))


def _submit(actor, project_id: int, version: int | None):
    catalog.submit_project(actor, project_id, version)
    flash(_("Submitted. The industry bureau of your region will review the project; its decision will appear on "
            "this page."), "success")
    return redirect(url_for("web.project", project_id=project_id))


@bp.route("/projects/<int:project_id>/submit", methods=["POST"])
def project_submit(project_id: int):
    actor = permissions.require_role(Role.enterprise)
    return _submit(actor, project_id, forms.form_version(request.form))


@bp.route("/projects/<int:project_id>")
def project(project_id: int):
    """A project's working page (owner, its bureau, admins); others see the public page."""
    actor = permissions.require_user()
    project = catalog.get_project(actor, project_id)
    if not permissions.can(actor, "view_matches", project):
        return redirect(url_for("web.catalogue_project", project_id=project.id))
    locale = lang()
    assessment = catalog.assessment_of(project).as_dict(locale)
    matches = []
    if project.status == ProjectStatus.approved:
        for match in db.session.scalars(matching.project_matches(actor, project.id).limit(10)):
            matches.append({"match": match, **matching.localized(match, locale)})
    engagement_rows = list(db.session.scalars(engagement_service.listing(actor, {"project_id": project.id})))
    return render_template(
        "enterprise/project.html", project=catalog.present(project, actor), raw=project,
        history=catalog.history(actor, project.id), assessment=assessment,
        formula=score_formula(catalog.rule_settings()), matches=matches, engagements=engagement_rows,
        editable=project.status in EDITABLE and permissions.can(actor, "edit", project),
        can_review=project.status == ProjectStatus.submitted and permissions.can(actor, "review", project),
    )
