"""Matching's reactions to catalogue and product events (see greenmatch.signals): re-match before
the response returns, and tell institutions about new leads."""

from __future__ import annotations

from greenmatch import signals
from greenmatch.extensions import db
from greenmatch.text import N_, Msg

from . import notifications, service


@signals.project_approved.connect
def _project_approved(project, **kwargs) -> None:
    for institution_id, count in service.rematch_project(project).items():
        notifications.notify(institution_id, "new_leads",
                             Msg("Newly approved project “%(project)s” matches %(count)s of your products",
                                 project=project.name, count=count),
                             link="/leads", project_id=project.id)
    db.session.commit()


@signals.project_withdrawn.connect
def _project_withdrawn(project, **kwargs) -> None:
    service.rematch_project(project)  # not approved any more: its rows are deleted (leads_total relies on it)


@signals.product_changed.connect
def _product_changed(product, **kwargs) -> None:
    written = service.rematch_product(product)
    if product.status == "published" and written:
        notifications.notify(product.institution_id, "new_leads",
                             Msg("Product “%(product)s” matched %(count)s project leads", product=product.name,
                                 count=written),
                             link=f"/leads?product_id={product.id}", product_id=product.id)
        db.session.commit()


DECISION_TEXT = {
    "approve": N_("Project “%(project)s” was approved into the green project catalogue"),
    "return": N_("Project “%(project)s” was returned for changes"),
    "reject": N_("Project “%(project)s” was rejected"),
}


@signals.project_reviewed.connect
def _project_reviewed(project, decision: str, note: str | None = None, **kwargs) -> None:
    message = Msg(DECISION_TEXT[decision], project=project.name)
    if note:
        message = Msg("%(message)s: %(note)s", message=message, note=note)
    notifications.notify(project.enterprise_id, f"project_{decision}", message, link=f"/projects/{project.id}",
                         project_id=project.id)
    db.session.commit()


@signals.organization_verified.connect
def _organization_verified(org, **kwargs) -> None:
    notifications.notify(org.id, "organization_verified",
                         Msg("Your institution is verified: you can now publish products and see leads"),
                         link="/products")
    db.session.commit()
