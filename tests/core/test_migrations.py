"""Migrations build the models' schema on SQLite and PostgreSQL, and never drift from the models."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from greenmatch import create_app
from greenmatch.extensions import db
from support.databases import empty_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request, tmp_path):
    with empty_database(request.param, tmp_path) as url:
        yield url


def test_upgrade_builds_the_schema_of_the_models_without_drift(empty_db_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_db_url, "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
            tables = set(inspect(conn).get_table_names())
        db.engine.dispose()
    assert not diffs, f"models and migrations drift: {diffs}"
    assert set(db.metadata.tables) <= tables


def test_greenmatch_db_upgrade_command_on_an_empty_sqlite_file(tmp_path):
    env = dict(os.environ, GREENMATCH_DATABASE_URL=f"sqlite:///{tmp_path}/cli.db",
               GREENMATCH_INSTANCE_PATH=str(tmp_path))
    result = subprocess.run([str(Path(sys.executable).parent / "greenmatch"), "db", "upgrade"], env=env,
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/cli.db"})
    with app.app_context():
        assert "users" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_users_create_command(tmp_path):
    env = dict(os.environ, GREENMATCH_DATABASE_URL=f"sqlite:///{tmp_path}/cli.db",
               GREENMATCH_INSTANCE_PATH=str(tmp_path))
    cmd = str(Path(sys.executable).parent / "greenmatch")
    subprocess.run([cmd, "db", "upgrade"], env=env, check=True, capture_output=True)
    ok = subprocess.run([cmd, "users", "create", "--email", "hb@gxt.hebei.gov.cn", "--password", "long-enough-pw",
                         "--role", "bureau", "--org-name", "河北省工业和信息化厅", "--region", "130000"],
                        env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().isdigit()
    missing_region = subprocess.run([cmd, "users", "create", "--email", "b2@x.cn", "--password", "long-enough-pw",
                                     "--role", "bureau", "--org-name", "某工信局"], env=env, capture_output=True,
                                    text=True)
    assert missing_region.returncode != 0
    assert "工信部门账号须指定辖区" in missing_region.stderr
