"""Every spelling of a Stripe secret is found (scan) and redacted with its shape kept; a live
key anywhere in a request is refused before anything is sent; a forgotten fixture never
reaches Stripe."""

from __future__ import annotations

import base64

import pytest

from pytest_stripe_fixtures.cassettes.errors import LiveKeyRefused
from pytest_stripe_fixtures.cassettes.secrets import find_secrets, redact, refuse_live

pytest_plugins = ["pytester"]

TAIL = "FAKE" + "x" * 4  # short: never a realistic key in the repository
SPELLINGS = {
    "after a percent escape": f"description=notes%3A%0Ask_test_{TAIL}",
    "in a metadata value": f"metadata[note]=token%3Dsk_test_{TAIL}",
    "after a JSON newline": f'{{"note": "a\\nsk_test_{TAIL}"}}',
    "percent-encoded": f"k=sk%5Ftest%5F{TAIL}",
    "JSON unicode escape": f'{{"note": "\\u0073k_test_{TAIL}"}}',
    "restricted live": f"rk_live_{TAIL}",
    "ephemeral test": f'{{"secret": "ek_test_{TAIL}"}}',
    "ephemeral live": f"ek_live_{TAIL}",
    "PaymentIntent client secret": f'{{"client_secret": "pi_123_secret_{TAIL}"}}',
    "SetupIntent client secret": f"client_secret=seti_123_secret_{TAIL}",
    "webhook signing secret": f"whsec_{TAIL}",
}


@pytest.mark.parametrize("case", SPELLINGS)
def test_every_spelling_is_found_and_redacted(case: str) -> None:
    text = SPELLINGS[case]
    assert find_secrets(text), case
    clean = redact(text)
    assert find_secrets(clean) == [], clean
    assert redact(clean) == clean  # stable: a redacted request still matches its recording


def test_redaction_keeps_the_shape() -> None:
    assert redact(f"pi_123_secret_{TAIL}") == "pi_123_secret_REDACTED"
    assert redact(f"sk_test_{TAIL}") == "sk_test_REDACTED"
    assert redact(f"whsec_{TAIL}") == "whsec_REDACTED"


LIVE = "sk_" + "live_" + TAIL
LIVE_REQUESTS = {
    "tab after Bearer": ({"Authorization": f"Bearer\t{LIVE}"}, "", None),
    "Basic password": ({"Authorization": "Basic " + base64.b64encode(f"u:{LIVE}".encode()).decode()},
                       "", None),
    "another header": ({"Stripe-Account": LIVE}, "", None),
    "body": ({}, "", f"note={LIVE}".encode()),
    "query": ({}, f"?k={LIVE}", None),
    "JSON escape": ({}, "", ('{"k": "\\u0073k_live_' + TAIL + '"}').encode()),
}


@pytest.mark.parametrize("case", LIVE_REQUESTS)
def test_a_live_key_anywhere_is_refused(case: str) -> None:
    headers, query, body = LIVE_REQUESTS[case]
    with pytest.raises(LiveKeyRefused):
        refuse_live("https://api.stripe.com/v1/products" + query, headers, body)


def test_a_forgotten_fixture_never_reaches_stripe(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_forgot="""
import pytest
import requests

def test_forgot():
    requests.get("https://api.stripe.com/v1/products", timeout=1)

@pytest.mark.stripe_live
def test_opted_in():
    with pytest.raises(Exception) as err:
        requests.get("https://api.stripe.com/v1/products", timeout=1)
    assert "stripe_fake" not in str(err.value)
""")
    result = pytester.runpytest("-p", "stripe_fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*test_forgot*sent a request to api.stripe.com*blocked*"
                                 "stripe_fake*stripe_cassette*"])
    result.assert_outcomes(failed=1, passed=1)
