"""Realistic request bodies, reused across the suite."""

from __future__ import annotations

import copy
from typing import Any

PV_PLANT = {
    "name": "张家口塞北50MW集中式光伏电站",
    "description": "在张家口坝上地区建设50兆瓦集中式光伏电站，配套升压站与储能，年发电约7.5万兆瓦时。",
    "industry_code": "4416",
    "region_code": "130700",
    "categories": ["4.2.2"],
    "stage": "construction",
    "commissioning_year": 2026,
    "total_investment_cny": 220_000_000,
    "financing_need_cny": 150_000_000,
    "annual_revenue_cny": 28_000_000,
    "benefits": {"renewable_generation_mwh": 75_000, "co2_reduction_t": 40_000},
    "certifications": ["high_tech"],
    "collateral": ["receivables", "green_power_certificates"],
    "risk_exposures": ["climate_catastrophe"],
    "compliance": {"eia_approved": True, "pollutant_permit": True, "env_penalties_3y": 0,
                   "major_env_penalty_3y": False},
    "preferred_instruments": ["green_credit"],
    "contact": {"name": "王经理", "phone": "+86 313 1234567", "email": "wang@zjk-pv.cn"},
}


def project(**overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(PV_PLANT)
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body
