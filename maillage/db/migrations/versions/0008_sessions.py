"""browser sessions that survive a reload (HttpOnly cookie) and their one-use hand-offs

A sign-in used to live in the Streamlit session only, lost at each reload. It is now a
``web_sessions`` row (SHA-256 of the cookie's random token, the account, an absolute
expiry); ``session_handoffs`` holds the one-use tickets (60 s) that let the browser's
next request set or clear the cookie (see ``maillage/sessions.py``).

Revision ID: 0008_sessions
Revises: 0007_place_coord_source
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_sessions'
down_revision = '0007_place_coord_source'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_sessions',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.Column('user_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_pk'], ['users.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_expires_at'), ['expires_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_web_sessions_user_pk'), ['user_pk'],
                              unique=False)
    op.create_table('session_handoffs',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('session_pk', sa.Integer(), nullable=True),
    sa.Column('binding_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_pk'], ['web_sessions.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('session_handoffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_handoffs_expires_at'), ['expires_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_session_handoffs_session_pk'), ['session_pk'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('session_handoffs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_handoffs_session_pk'))
        batch_op.drop_index(batch_op.f('ix_session_handoffs_expires_at'))
    op.drop_table('session_handoffs')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_pk'))
        batch_op.drop_index(batch_op.f('ix_web_sessions_expires_at'))
    op.drop_table('web_sessions')
