"""one open engagement per lead: a partial unique index behind the service's check

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 11:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OPEN = "status IN ('requested', 'accepted', 'in_progress')"


def upgrade():
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.create_index('uq_engagements_open_pair', ['project_id', 'product_id'], unique=True,
                              postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade():
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_index('uq_engagements_open_pair', postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
