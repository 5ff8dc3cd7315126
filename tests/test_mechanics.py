"""Cross-cutting Stripe mechanics every resource shares (STRIPE-API-RULES.md sections 2-10),
shown on products and prices through the real stripe SDK."""

from __future__ import annotations

import re

import pytest
import stripe
from helpers import KEY, basic, error_of, raw

from pytest_stripe_fixtures.fake import StripeFake, errors
from pytest_stripe_fixtures.fake.lists import MAX_LIMIT

# --- 2.1 form encoding -------------------------------------------------------------------


def test_both_array_spellings_and_bracket_nesting_decode_the_same():
    fake = StripeFake()
    product = raw(fake, "POST", "/v1/products", "name=Mug&images[]=https://x/1.png"
                  "&images[]=https://x/2.png&metadata[sku]=M1").json()
    same = raw(fake, "POST", "/v1/products", "name=Mug&images[0]=https://x/1.png"
               "&images[1]=https://x/2.png&metadata[sku]=M1").json()
    assert product["images"] == same["images"] == ["https://x/1.png", "https://x/2.png"]
    assert product["metadata"] == {"sku": "M1"}
    listed = raw(fake, "GET", "/v1/prices", "expand[]=data.product").json()
    assert listed["object"] == "list"


def test_booleans_travel_as_true_and_false(stripe_client):
    stripe_client.v1.products.create(params={"name": "Old", "active": False})
    stripe_client.v1.products.create(params={"name": "New"})
    names = [p.name for p in stripe_client.v1.products.list(params={"active": False})]
    assert names == ["Old"]
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.raw_request("post", "/v1/products", name="X", active="yes")
    assert info.value.param == "active"
    assert info.value.code == "parameter_invalid_boolean"


def test_empty_string_unsets_only_where_the_endpoint_allows_it(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug", "description": "Big"})
    cleared = stripe_client.v1.products.update(product.id, params={"description": ""})
    assert cleared.description is None
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.update(product.id, params={"name": ""})
    err = info.value
    assert (err.http_status, err.code, err.param) == (400, "parameter_invalid_empty", "name")
    assert err.user_message == (
        "You passed an empty string for 'name'. We assume empty values are an attempt to unset "
        "a parameter; however 'name' cannot be unset. You should remove 'name' from your "
        "request or supply a non-empty value.")


def test_an_empty_id_on_create_is_refused(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "id": ""})
    assert info.value.user_message == (
        "You cannot set 'id' to an empty string. We interpret empty strings as null in requests. "
        "You may set 'id' to null to delete the property.")


def test_a_malformed_body_is_a_400_not_a_crash():
    fake = StripeFake()
    response = raw(fake, "POST", "/v1/products", "name=x&a[b=1")
    assert response.status == 400
    assert error_of(response)["type"] == "invalid_request_error"


# --- 3 validation from the schema --------------------------------------------------------


def test_unknown_parameters_are_rejected_with_their_bracketed_name(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "colour": "red"})
    err = info.value
    assert (err.http_status, err.code, err.param) == (400, "parameter_unknown", "colour")
    assert err.user_message == "Received unknown parameter: colour"
    assert err.error.doc_url == "https://stripe.com/docs/error-codes/parameter-unknown"
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(
            params={"name": "Mug", "package_dimensions": {"height": 1, "length": 1, "weight": 1,
                                                          "width": 1, "depth": 2}})
    assert info.value.param == "package_dimensions[depth]"
    assert info.value.user_message == "Received unknown parameter: package_dimensions[depth]"


def test_missing_required_params_name_the_param_with_a_period(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"description": "no name"})
    err = info.value
    assert (err.code, err.param, err.user_message) == (
        "parameter_missing", "name", "Missing required param: name.")
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(
            params={"name": "Box", "package_dimensions": {"height": 1, "length": 1, "weight": 1}})
    assert info.value.param == "package_dimensions[width]"
    assert info.value.user_message == "Missing required param: package_dimensions[width]."


def test_wrong_types_are_rejected(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.create(
            params={"product": product.id, "currency": "usd", "unit_amount": "12.5"})
    err = info.value
    assert (err.code, err.param, err.user_message) == (
        "parameter_invalid_integer", "unit_amount", "Invalid integer: 12.5")
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.raw_request("post", "/v1/products", name="Mug", metadata="not-a-hash")
    assert info.value.param == "metadata"


def test_bad_enum_values_list_the_choices(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.create(params={
            "product": product.id, "currency": "usd", "unit_amount": 100,
            "recurring": {"interval": "fortnight"}})
    err = info.value
    assert err.param == "recurring[interval]"
    assert err.user_message == ("Invalid recurring[interval]: must be one of day, month, week, "
                                "or year")


def test_lengths_and_bounds(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "statement_descriptor": "X" * 23})
    assert info.value.param == "statement_descriptor"
    assert info.value.user_message == ("The statement descriptor must be at most 22 characters. "
                                       f"{'X' * 23} is 23 characters long.")
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "unit_label": "x" * 13})
    assert info.value.user_message == errors.INVALID_STRING_LENGTH.format(value="x" * 13,
                                                                          limit=12)
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.create(
            params={"product": product.id, "currency": "usd", "unit_amount": -1})
    assert info.value.param == "unit_amount"
    assert info.value.user_message == "This value must be greater than or equal to 0."


def test_unknown_urls_and_methods_are_404(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.raw_request("get", "/v1/widgets")
    assert info.value.http_status == 404
    assert info.value.user_message == (
        "Unrecognized request URL (GET: /v1/widgets). Please see https://stripe.com/docs or we "
        "can help at https://support.stripe.com/.")
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.raw_request("delete", "/v1/prices/price_123")
    assert info.value.http_status == 404
    assert "Unrecognized request URL (DELETE: /v1/prices/price_123)" in info.value.user_message


def test_a_trailing_slash_gets_the_longer_unrecognized_url_message():
    response = raw(StripeFake(), "GET", "/v1/products/")
    assert response.status == 404
    assert error_of(response)["message"].startswith(
        "Unrecognized request URL (GET: /v1/products/). If you are trying to list objects, "
        "remove the trailing slash.")


def test_missing_objects_are_404_in_the_path_and_400_in_the_body(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.retrieve("prod_missing")
    err = info.value
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "id")
    assert err.user_message == "No such product: 'prod_missing'"
    assert err.error.doc_url == "https://stripe.com/docs/error-codes/resource-missing"
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.create(
            params={"product": "prod_missing", "currency": "usd", "unit_amount": 100})
    err = info.value
    assert (err.http_status, err.code, err.param) == (400, "resource_missing", "product")
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.retrieve("price_missing")
    assert (info.value.http_status, info.value.param) == (404, "price")


def test_error_bodies_carry_a_request_log_url_and_sorted_keys():
    response = raw(StripeFake(), "GET", "/v1/products/prod_nope")
    error = error_of(response)
    assert list(error) == sorted(error)
    assert re.match(r"https://dashboard\.stripe\.com/test/logs/req_\w{14}\?t=\d+\Z",
                    error["request_log_url"])


# --- 2.2 auth ------------------------------------------------------------------------------


def test_no_key_is_a_401_with_stripes_message():
    response = raw(StripeFake(), "GET", "/v1/products", key=None)
    assert response.status == 401
    assert error_of(response) == {"message": errors.NO_API_KEY, "type": "invalid_request_error",
                                  "request_log_url": error_of(response)["request_log_url"]}
    assert "You did not provide an API key." in errors.NO_API_KEY


def test_keys_by_bearer_or_basic_auth_both_work():
    fake = StripeFake()
    assert raw(fake, "GET", "/v1/products", key=None,
               headers={"Authorization": basic(KEY)}).status == 200
    assert raw(fake, "GET", "/v1/products").status == 200


def test_publishable_keys_are_refused(stripe_fake):
    client = stripe.StripeClient("pk_test_fake")
    with pytest.raises(stripe.AuthenticationError) as info:
        client.v1.products.list()
    assert info.value.http_status == 401
    assert info.value.user_message.startswith(
        "This API call cannot be made with a publishable API key.")


def test_live_keys_are_refused_because_the_fake_speaks_test_mode_only(stripe_fake):
    client = stripe.StripeClient("sk_live_fake")
    with pytest.raises(stripe.AuthenticationError) as info:
        client.v1.products.create(params={"name": "Mug"})
    assert "only speaks test mode" in info.value.user_message
    assert stripe_fake.objects("product") == []


def test_an_invalid_key_is_masked_in_the_message(stripe_fake):
    with pytest.raises(stripe.AuthenticationError) as info:
        stripe.StripeClient("sk_tst_abcdefgh1234").v1.products.list()
    assert info.value.user_message.startswith("Invalid API Key provided: ")
    assert info.value.user_message.endswith("1234")


def test_objects_are_test_mode_objects(stripe_client):
    assert stripe_client.v1.products.create(params={"name": "Mug"}).livemode is False


# --- 2.3 headers -----------------------------------------------------------------------------


def test_every_response_has_a_request_id_and_reflects_the_idempotency_key(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"},
                                               options={"idempotency_key": "order-1"})
    response = product.last_response
    assert re.match(r"req_[A-Za-z0-9]{14}\Z", response.request_id)
    assert response.headers["Idempotency-Key"] == "order-1"
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.retrieve("prod_missing")
    assert info.value.request_id.startswith("req_")


# --- 4 idempotency -----------------------------------------------------------------------------


def test_a_retried_key_replays_the_saved_response_without_a_second_object(stripe_client,
                                                                           stripe_fake):
    first = stripe_client.v1.products.create(params={"name": "Mug"},
                                             options={"idempotency_key": "k1"})
    again = stripe_client.v1.products.create(params={"name": "Mug"},
                                             options={"idempotency_key": "k1"})
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(stripe_fake.objects("product")) == 1


def test_a_key_reused_with_other_params_is_an_idempotency_error(stripe_client):
    stripe_client.v1.products.create(params={"name": "Mug"}, options={"idempotency_key": "k2"})
    with pytest.raises(stripe.IdempotencyError) as info:
        stripe_client.v1.products.create(params={"name": "Cup"},
                                         options={"idempotency_key": "k2"})
    assert info.value.http_status == 400
    assert info.value.user_message == (
        "Keys for idempotent requests can only be used with the same parameters they were first "
        "used with. Try using a key other than 'k2' if you meant to execute a different request.")


def test_a_key_reused_on_another_endpoint_is_an_idempotency_error(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"},
                                               options={"idempotency_key": "k3"})
    with pytest.raises(stripe.IdempotencyError) as info:
        stripe_client.v1.products.update(product.id, params={"name": "Mug"},
                                         options={"idempotency_key": "k3"})
    assert info.value.user_message.startswith(
        "Keys for idempotent requests can only be used for the same endpoint they were first "
        f"used for ('/v1/products' vs '/v1/products/{product.id}').")


def test_validation_failures_are_not_saved_so_a_corrected_retry_runs(stripe_client):
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.products.create(params={"description": "x"},
                                         options={"idempotency_key": "k4"})
    product = stripe_client.v1.products.create(params={"name": "Mug"},
                                               options={"idempotency_key": "k4"})
    assert product.name == "Mug"


def test_errors_raised_while_executing_are_saved_and_replayed(stripe_client):
    params = {"product": "prod_later", "currency": "usd", "unit_amount": 100}
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.prices.create(params=params, options={"idempotency_key": "k5"})
    stripe_client.v1.products.create(params={"name": "Later", "id": "prod_later"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.create(params=params, options={"idempotency_key": "k5"})
    assert info.value.code == "resource_missing"
    assert info.value.headers["Idempotent-Replayed"] == "true"


def test_get_requests_ignore_idempotency_keys(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    fetched = stripe_client.v1.products.retrieve(product.id)
    assert "Idempotency-Key" not in fetched.last_response.headers


# --- 5 lists ---------------------------------------------------------------------------------


def _products(client, count):
    return [client.v1.products.create(params={"name": f"P{i}"}) for i in range(count)]


def test_lists_are_newest_first_with_a_deterministic_tiebreak(stripe_client):
    made = _products(stripe_client, 3)  # same second on the frozen clock
    page = stripe_client.v1.products.list()
    assert [p.id for p in page.data] == [p.id for p in reversed(made)]
    assert page.url == "/v1/products"
    assert page.has_more is False


def test_limit_defaults_to_10_and_has_more_tells_there_is_more(stripe_client):
    _products(stripe_client, 12)
    page = stripe_client.v1.products.list()
    assert len(page.data) == 10 and page.has_more is True
    assert len(stripe_client.v1.products.list(params={"limit": 2}).data) == 2


@pytest.mark.parametrize("limit", [0, MAX_LIMIT + 1])
def test_limit_must_be_between_1_and_100(stripe_client, limit):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.list(params={"limit": limit})
    assert info.value.param == "limit"


def test_cursors_page_both_ways(stripe_client):
    made = [p.id for p in reversed(_products(stripe_client, 5))]  # newest first
    after = stripe_client.v1.products.list(params={"limit": 2, "starting_after": made[1]})
    assert [p.id for p in after.data] == made[2:4] and after.has_more is True
    before = stripe_client.v1.products.list(params={"limit": 2, "ending_before": made[3]})
    assert [p.id for p in before.data] == made[1:3] and before.has_more is True
    first = stripe_client.v1.products.list(params={"limit": 2, "ending_before": made[1]})
    assert [p.id for p in first.data] == made[:1] and first.has_more is False


def test_starting_after_and_ending_before_are_exclusive(stripe_client):
    made = _products(stripe_client, 2)
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.list(
            params={"starting_after": made[0].id, "ending_before": made[1].id})
    assert info.value.user_message == (
        "You may only specify one of these parameters: starting_after, ending_before.")


def test_a_cursor_that_does_not_exist_is_resource_missing(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.list(params={"starting_after": "prod_gone"})
    assert (info.value.code, info.value.param) == ("resource_missing", "starting_after")


def test_auto_paging_visits_every_object_exactly_once(stripe_client):
    made = {p.id for p in _products(stripe_client, 25)}
    seen = [p.id for p in stripe_client.v1.products.list(params={"limit": 3}).auto_paging_iter()]
    assert len(seen) == 25 and set(seen) == made


def test_auto_paging_in_the_global_style(stripe_fake):
    stripe.api_key = KEY
    try:
        for i in range(7):
            stripe.Product.create(name=f"P{i}")
        assert len(list(stripe.Product.list(limit=2).auto_paging_iter())) == 7
    finally:
        stripe.api_key = None


def test_created_filters(stripe_client, stripe_fake):
    old = stripe_client.v1.products.create(params={"name": "Old"})
    stripe_fake.clock.advance(100)
    new = stripe_client.v1.products.create(params={"name": "New"})
    assert [p.id for p in stripe_client.v1.products.list(
        params={"created": {"gt": old.created}})] == [new.id]
    assert [p.id for p in stripe_client.v1.products.list(
        params={"created": {"lte": old.created}})] == [old.id]
    assert [p.id for p in stripe_client.v1.products.list(
        params={"created": new.created})] == [new.id]


# --- 7 expand --------------------------------------------------------------------------------


def test_expand_turns_ids_into_objects(stripe_client):
    product = stripe_client.v1.products.create(
        params={"name": "Mug", "default_price_data": {"currency": "usd", "unit_amount": 900}})
    assert isinstance(product.default_price, str)
    expanded = stripe_client.v1.products.retrieve(product.id,
                                                  params={"expand": ["default_price"]})
    assert expanded.default_price.object == "price"
    assert expanded.default_price.unit_amount == 900
    price = stripe_client.v1.prices.retrieve(product.default_price,
                                             params={"expand": ["product.default_price"]})
    assert price.product.default_price.id == product.default_price


def test_lists_expand_with_the_data_prefix(stripe_client):
    stripe_client.v1.products.create(
        params={"name": "Mug", "default_price_data": {"currency": "usd", "unit_amount": 900}})
    listed = stripe_client.v1.prices.list(params={"expand": ["data.product"]})
    assert listed.data[0].product.name == "Mug"
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.prices.list(params={"expand": ["product"]})
    assert info.value.user_message == (
        "This property cannot be expanded (product). You may want to try expanding "
        "'data.product' instead.")


def test_includable_fields_are_absent_unless_expanded(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    price = stripe_client.v1.prices.create(params={
        "product": product.id, "currency": "usd", "unit_amount": 100,
        "currency_options": {"eur": {"unit_amount": 90}}})
    assert "currency_options" not in price and "tiers" not in price
    full = stripe_client.v1.prices.retrieve(price.id, params={"expand": ["currency_options"]})
    assert full.currency_options["eur"].unit_amount == 90
    assert full.currency_options["usd"].unit_amount == 100


def test_fields_that_cannot_be_expanded(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.retrieve(product.id, params={"expand": ["metadata"]})
    assert info.value.user_message == "This property cannot be expanded (metadata)."
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.retrieve(product.id, params={"expand": ["a.b.c.d.e"]})
    assert info.value.user_message == "You cannot expand more than 4 levels of a property."


# --- 8 metadata ------------------------------------------------------------------------------


def test_metadata_merges_on_update_and_empty_strings_unset(stripe_client):
    product = stripe_client.v1.products.create(
        params={"name": "Mug", "metadata": {"a": "1", "b": "2"}})
    merged = stripe_client.v1.products.update(product.id, params={"metadata": {"c": "3", "a": ""}})
    assert merged.metadata.to_dict() == {"b": "2", "c": "3"}
    cleared = stripe_client.v1.products.update(product.id, params={"metadata": ""})
    assert cleared.metadata.to_dict() == {}


def test_metadata_limits(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(
            params={"name": "Mug", "metadata": {f"k{i}": "v" for i in range(51)}})
    assert info.value.user_message == (
        "Metadata can have up to 50 keys, but you've set 51. Email us at "
        "support+metadata@stripe.com for more information.")
    key = "k" * 41
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "metadata": {key: "v"}})
    assert info.value.user_message == f"Invalid key: {key} must be a string under 40 characters"
    assert info.value.param == "metadata"
    value = "v" * 501
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.create(params={"name": "Mug", "metadata": {"k": value}})
    assert info.value.user_message == f"Invalid val: {value} must be a string under 500 characters"


# --- 6 search --------------------------------------------------------------------------------


def test_search_products_with_the_query_language(stripe_client):
    stripe_client.v1.products.create(params={"name": "Blue mug large", "metadata": {"tier": "a"}})
    stripe_client.v1.products.create(params={"name": "Red mug", "active": False})
    stripe_client.v1.products.create(params={"name": "Plate", "shippable": True})
    names = lambda q: sorted(p.name for p in stripe_client.v1.products.search(  # noqa: E731
        params={"query": q}).data)
    assert names('name:"mug large"') == ["Blue mug large"]
    assert names('name~"mug"') == ["Blue mug large", "Red mug"]
    assert names('active:"false"') == ["Red mug"]
    assert names('metadata["tier"]:"a"') == ["Blue mug large"]
    assert names('-metadata["tier"]:null AND name~"mug"') == ["Blue mug large"]
    assert names('shippable:"true" OR name:"red mug"') == ["Plate", "Red mug"]
    assert names('-name~"mug"') == ["Plate"]


def test_search_pages_with_next_page_and_counts_when_expanded(stripe_client):
    for i in range(5):
        stripe_client.v1.products.create(params={"name": f"Mug {i}"})
    first = stripe_client.v1.products.search(
        params={"query": 'name~"mug"', "limit": 2, "expand": ["total_count"]})
    assert first.object == "search_result" and first.has_more and first.next_page
    assert first.total_count == 5
    second = stripe_client.v1.products.search(
        params={"query": 'name~"mug"', "limit": 2, "page": first.next_page})
    assert "total_count" not in second
    assert not {p.id for p in first.data} & {p.id for p in second.data}
    everything = list(stripe_client.v1.products.search(
        params={"query": 'name~"mug"', "limit": 2}).auto_paging_iter())
    assert len(everything) == 5


def test_search_prices(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    stripe_client.v1.prices.create(params={"product": product.id, "currency": "usd",
                                           "unit_amount": 100, "lookup_key": "mug_std"})
    found = stripe_client.v1.prices.search(
        params={"query": f'product:"{product.id}" AND lookup_key:"mug_std"'})
    assert [p.lookup_key for p in found.data] == ["mug_std"]


@pytest.mark.parametrize("query", ['name:', 'name~"ab"', 'price>"x"', 'name:"a" AND b:"c" OR x:"y"',
                                   'nope:"x"', '"unbalanced', ''])
def test_a_malformed_query_is_a_400(stripe_client, query):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.search(params={"query": query})
    assert info.value.http_status == 400
    assert info.value.param == "query"


# --- 10 ids and the clock --------------------------------------------------------------------


def test_ids_have_stripes_prefixes_and_shapes(stripe_client):
    product = stripe_client.v1.products.create(
        params={"name": "Mug", "default_price_data": {"currency": "usd", "unit_amount": 1}})
    assert re.match(r"prod_[A-Za-z0-9]{14}\Z", product.id)
    assert re.match(r"price_[1-9][A-Za-z0-9]{23}\Z", product.default_price)


def test_a_seed_makes_ids_reproducible():
    ids = []
    for _ in range(2):
        fake = StripeFake(seed=7)
        ids.append([raw(fake, "POST", "/v1/products", {"name": "Mug"}).json()["id"]
                    for _ in range(3)])
    assert ids[0] == ids[1]
    assert raw(StripeFake(seed=8), "POST", "/v1/products", {"name": "Mug"}).json()["id"] \
        != ids[0][0]


@pytest.mark.stripe_fake(seed=42, now=1_700_000_000)
def test_the_marker_sets_seed_and_clock(stripe_client, stripe_fake):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    assert product.created == product.updated == 1_700_000_000
    stripe_fake.clock.advance(60)
    updated = stripe_client.v1.products.update(product.id, params={"name": "Cup"})
    assert (updated.created, updated.updated) == (1_700_000_000, 1_700_000_060)
    assert product.id == StripeFake(seed=42).account().ids.new("product")


def test_the_clock_only_moves_forward(stripe_fake):
    with pytest.raises(ValueError):
        stripe_fake.clock.advance(-1)


def test_the_handle_records_every_answered_request(stripe_client, stripe_fake):
    stripe_client.v1.products.create(params={"name": "Mug", "metadata": {"a": "1"}})
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.products.retrieve("prod_missing")
    first, second = stripe_fake.requests
    assert (first.method, first.path, first.status) == ("POST", "/v1/products", 200)
    assert first.params == {"name": "Mug", "metadata": {"a": "1"}}
    assert (second.method, second.status, second.endpoint) == ("GET", 404, "GET /v1/products/{id}")


# --- 1.2 API versions ----------------------------------------------------------------------


def test_each_request_is_answered_in_the_version_it_asks_for(stripe_fake):
    current = stripe.StripeClient(KEY)
    old = stripe.StripeClient(KEY, stripe_version="2023-08-16")
    product = current.v1.products.create(params={"name": "Mug",
                                                 "marketing_features": [{"name": "Big"}]})
    assert product.marketing_features[0].name == "Big" and product.type == "service"
    assert "features" not in product
    same = old.v1.products.retrieve(product.id)
    assert same.features[0].name == "Big"
    assert "marketing_features" not in same and "type" not in same
    assert same.last_response.headers["Stripe-Version"] == "2023-08-16"
    legacy = old.v1.products.create(params={"name": "Cup", "features": [{"name": "Small"}]})
    assert current.v1.products.retrieve(legacy.id).marketing_features[0].name == "Small"


def test_params_of_another_version_are_unknown(stripe_fake):
    old = stripe.StripeClient(KEY, stripe_version="2023-08-16")
    with pytest.raises(stripe.InvalidRequestError) as info:
        old.v1.products.create(params={"name": "Mug", "marketing_features": [{"name": "x"}]})
    assert info.value.user_message == "Received unknown parameter: marketing_features"
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe.StripeClient(KEY).v1.products.create(params={"name": "Mug",
                                                            "features": [{"name": "x"}]})
    assert info.value.param == "features"


def test_versions_between_resolve_to_the_nearest_supported_below(stripe_fake):
    between = stripe.StripeClient(KEY, stripe_version="2024-06-20")
    product = between.v1.products.create(params={"name": "Mug"})
    assert "features" in product  # answered as 2023-08-16
    newer = stripe.StripeClient(KEY, stripe_version="2027-01-01.future")
    assert "marketing_features" in newer.v1.products.retrieve(product.id)


def test_price_recurring_changes_between_versions(stripe_fake):
    old = stripe.StripeClient(KEY, stripe_version="2023-08-16")
    product = old.v1.products.create(params={"name": "Meter"})
    price = old.v1.prices.create(params={
        "product": product.id, "currency": "usd", "unit_amount": 5,
        "recurring": {"interval": "month", "usage_type": "metered"}})
    assert price.recurring.aggregate_usage == "sum"
    assert "meter" not in price.recurring
    current = stripe.StripeClient(KEY).v1.prices.retrieve(price.id)
    assert "aggregate_usage" not in current.recurring and current.recurring.meter is None


@pytest.mark.parametrize("version", ["banana", "2023-13-45", "2023-08-16.UPPER"])
def test_a_malformed_version_is_refused(stripe_fake, version):
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe.StripeClient(KEY, stripe_version=version).v1.products.list()
    assert info.value.user_message == f"Invalid Stripe API version: {version}"


def test_search_pages_visit_every_match_once_and_follow_every_change(stripe_client, stripe_fake):
    made = [stripe_client.v1.products.create(params={"name": f"Mug {i}" if i % 3 else f"Cup {i}"})
            for i in range(40)]
    mugs = {p.id for p in made if p.name.startswith("Mug")}
    query = {"query": 'name~"mug"', "limit": 4}
    seen = [p.id for p in stripe_client.v1.products.search(params=query).auto_paging_iter()]
    assert len(seen) == len(mugs) and set(seen) == mugs
    cup = next(p for p in made if p.name.startswith("Cup"))
    stripe_client.v1.products.update(cup.id, params={"name": "Mug now"})  # a write: re-search
    assert cup.id in {p.id for p in stripe_client.v1.products.search(
        params={"query": 'name~"mug"', "limit": 100}).data}
    stripe_fake.store.get("product", cup.id)["name"] = "Plate"  # an edit by the test itself
    assert cup.id not in {p.id for p in stripe_client.v1.products.search(
        params={"query": 'name~"mug"', "limit": 100}).data}


def test_unknown_names_inside_arrays_that_can_also_be_unset_are_refused(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Mug"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.products.update(
            product.id, params={"marketing_features": [{"name": "Big", "bogus": "b"}]})
    assert (info.value.code, info.value.param) == ("parameter_unknown",
                                                   "marketing_features[0][bogus]")
