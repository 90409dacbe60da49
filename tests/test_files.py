"""Staged writes: temporary files written ahead on threads, put in place in order, none left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from revox_sync.files import staged_writes


def test_staged_writes_are_put_in_place_in_order_and_the_rest_removed(tmp_path: Path) -> None:
    writes = [(tmp_path / "prompts" / f"f{i}.md", f"text {i}\n") for i in range(20)]
    with staged_writes(writes) as put:
        for path, _ in writes[:12]:
            put(path)
            assert path.read_text(encoding="utf-8") == dict(writes)[path]
    assert sorted(p.name for p in (tmp_path / "prompts").iterdir()) == sorted(f"f{i}.md" for i in range(12))


def test_a_write_that_fails_raises_when_put_and_leaves_the_ones_before_it(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file, not a directory", encoding="utf-8")
    writes = [
        (tmp_path / "a.yaml", "a\n"),
        (tmp_path / "blocked" / "b.yaml", "b\n"),
        (tmp_path / "c.yaml", "c\n"),
    ]
    with pytest.raises(OSError), staged_writes(writes) as put:
        for path, _ in writes:
            put(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "blocked"]
