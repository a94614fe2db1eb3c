"""notification messages: a message code with parameters instead of two rendered titles

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 03:00:00

Existing rows keep their text as a {"zh", "en"} pair in ``message`` (rendered as it was written);
new rows store {"c": msgid, "p": params} (greenmatch.text).
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('message', sa.JSON(), nullable=True))
    notifications = sa.table('notifications', sa.column('id', sa.Integer), sa.column('title_zh', sa.String),
                             sa.column('title_en', sa.String), sa.column('message', sa.JSON))
    bind = op.get_bind()
    rows = bind.execute(sa.select(notifications.c.id, notifications.c.title_zh, notifications.c.title_en)).all()
    for row in rows:
        bind.execute(notifications.update().where(notifications.c.id == row.id).values(
            message={"zh": row.title_zh, "en": row.title_en}))
    with op.batch_alter_table('notifications') as batch:
        batch.alter_column('message', existing_type=sa.JSON(), nullable=False)
        batch.drop_column('title_zh')
        batch.drop_column('title_en')


def downgrade():
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('title_zh', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('title_en', sa.String(length=300), nullable=True))
    notifications = sa.table('notifications', sa.column('id', sa.Integer), sa.column('title_zh', sa.String),
                             sa.column('title_en', sa.String), sa.column('message', sa.JSON))
    bind = op.get_bind()
    from greenmatch.text import from_json, render

    for row in bind.execute(sa.select(notifications.c.id, notifications.c.message)).all():
        message = row.message if isinstance(row.message, dict) else json.loads(row.message or "{}")
        if "zh" in message:
            zh, en = message.get("zh", ""), message.get("en", "")
        else:
            zh, en = render(from_json(message), "zh_CN"), render(from_json(message), "en")
        bind.execute(notifications.update().where(notifications.c.id == row.id).values(
            title_zh=zh[:300], title_en=en[:300]))
    with op.batch_alter_table('notifications') as batch:
        batch.alter_column('title_zh', existing_type=sa.String(length=300), nullable=False)
        batch.alter_column('title_en', existing_type=sa.String(length=300), nullable=False)
        batch.drop_column('message')
