"""None of our own faults: hostile input gets Stripe's 400, never a 500, a hang or a leak.

Each test is the regression test of one finding of adversarial testing (issue 16, part 2).
"""

from __future__ import annotations

import pytest
import stripe
from helpers import KEY, error_of, raw, request_error

from pytest_stripe_fixtures.fake import StripeFake, engine
from pytest_stripe_fixtures.fake.formcodec import MAX_DEPTH

HUGE = "1" * 5000  # beyond Python's 4,300-digit limit for int("...")


@pytest.mark.parametrize("path, params", [
    ("/v1/products", {"limit": HUGE}),
    ("/v1/products", {"created[gt]": HUGE}),
    ("/v1/prices", {"limit": "9" * 25}),
])
def test_integers_of_any_length_in_a_query_are_invalid_integers(path, params):
    fake = StripeFake()
    response = raw(fake, "GET", path, "&".join(f"{k}={v}" for k, v in params.items()))
    assert response.status == 400
    assert error_of(response)["code"] == "parameter_invalid_integer"
    assert fake.internal_errors == []


def test_a_huge_integer_in_a_body_is_an_invalid_integer(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    error = request_error(stripe_client.v1.prices.create, params={
        "product": product.id, "currency": "usd", "unit_amount": HUGE})
    assert (error.code, error.param) == ("parameter_invalid_integer", "unit_amount")
    assert len(error.user_message) < 200  # the value is not echoed in full


@pytest.mark.parametrize("digits", ["１２", "٣", "1٢", "१००"])
def test_digits_other_than_ascii_are_not_numbers(stripe_client, digits):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    error = request_error(stripe_client.v1.prices.create, params={
        "product": product.id, "currency": "usd", "unit_amount": digits})
    assert (error.code, error.param) == ("parameter_invalid_integer", "unit_amount")
    error = request_error(stripe_client.v1.coupons.create, params={
        "percent_off": digits, "duration": "once"})
    assert error.param == "percent_off"


def test_amounts_take_at_most_eight_digits(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    price = stripe_client.v1.prices.create(params={
        "product": product.id, "currency": "usd", "unit_amount": 99_999_999})
    assert price.unit_amount == 99_999_999
    for params in ({"unit_amount": 100_000_000}, {"unit_amount": "1" * 25},
                   {"unit_amount_decimal": "1" * 25}, {"unit_amount_decimal": "100000000.5"},
                   {"billing_scheme": "tiered", "tiers_mode": "graduated",
                    "recurring": {"interval": "month"},
                    "tiers": [{"up_to": "inf", "flat_amount": 10**12}]}):
        error = request_error(stripe_client.v1.prices.create, params={
            "product": product.id, "currency": "usd", **params})
        assert error.param is not None
    error = request_error(stripe_client.v1.coupons.create, params={
        "amount_off": 10**20, "currency": "usd", "duration": "once"})
    assert error.param == "amount_off"
    assert stripe_client.v1.coupons.create(params={
        "amount_off": 99_999_999, "currency": "usd", "duration": "once"}).amount_off == 99_999_999


def test_a_search_combines_at_most_ten_clauses(stripe_client):
    ten = " OR ".join(f'name:"p{i}"' for i in range(10))
    assert stripe_client.v1.products.search(params={"query": ten}).data == []
    error = request_error(stripe_client.v1.products.search,
                          params={"query": " OR ".join(f'name:"p{i}"' for i in range(400))})
    assert error.param == "query"


@pytest.mark.parametrize("version", ["2023-08-16.zzz", "1970-01-01", "2010-12-31",
                                     "2025-04-30.acacia", "２０２３-08-16"])
def test_malformed_and_prehistoric_versions_are_refused(stripe_fake, version):
    client = stripe.StripeClient(KEY, stripe_version=version)
    error = request_error(client.v1.products.list)
    assert error.code == "api_version_invalid"


def test_a_long_bracketed_key_is_parsed_in_one_pass_and_deep_keys_are_refused():
    fake = StripeFake()
    long_key = "metadata" + "[a]" * 300_000 + "=1"  # 0.9 MB: seconds of work when quadratic
    response = raw(fake, "POST", "/v1/products", "name=Mug&" + long_key)
    assert response.status == 400
    assert len(error_of(response)["message"]) < 300
    deep = "metadata" + "[a]" * MAX_DEPTH + "=1"
    assert raw(fake, "POST", "/v1/products", "name=Mug&" + deep).status == 400
    shallow = "metadata[a]=1"
    assert raw(fake, "POST", "/v1/products", "name=Mug&" + shallow).status == 200


def test_folded_header_values_are_never_echoed_with_line_breaks():
    fake = StripeFake()
    response = raw(fake, "POST", "/v1/products", {"name": "Mug"},
                   headers={"Idempotency-Key": "key\r\n continued"})
    assert response.headers["Idempotency-Key"] == "key continued"
    assert not any("\n" in v or "\r" in v for v in response.headers.values())


def test_an_empty_idempotency_key_is_no_key(stripe_fake):
    first = raw(stripe_fake, "POST", "/v1/products", {"name": "Mug"},
                headers={"Idempotency-Key": ""})
    second = raw(stripe_fake, "POST", "/v1/products", {"name": "Cup"},
                 headers={"Idempotency-Key": " "})
    assert first.status == second.status == 200
    assert first.json()["id"] != second.json()["id"]
    assert "Idempotency-Key" not in first.headers
    assert stripe_fake.requests[0].idempotency_key is None


def test_idempotency_keys_expire_after_24_hours_of_the_fake_clock(stripe_client, stripe_fake):
    first = stripe_client.v1.products.create(params={"name": "Mug"},
                                             options={"idempotency_key": "order-1"})
    stripe_fake.clock.advance(24 * 3600 - 1)
    replay = stripe_client.v1.products.create(params={"name": "Mug"},
                                              options={"idempotency_key": "order-1"})
    assert replay.id == first.id  # still within Stripe's window
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.products.create(params={"name": "Cup"},
                                         options={"idempotency_key": "order-1"})
    stripe_fake.clock.advance(1)
    again = stripe_client.v1.products.create(params={"name": "Cup"},
                                             options={"idempotency_key": "order-1"})
    assert again.id != first.id and again.name == "Cup"  # pruned: a new request


def test_idempotency_keys_are_bounded_per_account(monkeypatch):
    monkeypatch.setattr(engine, "MAX_IDEMPOTENCY_KEYS", 3)
    fake = StripeFake()
    ids = [raw(fake, "POST", "/v1/products", {"name": "Mug"},
               headers={"Idempotency-Key": f"k{i}"}).json()["id"] for i in range(5)]
    assert len(fake.account().idempotency) == 3
    assert raw(fake, "POST", "/v1/products", {"name": "Mug"},
               headers={"Idempotency-Key": "k4"}).json()["id"] == ids[4]  # newest kept
    assert raw(fake, "POST", "/v1/products", {"name": "Mug"},
               headers={"Idempotency-Key": "k0"}).json()["id"] != ids[0]  # oldest forgotten


def test_per_key_accounts_are_bounded_least_recently_used_first():
    fake = StripeFake(isolate_keys=True, max_accounts=3)
    for i in range(3):
        raw(fake, "POST", "/v1/products", {"name": f"Mug {i}"}, key=f"sk_test_{i}")
    raw(fake, "GET", "/v1/products", key="sk_test_0")  # used again: now the newest
    raw(fake, "POST", "/v1/products", {"name": "Mug 3"}, key="sk_test_3")  # evicts sk_test_1
    listed = {i: len(raw(fake, "GET", "/v1/products", key=f"sk_test_{i}").json()["data"])
              for i in (0, 2, 3)}
    assert listed == {0: 1, 2: 1, 3: 1}
    assert raw(fake, "GET", "/v1/products", key="sk_test_1").json()["data"] == []


def test_reset_says_whether_the_account_existed():
    fake = StripeFake(isolate_keys=True)
    raw(fake, "POST", "/v1/products", {"name": "Mug"}, key="sk_test_a")
    assert fake.reset("sk_test_a") is True
    assert fake.reset("sk_test_a") is False
