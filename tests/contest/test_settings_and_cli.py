"""Settings from the environment, the migration guard, and the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from contest.clock import FixedClock
from contest.settings import Settings, SettingsError
from contest.storage import NotMigrated, create_db_engine, ensure_migrated
from tests.helpers import free_port


def test_defaults_follow_the_contract(tmp_path: Path) -> None:
    settings = Settings.from_env({"CONTEST_DATA_DIR": str(tmp_path)})
    assert settings.database_url.reveal() == f"sqlite:///{tmp_path}/contest.db"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.smtp_url is None and settings.env == "development"
    key = (tmp_path / "secret.key").read_text().strip()
    assert settings.secret_keys[0].reveal() == key
    again = Settings.from_env({"CONTEST_DATA_DIR": str(tmp_path)})
    assert again.secret_keys == settings.secret_keys, "the generated key is kept"


def test_secrets_never_print(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CONTEST_DATA_DIR": str(tmp_path),
            "CONTEST_SECRET_KEY": "very-secret-value-" * 2,
            "CONTEST_DATABASE_URL": "postgresql+psycopg://u:dbpassword@h/db",
            "CONTEST_SMTP_URL": "smtp://u:smtppassword@h:25",
        }
    )
    shown = repr(settings) + str(settings)
    for secret in ("very-secret-value-" * 2, "dbpassword", "smtppassword"):
        assert secret not in shown


def test_production_refuses_a_generated_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CONTEST_SECRET_KEY"):
        Settings.from_env({"CONTEST_DATA_DIR": str(tmp_path), "CONTEST_ENV": "production"})


def test_production_refuses_mail_written_to_files(tmp_path: Path) -> None:
    production = {"CONTEST_DATA_DIR": str(tmp_path), "CONTEST_ENV": "production",
                  "CONTEST_SECRET_KEY": "a-shared-key-" * 3}  # fmt: skip
    with pytest.raises(SettingsError, match="CONTEST_SMTP_URL must be set"):
        Settings.from_env(production)
    sending = Settings.from_env(production | {"CONTEST_SMTP_URL": "smtp://relay:25"})
    assert sending.production and sending.smtp_url is not None
    chosen = Settings.from_env(production | {"CONTEST_MAIL_FILES": "yes"})  # e.g. a benchmark
    assert chosen.smtp_url is None


KEY = "k" * 40


@pytest.mark.parametrize(
    ("env", "named", "says"),
    [
        # A comment after the key in a systemd EnvironmentFile is part of the value: its words
        # ("#", "python3") would be keys anyone could sign links with.
        (
            {"CONTEST_SECRET_KEY": f"{KEY}   # python3 -c 'print(1)'"},
            "CONTEST_SECRET_KEY",
            "comment",
        ),
        ({"CONTEST_SECRET_KEY": "short"}, "CONTEST_SECRET_KEY", "shorter than 32"),
        ({"CONTEST_SECRET_KEY": "   ", "CONTEST_ENV": "production"}, "CONTEST_SECRET_KEY", "set"),
        ({"CONTEST_ENV": "prod"}, "CONTEST_ENV", "development or production"),
        ({"CONTEST_SMTP_URL": "smtp://127.0.0.1:abc"}, "CONTEST_SMTP_URL", "host:port"),
        ({"CONTEST_SMTP_URL": "smtp://"}, "CONTEST_SMTP_URL", "host:port"),
        ({"CONTEST_MAIL_FROM": "notanaddress"}, "CONTEST_MAIL_FROM", "e-mail address"),
        ({"CONTEST_BASE_URL": "http://"}, "CONTEST_BASE_URL", "public address"),
        ({"CONTEST_BASE_URL": "http://exa mple.org"}, "CONTEST_BASE_URL", "public address"),
        ({"CONTEST_BASE_URL": "http://[::1"}, "CONTEST_BASE_URL", "public address"),
        ({"CONTEST_DATABASE_URL": "garbage"}, "CONTEST_DATABASE_URL", "sqlite:///"),
        ({"CONTEST_DATABASE_URL": "mysql://u@h/db"}, "CONTEST_DATABASE_URL", "PostgreSQL"),
        ({"CONTEST_DATABASE_URL": "postgresql://u@h:abc/db"}, "CONTEST_DATABASE_URL", "sqlite:///"),
    ],
)
def test_a_setting_that_would_fail_later_stops_the_command_at_once(
    tmp_path: Path, env: dict[str, str], named: str, says: str
) -> None:
    """Refused when read, with the variable named and what to write, rather than a traceback
    at the first e-mail or link; the command ends with status 2 and writes nothing."""
    with pytest.raises(SettingsError, match=named) as refused:
        Settings.from_env({"CONTEST_DATA_DIR": str(tmp_path), "CONTEST_SECRET_KEY": KEY} | env)
    assert says in str(refused.value)
    ran = subprocess.run(
        [sys.executable, "-m", "contest.cli", "migrate"],
        env={"CONTEST_DATA_DIR": str(tmp_path), "CONTEST_SECRET_KEY": KEY, "PATH": "/usr/bin:/bin"}
        | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode != 0 and named in ran.stderr and "Traceback" not in ran.stderr
    assert not (tmp_path / "contest.db").exists()


def test_a_full_address_with_a_name_is_a_sender(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CONTEST_DATA_DIR": str(tmp_path),
            "CONTEST_SECRET_KEY": KEY,
            "CONTEST_MAIL_FROM": "Concours <jeux@laboutique.fr>",
        }  # fmt: skip
    )
    assert settings.mail_from == "Concours <jeux@laboutique.fr>"


def test_rotated_keys_still_verify_old_links(tmp_path: Path, clock: FixedClock) -> None:
    from contest.tokens import Purpose, Signer

    old_key, new_key = "old-key-" * 5, "new-key-" * 5
    old = Settings.from_env({"CONTEST_DATA_DIR": str(tmp_path), "CONTEST_SECRET_KEY": old_key})
    token = Signer(old.secret_keys, clock).sign(Purpose.ME, "entry")
    new = Settings.from_env(
        {"CONTEST_DATA_DIR": str(tmp_path), "CONTEST_SECRET_KEY": f"{new_key} {old_key}"}
    )
    assert Signer(new.secret_keys, clock).verify(Purpose.ME, token) == "entry"


def test_a_token_for_one_purpose_is_refused_for_another(tmp_path: Path, clock: FixedClock) -> None:
    from contest.tokens import Purpose, Signer, TokenInvalid

    signer = Signer(Settings.from_env({"CONTEST_DATA_DIR": str(tmp_path)}).secret_keys, clock)
    with pytest.raises(TokenInvalid):
        signer.verify(Purpose.ME, signer.sign(Purpose.CONFIRM, "entry"))


def test_an_unmigrated_database_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/empty.db")
    with pytest.raises(NotMigrated, match="contest migrate"):
        ensure_migrated(engine)


def run_cli(*args: str, data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contest.cli", *args],
        env={"CONTEST_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_demo_and_create_organizer_from_the_command_line(tmp_path: Path) -> None:
    refused = run_cli("demo", data_dir=tmp_path)
    assert refused.returncode != 0 and "contest migrate" in refused.stderr
    assert run_cli("migrate", data_dir=tmp_path).returncode == 0
    first = run_cli("demo", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "http://127.0.0.1:8000/c/demo" in first.stdout and "demo@example.org" in first.stdout
    second = run_cli("demo", data_dir=tmp_path)
    assert second.returncode == 0
    assert first.stdout.splitlines()[4] == second.stdout.splitlines()[4], "same login printed"
    engine = create_db_engine(f"sqlite:///{tmp_path}/contest.db")
    with engine.connect() as connection:
        contests = connection.execute(sa.text("SELECT slug FROM contest ORDER BY slug")).scalars()
        assert list(contests) == ["demo", "demo-clients", "demo-closed"]
        confirmed = connection.execute(
            sa.text(
                "SELECT count(*) FROM entry JOIN contest ON contest.id = entry.contest_id "
                "WHERE slug = 'demo-closed' AND entry.status = 'confirmed'"
            )
        ).scalar_one()
    assert confirmed == 1000
    made = run_cli(
        "create-organizer",
        "shop@example.org",
        "--password-stdin",
        data_dir=tmp_path,
        stdin="a long enough password\n",
    )
    assert made.returncode == 0, made.stderr
    weak = run_cli(
        "create-organizer",
        "other@example.org",
        "--password-stdin",
        data_dir=tmp_path,
        stdin="short\n",
    )
    assert weak.returncode != 0 and "at least" in weak.stderr
    engine.dispose()


@pytest.mark.parametrize("workers", [1, 2])
def test_serving_sqlite_with_several_processes_says_they_take_no_more_entries(
    tmp_path: Path, workers: int
) -> None:
    """SQLite takes one writer at a time: `contest serve --workers 2` over it would only make
    two processes wait for each other's lock, and says so when it starts."""
    assert run_cli("migrate", data_dir=tmp_path).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "contest.cli", "serve", "--port", str(free_port())]
        + ["--workers", str(workers)],
        env={"CONTEST_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        while not lines or not lines[-1].startswith("Serving on"):
            lines.append(process.stdout.readline())
            assert lines[-1], "the server stopped before serving"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)
    said = any("on SQLite, more processes do not take more entries" in line for line in lines)
    assert said == (workers > 1)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["serve", "--port", "99999"], "--port: from 1 to 65535, not 99999"),
        (["serve", "--workers", "0"], "--workers: at least 1, not 0"),
        (["worker", "--interval", "0"], "--interval: from 0.1 to 3600, not 0"),
        (["worker", "--interval", "nan"], "--interval: a number, not 'nan'"),
        (["purge", "--months", "-1"], "--months: from 1 to 1200, not -1"),
        (["rules", "list", "--jurisdiction", "XX"], "invalid choice: 'XX'"),
        (["bounces", "/nonexistent/report.eml"], "/nonexistent/report.eml: No such file"),
        (["create-organizer", "shop@example.org"], "use --password-stdin"),
    ],
)
def test_a_wrong_argument_is_refused_with_a_message_not_a_traceback(
    tmp_path: Path, args: list[str], says: str
) -> None:
    assert run_cli("migrate", data_dir=tmp_path).returncode == 0
    refused = run_cli(*args, data_dir=tmp_path)  # stdin is no terminal
    assert refused.returncode != 0 and says in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_rules_of_a_jurisdiction_are_listed_whatever_its_case(tmp_path: Path) -> None:
    listed = run_cli("rules", "list", "--jurisdiction", "fr", data_dir=tmp_path)
    assert listed.returncode == 0
    packs = {line.split("[")[1].split(";")[0] for line in listed.stdout.splitlines() if "[" in line}
    assert "FR" in packs and "US" not in packs


def test_create_organizer_offers_only_what_a_person_types(tmp_path: Path) -> None:
    offered = run_cli("create-organizer", "--help", data_dir=tmp_path).stdout
    assert "--legal-name" in offered and "--logo-path" not in offered, "the logo is uploaded"
