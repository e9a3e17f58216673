"""Tables added after the first release: doc_block_usage, doc_number_marks, document_lt, throttle, uploads

uploads: partial blob uploads, shared by HQ's worker processes; doc_block_usage and doc_number_marks:
how far each 文号 block is used and which numbers were returned or voided; throttle: failed password
and code guesses, counted across workers; document_lt: long-term validation state of signed documents.
New tables only, so existing rows are untouched; they start empty. The hq_meta schema_version row is
dropped: alembic_version holds the schema version now.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_new_tables"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('doc_block_usage',
    sa.Column('block_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('used_through', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('block_id')
    )
    op.create_table('doc_number_marks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('agency', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('first', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('hq_doc_number_marks_series', 'doc_number_marks', ['agency', 'year'], unique=False)
    op.create_table('document_lt',
    sa.Column('document_id', sa.Text(), nullable=False),
    sa.Column('source_sha', sa.Text(), nullable=False),
    sa.Column('sha256', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('claimed_at', sa.Text(), nullable=True),
    sa.Column('claimed_by', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('timestamp_at', sa.Text(), nullable=True),
    sa.Column('done_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('document_id')
    )
    op.create_index('hq_document_lt_sha', 'document_lt', ['sha256'], unique=False)
    op.create_index('hq_document_lt_status', 'document_lt', ['status'], unique=False)
    op.create_table('throttle',
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_at', sa.Float(), nullable=True),
    sa.Column('next_at', sa.Float(), nullable=True),
    sa.Column('locked_until', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('scope', 'key')
    )
    op.create_table('uploads',
    sa.Column('sha256', sa.Text(), nullable=False),
    sa.Column('device_id', sa.Text(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('received', sa.BigInteger(), nullable=False),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', 'device_id')
    )
    op.create_index('hq_uploads_device', 'uploads', ['device_id'], unique=False)
    op.create_index('hq_uploads_updated', 'uploads', ['updated_at'], unique=False)
    op.execute("DELETE FROM hq_meta WHERE key = 'schema_version'")  # alembic_version says it now


def downgrade() -> None:
    op.execute("INSERT INTO hq_meta (key, value) VALUES ('schema_version', '1')")
    op.drop_index('hq_uploads_updated', table_name='uploads')
    op.drop_index('hq_uploads_device', table_name='uploads')
    op.drop_table('uploads')
    op.drop_table('throttle')
    op.drop_index('hq_document_lt_status', table_name='document_lt')
    op.drop_index('hq_document_lt_sha', table_name='document_lt')
    op.drop_table('document_lt')
    op.drop_index('hq_doc_number_marks_series', table_name='doc_number_marks')
    op.drop_table('doc_number_marks')
    op.drop_table('doc_block_usage')
