"""The import sheet's columns (:data:`IMPORT_COLUMNS`: the contract's project fields with the Chinese and
English headers that name them) and the empty template an enterprise or bureau downloads and fills in.

Reading a filled-in sheet: :mod:`.excel_read`; importing its rows: :mod:`.excel_import`; the bureau's
export: :mod:`.excel_export`; what every sheet shares: :mod:`.sheets`.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .sheets import HEADER_ALIGNMENT, HEADER_FILL, HEADER_FONT


@dataclass(frozen=True)
class ImportColumn:
    """One importable column: ``key`` is the contract field (``benefits.co2_reduction_t`` for nested
    ones; ``enterprise_*`` are the bureau's per-row enterprise), ``kind`` how a cell becomes a value."""

    key: str
    kind: str  # text | code | int | number | money | bool | list
    zh: tuple[str, ...]
    en: tuple[str, ...] = ()
    #: for enum values: the label table (greenmatch.labels) whose Chinese or English names a cell may use
    #: instead of the key ("建设阶段" for construction, "绿色工厂" for green_factory); "instrument": plugin names
    names: str | None = None

    @property
    def label(self) -> str:
        return f"{self.zh[0]} {self.key}"


IMPORT_COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn("name", "text", ("项目名称", "名称", "项目"), ("project name", "project")),
    ImportColumn("description", "text", ("项目简介", "项目描述", "项目概况", "描述", "简介"), ("project description",)),
    ImportColumn("industry_code", "code", ("行业代码", "国民经济行业代码", "行业分类代码", "所属行业代码"),
                 ("industry", "gbt4754", "gb/t 4754", "industry code gb/t 4754")),
    ImportColumn("region_code", "code",
                 ("地区代码", "行政区划代码", "项目所在地区代码", "所在地区代码", "项目地区代码"),
                 ("region", "project region")),
    ImportColumn("categories", "list",
                 ("目录类别", "目录类别代码", "绿色类别", "类别代码", "目录代码", "绿色金融支持项目目录"),
                 ("category", "category codes", "catalogue codes", "catalogue categories")),
    ImportColumn("stage", "text", ("阶段", "项目阶段"), ("project stage",), names="stage"),
    ImportColumn("capacity_change", "text", ("产能变化", "产能影响", "对产能的影响"), ("capacity change",),
                 names="capacity_change"),
    ImportColumn("capacity_replacement_approved", "bool", ("产能置换方案已批准", "已批准产能置换方案"),
                 ("capacity replacement approved",)),
    ImportColumn("primary_fuel", "text", ("主要燃料", "燃料"), ("primary fuel", "fuel"), names="fuel"),
    ImportColumn("concession_end_year", "int", ("特许经营期届满年份", "特许经营到期年份"), ("concession end year",)),
    ImportColumn("commissioning_year", "int", ("投产年份", "投运年份", "建成年份"), ("commissioning",)),
    ImportColumn("total_investment_cny", "money", ("总投资", "项目总投资", "总投资额"), ("total investment",)),
    ImportColumn("financing_need_cny", "money", ("融资需求", "融资需求金额", "拟融资金额", "融资金额"),
                 ("financing need",)),
    ImportColumn("annual_revenue_cny", "money", ("年营业收入", "年收入", "预计年收入"), ("annual revenue", "revenue")),
    ImportColumn("annual_net_cash_flow_cny", "money", ("年净现金流", "年经营性净现金流"), ("annual net cash flow",)),
    ImportColumn("asset_value_cny", "money", ("资产价值", "资产估值", "资产评估值"), ("asset value",)),
    ImportColumn("is_concession", "bool", ("特许经营", "是否特许经营"), ("concession",)),
    ImportColumn("expected_irr_pct", "number", ("预期内部收益率", "内部收益率", "预期收益率"),
                 ("expected irr", "irr", "expected irr pct")),
    ImportColumn("benefits.energy_saving_tce", "number", ("年节能量", "节能量"),
                 ("energy saving tce", "energy saving")),
    ImportColumn("benefits.co2_reduction_t", "number",
                 ("年减排二氧化碳", "年二氧化碳减排量", "二氧化碳减排量", "年碳减排量", "碳减排量", "年减排量"),
                 ("co2 reduction t", "co2 reduction")),
    ImportColumn("benefits.renewable_generation_mwh", "number", ("年可再生能源发电量", "可再生能源发电量", "年发电量"),
                 ("renewable generation mwh", "renewable generation")),
    ImportColumn("benefits.water_saving_t", "number", ("年节水量", "节水量"), ("water saving t", "water saving")),
    ImportColumn("benefits.electricity_saving_mwh", "number", ("年节电量", "节电量"), ("electricity saving mwh",)),
    ImportColumn("benefits.carbon_sink_tco2", "number", ("年碳汇量", "碳汇量"), ("carbon sink tco2",)),
    ImportColumn("certifications", "list", ("资质认证", "认证资质", "绿色认证", "认证"), (), names="certification"),
    ImportColumn("collateral", "list", ("抵质押物", "可抵质押资产", "担保物", "抵押物"), (), names="collateral"),
    ImportColumn("risk_exposures", "list", ("风险敞口", "风险类型", "保险需求"), ("risks",), names="risk_exposure"),
    ImportColumn("compliance.eia_approved", "bool", ("环评批复", "已取得环评批复", "环评"), ("eia approved", "eia")),
    ImportColumn("compliance.eia_status", "text", ("环评状态", "环评情况"), ("eia status",), names="eia_status"),
    ImportColumn("compliance.pollutant_permit", "bool", ("排污许可证", "排污许可"), ("pollutant permit",)),
    ImportColumn("compliance.env_penalties_3y", "int", ("近三年环境处罚次数", "环境处罚次数"),
                 ("env penalties 3y", "environmental penalties")),
    ImportColumn("compliance.major_env_penalty_3y", "bool", ("近三年重大环境处罚", "重大环境处罚"),
                 ("major env penalty 3y", "major environmental penalty")),
    ImportColumn("compliance.largest_env_fine_cny", "money", ("近三年单笔最大环境罚款", "最大环境罚款"),
                 ("largest env fine",)),
    ImportColumn("preferred_instruments", "list", ("意向融资工具", "融资工具", "金融工具"), ("instruments",),
                 names="instrument"),
    ImportColumn("contact.name", "text", ("联系人", "联系人姓名"), ("contact name", "contact")),
    ImportColumn("contact.phone", "code", ("联系电话", "联系人电话", "电话", "手机"), ("contact phone", "phone")),
    ImportColumn("contact.email", "text", ("联系邮箱", "电子邮箱", "邮箱"), ("contact email", "email")),
    ImportColumn("enterprise_uscc", "code", ("统一社会信用代码", "企业统一社会信用代码", "信用代码"),
                 ("uscc", "enterprise uscc")),
    ImportColumn("enterprise_name", "text", ("企业名称", "企业", "申报企业"), ("enterprise name", "enterprise")),
    ImportColumn("enterprise_region_code", "code", ("企业所在地区代码", "企业地区代码"), ("enterprise region code",)),
)
ENTERPRISE_KEYS = ("enterprise_uscc", "enterprise_name", "enterprise_region_code")


def template_workbook() -> Workbook:
    """An empty import sheet: a header cell ``中文名\\nfield`` per column, code columns formatted as text."""
    wb = Workbook()
    ws = wb.active
    ws.title = "项目 Projects"
    ws.append([f"{c.zh[0]}\n{c.key}" for c in IMPORT_COLUMNS])
    for index, column in enumerate(IMPORT_COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = 40 if column.key in ("name", "description") else 18
        cell = ws.cell(row=1, column=index)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
        if column.kind in ("code", "list"):
            for row in range(2, 502):
                ws.cell(row=row, column=index).number_format = "@"
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "B2"
    help_ws = wb.create_sheet("填写说明 Help")
    help_ws.append(["列 Column", "说明 Notes"])
    help_ws.append(["categories / certifications / collateral / risk_exposures / preferred_instruments",
                    "多个值用“;”或“、”分隔 Separate several values with ; or 、"])
    help_ws.append(["compliance.*", "是/否、true/false、1/0"])
    help_ws.append(["*_cny", "金额单位：元（表头写“万元”时按万元换算）Amounts in yuan (a 万元 header is scaled)"])
    help_ws.append(["enterprise_uscc, enterprise_name",
                    "仅工信部门导入时填写 Bureaus only: the enterprise of each row"])
    help_ws.column_dimensions["A"].width = 60
    help_ws.column_dimensions["B"].width = 70
    return wb

