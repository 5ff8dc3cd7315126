"""schemas/ is generated from Stripe's spec plus our version changes, is up to date, and the
current version agrees with the installed stripe SDK's resource classes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import stripe

from pytest_stripe_fixtures.fake import schemas, versions

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "stripe-openapi" / "spec3.2023-08-16.json"

SDK_CLASSES = {"product": stripe.Product, "price": stripe.Price, "coupon": stripe.Coupon,
               "promotion_code": stripe.PromotionCode, "customer": stripe.Customer,
               "discount": stripe.Discount, "source": stripe.Source, "charge": stripe.Charge,
               "card": stripe.Card, "checkout.session": stripe.checkout.Session,
               "payment_link": stripe.PaymentLink, "item": stripe.LineItem}
# Fields the SDK declares that the fake does not serve (yet), or that are not fields.
NOT_SERVED = {"deleted", "customer_account", "business_name", "individual_name",
              "subscription_item", "sepa_credit_transfer", "authorization_code", "level3",
              "presentment_details", "allow_redisplay",
              "description", "iin", "issuer", "networks"}  # card: internal / external accounts
# ... per object, for the newer objects (README, "What the fake knows", says which are served)
NOT_SERVED_BY = {
    "checkout.session": {"adaptive_pricing", "allowed_payment_method_types", "branding_settings",
                         "excluded_payment_method_types", "integration_identifier",
                         "managed_payments", "name_collection", "optional_items",
                         "origin_context", "payment_method_configuration_details",
                         "permissions", "saved_payment_method_options", "wallet_options"},
    "payment_link": {"managed_payments", "name_collection", "optional_items",
                     "payment_method_options"},
    "item": {"metadata"},
}


@pytest.mark.skipif(not SPEC.is_file(), reason="Stripe's spec (../shared) is not beside this clone")
def test_the_committed_schemas_are_what_the_generator_makes(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "tools" / "gen_schemas.py"), "--out",
                    str(tmp_path)], check=True, capture_output=True)
    for part in (*versions.SUPPORTED, "catalog"):
        made = {str(p.relative_to(tmp_path)): p.read_text()
                for p in (tmp_path / part).rglob("*.json")}
        committed = {str(p.relative_to(ROOT / "schemas")): p.read_text()
                     for p in (ROOT / "schemas" / part).rglob("*.json")}
        assert made.keys() == committed.keys(), f"schemas/{part} is stale: run tools/gen_schemas.py"
        stale = sorted(k for k in made if made[k] != committed[k])
        assert not stale, f"stale (run tools/gen_schemas.py): {stale[:5]}"


@pytest.mark.parametrize("name", sorted(SDK_CLASSES))
def test_current_objects_have_the_fields_the_sdk_declares(name):
    if name not in schemas.object_names(versions.CURRENT):
        pytest.skip(f"{name} is not served")
    ours = set(schemas.object_schema(versions.CURRENT, name)["properties"])
    sdk = {k for k in SDK_CLASSES[name].__annotations__ if not k.startswith("_")} - {"OBJECT_NAME"}
    unserved = NOT_SERVED | NOT_SERVED_BY.get(name, set())
    assert sdk - unserved - ours == set(), "fields the SDK knows and the fake does not"
    assert ours - sdk == set(), "fields the fake serves that the SDK does not know"


def test_every_supported_version_has_every_schema():
    names = set(schemas.object_names(versions.OLDEST))
    assert names == set(schemas.object_names(versions.CURRENT))
    assert {"product", "price", "deleted_product", "product_list", "product_search_result",
            "price_list", "price_search_result", "error"} <= names


def test_endpoint_params_differ_by_version_as_the_changes_say():
    old = schemas.endpoints(versions.OLDEST)["POST /v1/products"]["params"]["properties"]
    new = schemas.endpoints(versions.CURRENT)["POST /v1/products"]["params"]["properties"]
    assert "features" in old and "marketing_features" not in old
    assert "marketing_features" in new and "features" not in new


def test_schema_files_are_plain_json_loadable_fast():
    for path in (ROOT / "schemas").rglob("*.json"):
        json.loads(path.read_text())
