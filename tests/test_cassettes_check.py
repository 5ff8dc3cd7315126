"""``python -m pytest_stripe_fixtures check cassettes/``: every recorded response against
``schemas/`` for its API version, a secret scan, a readable report and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_stripe_fixtures.cassettes import yamlio
from pytest_stripe_fixtures.cli import main

ROOT = Path(__file__).resolve().parents[1]
VERSION = "2023-08-16"


def product(**overrides: object) -> dict[str, object]:
    body = {"id": "prod_Mug0000000000", "object": "product", "active": True, "created": 1,
            "default_price": None, "description": None, "features": [], "images": [],
            "livemode": False, "metadata": {}, "name": "Mug", "package_dimensions": None,
            "shippable": None, "statement_descriptor": None, "tax_code": None,
            "unit_label": None, "updated": 1, "url": None}
    body.update(overrides)
    return body


def write(path: Path, *bodies: tuple[int, dict[str, object]], headers: dict | None = None) -> Path:
    path.write_text(yamlio.dumps([yamlio.Interaction(
        "GET", "https://api.stripe.com/v1/products/prod_Mug0000000000",
        headers or {"Stripe-Version": [VERSION]}, None, status, "OK",
        {"Content-Type": ["application/json"], "Stripe-Version": [VERSION]},
        json.dumps(body, indent=2)) for status, body in bodies], {}))
    return path


def test_the_projects_own_cassettes_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(ROOT / "cassettes")]) == 0
    out = capsys.readouterr().out
    assert "0 cassette(s) with problems" in out and "FAIL" not in out


def test_a_conforming_cassette_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "ok.yaml", (200, product()), (404, {"error": {
        "type": "invalid_request_error", "code": "resource_missing", "param": "id",
        "message": "No such product: 'prod_x'"}}))
    assert main(["check", str(tmp_path)]) == 0
    assert f"ok   {tmp_path / 'ok.yaml'} (2 interaction(s), 2 checked against schemas/)" \
        in capsys.readouterr().out


def test_a_response_off_schema_fails_with_file_line_and_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "bad.yaml", (200, product(active="yes", brand_new=1)))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {path}" in out
    assert f"{path}:3: #0 GET /v1/products/prod_Mug0000000000 ({VERSION}): product.json at " \
           "active: 'yes' is not of type 'boolean'" in out
    assert "Additional properties are not allowed ('brand_new' was unexpected)" in out


def test_a_secret_or_an_authorization_header_fails(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "key.yaml", (200, product(description="sk_test_fake12345")))
    write(tmp_path / "auth.yaml", (200, product()),
          headers={"Authorization": ["Bearer xyz"], "Stripe-Version": [VERSION]})
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'key.yaml'}:" in out and "secret-looking string sk_test_fake" in out
    assert ": Authorization header recorded" in out


def test_a_malformed_file_fails_naming_file_and_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.yaml").write_text("version: 1\ninteractions:\n- request: [\n")
    assert main(["check", str(tmp_path)]) == 1
    assert f"{tmp_path / 'broken.yaml'}:4: not a valid Stripe cassette: YAML syntax error" \
        in capsys.readouterr().out


def test_unknown_versions_are_listed_as_not_checked(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.yaml"
    write(path, (200, product()), headers={"Stripe-Version": ["2020-08-27"]})
    path.write_text(path.read_text().replace(VERSION, "2020-08-27"))
    assert main(["check", str(path)]) == 0
    assert "no schemas for Stripe-Version '2020-08-27'" in capsys.readouterr().out


def test_no_cassettes_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path)]) == 2
    assert "no cassettes" in capsys.readouterr().out


def test_runs_as_a_module_with_the_fake_comparison() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest_stripe_fixtures", "check",
                             "cassettes/docs", "--verify-fake"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cassettes/docs/detach_a_source.yaml" in result.stdout
    assert "fake vs recordings: 1 cassette(s), 4 interaction(s) replayed" in result.stdout


def test_every_stripe_host_is_checked_not_only_api_and_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "connect.yaml", (200, {"access_token": "REDACTED"}))
    path.write_text(path.read_text().replace(
        "https://api.stripe.com/v1/products/prod_Mug0000000000", "https://connect.stripe.com/oauth/token"))
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "#0 GET /oauth/token: endpoint not in schemas/, not checked" in out
    assert "not a Stripe host" not in out
