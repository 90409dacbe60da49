"""The benchmarks measure the data they claim to generate (a ` #n` in a plain scalar would be a comment)."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest
from helpers import write

from revox_sync.kinds.assistant.load import load_paths

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_validate.py"


def test_generated_faq_questions_keep_their_number(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH.parent))  # the benchmarks import their shared module
    spec = importlib.util.spec_from_file_location("bench_validate", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text = bench.assistant_yaml(7, random.Random(42))
    (loaded,), _ = load_paths([write(in_tmp / "a.yaml", text)])
    questions = [item["question"] for item in loaded.data["faq_items"]]
    assert [q.rsplit(" ", 1)[1] for q in questions] == [f"#{n}?" for n in range(20)]
    assert len(text.encode()) > 12_000 and len(loaded.data["prompt"]) >= 10_000
