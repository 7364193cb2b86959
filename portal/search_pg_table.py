"""The table of the PostgreSQL full-text search backend (portal.search_pg), in the metadata.

Kept apart from the backend so that the metadata (Alembic, ``db.create_all()`` in tests) always
knows it while the backend itself is imported only when ``SEARCH_BACKEND=postgres``. On SQLite the
table is created with portable types and stays empty (the Whoosh backend is used there).
"""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.extensions import db

#: Order of writing (a rewritten document moves to the end, as in Whoosh): ties in ranking.
search_document_seq = sa.Sequence("search_document_seq", metadata=db.metadata)

search_document = sa.Table(
    "search_document",
    db.metadata,
    #: The SearchIndex's name: every index of the site shares the one table.
    sa.Column("index_name", sa.String(40), primary_key=True),
    sa.Column("doc_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    #: Stored fields (shown in hits, highlighted).
    sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    #: Keyword fields: filters (``keys @> {...}``), facet counts and sort keys.
    sa.Column("keys", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    #: jieba tokens of the searched fields, weighted A–D by field boost.
    sa.Column("tsv", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=False),
    # A small pending list: documents written one by one (publishing a case) reach the index
    # proper soon, so queries never scan a long list of pending entries.
    sa.Index("ix_search_document_tsv", "tsv", postgresql_using="gin",
             postgresql_with={"gin_pending_list_limit": 256}),
    sa.Index("ix_search_document_keys", "keys", postgresql_using="gin",
             postgresql_ops={"keys": "jsonb_path_ops"}),
)
