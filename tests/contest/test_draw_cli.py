"""`contest draw` and `contest verify-draw` as an operator and a third party run them."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contest.cli", *args],
        env={"CONTEST_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo, migrated and seeded from the command line, then demo-closed drawn."""
    data = tmp_path_factory.mktemp("data")
    assert run_cli("migrate", data_dir=data).returncode == 0
    assert run_cli("demo", data_dir=data).returncode == 0
    first = run_cli(
        "draw",
        "demo-closed",
        "--public-value",
        "8f2c1e0d9b7a6c5d4e3f2a1b0c9d8e7f",
        "--public-value-source",
        "drand quicknet round 1000",
        "--operator",
        "Ann Operator",
        data_dir=data,
    )
    return {"data": data, "first": first}


def verify(tmp_path: Path, record: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, indent=2))
    return run_cli("verify-draw", str(path), data_dir=tmp_path / "nowhere")


def test_draw_prints_the_record_and_a_third_party_verifies_it(
    drawn: dict[str, Any], tmp_path: Path
) -> None:
    first = drawn["first"]
    assert first.returncode == 0, first.stderr
    record = json.loads(first.stdout)
    assert record["contest"]["slug"] == "demo-closed" and record["operator"] == "Ann Operator"
    assert len(record["winners"]) == 3 and len(record["alternates"]) == 3
    assert record["pool"]["count"] == 1000 and len(record["pool"]["entries"]) == 1000
    assert record["public_value_source"] == "drand quicknet round 1000"
    assert record["signature"]["key_id"].startswith("k-") and "@" not in first.stdout
    checked = verify(tmp_path, record)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("OK: demo-closed drawn at")
    assert not (tmp_path / "nowhere").exists(), "no database and no key needed"


def tamper_winner(record: dict[str, Any]) -> str:
    drawn = {p["ticket"] for p in record["winners"] + record["alternates"]}
    other = next(e["ticket"] for e in record["pool"]["entries"] if e["ticket"] not in drawn)
    record["winners"][0]["ticket"] = other
    return "winners"


def tamper_weight(record: dict[str, Any]) -> str:
    record["pool"]["entries"][0]["weight"] += 1
    return "pool.digest"


def tamper_secret(record: dict[str, Any]) -> str:
    secret = record["secret"]
    record["secret"] = ("1" if secret[0] == "0" else "0") + secret[1:]
    return "commitment"


@pytest.mark.parametrize("tamper", [tamper_winner, tamper_weight, tamper_secret])
def test_a_tampered_record_fails_verification_naming_the_problem(
    drawn: dict[str, Any], tmp_path: Path, tamper: Any
) -> None:
    record = copy.deepcopy(json.loads(drawn["first"].stdout))
    problem = tamper(record)
    checked = verify(tmp_path, record)
    assert checked.returncode == 1
    assert f"{problem}: " in checked.stdout and "FAILED" in checked.stdout


def test_a_second_draw_prints_the_first_record(drawn: dict[str, Any]) -> None:
    again = run_cli("draw", "demo-closed", "--public-value", "other", data_dir=drawn["data"])
    assert again.returncode == 0
    assert again.stdout == drawn["first"].stdout
    assert "already drawn" in again.stderr


def test_refusals_print_the_reason_and_exit_1(drawn: dict[str, Any], tmp_path: Path) -> None:
    still_open = run_cli("draw", "demo", data_dir=drawn["data"])
    assert still_open.returncode == 1 and still_open.stdout == ""
    assert "only take place after the contest closes" in still_open.stderr
    missing = run_cli("verify-draw", str(tmp_path / "absent.json"), data_dir=tmp_path)
    assert missing.returncode == 1 and "file: " in missing.stdout
