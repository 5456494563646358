"""stop selections saved on « Arrêts proposés » (replaces the server-side CSV file)

The page used to write ``data/plans/arrets-proposes.csv`` for any visitor; selections
now live in the store, written only by signed-in accounts with a planning role.

Revision ID: 0006_stop_selections
Revises: 0005_signin_throttles
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_stop_selections'
down_revision = '0005_signin_throttles'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stop_selections',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('params_json', sa.Text(), nullable=False),
    sa.Column('stops_json', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('stop_selections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stop_selections_created_at'), ['created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stop_selections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stop_selections_created_at'))
    op.drop_table('stop_selections')
