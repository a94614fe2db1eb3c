"""The bulk import of financing-need forms (the template: :mod:`.excel_template`; reading the sheet:
:mod:`.excel_read`; the export: :mod:`.excel_export`; what all share: :mod:`.sheets`).

Import (:func:`import_projects`): an ``.xlsx`` or ``.csv`` (UTF-8 with or without BOM; GB18030 as the
fallback Excel in Chinese locales writes) whose header names the contract's project fields in Chinese or
English (``项目名称``, ``name``, ``项目名称 Project name`` …, see
:data:`~greenmatch.catalog.excel_template.IMPORT_COLUMNS`). Every row is validated with the same
:class:`~greenmatch.catalog.schemas.ProjectInSchema` as ``POST /projects`` and created through
:mod:`greenmatch.catalog.service` in its own transaction: a bad row is reported with its spreadsheet row
number and reasons and never blocks or half-writes the good ones.

* an enterprise imports drafts of its own organisation;
* a bureau imports projects of enterprises named per row (``enterprise_uscc`` + ``enterprise_name``; an
  unknown USCC creates the enterprise), each in its jurisdiction; they arrive ``submitted`` (they still
  go through review).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from greenmatch import reference
from greenmatch.accounts.models import Organization, OrgKind, Role, User
from greenmatch.accounts.service import new_claim_code
from greenmatch.codes import region_covers, uscc_problem
from greenmatch.errors import ApiError, Forbidden
from greenmatch.extensions import db
from greenmatch.text import Msg, Name, render

from . import service
from .excel_read import Header, field_errors, find_header, read_upload, row_payload, too_many_rows
from .models import Project
from .schemas import ProjectInSchema
from .sheets import setting

log = logging.getLogger(__name__)

# Settings (app.config) with their defaults.
DEFAULT_IMPORT_MAX_ROWS = 5000  # IMPORT_MAX_ROWS: data rows per imported file


@dataclass
class RowResult:
    row: int
    status: str  # accepted | refused
    project_id: int | None = None
    project_status: str | None = None
    errors: dict[str, list[str]] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "status": self.status}
        if self.project_id is not None:
            out["project_id"] = self.project_id
            out["project_status"] = self.project_status
        if self.errors:  # message codes, rendered for the reader
            out["errors"] = {name: [render(m) for m in messages] for name, messages in self.errors.items()}
        return out


@dataclass
class ImportResult:
    rows: list[RowResult]
    ignored_columns: list[str]
    claim_codes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(r.status == "accepted" for r in self.rows)

    @property
    def refused(self) -> int:
        return sum(r.status == "refused" for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "refused": self.refused, "rows": [r.as_dict() for r in self.rows],
                "ignored_columns": self.ignored_columns, "claim_codes": self.claim_codes}


IMPORT_ROLES = (Role.enterprise, Role.bureau)


def import_projects(actor: User, filename: str | None, content: bytes) -> ImportResult:
    """Import the projects of an uploaded sheet, row by row (see the module docstring)."""
    if actor.role not in IMPORT_ROLES:
        raise Forbidden(Msg("Only enterprises (their own drafts) and bureaus (their jurisdiction) import projects"))
    max_rows = setting("IMPORT_MAX_ROWS", DEFAULT_IMPORT_MAX_ROWS)
    sheet = read_upload(filename, content, max_rows)
    header, data_rows = find_header(sheet)
    if len(data_rows) > max_rows:
        raise too_many_rows(max_rows)
    importer = _RowImporter(actor, filename, header)
    rows = [importer.run(number, cells) for number, cells in data_rows]
    return ImportResult(rows, header.ignored, importer.claim_codes)


class _RowImporter:
    def __init__(self, actor: User, filename: str | None, header: Header):
        self.actor = actor
        self.header = header
        self.actor_id = actor.id
        self.role = actor.role
        self.organization_id = actor.organization_id
        self.own_uscc = actor.organization.uscc
        self.jurisdiction = actor.organization.region_code if actor.role == Role.bureau else None
        self.bureau_name = actor.organization.name
        self.filename = (filename or "upload")[:100]
        self.schema = ProjectInSchema()
        self.claim_codes: list[dict[str, Any]] = []  # enterprises this import put on the platform, unclaimed
        self._new_claim: dict[str, Any] | None = None

    def _actor(self) -> User:
        # commits expire the actor; reload it once per row (cheap, and never a stale organisation)
        return db.session.get(User, self.actor_id) or self.actor

    def run(self, number: int, cells: list[Any]) -> RowResult:
        try:
            data, enterprise = row_payload(self.header, cells)
        except Exception:  # a cell no conversion foresaw refuses its own row, never the whole import
            log.exception("import row %s of %s: a cell could not be converted", number, self.filename)
            return RowResult(number, "refused",
                             errors={"_schema": [Msg("a cell could not be read; the error has been logged")]})
        try:
            loaded = self.schema.load(data)
        except ValidationError as exc:
            errors = field_errors(exc.messages)
            errors.update(self._enterprise_problems(enterprise, data)[0])
            return RowResult(number, "refused", errors=errors)
        problems, org = self._enterprise_problems(enterprise, loaded)
        problems.update(self._region_problems(loaded))
        if problems:
            return RowResult(number, "refused", errors=problems)
        try:
            project = self._create(number, loaded, enterprise, org)
        except ApiError as exc:
            db.session.rollback()
            return RowResult(number, "refused", errors=exc.fields or {"_schema": [exc.message]})
        except IntegrityError as exc:
            db.session.rollback()
            log.info("import row %s refused by the database: %s", number, exc.orig)
            return RowResult(number, "refused", errors={"_schema": [Msg("conflicts with existing data (duplicate)")]})
        except Exception:
            db.session.rollback()
            log.exception("import row %s of %s failed", number, self.filename)
            return RowResult(number, "refused",
                             errors={"_schema": [Msg("could not be saved; the error has been logged")]})
        finally:
            new_claim, self._new_claim = self._new_claim, None
        if new_claim is not None:  # committed with the row: shown once in this import's result
            self.claim_codes.append({**new_claim, "row": number})
        return RowResult(number, "accepted", project.id, project.status)

    # -- checks beyond the form -------------------------------------------------------------------
    def _enterprise_problems(self, enterprise: Mapping[str, Any],
                             data: Mapping[str, Any]) -> tuple[dict[str, list[str]], Organization | None]:
        """(the problems of the row's enterprise fields, the enterprise already on the platform if a bureau's row
        names one): the row is written with that organisation, not looked up again."""
        uscc = str(enterprise.get("enterprise_uscc") or "").strip().upper()
        if self.role == Role.enterprise:
            if uscc and uscc != (self.own_uscc or ""):
                return {"enterprise_uscc": [Msg("an enterprise imports projects of its own organisation only")]}, None
            return {}, None
        if not uscc:
            return {"enterprise_uscc": [
                Msg("required: the unified social credit code of the project's enterprise")]}, None
        problem = uscc_problem(uscc)
        if problem:
            return {"enterprise_uscc": [problem]}, None
        org = self._organization(uscc)
        if org is not None:
            if org.kind != OrgKind.enterprise:
                return {"enterprise_uscc": [
                    Msg("this USCC belongs to an organisation that is not an enterprise")]}, None
            if self.jurisdiction is not None and not region_covers(self.jurisdiction, org.region_code):
                # a bureau acts only for enterprises of its jurisdiction: another region's enterprise (registered
                # or named by another bureau) registers its projects itself or through its own bureau
                return {"enterprise_uscc": [Msg("this enterprise is registered outside your jurisdiction; it or its "
                                                "own bureau registers its projects")]}, None
            return {}, org
        errors: dict[str, list[str]] = {}
        name = str(enterprise.get("enterprise_name") or "").strip()
        if not 2 <= len(name) <= 200:
            errors["enterprise_name"] = [Msg("required (2-200 characters) for an enterprise not yet on the platform")]
        region = enterprise.get("enterprise_region_code")
        if region is not None and not reference.is_region(str(region)):
            errors["enterprise_region_code"] = [Msg("Unknown region code.")]
        elif (region is not None and self.jurisdiction is not None
              and not region_covers(self.jurisdiction, str(region))):
            errors["enterprise_region_code"] = [Msg("Region %(region)s is outside your jurisdiction %(jurisdiction)s",
                                                    region=Name("region", str(region)),
                                                    jurisdiction=Name("region", self.jurisdiction))]
        return errors, None

    def _region_problems(self, data: Mapping[str, Any]) -> dict[str, list[str]]:
        if self.jurisdiction is None or region_covers(self.jurisdiction, data["region_code"]):
            return {}
        return {"region_code": [Msg("Region %(region)s is outside your jurisdiction %(jurisdiction)s",
                                    region=Name("region", data["region_code"]),
                                    jurisdiction=Name("region", self.jurisdiction))]}

    @staticmethod
    def _organization(uscc: str) -> Organization | None:
        return db.session.scalar(select(Organization).where(Organization.uscc == uscc))

    # -- writing ----------------------------------------------------------------------------------
    def _create(self, number: int, data: dict[str, Any], enterprise: Mapping[str, Any],
                org: Organization | None) -> Project:
        """Write one row; ``org`` is the bureau's row's enterprise found by the checks (``None``: a new one)."""
        actor = self._actor()
        if self.role == Role.enterprise:
            return service.create_project(actor, data)
        if org is None:
            uscc = str(enterprise["enterprise_uscc"]).strip().upper()
            # not on the platform yet: an *unclaimed* organisation, unverified, that the company claims when it
            # registers with the one-time code shown to the bureau in this import's result (docs/claims.md)
            code, code_hash = new_claim_code()
            org = Organization(kind=OrgKind.enterprise.value, name=str(enterprise["enterprise_name"]).strip(),
                               uscc=uscc, region_code=str(enterprise.get("enterprise_region_code")
                                                          or data["region_code"]),
                               verified=False, claim_state="unclaimed", claim_code_hash=code_hash,
                               imported_by_id=self._actor().organization_id)
            db.session.add(org)
            db.session.flush()
            self._new_claim = {"uscc": uscc, "name": org.name, "organization_id": org.id, "claim_code": code}
        # the new enterprise (if any), the draft and its submission commit together (in _submit): a row that
        # fails on the way leaves nothing behind (run rolls the session back)
        project = service.create_project(actor, data, enterprise_id=org.id, commit=False)
        return self._submit(actor, project, number)

    def _submit(self, actor: User, project: Project, number: int) -> Project:
        """A bureau's import enters the review queue at once: the draft → submitted transition, recorded in
        the history with the bureau as actor (``service.submit_project`` is for the owning enterprise)."""
        note = f"{self.bureau_name}批量导入（{self.filename} 第{number}行） imported by the bureau"
        return service.submit_on_behalf(actor, project, note)
