"""Initial schema: accounts, versioned content, plans, conversations, CDS feedback, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Self-contained on purpose: migrations never import the current models, which move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stored as naive UTC; the application type (store.models.UTCDateTime) adds the zone back.
UTC = sa.DateTime(timezone=False)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint("role IN ('author', 'reviewer', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_api_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])

    op.create_table(
        "content_files",
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("header", sa.Text(), nullable=False),
        sa.Column("original_text", sa.Text(), nullable=True),
        sa.Column("original_version_ids", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_content_files")),
    )
    # content_items <-> content_item_versions reference each other: the served-version
    # foreign key is added once both tables exist.
    op.create_table(
        "content_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("served_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["path"], ["content_files.path"], name=op.f("fk_content_items_path_content_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_items")),
        sa.UniqueConstraint("kind", "item_id", name="uq_content_items_kind_item_id"),
    )
    op.create_table(
        "content_item_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_pk", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=True),
        sa.Column("submitted_at", UTC, nullable=True),
        sa.Column("reviewer", sa.String(64), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("reviewed_at", UTC, nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'rejected', 'retired', 'superseded')",
            name=op.f("ck_content_item_versions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["item_pk"],
            ["content_items.id"],
            name=op.f("fk_content_item_versions_item_pk_content_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_item_versions")),
        sa.UniqueConstraint("item_pk", "number", name="uq_content_item_versions_item_pk_number"),
    )
    op.create_index(op.f("ix_content_item_versions_item_pk"), "content_item_versions", ["item_pk"])
    with op.batch_alter_table("content_items") as batch:
        batch.create_foreign_key(
            "fk_content_items_served_version_id_content_item_versions",
            "content_item_versions",
            ["served_version_id"],
            ["id"],
        )

    op.create_table(
        "content_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_versions")),
    )
    op.create_index(op.f("ix_content_versions_digest"), "content_versions", ["digest"])
    op.create_table(
        "content_version_items",
        sa.Column("content_version_id", sa.Integer(), nullable=False),
        sa.Column("item_version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_version_id"],
            ["content_versions.id"],
            name=op.f("fk_content_version_items_content_version_id_content_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["item_version_id"],
            ["content_item_versions.id"],
            name=op.f("fk_content_version_items_item_version_id_content_item_versions"),
        ),
        sa.PrimaryKeyConstraint(
            "content_version_id", "item_version_id", name=op.f("pk_content_version_items")
        ),
    )

    op.create_table(
        "plans",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("input_json", sa.Text(), nullable=False),
        sa.Column("input_digest", sa.String(80), nullable=False),
        sa.Column("engine_version", sa.String(32), nullable=False),
        sa.Column("content_version", sa.String(64), nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    op.create_index(op.f("ix_plans_input_digest"), "plans", ["input_digest"])
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.String(100), nullable=False),
        sa.Column("card_uuid", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_feedback")),
    )
    op.create_index("ix_cds_feedback_service_card", "cds_feedback", ["service_id", "card_uuid"])

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index(op.f("ix_audit_log_target"), "audit_log", ["target"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "cds_feedback",
        "conversations",
        "plans",
        "content_version_items",
        "content_versions",
    ):
        op.drop_table(table)
    with op.batch_alter_table("content_items") as batch:
        batch.drop_constraint(
            "fk_content_items_served_version_id_content_item_versions", type_="foreignkey"
        )
    for table in ("content_item_versions", "content_items", "content_files", "api_tokens", "users"):
        op.drop_table(table)
