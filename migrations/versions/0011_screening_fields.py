"""project fields that decide screening (api.md section 5): capacity change, replacement plan,
concession end year, primary fuel

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 00:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity_change', sa.String(length=20), nullable=False,
                                      server_default='none'))
        batch_op.add_column(sa.Column('capacity_replacement_approved', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('concession_end_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('primary_fuel', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('primary_fuel')
        batch_op.drop_column('concession_end_year')
        batch_op.drop_column('capacity_replacement_approved')
        batch_op.drop_column('capacity_change')
