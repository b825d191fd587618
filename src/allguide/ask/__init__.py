"""Questions and answers about ALL, only from reviewed content (issue #3).

Public API:
- `AskIndex.for_pack(pack, semantic=True, cache_dir=None)`: the search index (cached per
  content version);
- `answer_question(question, pack, *, audience, patient, conversation, index) -> Answer`;
- `build_article(topic_id, pack, audience) -> Article` and `ARTICLE_TOPICS`;
- `Answer`, `Article`, `Conversation`: pydantic models whose JSON is the public contract.

Pure core: no web framework, database, clock or network.
"""

from allguide.ask.article import ARTICLE_TOPICS, build_article
from allguide.ask.engine import AskInputError, answer_question
from allguide.ask.index import AskIndex
from allguide.ask.models import Answer, Article, Audience, Conversation

__all__ = [
    "ARTICLE_TOPICS",
    "Answer",
    "Article",
    "AskIndex",
    "AskInputError",
    "Audience",
    "Conversation",
    "answer_question",
    "build_article",
]
