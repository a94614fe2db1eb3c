"""Factories for organisations and users, and a bearer-token helper. Use inside an app context."""

from __future__ import annotations

import itertools
from functools import cache

from greenmatch.accounts.models import Organization, User
from greenmatch.accounts.service import hash_password, issue_token
from greenmatch.codes import make_uscc
from greenmatch.db import utcnow
from greenmatch.extensions import db

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


@cache
def _hash(password: str) -> str:
    return hash_password(password)


def uscc(n: int | None = None) -> str:
    """A valid USCC: 91 (enterprise, company) + a region + a 9-character organisation code."""
    n = next(_seq) if n is None else n
    return make_uscc(f"91110108{n:09d}")


def organization(kind: str = "enterprise", *, region_code: str = "130700", verified: bool | None = None,
                 name: str | None = None, institution_type: str | None = None) -> Organization:
    n = next(_seq)
    if verified is None:
        verified = kind != "institution"
    org = Organization(
        kind=kind, name=name or f"{kind} {n}", region_code=region_code,
        uscc=uscc(n) if kind in ("enterprise", "institution") else None,
        institution_type=institution_type or ("bank" if kind == "institution" else None),
        verified=verified, verified_at=utcnow() if verified else None,
    )
    db.session.add(org)
    db.session.commit()
    return org


def user(role: str, org: Organization, *, email: str | None = None, password: str = PASSWORD) -> User:
    n = next(_seq)
    user = User(email=email or f"{role}{n}@example.cn", password_hash=_hash(password), role=role,
                organization=org, name=f"{role.title()} {n}")
    db.session.add(user)
    db.session.commit()
    return user


def enterprise_user(region_code: str = "130700", **kw) -> User:
    return user("enterprise", organization("enterprise", region_code=region_code, **kw))


def institution_user(verified: bool = True, region_code: str = "110000", **kw) -> User:
    return user("institution", organization("institution", region_code=region_code, verified=verified, **kw))


def bureau_user(region_code: str = "130000", **kw) -> User:
    return user("bureau", organization("bureau", region_code=region_code, **kw))


def admin_user() -> User:
    return user("admin", organization("platform", region_code="110000"))


def auth_headers(user: User) -> dict[str, str]:
    token, _ = issue_token(user)
    return {"Authorization": f"Bearer {token}"}
