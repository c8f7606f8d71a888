"""documents: the reporting point within the year

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporting_point', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reporting_point_source', sa.String(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('reporting_point_source')
        batch_op.drop_column('reporting_point')
