"""logins: each sign-in is a row, so logout and password changes end sessions and their tokens server-side

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('logins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('web', 'api')", name=op.f('ck_logins_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_logins_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logins'))
    )
    with op.batch_alter_table('logins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logins_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_api_tokens_login_id'), ['login_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_api_tokens_login_id_logins'), 'logins', ['login_id'], ['id'],
                                    ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_tokens_login_id_logins'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_api_tokens_login_id'))
        batch_op.drop_column('login_id')

    with op.batch_alter_table('logins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logins_user_id'))

    op.drop_table('logins')
