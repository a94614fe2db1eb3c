"""Who may see and change projects (registered with the one permission layer)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select, false

from greenmatch import permissions
from greenmatch.accounts.models import Role, User
from greenmatch.codes import region_covers
from greenmatch.permissions import Policy, policy

from .models import Project, ProjectStatus

# Extra grants of contact visibility, e.g. matching: an institution whose engagement was accepted.
contact_grants: list[Callable[[User, Project], bool]] = []


def in_jurisdiction(actor: User, project: Project) -> bool:
    return actor.role == Role.bureau and region_covers(actor.organization.region_code, project.region_code)


@policy(Project)
class ProjectPolicy(Policy):
    """enterprise: its own projects · institution and public: approved only ·
    bureau: non-draft projects in its jurisdiction (``purpose="review"``: drafts too, so a decision on one
    is refused as the illegal transition it is) · admin: everything."""

    def scope(self, stmt: Select, actor: User | None, purpose: str = "view") -> Select:
        if actor is None or actor.role == Role.institution:
            return stmt.where(Project.status == ProjectStatus.approved)
        if actor.role == Role.admin:
            return stmt
        if actor.role == Role.enterprise:
            return stmt.where(Project.enterprise_id == permissions.acting_org_id(actor))
        if actor.role == Role.bureau:
            stmt = stmt.where(Project.in_region(actor.organization.region_code))
            return stmt if purpose == "review" else stmt.where(Project.status != ProjectStatus.draft)
        return stmt.where(false())

    def can(self, actor: User | None, action: str, obj: Project) -> bool:
        if actor is None:
            return False
        owner = actor.role == Role.enterprise and obj.enterprise_id == permissions.acting_org_id(actor)
        if action in ("edit", "submit"):
            return owner
        if action == "review":
            return in_jurisdiction(actor, obj)
        if action == "view_contact":
            return (owner or actor.role == Role.admin or in_jurisdiction(actor, obj)
                    or any(grant(actor, obj) for grant in contact_grants))
        if action == "view_matches":
            return owner or actor.role == Role.admin or in_jurisdiction(actor, obj)
        return actor.role == Role.admin
