"""run queue: full re-match runs are queued and executed by a worker that renews a lease

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 00:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_match_runs_status'), type_='check')
        batch_op.add_column(sa.Column('progress', sa.Float(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('worker', sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_match_runs_status'),
            "status IN ('queued', 'running', 'succeeded', 'failed', 'abandoned')")


def downgrade():
    op.execute("UPDATE match_runs SET status = 'failed' WHERE status IN ('queued', 'abandoned')")
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_match_runs_status'), type_='check')
        batch_op.drop_column('worker')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('progress')
        batch_op.create_check_constraint(batch_op.f('ck_match_runs_status'),
                                         "status IN ('running', 'succeeded', 'failed')")
