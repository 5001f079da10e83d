"""``CONTEST_APP_SENDS_MAIL=no``: the app's processes only queue mail, `contest worker` sends it.

Several app processes behind a proxy then spend their time on requests, and the outbox is
sent by as many workers as the operator runs (each claims its rows, see the outbox).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from contest.app import create_app_from_env
from contest.settings import Settings, SettingsError
from tests.helpers import enter


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The machine's environment passes on (a faked clock included: the demo's dates must be
    # those of the test process), the project's settings do not.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CONTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "contest.cli", *args],
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_setting_reads_yes_or_no_and_refuses_anything_else(tmp_path: Path) -> None:
    base = {"CONTEST_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).app_sends_mail
    assert not Settings.from_env(base | {"CONTEST_APP_SENDS_MAIL": "no"}).app_sends_mail
    with pytest.raises(SettingsError, match="CONTEST_APP_SENDS_MAIL"):
        Settings.from_env(base | {"CONTEST_APP_SENDS_MAIL": "sometimes"})


def test_the_app_queues_the_confirmation_and_the_worker_sends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"CONTEST_DATA_DIR": str(tmp_path), "CONTEST_APP_SENDS_MAIL": "no"}
    _cli("migrate", env=env)
    _cli("demo", env=env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    mail = tmp_path / "mail"
    with TestClient(create_app_from_env(), client=("203.0.113.7", 50000)) as client:
        answer = enter(client, email="worker-sends@example.org", consent_marketing_email="on")
        assert answer.status_code == 303  # type: ignore[attr-defined]
        time.sleep(1.5)  # an app that sent mail would have written it by now
        assert not list(mail.glob("*.eml")), "the app's process sent mail itself"
    sent = _cli("worker", "--once", env=env)
    assert "Sent 1 message(s)." in sent.stdout
    (written,) = mail.glob("*.eml")
    assert "worker-sends@example.org" in written.read_text()
