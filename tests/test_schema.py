"""`revox-sync schema`: a JSON Schema that other validators and editors can use on assistant files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli, write


def schema() -> dict:
    result = run_cli("schema")
    assert result.code == 0
    return json.loads(result.out)


def test_schema_describes_every_field_and_forbids_unknown_keys() -> None:
    doc = schema()
    assert doc["$schema"].endswith("2020-12/schema")
    assert doc["additionalProperties"] is False and doc["required"] == ["name"]
    assert all(prop.get("description") for prop in doc["properties"].values())


@pytest.mark.skipif(
    not shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)), reason="no check-jsonschema"
)
def test_check_jsonschema_accepts_interpolation_and_rejects_bad_values(tmp_path: Path) -> None:
    schema_file = write(tmp_path / "schema.json", json.dumps(schema()))
    good = write(
        tmp_path / "good.yaml",
        "name: A\nprompt: p\nfirst_sentence_delay_ms: ${DELAY:-400}\n"
        "voice: {provider: cartesia, id: v, speed: '${SPEED}'}\n",
    )
    bad = write(tmp_path / "bad.yaml", "name: A\nfirst_sentence_delay_ms: soon\nvoce: {}\n")
    tool = str(Path(sys.executable).parent / "check-jsonschema")
    ok = subprocess.run([tool, "--schemafile", str(schema_file), str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    ko = subprocess.run([tool, "--schemafile", str(schema_file), str(bad)], capture_output=True, text=True)
    assert ko.returncode == 1
    assert "first_sentence_delay_ms" in ko.stdout and "voce" in ko.stdout
