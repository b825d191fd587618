"""Storage shell: the only place with SQL.

`Database(url)` gives sessions and migrations; repositories take a session and return
plain records. Callers own the transaction (`with db.session() as s: ...` commits).
"""

from allguide.store.audit import AuditLog, AuditVerification
from allguide.store.content import IMPORT_ACTOR, ContentRepository, ExportResult, NoContentError
from allguide.store.conversations import ConversationRepository
from allguide.store.db import DEFAULT_DATABASE_URL, Database, DatabaseError, utc_now
from allguide.store.feedback import FeedbackRepository
from allguide.store.plans import NewPlan, PlanRepository
from allguide.store.records import (
    ApiTokenRecord,
    AuditRecord,
    ContentVersionRecord,
    FeedbackRecord,
    ItemSummary,
    ItemVersionRecord,
    PlanRecord,
    UserRecord,
)
from allguide.store.tokens import SeenTokenRepository
from allguide.store.users import UserError, UserRepository

__all__ = [
    "DEFAULT_DATABASE_URL",
    "IMPORT_ACTOR",
    "ApiTokenRecord",
    "AuditLog",
    "AuditRecord",
    "AuditVerification",
    "ContentRepository",
    "ContentVersionRecord",
    "ConversationRepository",
    "Database",
    "DatabaseError",
    "ExportResult",
    "FeedbackRecord",
    "FeedbackRepository",
    "ItemSummary",
    "ItemVersionRecord",
    "NewPlan",
    "NoContentError",
    "PlanRecord",
    "PlanRepository",
    "SeenTokenRepository",
    "UserError",
    "UserRecord",
    "UserRepository",
    "utc_now",
]
