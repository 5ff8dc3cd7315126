"""The pytest plugin as a user meets it: loading, isolation, the handle, misuse reports."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USES_FAKE = """
import stripe

def test_create(stripe_fake):
    product = stripe.Product.create(name="Mug")
    assert product.id.startswith("prod_")
    assert [p["id"] for p in stripe_fake.objects("product")] == [product.id]

def test_no_state_leaks_from_the_previous_test(stripe_fake):
    assert stripe.Product.list().data == []
    assert stripe_fake.objects("product") == []
"""


def test_loads_with_dash_p_even_when_autoload_is_disabled(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(USES_FAKE)
    pytester.runpytest("-p", "stripe_fixtures").assert_outcomes(passed=2)


def test_dash_p_no_disables_it(pytester):
    pytester.makepyfile(USES_FAKE)
    result = pytester.runpytest("-p", "no:stripe_fixtures")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*fixture 'stripe_fake' not found*"])


def test_a_suite_that_never_touches_stripe_is_untouched(pytester):
    pytester.makepyfile("def test_plain():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest("-p", "stripe_fixtures")
    result.assert_outcomes(passed=1)


def test_marker_misuse_is_a_clear_error_naming_the_test(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.stripe_fake(colour="red")
        def test_bad(stripe_fake):
            pass
    """)
    result = pytester.runpytest("-p", "stripe_fixtures")
    result.stdout.fnmatch_lines(["*test_marker_misuse*::test_bad*unknown stripe_fake marker "
                                 "argument 'colour'*"])
    assert result.ret != 0


def test_a_bug_in_the_fake_fails_the_test_and_names_the_request(pytester):
    pytester.makepyfile("""
        import stripe
        from pytest_stripe_fixtures.fake.resources import products

        def test_buggy(stripe_fake, monkeypatch):
            def broken(ctx, id):
                raise RuntimeError("boom")
            monkeypatch.setattr(products, "_bug_probe", broken, raising=False)
            from pytest_stripe_fixtures.fake import routing
            match = routing.ROUTER.match
            def patched(method, path):
                found = match(method, path)
                if found and path.startswith("/v1/products/"):
                    route, params = found
                    return routing.Route(route.method, route.template, broken), params
                return found
            monkeypatch.setattr(routing.ROUTER, "match", patched)
            try:
                stripe.Product.retrieve("prod_x")
            except stripe.APIError:
                pass  # app code that swallows errors must not hide the bug
    """)
    result = pytester.runpytest("-p", "stripe_fixtures")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*test_buggy*failed internally while answering GET "
                                 "/v1/products/prod_x*", "*RuntimeError: boom*"])


def test_the_api_key_is_provided_and_restored(pytester):
    pytester.makepyfile("""
        import stripe

        def test_uses_the_fake_key(stripe_fake):
            assert stripe.api_key.startswith("sk_test_")
            stripe.Product.create(name="Mug")

        def test_after(stripe_fake):
            pass

        def test_without_fixture():
            assert stripe.api_key is None
    """)
    pytester.runpytest("-p", "stripe_fixtures").assert_outcomes(passed=3)


def test_responses_off_schema_fail_when_validation_is_on(pytester):
    pytester.makepyfile("""
        import stripe
        from pytest_stripe_fixtures.fake.resources import products

        def test_drift(stripe_fake, monkeypatch):
            product = stripe.Product.create(name="Mug")
            stripe_fake.store.get("product", product.id)["surprise"] = 1
            stripe.Product.retrieve(product.id)
    """)
    result = pytester.runpytest("-p", "stripe_fixtures", "--stripe-validate-responses")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*GET /v1/products/prod_* does not match schemas/*",
                                 "*surprise*"])


@pytest.mark.stripe_fake(seed=3)
def test_the_handle_exposes_requests_objects_and_clock(stripe_fake, stripe_client):
    start = stripe_fake.clock.now()
    stripe_client.v1.products.create(params={"name": "Mug"})
    assert stripe_fake.last_request.status == 200
    assert stripe_fake.objects("product")[0]["name"] == "Mug"
    assert stripe_fake.clock.advance(10) == start + 10


def test_the_suite_itself_cannot_reach_the_internet():
    import socket

    with pytest.raises(OSError, match="may only connect to 127.0.0.1"):
        socket.create_connection(("93.184.216.34", 443), timeout=1)
    with pytest.raises(OSError, match="may only resolve local names"):
        socket.getaddrinfo("example.com", 443)
