"""lead counts by instrument: the partial count index also holds the instrument

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index('ix_matches_lead_counts', postgresql_where=sa.text('for_product'),
                            sqlite_where=sa.text('for_product'))
        batch_op.create_index('ix_matches_lead_counts', ['generation', 'institution_id', 'instrument'], unique=False,
                              postgresql_where=sa.text('for_product'), sqlite_where=sa.text('for_product'))


def downgrade():
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index('ix_matches_lead_counts', postgresql_where=sa.text('for_product'),
                            sqlite_where=sa.text('for_product'))
        batch_op.create_index('ix_matches_lead_counts', ['generation', 'institution_id'], unique=False,
                              postgresql_where=sa.text('for_product'), sqlite_where=sa.text('for_product'))
