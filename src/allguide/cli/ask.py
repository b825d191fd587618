"""`allguide ask` and `allguide article`: cited answers and topic articles from content.

The shell owns what the pure core may not: conversation files (a state directory), the
embedding cache directory, and new conversation ids (uuid4).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import uuid
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from allguide.cli.common import ContentDir, Format, fail, load_checked_pack
from allguide.knowledge.pack import DEFAULT_CONTENT_DIR, ContentPack
from allguide.patient.intake import InputError, load_patient

if TYPE_CHECKING:
    from allguide.ask import Conversation
    from allguide.patient.model import PatientInput

# `allguide.ask` (numpy, rapidfuzz, the index) is imported inside the commands, so that
# other commands do not pay for it at start-up.

_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{7,99}$")


class AudienceOption(StrEnum):
    clinician = "clinician"
    patient = "patient"


AudienceOpt = Annotated[
    AudienceOption,
    typer.Option("--audience", "-a", help="Who the text is for: clinician or patient"),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format")]


def _platform_dir(kind: str) -> Path:
    """Per-user cache or state directory, following each platform's convention."""
    home = Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / ("Caches" if kind == "cache" else "Application Support")
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
        return base / "allguide" / kind
    else:
        var = "XDG_CACHE_HOME" if kind == "cache" else "XDG_STATE_HOME"
        default = home / (".cache" if kind == "cache" else ".local/state")
        base = Path(os.environ.get(var) or default)
    return base / "allguide"


def cache_dir() -> Path:
    env = os.environ.get("ALLGUIDE_CACHE_DIR")
    return Path(env) if env else _platform_dir("cache")


def default_state_dir() -> Path:
    env = os.environ.get("ALLGUIDE_STATE_DIR")
    return Path(env) if env else _platform_dir("state")


def _conversation_path(state_dir: Path, conversation_id: str) -> Path:
    return state_dir / "conversations" / f"{conversation_id}.json"


def load_conversation(state_dir: Path, conversation_id: str) -> Conversation:
    from allguide.ask import Conversation

    if not _CONVERSATION_ID.match(conversation_id):
        fail(
            f"--conversation: '{conversation_id}' is not a conversation id; expected the id "
            "printed after an earlier answer (letters, digits and dashes)"
        )
    path = _conversation_path(state_dir, conversation_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        conversation = Conversation.model_validate(data)
    except FileNotFoundError:
        fail(
            f"--conversation: no conversation '{conversation_id}' in {state_dir}; leave the "
            "option out to start a new one"
        )
    except (OSError, ValueError, ValidationError) as exc:
        fail(f"--conversation: cannot read {path}: {str(exc).splitlines()[0]}")
    if conversation.id != conversation_id:
        fail(f"--conversation: {path} holds conversation '{conversation.id}', not this one")
    return conversation


def save_conversation(state_dir: Path, conversation: Conversation) -> None:
    path = _conversation_path(state_dir, conversation.id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(conversation.model_dump_json(indent=2))
        os.replace(tmp, path)
    except OSError as exc:
        typer.echo(f"warning: conversation not saved ({path}): {exc}", err=True)


def _load_patient_file(path: Path, pack: ContentPack) -> PatientInput:
    try:
        return load_patient(path, pack)
    except InputError as exc:
        typer.echo(f"error: {path} has {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from None


def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes")],
    audience: AudienceOpt = AudienceOption.clinician,
    patient: Annotated[
        Path | None,
        typer.Option("--patient", "-p", help="Patient findings (JSON or YAML), as for `plan`"),
    ] = None,
    conversation: Annotated[
        str | None,
        typer.Option("--conversation", "-c", help="Continue the conversation with this id"),
    ] = None,
    format: FormatOpt = Format.text,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            help="Where conversations are kept [env ALLGUIDE_STATE_DIR; default: the "
            "platform's user state directory]",
            file_okay=False,
        ),
    ] = None,
    lexical: Annotated[
        bool, typer.Option("--lexical", help="Keyword retrieval only (no sentence embeddings)")
    ] = False,
    content: ContentDir = DEFAULT_CONTENT_DIR,
) -> None:
    """Answer a question about ALL from reviewed content, every point cited."""
    from allguide.ask import AskIndex, AskInputError, Conversation, answer_question
    from allguide.render.answer_text import render_answer

    text = " ".join(question.split())
    if not text:
        fail("question: '' is empty; expected a question about ALL, e.g. \"What is MRD?\"")
    states = state_dir or default_state_dir()
    conv = (
        load_conversation(states, conversation)
        if conversation
        else Conversation(id=str(uuid.uuid4()))
    )
    pack = load_checked_pack(content)
    patient_input = _load_patient_file(patient, pack) if patient else None
    index = AskIndex.for_pack(pack, semantic=not lexical, cache_dir=cache_dir())
    try:
        answer = answer_question(
            text,
            pack,
            audience=audience.value,
            patient=patient_input,
            conversation=conv,
            index=index,
        )
    except AskInputError as exc:
        fail(f"question: {exc}")
    if index.semantic_error and not lexical:
        typer.echo(
            f"warning: semantic matching is off ({index.semantic_error}); keyword retrieval only",
            err=True,
        )
    if answer.conversation is not None:
        save_conversation(states, answer.conversation)
    if format == Format.json:
        sys.stdout.write(answer.model_dump_json(indent=2) + "\n")
        return
    sys.stdout.write(render_answer(answer, markdown=format == Format.markdown))
    cid = answer.conversation_id
    hint = f'allguide ask --conversation {cid} "..."'
    sys.stdout.write(
        f"\n*Conversation `{cid}`: continue with `{hint}`*\n"
        if format == Format.markdown
        else f"\nConversation {cid} (continue with: {hint})\n"
    )


def article(
    topic: Annotated[str, typer.Argument(help="Article topic, e.g. initial-treatment")],
    audience: AudienceOpt = AudienceOption.clinician,
    format: FormatOpt = Format.text,
    content: ContentDir = DEFAULT_CONTENT_DIR,
) -> None:
    """Print a full topic article (e.g. initial-treatment) from reviewed content."""
    from allguide.ask import AskInputError, build_article
    from allguide.render.answer_text import render_article

    pack = load_checked_pack(content)
    try:
        result = build_article(topic, pack, audience.value)
    except AskInputError as exc:
        fail(f"topic: {exc}")
    if format == Format.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(render_article(result, markdown=format == Format.markdown))


def register(app: typer.Typer, content_app: typer.Typer) -> None:
    app.command("ask")(ask)
    app.command("article")(article)
