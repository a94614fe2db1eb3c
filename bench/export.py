"""Excel export benchmark: prints figures, asserts nothing.

    .venv/bin/python -m bench.export                      # 5,000 and 50,000 approved projects, SQLite file
    .venv/bin/python -m bench.export --sizes 1000 10000 --database postgresql+psycopg://postgres@127.0.0.1/bench

Seeds approved projects (``bench.synthetic``: real catalogue items, regions, industries; one project in
every 500 carries a control character and a formula-like name, as pasted text does) into a throw-away
database, then exports them through the same path ``GET /projects/export.xlsx`` takes (the request, as an
admin, with the test client): streamed query, write-only workbook, bytes. Seeding and exporting run in
separate processes, so the export process's peak resident memory is the export's own. For each size it prints
wall and CPU seconds, rows/s, the workbook's size and the export process's peak RSS before and after the
request, side by side so linearity shows: rows/s should stay flat as rows grow.

Target (issue #10): 50,000 rows in <= 15 s and <= 300 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

from sqlalchemy import insert, text

from bench.synthetic import make_project
from greenmatch import create_app
from greenmatch.accounts.models import Organization, OrgKind, Role, User
from greenmatch.catalog.models import Project, ProjectCategory, ProjectStatus
from greenmatch.codes import make_uscc
from greenmatch.extensions import db


def _seed(n: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    enterprises = [{"kind": OrgKind.enterprise, "name": f"合成企业{i:05d}有限公司",
                    "uscc": make_uscc(f"91110000MA{i:07d}"), "region_code": "110000", "verified": True}
                   for i in range(1, n // 20 + 2)]
    db.session.execute(insert(Organization), enterprises)
    org_ids = list(db.session.scalars(text("SELECT id FROM organizations WHERE kind = 'enterprise'")))
    projects, categories = [], []
    for pid in range(1, n + 1):
        facts = make_project(rng, pid)
        name = facts.name
        if pid % 500 == 0:
            name = "=HYPERLINK(\"http://x/\",\"点击\")" if pid % 1000 == 0 else f"{name}\x0b二期"
        projects.append({
            "id": pid, "enterprise_id": org_ids[pid % len(org_ids)], "status": ProjectStatus.approved,
            "name": name[:200], "description": facts.description, "industry_code": facts.industry_code,
            "region_code": facts.region_code, "stage": facts.stage,
            "total_investment_cny": Decimal(str(round(facts.total_investment_cny, 2))),
            "financing_need_cny": Decimal(str(round(facts.financing_need_cny, 2))),
            "green_score": rng.randint(40, 95), "label": rng.choice(["dark_green", "light_green", "yellow"]),
            "submitted_at": now, "decided_at": now, "created_at": now, "updated_at": now, "version": 1,
            "benefits": {}, "certifications": [], "collateral": [], "risk_exposures": [], "compliance": {},
            "preferred_instruments": [], "contact": {}, "is_concession": False, "flagged": False})
        categories.extend({"project_id": pid, "code": code, "source": "declared", "effective": True}
                          for code in facts.categories)
    for start in range(0, n, 5000):
        db.session.execute(insert(Project), projects[start:start + 5000])
    for start in range(0, len(categories), 10000):
        db.session.execute(insert(ProjectCategory), categories[start:start + 10000])
    db.session.commit()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _app(uri: str, size: int):
    return create_app({"SQLALCHEMY_DATABASE_URI": uri, "TESTING": True, "SECRET_KEY": "bench",
                       "EXPORT_MAX_ROWS": max(size, 50000)})


def seed_database(uri: str, size: int) -> str:
    """Fill the database (in its own process, so the export's memory is measured apart); the admin's token."""
    from greenmatch.accounts.service import issue_token

    app = _app(uri, size)
    with app.app_context():
        db.drop_all()
        db.create_all()
        _seed(size)
        org = Organization(kind=OrgKind.platform, name="平台运营", uscc=make_uscc("91110000MA9999999"),
                           region_code="110000", verified=True)
        admin = User(email="bench-admin@example.cn", role=Role.admin, organization=org, password_hash="x")
        db.session.add_all([org, admin])
        db.session.commit()
        return issue_token(admin)[0]


def export_once(uri: str, size: int, token: str) -> dict[str, float]:
    """One export request as an admin; seconds and the process's peak resident memory."""
    app = _app(uri, size)
    client = app.test_client()
    client.get("/healthz")  # warm: first request set-up is not the export's cost
    rss_before = _peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get("/api/v1/projects/export.xlsx", headers={"Authorization": f"Bearer {token}"})
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return {"rows": size, "seconds": seconds, "cpu_s": cpu, "rows_per_s": size / seconds, "bytes": len(response.data),
            "rss_before_mb": rss_before, "rss_peak_mb": _peak_rss_mb()}


def run(size: int, database: str | None) -> dict[str, float]:
    folder = tempfile.mkdtemp(prefix="gm-bench-export-")
    uri = database or f"sqlite:///{folder}/export.db"
    me = [sys.executable, "-m", "bench.export"]
    token = subprocess.run([*me, "--seed", uri, str(size)], check=True, capture_output=True, text=True,
                           env={**os.environ, "GREENMATCH_LOG_LEVEL": "WARNING"}).stdout.strip().splitlines()[-1]
    out = subprocess.run([*me, "--export", uri, str(size), token], check=True, capture_output=True, text=True,
                         env={**os.environ, "GREENMATCH_LOG_LEVEL": "WARNING"}).stdout.strip().splitlines()[-1]
    return json.loads(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--database", default=os.environ.get("GREENMATCH_BENCH_DATABASE_URL"),
                        help="SQLAlchemy URL of a database to fill and empty (default: a temporary SQLite file)")
    parser.add_argument("--seed", nargs=2, metavar=("URI", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--export", nargs=3, metavar=("URI", "N", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed:
        print(seed_database(args.seed[0], int(args.seed[1])))
        return
    if args.export:
        print(json.dumps(export_once(args.export[0], int(args.export[1]), args.export[2])))
        return
    print(f"Excel export, {'SQLite file' if not args.database else args.database.split('@')[-1]}; "
          f"python {sys.version.split()[0]}")
    print(f"{'rows':>8} {'seconds':>8} {'CPU s':>7} {'rows/s':>9} {'xlsx MB':>8} {'RSS before MB':>14} "
          f"{'RSS peak MB':>12}")
    results = []
    for size in args.sizes:
        r = run(size, args.database)
        results.append(r)
        print(f"{r['rows']:>8,} {r['seconds']:>8.2f} {r['cpu_s']:>7.2f} {r['rows_per_s']:>9,.0f} "
              f"{r['bytes'] / 2**20:>8.1f} {r['rss_before_mb']:>14.0f} {r['rss_peak_mb']:>12.0f}", flush=True)
    if len(results) > 1:
        first, last = results[0], results[-1]
        grow = last["rows"] / first["rows"]
        print(f"rows x{grow:.0f} -> time x{last['seconds'] / first['seconds']:.1f} (linear: x{grow:.0f}); "
              f"rows/s ratio {last['rows_per_s'] / first['rows_per_s']:.2f}")
    print("target: 50,000 rows in <= 15 s and <= 300 MB")


if __name__ == "__main__":
    main()
