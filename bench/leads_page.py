"""The leads-page section of ``bench/matching.py``: the first page of ``GET /api/v1/leads`` on PostgreSQL, for an
institution with a big share of the stored matches.

A fresh database is created (``--pg-admin-url``), filled with COPY (organisations, approved projects and their
categories, published products, ``--leads-matches`` current-generation matches whose reasons and paths are
rendered from real engine matches), analysed and dropped; the whole request (Flask test client, bearer token)
and the SQL it issues, replayed on a raw connection, are timed ``--leads-repeat`` times (median and p95), first
after ANALYZE only, then after VACUUM ANALYZE as a full run leaves the table, then filtered by instrument.
Skipped with a message when PostgreSQL is not reachable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import random
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench.synthetic import INSTRUMENTS, SyntheticData
from greenmatch.matching.engine import MatchEngine

ORGANIZATION_COLUMNS = ("id", "kind", "name", "uscc", "region_code", "institution_type", "verified", "verified_at",
                        "created_at", "updated_at")
PROJECT_COLUMNS = (
    "id", "enterprise_id", "status", "version", "name", "description", "industry_code", "region_code", "stage",
    "commissioning_year", "total_investment_cny", "financing_need_cny", "annual_revenue_cny",
    "annual_net_cash_flow_cny", "asset_value_cny", "is_concession", "expected_irr_pct", "benefits",
    "certifications", "collateral", "risk_exposures", "compliance", "preferred_instruments", "contact",
    "submitted_at", "decided_at", "green_score", "label", "flagged", "created_at", "updated_at")
PRODUCT_COLUMNS = ("id", "institution_id", "instrument", "name", "description", "params", "status", "version",
                   "published_at", "created_at", "updated_at")
MATCH_COLUMNS = ("generation", "project_id", "product_id", "institution_id", "instrument", "score", "for_project",
                 "for_product", "reasons", "paths", "created_at")
INSTITUTION_TYPES = {"green_credit": "bank", "green_bond": "securities", "reits": "securities",
                     "green_insurance": "insurer", "green_fund": "fund_manager"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-leads", action="store_true", help="skip the PostgreSQL leads-page section")
    parser.add_argument("--pg-admin-url", default=os.environ.get(
        "GREENMATCH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL database to connect to for creating (and dropping) the temporary one")
    parser.add_argument("--leads-matches", type=int, default=1_000_000, help="matches stored for the leads page")
    parser.add_argument("--leads-own", type=int, default=120_000, help="leads of the benchmarked institution")
    parser.add_argument("--leads-per-page", type=int, default=20)
    parser.add_argument("--leads-repeat", type=int, default=200, help="requests timed")


def _line(label: str, value: Any) -> None:  # the layout of bench/matching.py's figures
    print(f"  {label:<44} {value}")


def _p(values: list[float], q: int) -> float:
    """The q-th percentile (ms) of durations in seconds."""
    return statistics.quantiles(values, n=100)[q - 1] * 1e3 if len(values) > 1 else values[0] * 1e3


def _timed(fn: Callable[[], Any], repeat: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


# ---------------------------------------------------------------------------------------------
# Filling the database
# ---------------------------------------------------------------------------------------------
def _copy(raw: Any, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY rows into a table through the psycopg connection under a SQLAlchemy raw connection."""
    n = 0
    with raw.driver_connection.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    raw.driver_connection.commit()
    return n


def _explanation_pool(engine: MatchEngine, data: SyntheticData, n_projects: int = 300) -> dict[str, list[tuple]]:
    """(reasons JSON, paths JSON) of real matches, per instrument, rendered as the service stores them."""
    from greenmatch.matching.service import match_row

    sample = data.projects[:: max(1, len(data.projects) // n_projects)][:n_projects]
    institution_of = {p.id: p.institution_id for p in data.products}
    pool: dict[str, list[tuple]] = {}
    for m in engine.run(sample, data.products):
        row = match_row(m, 1, institution_of, for_project=True, for_product=True)
        pool.setdefault(m.instrument, []).append((json.dumps(row["reasons"], ensure_ascii=False),
                                                 json.dumps(row["paths"], ensure_ascii=False)))
    return pool


def _owners(data: SyntheticData, rng: random.Random) -> tuple[int, dict[int, int]]:
    """(the benchmarked institution: the one with most products, given more when it has fewer than 40,
    the institution of every product)."""
    per_institution: dict[int, list[Any]] = {}
    for product in data.products:
        per_institution.setdefault(product.institution_id, []).append(product)
    bench_inst = max(per_institution, key=lambda k: (len(per_institution[k]), -k))
    owner = {p.id: p.institution_id for p in data.products}
    others = [p for p in data.products if owner[p.id] != bench_inst]
    for product in rng.sample(others, max(0, 40 - len(per_institution[bench_inst]))):
        owner[product.id] = bench_inst
    return bench_inst, owner


def _organization_rows(data: SyntheticData, enterprise_of: Callable[[int], int], now: dt.datetime) -> Iterator[tuple]:
    from greenmatch.codes import make_uscc

    institutions = {p.institution_id: (p.institution_name, INSTITUTION_TYPES[p.instrument]) for p in data.products}
    for iid, (org_name, kind) in institutions.items():
        yield (iid, "institution", org_name, make_uscc(f"91110000{iid:09d}"), "110000", kind, True, now, now, now)
    regions = {}
    for p in data.projects:
        regions.setdefault(enterprise_of(p.id), p.region_code)
    for eid, region in regions.items():
        yield (eid, "enterprise", f"企业{eid}", make_uscc(f"92{region}{eid:09d}"), region, None, True, now, now, now)


def _project_rows(data: SyntheticData, enterprise_of: Callable[[int], int], rng: random.Random,
                  now: dt.datetime) -> Iterator[tuple]:
    for p in data.projects:
        score = rng.randint(40, 95)
        yield (p.id, enterprise_of(p.id), "approved", 1, p.name, p.description, p.industry_code, p.region_code,
               p.stage, p.commissioning_year, p.total_investment_cny, p.financing_need_cny, p.annual_revenue_cny,
               p.annual_net_cash_flow_cny, p.asset_value_cny, p.is_concession, p.expected_irr_pct,
               json.dumps(dict(p.benefits)), json.dumps(list(p.certifications)), json.dumps(list(p.collateral)),
               json.dumps(list(p.risk_exposures)), json.dumps(dict(p.compliance)),
               json.dumps(list(p.preferred_instruments)),
               json.dumps({"name": "联系人", "phone": f"138{p.id:08d}"[:11], "email": f"p{p.id}@example.com"}),
               now, now, score, "dark_green" if score >= 80 else "light_green" if score >= 60 else "yellow",
               False, now, now)


def _match_plan(data: SyntheticData, owner: dict[int, int], bench_inst: int, n_matches: int, own_leads: int,
                rng: random.Random) -> tuple[list[tuple[Any, int, bool]], list[tuple[int, int]], int]:
    """(per product: (product, its number of matches, whether it is the benchmarked institution's),
    the (project id, plan index) pairs in project order, the benchmarked institution's leads)."""
    mine = [q for q in data.products if owner[q.id] == bench_inst]
    rest = [q for q in data.products if owner[q.id] != bench_inst]
    own_leads = min(own_leads, n_matches, len(mine) * len(data.projects))
    project_ids = [p.id for p in data.projects]
    n_ids = len(project_ids)
    plan = [(q, min(n_ids, own_leads // len(mine) + (i < own_leads % len(mine))), True) for i, q in enumerate(mine)]
    own_leads = sum(n for _, n, _ in plan)
    left = n_matches - own_leads
    plan += [(q, min(n_ids, left // len(rest) + (i < left % len(rest))), False) for i, q in enumerate(rest)]
    # a full run writes project by project: an institution's rows lie all over the table
    pairs = sorted((pid, i) for i, (q, n, _) in enumerate(plan) for pid in rng.sample(project_ids, n))
    return plan, pairs, own_leads


def _match_rows(plan: list[tuple[Any, int, bool]], pairs: list[tuple[int, int]], owner: dict[int, int],
                pool: dict[str, list[tuple]], rng: random.Random, now: dt.datetime) -> Iterator[tuple]:
    for pid, i in pairs:
        q, _, own = plan[i]
        score = round(min(0.99, max(0.05, rng.betavariate(5, 4))), 6)
        for_project = rng.random() < (0.3 if own else 0.95)
        for_product = own or not for_project or rng.random() < 0.1
        reasons, paths = rng.choice(pool.get(q.instrument) or next(iter(pool.values())))
        yield (1, pid, q.id, owner[q.id], q.instrument, score, for_project, for_product, reasons, paths, now)


def _fill_leads_database(raw: Any, data: SyntheticData, engine: MatchEngine, n_matches: int, own_leads: int,
                         seed: int) -> tuple[int, int, dict[str, int]]:
    """Organisations, approved projects (and their categories), published products and ``n_matches``
    current-generation matches; the benchmarked institution (the one with most products, given more
    when it has fewer than 40) gets ``own_leads`` leads. Returns (institution id, its leads, row counts)."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    bench_inst, owner = _owners(data, rng)
    enterprise_base = max(p.institution_id for p in data.products) + 1
    n_enterprises = max(1, len(data.projects) // 5)

    def enterprise_of(pid: int) -> int:
        return enterprise_base + pid % n_enterprises

    counts = {"organizations": _copy(raw, "organizations", ORGANIZATION_COLUMNS,
                                     _organization_rows(data, enterprise_of, now))}
    counts["projects"] = _copy(raw, "projects", PROJECT_COLUMNS, _project_rows(data, enterprise_of, rng, now))
    counts["project_categories"] = _copy(raw, "project_categories", ("project_id", "code", "source", "effective"), (
        (p.id, code, "declared", True) for p in data.projects for code in p.categories))
    counts["products"] = _copy(raw, "products", PRODUCT_COLUMNS, (
        (q.id, owner[q.id], q.instrument, q.name, "", json.dumps(dict(q.params), ensure_ascii=False), "published", 1,
         now, now, now) for q in data.products))
    # matches: the benchmarked institution's products share own_leads leads; the other products the rest
    pool = _explanation_pool(engine, data)
    plan, pairs, own_leads = _match_plan(data, owner, bench_inst, n_matches, own_leads, rng)
    counts["matches"] = _copy(raw, "matches", MATCH_COLUMNS, _match_rows(plan, pairs, owner, pool, rng, now))
    return bench_inst, own_leads, counts


# ---------------------------------------------------------------------------------------------
# Timing the page
# ---------------------------------------------------------------------------------------------
def _first_request(app: Any, client: Any, path: str, headers: dict[str, str]) -> tuple[Any, list[tuple[str, Any]]]:
    """The first request of the page, and the SQL statements (with parameters) it issued."""
    from sqlalchemy import event

    from greenmatch.extensions import db

    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            first = client.get(path, headers=headers)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    return first, statements


def _replay(app: Any, statements: list[tuple[str, Any]], repeat: int) -> tuple[list[float], list[list[float]]]:
    """The statements replayed on a raw connection: (durations of all, durations of each)."""
    from greenmatch.extensions import db

    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cur = raw.driver_connection.cursor()
            each: list[list[float]] = [[] for _ in statements]

            def replay() -> None:
                for i, (statement, parameters) in enumerate(statements):
                    t = time.perf_counter()
                    cur.execute(statement, parameters)
                    if cur.description:
                        cur.fetchall()
                    each[i].append(time.perf_counter() - t)

            total = _timed(replay, repeat)
            each = [values[-repeat:] for values in each]
            raw.driver_connection.rollback()
            cur.close()
        finally:
            raw.close()
    return total, each


def _time_leads_page(app: Any, token: str, args: argparse.Namespace, state: str, repeat: int,
                     query: str = "") -> None:
    """Time the first page of the leads (``query``: more filters), whole request and its SQL replayed
    on a raw connection."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/leads?page=1&per_page={args.leads_per_page}{query}"
    first, statements = _first_request(app, client, path, headers)
    print(f"  -- {state}")
    if first.status_code != 200:
        print(f"  GET {path} answered {first.status_code}: {first.get_data(as_text=True)[:300]}")
        return
    body = first.get_json()
    _line("first page", f"{len(body['items'])} items of total {body['total']:,} "
                        f"({len(first.get_data()) / 1024:.0f} KiB of JSON; {len(statements)} SQL statements)")

    def request() -> None:
        response = client.get(path, headers=headers)
        assert response.status_code == 200

    times = _timed(request, repeat)
    _line("GET /api/v1/leads first page: median / p95",
          f"{statistics.median(times) * 1e3:.1f} ms / {_p(times, 95):.1f} ms (whole request, x{repeat})")
    total, each = _replay(app, statements, repeat)
    _line("its SQL alone, replayed: median / p95", f"{statistics.median(total) * 1e3:.1f} ms / {_p(total, 95):.1f} ms "
                                                   f"({len(statements)} statements)")
    for i in sorted(range(len(each)), key=lambda i: -statistics.median(each[i]))[:2]:
        words = " ".join(statements[i][0].split())
        what = "the count" if "count(" in words else "the page" if "LIMIT" in words else words[:40] + "..."
        _line(f"  of which statement {i + 1} ({what})", f"{statistics.median(each[i]) * 1e3:.2f} ms / "
                                                        f"{_p(each[i], 95):.2f} ms")


# ---------------------------------------------------------------------------------------------
# The section
# ---------------------------------------------------------------------------------------------
def _fill(app: Any, args: argparse.Namespace, data: SyntheticData, engine: MatchEngine) -> str:
    """Create the schema, fill and analyse it; prints what it holds and returns the benchmarked
    institution's bearer token."""
    from sqlalchemy import text

    from greenmatch.accounts.models import Role, User
    from greenmatch.accounts.service import issue_token
    from greenmatch.extensions import db

    t = time.perf_counter()
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:  # the two states timed below stay as they are
            conn.execute(text("ALTER TABLE matches SET (autovacuum_enabled = false)"))
        raw = db.engine.raw_connection()
        try:
            inst_id, own, counts = _fill_leads_database(raw, data, engine, args.leads_matches, args.leads_own,
                                                        args.seed)
            with raw.driver_connection.cursor() as cur:
                cur.execute("INSERT INTO matching_state (id, current_generation, next_generation) VALUES (1, 1, 2)")
            raw.driver_connection.commit()
        finally:
            raw.close()
        user = User(email="bench@example.com", password_hash="-", name="bench", role=Role.institution,
                    organization_id=inst_id)
        db.session.add(user)
        db.session.commit()
        token, _ = issue_token(user)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        db.session.remove()
    _line("database filled (COPY) and analysed", f"{time.perf_counter() - t:.1f} s: " + ", ".join(
        f"{k} {v:,}" for k, v in counts.items()))
    _line("benchmarked institution", f"id {inst_id}: {own:,} of its leads stored")
    return token


def _time_states(app: Any, token: str, args: argparse.Namespace) -> None:
    """The page after ANALYZE only, after VACUUM ANALYZE, and filtered by instrument."""
    from sqlalchemy import text

    from greenmatch.extensions import db

    access_log = logging.getLogger("greenmatch.access")
    level = access_log.level
    access_log.setLevel(logging.WARNING)  # one line per request otherwise
    try:
        _time_leads_page(app, token, args, "after ANALYZE only (no vacuum yet: every count reads the table)",
                         repeat=min(args.leads_repeat, 20))
        with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) matches"))
        _time_leads_page(app, token, args, "after VACUUM ANALYZE, as a full run leaves the table "
                                           "(runs._vacuum_matches)", repeat=args.leads_repeat)
        _time_leads_page(app, token, args, "the same, filtered by instrument (green credit)",
                         repeat=args.leads_repeat, query="&instrument=green_credit")
    finally:
        access_log.setLevel(level)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def leads_page_section(args: argparse.Namespace, data: SyntheticData, engine: MatchEngine) -> None:
    """The first page of ``GET /api/v1/leads`` on PostgreSQL, whole request and SQL alone (see the module
    docstring). Skipped with a message when PostgreSQL is not reachable."""
    if args.no_leads:
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from greenmatch import create_app

    name = f"gm_bench_{os.getpid()}_{secrets.token_hex(4)}"
    print(f"\n== Leads first page on PostgreSQL ({args.leads_matches:,} stored matches, temporary database {name})")
    admin = create_engine(args.pg_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        print(f"  PostgreSQL not reachable at {make_url(args.pg_admin_url).host}: skipped ({type(exc).__name__})")
        admin.dispose()
        return
    try:
        url = make_url(args.pg_admin_url).set(database=name).render_as_string(hide_password=False)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTRUMENTS": list(INSTRUMENTS)})
        token = _fill(app, args, data, engine)
        _time_states(app, token, args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
