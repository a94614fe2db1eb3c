"""Matching benchmark: prints figures, asserts nothing.

    .venv/bin/python -m bench.matching                 # 100,000 projects x 2,000 products
    .venv/bin/python -m bench.matching --quick         # 10,000 x 500, small baseline
    .venv/bin/python -m bench.matching --projects 20000 --products 1000 --workers 1

Sections (each a function, so more can be added, e.g. the PostgreSQL leads page):

1. full re-match: wall and CPU time, peak memory (ru_maxrss of this process and of the largest
   worker), pairs considered / eligible, rows that would be written; and the cost of rendering the
   rows' reasons and paths (measured on a sample, extrapolated);
2. incremental re-match of one project against the precomputed product index: median and p95 over
   ``--incremental`` projects, with and without rendering, checked against the full run's rows;
3. per-pair baseline on a ``--baseline-projects`` x ``--baseline-products`` subset: time, speed
   ratio against the bulk engine on the same subset, identical top-K lists for every project;
4. :func:`leads_page_section`: the first page of ``GET /api/v1/leads`` on PostgreSQL, for an institution with
   a big share of 1,000,000 stored matches: a fresh database is created (``--pg-admin-url``), filled with
   COPY, analysed and dropped; the whole request (Flask test client, bearer token) and the SQL it issues,
   replayed on a raw connection, are timed (``--leads-repeat`` times; median and p95).

Targets on the 2-core reference machine: full 100k x 2k <= 60 s and <= 3 GB; incremental median
<= 50 ms; leads first page p95 <= 50 ms on PostgreSQL; baseline ratio >= 50x with identical top-20
lists. The machine may be shared: CPU times are printed beside wall times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import logging
import os
import random
import resource
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import INSTRUMENTS, SyntheticData, generate, validate_products
from greenmatch.instruments import load_plugins
from greenmatch.matching.baseline import baseline_run
from greenmatch.matching.engine import MatchEngine
from greenmatch.matching.settings import MatchSettings


def _cpu() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _peak_mb() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_maxrss / 1024, kids.ru_maxrss / 1024


def _line(label: str, value: Any) -> None:
    print(f"  {label:<44} {value}")


def _progress_bar(label: str) -> Any:
    state = {"last": -1}

    def tick(done: int, total: int) -> None:
        pct = 100 * done // max(total, 1)
        if pct != state["last"] and (pct % 10 == 0 or done == total):
            state["last"] = pct
            print(f"    {label}: {pct:3d}%", file=sys.stderr, flush=True)

    return tick


def full_rematch(engine: MatchEngine, data: SyntheticData, args: argparse.Namespace,
                 watch: set[int]) -> dict[str, Any]:
    """The full re-match, streamed as the CLI would persist it; keeps the top lists of ``watch``."""
    print(f"\n== Full re-match: {len(data.projects):,} projects x {len(data.products):,} products")
    cpu0 = _cpu()
    t0 = time.perf_counter()
    run = engine.start(data.projects, data.products, data.outcomes, chunk_size=args.chunk_size,
                       progress=_progress_bar("full run") if args.progress else None)
    rows = 0
    sample: list[Any] = []
    watched: dict[int, list[int]] = {}
    for batch in run:
        rows += len(batch.matches)
        if len(sample) < args.render_sample and batch.number % 7 == 0:
            sample.extend(batch.matches[: args.render_sample - len(sample)])
        for m in batch.matches:
            if m.project_rank is not None and m.project_id in watch:
                watched.setdefault(m.project_id, []).append(m.product_id)
    wall = time.perf_counter() - t0
    cpu1 = _cpu()
    stats = run.stats
    _line("wall time", f"{wall:.1f} s (index {stats.seconds['index']:.1f}, score {stats.seconds['score']:.1f}, "
                       f"explain {stats.seconds['explain']:.1f})")
    _line("CPU time (this process / workers)", f"{cpu1[0] - cpu0[0]:.1f} s / {cpu1[1] - cpu0[1]:.1f} s "
                                               f"({stats.workers} worker process(es))")
    main_mb, child_mb = _peak_mb()
    _line("peak memory (ru_maxrss, this / largest worker)", f"{main_mb:,.0f} MB / {child_mb:,.0f} MB")
    _line("pairs considered", f"{stats.pairs_considered:,}")
    _line("pairs passing the hard rules", f"{stats.pairs_eligible:,} "
                                          f"({stats.pairs_eligible / max(stats.pairs_considered, 1):.1%})")
    _line("rows that would be written", f"{rows:,} (project top-{engine.settings.project_top_k}: "
                                        f"{stats.project_side:,}; product top-{engine.settings.product_top_l}: "
                                        f"{stats.product_side:,})")
    t = time.perf_counter()
    for m in sample:
        m.reasons, m.paths  # noqa: B018 - rendering is the point
    per_row = (time.perf_counter() - t) / max(len(sample), 1)
    _line("rendering reasons + paths (sample)", f"{per_row * 1e6:.0f} µs/row over {len(sample):,} rows "
                                                f"-> {per_row * rows:.0f} s for all rows if done at once")
    return {"wall_s": wall, "rows": rows, "stats": stats.as_dict(), "watched": watched, "peak_mb": main_mb,
            "child_peak_mb": child_mb}


def incremental(engine: MatchEngine, data: SyntheticData, watch: list[int], full: dict[int, list[int]],
                index: Any) -> dict[str, Any]:
    """``match_project`` for one project at a time against the precomputed product index."""
    print(f"\n== Incremental re-match of one project ({len(watch)} projects, {len(index):,} products)")
    by_id = {p.id: p for p in data.projects}
    plain, rendered, same = [], [], 0
    for pid in watch:
        project = by_id[pid]
        t = time.perf_counter()
        matches = engine.match_project(project, index)
        plain.append(time.perf_counter() - t)
        for m in matches:
            m.reasons, m.paths  # noqa: B018
        rendered.append(time.perf_counter() - t)
        same += [m.product_id for m in matches] == full.get(pid, [])
    q = statistics.quantiles
    _line("match_project median / p95", f"{statistics.median(plain) * 1e3:.1f} ms / {q(plain, n=20)[18] * 1e3:.1f} ms")
    _line("... with reasons + paths rendered", f"{statistics.median(rendered) * 1e3:.1f} ms / "
                                               f"{q(rendered, n=20)[18] * 1e3:.1f} ms")
    _line("equal to the full run's row", f"{same} of {len(watch)}")
    return {"median_ms": statistics.median(plain) * 1e3, "same": same}


def product_side(engine: MatchEngine, data: SyntheticData, n_projects: int, n: int = 20) -> None:
    """``match_product`` (publish / edit) against a precomputed project index."""
    projects = data.projects[:n_projects]
    t = time.perf_counter()
    project_index = engine.project_index(projects)
    built = time.perf_counter() - t
    times = []
    for product in data.products[:n]:
        t = time.perf_counter()
        engine.match_product(product, project_index)
        times.append(time.perf_counter() - t)
    print(f"\n== Incremental match of one product against {len(projects):,} projects")
    _line("project index build (once)", f"{built:.1f} s")
    _line("match_product median / max", f"{statistics.median(times) * 1e3:.1f} ms / {max(times) * 1e3:.1f} ms")


def baseline_section(engine: MatchEngine, plugins: Any, data: SyntheticData, args: argparse.Namespace) -> None:
    n_p, n_q = args.baseline_projects, args.baseline_products
    projects, products = data.projects[:n_p], data.products[:n_q]
    kept = {q.id for q in products}
    ids = {p.id for p in projects}
    outcomes = [o for o in data.outcomes if o.product_id in kept and o.project_id in ids]
    print(f"\n== Per-pair baseline vs bulk engine on {len(projects):,} x {len(products):,}")

    def bulk_run() -> tuple[float, Any]:
        t = time.perf_counter()
        result = engine.run(projects, products, outcomes, chunk_size=args.chunk_size)
        return time.perf_counter() - t, result

    # the engine takes well under a second and the baseline many: the engine is timed several times,
    # before and after the baseline, so a slow spell of a shared machine does not decide the ratio
    bulk_times: list[float] = []
    for _ in range(args.bulk_repeat):
        seconds, result = bulk_run()
        bulk_times.append(seconds)
    t = time.perf_counter()
    base = baseline_run(plugins, projects, products, outcomes, engine.settings)
    slow = time.perf_counter() - t
    for _ in range(args.bulk_repeat):
        bulk_times.append(bulk_run()[0])
    bulk = statistics.median(bulk_times)
    k = engine.settings.project_top_k
    bulk_top, base_top = result.top_products(), base.top_products(k)
    differ = [p.id for p in projects if bulk_top.get(p.id, []) != base_top.get(p.id, [])]
    worst = max((abs(m.score - base.scores[m.key]) for m in result), default=0.0)
    _line("bulk engine (median of runs)", f"{bulk:.3f} s ({len(bulk_times)} runs, {min(bulk_times):.3f} to "
                                          f"{max(bulk_times):.3f} s; workers {result.stats.workers})")
    _line("per-pair baseline", f"{slow:.1f} s ({base.pairs_considered:,} pairs, {len(base.scores):,} eligible)")
    _line("speed ratio", f"{slow / bulk:.0f}x")
    _line(f"identical top-{k} for every project", f"{not differ} ({len(differ)} of {len(projects)} differ)")
    _line("largest score difference", f"{worst:.2e}")


# ---------------------------------------------------------------------------------------------
# Leads first page on PostgreSQL
# ---------------------------------------------------------------------------------------------
def _p(values: list[float], q: int) -> float:
    """The q-th percentile (ms) of durations in seconds."""
    return statistics.quantiles(values, n=100)[q - 1] * 1e3 if len(values) > 1 else values[0] * 1e3


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


def _fill_leads_database(raw: Any, data: SyntheticData, engine: MatchEngine, n_matches: int, own_leads: int,
                         seed: int) -> tuple[int, int, dict[str, int]]:
    """Organisations, approved projects (and their categories), published products and ``n_matches``
    current-generation matches; the benchmarked institution (the one with most products, given more
    when it has fewer than 40) gets ``own_leads`` leads. Returns (institution id, its leads, row counts)."""
    from greenmatch.codes import make_uscc

    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    counts: dict[str, int] = {}
    kinds = {"green_credit": "bank", "green_bond": "securities", "reits": "securities", "green_insurance": "insurer",
             "green_fund": "fund_manager"}
    institutions = {p.institution_id: (p.institution_name, kinds[p.instrument]) for p in data.products}
    per_institution: dict[int, list[Any]] = {}
    for product in data.products:
        per_institution.setdefault(product.institution_id, []).append(product)
    bench_inst = max(per_institution, key=lambda k: (len(per_institution[k]), -k))
    owner = {p.id: p.institution_id for p in data.products}
    others = [p for p in data.products if owner[p.id] != bench_inst]
    for product in rng.sample(others, max(0, 40 - len(per_institution[bench_inst]))):
        owner[product.id] = bench_inst
    enterprise_base = max(institutions) + 1
    n_enterprises = max(1, len(data.projects) // 5)

    def enterprise_of(pid: int) -> int:
        return enterprise_base + pid % n_enterprises

    def orgs() -> Iterator[tuple]:
        for iid, (org_name, kind) in institutions.items():
            yield (iid, "institution", org_name, make_uscc(f"91110000{iid:09d}"), "110000", kind, True, now, now, now)
        regions = {}
        for p in data.projects:
            regions.setdefault(enterprise_of(p.id), p.region_code)
        for eid, region in regions.items():
            yield (eid, "enterprise", f"企业{eid}", make_uscc(f"92{region}{eid:09d}"), region, None, True, now, now,
                   now)

    counts["organizations"] = _copy(raw, "organizations", (
        "id", "kind", "name", "uscc", "region_code", "institution_type", "verified", "verified_at", "created_at",
        "updated_at"), orgs())

    def projects() -> Iterator[tuple]:
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

    counts["projects"] = _copy(raw, "projects", (
        "id", "enterprise_id", "status", "version", "name", "description", "industry_code", "region_code", "stage",
        "commissioning_year", "total_investment_cny", "financing_need_cny", "annual_revenue_cny",
        "annual_net_cash_flow_cny", "asset_value_cny", "is_concession", "expected_irr_pct", "benefits",
        "certifications", "collateral", "risk_exposures", "compliance", "preferred_instruments", "contact",
        "submitted_at", "decided_at", "green_score", "label", "flagged", "created_at", "updated_at"), projects())
    counts["project_categories"] = _copy(raw, "project_categories", ("project_id", "code", "source", "effective"), (
        (p.id, code, "declared", True) for p in data.projects for code in p.categories))
    counts["products"] = _copy(raw, "products", (
        "id", "institution_id", "instrument", "name", "description", "params", "status", "version", "published_at",
        "created_at", "updated_at"), (
        (q.id, owner[q.id], q.instrument, q.name, "", json.dumps(dict(q.params), ensure_ascii=False), "published", 1,
         now, now, now) for q in data.products))

    # matches: the benchmarked institution's products share own_leads leads; the other products the rest
    pool = _explanation_pool(engine, data)
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

    def matches() -> Iterator[tuple]:
        for pid, i in pairs:
            q, _, own = plan[i]
            score = round(min(0.99, max(0.05, rng.betavariate(5, 4))), 6)
            for_project = rng.random() < (0.3 if own else 0.95)
            for_product = own or not for_project or rng.random() < 0.1
            reasons, paths = rng.choice(pool.get(q.instrument) or next(iter(pool.values())))
            yield (1, pid, q.id, owner[q.id], q.instrument, score, for_project, for_product, reasons, paths, now)

    counts["matches"] = _copy(raw, "matches", (
        "generation", "project_id", "product_id", "institution_id", "instrument", "score", "for_project",
        "for_product", "reasons", "paths", "created_at"), matches())
    return bench_inst, own_leads, counts


def _timed(fn: Callable[[], Any], repeat: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _time_leads_page(app: Any, token: str, args: argparse.Namespace, state: str, repeat: int,
                     query: str = "") -> None:
    """Time the first page of the leads (``query``: more filters), whole request and its SQL replayed
    on a raw connection."""
    from sqlalchemy import event

    from greenmatch.extensions import db

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/leads?page=1&per_page={args.leads_per_page}{query}"
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            first = client.get(path, headers=headers)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
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
    _line("its SQL alone, replayed: median / p95", f"{statistics.median(total) * 1e3:.1f} ms / {_p(total, 95):.1f} ms "
                                                   f"({len(statements)} statements)")
    for i in sorted(range(len(each)), key=lambda i: -statistics.median(each[i]))[:2]:
        words = " ".join(statements[i][0].split())
        what = "the count" if "count(" in words else "the page" if "LIMIT" in words else words[:40] + "..."
        _line(f"  of which statement {i + 1} ({what})", f"{statistics.median(each[i]) * 1e3:.2f} ms / "
                                                        f"{_p(each[i], 95):.2f} ms")


def leads_page_section(args: argparse.Namespace, data: SyntheticData, engine: MatchEngine) -> None:
    """The first page of ``GET /api/v1/leads`` on PostgreSQL, whole request and SQL alone (see the module
    docstring). Skipped with a message when PostgreSQL is not reachable."""
    if args.no_leads:
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from greenmatch import create_app
    from greenmatch.accounts.models import Role, User
    from greenmatch.accounts.service import issue_token
    from greenmatch.extensions import db

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
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load(workers: int, chunk_size: int | None) -> tuple[MatchEngine, dict[str, Any]]:
    result = load_plugins(INSTRUMENTS)
    if result.errors:
        print(f"plugins that failed to load: {result.errors}")
    settings = MatchSettings(workers=workers, **({"chunk_size": chunk_size} if chunk_size else {}))
    return MatchEngine(result.plugins, settings), result.plugins


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=0, help="plugin worker processes (0: automatic)")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--incremental", type=int, default=200, help="projects for the incremental timing")
    parser.add_argument("--baseline-projects", type=int, default=5_000)
    parser.add_argument("--baseline-products", type=int, default=200)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--bulk-repeat", type=int, default=3, help="engine runs before and after the baseline")
    parser.add_argument("--render-sample", type=int, default=20_000)
    parser.add_argument("--progress", action="store_true", help="progress on stderr")
    parser.add_argument("--no-leads", action="store_true", help="skip the PostgreSQL leads-page section")
    parser.add_argument("--pg-admin-url", default=os.environ.get(
        "GREENMATCH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL database to connect to for creating (and dropping) the temporary one")
    parser.add_argument("--leads-matches", type=int, default=1_000_000, help="matches stored for the leads page")
    parser.add_argument("--leads-own", type=int, default=120_000, help="leads of the benchmarked institution")
    parser.add_argument("--leads-per-page", type=int, default=20)
    parser.add_argument("--leads-repeat", type=int, default=200, help="requests timed")
    parser.add_argument("--quick", action="store_true", help="10,000 x 500, baseline 1,000 x 100")
    args = parser.parse_args(argv)
    if args.quick:
        args.projects, args.products = 10_000, 500
        args.baseline_projects, args.baseline_products, args.incremental = 1_000, 100, 50
        args.leads_matches, args.leads_own, args.leads_repeat = 100_000, 12_000, 50

    engine, plugins = load(args.workers, args.chunk_size)
    print(f"plugins: {', '.join(plugins)}; settings: top-K {engine.settings.project_top_k}, "
          f"top-L {engine.settings.product_top_l}, chunk {args.chunk_size or engine.settings.chunk_size}")
    t = time.perf_counter()
    data = generate(args.projects, args.products, args.seed)
    print(f"synthetic data: {len(data.projects):,} projects, {len(data.products):,} products, "
          f"{len(data.outcomes):,} outcomes in {time.perf_counter() - t:.1f} s")
    # The synthetic data set lives to the end: moved out of the garbage collector's reach, so the timings
    # measure the engine and not collections re-scanning the benchmark's own millions of objects (a
    # service holds only what it loads for a run).
    gc.freeze()
    problems = validate_products(data.products, plugins)
    print(f"product params rejected by the plugins' schemas: {len(problems)}")

    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    watch = random.Random(args.seed).sample([p.id for p in data.projects], min(args.incremental, len(data.projects)))
    full = full_rematch(engine, data, args, set(watch))
    if watch:
        index = engine.product_index(data.products, data.outcomes, data.projects)
        incremental(engine, data, watch, full["watched"], index)
        product_side(engine, data, min(args.baseline_projects, len(data.projects)))
    if not args.no_baseline:
        baseline_section(engine, plugins, data, args)
    leads_page_section(args, data, engine)
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (other processes share the machine)")


if __name__ == "__main__":
    main()
