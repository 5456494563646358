"""where a place's coordinates come from (typed, clicked on the map, geocoded address)

Places typed on the page or imported without coordinates are placed from a map click or
from their address; ``coord_source`` says so, and the page flags those positions as
approximate.

Revision ID: 0007_place_coord_source
Revises: 0006_stop_selections
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_place_coord_source'
down_revision = '0006_stop_selections'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('places') as batch:
        batch.add_column(sa.Column('coord_source', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('places') as batch:
        batch.drop_column('coord_source')
