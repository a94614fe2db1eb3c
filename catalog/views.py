"""HTTP API of the catalogue: taxonomy, classification, projects, review queue, assessment."""

from __future__ import annotations

from marshmallow import Schema, fields

from greenmatch import permissions, reference
from greenmatch.accounts.models import Role
from greenmatch.api import Blueprint, PageArgsSchema, locale, page_dict, page_of, paginate
from greenmatch.errors import NotFound
from greenmatch.extensions import db
from greenmatch.text import Msg

from . import classifier, service
from .schemas import (
    CategoryNodeSchema,
    ClassifyInSchema,
    ClassifyOutSchema,
    CodeNameSchema,
    HistorySchema,
    LookupQuerySchema,
    ProjectInSchema,
    ProjectPatchSchema,
    ProjectQuerySchema,
    ProjectSchema,
    ReviewSchema,
    TaxonomyQuerySchema,
    VersionSchema,
)

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="Taxonomy and the green project catalogue")


# -- taxonomy --------------------------------------------------------------------------------------
@blp.route("/taxonomy/categories")
@blp.arguments(TaxonomyQuerySchema, location="query")
@blp.response(200, page_of(CategoryNodeSchema))
@blp.errors(422)
def categories(args):
    """Catalogue nodes (2025 edition by default; `edition=2019` for the legacy one), by level, parent or text."""
    items = reference.search_categories(level=args.get("level"), parent=args.get("parent"), q=args.get("q"),
                                        edition=args["edition"])
    start = (args["page"] - 1) * args["per_page"]
    return page_dict(items[start:start + args["per_page"]], len(items), args["page"], args["per_page"])


@blp.route("/taxonomy/categories/<code>")
@blp.response(200, CategoryNodeSchema)
@blp.errors(404)
def category(code: str):
    """One catalogue node with its GB/T 4754 activity codes and GHG mark."""
    node = reference.catalogue().get(code)
    if node is None:
        raise NotFound(Msg("Not found: %(what)s %(id)s", what="Catalogue code", id=code))
    return node


def _lookup(rows, args):
    q = (args.get("q") or "").lower()
    parent = args.get("parent")
    items = [r for r in rows if (not parent or r.parent == parent)
             and (not q or q in r.code or q in r.name_zh.lower() or q in (r.name_en or "").lower())]
    start = (args["page"] - 1) * args["per_page"]
    return page_dict(items[start:start + args["per_page"]], len(items), args["page"], args["per_page"])


class IndustryOutSchema(CodeNameSchema):
    level = fields.Method("_level")

    def _level(self, obj) -> str:
        return {2: "division", 3: "group", 4: "class"}[len(obj.code)]


@blp.route("/taxonomy/industries")
@blp.arguments(LookupQuerySchema, location="query")
@blp.response(200, page_of(IndustryOutSchema))
@blp.errors(422)
def industries(args):
    """GB/T 4754-2017 divisions, groups and classes (for pickers), by parent or text."""
    return _lookup(reference.industries().values(), args)


@blp.route("/taxonomy/regions")
@blp.arguments(LookupQuerySchema, location="query")
@blp.response(200, page_of(CodeNameSchema))
@blp.errors(422)
def regions(args):
    """GB/T 2260 regions (for pickers), by parent or text."""
    return _lookup(reference.regions().values(), args)


@blp.route("/taxonomy/classify", methods=["POST"])
@blp.arguments(ClassifyInSchema)
@blp.response(200, ClassifyOutSchema)
@blp.errors(400, 422)
def classify(data):
    """Suggest level-3 catalogue items for a project description, best first, with confidence."""
    return {"items": classifier.classify(data["name"], data["description"], data.get("industry_code"),
                                         limit=data["limit"])}


# -- projects --------------------------------------------------------------------------------------
@blp.route("/projects", methods=["POST"])
@blp.requires(Role.enterprise)
@blp.arguments(ProjectInSchema)
@blp.response(201, ProjectSchema)
@blp.errors(400, 401, 403, 422)
def create_project(data):
    """Register a project (enterprise); it starts as a draft."""
    actor = permissions.require_user()
    return service.present(service.create_project(actor, data), actor)


@blp.route("/projects")
@blp.arguments(ProjectQuerySchema, location="query")
@blp.response(200, page_of(ProjectSchema))
@blp.errors(401, 422)
def list_projects(args):
    """Projects the caller may see: enterprises their own; institutions and the public the approved
    catalogue; bureaus their jurisdiction; admins all. Filters by status, category and region prefix, text."""
    actor = permissions.current_actor()
    page = paginate(db.session, service.filtered(actor, args), args["page"], args["per_page"])
    page["items"] = [service.present(p, actor) for p in page["items"]]
    return page


@blp.route("/projects/<int:project_id>")
@blp.response(200, ProjectSchema)
@blp.errors(401, 404)
def get_project(project_id: int):
    """One project, if the caller may see it."""
    actor = permissions.current_actor()
    return service.present(service.get_project(actor, project_id), actor)


@blp.route("/projects/<int:project_id>", methods=["PATCH"])
@blp.requires(Role.enterprise)
@blp.body(ProjectPatchSchema(partial=tuple(f for f in ProjectPatchSchema._declared_fields if f != "version")))
@blp.response(200, ProjectSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def update_project(body, project_id: int):
    """Edit a draft or returned project (owner), sending the current `version`."""
    actor = permissions.require_user()
    service.check_edit(actor, project_id)  # another enterprise's project is 404 before the body's 422
    return service.present(service.update_project(actor, project_id, body.load()), actor)


@blp.route("/projects/<int:project_id>/submit", methods=["POST"])
@blp.requires(Role.enterprise)
@blp.body(VersionSchema, required=False)
@blp.response(200, ProjectSchema)
@blp.errors(401, 403, 404, 409)
def submit_project(body, project_id: int):
    """Submit the project to the local industry bureau for review (owner)."""
    actor = permissions.require_user()
    service.check_submit(actor, project_id)  # 404, 403, 409 before the body's 422
    version = (body.load() or {}).get("version")
    return service.present(service.submit_project(actor, project_id, version), actor)


@blp.route("/projects/<int:project_id>/review", methods=["POST"])
@blp.requires(Role.bureau)
@blp.body(ReviewSchema)
@blp.response(200, ProjectSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def review_project(body, project_id: int):
    """Approve, return (with a note) or reject a submitted project (the bureau whose jurisdiction covers
    it); when approving, the bureau may confirm or correct the categories. A decision on a project that is
    not submitted (approving a draft) is 409 whatever the body says."""
    actor = permissions.require_user()
    service.check_review(actor, project_id, body.peek("decision"))  # 404, 403, 409 before the body's 422
    data = body.load()
    project = service.review_project(actor, project_id, data["decision"], data.get("note"),
                                     data.get("categories"), data.get("version"))
    return service.present(project, actor)


@blp.route("/projects/<int:project_id>/history")
@blp.response(200, HistorySchema)
@blp.errors(401, 404)
def project_history(project_id: int):
    """Every status transition: who, when, from, to, note (append-only)."""
    return {"items": service.history(permissions.current_actor(), project_id)}


class AssessmentSchema(Schema):
    categories = fields.List(fields.Dict())
    two_high = fields.Dict()
    compliance = fields.Dict()
    greenwashing_signals = fields.List(fields.Dict())
    carbon = fields.Dict()
    green_score = fields.Integer()
    label = fields.String()
    label_reason = fields.String()
    score_breakdown = fields.List(fields.Dict())
    instruments = fields.List(fields.Dict())


@blp.route("/projects/<int:project_id>/assessment")
@blp.response(200, AssessmentSchema)
@blp.errors(401, 404)
def project_assessment(project_id: int):
    """Categories with their source, 两高 flag, compliance vetoes, greenwashing signals, carbon estimate,
    green score and label (formula in docs/assessment.md), and the fit of every installed instrument."""
    return service.get_assessment(permissions.current_actor(), project_id).as_dict(locale())


@blp.route("/review-queue")
@blp.requires(Role.bureau, Role.admin)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(ProjectSchema))
@blp.errors(401, 403, 422)
def queue(args):
    """The bureau's submitted projects in green-priority order (flagged first, then dark-green, oldest first)."""
    actor = permissions.require_user()
    page = paginate(db.session, service.review_queue(actor), args["page"], args["per_page"])
    page["items"] = [service.present(p, actor) for p in page["items"]]
    return page
