"""One declaration per contest field: the form, the API, the row and the rules all follow it."""

from __future__ import annotations

import dataclasses

from sqlalchemy import Engine
from starlette.datastructures import ImmutableMultiDict
from starlette.testclient import TestClient

from contest.contests import load_contest
from contest.contests.fields import PRIZE_SETTINGS, SETTINGS, ContestSettings
from contest.contests.formats import form_values, json_as_form, parse_contest_form, settings_json
from contest.demo import demo_password
from contest.models import Contest
from contest.models import Prize as PrizeRow
from contest.settings import Settings
from rules import ContestFacts, Prize
from tests.helpers import sign_in


def _as_form(values: dict[str, object]) -> ImmutableMultiDict[str, str]:
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        pairs.extend((name, str(v)) for v in (value if isinstance(value, list) else [value]))
    return ImmutableMultiDict(pairs)


def _demo(engine: Engine) -> ContestSettings:
    with engine.connect() as connection:
        view = load_contest(connection, "demo")
    assert view is not None
    return ContestSettings(**{name: getattr(view, name) for name in SETTINGS}, prizes=view.prizes)


def test_every_setting_is_a_column_and_every_fact_a_rules_fact() -> None:
    columns = set(Contest.__table__.columns.keys())  # type: ignore[attr-defined]
    facts = {field.name for field in dataclasses.fields(ContestFacts)}
    for name, spec in SETTINGS.items():
        assert name in columns, f"{name} has no column in the contest table"
        if spec.fact is not None:
            assert (spec.fact or name) in facts, f"{name} feeds an unknown fact"
    prize_columns = set(PrizeRow.__table__.columns.keys())  # type: ignore[attr-defined]
    prize_fields = {field.name for field in dataclasses.fields(Prize)}
    assert set(PRIZE_SETTINGS) <= prize_columns & prize_fields


def test_a_stored_contest_survives_the_form_and_the_api_unchanged(
    client: TestClient, engine: Engine
) -> None:
    demo = _demo(engine)
    assert parse_contest_form(_as_form(form_values(demo))) == demo
    through_api = parse_contest_form(ImmutableMultiDict(json_as_form(settings_json(demo))))
    uploads = {"image_path": demo.image_path, "logo_path": demo.logo_path}
    assert dataclasses.replace(through_api, **uploads) == demo


def test_the_workspace_form_shows_every_form_field(client: TestClient, settings: Settings) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    form = client.get("/admin/contests/new").text
    for name, spec in SETTINGS.items():
        if spec.form:
            assert f'name="{name}"' in form, f"the form does not show {name}"


def test_the_openapi_document_lists_every_api_field(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    for name, spec in SETTINGS.items():
        if spec.api:
            assert name in schemas["ContestSettings"]["properties"]
            assert name in schemas["Contest"]["properties"]
        else:
            assert name not in schemas["ContestSettings"]["properties"]
