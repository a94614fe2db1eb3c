"""Page forms. CSRF protects every POST (Flask-WTF's CSRFProtect, app-wide; templates send ``csrf_token``).

The login form is a Flask-WTF form. The larger forms (registration, the financing-need form, products,
reviews, engagements) are turned into the API's request shape here and validated by the *same*
marshmallow schemas the API uses, so errors are field-level and identical to the API's; the services
then apply their rules. Nothing here decides what is valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from .. import reference
from ..errors import flatten_messages
from ..facts import BENEFIT_KEYS
from .messages import field_errors

# A plain pattern: WTForms' Email() needs the optional email_validator package (not a dependency);
# the account service decides whether the address exists.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(_l("This field is required.")),
        Regexp(EMAIL_PATTERN, message=_l("Enter a valid e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("This field is required.")), Length(max=200)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("This field is required.")), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("This field is required.")), Length(max=200)])
    new_password_confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("This field is required.")), EqualTo("new_password", _l("The two passwords differ."))])


_LIST_SPLIT = re.compile(r"[\s,，、;；]+")
_INDEX = re.compile(r"\.\d+(?=\.|$)")


def split_list(text: str | None) -> list[str]:
    return [part for part in _LIST_SPLIT.split(text or "") if part]


def clean_number(text: str | None) -> str | None:
    """What the user typed, without thousands separators and spaces; None when blank."""
    value = (text or "").strip().replace(",", "").replace("，", "").replace(" ", "").replace("_", "")
    return value or None


def load(schema: Schema, payload: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Validate with an API schema: (data, {}) or (None, field errors for the page)."""
    try:
        return schema.load(payload), {}
    except ValidationError as exc:
        return None, page_errors(flatten_messages(exc.messages))


def form_version(form: Mapping[str, str]) -> int | None:
    """The ``version`` a form sends back (the services check it is current); None when absent or no number."""
    try:
        return int(form.get("version", ""))
    except ValueError:
        return None


def page_errors(fields: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
    """Field errors keyed by form field name: list indexes dropped (``categories.0`` -> ``categories``)."""
    out: dict[str, list[str]] = {}
    for name, messages in field_errors(fields).items():
        key = _INDEX.sub("", name)
        for message in messages:
            if message not in out.setdefault(key, []):
                out[key].append(message)
    return out


# -- regions ---------------------------------------------------------------------------------------------
@cache
def region_tree() -> dict[str, list[tuple[str, str, str | None]]]:
    """Province -> its cities for the pickers: prefecture-level cities, and for municipalities and
    province-administered counties (placeholder prefectures) the districts and counties below them."""
    regs = reference.regions()
    placeholders = reference._placeholder_regions()
    tree: dict[str, list[tuple[str, str, str | None]]] = {}
    for code, reg in sorted(regs.items()):
        if reg.level == "province":
            tree.setdefault(code, [])
    for code, reg in sorted(regs.items()):
        if reg.level == "prefecture" and code not in placeholders and reg.parent in tree:
            tree[reg.parent].append((code, reg.name_zh, reg.name_en))
        elif reg.level == "county" and reg.parent in placeholders:
            province = regs[reg.parent].parent
            if province in tree:
                tree[province].append((code, reg.name_zh, reg.name_en))
    return tree


def provinces() -> list[tuple[str, str, str | None]]:
    regs = reference.regions()
    return [(code, regs[code].name_zh, regs[code].name_en) for code in region_tree()]


def split_region(code: str | None) -> tuple[str, str]:
    """A region code -> (province, city) for the two pickers."""
    if not code or code not in reference.regions():
        return "", ""
    province = code[:2] + "0000"
    if code == province:
        return province, ""
    cities = {c for c, _, _ in region_tree().get(province, [])}
    if code in cities:
        return province, code
    for ancestor in reference.region_ancestors(code):
        if ancestor.code in cities:
            return province, ancestor.code
    return province, ""


def region_from(form: Mapping[str, str], prefix: str = "region") -> str | None:
    province = (form.get(f"{prefix}_province") or "").strip()
    city = (form.get(f"{prefix}_city") or "").strip()
    if city and (not province or city.startswith(province[:2])):
        return city
    return province or None


# -- registration -------------------------------------------------------------------------------------------
def registration_payload(form: MultiDict) -> dict[str, Any]:
    kind = (form.get("kind") or "").strip()
    org: dict[str, Any] = {"kind": kind, "name": (form.get("org_name") or "").strip(),
                           "uscc": (form.get("uscc") or "").strip(), "region_code": region_from(form)}
    if kind == "institution" and form.get("institution_type"):
        org["institution_type"] = form.get("institution_type")
    payload: dict[str, Any] = {"email": (form.get("email") or "").strip(), "password": form.get("password") or "",
                               "organization": {k: v for k, v in org.items() if v not in (None, "")}}
    if (form.get("name") or "").strip():
        payload["name"] = form.get("name").strip()
    return {k: v for k, v in payload.items() if v != ""}


# -- the financing-need form ------------------------------------------------------------------------------------
PROJECT_TEXT = ("name", "description", "industry_code", "stage", "capacity_change", "primary_fuel")
PROJECT_NUMBERS = ("commissioning_year", "total_investment_cny", "financing_need_cny", "annual_revenue_cny",
                   "annual_net_cash_flow_cny", "asset_value_cny", "expected_irr_pct", "concession_end_year")
PROJECT_FLAGS = ("is_concession", "capacity_replacement_approved")
PROJECT_LISTS = ("certifications", "collateral", "risk_exposures", "preferred_instruments")
COMPLIANCE_FLAGS = ("pollutant_permit", "major_env_penalty_3y")
CONTACT_FIELDS = ("name", "phone", "email")


def project_payload(form: MultiDict) -> dict[str, Any]:
    """The form as the body of ``POST /projects``; blank inputs are left out (required ones then say so)."""
    data: dict[str, Any] = {}
    for key in PROJECT_TEXT:
        value = (form.get(key) or "").strip()
        if value:
            data[key] = value
    region = region_from(form)
    if region:
        data["region_code"] = region
    for key in PROJECT_NUMBERS:
        value = clean_number(form.get(key))
        if value is not None:
            data[key] = value
    for key in PROJECT_FLAGS:
        data[key] = bool(form.get(key))
    data["categories"] = list(dict.fromkeys(split_list(form.get("categories"))))
    for key in PROJECT_LISTS:
        data[key] = [v for v in form.getlist(key) if v]
    benefits = {k: clean_number(form.get(f"benefits.{k}")) for k in BENEFIT_KEYS}
    data["benefits"] = {k: v for k, v in benefits.items() if v is not None}
    compliance: dict[str, Any] = {k: bool(form.get(f"compliance.{k}")) for k in COMPLIANCE_FLAGS}
    penalties = clean_number(form.get("compliance.env_penalties_3y"))
    compliance["env_penalties_3y"] = penalties if penalties is not None else 0
    eia = (form.get("compliance.eia_status") or "").strip()
    if eia:
        compliance["eia_status"] = eia  # the schema derives eia_approved from it
    else:
        compliance["eia_approved"] = False
    fine = clean_number(form.get("compliance.largest_env_fine_cny"))
    if fine is not None:
        compliance["largest_env_fine_cny"] = fine
    data["compliance"] = compliance
    contact = {k: (form.get(f"contact.{k}") or "").strip() for k in CONTACT_FIELDS}
    data["contact"] = {k: v for k, v in contact.items() if v}
    return data


def project_form_values(project: Any) -> dict[str, Any]:
    """A saved project as the form's values (for editing)."""
    values: dict[str, Any] = {k: getattr(project, k) for k in (*PROJECT_TEXT, "region_code")}
    for key in PROJECT_NUMBERS:
        value = getattr(project, key)
        values[key] = "" if value is None else _plain(value)
    for key in PROJECT_FLAGS:
        values[key] = bool(getattr(project, key))
    values["capacity_change"] = project.capacity_change or "none"
    values["primary_fuel"] = project.primary_fuel or ""
    values["categories"] = ", ".join(project.declared_categories)
    for key in PROJECT_LISTS:
        values[key] = list(getattr(project, key) or [])
    for key in BENEFIT_KEYS:
        value = (project.benefits or {}).get(key)
        values[f"benefits.{key}"] = "" if value is None else _plain(value)
    compliance = project.compliance or {}
    for key in COMPLIANCE_FLAGS:
        values[f"compliance.{key}"] = bool(compliance.get(key))
    values["compliance.env_penalties_3y"] = compliance.get("env_penalties_3y", 0)
    values["compliance.eia_status"] = compliance.get("eia_status") or ("approved" if compliance.get("eia_approved")
                                                                        else "")
    fine = compliance.get("largest_env_fine_cny")
    values["compliance.largest_env_fine_cny"] = "" if fine is None else _plain(fine)
    for key in CONTACT_FIELDS:
        values[f"contact.{key}"] = (project.contact or {}).get(key, "")
    values["version"] = project.version
    return values


def submitted_values(form: MultiDict) -> dict[str, Any]:
    """What the user typed, to show the form again unchanged."""
    values: dict[str, Any] = {k: form.get(k, "") for k in form}
    for key in PROJECT_LISTS:
        values[key] = form.getlist(key)
    for key in (*PROJECT_FLAGS, *(f"compliance.{k}" for k in COMPLIANCE_FLAGS)):
        values[key] = bool(form.get(key))
    values["region_code"] = region_from(form) or ""
    return values


def _plain(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number == int(number) else f"{number:g}"


# -- products (JSON-Schema driven) ----------------------------------------------------------------------------------
def schema_type(prop: Mapping[str, Any]) -> str:
    """The input kind for a JSON-Schema property: number, integer, boolean, enum, multi_enum, list, text."""
    types = prop.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    types = [t for t in types if t != "null"]
    kind = types[0] if types else "string"
    if kind == "array":
        items = prop.get("items") or {}
        return "multi_enum" if items.get("enum") else "list"
    if prop.get("enum"):
        return "enum"
    if kind in ("number", "integer", "boolean"):
        return kind
    return "text"


def product_params(schema: Mapping[str, Any], form: MultiDict) -> dict[str, Any]:
    """Form inputs -> product ``params`` following the plugin's JSON Schema (the plugin validates)."""
    params: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        field = f"params.{name}"
        kind = schema_type(prop)
        if kind in ("number", "integer"):
            value = clean_number(form.get(field))
            if value is not None:
                params[name] = value
        elif kind == "boolean":
            if form.get(f"{field}.present"):
                params[name] = bool(form.get(field))
        elif kind == "multi_enum":
            params[name] = [v for v in form.getlist(field) if v]
        elif kind == "list":
            chosen = [v for v in form.getlist(field) if v]
            params[name] = list(dict.fromkeys(v for item in chosen for v in split_list(item)))
        else:
            value = (form.get(field) or "").strip()
            if value:
                params[name] = value
    return params


def product_form_values(product: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"name": product.name, "description": product.description or "",
                              "version": product.version}
    for name, value in (product.params or {}).items():
        if isinstance(value, list):
            values[f"params.{name}"] = list(value)
        elif isinstance(value, bool):
            values[f"params.{name}"] = value
        elif isinstance(value, int | float):
            values[f"params.{name}"] = _plain(value)
        elif value is not None:
            values[f"params.{name}"] = value
    return values


def product_submitted_values(schema: Mapping[str, Any], form: MultiDict) -> dict[str, Any]:
    values: dict[str, Any] = {"name": form.get("name", ""), "description": form.get("description", ""),
                              "version": form.get("version", "")}
    for name, prop in (schema.get("properties") or {}).items():
        field = f"params.{name}"
        kind = schema_type(prop)
        if kind in ("multi_enum", "list"):
            values[field] = [v for v in form.getlist(field) if v]
        elif kind == "boolean":
            values[field] = bool(form.get(field))
        else:
            values[field] = form.get(field, "")
    return values
