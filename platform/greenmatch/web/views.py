"""Pages everyone uses: home, public catalogue and project pages, login, registration, logout,
language switch, the workspace redirect and the inbox."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from .. import permissions, reference
from ..accounts import service as accounts
from ..accounts.models import Organization, Role
from ..accounts.schemas import RegisterSchema
from ..api import MAX_PAGE, count_rows, paginate
from ..catalog import service as catalog
from ..errors import ApiError, NotAuthenticated
from ..extensions import db, limiter
from ..instruments import current_plugins
from ..matching import engagements as engagement_service
from ..matching import notifications
from ..products import service as products
from ..security.limiter import TooManyLogins
from ..text import render
from . import forms
from .errors import register_blueprint as register_error_pages
from .formatting import lang
from .forms import LoginForm, PasswordChangeForm
from .messages import form_problem

bp = Blueprint("web", __name__)
register_error_pages(bp)
PER_PAGE = 20


def _safe_next(target: str | None, default: str = "web.home") -> str:
    """A local path to go on to, or the default: never another site (``//host``, ``/\\host``), never a
    header-splitting CR/LF (the request guard already refuses those in the query string)."""
    if (target and target.startswith("/") and not target.startswith(("//", "/\\"))
            and not urlsplit(target).netloc and target.isprintable()):
        return target
    return url_for(default)


def page_number() -> int:
    """The ``page`` argument, between 1 and the last page there can be (MAX_PAGE); 1 when it is no number."""
    try:
        return min(max(1, int(request.args.get("page", 1))), MAX_PAGE)
    except ValueError:
        return 1


def pages(stmt, per_page: int = PER_PAGE, total: int | None = None) -> dict:
    page = paginate(db.session, stmt, page_number(), per_page, total=total)
    page["pages"] = max(1, -(-page["total"] // per_page))
    return page


def count(stmt) -> int:
    return count_rows(db.session, stmt)


def workspace_endpoint(role: str | None) -> str:
    return {Role.enterprise: "web.my_projects", Role.bureau: "web.review_queue", Role.institution: "web.leads",
            Role.admin: "web.admin_organisations"}.get(role, "web.home")


# -- home ------------------------------------------------------------------------------------------------
@bp.route("/")
def home():
    approved = catalog.filtered(None, {}).order_by(None).subquery()
    projects, need = db.session.execute(  # one query for both figures of the approved catalogue
        select(func.count(), func.coalesce(func.sum(approved.c.financing_need_cny), 0)).select_from(approved)).one()
    counts = {
        "projects": projects,
        "need": float(need),
        "products": count(products.listing(None, {})),
        "institutions": db.session.scalar(select(func.count(Organization.id)).where(
            Organization.kind == "institution", Organization.verified.is_(True))) or 0,
        "financed": engagement_service.financed_total(),
    }
    recent = list(db.session.scalars(catalog.filtered(None, {"sort": "-updated_at"}).limit(3)))
    return render_template("home.html", counts=counts, recent=recent, instruments=current_plugins())


@bp.route("/workspace")
def workspace():
    actor = permissions.require_user()
    return redirect(url_for(workspace_endpoint(actor.role)))


# -- public catalogue ---------------------------------------------------------------------------------------
def category_filter(args) -> str | None:
    """The catalogue category picked with the ``level1``/``level2`` pickers (a level-2 code inside the
    chosen level-1 one wins), or None for unknown codes."""
    level1, level2 = args.get("level1", "").strip(), args.get("level2", "").strip()
    if reference.is_category(level2, 2) and level2.startswith(level1 + "."):
        return level2
    return level1 if reference.is_category(level1, 1) else None


def region_filter(args) -> str | None:
    """The region picked with the province/city pickers, or None for an unknown code."""
    region = forms.region_from(args)
    return region if region and reference.is_region(region) else None


def catalogue_filters() -> dict:
    """Filters of the catalogue pages, checked against the reference data (unknown codes are ignored)."""
    args = request.args
    instrument = args.get("instrument", "").strip()
    filters = {
        "q": args.get("q", "").strip()[:100] or None,
        "category": category_filter(args),
        "region": region_filter(args),
        "instrument": instrument if instrument in current_plugins() else None,
        "sort": args.get("sort") if args.get("sort") in ("-updated_at", "-green_score", "-financing_need_cny",
                                                          "name") else "-updated_at",
    }
    if args.get("status") in ("submitted", "returned", "approved", "rejected"):
        filters["status"] = args["status"]
    return filters


def category_choices() -> dict:
    return {"level1": reference.search_categories(level=1), "level2": reference.search_categories(level=2)}


@bp.route("/catalogue")
def catalogue():
    filters = catalogue_filters()
    page = pages(catalog.filtered(None, {k: v for k, v in filters.items() if v}))
    return render_template("catalogue/list.html", page=page, filters=filters, categories=category_choices(),
                           provinces=forms.provinces(), region_tree=forms.region_tree(),
                           region_value=forms.split_region(filters["region"]), instruments=current_plugins())


@bp.route("/catalogue/<int:project_id>")
def catalogue_project(project_id: int):
    """The public page of an approved project: no contact, whoever looks."""
    project = catalog.get_project(None, project_id)
    assessment = catalog.assessment_of(project).as_dict(lang())
    actor = permissions.current_actor()
    return render_template("catalogue/project.html", project=project, assessment=assessment, actor=actor)


# -- accounts ---------------------------------------------------------------------------------------------------
def _address() -> str:
    return request.remote_addr or ""


def limiter_message(exc: TooManyLogins) -> str:
    if exc.reason == "account":
        return _("Too many failed logins for this account: it is locked for %(n)s seconds. Try again later.",
                 n=exc.retry_after)
    return _("Too many failed logins from your network address. Try again in %(n)s seconds, or from an address "
             "you have signed in from before.", n=exc.retry_after)


def _limited(template: str, exc: TooManyLogins, **context):
    response = make_response(render_template(template, **context), 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def sign_in(user) -> None:
    """A page session for ``user`` under a new login (ended by logout or a password change elsewhere)."""
    login = accounts.start_login(user, "web")
    login_user(user)
    session[permissions.SESSION_LOGIN_KEY] = login.id


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.log_in(form.email.data, form.password.data, _address())
        except TooManyLogins as exc:
            form.password.errors.append(limiter_message(exc))
            return _limited("auth/login.html", exc, form=form)
        except NotAuthenticated:
            form.password.errors.append(_("Wrong e-mail or password"))
            return render_template("auth/login.html", form=form), 401
        sign_in(user)
        session["lang"] = session.get("lang") or user.locale
        return redirect(_safe_next(request.args.get("next"), workspace_endpoint(user.role)))
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Ends this session's login on the server (a saved copy of the cookie no longer works) and revokes the
    API tokens requested from it."""
    login_id = session.pop(permissions.SESSION_LOGIN_KEY, None)
    if isinstance(login_id, int):
        accounts.end_logins(current_user.id, only=login_id)
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("web.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current_password.data, form.new_password.data, _address(),
                                     keep_login=session.get(permissions.SESSION_LOGIN_KEY))
        except TooManyLogins as exc:
            form.current_password.errors.append(limiter_message(exc))
            return _limited("auth/password.html", exc, form=form)
        except ApiError as exc:
            for name, messages in exc.fields.items():
                getattr(form, name, form.new_password).errors.extend(render(m) for m in messages)
            return render_template("auth/password.html", form=form), 422
        flash(_("Your password has been changed. Your other sessions and API tokens have been signed out."),
              "success")
        return redirect(url_for(workspace_endpoint(user.role)))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))


def _registration_page(values: dict, errors: dict, status: int = 200):
    return render_template("auth/register.html", values=values, errors=errors, provinces=forms.provinces(),
                           region_tree=forms.region_tree(),
                           region_value=forms.split_region(values.get("region_code"))), status


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register():
    if request.method == "GET":
        return _registration_page({"kind": request.args.get("kind", "enterprise")}, {})
    form = request.form
    values = {k: form.get(k, "") for k in form if k not in ("password", "password_confirm", "csrf_token")}
    values["region_code"] = forms.region_from(form) or ""
    payload = forms.registration_payload(form)
    data, errors = forms.load(RegisterSchema(), payload)
    if form.get("password") != form.get("password_confirm"):
        errors.setdefault("password_confirm", []).append(_("The two passwords differ."))
    if not errors:
        try:
            user = accounts.register(data)
        except ApiError as exc:
            errors = forms.page_errors(exc.fields) or {"_schema": [render(exc.message)]}
    if errors:
        flash(form_problem(), "danger")
        return _registration_page(values, errors, 422)
    sign_in(user)
    if user.role == Role.institution:
        flash(_("Welcome! Your institution will be able to publish products and see leads once the platform has "
                "verified it."), "info")
    else:
        flash(_("Welcome! Register your first green project: the form saves a draft you can finish later."),
              "success")
    return redirect(url_for(workspace_endpoint(user.role)))


# -- inbox ------------------------------------------------------------------------------------------------------
@bp.route("/inbox")
def inbox():
    actor = permissions.require_user()
    unread_only = request.args.get("unread") == "1"
    page = pages(notifications.inbox(actor, unread_only))
    return render_template("inbox.html", page=page, unread_only=unread_only)


@bp.route("/inbox/<int:notification_id>/read", methods=["POST"])
def inbox_read(notification_id: int):
    actor = permissions.require_user()
    notifications.mark_read(actor, notification_id)
    return redirect(_safe_next(request.form.get("next"), "web.inbox"))


@bp.route("/inbox/read-all", methods=["POST"])
def inbox_read_all():
    actor = permissions.require_user()
    count = notifications.mark_read(actor)
    flash(ngettext("%(num)s notification marked as read.", "%(num)s notifications marked as read.", count), "info")
    return redirect(url_for("web.inbox"))


def unread_count() -> int:
    """Unread notifications of the signed-in user's organisation (0 when it cannot be known)."""
    try:
        actor = permissions.current_actor()
        return count(notifications.inbox(actor, unread_only=True)) if actor is not None else 0
    except Exception:  # the navigation must render even when the database fails (the 500 page uses it)
        current_app.logger.exception("unread notifications not counted")
        return 0

