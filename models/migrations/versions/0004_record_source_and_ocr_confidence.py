"""record says whether its words came from the text layer or OCR, and how sure OCR was

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('source', sa.String(length=10), server_default='text', nullable=False)
        )
        batch_op.add_column(sa.Column('ocr_confidence', sa.Float(), nullable=True))

def downgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_column('ocr_confidence')
        batch_op.drop_column('source')
