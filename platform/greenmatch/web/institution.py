"""Financial institution pages: products built from each instrument plugin's params schema, ranked
leads with explanations, engagement requests; engagement pages shared with enterprises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from greenmatch.text import Msg

from .. import permissions, reference
from ..accounts.models import Role
from ..catalog import service as catalog
from ..errors import ApiError, Conflict, NotFound
from ..extensions import db
from ..instruments import current_plugins
from ..matching import engagements as engagement_service
from ..matching import queries as matching
from ..matching.models import Engagement, EngagementStatus
from ..matching.schemas import EngagementInSchema, EngagementPatchSchema, RespondSchema
from ..products import service as products
from ..products.models import ProductStatus
from ..products.schemas import ProductInSchema
from ..text import render
from . import forms
from .formatting import lang
from .messages import form_problem
from .views import _safe_next, bp, category_choices, category_filter, pages, region_filter


def _plugin_or_404(key: str):
    plugin = current_plugins().get(key)
    if plugin is None:
        raise NotFound(Msg("Not found: %(what)s %(id)s", what="Instrument", id=key))
    return plugin


# -- products --------------------------------------------------------------------------------------------
@bp.route("/products")
def my_products():
    actor = permissions.require_role(Role.institution)
    page = pages(products.listing(actor, {"mine": True}))
    locale = lang()
    return render_template("institution/products.html", page=page, verified=actor.organization.verified,
                           instruments=[p.describe(locale) for p in current_plugins().values()])


def _product_form(plugin, values: dict, errors: dict, product=None, status: int = 200):
    described = plugin.describe(lang())
    return render_template(
        "institution/product_form.html", plugin=described, schema=described["params_schema"], values=values,
        errors=errors, product=product, kind=forms.schema_type, provinces=forms.provinces(),
        level1=reference.search_categories(level=1), level2=reference.search_categories(level=2),
    ), status


def _product_body(plugin, form) -> tuple[dict | None, dict]:
    schema = plugin.describe(lang())["params_schema"]
    payload = {"instrument": plugin.key, "name": (form.get("name") or "").strip(),
               "description": (form.get("description") or "").strip(),
               "params": forms.product_params(schema, form)}
    return forms.load(ProductInSchema(), {k: v for k, v in payload.items() if v != ""})


def _save_product(plugin, save: Callable[[dict], Any]) -> tuple[Any, dict]:
    """Validate the submitted product form and ``save`` it: (what ``save`` returned, page errors by field).
    A Conflict (a stale version) is left to the caller."""
    data, errors = _product_body(plugin, request.form)
    if errors:
        return None, errors
    try:
        return save(data), {}
    except Conflict:
        raise
    except ApiError as exc:
        if not exc.fields:
            raise
        return None, forms.page_errors(exc.fields)


@bp.route("/products/new/<instrument>", methods=["GET", "POST"])
def product_new(instrument: str):
    actor = permissions.require_verified_institution()
    plugin = _plugin_or_404(instrument)
    if request.method == "GET":
        return _product_form(plugin, {}, {})
    values = forms.product_submitted_values(plugin.describe(lang())["params_schema"], request.form)
    product, errors = _save_product(plugin, lambda data: products.create_product(actor, data))
    if errors:
        flash(form_problem(), "danger")
        return _product_form(plugin, values, errors, status=422)
    if request.form.get("action") == "publish":
        products.change_status(actor, product.id, "publish", product.version)
        flash(_("Product published: matching projects appear in your leads."), "success")
        return redirect(url_for("web.leads", product_id=product.id))
    flash(_("Product saved as a draft. Publish it to receive leads."), "success")
    return redirect(url_for("web.product", product_id=product.id))


@bp.route("/products/<int:product_id>")
def product(product_id: int):
    actor = permissions.require_role(Role.institution, Role.admin)
    item = products.get_product(actor, product_id)
    plugin = current_plugins().get(item.instrument)
    described = plugin.describe(lang()) if plugin else None
    mine = permissions.can(actor, "edit", item)
    lead_count = 0
    if mine and item.status == ProductStatus.published and actor.organization.verified:  # leads are the owner's
        lead_count = matching.leads_total(actor, {"product_id": item.id})
    return render_template("institution/product.html", product=item, plugin=described, lead_count=lead_count,
                           mine=mine)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
def product_edit(product_id: int):
    actor = permissions.require_verified_institution()
    item = products.own_product(actor, product_id)  # another institution's product: 404, as in the API
    plugin = _plugin_or_404(item.instrument)
    if request.method == "GET":
        return _product_form(plugin, forms.product_form_values(item), {}, item)
    values = forms.product_submitted_values(plugin.describe(lang())["params_schema"], request.form)
    try:
        errors = _save_product(plugin, lambda data: products.update_product(actor, item.id, {
            "name": data["name"], "description": data["description"], "params": data["params"],
            "version": forms.form_version(request.form)}))[1]
    except Conflict as exc:  # changed meanwhile: keep what the user typed, against the current version
        flash(render(exc.message), "warning")
        values["version"] = products.get_product(actor, product_id).version
        return _product_form(plugin, values, {}, item, 409)
    if errors:
        flash(form_problem(), "danger")
        return _product_form(plugin, values, errors, item, 422)
    flash(_("Changes saved."), "success")
    return redirect(url_for("web.product", product_id=item.id))


@bp.route("/products/<int:product_id>/<any(publish, withdraw):action>", methods=["POST"])
def product_status(product_id: int, action: str):
    actor = permissions.require_verified_institution()
    products.change_status(actor, product_id, action, forms.form_version(request.form))
    flash(_("Product published: matching projects appear in your leads.") if action == "publish"
          else _("Product withdrawn: it no longer receives leads."), "success")
    return redirect(url_for("web.product", product_id=product_id))


# -- leads -------------------------------------------------------------------------------------------------
def _lead_filters(own_products) -> dict:
    args = request.args
    filters: dict = {}
    try:
        product_id = int(args.get("product_id", ""))
        if any(p.id == product_id for p in own_products):
            filters["product_id"] = product_id
    except ValueError:
        pass
    if args.get("instrument") in current_plugins():
        filters["instrument"] = args["instrument"]
    try:
        min_score = float(args.get("min_score", ""))
        if 0 <= min_score <= 1:
            filters["min_score"] = min_score
    except ValueError:
        pass
    region, category = region_filter(args), category_filter(args)  # parsed as on the catalogue pages
    if region:
        filters["region"] = region
    if category:
        filters["category"] = category
    return filters


@bp.route("/leads")
def leads():
    actor = permissions.require_role(Role.institution)
    if not actor.organization.verified:
        return render_template("institution/unverified.html")
    own = list(db.session.scalars(products.listing(actor, {"mine": True, "status": ProductStatus.published})))
    filters = _lead_filters(own)
    page = pages(matching.leads(actor, filters), total=matching.leads_total(actor, filters))
    locale = lang()
    latest_by_pair: dict[tuple[int, int], Engagement] = {}  # the latest engagement per lead on the page
    for e in db.session.scalars(engagement_service.listing(actor, {}).where(
            Engagement.project_id.in_({m.project_id for m in page["items"]}))):
        latest_by_pair.setdefault((e.project_id, e.product_id), e)
    items = [{"match": m, **matching.localized(m, locale),
              "engagement": latest_by_pair.get((m.project_id, m.product_id))} for m in page["items"]]
    return render_template("institution/leads.html", page=page, items=items, filters=filters, products=own,
                           instruments=current_plugins(), categories=category_choices(),
                           provinces=forms.provinces(), region_tree=forms.region_tree(),
                           region_value=forms.split_region(filters.get("region")),
                           values=request.args)


@bp.route("/leads/<int:match_id>/engage", methods=["POST"])
def engage(match_id: int):
    actor = permissions.require_verified_institution()
    data, errors = forms.load(EngagementInSchema(), {"match_id": match_id,
                                                      "message": (request.form.get("message") or "").strip()})
    if errors:
        flash("; ".join(m for msgs in errors.values() for m in msgs), "danger")
        return redirect(_safe_next(request.form.get("next"), "web.leads"))
    engagement = engagement_service.request_engagement(actor, data["match_id"], data["message"])
    flash(_("Request sent to %(name)s. You will see the contact once the enterprise accepts.",
            name=engagement.enterprise.name), "success")
    return redirect(_safe_next(request.form.get("next"), "web.leads"))


# -- engagements (both sides) ---------------------------------------------------------------------------------
@bp.route("/engagements")
def engagements():
    actor = permissions.require_user()
    status = request.args.get("status")
    args = {"status": status} if status in {s.value for s in EngagementStatus} else {}
    page = pages(engagement_service.listing(actor, args))
    return render_template("engagements/list.html", page=page, status=args.get("status"), actor=actor)


def _engagement_page(actor, engagement, errors: dict | None = None, values: dict | None = None, status: int = 200):
    contact = catalog.contact_for(actor, engagement.project)
    return render_template(
        "engagements/detail.html", engagement=engagement, contact=contact,
        events=engagement_service.history(actor, engagement.id), actor=actor, errors=errors or {},
        values=values or {}, can_respond=permissions.can(actor, "accept", engagement),
        can_progress=permissions.can(actor, "financed", engagement),
    ), status


@bp.route("/engagements/<int:engagement_id>")
def engagement(engagement_id: int):
    actor = permissions.require_user()
    return _engagement_page(actor, engagement_service.get_engagement(actor, engagement_id))


@bp.route("/engagements/<int:engagement_id>/<any(accept, decline):action>", methods=["POST"])
def engagement_respond(engagement_id: int, action: str):
    actor = permissions.require_role(Role.enterprise)
    data, errors = forms.load(RespondSchema(), {k: v for k, v in {
        "note": (request.form.get("note") or "").strip()}.items() if v})
    if errors:
        flash("; ".join(m for msgs in errors.values() for m in msgs), "danger")
        return redirect(url_for("web.engagement", engagement_id=engagement_id))
    item = engagement_service.respond(actor, engagement_id, action, data.get("note"))
    flash(_("Accepted: %(name)s can now see your contact details and will get in touch.",
            name=item.institution.name) if action == "accept"
          else _("Declined: %(name)s has been told.", name=item.institution.name), "success")
    return redirect(_safe_next(request.form.get("next"), "web.engagements"))


@bp.route("/engagements/<int:engagement_id>/progress", methods=["POST"])
def engagement_progress(engagement_id: int):
    actor = permissions.require_role(Role.institution)
    form = request.form
    payload = {"status": form.get("status") or None, "note": (form.get("note") or "").strip() or None,
               "version": form.get("version") or None}
    if form.get("status") == "financed":
        payload["financed_amount_cny"] = forms.clean_number(form.get("financed_amount_cny"))
        payload["financed_on"] = (form.get("financed_on") or "").strip() or None
    payload = {k: v for k, v in payload.items() if v is not None}
    values = {k: form.get(k, "") for k in ("status", "note", "financed_amount_cny", "financed_on")}
    data, errors = forms.load(EngagementPatchSchema(), payload)
    item = engagement_service.get_engagement(actor, engagement_id)
    if not errors:
        try:
            engagement_service.update_progress(actor, engagement_id, data)
        except ApiError as exc:
            if not exc.fields or exc.status == 409:
                raise
            errors = forms.page_errors(exc.fields)
    if errors:
        if "status" in errors:
            errors["status"] = [_("Choose the new status.")]
        flash(form_problem(), "danger")
        return _engagement_page(actor, item, errors, values, 422)
    flash(_("Engagement updated."), "success")
    return redirect(url_for("web.engagement", engagement_id=engagement_id))
