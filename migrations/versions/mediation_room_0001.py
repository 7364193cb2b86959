"""mediation_room: rooms, members and messages of the real-time mediation room

Revision ID: mediation_room_0001
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa


revision = 'mediation_room_0001'
down_revision = '0001_foundation'
branch_labels = ('mediation_room',)
depends_on = None


def upgrade():
    op.create_table('room',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('ref_type', sa.String(length=40), nullable=True),
    sa.Column('ref_id', sa.Integer(), nullable=True),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('caucus_party_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('transcript_text', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('open','ended')", name=op.f('ck_room_state_valid')),
    sa.ForeignKeyConstraint(['caucus_party_id'], ['user_account.id'], name=op.f('fk_room_caucus_party_id_user_account')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_room_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['mediator_id'], ['user_account.id'], name=op.f('fk_room_mediator_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room'))
    )
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_mediator_id'), ['mediator_id'], unique=False)

    op.create_table('room_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.CheckConstraint("role IN ('mediator','party','invited')", name=op.f('ck_room_member_role_valid')),
    sa.CheckConstraint("status IN ('waiting','admitted','removed')", name=op.f('ck_room_member_status_valid')),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_room_member_room_id_room'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_room_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room_member')),
    sa.UniqueConstraint('room_id', 'user_id', name='uq_room_member_room_user')
    )
    with op.batch_alter_table('room_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_member_room_id'), ['room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_room_member_user_id'), ['user_id'], unique=False)

    op.create_table('room_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('client_msg_id', sa.String(length=64), nullable=True),
    sa.Column('caucus_party_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('text','system')", name=op.f('ck_room_message_kind_valid')),
    sa.ForeignKeyConstraint(['caucus_party_id'], ['user_account.id'], name=op.f('fk_room_message_caucus_party_id_user_account')),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_room_message_room_id_room'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_id'], ['user_account.id'], name=op.f('fk_room_message_sender_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room_message')),
    sa.UniqueConstraint('room_id', 'client_msg_id', name='uq_room_message_room_client_msg'),
    sa.UniqueConstraint('room_id', 'seq', name='uq_room_message_room_seq')
    )


def downgrade():
    op.drop_table('room_message')
    with op.batch_alter_table('room_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_room_member_room_id'))
    op.drop_table('room_member')
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_mediator_id'))
    op.drop_table('room')
