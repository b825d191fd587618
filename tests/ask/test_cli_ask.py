"""`allguide ask` and `allguide article`: readable output, conversations on disk, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allguide.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "child-standard-risk.yaml"
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, vector_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ALLGUIDE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ALLGUIDE_CACHE_DIR", str(vector_cache))
    return tmp_path / "state"


def test_ask_text_then_follow_up_in_the_same_conversation(env: Path) -> None:
    result = runner.invoke(app, ["ask", "What is the initial treatment for ALL?"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for part in ("BOTTOM LINE", "REFERENCES", "REVIEW STATUS", "Pending review", "DISCLAIMER"):
        assert part in out
    assert re.search(r"\[1\]", out)
    assert "FOLLOW-UP QUESTIONS" in out
    cid = re.search(r"Conversation ([0-9a-f-]{36}) ", out)
    assert cid, out[-300:]
    saved = env / "conversations" / f"{cid.group(1)}.json"
    assert saved.is_file()

    follow = runner.invoke(
        app, ["ask", "what about older adults?", "--conversation", cid.group(1), "-f", "json"]
    )
    assert follow.exit_code == 0, follow.output
    data = json.loads(follow.stdout)
    assert data["conversation_id"] == cid.group(1)
    assert data["facets"]["population"] == "older_adult"
    assert data["retrieval"]["followup"] == "refine"
    assert len(json.loads(saved.read_text())["turns"]) == 2


def test_ask_patient_markdown_with_a_patient_file(env: Path) -> None:
    result = runner.invoke(
        app,
        [
            "ask",
            "What is a spinal tap?",
            "--audience",
            "patient",
            "--patient",
            str(EXAMPLE),
            "--format",
            "markdown",
        ],
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("# What is a spinal tap?")
    assert "## Bottom line" in out and "## Words to know" in out
    assert "not medical advice" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "question: '' is empty"),
        (["ask", "x" * 2200], "keep it under 2000"),
        (["ask", "What is MRD?", "--conversation", "../../etc/passwd"], "not a conversation id"),
        (["ask", "What is MRD?", "--conversation", "0123456789abcdef"], "no conversation"),
        (["ask", "What is MRD?", "--patient", "/no/such/file.yaml"], "no such file"),
        (["ask", "What is MRD?", "--audience", "nurse"], "nurse"),
        (["article", "relapse"], "no article 'relapse'"),
    ],
)
def test_bad_input_exits_2_with_a_message(env: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_corrupt_conversation_file_exits_2(env: Path) -> None:
    cid = "0123456789abcdef"
    (env / "conversations").mkdir(parents=True)
    (env / "conversations" / f"{cid}.json").write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["ask", "What is MRD?", "--conversation", cid])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_out_of_scope_is_not_an_error(env: Path) -> None:
    result = runner.invoke(app, ["ask", "How is AML treated?", "-f", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["in_scope"] is False and data["sections"] == []


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_article_command(env: Path, audience: str) -> None:
    text = runner.invoke(app, ["article", "initial-treatment", "--audience", audience])
    assert text.exit_code == 0, text.output
    assert "BOTTOM LINE" in text.stdout and "REFERENCES" in text.stdout
    data = json.loads(
        runner.invoke(
            app, ["article", "initial-treatment", "--audience", audience, "-f", "json"]
        ).stdout
    )
    assert data["audience"] == audience and data["sections"]
    assert bool(data["glossary"]) is (audience == "patient")
