"""indicators of the five solutions: measurements and targets

Revision ID: 0002_indicators
Revises: 0001
Create Date: 2026-11-28 06:55:58.561764
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_indicators'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('indicator_targets',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('set_by', sa.String(length=100), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('indicator', 'year', 'scope', name='uq_indicator_targets_key')
    )
    op.create_table('indicator_values',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=40), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('code_insee', sa.String(length=5), nullable=False),
    sa.Column('place_id', sa.String(length=200), nullable=False),
    sa.Column('dimension', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('indicator', 'period', 'code_insee', 'place_id', 'dimension',
                        name='uq_indicator_values_key')
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_values_indicator'), ['indicator'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_indicator_values_period'), ['period'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_values_period'))
        batch_op.drop_index(batch_op.f('ix_indicator_values_indicator'))

    op.drop_table('indicator_values')
    op.drop_table('indicator_targets')
