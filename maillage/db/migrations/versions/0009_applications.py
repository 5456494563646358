"""label applications (« Devenir point numérique »), their history and the mail outbox

A visitor, without an account, files an application: the proposed place waits in
``applications`` (never public) until the Fédération labels it, which creates the place
of the registry. ``application_events`` keeps who did what and when; ``mail_outbox``
holds the messages to the applicants, written with each decision.

Revision ID: 0009_applications
Revises: 0008_sessions
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_applications'
down_revision = '0008_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('applications',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('nom', sa.String(length=200), nullable=False),
    sa.Column('commune', sa.String(length=200), nullable=False),
    sa.Column('place_json', sa.Text(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('motivation', sa.Text(), nullable=True),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filed_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('checklist_json', sa.Text(), nullable=True),
    sa.Column('place_pk', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['place_pk'], ['places.pk'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_client_key'), ['client_key'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_applications_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_applications_place_pk'), ['place_pk'],
                              unique=False)

    op.create_table('application_events',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('application_pk', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('checklist_json', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['application_pk'], ['applications.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_events_application_pk'),
                              ['application_pk'], unique=False)

    op.create_table('mail_outbox',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('application_pk', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_pk'], ['applications.pk'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_outbox_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_application_pk'),
                              ['application_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_mail_outbox_application_pk'))
        batch_op.drop_index(batch_op.f('ix_mail_outbox_created_at'))
    op.drop_table('mail_outbox')
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_events_application_pk'))
    op.drop_table('application_events')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_place_pk'))
        batch_op.drop_index(batch_op.f('ix_applications_created_at'))
        batch_op.drop_index(batch_op.f('ix_applications_client_key'))
        batch_op.drop_index(batch_op.f('ix_applications_status'))
    op.drop_table('applications')
