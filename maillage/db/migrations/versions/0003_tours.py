"""van tours: vans, plans, tours and visits with attendance

Revision ID: 0003_tours
Revises: 0002_indicators
Create Date: 2026-11-28 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_tours'
down_revision = '0002_indicators'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tour_vans',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('depot_lon', sa.Float(), nullable=False),
    sa.Column('depot_lat', sa.Float(), nullable=False),
    sa.Column('day_start', sa.Integer(), nullable=False),
    sa.Column('day_end', sa.Integer(), nullable=False),
    sa.Column('lunch_earliest', sa.Integer(), nullable=False),
    sa.Column('lunch_latest', sa.Integer(), nullable=False),
    sa.Column('lunch_s', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('name')
    )
    op.create_table('tour_plans',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('problem_json', sa.Text(), nullable=False),
    sa.Column('summary_json', sa.Text(), nullable=False),
    sa.Column('unserved_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.String(length=100), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('tour_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tour_plans_start_date'), ['start_date'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_tour_plans_status'), ['status'], unique=False)
    op.create_table('tours',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('plan_pk', sa.Integer(), nullable=False),
    sa.Column('van_pk', sa.Integer(), nullable=False),
    sa.Column('van_index', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('leave_s', sa.Integer(), nullable=False),
    sa.Column('back_s', sa.Integer(), nullable=False),
    sa.Column('lunch_s', sa.Integer(), nullable=True),
    sa.Column('drive_s', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['plan_pk'], ['tour_plans.pk'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['van_pk'], ['tour_vans.pk']),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('tours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tours_plan_pk'), ['plan_pk'], unique=False)
    op.create_table('tour_visits',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('tour_pk', sa.Integer(), nullable=False),
    sa.Column('plan_pk', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('stop_index', sa.Integer(), nullable=False),
    sa.Column('occurrence', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.String(length=200), nullable=False),
    sa.Column('stop_name', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('code_insee', sa.String(length=5), nullable=True),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('arrival_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attendance', sa.Integer(), nullable=True),
    sa.Column('attendance_seniors', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_pk'], ['tour_plans.pk'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tour_pk'], ['tours.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('tour_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tour_visits_tour_pk'), ['tour_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_tour_visits_plan_pk'), ['plan_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_tour_visits_place_id'), ['place_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tour_visits_visit_date'), ['visit_date'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_tour_visits_starts_at'), ['starts_at'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('tour_visits')
    op.drop_table('tours')
    op.drop_table('tour_plans')
    op.drop_table('tour_vans')
