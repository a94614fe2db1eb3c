"""Demo data for ``greenmatch seed demo`` beyond the catalogue: published products of the demo
institutions, a full re-match, and engagements at every stage up to "funds reached".

Idempotent like the rest of the seed: products are found by (institution, name), engagements by
(project, product); the re-match replaces results atomically and produces the same rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from greenmatch.catalog.demo import DemoContext, demo_step
from greenmatch.extensions import db
from greenmatch.products import service as products
from greenmatch.products.models import Product, ProductStatus

from . import engagements, runs, service
from .models import Engagement, Match

JJJ = ["110000", "120000", "130000"]
DEMO_PRODUCTS: tuple[tuple[str, str, str, str, dict], ...] = (
    ("bank_jjj", "green_credit", "京津冀光伏风电绿色贷", "支持京津冀地区风电、光伏电站建设与运营，可叠加碳减排支持工具。",
     {"regions": JJJ, "categories": ["4.2"], "min_amount_cny": 1e7, "max_amount_cny": 8e8,
      "variants": ["general", "carbon_reduction_facility"], "indicative_rate_pct": 3.1, "max_tenor_years": 15}),
    ("bank_jjj", "green_credit", "环境权益质押贷", "以碳排放配额、CCER、排污权等环境权益质押的绿色贷款（JR/T 0228-2021）。",
     {"regions": JJJ, "variants": ["environmental_rights_pledge"], "min_amount_cny": 5e6, "max_amount_cny": 3e8,
      "accepted_collateral": ["carbon_allowance", "ccer", "pollutant_rights", "energy_use_rights"]}),
    ("bank_sunan", "green_credit", "苏南节能降碳改造贷", "面向江苏工业企业节能降碳改造、能效提升和合同能源管理项目。",
     {"regions": ["320000"], "categories": ["1"], "variants": ["energy_efficiency"], "min_amount_cny": 2e6,
      "max_amount_cny": 5e8}),
    ("bank_huzhou", "green_credit", "绿贷通·湖州绿色项目贷", "湖州地区绿色项目一站式信贷服务。",
     {"regions": ["330500"], "min_amount_cny": 1e6, "max_amount_cny": 2e8, "variants": ["general"]}),
    ("insurer_lvdun", "green_insurance", "首台（套）重大技术装备综合保险", "承保首台套装备与首批次新材料的质量与责任风险。",
     {"cover_types": ["first_of_kind_equipment", "new_material_first_batch"]}),
    ("insurer_lvdun", "green_insurance", "环境污染责任保险", "面向涉重金属、石化、危化品、危废等高环境风险企业。",
     {"cover_types": ["pollution_liability"]}),
    ("insurer_lvdun", "green_insurance", "林业碳汇指数保险", "为森林、湿地碳汇项目提供碳汇损失保障。",
     {"cover_types": ["carbon_sink", "climate_catastrophe"]}),
    ("securities_jinling", "green_bond", "绿色债券承销（碳中和债）", "为符合目录的绿色项目承销绿色公司债、碳中和债。",
     {"min_amount_cny": 1e8, "bond_types": ["exchange_corporate", "carbon_neutral"], "issuer_min_rating": "AA"}),
    ("securities_jinling", "reits", "清洁能源基础设施公募REITs", "成熟运营的清洁能源、储能与环保基础设施资产证券化。",
     {"asset_classes": ["clean_energy", "energy_storage", "water", "waste"], "min_operating_years": 3,
      "min_distribution_yield_pct": 3.8}),
    ("fund_qiantang", "green_fund", "碧水绿色成长股权基金", "投资成长期绿色技术与专精特新“小巨人”企业。",
     {"focus": ["green_technology", "specialized_sme", "little_giant", "clean_energy"],
      "ticket_min_cny": 2e7, "ticket_max_cny": 3e8, "stages": ["construction", "operation"]}),
)


@demo_step("products")
def seed_products(ctx: DemoContext) -> None:
    for org_key, instrument, name, description, params in DEMO_PRODUCTS:
        org = ctx.org(org_key)
        user = next(u for u in org.users)
        product = db.session.scalar(select(Product).where(Product.institution_id == org.id, Product.name == name))
        if product is None:
            product = products.create_product(user, {"instrument": instrument, "name": name,
                                                     "description": description, "params": params})
            ctx.created["products"] += 1
        if product.status != ProductStatus.published:
            products.change_status(user, product.id, "publish")


@demo_step("matching")
def seed_matching(ctx: DemoContext) -> None:
    # a second seed that created nothing leaves the results (and the run history) as they are
    if not sum(ctx.created.values()) and runs.recent_runs(1):
        return
    run = runs.full_rematch(triggered_by="seed")
    ctx.echo(f"matching: {run.matches_written} matches from {run.pairs_considered} pairs")


# (institution, product name, enterprise, project-name fragment, stages to walk through, amount)
DEMO_ENGAGEMENTS = (
    ("bank_jjj", "京津冀光伏风电绿色贷", "zjk_energy", "光伏", ("accept", "in_progress", "financed"), 1.2e8),
    ("bank_sunan", "苏南节能降碳改造贷", "cz_motor", "", ("accept",), None),
    ("insurer_lvdun", "首台（套）重大技术装备综合保险", "bd_hydrogen", "", (), None),
)


@demo_step("engagements")
def seed_engagements(ctx: DemoContext) -> None:
    for org_key, product_name, enterprise_key, fragment, steps, amount in DEMO_ENGAGEMENTS:
        institution = ctx.org(org_key)
        candidates = [m for m in db.session.scalars(
            select(Match).join(Product, Product.id == Match.product_id)
            .where(Match.generation == service.current_generation(), Match.institution_id == institution.id,
                   Product.name == product_name).order_by(Match.score.desc(), Match.id))
            if m.project.enterprise_id == ctx.org(enterprise_key).id and fragment in m.project.name]
        match = candidates[0] if candidates else None
        if match is None:
            continue
        existing = db.session.scalar(select(Engagement).where(Engagement.project_id == match.project_id,
                                                              Engagement.product_id == match.product_id))
        if existing is not None:
            continue
        bank_user = next(u for u in institution.users)
        owner = next(u for u in ctx.org(enterprise_key).users)
        engagement = engagements.request_engagement(bank_user, match.id, "您好，我行可为该项目提供绿色金融支持，期待洽谈。")
        for step in steps:
            if step in ("accept", "decline"):
                engagements.respond(owner, engagement.id, step, "欢迎进一步洽谈。")
            else:
                data = {"status": step}
                if step == "financed":
                    data |= {"financed_amount_cny": amount, "financed_on": dt.date.today() - dt.timedelta(days=3)}
                engagements.update_progress(bank_user, engagement.id, data)
        ctx.created["engagements"] += 1
