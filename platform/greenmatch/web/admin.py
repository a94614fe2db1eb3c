"""Admin pages: verify institutions, organisations and users, matching runs."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import permissions
from ..accounts import service as accounts
from ..accounts.models import Organization, Role, User
from ..errors import Conflict
from ..matching import runs as matching
from ..text import render
from .errors import _back
from .views import bp, count, pages


@bp.route("/admin/organisations")
def admin_organisations():
    actor = permissions.require_role(Role.admin)
    kind = request.args.get("kind")
    stmt = permissions.visible(Organization, actor)
    if kind in ("enterprise", "institution", "bureau", "platform"):
        stmt = stmt.where(Organization.kind == kind)
    if request.args.get("pending") == "1":
        stmt = stmt.where(Organization.kind == "institution", Organization.verified.is_(False))
    page = pages(stmt.order_by(Organization.verified.asc(), Organization.id.desc()), per_page=30)
    pending = count(permissions.visible(Organization, actor).where(
        Organization.kind == "institution", Organization.verified.is_(False)))
    return render_template("admin/organisations.html", page=page, kind=kind, pending=pending,
                           only_pending=request.args.get("pending") == "1")


@bp.route("/admin/organisations/<int:org_id>/verify", methods=["POST"])
def admin_verify(org_id: int):
    actor = permissions.require_role(Role.admin)
    org = accounts.verify_organization(org_id, actor)
    flash(_("%(name)s is verified: it can now publish products and see leads.", name=org.name), "success")
    return redirect(_back("web.admin_organisations"))  # only a referrer of this site (no open redirect)


@bp.route("/admin/users")
def admin_users():
    actor = permissions.require_role(Role.admin)
    stmt = permissions.visible(User, actor)
    role = request.args.get("role")
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == role)
    page = pages(stmt.order_by(User.id.desc()), per_page=30)
    return render_template("admin/users.html", page=page, role=role)


@bp.route("/admin/matching", methods=["GET", "POST"])
def admin_matching():
    actor = permissions.require_role(Role.admin)
    if request.method == "POST":
        try:
            # queued like POST /matching/runs: a worker (or a thread on the embedded default) runs it, so the
            # page answers at once whatever the size of the catalogue; the run list below shows its progress
            run = matching.start_run(triggered_by=f"user:{actor.id}")
        except Conflict as exc:  # another run is still queued or running
            flash(render(exc.message), "warning")
            return redirect(url_for("web.admin_matching"))
        flash(_("Matching run %(id)s queued; reload this page to follow its progress.", id=run.id), "success")
        return redirect(url_for("web.admin_matching"))
    return render_template("admin/matching.html", runs=matching.recent_runs())
