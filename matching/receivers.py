"""Matching's reactions to catalogue and product events (see greenmatch.signals): re-match before
the response returns, and tell institutions about new leads."""

from __future__ import annotations

from greenmatch import signals
from greenmatch.extensions import db

from . import notifications, service


@signals.project_approved.connect
def _project_approved(project, **kwargs) -> None:
    for institution_id, count in service.rematch_project(project).items():
        notifications.notify(institution_id, "new_leads",
                             f"新入库项目“{project.name}”与您的 {count} 个产品匹配",
                             f"Newly approved project “{project.name}” matches {count} of your products",
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
                             f"产品“{product.name}”匹配到 {written} 个项目线索",
                             f"Product “{product.name}” matched {written} project leads",
                             link=f"/leads?product_id={product.id}", product_id=product.id)
        db.session.commit()


DECISION_TEXT = {
    "approve": ("已通过审核并纳入绿色项目库", "was approved into the green project catalogue"),
    "return": ("被退回修改", "was returned for changes"),
    "reject": ("未通过审核", "was rejected"),
}


@signals.project_reviewed.connect
def _project_reviewed(project, decision: str, note: str | None = None, **kwargs) -> None:
    zh, en = DECISION_TEXT[decision]
    suffix_zh, suffix_en = (f"：{note}", f": {note}") if note else ("", "")
    notifications.notify(project.enterprise_id, f"project_{decision}", f"项目“{project.name}”{zh}{suffix_zh}",
                         f"Project “{project.name}” {en}{suffix_en}", link=f"/projects/{project.id}",
                         project_id=project.id)
    db.session.commit()


@signals.organization_verified.connect
def _organization_verified(org, **kwargs) -> None:
    notifications.notify(org.id, "organization_verified", "贵机构已通过平台认证，可以发布产品并查看项目线索",
                         "Your institution is verified: you can now publish products and see leads", link="/products")
    db.session.commit()
