"""``greenmatch seed demo``: a realistic, idempotent demo data set; ``greenmatch seed logins``: its logins.

The seed is a list of steps (:data:`DEMO_STEPS`) run in order; each step finds its rows by natural keys
(e-mails, USCCs, organisation names, project names per enterprise) and creates only what is missing, so
running the seed twice leaves exactly the same data. Projects go through the catalogue service
(create → submit → review) so history, categories, scores, labels and flags are derived as in real use.
The organisations and projects themselves are rows of ``data/demo.json`` (:data:`DEMO_DATA_FILE`).

Other parts of the platform add their own steps (products, engagements, ...)::

    from greenmatch.catalog.demo import demo_step

    @demo_step("products")
    def _products(ctx):  # ctx.org("bank_jjj"), ctx.user("bank_jjj"), ctx.project("zjk_energy", "…")
        ...

A step registered under an existing name replaces it; new names are appended (run after the built-ins).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from greenmatch.accounts.models import ROLE_FOR_KIND, Organization, OrgKind, User
from greenmatch.accounts.service import hash_password
from greenmatch.codes import make_uscc, region_covers, region_prefix
from greenmatch.db import utcnow
from greenmatch.extensions import db

from . import service
from .models import Project, ProjectTransition
from .schemas import ProjectInSchema

#: The password of every demo account (printed by ``greenmatch seed logins``). Demo data only.
DEMO_PASSWORD = "GreenMatch-Demo-2025"
DEMO_EMAIL_DOMAIN = "demo.greenmatch.cn"
#: The organisations and projects of the demo, in ``data/`` (package data): Chinese text as the enterprises and
#: bureaus write it; project rows grouped by the 2025 catalogue's level-1 areas (the group titles are for
#: the reader only). Each project row is the POST /projects body plus ``enterprise``, ``path``, ``note`` and
#: ``confirm`` (see :class:`DemoProject`); ``compliance`` is ``project_defaults`` when absent.
DEMO_DATA_FILE = "demo.json"


def _load_data() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("data", DEMO_DATA_FILE).read_text(encoding="utf-8"))


_DATA = _load_data()


# ================================================================================================
# Organisations and their logins
# ================================================================================================
@dataclass(frozen=True)
class DemoOrg:
    key: str
    kind: str
    name: str
    region_code: str
    org_code: str | None = None  # the 9 characters after the region in the USCC (enterprises, institutions)
    institution_type: str | None = None
    verified: bool = True
    contact: tuple[str, str] | None = None  # (name, phone) of the enterprise's contact person

    @property
    def uscc(self) -> str | None:
        return make_uscc(f"91{self.region_code}{self.org_code}") if self.org_code else None

    @property
    def email(self) -> str:
        return f"{self.key.replace('_', '-')}@{DEMO_EMAIL_DOMAIN}"

    @property
    def role(self) -> str:
        return ROLE_FOR_KIND[OrgKind(self.kind)].value


def _org(kind: OrgKind, row: dict[str, Any]) -> DemoOrg:
    contact = row.get("contact")
    return DemoOrg(**{**row, "kind": kind, "contact": (contact["name"], contact["phone"]) if contact else None})


PLATFORM = _org(OrgKind.platform, _DATA["platform"])
BUREAUS: tuple[DemoOrg, ...] = tuple(_org(OrgKind.bureau, row) for row in _DATA["bureaus"])
ENTERPRISES: tuple[DemoOrg, ...] = tuple(_org(OrgKind.enterprise, row) for row in _DATA["enterprises"])
INSTITUTIONS: tuple[DemoOrg, ...] = tuple(_org(OrgKind.institution, row) for row in _DATA["institutions"])
DEMO_ORGS: tuple[DemoOrg, ...] = (PLATFORM, *BUREAUS, *INSTITUTIONS, *ENTERPRISES)


# ================================================================================================
# Projects
# ================================================================================================
# Paths through the review workflow (actions after the draft is created).
PATHS: dict[str, tuple[str, ...]] = {
    "draft": (),
    "submitted": ("submit",),
    "returned": ("submit", "return"),
    "approved": ("submit", "approve"),
    "rejected": ("submit", "reject"),
    "resubmitted_approved": ("submit", "return", "submit", "approve"),
}
APPROVE_NOTE: str = _DATA["approve_note"]


@dataclass(frozen=True)
class DemoProject:
    enterprise: str  # DemoOrg key
    path: str  # key of PATHS
    form: dict[str, Any]  # the POST /projects body (contact added from the enterprise when absent)
    note: str | None = None  # the bureau's note when returning or rejecting
    confirm: tuple[str, ...] | None = None  # categories the bureau confirms when approving

    @property
    def name(self) -> str:
        return self.form["name"]


#: Fields of a project row in the data file that are not part of the POST /projects body.
_PROJECT_META = ("enterprise", "path", "note", "confirm")


def _demo_project(row: dict[str, Any]) -> DemoProject:
    form = {key: value for key, value in row.items() if key not in _PROJECT_META}
    form.setdefault("compliance", dict(_DATA["project_defaults"]["compliance"]))
    confirm = row.get("confirm")
    return DemoProject(row["enterprise"], row["path"], form, row.get("note"),
                       tuple(confirm) if confirm is not None else None)


DEMO_PROJECTS: tuple[DemoProject, ...] = tuple(
    _demo_project(row) for group in _DATA["project_groups"] for row in group["projects"])


# ================================================================================================
# The steps
# ================================================================================================
@dataclass
class DemoContext:
    """What the steps share: organisations and users by demo key, and what was created."""

    orgs: dict[str, Organization] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)
    echo: Callable[[str], None] = lambda message: None

    def org(self, key: str) -> Organization:
        return self.orgs[key]

    def user(self, key: str) -> User:
        return self.users[key]

    def project(self, enterprise: str, name: str) -> Project | None:
        return db.session.scalar(select(Project).where(Project.enterprise_id == self.org(enterprise).id,
                                                       Project.name == name))


DemoStep = Callable[[DemoContext], None]
#: The seed's steps, in order: (name, function(ctx)).
DEMO_STEPS: list[tuple[str, DemoStep]] = []


def demo_step(name: str) -> Callable[[DemoStep], DemoStep]:
    """Register a step of ``greenmatch seed demo`` (replacing a step of the same name, else appended)."""

    def register(func: DemoStep) -> DemoStep:
        for index, (existing, _) in enumerate(DEMO_STEPS):
            if existing == name:
                DEMO_STEPS[index] = (name, func)
                return func
        DEMO_STEPS.append((name, func))
        return func

    return register


def _find_org(spec: DemoOrg) -> Organization | None:
    if spec.uscc:
        return db.session.scalar(select(Organization).where(Organization.uscc == spec.uscc))
    return db.session.scalar(select(Organization).where(Organization.kind == spec.kind, Organization.name == spec.name)
                             .order_by(Organization.id))


@demo_step("accounts")
def seed_accounts(ctx: DemoContext) -> None:
    """The platform operator, bureaus, institutions (one pending verification) and enterprises, one login each."""
    password_hash: str | None = None
    for spec in DEMO_ORGS:
        org = _find_org(spec)
        if org is None:
            verified = spec.verified
            org = Organization(kind=spec.kind, name=spec.name, uscc=spec.uscc, region_code=spec.region_code,
                               institution_type=spec.institution_type, verified=verified,
                               verified_at=utcnow() if verified else None)
            db.session.add(org)
            ctx.created["organizations"] += 1
        user = db.session.scalar(select(User).where(User.email == spec.email))
        if user is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(email=spec.email, password_hash=password_hash, role=spec.role, organization=org,
                        name=spec.contact[0] if spec.contact else spec.name, locale="zh_CN")
            db.session.add(user)
            ctx.created["users"] += 1
        ctx.orgs[spec.key] = org
        ctx.users[spec.key] = user
    db.session.commit()


def reviewing_bureau(region_code: str) -> DemoOrg:
    """The most local demo bureau whose jurisdiction covers ``region_code``."""
    covering = [b for b in BUREAUS if region_covers(b.region_code, region_code)]
    if not covering:
        raise LookupError(f"no demo bureau covers {region_code}")
    return max(covering, key=lambda b: len(region_prefix(b.region_code)))


def _form(spec: DemoProject) -> dict[str, Any]:
    body = dict(spec.form)
    enterprise = next(o for o in ENTERPRISES if o.key == spec.enterprise)
    if "contact" not in body and enterprise.contact:
        body["contact"] = {"name": enterprise.contact[0], "phone": enterprise.contact[1], "email": enterprise.email}
    return ProjectInSchema().load(body)  # the same validation as POST /projects


def _advance(ctx: DemoContext, spec: DemoProject, project: Project) -> None:
    """Apply the actions of the project's path that have not happened yet (one history row each)."""
    done = (db.session.scalar(select(func.count()).select_from(ProjectTransition)
                              .where(ProjectTransition.project_id == project.id)) or 1) - 1
    owner = ctx.user(spec.enterprise)
    bureau = ctx.user(reviewing_bureau(spec.form["region_code"]).key)
    for action in PATHS[spec.path][done:]:
        if action == "submit":
            service.submit_project(owner, project.id)
        else:
            note = APPROVE_NOTE if action == "approve" else spec.note
            categories = list(spec.confirm) if action == "approve" and spec.confirm else None
            service.review_project(bureau, project.id, action, note, categories)
        ctx.created["transitions"] += 1


@demo_step("projects")
def seed_projects(ctx: DemoContext) -> None:
    """The demo projects, each taken along its path (draft, submitted, returned, approved, rejected)."""
    for spec in DEMO_PROJECTS:
        project = ctx.project(spec.enterprise, spec.name)
        if project is None:
            owner = ctx.user(spec.enterprise)
            project = service.create_project(owner, _form(spec))
            ctx.created["projects"] += 1
        _advance(ctx, spec, project)


def seed_demo(echo: Callable[[str], None] | None = None) -> DemoContext:
    """Run every step of :data:`DEMO_STEPS` in order; returns the context with what was created."""
    ctx = DemoContext(echo=echo or (lambda message: None))
    for name, step in list(DEMO_STEPS):
        before = sum(ctx.created.values())
        step(ctx)
        ctx.echo(f"  {name}: {sum(ctx.created.values()) - before} new rows")
    return ctx


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(email, role, organisation, region) of every demo account."""
    return [(o.email, o.role, o.name if o.verified else f"{o.name}（待平台审核 not verified）", o.region_code)
            for o in DEMO_ORGS]


# ================================================================================================
# CLI
# ================================================================================================
@click.group("seed", help="Demo data.")
def seed_cli() -> None:
    pass


@seed_cli.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo data set (idempotent: existing rows are kept, missing ones added)."""
    click.echo("Seeding the GreenMatch demo data set ...")
    ctx = seed_demo(click.echo)
    summary = ", ".join(f"{n} {what}" for what, n in sorted(ctx.created.items())) or "nothing new"
    click.echo(f"Done: {summary}. `greenmatch seed logins` lists the demo accounts.")


@seed_cli.command("logins")
def logins_command() -> None:
    """Print the demo accounts and their password."""
    rows = [("email", "role", "organisation", "region"), *demo_logins()]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    click.echo(f"Password of every demo account: {DEMO_PASSWORD}")
    click.echo("")
    for index, (email, role, org, region) in enumerate(rows):
        click.echo(f"{email:<{widths[0]}}  {role:<{widths[1]}}  {region:<6}  {org}")
        if index == 0:
            click.echo(f"{'-' * widths[0]}  {'-' * widths[1]}  ------  {'-' * 12}")


__all__ = ["DEMO_PASSWORD", "DEMO_STEPS", "DEMO_PROJECTS", "DemoContext", "demo_step", "seed_demo", "seed_cli",
           "demo_logins"]
