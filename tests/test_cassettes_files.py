"""Cassette files: a broken file is an error naming it (and the line), never an empty cassette
to re-record; writes are atomic; record modes keep vcrpy's meanings; vcrpy reads our files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import stripe
from cassette_standin import StandIn

from pytest_stripe_fixtures.cassettes import (
    Cassette,
    CassetteFormatError,
    CassetteNotFound,
    SecretInCassette,
    use_cassette,
    yamlio,
)

pytest_plugins = ["pytester"]

KEY = "sk_test_fake"

GOOD = """\
version: 1
interactions:
- request:
    method: GET
    uri: https://api.stripe.com/v1/products/prod_Mug0000000000
    body: null
    headers: {}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": "prod_Mug0000000000", "object": "product", "name": "Mug"}'}
"""

BROKEN = {
    "a YAML syntax error": (GOOD.replace("method: GET", "method: [GET"), 5,
                            "YAML syntax error"),
    "a tab in the indentation": (GOOD.replace("    body: null", "\tbody: null"), 6,
                                 "YAML syntax error"),
    "an empty file": ("", 1, "empty file"),
    "no interactions list": ("version: 1\nrequests: []\n", 1,
                             "no 'interactions' list at the top level"),
    "an interaction without a response": (GOOD.split("  response:")[0], 3,
                                          "interaction #0: needs both 'request' and 'response'"),
    "a status that is not a number": (GOOD.replace("code: 200", "code: OK"), 3,
                                      "interaction #0: response.status.code must be"),
    "a negative status": (GOOD.replace("code: 200", "code: -5"), 3,
                          "interaction #0: response.status.code must be"),
    "a method list": (GOOD.replace("method: GET", "method: [POST]"), 3,
                      "interaction #0: request.method must be"),
    "a mapping as the request body": (GOOD.replace("    body: null", "    body: {name: Mug}"), 3,
                                      "interaction #0: request.body must be text"),
    "a header that is a mapping": (GOOD.replace("headers: {Content-Type: [application/json]}",
                                                "headers: {Content-Type: {a: b}}"), 3,
                                   "interaction #0: response.headers['Content-Type'] must be"),
    "a malformed IPv6 URI": (GOOD.replace("https://api.stripe.com/", "http://[::1/"), 3,
                             "interaction #0: request.uri"),
    "a body truncated inside JSON": (GOOD.replace('"name": "Mug"}', '"name": "Mu'), 3,
                                     "interaction #0: response.body is not valid JSON"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_malformed_cassette_is_an_error_naming_file_and_line(tmp_path: Path, case: str) -> None:
    text, line, problem = BROKEN[case]
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(CassetteFormatError) as raised:
        Cassette(path)
    assert str(raised.value).startswith(f"{path}:{line}: not a valid Stripe cassette: {problem}")
    assert raised.value.line == line


def test_a_cassette_that_is_not_utf8_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"version: 1\ninteractions: [\xff\xfe]\n")
    with pytest.raises(CassetteFormatError, match=rf"^{path}: not a valid Stripe cassette: "
                                                  "not UTF-8 text"):
        Cassette(path)


@pytest.mark.parametrize("mode", ["once", "new_episodes", "all"])
def test_a_broken_cassette_is_never_silently_re_recorded(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN["a YAML syntax error"][0])
    before = path.read_bytes()
    with StandIn() as standin:
        with pytest.raises(CassetteFormatError, match=rf"{path}:5:"):
            with use_cassette(path, mode, upstream=standin.url):
                stripe.StripeClient(KEY).v1.products.list()
        assert standin.requests == []
    assert path.read_bytes() == before


def test_rewrite_replaces_even_a_broken_cassette(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN["an empty file"][0])
    with StandIn() as standin, use_cassette(path, "rewrite", upstream=standin.url):
        stripe.StripeClient(KEY).v1.products.list()
    assert len(yamlio.load(path).interactions) == 1


def test_the_plugin_fails_the_test_naming_the_broken_file(pytester: pytest.Pytester) -> None:
    folder = pytester.path / "cassettes" / "test_broken"
    folder.mkdir(parents=True)
    (folder / "test_it.yaml").write_text(BROKEN["a YAML syntax error"][0])
    pytester.makepyfile(test_broken="def test_it(stripe_cassette):\n    pass\n")
    result = pytester.runpytest("-p", "stripe_fixtures", "-p", "no:cacheprovider",
                                "--stripe-record-mode=new_episodes")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_broken.py::test_it: *cassettes/test_broken/test_it.yaml:5: "
                                 "not a valid Stripe cassette: YAML syntax error*"])


def test_writes_are_atomic_a_failed_write_leaves_the_old_file(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "products.yaml"
    path.write_text(GOOD)

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with StandIn() as standin, pytest.raises(OSError, match="disk full"):
        with use_cassette(path, "new_episodes", upstream=standin.url):
            stripe.StripeClient(KEY).v1.products.list()
    assert path.read_text() == GOOD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["products.yaml"]  # no temp file left


def test_a_secret_that_survived_scrubbing_stops_the_write(tmp_path: Path) -> None:
    path = tmp_path / "leak.yaml"
    leak = yamlio.Interaction("GET", "https://api.stripe.com/v1/products", {}, None, 200, "OK", {},
                              '{"note": "sk_test_fake123"}')
    with pytest.raises(SecretInCassette, match=r"leak.yaml: not written: .*sk_test_\.\.\."):
        yamlio.save(path, [leak], metadata=lambda old, added: {})
    assert not path.exists()


def test_record_modes_keep_vcrpy_meanings(tmp_path: Path) -> None:
    path = tmp_path / "modes.yaml"
    with StandIn() as standin:
        def run(mode: str, *names: str) -> list[str]:
            with use_cassette(path, mode, upstream=standin.url):
                client = stripe.StripeClient(KEY)
                for name in names:
                    client.v1.products.create(params={"name": name})
            return [i.request_body or "" for i in yamlio.load(path).interactions]

        with pytest.raises(CassetteNotFound):
            run("none", "Mug")
        assert run("once", "Mug", "Cup") == ["name=Mug", "name=Cup"]
        sent = len(standin.requests)
        assert run("once", "Mug") == ["name=Mug", "name=Cup"]  # replayed, nothing sent
        assert len(standin.requests) == sent
        assert run("new_episodes", "Mug", "Hat") == ["name=Mug", "name=Cup", "name=Hat"]
        assert len(standin.requests) == sent + 1  # only the new episode went out
        assert run("all", "Cup") == ["name=Mug", "name=Hat", "name=Cup"]  # re-recorded, replaced
        assert run("rewrite", "Hat") == ["name=Hat"]


def test_vcrpy_itself_can_replay_our_cassettes(tmp_path: Path) -> None:
    vcr = pytest.importorskip("vcr")
    path = tmp_path / "compat.yaml"
    with StandIn() as standin, use_cassette(path, "once", upstream=standin.url):
        created = stripe.StripeClient(KEY).v1.products.create(params={"name": "Mug"})
    with vcr.VCR(record_mode="none").use_cassette(str(path)):
        replayed = stripe.StripeClient(KEY).v1.products.create(params={"name": "Mug"})
    assert replayed.id == created.id


def test_loading_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "cached.yaml"
    path.write_text(GOOD)
    first = yamlio.load(path)
    assert yamlio.load(path) is first
    path.write_text(GOOD.replace("Mug", "Cup"))
    assert yamlio.load(path) is not first
    assert '"Cup"' in yamlio.load(path).interactions[0].response_body


def test_cassettes_written_by_vcrpy_load_too(tmp_path: Path) -> None:
    """A user's existing vcrpy cassette parses the same with our fast reader as with PyYAML."""
    vcr = pytest.importorskip("vcr")
    import requests
    import yaml

    path = tmp_path / "by_vcrpy.yaml"
    with StandIn() as standin, vcr.VCR(record_mode="once").use_cassette(str(path)):
        requests.post(f"{standin.url}/v1/products", data={"name": "Mug"}, auth=(KEY, ""))
        requests.get(f"{standin.url}/v1/products/prod_missing", auth=(KEY, ""))
    text = path.read_text()
    assert yamlio._fast_load(text) == yaml.load(text, Loader=yaml.SafeLoader)
    document = yamlio.load(path)
    assert [(i.method, i.status) for i in document.interactions] == [("POST", 200), ("GET", 404)]
    assert document.interactions[0].request_body == "name=Mug"
