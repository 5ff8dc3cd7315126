"""The standard scenario against the served fake from three kinds of client: the Python SDK,
the official Node SDK (``stripe`` from npm) and ``curl`` in Stripe's documented form.

Scenario: create a product, create its price, retrieve the product, list the product's
prices, create a coupon, create a promotion code for it, update the product's metadata, then
the customer/source flow: create a customer and a card source, attach the source, detach it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import served
import stripe

from pytest_stripe_fixtures.transports.server import StripeServer

KEY = "sk_test_fake"
server, conformant = served.server, served.conformant  # the fixtures of tests/served.py
NODE_STRIPE = "stripe@23"  # pins API version 2026-10-28.endive, the fake's current version

def check_outcome(out: dict[str, Any]) -> None:
    """What every client must have seen, whatever its language."""
    assert out["product"]["id"].startswith("prod_")
    assert out["price"]["product"] == out["product"]["id"]
    assert out["retrieved"]["name"] == "Gold plan"
    assert [p["id"] for p in out["prices"]["data"]] == [out["price"]["id"]]
    assert out["coupon"]["percent_off"] == 25
    assert out["promotion_code"]["code"] == "GOLD25"
    assert out["promotion_code"]["promotion"] == {"type": "coupon",
                                                  "coupon": out["coupon"]["id"]}
    assert out["updated"]["metadata"] == {"tier": "gold"}
    assert out["source"]["status"] == "chargeable"
    assert out["attached"]["customer"] == out["customer"]["id"]
    assert out["customer_after_attach"]["default_source"] == out["source"]["id"]
    assert out["detached"]["id"] == out["source"]["id"]
    assert out["detached"]["status"] == "consumed"
    assert out["sources_after_detach"]["data"] == []


# --- Python SDK ----------------------------------------------------------------------------


def python_scenario(client: stripe.StripeClient) -> dict[str, Any]:
    v1 = client.v1
    out: dict[str, Any] = {}
    out["product"] = product = v1.products.create(params={"name": "Gold plan"})
    out["price"] = price = v1.prices.create(params={
        "product": product.id, "unit_amount": 2000, "currency": "usd",
        "recurring": {"interval": "month"}})
    assert price
    out["retrieved"] = v1.products.retrieve(product.id)
    out["prices"] = v1.prices.list(params={"product": product.id})
    out["coupon"] = coupon = v1.coupons.create(params={"percent_off": 25, "duration": "once"})
    out["promotion_code"] = v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "GOLD25"})
    out["updated"] = v1.products.update(product.id, params={"metadata": {"tier": "gold"}})
    out["customer"] = customer = v1.customers.create(params={"email": "jenny@example.com"})
    out["source"] = source = v1.sources.create(params={"type": "card", "token": "tok_visa"})
    out["attached"] = v1.customers.payment_sources.create(customer.id,
                                                          params={"source": source.id})
    out["customer_after_attach"] = v1.customers.retrieve(customer.id)
    out["detached"] = v1.customers.payment_sources.delete(customer.id, source.id)
    out["sources_after_detach"] = v1.customers.payment_sources.list(customer.id)
    return {name: obj.to_dict(for_json=True) for name, obj in out.items()}


def test_standard_scenario_with_the_python_sdk(server):
    client = stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0)
    check_outcome(python_scenario(client))


# --- Node SDK -------------------------------------------------------------------------------

NODE_SCENARIO = r"""
const [modules, url, key] = process.argv.slice(2);
const Stripe = require(require('path').join(modules, 'node_modules', 'stripe'));
const { hostname, port, protocol } = new URL(url);
const stripe = new Stripe(key, {host: hostname, port: Number(port),
                                protocol: protocol.replace(':', ''), maxNetworkRetries: 0});
(async () => {
  const out = {};
  out.product = await stripe.products.create({name: 'Gold plan'});
  const product = out.product.id;
  out.price = await stripe.prices.create({product, unit_amount: 2000, currency: 'usd',
                                          recurring: {interval: 'month'}});
  out.retrieved = await stripe.products.retrieve(product);
  out.prices = await stripe.prices.list({product});
  out.coupon = await stripe.coupons.create({percent_off: 25, duration: 'once'});
  out.promotion_code = await stripe.promotionCodes.create({
    promotion: {type: 'coupon', coupon: out.coupon.id}, code: 'GOLD25'});
  out.updated = await stripe.products.update(product, {metadata: {tier: 'gold'}});
  out.customer = await stripe.customers.create({email: 'jenny@example.com'});
  const customer = out.customer.id;
  out.source = await stripe.sources.create({type: 'card', token: 'tok_visa'});
  out.attached = await stripe.customers.createSource(customer, {source: out.source.id});
  out.customer_after_attach = await stripe.customers.retrieve(customer);
  out.detached = await stripe.customers.deleteSource(customer, out.source.id);
  out.sources_after_detach = await stripe.customers.listSources(customer);
  try {
    await stripe.products.retrieve('prod_missing');
  } catch (err) {
    out.error = {type: err.type, code: err.code, statusCode: err.statusCode,
                 message: err.message};
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => {
  process.stderr.write(`${err.type || ''} ${err.statusCode || ''} ${err.message}\n`);
  process.exit(1);
});
"""


NODE_PREFIX = Path(__file__).resolve().parents[1] / ".node"  # README set-up: npm --prefix .node


def _node_stripe_dir() -> Path:
    """The folder holding ``node_modules/stripe``, installed by the README's set-up command
    (tests never reach a registry themselves); skips with the reason when it is absent."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the Node SDK scenario needs node")
    prefix = Path(os.environ.get("STRIPE_FIXTURES_NODE_PREFIX") or NODE_PREFIX)
    if not (prefix / "node_modules" / "stripe" / "package.json").exists():
        pytest.skip(f"the stripe npm package is not installed in {prefix}: run "
                    f"`npm install --prefix .node {NODE_STRIPE}` (the README's set-up does)")
    return prefix


def test_standard_scenario_with_the_node_sdk(server, tmp_path):
    modules = _node_stripe_dir()
    script = tmp_path / "scenario.js"
    script.write_text(NODE_SCENARIO)
    result = subprocess.run(["node", str(script), str(modules), server.url, KEY],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    check_outcome(out)
    error = out["error"]
    # stripe-node 23.2 prefixes its messages with the Request-Id: "[req_...] No such product: ..."
    message = re.sub(r"^\[req_\w+\] ", "", error.pop("message"))
    assert error == {"type": "StripeInvalidRequestError", "code": "resource_missing",
                     "statusCode": 404}
    assert message == "No such product: 'prod_missing'"


# --- curl -----------------------------------------------------------------------------------


def curl(server: StripeServer, path: str, *args: str) -> Any:
    """``curl <url> -u sk_test_...: [-d ...]``, the way Stripe's API reference writes it."""
    result = subprocess.run(["curl", "-sS", f"{server.url}{path}", "-u", f"{KEY}:", *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_standard_scenario_with_curl(server):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    out: dict[str, Any] = {}
    out["product"] = curl(server, "/v1/products", "-d", "name=Gold plan")
    product = out["product"]["id"]
    out["price"] = curl(server, "/v1/prices", "-d", f"product={product}",
                        "-d", "unit_amount=2000", "-d", "currency=usd",
                        "-d", "recurring[interval]=month")
    out["retrieved"] = curl(server, f"/v1/products/{product}")
    out["prices"] = curl(server, "/v1/prices", "-G", "-d", f"product={product}")
    out["coupon"] = curl(server, "/v1/coupons", "-d", "percent_off=25", "-d", "duration=once")
    out["promotion_code"] = curl(server, "/v1/promotion_codes",
                                 "-d", "promotion[type]=coupon",
                                 "-d", f"promotion[coupon]={out['coupon']['id']}",
                                 "-d", "code=GOLD25")
    out["updated"] = curl(server, f"/v1/products/{product}", "-d", "metadata[tier]=gold")
    out["customer"] = curl(server, "/v1/customers", "-d", "email=jenny@example.com")
    customer = out["customer"]["id"]
    out["source"] = curl(server, "/v1/sources", "-d", "type=card", "-d", "token=tok_visa")
    source = out["source"]["id"]
    out["attached"] = curl(server, f"/v1/customers/{customer}/sources", "-d", f"source={source}")
    out["customer_after_attach"] = curl(server, f"/v1/customers/{customer}")
    out["detached"] = curl(server, f"/v1/customers/{customer}/sources/{source}",
                           "-X", "DELETE")
    out["sources_after_detach"] = curl(server, f"/v1/customers/{customer}/sources")
    check_outcome(out)


def test_curl_errors_and_versions(server):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    missing = curl(server, "/v1/products/prod_missing")
    assert missing["error"]["code"] == "resource_missing"
    coupon = curl(server, "/v1/coupons", "-d", "percent_off=10", "-d", "duration=once")
    old = curl(server, "/v1/promotion_codes", "-H", "Stripe-Version: 2023-08-16",
               "-d", f"coupon={coupon['id']}")
    assert old["coupon"]["id"] == coupon["id"] and "promotion" not in old
    result = subprocess.run(["curl", "-sS", f"{server.url}/v1/products"],
                            capture_output=True, text=True, timeout=30)
    assert json.loads(result.stdout)["error"]["message"].startswith(
        "You did not provide an API key.")
