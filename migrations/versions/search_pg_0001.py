"""search_pg: the table of the PostgreSQL full-text search backend (SEARCH_BACKEND=postgres)

On PostgreSQL: JSONB stored fields and keys, a tsvector column, GIN indexes and the write-order
sequence. On SQLite the same table with portable types (it stays empty: Whoosh is used there),
so that the schema matches the models on both databases.

Revision ID: search_pg_0001
Revises: 0001_foundation
Create Date: 2026-12-02 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'search_pg_0001'
down_revision = '0001_foundation'
branch_labels = ('search_pg',)
depends_on = None


def upgrade():
    pg = op.get_bind().dialect.name == 'postgresql'
    json_type = postgresql.JSONB() if pg else sa.JSON()
    tsv_type = postgresql.TSVECTOR() if pg else sa.Text()
    if pg:
        op.execute(sa.schema.CreateSequence(sa.Sequence('search_document_seq')))
    op.create_table('search_document',
    sa.Column('index_name', sa.String(length=40), nullable=False),
    sa.Column('doc_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('data', json_type, nullable=False),
    sa.Column('keys', json_type, nullable=False),
    sa.Column('tsv', tsv_type, nullable=False),
    sa.PrimaryKeyConstraint('index_name', 'doc_id', name=op.f('pk_search_document'))
    )
    if pg:
        op.create_index('ix_search_document_tsv', 'search_document', ['tsv'], unique=False,
                        postgresql_using='gin', postgresql_with={'gin_pending_list_limit': 256})
        op.create_index('ix_search_document_keys', 'search_document', ['keys'], unique=False,
                        postgresql_using='gin', postgresql_ops={'keys': 'jsonb_path_ops'})
    else:
        with op.batch_alter_table('search_document', schema=None) as batch_op:
            batch_op.create_index('ix_search_document_tsv', ['tsv'], unique=False)
            batch_op.create_index('ix_search_document_keys', ['keys'], unique=False)


def downgrade():
    pg = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.drop_index('ix_search_document_keys')
        batch_op.drop_index('ix_search_document_tsv')
    op.drop_table('search_document')
    if pg:
        op.execute(sa.schema.DropSequence(sa.Sequence('search_document_seq')))
