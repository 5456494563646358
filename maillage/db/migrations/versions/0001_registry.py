"""registry of places, label history, accounts, import reports

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 06:47:38.694611
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_runs',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('n_input', sa.Integer(), nullable=False),
    sa.Column('n_imported', sa.Integer(), nullable=False),
    sa.Column('n_updated', sa.Integer(), nullable=False),
    sa.Column('n_merged', sa.Integer(), nullable=False),
    sa.Column('n_rejected', sa.Integer(), nullable=False),
    sa.Column('n_corrected', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('pk')
    )
    op.create_table('places',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('pivot', sa.String(length=14), nullable=False),
    sa.Column('nom', sa.Text(), nullable=False),
    sa.Column('commune', sa.String(length=200), nullable=False),
    sa.Column('code_postal', sa.String(length=5), nullable=False),
    sa.Column('code_insee', sa.String(length=5), nullable=True),
    sa.Column('adresse', sa.Text(), nullable=False),
    sa.Column('complement_adresse', sa.Text(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('typologie', sa.Text(), nullable=True),
    sa.Column('telephone', sa.String(length=20), nullable=True),
    sa.Column('courriels', sa.Text(), nullable=True),
    sa.Column('site_web', sa.Text(), nullable=True),
    sa.Column('horaires', sa.Text(), nullable=True),
    sa.Column('presentation_resume', sa.Text(), nullable=True),
    sa.Column('presentation_detail', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('itinerance', sa.String(length=40), nullable=True),
    sa.Column('structure_parente', sa.Text(), nullable=True),
    sa.Column('date_maj', sa.Date(), nullable=False),
    sa.Column('services', sa.Text(), nullable=True),
    sa.Column('publics_specifiquement_adresses', sa.Text(), nullable=True),
    sa.Column('prise_en_charge_specifique', sa.Text(), nullable=True),
    sa.Column('frais_a_charge', sa.Text(), nullable=True),
    sa.Column('dispositif_programmes_nationaux', sa.Text(), nullable=True),
    sa.Column('formations_labels', sa.Text(), nullable=True),
    sa.Column('autres_formations_labels', sa.Text(), nullable=True),
    sa.Column('modalites_acces', sa.Text(), nullable=True),
    sa.Column('modalites_accompagnement', sa.Text(), nullable=True),
    sa.Column('fiche_acces_libre', sa.Text(), nullable=True),
    sa.Column('prise_rdv', sa.Text(), nullable=True),
    sa.Column('label_status', sa.String(length=20), nullable=True),
    sa.Column('label_since', sa.Date(), nullable=True),
    sa.Column('labelled_on', sa.Date(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('host_type', sa.String(length=40), nullable=False),
    sa.Column('possible_stop', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('origin', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('places', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_places_code_insee'), ['code_insee'], unique=False)
        batch_op.create_index(batch_op.f('ix_places_id'), ['id'], unique=True)
        batch_op.create_index(batch_op.f('ix_places_label_status'), ['label_status'], unique=False)

    op.create_table('users',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('username')
    )
    op.create_table('import_issues',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('run_pk', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('record_id', sa.Text(), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=True),
    sa.Column('original', sa.Text(), nullable=True),
    sa.Column('kept', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_pk'], ['import_runs.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('run_pk', 'seq')
    )
    with op.batch_alter_table('import_issues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_issues_run_pk'), ['run_pk'], unique=False)

    op.create_table('label_events',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('place_pk', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['place_pk'], ['places.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('label_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_events_place_pk'), ['place_pk'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('label_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_events_place_pk'))

    op.drop_table('label_events')
    with op.batch_alter_table('import_issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_issues_run_pk'))

    op.drop_table('import_issues')
    op.drop_table('users')
    with op.batch_alter_table('places', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_places_label_status'))
        batch_op.drop_index(batch_op.f('ix_places_id'))
        batch_op.drop_index(batch_op.f('ix_places_code_insee'))

    op.drop_table('places')
    op.drop_table('import_runs')
