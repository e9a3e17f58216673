"""HQ schema as released before migrations (metadata.create_all, hq_meta schema_version = 1)

A database made then has these tables and no alembic_version; `inspector-hq db upgrade` stamps it
at this revision first. Generated from the db.py/console_db.py of that release, then reviewed.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001_baseline'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('answers',
    sa.Column('inspection_id', sa.Text(), nullable=False),
    sa.Column('checklist_version_id', sa.Text(), nullable=False),
    sa.Column('item_id', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('inspection_id', 'checklist_version_id', 'item_id')
    )
    op.create_table('applied_ops',
    sa.Column('op_id', sa.Text(), nullable=False),
    sa.Column('device_id', sa.Text(), nullable=False),
    sa.Column('entity', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('applied_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('op_id')
    )
    op.create_index('hq_applied_ops_device', 'applied_ops', ['device_id'], unique=False)
    op.create_table('audit_alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('audit_entries',
    sa.Column('device_id', sa.Text(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('ts', sa.Text(), nullable=True),
    sa.Column('actor', sa.Text(), nullable=True),
    sa.Column('entity', sa.Text(), nullable=True),
    sa.Column('entity_id', sa.Text(), nullable=True),
    sa.Column('action', sa.Text(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.Text(), nullable=False),
    sa.Column('hash', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('device_id', 'seq')
    )
    op.create_table('audit_heads',
    sa.Column('device_id', sa.Text(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default='ok', nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('device_id')
    )
    op.create_table('changes',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entity', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.Text(), nullable=False),
    sa.Column('op', sa.Text(), server_default='upsert', nullable=False),
    sa.Column('audience', sa.Text(), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index('hq_changes_audience', 'changes', ['audience', 'seq'], unique=False)
    op.create_table('checklist_versions',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('checklist_id', sa.Text(), nullable=False),
    sa.Column('version', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('sha256', sa.Text(), nullable=False),
    sa.Column('stored_at', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('checklist_id', 'version', name='hq_checklist_versions_uq')
    )
    op.create_table('console_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.Text(), nullable=False),
    sa.Column('staff', sa.Text(), nullable=True),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('entity', sa.Text(), nullable=True),
    sa.Column('entity_id', sa.Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('console_sessions',
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('staff_id', sa.Text(), nullable=False),
    sa.Column('csrf', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Text(), nullable=False),
    sa.Column('ended_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_table('credit_decisions',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('institution_id', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('proposed_grade', sa.Text(), nullable=False),
    sa.Column('proposed_reasons', sa.Text(), server_default='[]', nullable=False),
    sa.Column('grade', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('reviewer', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('console_credit_decisions_inst', 'credit_decisions', ['institution_id', 'year'], unique=False)
    op.create_table('credit_self_assessments',
    sa.Column('institution_id', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('grade', sa.Text(), nullable=False),
    sa.Column('codes', sa.Text(), server_default='[]', nullable=False),
    sa.Column('rectification', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('institution_id', 'year')
    )
    op.create_table('devices',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('inspector_id', sa.Text(), nullable=True),
    sa.Column('badge_no', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=True),
    sa.Column('cert_pem', sa.Text(), nullable=True),
    sa.Column('qr_key_pem', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Text(), nullable=False),
    sa.Column('revoked_at', sa.Text(), nullable=True),
    sa.Column('last_seen_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('hq_devices_badge', 'devices', ['badge_no'], unique=False)
    op.create_table('doc_blocks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('agency', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('first', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency', 'year', 'first', name='hq_doc_blocks_uq')
    )
    op.create_table('documents',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=True),
    sa.Column('number', sa.Text(), nullable=True),
    sa.Column('inspection_id', sa.Text(), nullable=True),
    sa.Column('sha256', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('hq_documents_inspection', 'documents', ['inspection_id'], unique=False)
    op.create_index('hq_documents_number', 'documents', ['number'], unique=False)
    op.create_table('draws',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('seed', sa.Text(), nullable=False),
    sa.Column('algorithm', sa.Text(), nullable=True),
    sa.Column('params', sa.Text(), nullable=True),
    sa.Column('institutions_sha256', sa.Text(), nullable=True),
    sa.Column('inspectors_sha256', sa.Text(), nullable=True),
    sa.Column('result_sha256', sa.Text(), nullable=True),
    sa.Column('record', sa.Text(), nullable=True),
    sa.Column('due_days', sa.Integer(), nullable=True),
    sa.Column('actor', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('enrol_codes',
    sa.Column('code_hash', sa.Text(), nullable=False),
    sa.Column('badge_no', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Text(), nullable=False),
    sa.Column('used_at', sa.Text(), nullable=True),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('code_hash')
    )
    op.create_table('finding_handling',
    sa.Column('finding_id', sa.Text(), nullable=False),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('project', sa.Text(), nullable=True),
    sa.Column('certificates', sa.Integer(), server_default='0', nullable=False),
    sa.Column('recovered', sa.Float(), server_default='0', nullable=False),
    sa.Column('removed_project', sa.Integer(), server_default='0', nullable=False),
    sa.Column('removed_institution', sa.Integer(), server_default='0', nullable=False),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('result_note', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_by', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('finding_id')
    )
    op.create_table('findings',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('inspection_id', sa.Text(), nullable=False),
    sa.Column('checklist_version_id', sa.Text(), nullable=True),
    sa.Column('item_id', sa.Text(), nullable=True),
    sa.Column('codes', sa.Text(), server_default='[]', nullable=False),
    sa.Column('severity', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=True),
    sa.Column('people_involved', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Float(), nullable=True),
    sa.Column('required_action', sa.Text(), nullable=True),
    sa.Column('deadline', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('hq_findings_inspection', 'findings', ['inspection_id'], unique=False)
    op.create_table('hq_meta',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('inspection_children',
    sa.Column('inspection_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('child_id', sa.Text(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('inspection_id', 'kind', 'child_id')
    )
    op.create_table('inspections',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
    sa.Column('replaces_id', sa.Text(), nullable=True),
    sa.Column('task_id', sa.Text(), nullable=True),
    sa.Column('institution_id', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default='draft', nullable=False),
    sa.Column('started_at', sa.Text(), nullable=False),
    sa.Column('ended_at', sa.Text(), nullable=True),
    sa.Column('place', sa.Text(), nullable=True),
    sa.Column('inspector_ids', sa.Text(), server_default='[]', nullable=False),
    sa.Column('recorder_id', sa.Text(), nullable=True),
    sa.Column('ids_shown', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rights_explained', sa.Integer(), server_default='0', nullable=False),
    sa.Column('person_in_charge', sa.Text(), server_default='{}', nullable=False),
    sa.Column('checklist_version_ids', sa.Text(), server_default='[]', nullable=False),
    sa.Column('result_category', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('superseded_by', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('hq_inspections_institution', 'inspections', ['institution_id'], unique=False)
    op.create_index('hq_inspections_replaces', 'inspections', ['replaces_id'], unique=True)
    op.create_index('hq_inspections_task', 'inspections', ['task_id'], unique=False)
    op.create_table('inspectors',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('badge_no', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('unit', sa.Text(), nullable=True),
    sa.Column('county', sa.Text(), nullable=True),
    sa.Column('specialties', sa.Text(), server_default='[]', nullable=False),
    sa.Column('conflicts', sa.Text(), server_default='[]', nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('hq_inspectors_badge', 'inspectors', ['badge_no'], unique=False)
    op.create_table('institutions',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('credit_code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('sub_kind', sa.Text(), nullable=True),
    sa.Column('county', sa.Text(), nullable=False),
    sa.Column('city', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('legal_rep', sa.Text(), nullable=True),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('trades', sa.Text(), server_default='[]', nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=True),
    sa.Column('licence_no', sa.Text(), nullable=True),
    sa.Column('credit_grade', sa.Text(), nullable=True),
    sa.Column('complaints', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('hq_institutions_county', 'institutions', ['county'], unique=False)
    op.create_index('hq_institutions_credit_code', 'institutions', ['credit_code'], unique=False)
    op.create_table('photos',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('inspection_id', sa.Text(), nullable=True),
    sa.Column('finding_id', sa.Text(), nullable=True),
    sa.Column('sha256', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('hq_photos_inspection', 'photos', ['inspection_id'], unique=False)
    op.create_index('hq_photos_sha', 'photos', ['sha256'], unique=False)
    op.create_table('publications',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('ref', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('published_by', sa.Text(), nullable=True),
    sa.Column('published_at', sa.Text(), nullable=False),
    sa.Column('withdrawn_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rect_reviews',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('rectification_id', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('reinspection_inspection_id', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rectifications',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('inspection_id', sa.Text(), nullable=False),
    sa.Column('institution_id', sa.Text(), nullable=False),
    sa.Column('notice_number', sa.Text(), nullable=True),
    sa.Column('deadline', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default='待整改', nullable=False),
    sa.Column('evidence', sa.Text(), server_default='[]', nullable=False),
    sa.Column('reinspection_task_id', sa.Text(), nullable=True),
    sa.Column('reinspection_inspection_id', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('hq_rectifications_inspection', 'rectifications', ['inspection_id'], unique=False)
    op.create_index('hq_rectifications_status', 'rectifications', ['status'], unique=False)
    op.create_table('staff',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('username', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), server_default='admin', nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('disabled_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('tasks',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('draw_id', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), server_default='draw', nullable=False),
    sa.Column('institution_id', sa.Text(), nullable=False),
    sa.Column('inspector_ids', sa.Text(), server_default='[]', nullable=False),
    sa.Column('checklist_ids', sa.Text(), server_default='[]', nullable=False),
    sa.Column('due_from', sa.Text(), nullable=True),
    sa.Column('due_to', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default='open', nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), server_default='{}', nullable=False),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('hq_tasks_draw', 'tasks', ['draw_id'], unique=False)
    op.create_index('hq_tasks_institution', 'tasks', ['institution_id'], unique=False)


def downgrade() -> None:
    op.drop_index('hq_tasks_institution', table_name='tasks')
    op.drop_index('hq_tasks_draw', table_name='tasks')
    op.drop_table('tasks')
    op.drop_table('staff')
    op.drop_index('hq_rectifications_status', table_name='rectifications')
    op.drop_index('hq_rectifications_inspection', table_name='rectifications')
    op.drop_table('rectifications')
    op.drop_table('rect_reviews')
    op.drop_table('publications')
    op.drop_index('hq_photos_sha', table_name='photos')
    op.drop_index('hq_photos_inspection', table_name='photos')
    op.drop_table('photos')
    op.drop_index('hq_institutions_credit_code', table_name='institutions')
    op.drop_index('hq_institutions_county', table_name='institutions')
    op.drop_table('institutions')
    op.drop_index('hq_inspectors_badge', table_name='inspectors')
    op.drop_table('inspectors')
    op.drop_index('hq_inspections_task', table_name='inspections')
    op.drop_index('hq_inspections_replaces', table_name='inspections')
    op.drop_index('hq_inspections_institution', table_name='inspections')
    op.drop_table('inspections')
    op.drop_table('inspection_children')
    op.drop_table('hq_meta')
    op.drop_index('hq_findings_inspection', table_name='findings')
    op.drop_table('findings')
    op.drop_table('finding_handling')
    op.drop_table('enrol_codes')
    op.drop_table('draws')
    op.drop_index('hq_documents_number', table_name='documents')
    op.drop_index('hq_documents_inspection', table_name='documents')
    op.drop_table('documents')
    op.drop_table('doc_blocks')
    op.drop_index('hq_devices_badge', table_name='devices')
    op.drop_table('devices')
    op.drop_table('credit_self_assessments')
    op.drop_index('console_credit_decisions_inst', table_name='credit_decisions')
    op.drop_table('credit_decisions')
    op.drop_table('console_sessions')
    op.drop_table('console_events')
    op.drop_table('checklist_versions')
    op.drop_index('hq_changes_audience', table_name='changes')
    op.drop_table('changes')
    op.drop_table('audit_heads')
    op.drop_table('audit_entries')
    op.drop_table('audit_alerts')
    op.drop_index('hq_applied_ops_device', table_name='applied_ops')
    op.drop_table('applied_ops')
    op.drop_table('answers')
