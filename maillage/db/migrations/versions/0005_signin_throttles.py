"""sign-in throttles per account name and per client (replaces the per-user lock)

The lock columns of ``users`` (``failed_count``, ``locked_until``) only existed for real
accounts, which told them apart from unknown names; the counters move to
``signin_throttles``, which holds rows for any name and any client. Current counters are
not carried over (every throttle starts afresh).

Revision ID: 0005_signin_throttles
Revises: 0003_tours
Create Date: 2026-12-01 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_signin_throttles'
down_revision = '0003_tours'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signin_throttles',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('signin_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_throttles_last_failure_at'),
                              ['last_failure_at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_count')


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_count', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('signin_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_throttles_last_failure_at'))
    op.drop_table('signin_throttles')
