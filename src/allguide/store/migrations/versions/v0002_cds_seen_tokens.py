"""CDS Hooks replay protection shared by worker processes: accepted JWT ids until expiry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=False)  # naive UTC, as in 0001


def upgrade() -> None:
    op.create_table(
        "cds_seen_tokens",
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("jti_sha256", sa.String(64), nullable=False),
        sa.Column("keep_until", UTC, nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti_sha256", name=op.f("pk_cds_seen_tokens")),
    )
    op.create_index(op.f("ix_cds_seen_tokens_keep_until"), "cds_seen_tokens", ["keep_until"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cds_seen_tokens_keep_until"), table_name="cds_seen_tokens")
    op.drop_table("cds_seen_tokens")
