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


def test_a_second_interrupt_during_the_clean_up_still_removes_every_staged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C twice: the second arrives while the staged files are being removed, and none stays behind."""
    import signal

    unlink = Path.unlink
    sent: list[int] = []

    def unlink_and_interrupt(self: Path, missing_ok: bool = False) -> None:
        if not sent:
            sent.append(1)
            signal.raise_signal(signal.SIGINT)  # a real signal, in the middle of the clean-up
        unlink(self, missing_ok=missing_ok)

    writes = [(tmp_path / f"a{i}.yaml", f"name: A{i}\n") for i in range(6)]
    with pytest.raises(KeyboardInterrupt), staged_writes(writes) as put:
        put(writes[0][0])
        monkeypatch.setattr(Path, "unlink", unlink_and_interrupt)
        raise KeyboardInterrupt  # the first Ctrl-C
    monkeypatch.undo()
    assert sent == [1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a0.yaml"]  # no `.a1.yaml.*.tmp` left
