"""``greenmatch seed demo``: a realistic, idempotent demo data set; ``greenmatch seed logins``: its logins.

The seed is a list of steps (:data:`DEMO_STEPS`) run in order; each step finds its rows by natural keys
(e-mails, USCCs, organisation names, project names per enterprise) and creates only what is missing, so
running the seed twice leaves exactly the same data. Projects go through the catalogue service
(create → submit → review) so history, categories, scores, labels and flags are derived as in real use.

Other parts of the platform add their own steps (products, engagements, ...)::

    from greenmatch.catalog.demo import demo_step

    @demo_step("products")
    def _products(ctx):  # ctx.org("bank_jjj"), ctx.user("bank_jjj"), ctx.project("zjk_energy", "…")
        ...

A step registered under an existing name replaces it; new names are appended (run after the built-ins).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
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


def _bureau(key: str, name: str, region: str) -> DemoOrg:
    return DemoOrg(f"bureau_{key}", OrgKind.bureau, name, region)


def _enterprise(key: str, name: str, region: str, org_code: str, contact: tuple[str, str]) -> DemoOrg:
    return DemoOrg(key, OrgKind.enterprise, name, region, org_code, contact=contact)


def _institution(key: str, name: str, region: str, org_code: str, kind: str, verified: bool = True) -> DemoOrg:
    return DemoOrg(key, OrgKind.institution, name, region, org_code, institution_type=kind, verified=verified)


PLATFORM = DemoOrg("admin", OrgKind.platform, "GreenMatch 平台运营中心", "110000")
BUREAUS: tuple[DemoOrg, ...] = (
    _bureau("hebei", "河北省工业和信息化厅", "130000"),
    _bureau("zhangjiakou", "张家口市工业和信息化局", "130700"),
    _bureau("beijing", "北京市经济和信息化局", "110000"),
    _bureau("tianjin", "天津市工业和信息化局", "120000"),
    _bureau("jiangsu", "江苏省工业和信息化厅", "320000"),
    _bureau("zhejiang", "浙江省经济和信息化厅", "330000"),
    _bureau("huzhou", "湖州市经济和信息化局", "330500"),
)
ENTERPRISES: tuple[DemoOrg, ...] = (
    _enterprise("zjk_energy", "张家口坝上风光新能源有限公司", "130722", "MA0GM0E01", ("王建国", "0313-5261188")),
    _enterprise("ts_steel", "唐山冀东特钢股份有限公司", "130204", "MA0GM0E02", ("刘志强", "0315-3326601")),
    _enterprise("ts_eco", "唐山南湖生态修复工程有限公司", "130207", "MA0GM0E03", ("孙丽", "0315-5128890")),
    _enterprise("hd_coking", "邯郸峰峰新元焦化有限公司", "130406", "MA0GM0E04", ("赵伟", "0310-5172233")),
    _enterprise("sjz_water", "石家庄绿源水务有限公司", "130104", "MA0GM0E05", ("李娜", "0311-8766120")),
    _enterprise("sjz_cement", "石家庄太行建材有限公司", "130181", "MA0GM0E06", ("张磊", "0311-8322456")),
    _enterprise("bd_hydrogen", "保定氢途装备科技有限公司", "130602", "MA0GM0E07", ("陈晨", "0312-5901234")),
    _enterprise("bd_enviro", "保定清源环境能源有限公司", "130606", "MA0GM0E08", ("杨帆", "0312-3156677")),
    _enterprise("bj_building", "北京城绿建筑科技有限公司", "110105", "MA0GM0E09", ("周敏", "010-85901122")),
    _enterprise("bj_charging", "北京畅行充电网络科技有限公司", "110108", "MA0GM0E10", ("吴昊", "010-62781234")),
    _enterprise("bj_carbon", "北京碳衡数字科技有限公司", "110108", "MA0GM0E11", ("郑雪", "010-82556789")),
    _enterprise("tj_recycling", "天津滨海动力电池循环科技有限公司", "120116", "MA0GM0E12", ("马骏", "022-25301188")),
    _enterprise("tj_port", "天津港湾绿色物流有限公司", "120116", "MA0GM0E13", ("何静", "022-25707766")),
    _enterprise("tj_eco", "天津七里海生态环境建设有限公司", "120117", "MA0GM0E14", ("高峰", "022-69561234")),
    _enterprise("js_offshore", "江苏蓝海海上风电开发有限公司", "320111", "MA0GM0E15", ("徐海", "025-58601234")),
    _enterprise("nj_chem", "南京江北新材料化工有限公司", "320116", "MA0GM0E16", ("朱立", "025-57112233")),
    _enterprise("sz_park", "苏州工业园区绿能环境服务有限公司", "320506", "MA0GM0E17", ("沈怡", "0512-62881234")),
    _enterprise("cz_storage", "常州储能电池科技有限公司", "320412", "MA0GM0E18", ("钱程", "0519-86551234")),
    _enterprise("cz_motor", "常州新动力电机有限公司", "320412", "MA0GM0E19", ("蒋涛", "0519-86779900")),
    _enterprise("hz_bamboo", "安吉竹海生态科技有限公司", "330523", "MA0GM0E20", ("潘越", "0572-5123456")),
    _enterprise("hz_textile", "长兴锦绣纺织印染集团有限公司", "330522", "MA0GM0E21", ("林峰", "0572-6023456")),
    _enterprise("qz_forest", "开化钱江源林业碳汇发展有限公司", "330824", "MA0GM0E22", ("方芳", "0570-6012345")),
    _enterprise("hzh_digital", "杭州数智碳管理科技有限公司", "330110", "MA0GM0E23", ("叶青", "0571-88901234")),
    _enterprise("hzh_trade", "杭州光储进出口贸易有限公司", "330106", "MA0GM0E24", ("韩冰", "0571-87654321")),
)
INSTITUTIONS: tuple[DemoOrg, ...] = (
    _institution("bank_jjj", "京津冀绿色商业银行股份有限公司", "110000", "MA0GM0F01", "bank"),
    _institution("bank_sunan", "苏南绿色发展银行股份有限公司", "320500", "MA0GM0F02", "bank"),
    _institution("bank_huzhou", "湖州南太湖农村商业银行股份有限公司", "330500", "MA0GM0F03", "bank"),
    _institution("insurer_lvdun", "绿盾财产保险股份有限公司", "110000", "MA0GM0F04", "insurer"),
    _institution("securities_jinling", "金陵绿色证券股份有限公司", "320100", "MA0GM0F05", "securities"),
    _institution("fund_qiantang", "钱塘碧水私募基金管理有限公司", "330100", "MA0GM0F06", "fund_manager"),
    _institution("fund_jinmen", "津门绿色产业投资基金管理有限公司", "120000", "MA0GM0F07", "fund_manager",
                 verified=False),
)
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
APPROVE_NOTE = "材料齐全，符合《绿色金融支持项目目录（2025年版）》，同意纳入绿色项目库。"
COMPLIANT = {"eia_approved": True, "pollutant_permit": True, "env_penalties_3y": 0, "major_env_penalty_3y": False}


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


def _project(enterprise: str, path: str, name: str, industry: str, region: str, categories: list[str], stage: str,
             total: float, need: float, description: str, *, note: str | None = None,
             confirm: tuple[str, ...] | None = None, **form: Any) -> DemoProject:
    body = {"name": name, "description": description, "industry_code": industry, "region_code": region,
            "categories": categories, "stage": stage, "total_investment_cny": total, "financing_need_cny": need,
            "compliance": dict(COMPLIANT), **form}
    return DemoProject(enterprise, path, body, note, confirm)


P = _project
DEMO_PROJECTS: tuple[DemoProject, ...] = (
    # -- 4 energy transition ------------------------------------------------------------------------
    P("zjk_energy", "approved", "张北50MW集中式光伏电站", "4416", "130722", ["4.2.2"], "construction",
      220_000_000, 150_000_000,
      "在张北县坝上地区建设50兆瓦集中式光伏电站，配套110千伏升压站及10%、2小时储能，年发电约7.5万兆瓦时，"
      "所发电量经冀北电网消纳，纳入张家口可再生能源示范区规划。",
      commissioning_year=2026, annual_revenue_cny=28_000_000, annual_net_cash_flow_cny=18_500_000,
      benefits={"renewable_generation_mwh": 75_000, "co2_reduction_t": 40_000},
      certifications=["high_tech"], collateral=["receivables", "green_power_certificates"],
      risk_exposures=["climate_catastrophe"], preferred_instruments=["green_credit", "green_insurance"],
      confirm=("4.2.2",)),
    P("zjk_energy", "approved", "尚义200MW风电场", "4415", "130725", ["4.2.1"], "operation",
      1_350_000_000, 600_000_000,
      "尚义县200兆瓦风电场，安装40台5兆瓦风电机组，2022年全容量并网，年等效满负荷利用小时约2400小时，"
      "拟以电费收费权质押及发行绿色债券置换存量贷款。",
      commissioning_year=2022, annual_revenue_cny=150_000_000, annual_net_cash_flow_cny=96_000_000,
      asset_value_cny=1_250_000_000, expected_irr_pct=6.8,
      benefits={"renewable_generation_mwh": 480_000, "co2_reduction_t": 255_000},
      collateral=["receivables", "green_power_certificates"], risk_exposures=["climate_catastrophe"],
      preferred_instruments=["green_bond", "reits", "green_credit"]),
    P("zjk_energy", "submitted", "张北风光储一体化100MWh储能电站", "4419", "130722", ["4.3.2"], "construction",
      180_000_000, 120_000_000,
      "建设50兆瓦/100兆瓦时磷酸铁锂电化学储能电站，为周边风电、光伏场站提供调峰和一次调频服务，"
      "提升新能源消纳能力。",
      commissioning_year=2026, annual_revenue_cny=21_000_000,
      collateral=["receivables"], risk_exposures=["climate_catastrophe"], preferred_instruments=["green_credit"]),
    P("zjk_energy", "draft", "崇礼氢能综合加注站", "5266", "130709", ["4.2.8"], "planning",
      45_000_000, 30_000_000,
      "在崇礼区建设日加注能力1000公斤的35/70MPa加氢站，兼顾燃料电池公交和冬奥遗产氢能大巴的加注需求。",
      commissioning_year=2027, preferred_instruments=["green_credit", "green_fund"],
      compliance={"eia_approved": False, "pollutant_permit": False, "env_penalties_3y": 0,
                  "major_env_penalty_3y": False}),
    P("js_offshore", "approved", "如东H6海上风电场（400MW）", "4415", "320623", ["4.2.1"], "construction",
      6_200_000_000, 4_300_000_000,
      "在如东县海域建设400兆瓦海上风电场，安装50台8兆瓦风电机组及220千伏海上升压站，"
      "年上网电量约12亿千瓦时，配套陆上集控中心。",
      commissioning_year=2027, annual_revenue_cny=720_000_000, annual_net_cash_flow_cny=430_000_000,
      benefits={"renewable_generation_mwh": 1_200_000, "co2_reduction_t": 640_000},
      collateral=["receivables", "green_power_certificates"], risk_exposures=["climate_catastrophe"],
      preferred_instruments=["green_bond", "green_credit", "green_insurance"]),
    P("js_offshore", "draft", "东台海上风电运维母港及集控中心", "4415", "320981", ["4.2.1"], "planning",
      380_000_000, 250_000_000,
      "在东台市建设海上风电运维母港、备品备件仓储及区域集控中心，服务东台、大丰海域约1.5吉瓦风电场。",
      commissioning_year=2028, preferred_instruments=["green_credit"],
      compliance={"eia_approved": False, "pollutant_permit": False, "env_penalties_3y": 0,
                  "major_env_penalty_3y": False}),
    P("sz_park", "approved", "苏州园区工业厂房屋顶分布式光伏（32MW）", "4416", "320506", ["4.3.7"], "operation",
      128_000_000, 80_000_000,
      "利用园区内46家制造企业约35万平方米厂房屋顶建设32兆瓦分布式光伏，自发自用、余电上网，"
      "以合同能源管理方式向企业供电。",
      commissioning_year=2024, annual_revenue_cny=14_500_000, annual_net_cash_flow_cny=10_200_000,
      benefits={"renewable_generation_mwh": 33_000, "co2_reduction_t": 17_500},
      collateral=["receivables", "green_power_certificates"], preferred_instruments=["green_credit"]),
    P("cz_storage", "approved", "常州年产10GWh储能电池及系统生产线", "3841", "320412", ["4.1.8"], "construction",
      2_800_000_000, 1_200_000_000,
      "建设储能专用磷酸铁锂电芯、电池包及集装箱式储能系统生产线，达产后年产10吉瓦时，"
      "配套建设屋顶光伏和废水回用设施。",
      commissioning_year=2026, annual_revenue_cny=4_200_000_000,
      certifications=["specialized_sme", "high_tech"], collateral=["fixed_assets", "intellectual_property"],
      risk_exposures=["new_material_first_batch"], preferred_instruments=["green_credit", "green_fund"]),
    P("bd_hydrogen", "approved", "兆瓦级PEM电解水制氢装备产业化项目", "3463", "130602", ["4.1.9"], "construction",
      320_000_000, 200_000_000,
      "建设年产200台（套）兆瓦级质子交换膜电解槽及制氢系统生产线，首台套5兆瓦电解槽已完成中试，"
      "产品用于风光制氢和工业副产氢提纯。",
      commissioning_year=2026, annual_revenue_cny=450_000_000,
      certifications=["specialized_sme", "little_giant", "high_tech"],
      collateral=["intellectual_property", "fixed_assets"], risk_exposures=["first_of_kind_equipment", "tech_rnd"],
      preferred_instruments=["green_fund", "green_insurance", "green_credit"]),
    # -- 1 energy saving and carbon reduction -------------------------------------------------------
    P("ts_steel", "approved", "唐山特钢烧结机余热回收发电改造", "3120", "130204", ["1.3.4"], "construction",
      96_000_000, 60_000_000,
      "对两台360平方米烧结机环冷段余热进行回收，新建25兆瓦余热发电机组，年发电约1.6亿千瓦时，"
      "降低外购电量。",
      commissioning_year=2026, benefits={"energy_saving_tce": 38_000, "co2_reduction_t": 95_000},
      collateral=["energy_use_rights", "fixed_assets"], risk_exposures=["pollution_liability"],
      preferred_instruments=["green_credit"]),
    P("sjz_cement", "submitted", "太行建材熟料生产线节能降碳改造", "3011", "130181", ["1.4.1"], "construction",
      150_000_000, 90_000_000,
      "对5000吨/日熟料生产线实施高效篦冷机、六级预热器和替代燃料改造，熟料单位产品综合能耗由"
      "108千克标煤降至98千克标煤以下。",
      commissioning_year=2026, benefits={"energy_saving_tce": 25_000, "co2_reduction_t": 65_000},
      collateral=["energy_use_rights", "carbon_allowance"], risk_exposures=["pollution_liability"],
      preferred_instruments=["green_credit"]),
    P("cz_motor", "approved", "高效永磁同步电机扩产项目", "3812", "320412", ["1.1.7"], "construction",
      260_000_000, 150_000_000,
      "新增年产50万台IE4及以上能效等级永磁同步电机生产线，产品用于风机、水泵和空压机节能改造。",
      commissioning_year=2026, annual_revenue_cny=900_000_000,
      certifications=["green_factory", "specialized_sme"], collateral=["fixed_assets"],
      preferred_instruments=["green_credit", "green_fund"]),
    P("cz_motor", "submitted", "新能源汽车驱动电机及电控总成项目", "3812", "320412", ["1.2.1"], "planning",
      420_000_000, 250_000_000,
      "建设年产30万套新能源汽车800V扁线驱动电机及电控总成生产线，配套常州新能源汽车产业集群。",
      commissioning_year=2027, annual_revenue_cny=1_500_000_000, certifications=["high_tech"],
      preferred_instruments=["green_fund", "green_credit"],
      compliance={"eia_approved": False, "pollutant_permit": False, "env_penalties_3y": 0,
                  "major_env_penalty_3y": False}),
    P("nj_chem", "approved", "化工园区二氧化碳捕集及食品级提纯利用项目", "2614", "320116", ["1.5.1"], "construction",
      210_000_000, 140_000_000,
      "捕集乙二醇装置排放的高浓度二氧化碳，建设年产10万吨食品级液体二氧化碳提纯装置，"
      "产品供应园区及周边食品饮料企业。",
      commissioning_year=2026, annual_revenue_cny=60_000_000, benefits={"co2_reduction_t": 100_000},
      collateral=["carbon_allowance"], risk_exposures=["pollution_liability", "tech_rnd"],
      preferred_instruments=["green_credit", "green_bond"]),
    P("hz_textile", "submitted", "锦绣印染车间LED照明节能改造", "1713", "330522", ["1.3.5"], "operation",
      3_200_000, 3_000_000,
      "将印染车间1.2万盏金卤灯和荧光灯更换为LED智能照明。公司为国家级绿色工厂，以本项目申报全厂整体绿色转型，"
      "申请绿色贷款用于全公司流动资金周转。",
      commissioning_year=2025, annual_revenue_cny=1_500_000_000, benefits={"energy_saving_tce": 600,
                                                                         "co2_reduction_t": 1_500},
      certifications=["green_factory"], preferred_instruments=["green_credit"]),
    # -- 2 environmental protection -----------------------------------------------------------------
    P("ts_steel", "approved", "唐山特钢全流程超低排放改造", "3120", "130204", ["2.2.2"], "construction",
      480_000_000, 300_000_000,
      "按《关于推进实施钢铁行业超低排放的意见》对烧结、球团、高炉、转炉工序实施有组织排放、无组织排放和"
      "清洁运输改造，颗粒物、二氧化硫、氮氧化物排放浓度分别不高于10、35、50毫克/立方米。",
      commissioning_year=2026, collateral=["pollutant_rights", "fixed_assets"],
      risk_exposures=["pollution_liability"], preferred_instruments=["green_credit", "green_insurance"],
      confirm=("2.2.2",)),
    P("nj_chem", "submitted", "江北新材料园区VOCs综合治理项目", "2614", "320116", ["2.2.3"], "construction",
      45_000_000, 30_000_000,
      "对储罐区、装卸区和污水处理站实施密闭收集，新建RTO蓄热式焚烧装置和LDAR泄漏检测与修复体系，"
      "VOCs年减排约800吨。",
      commissioning_year=2026, collateral=["pollutant_rights"], risk_exposures=["pollution_liability"],
      preferred_instruments=["green_credit", "green_insurance"]),
    P("sz_park", "approved", "苏州园区第二污水处理厂提标及再生水回用", "4620", "320506", ["2.3.5"], "operation",
      360_000_000, 220_000_000,
      "对日处理能力20万吨的园区污水处理厂实施准Ⅳ类提标改造，新建5万吨/日再生水厂，"
      "再生水供园区电子、热电企业作工业用水。",
      commissioning_year=2015, annual_revenue_cny=96_000_000, annual_net_cash_flow_cny=52_000_000,
      asset_value_cny=1_200_000_000, is_concession=True, expected_irr_pct=6.2,
      benefits={"water_saving_t": 18_000_000}, collateral=["receivables"],
      preferred_instruments=["reits", "green_bond"]),
    P("tj_recycling", "returned", "滨海新区危险废物焚烧处置中心扩建", "7724", "120116", ["2.5.2"], "construction",
      230_000_000, 160_000_000,
      "新增日处理100吨危险废物回转窑焚烧线及配套烟气净化、飞灰固化设施，服务南港工业区化工企业。",
      commissioning_year=2026, risk_exposures=["pollution_liability"], preferred_instruments=["green_credit"],
      compliance={"eia_approved": False, "pollutant_permit": False, "env_penalties_3y": 0,
                  "major_env_penalty_3y": False},
      note="项目已开工但尚未取得环评批复，请补充环评批复文件及危险废物经营许可证后重新提交。"),
    # -- 3 resource recycling ---------------------------------------------------------------------
    P("tj_recycling", "approved", "退役动力电池梯次利用与再生利用基地（年处理5万吨）", "4210", "120116", ["3.2.5"],
      "construction", 680_000_000, 400_000_000,
      "建设年处理5万吨退役动力电池的拆解、梯次利用和湿法冶金再生产线，回收镍、钴、锰、锂等有价金属，"
      "纳入工信部新能源汽车废旧动力蓄电池综合利用行业规范企业名单。",
      commissioning_year=2026, annual_revenue_cny=1_100_000_000, benefits={"co2_reduction_t": 120_000},
      certifications=["high_tech"], collateral=["fixed_assets", "receivables"],
      risk_exposures=["pollution_liability"], preferred_instruments=["green_credit", "green_fund"]),
    P("bd_enviro", "approved", "保定生活垃圾焚烧发电厂（日处理1500吨）", "4417", "130606", ["3.2.6"], "operation",
      720_000_000, 300_000_000,
      "日处理生活垃圾1500吨的焚烧发电厂，配置3台500吨/日机械炉排炉和2台25兆瓦汽轮发电机组，"
      "以特许经营方式运营30年。",
      commissioning_year=2020, annual_revenue_cny=165_000_000, annual_net_cash_flow_cny=88_000_000,
      asset_value_cny=1_050_000_000, is_concession=True, expected_irr_pct=7.1,
      benefits={"renewable_generation_mwh": 190_000, "co2_reduction_t": 100_000},
      collateral=["receivables"], risk_exposures=["pollution_liability"],
      preferred_instruments=["reits", "green_bond"]),
    P("hd_coking", "approved", "焦炉煤气制LNG联产氢气回收利用项目", "2521", "130406", ["3.2.7"], "construction",
      380_000_000, 220_000_000,
      "利用现有焦炉富余焦炉煤气，建设年产LNG 1.5亿立方米并联产高纯氢气的回收利用装置，"
      "替代焦炉煤气放散和火炬燃烧。",
      commissioning_year=2026, annual_revenue_cny=420_000_000, benefits={"co2_reduction_t": 210_000},
      collateral=["fixed_assets"], risk_exposures=["pollution_liability"], preferred_instruments=["green_credit"]),
    P("sjz_water", "approved", "石家庄西部再生水厂及配套管网", "4620", "130104", ["3.2.2"], "construction",
      260_000_000, 180_000_000,
      "新建10万吨/日再生水厂及38公里再生水输配管网，再生水用于电厂冷却和城市河湖生态补水，"
      "缓解地下水超采。",
      commissioning_year=2026, annual_revenue_cny=42_000_000, benefits={"water_saving_t": 36_500_000},
      collateral=["receivables"], preferred_instruments=["green_bond", "green_credit"]),
    # -- 5 ecological protection and restoration ---------------------------------------------------------
    P("qz_forest", "approved", "钱江源10万亩森林质量精准提升及碳汇项目", "0220", "330824", ["5.1.9"], "construction",
      85_000_000, 60_000_000,
      "在开化县实施10万亩人工林抚育、低效林改造和珍贵树种补植，按林业碳汇方法学开发碳汇量，"
      "预计年新增碳汇约4.5万吨二氧化碳当量。",
      commissioning_year=2025, benefits={"co2_reduction_t": 45_000},
      collateral=["ccer"], risk_exposures=["carbon_sink", "climate_catastrophe"],
      preferred_instruments=["green_credit", "green_insurance"]),
    P("hz_bamboo", "approved", "安吉毛竹林碳汇与竹材高值化利用项目", "0242", "330523", ["5.1.13"], "operation",
      120_000_000, 70_000_000,
      "对5万亩毛竹林实施科学经营和碳汇计量，建设竹材采运、竹纤维板和竹制日用品加工线，推动“以竹代塑”。",
      commissioning_year=2024, annual_revenue_cny=180_000_000, benefits={"co2_reduction_t": 30_000},
      collateral=["ccer", "fixed_assets"], risk_exposures=["carbon_sink"],
      preferred_instruments=["green_credit", "green_insurance"]),
    P("ts_eco", "submitted", "古冶区废弃矿山生态修复及光伏复合利用", "4863", "130204", ["5.3.4"], "planning",
      160_000_000, 110_000_000,
      "对古冶区3处废弃采石矿山约2800亩实施边坡治理、覆土复绿和水土保持，修复后部分区域建设林光互补设施。",
      commissioning_year=2027, preferred_instruments=["green_credit", "green_fund"]),
    P("tj_eco", "draft", "七里海湿地保护修复工程", "4863", "120117", ["5.2.12"], "planning",
      95_000_000, 60_000_000,
      "实施七里海湿地核心区生态补水、苇海修复和鸟类栖息地营造，恢复湿地面积约1.2万亩。",
      commissioning_year=2027, preferred_instruments=["green_bond"]),
    # -- 6 green infrastructure ----------------------------------------------------------------------
    P("bj_building", "approved", "城市副中心超低能耗办公楼", "4790", "110112", ["6.1.2"], "construction",
      560_000_000, 350_000_000,
      "建设建筑面积8.6万平方米的超低能耗办公楼，采用高性能围护结构、新风热回收和地源热泵，"
      "按《近零能耗建筑技术标准》设计。",
      commissioning_year=2026, benefits={"energy_saving_tce": 1_800, "co2_reduction_t": 4_500},
      risk_exposures=["building_performance"], preferred_instruments=["green_credit", "green_insurance"]),
    P("bj_building", "resubmitted_approved", "朝阳CBD既有商务楼宇绿色化改造", "4861", "110105", ["6.1.3"],
      "operation", 42_000_000, 30_000_000,
      "对6栋既有甲级写字楼实施冷热源系统、照明和楼宇自控改造，以合同能源管理方式分享节能收益。",
      commissioning_year=2025, annual_revenue_cny=9_000_000, benefits={"energy_saving_tce": 2_600,
                                                                    "co2_reduction_t": 6_500},
      collateral=["receivables"], risk_exposures=["building_performance"], preferred_instruments=["green_credit"],
      note="请补充第三方节能量审核报告及业主方节能分享协议。"),
    P("bj_building", "submitted", "大兴三星级绿色建筑住宅社区", "4710", "110115", ["6.1.1"], "construction",
      1_800_000_000, 900_000_000,
      "建设建筑面积22万平方米的住宅社区，按绿色建筑三星级标准设计施工，配建屋顶光伏和海绵城市设施。",
      commissioning_year=2027, risk_exposures=["building_performance"],
      preferred_instruments=["green_credit", "green_bond"]),
    P("bj_charging", "approved", "北京城区公共快充网络（3000个直流快充桩）", "5267", "110108", ["6.2.3"],
      "construction", 240_000_000, 160_000_000,
      "在海淀、朝阳、丰台等区的公共停车场、商业综合体建设3000个120千瓦直流快充桩及智能运营平台。",
      commissioning_year=2026, annual_revenue_cny=60_000_000, benefits={"co2_reduction_t": 36_000},
      collateral=["charging_rights", "receivables"], preferred_instruments=["green_credit", "green_bond"]),
    P("sjz_water", "approved", "桥西污水处理厂提标改造及污泥资源化", "4620", "130104", ["6.4.7"], "operation",
      210_000_000, 130_000_000,
      "对日处理30万吨的污水处理厂实施提标改造，出水由一级A提至地表准Ⅳ类，新建污泥厌氧消化和干化设施。",
      commissioning_year=2012, annual_revenue_cny=88_000_000, annual_net_cash_flow_cny=41_000_000,
      asset_value_cny=900_000_000, is_concession=True, expected_irr_pct=5.6,
      benefits={"water_saving_t": 10_000_000}, collateral=["receivables", "pollutant_rights"],
      risk_exposures=["pollution_liability"], preferred_instruments=["reits", "green_credit"]),
    P("tj_port", "approved", "天津港集装箱码头岸电系统建设", "5532", "120116", ["6.2.12"], "construction",
      68_000_000, 45_000_000,
      "为8个集装箱泊位建设高压岸电系统，靠港船舶使用岸电替代辅机燃油发电。",
      commissioning_year=2026, benefits={"co2_reduction_t": 12_000}, collateral=["receivables"],
      preferred_instruments=["green_credit"]),
    P("tj_port", "draft", "滨海绿色物流园区（一期）", "5442", "120116", ["6.3.1"], "planning",
      520_000_000, 300_000_000,
      "建设多式联运绿色物流园区一期，配套光伏车棚、电动重卡换电站和智慧调度平台。",
      commissioning_year=2028, preferred_instruments=["green_bond", "reits"],
      compliance={"eia_approved": False, "pollutant_permit": False, "env_penalties_3y": 0,
                  "major_env_penalty_3y": False}),
    P("bd_enviro", "submitted", "保定城区垃圾焚烧余热集中供热工程", "4430", "130606", ["6.5.3"], "construction",
      88_000_000, 60_000_000,
      "利用垃圾焚烧发电厂汽轮机抽汽余热，建设供热首站及12公里热网，替代城区燃煤供热锅炉，供热面积300万平方米。",
      commissioning_year=2026, benefits={"energy_saving_tce": 21_000, "co2_reduction_t": 52_000},
      collateral=["receivables"], preferred_instruments=["green_credit"]),
    # -- 7 green services ------------------------------------------------------------------------------
    P("bj_carbon", "approved", "重点用能单位能耗在线监测与碳排放核算平台", "6531", "110108", ["7.3.1"],
      "construction", 18_000_000, 12_000_000,
      "为京津冀地区约300家重点用能单位建设能耗在线监测终端和碳排放核算云平台，支持碳排放报告与核查。",
      commissioning_year=2026, annual_revenue_cny=24_000_000, certifications=["high_tech", "specialized_sme"],
      collateral=["intellectual_property", "receivables"], risk_exposures=["tech_rnd"],
      preferred_instruments=["green_fund", "green_credit"]),
    P("hzh_digital", "submitted", "余杭工业园区企业数字化碳管理服务", "6531", "330110", ["7.2.7"], "construction",
      26_000_000, 15_000_000,
      "为园区200家制造企业部署能碳管理SaaS和智能电表，提供碳足迹核算、能效诊断和绿电交易撮合服务。",
      commissioning_year=2026, annual_revenue_cny=20_000_000, certifications=["high_tech"],
      collateral=["intellectual_property"], preferred_instruments=["green_fund"]),
    P("sz_park", "approved", "园区企业空压机与电机系统合同能源管理", "4861", "320506", ["7.2.2"], "operation",
      36_000_000, 25_000_000,
      "以节能效益分享型合同能源管理方式，为园区32家企业改造空压站和电机系统，平均节电率18%。",
      commissioning_year=2025, annual_revenue_cny=11_000_000, benefits={"energy_saving_tce": 5_200,
                                                                     "co2_reduction_t": 13_000},
      collateral=["receivables"], preferred_instruments=["green_credit"]),
    P("hzh_digital", "returned", "园区屋顶光伏碳普惠平台", "6531", "330110", ["7.2.7"], "planning",
      8_000_000, 6_000_000,
      "建设碳普惠平台，对园区屋顶光伏发电量进行核证并向企业发放碳积分。",
      commissioning_year=2026, benefits={"renewable_generation_mwh": 40_000, "co2_reduction_t": 21_000},
      preferred_instruments=["green_fund"],
      note="项目为信息平台，不应申报光伏发电量；请区分平台本身效益与所服务光伏项目的效益后重新提交。"),
    # -- 8 green trade ---------------------------------------------------------------------------------
    P("hzh_trade", "approved", "光伏组件与储能系统出口供应链融资", "5175", "330106", ["8.5.2", "8.5.8"], "operation",
      300_000_000, 200_000_000,
      "面向东南亚和中东市场出口高效光伏组件及工商业储能系统，申请以出口应收账款为基础的绿色供应链融资。",
      commissioning_year=2024, annual_revenue_cny=1_200_000_000, collateral=["receivables"],
      preferred_instruments=["green_credit"]),
    P("cz_motor", "draft", "高效电机及变频器海外营销网络", "5179", "320412", ["8.1.1"], "planning",
      40_000_000, 25_000_000,
      "在东南亚设立高效电机、变频器展示仓和售后服务网点，扩大节能装备出口。",
      commissioning_year=2026, preferred_instruments=["green_credit"]),
    # -- 9 green consumption ----------------------------------------------------------------------------
    P("bj_charging", "submitted", "网约车新能源车辆置换消费分期", "7111", "110108", ["9.1.1"], "operation",
      150_000_000, 120_000_000,
      "联合主机厂为网约车司机提供新能源车辆置换分期，替换约1500辆燃油网约车。",
      commissioning_year=2025, annual_revenue_cny=30_000_000, benefits={"co2_reduction_t": 9_000},
      collateral=["receivables"], preferred_instruments=["green_credit"]),
    P("hz_bamboo", "approved", "“以竹代塑”竹制日用品绿色消费推广", "2041", "330523", ["9.1.3"], "operation",
      30_000_000, 20_000_000,
      "扩建竹制餐具、竹纤维包装生产线并建设线上线下销售渠道，替代一次性塑料制品。",
      commissioning_year=2025, annual_revenue_cny=65_000_000, certifications=["green_design_product"],
      preferred_instruments=["green_credit"]),
    # -- 两高 and rejected -------------------------------------------------------------------------------
    P("hd_coking", "submitted", "新建年产150万吨焦化项目", "2521", "130406", [], "planning",
      2_600_000_000, 1_500_000_000,
      "新建2×65孔6米顶装焦炉及配套化产回收装置，年产焦炭150万吨，拟承接区域淘汰焦化产能置换指标。",
      commissioning_year=2028, annual_revenue_cny=3_600_000_000, risk_exposures=["pollution_liability"],
      preferred_instruments=["green_credit"],
      compliance={"eia_approved": False, "pollutant_permit": False, "env_penalties_3y": 1,
                  "major_env_penalty_3y": False}),
    P("hd_coking", "rejected", "焦化厂配套燃煤自备电厂扩建", "4411", "130406", ["4.3.7"], "planning",
      900_000_000, 600_000_000,
      "扩建2×135兆瓦燃煤自备机组，为焦化及化产装置供电供汽。",
      commissioning_year=2028, preferred_instruments=["green_credit", "green_bond"],
      compliance={"eia_approved": False, "pollutant_permit": False, "env_penalties_3y": 1,
                  "major_env_penalty_3y": False},
      note="新增燃煤发电产能属于“两高”项目，不属于分布式能源等绿色目录范围，不予入库。"),
    P("sjz_cement", "rejected", "新建4500t/d水泥熟料生产线", "3011", "130181", ["1.1.18"], "planning",
      1_100_000_000, 700_000_000,
      "新建一条4500吨/日新型干法水泥熟料生产线及配套余热发电。",
      commissioning_year=2028, preferred_instruments=["green_credit"],
      compliance={"eia_approved": False, "pollutant_permit": False, "env_penalties_3y": 0,
                  "major_env_penalty_3y": False},
      note="新增水泥熟料产能不属于绿色建筑材料制造，且未取得产能置换方案批复，不予入库。"),
    P("ts_steel", "returned", "特钢电炉短流程改造", "3120", "130204", ["1.4.2"], "planning",
      1_300_000_000, 800_000_000,
      "以100吨全废钢电弧炉替代一座1080立方米高炉及120吨转炉，配套废钢加工配送中心。",
      commissioning_year=2028, benefits={"co2_reduction_t": 900_000},
      preferred_instruments=["green_credit", "green_bond"],
      note="碳减排量测算依据不足，请按《钢铁行业温室气体排放核算方法》补充测算过程及产能置换批复。"),
)


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
