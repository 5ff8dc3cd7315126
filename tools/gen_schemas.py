"""Generate ``schemas/<version>/`` from Stripe's OpenAPI spec (2023-08-16) and our version changes.

    python tools/gen_schemas.py [--spec ../shared/stripe-openapi/spec3.2023-08-16.json]

For each supported API version it writes:

* ``endpoints.json``: per endpoint ("POST /v1/products"), the request parameters as a
  JSON-Schema-like tree (types, enums, lengths, required, ``""``-unsettable via
  ``anyOf [.., {"enum": [""]}]``), the path parameters and the response object;
* ``<object>.json``: a JSON Schema (draft 2020-12) of every object the fake returns, its
  lists and search results, and the error envelope.  Objects list every field as required
  (Stripe serializes nullable fields as ``null``) except the *includable* ones, which are
  absent unless expanded, and the *conditional* ones (e.g. a source's type hashes).
  ``x-expandable`` maps expandable id fields to the objects they expand to.

2023-08-16 comes straight from the spec; the current version is 2023-08-16 with every
``versions.Change`` applied (``Change.upgrade_schemas``), so the schemas and the runtime
share one list of changes.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_stripe_fixtures.fake import versions  # noqa: E402
from pytest_stripe_fixtures.fake.resources import load_all  # noqa: E402

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_SPEC = ROOT.parent / "shared" / "stripe-openapi" / "spec3.2023-08-16.json"

# The operations in scope, with the object each returns (list/search wrap it).
ENDPOINTS: dict[str, str] = {
    "POST /v1/products": "product",
    "GET /v1/products": "product_list",
    "GET /v1/products/search": "product_search_result",
    "GET /v1/products/{id}": "product",
    "POST /v1/products/{id}": "product",
    "DELETE /v1/products/{id}": "deleted_product",
    "POST /v1/prices": "price",
    "GET /v1/prices": "price_list",
    "GET /v1/prices/search": "price_search_result",
    "GET /v1/prices/{price}": "price",
    "POST /v1/prices/{price}": "price",
    "POST /v1/coupons": "coupon",
    "GET /v1/coupons": "coupon_list",
    "GET /v1/coupons/{coupon}": "coupon",
    "POST /v1/coupons/{coupon}": "coupon",
    "DELETE /v1/coupons/{coupon}": "deleted_coupon",
    "POST /v1/promotion_codes": "promotion_code",
    "GET /v1/promotion_codes": "promotion_code_list",
    "GET /v1/promotion_codes/{promotion_code}": "promotion_code",
    "POST /v1/promotion_codes/{promotion_code}": "promotion_code",
    "POST /v1/customers": "customer",
    "GET /v1/customers": "customer_list",
    "GET /v1/customers/search": "customer_search_result",
    "GET /v1/customers/{customer}": "customer",
    "POST /v1/customers/{customer}": "customer",
    "DELETE /v1/customers/{customer}": "deleted_customer",
    "GET /v1/customers/{customer}/discount": "discount",
    "DELETE /v1/customers/{customer}/discount": "deleted_discount",
    "POST /v1/customers/{customer}/sources": "payment_source",
    "GET /v1/customers/{customer}/sources": "payment_source_list",
    "GET /v1/customers/{customer}/sources/{id}": "payment_source",
    "POST /v1/customers/{customer}/sources/{id}": "payment_source",
    "DELETE /v1/customers/{customer}/sources/{id}": "payment_source",
    "POST /v1/sources": "source",
    "GET /v1/sources/{source}": "source",
    "POST /v1/sources/{source}": "source",
    "POST /v1/charges": "charge",
    "GET /v1/charges": "charge_list",
    "GET /v1/charges/search": "charge_search_result",
    "GET /v1/charges/{charge}": "charge",
    "POST /v1/charges/{charge}": "charge",
    "POST /v1/charges/{charge}/capture": "charge",
    "GET /v1/balance_transactions": "balance_transaction_list",
    "GET /v1/balance_transactions/{id}": "balance_transaction",
    "POST /v1/payment_methods": "payment_method",
    "GET /v1/payment_methods": "payment_method_list",
    "GET /v1/payment_methods/{payment_method}": "payment_method",
    "POST /v1/payment_methods/{payment_method}": "payment_method",
    "POST /v1/payment_methods/{payment_method}/attach": "payment_method",
    "POST /v1/payment_methods/{payment_method}/detach": "payment_method",
    "GET /v1/customers/{customer}/payment_methods": "payment_method_list",
    "GET /v1/customers/{customer}/payment_methods/{payment_method}": "payment_method",
    "POST /v1/payment_intents": "payment_intent",
    "GET /v1/payment_intents": "payment_intent_list",
    "GET /v1/payment_intents/search": "payment_intent_search_result",
    "GET /v1/payment_intents/{intent}": "payment_intent",
    "POST /v1/payment_intents/{intent}": "payment_intent",
    "POST /v1/payment_intents/{intent}/confirm": "payment_intent",
    "POST /v1/payment_intents/{intent}/capture": "payment_intent",
    "POST /v1/payment_intents/{intent}/cancel": "payment_intent",
    "POST /v1/checkout/sessions": "checkout.session",
    "GET /v1/checkout/sessions": "checkout.session_list",
    "GET /v1/checkout/sessions/{session}": "checkout.session",
    "POST /v1/checkout/sessions/{session}/expire": "checkout.session",
    "GET /v1/checkout/sessions/{session}/line_items": "item_list",
    "POST /v1/payment_links": "payment_link",
    "GET /v1/payment_links": "payment_link_list",
    "GET /v1/payment_links/{payment_link}": "payment_link",
    "POST /v1/payment_links/{payment_link}": "payment_link",
    "GET /v1/payment_links/{payment_link}/line_items": "item_list",
    "GET /v1/events": "event_list",
    "GET /v1/events/{id}": "event",
    "POST /v1/webhook_endpoints": "webhook_endpoint",
    "GET /v1/webhook_endpoints": "webhook_endpoint_list",
    "GET /v1/webhook_endpoints/{webhook_endpoint}": "webhook_endpoint",
    "POST /v1/webhook_endpoints/{webhook_endpoint}": "webhook_endpoint",
    "DELETE /v1/webhook_endpoints/{webhook_endpoint}": "deleted_webhook_endpoint",
    "POST /v1/test_helpers/test_clocks": "test_helpers.test_clock",
    "GET /v1/test_helpers/test_clocks": "test_helpers.test_clock_list",
    "GET /v1/test_helpers/test_clocks/{test_clock}": "test_helpers.test_clock",
    "POST /v1/test_helpers/test_clocks/{test_clock}/advance": "test_helpers.test_clock",
    "DELETE /v1/test_helpers/test_clocks/{test_clock}": "deleted_test_helpers.test_clock",
    "POST /v1/subscriptions": "subscription",
    "GET /v1/subscriptions": "subscription_list",
    "GET /v1/subscriptions/search": "subscription_search_result",
    "GET /v1/subscriptions/{subscription_exposed_id}": "subscription",
    "POST /v1/subscriptions/{subscription_exposed_id}": "subscription",
    "DELETE /v1/subscriptions/{subscription_exposed_id}": "subscription",
    "POST /v1/subscriptions/{subscription}/resume": "subscription",
    "POST /v1/subscription_items": "subscription_item",
    "GET /v1/subscription_items": "subscription_item_list",
    "GET /v1/subscription_items/{item}": "subscription_item",
    "POST /v1/subscription_items/{item}": "subscription_item",
    "DELETE /v1/subscription_items/{item}": "deleted_subscription_item",
    "POST /v1/invoices": "invoice",
    "GET /v1/invoices": "invoice_list",
    "GET /v1/invoices/search": "invoice_search_result",
    "GET /v1/invoices/{invoice}": "invoice",
    "POST /v1/invoices/{invoice}": "invoice",
    "DELETE /v1/invoices/{invoice}": "deleted_invoice",
    "POST /v1/invoices/{invoice}/finalize": "invoice",
    "POST /v1/invoices/{invoice}/pay": "invoice",
    "POST /v1/invoices/{invoice}/send": "invoice",
    "POST /v1/invoices/{invoice}/void": "invoice",
    "POST /v1/invoices/{invoice}/mark_uncollectible": "invoice",
    "GET /v1/invoices/{invoice}/lines": "line_item_list",
    "POST /v1/invoiceitems": "invoiceitem",
    "GET /v1/invoiceitems": "invoiceitem_list",
    "GET /v1/invoiceitems/{invoiceitem}": "invoiceitem",
    "POST /v1/invoiceitems/{invoiceitem}": "invoiceitem",
    "DELETE /v1/invoiceitems/{invoiceitem}": "deleted_invoiceitem",
}

OBJECTS = (
    "product", "deleted_product", "price", "coupon", "deleted_coupon", "promotion_code",
    "customer", "deleted_customer", "discount", "deleted_discount", "source", "charge", "card",
    "deleted_card", "deleted_payment_source", "event", "webhook_endpoint",
    "deleted_webhook_endpoint", "checkout.session", "payment_link", "item",
    "balance_transaction", "payment_method", "payment_intent",
    "test_helpers.test_clock", "deleted_test_helpers.test_clock",
    "subscription", "subscription_item", "deleted_subscription_item", "invoice",
    "deleted_invoice", "invoiceitem", "deleted_invoiceitem", "line_item",
)
LISTED = ("product", "price", "coupon", "promotion_code", "customer", "source", "charge",
          "payment_source", "event", "webhook_endpoint", "checkout.session", "payment_link",
          "item", "balance_transaction", "payment_method", "payment_intent",
          "test_helpers.test_clock", "subscription", "subscription_item", "invoice",
          "invoiceitem", "line_item")
SEARCHED = ("product", "price", "customer", "charge", "payment_intent", "subscription",
            "invoice")
# PaymentMethod type hashes: only the one named by `type` is present [V] (real 2023 bodies)
_PM_TYPE_HASHES = (
    "acss_debit", "affirm", "afterpay_clearpay", "alipay", "au_becs_debit", "bacs_debit",
    "bancontact", "blik", "boleto", "card", "card_present", "cashapp", "customer_balance", "eps",
    "fpx", "giropay", "grabpay", "ideal", "interac_present", "klarna", "konbini", "link", "oxxo",
    "p24", "paynow", "paypal", "pix", "promptpay", "radar_options", "sepa_debit", "sofort",
    "us_bank_account", "wechat_pay", "zip")
_NEXT_ACTIONS = (
    "alipay_handle_redirect", "boleto_display_details", "card_await_notification",
    "cashapp_handle_redirect_or_display_qr_code", "display_bank_transfer_instructions",
    "konbini_display_details", "oxxo_display_details", "paynow_display_qr_code",
    "pix_display_qr_code", "promptpay_display_qr_code", "redirect_to_url", "use_stripe_sdk",
    "verify_with_microdeposits", "wechat_pay_display_qr_code",
    "wechat_pay_redirect_to_android_app", "wechat_pay_redirect_to_ios_app")

# Absent unless expanded (STRIPE-API-RULES.md section 7).
INCLUDABLE: dict[str, tuple[str, ...]] = {
    "price": ("currency_options", "tiers"),
    "coupon": ("applies_to", "currency_options"),
    "promotion_code": ("restrictions.currency_options",),  # dotted: inside a nested hash [R]
    "customer": ("cash_balance", "invoice_credit_balance", "sources", "subscriptions", "tax",
                 "tax_ids"),
    "charge": ("refunds",),
    "checkout.session": ("line_items", "total_details.breakdown"),
    "payment_link": ("line_items",),
    "item": ("discounts", "taxes"),
}
# Expandable ids inside nested hashes (dotted), which the renderer reaches from the object.
NESTED_EXPANDABLE: dict[str, dict[str, list[str]]] = {
    "customer": {"invoice_settings.default_payment_method": ["payment_method"]},
}
# Present only in some states (by type, or when set); "*" makes every field optional.
CONDITIONAL: dict[str, tuple[str, ...]] = {
    "source": ("ach_credit_transfer", "ach_debit", "acss_debit", "alipay", "au_becs_debit",
               "bancontact", "card", "card_present", "eps", "giropay", "ideal", "klarna",
               "multibanco", "p24", "sepa_credit_transfer", "sepa_debit", "sofort",
               "three_d_secure", "wechat", "customer", "redirect", "code_verification",
               "source_order", "receiver", "owner", "allow_redisplay"),
    "charge": ("source", "invoice", "radar_options", "transfer"),
    # a card as a Connect account's external account only
    "card": ("account", "available_payout_methods", "currency", "default_for_currency", "status"),
    "deleted_card": ("currency",),  # [S] optional; Stripe's delete answers omit it
    "deleted_bank_account": ("currency",),
    "promotion_codes_resource_restrictions": ("currency_options",),  # includable (see above)
    "payment_method_details": ("*",),
    "currency_option": ("tiers",),  # only tiered prices carry tiers per currency
    # [D] the API reference's ach_credit_transfer examples omit the refund_* fields until set
    "source_type_ach_credit_transfer": ("refund_account_holder_name",
                                        "refund_account_holder_type", "refund_routing_number"),
    "source_type_card_present": ("*",),  # reader data, only what the reader reported
    "source_type_klarna": ("*",),  # only what the request's klarna[...] set
    "source_order": ("email", "shipping"),
    "charge_fraud_details": ("*",),  # `{}` until someone reports the charge [V] fixtures
    "charge_outcome": ("rule",),  # only when a Radar rule acted [V] fixtures
    "payment_method": _PM_TYPE_HASHES,
    "api_errors": ("*",),  # an error carries only the keys that apply [V]
    "payment_intent_next_action": _NEXT_ACTIONS,  # only the hash named by `type` [V]
    "setup_intent_next_action": _NEXT_ACTIONS,
    "payment_intent_payment_method_options": ("*",),  # one hash per payment method type
    "setup_intent_payment_method_options": ("*",),
    # [V] 2023 bodies: {installments, mandate_options, network, request_three_d_secure}
    "payment_intent_payment_method_options_card": (
        "capture_method", "setup_future_usage", "statement_descriptor_suffix_kana",
        "statement_descriptor_suffix_kanji"),
    "payment_flows_amount_details_resource_tip": ("amount",),  # `{"tip": {}}` [V]
    # [S] present only when relevant
    "refund": ("description", "failure_balance_transaction", "failure_reason",
               "instructions_email", "next_action"),
    # [D] docs examples: only the hash of the chosen `type`
    "payment_links_resource_after_completion": ("hosted_confirmation", "redirect"),
    # [V] `{}` until a method's options are set
    "checkout_session_payment_method_options": ("*",),
    # includable `total_details.breakdown` (see INCLUDABLE)
    "payment_pages_checkout_session_total_details": ("breakdown",),
    "event": ("account",),  # Connect events only [S]
    "notification_event_data": ("previous_attributes",),  # `*.updated` and a few others [S]
    "webhook_endpoint": ("secret",),  # the create answer only [S]
    "invoice": ("threshold_reason",),  # usage-threshold invoices only [S]
}
# Params Stripe documents as ``""``-unsettable although the 2023 spec does not mark them.
EMPTYABLE_CORRECTIONS: dict[str, tuple[str, ...]] = {
    # [D] Stripe staff, stripe-python#658: "unset the default price by passing default_price: ''"
    "POST /v1/products/{id}": ("default_price",),
    # [D]/[V] stripe-ruby-mock#665: `coupon=""` removes the customer's discount
    "POST /v1/customers/{customer}": ("coupon", "promotion_code",
                                      # [S] description: "unset with an empty string" [R]
                                      "invoice_settings.default_payment_method"),
}
# Params whose 2023 schema is too narrow for the versions the fake serves.
PARAM_OVERRIDES: dict[str, dict[str, Any]] = {
    # the enum stops at 2023-08-16; the handler checks the version's form
    "POST /v1/webhook_endpoints": {"api_version": {"type": "string", "maxLength": 5000}},
}
_KEEP_PARAM_KEYS = {"type", "properties", "required", "additionalProperties", "items", "anyOf",
                    "enum", "maxLength", "format"}


def clean_param(node: Any) -> Any:
    """Keep what validation needs from a request-parameter schema node."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in _KEEP_PARAM_KEYS:
            continue
        if key == "properties":
            out[key] = {k: clean_param(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = clean_param(value)
        elif key == "anyOf":
            out[key] = [clean_param(v) for v in value]
        else:
            out[key] = value
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def endpoint_schema(spec: dict[str, Any], key: str) -> dict[str, Any]:
    method, path = key.split(" ", 1)
    op = spec["paths"][path][method.lower()]
    props: dict[str, Any] = {}
    required: list[str] = []
    path_params: list[str] = []
    for param in op.get("parameters", ()):
        if param["in"] == "path":
            path_params.append(param["name"])
            continue
        props[param["name"]] = clean_param(param["schema"])
        if param.get("required"):
            required.append(param["name"])
    body = op.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded")
    if body:
        schema = body["schema"]
        for name, sub in schema.get("properties", {}).items():
            props[name] = clean_param(sub)
        required += schema.get("required", [])
    props.update(PARAM_OVERRIDES.get(key, {}))
    for dotted in EMPTYABLE_CORRECTIONS.get(key, ()):
        *steps, name = dotted.split(".")
        holder = props
        for step in steps:
            node = holder[step]
            node = next(v for v in node.get("anyOf", [node]) if v.get("type") == "object")
            holder = node["properties"]
        holder[name] = {"anyOf": [holder[name], {"type": "string", "enum": [""]}]}
    params = {"type": "object", "properties": props, "required": sorted(required),
              "additionalProperties": False}
    return {"params": params, "path_params": path_params, "response": ENDPOINTS[key]}


class ObjectSchemas:
    """Converts the spec's component schemas (OpenAPI 3.0) into JSON Schema documents."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.components = spec["components"]["schemas"]

    def document(self, name: str) -> dict[str, Any]:
        defs: dict[str, Any] = {}
        pending = [name]
        while pending:
            current = pending.pop()
            if current in defs:
                continue
            defs[current] = {}  # placeholder against cycles
            converted, refs = self._convert_named(current)
            defs[current] = converted
            pending.extend(r for r in refs if r not in defs)
        root = defs[name] if self._refers_to(defs, name) else defs.pop(name)
        doc = {"$schema": DRAFT, "$id": f"{name}.json",
               "title": name, **copy.deepcopy(root)}
        if defs:
            doc["$defs"] = dict(sorted(defs.items()))
        return doc

    @staticmethod
    def _refers_to(defs: dict[str, Any], name: str) -> bool:
        """Whether some other definition points back at ``name`` (price.product -> product)."""
        needle = f'"#/$defs/{name}"'
        return any(needle in json.dumps(node) for key, node in defs.items() if key != name)

    def _convert_named(self, name: str) -> tuple[dict[str, Any], set[str]]:
        refs: set[str] = set()
        node = self._convert(self.components[name], refs, owner=name)
        optional = set(INCLUDABLE.get(name, ())) | set(CONDITIONAL.get(name, ()))
        props = node.get("properties")
        if props is not None:
            expandable: dict[str, list[str]] = {}
            for field, sub in self.components[name].get("properties", {}).items():
                targets = sub.get("x-expansionResources", {}).get("oneOf", [])
                if targets:
                    expandable[field] = [t["$ref"].rsplit("/", 1)[1] for t in targets]
            expandable.update(NESTED_EXPANDABLE.get(name, {}))
            if expandable:
                node["x-expandable"] = expandable
            if name in INCLUDABLE:
                node["x-includable"] = list(INCLUDABLE[name])
            node["required"] = [] if "*" in optional else sorted(set(props) - optional)
            node["additionalProperties"] = False
        return node, refs

    def _convert(self, node: dict[str, Any], refs: set[str], owner: str) -> dict[str, Any]:
        if "$ref" in node:
            target = node["$ref"].rsplit("/", 1)[1]
            if target not in _EXPANDED_ONLY:
                refs.add(target)
                return {"$ref": f"#/$defs/{target}"}
            return {"type": "object"}  # an object outside our scope, only seen when expanded
        out: dict[str, Any] = {}
        if "anyOf" in node:
            out["anyOf"] = [self._convert(v, refs, owner) for v in node["anyOf"]]
        if "type" in node:
            out["type"] = node["type"]
        if "enum" in node:
            out["enum"] = node["enum"]
        if "properties" in node:
            out["properties"] = {k: self._convert(v, refs, owner)
                                 for k, v in node["properties"].items()}
        if "items" in node:
            out["items"] = self._convert(node["items"], refs, owner)
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = self._convert(node["additionalProperties"], refs, owner)
        if node.get("nullable"):
            if list(out) == ["type"]:
                out["type"] = [out["type"], "null"]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        return out


# Objects referenced only through expandable ids: never inlined (the fake leaves them as ids).
_EXPANDED_ONLY = {
    "account", "application", "application_fee", "invoice",
    "review", "transfer", "tax_code", "test_clock",
    "subscription", "bank_account", "customer_cash_balance_transaction",
    "test_helpers.test_clock",
    "setup_intent", "shipping_rate", "tax_rate",
}


def envelope(kind: str, item: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        "object": {"type": "string", "enum": ["list" if kind == "list" else "search_result"]},
        "url": {"type": "string"},
        "has_more": {"type": "boolean"},
        "data": {"type": "array", "items": {"$ref": f"{item}.json"}},
    }
    required = ["object", "url", "has_more", "data"]
    if kind == "search_result":
        props["next_page"] = {"type": ["string", "null"]}
        props["total_count"] = {"type": "integer"}
        required.append("next_page")
    return {"$schema": DRAFT,
            "$id": f"{item}_{kind}.json", "title": f"{item}_{kind}",
            "type": "object", "properties": props, "required": required,
            "additionalProperties": False}


def payment_source_schema() -> dict[str, Any]:
    """A customer's payment source: a Card or a Source (the fake has no bank accounts); the
    spec's polymorphic ``payment_source`` would also admit anything as an account."""
    return {"$schema": DRAFT,
            "$id": "payment_source.json", "title": "payment_source",
            "if": {"properties": {"object": {"const": "card"}}, "required": ["object"]},
            "then": {"$ref": "card.json"}, "else": {"$ref": "source.json"}}


def error_schema(converter: ObjectSchemas) -> dict[str, Any]:
    inner = converter.document("api_errors")
    inner.pop("$schema", None)
    inner.pop("title", None)
    inner.pop("$id", None)
    defs = inner.pop("$defs", {})  # at the top, where version changes find embedded objects
    inner["required"] = ["type", "message"]
    inner["additionalProperties"] = True
    return {"$schema": DRAFT, "$id": "error.json",
            "title": "error",
            "type": "object", "properties": {"error": inner}, "required": ["error"],
            "additionalProperties": False, **({"$defs": defs} if defs else {})}


def build_oldest(spec: dict[str, Any]) -> dict[str, Any]:
    converter = ObjectSchemas(spec)
    objects = {name: converter.document(name) for name in OBJECTS}
    objects["payment_source"] = payment_source_schema()
    for item in LISTED:
        objects[f"{item}_list"] = envelope("list", item)
    for item in SEARCHED:
        objects[f"{item}_search_result"] = envelope("search_result", item)
    objects["error"] = error_schema(converter)
    endpoints = {key: endpoint_schema(spec, key) for key in ENDPOINTS}
    return {"objects": objects, "endpoints": endpoints}


def write(schemas: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.json"):
        old.unlink()
    for name, doc in schemas["objects"].items():
        (out_dir / f"{name}.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    (out_dir / "endpoints.json").write_text(
        json.dumps(schemas["endpoints"], indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--out", type=Path, default=ROOT / "schemas")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text())
    if spec["info"]["version"] != versions.OLDEST:
        parser.error(f"spec describes {spec['info']['version']}, expected {versions.OLDEST}")
    load_all()  # resources register their version changes
    schemas = build_oldest(spec)
    write(schemas, args.out / versions.OLDEST)
    current = copy.deepcopy(schemas)
    for change in versions.CHANGES:
        change.upgrade_schemas(current)
    write(current, args.out / versions.CURRENT)
    print(f"wrote {len(schemas['objects'])} object schemas and {len(ENDPOINTS)} endpoints "
          f"for {', '.join(versions.SUPPORTED)} into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
