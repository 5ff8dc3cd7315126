"""Generate the operation catalog and ``schemas/<version>/`` from Stripe's OpenAPI spec.

    python tools/gen_schemas.py [--spec ../shared/stripe-openapi/spec3.2023-08-16.json]

What exists comes from the spec alone: every operation (method + path) and every resource
(a component with ``x-resourceId``).  The few facts the spec does not carry are the small
correction tables below (includable and conditional fields, ``""``-unsettable params, id
prefixes the examples lack), each tagged with its source.

It writes:

* ``schemas/catalog/operations.json``: per operation ("POST /v1/tax_rates"), its ``kind``
  (create, retrieve, update, delete, list, search, singleton, singleton_update,
  nested_create, action), its path params, the response object, the parent of a nested
  operation, the action's name, the params' documented defaults and the params file;
* ``schemas/catalog/objects.json``: per object, its id prefix and length (from Stripe's
  example objects in ``fixtures3.json``), whether a deleted stub exists, its list and search
  URLs, its searchable fields and the rendering facts (``includable``, ``expandable``);
* ``schemas/<version>/endpoints/<group>.json``: the request params of the operations under
  ``/v1/<group>``, as JSON-Schema-like trees (types, enums, lengths, required,
  ``""``-unsettable via ``anyOf [.., {"enum": [""]}]``);
* ``schemas/<version>/<object>.json``: a JSON Schema (draft 2020-12) of every resource, its
  lists and search results, and the error envelope.  Objects list every field as required
  (Stripe serializes nullable fields as ``null``) except the *includable* ones, which are
  absent unless expanded, and the *conditional* ones.  Another resource is referenced as
  ``{"$ref": "<name>.json"}`` (one document per resource, so a diff stays readable);
  ``x-expandable`` maps expandable id fields to the objects they expand to.

2023-08-16 comes straight from the spec; the current version is 2023-08-16 with every
``versions.Change`` applied (``Change.upgrade_schemas``), then, for the objects, the field set
the installed stripe SDK's resource classes declare (generated from Stripe's current spec):
fields the SDK lacks are dropped, fields it adds are described from its annotations.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_stripe_fixtures.fake import versions  # noqa: E402
from pytest_stripe_fixtures.fake.resources import load_all  # noqa: E402

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_SPEC = ROOT.parent / "shared" / "stripe-openapi" / "spec3.2023-08-16.json"
DEFAULT_FIXTURES = DEFAULT_SPEC.parent / "fixtures3.json"
METHODS = ("get", "post", "delete")

# --- corrections: facts the spec does not carry --------------------------------------------
# Absent unless expanded (STRIPE-API-RULES.md section 7).
INCLUDABLE: dict[str, tuple[str, ...]] = {
    "price": ("currency_options", "tiers"),
    "coupon": ("applies_to", "currency_options"),
    "promotion_code": ("restrictions.currency_options",),  # dotted: inside a nested hash [R]
    "customer": ("cash_balance", "invoice_credit_balance", "sources", "subscriptions", "tax",
                 "tax_ids"),
    "charge": ("refunds",),
    "payment_link": ("line_items",),  # [D] "This field is not included by default"
    "checkout.session": ("line_items", "total_details.breakdown"),  # [D]
    "item": ("discounts", "taxes"),
    "invoice": ("total_pretax_credit_amounts",),  # [R]
}
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
    "invoice": ("threshold_reason", "subscription_proration_date"),  # only when set [S]
    "line_item": ("invoice_item",),  # invoice-item lines only [S]
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
    "event": ("account",),  # Connect events only [S]
    "notification_event_data": ("previous_attributes",),  # `*.updated` and a few others [S]
    "webhook_endpoint": ("secret",),  # the create answer only [S]
    "apps.secret": ("deleted", "payload"),  # [D] payload only when found by name
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
    "setup_attempt_payment_method_details": (  # only the hash named by `type`
        "acss_debit", "au_becs_debit", "bacs_debit", "bancontact", "boleto", "card",
        "card_present", "cashapp", "ideal", "klarna", "link", "paypal", "sepa_debit", "sofort",
        "us_bank_account"),
    "source_transaction": ("ach_credit_transfer", "chf_credit_transfer", "gbp_credit_transfer",
                           "paper_check", "sepa_credit_transfer"),
    # [D] docs examples: only the hash of the chosen `type`
    "payment_links_resource_after_completion": ("hosted_confirmation", "redirect"),
    # [V] `{}` until a method's options are set
    "checkout_session_payment_method_options": ("*",),
    # includable `total_details.breakdown` (see INCLUDABLE)
    "payment_pages_checkout_session_total_details": ("breakdown",),
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
# Id shapes fixtures3.json lacks or shows as a placeholder: (prefix, length).
PREFIX_CORRECTIONS: dict[str, tuple[str, int]] = {
    "usage_record": ("mbur_", 24),  # [D]
    "usage_record_summary": ("sis_", 24),  # [D]
    "tax.calculation": ("taxcalc_", 24),
    "coupon": ("", 8),
    "request": ("req_", 14),
    "capability": ("cap_", 14),  # [R] capabilities are named (card_payments)
    "country_spec": ("", 2),  # [R] a country code
    "reporting.report_type": ("report.", 10),  # [R] named
    "exchange_rate": ("", 3),  # [R] a currency code
    "tax_code": ("txcd_", 8),
    "setup_attempt": ("setatt_", 24),
    "tax.calculation_line_item": ("tax_li_", 14),
    "tax.transaction_line_item": ("tax_li_", 14),
}
# Fields of the current SDK classes that are not object fields.
SDK_NOT_FIELDS = {"OBJECT_NAME", "deleted"}
_KEEP_PARAM_KEYS = {"type", "properties", "required", "additionalProperties", "items", "anyOf",
                    "enum", "maxLength", "format"}
_DEFAULT = re.compile(r"[Dd]efaults? to `([^`]+)`")


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


# --- the catalog ---------------------------------------------------------------------------


def _ref_name(node: dict[str, Any]) -> str:
    return node["$ref"].rsplit("/", 1)[1]


class Catalog:
    """Operations and objects, read from the spec."""

    def __init__(self, spec: dict[str, Any], fixtures: dict[str, Any]) -> None:
        self.spec = spec
        self.components = spec["components"]["schemas"]
        self.fixtures = fixtures.get("resources", {})
        self.resources = sorted(n for n, c in self.components.items() if "x-resourceId" in c)
        self.ops = {f"{m.upper()} {p}": op for p, item in spec["paths"].items()
                    for m, op in item.items() if m in METHODS}
        self.responses = {key: self._response(key, op) for key, op in self.ops.items()}

    # -- responses --
    def _union(self, names: list[str]) -> str:
        """The polymorphic resource (``payment_source``) covering ``names``, smallest first."""
        wanted = set(names)
        if len(wanted) == 1:
            return names[0]
        best: tuple[int, str] | None = None
        for name in self.resources:
            node = self.components[name]
            if "anyOf" in node:
                members = {_ref_name(v) for v in node["anyOf"] if "$ref" in v}
                if wanted <= members and (best is None or len(members) < best[0]):
                    best = (len(members), name)
        if best is None:
            raise SystemExit(f"no polymorphic resource covers {sorted(wanted)}")
        return best[1]

    def _response(self, key: str, op: dict[str, Any]) -> tuple[str, str | None]:
        """(response schema name, list/search kind or None)."""
        content = op["responses"]["200"]["content"]
        node = content.get("application/json", {}).get("schema")
        if node is None:  # a file download (quote PDF): no JSON body to describe
            return ("", None)
        if "$ref" in node:
            return (_ref_name(node), None)
        if "anyOf" in node:
            names = [_ref_name(v) for v in node["anyOf"]]
            live = [n for n in names if not n.startswith("deleted_")]
            return (self._union(live), None)
        kind = node["properties"]["object"]["enum"][0]
        items = node["properties"]["data"]["items"]
        names = [_ref_name(items)] if "$ref" in items else [_ref_name(v) for v in items["anyOf"]]
        return (self._union(names), kind)

    def response_name(self, key: str) -> str:
        name, kind = self.responses[key]
        return f"{name}_{kind}" if kind else name

    # -- kinds --
    def _type_of_prefix(self, segments: list[str]) -> str | None:
        """The object at ``/v1/<segments>`` (ending in a param), from its retrieve operation."""
        for path in ("/v1/" + "/".join(segments),
                     "/v1/" + "/".join(s for s in segments if s != "test_helpers")):
            name, kind = self.responses.get(f"GET {path}", ("", "x"))
            if name and kind is None:
                return name
            name, kind = self.responses.get(f"POST {path}", ("", "x"))
            if name and kind is None:
                return name
        return None

    def _parent_type(self, segments: list[str], param: str) -> str | None:
        return self._type_of_prefix(segments[:segments.index("{" + param + "}") + 1])

    def members(self, name: str) -> set[str]:
        """A resource and, for a polymorphic one, the resources it stands for."""
        node = self.components.get(name, {})
        return {name} | {_ref_name(v) for v in node.get("anyOf", ()) if "$ref" in v}

    def operation(self, key: str) -> dict[str, Any]:
        method, path = key.split(" ", 1)
        op = self.ops[key]
        segments = path.split("/")[2:]
        name, list_kind = self.responses[key]
        path_params = [p["name"] for p in op.get("parameters", ()) if p["in"] == "path"]
        last_is_param = segments[-1].startswith("{")
        params_before = [s[1:-1] for s in (segments[:-1] if last_is_param else segments)
                         if s.startswith("{")]
        live = name[len("deleted_"):] if name.startswith("deleted_") else name
        entry: dict[str, Any] = {"object": self.response_name(key), "item": live,
                                 "path_params": path_params,
                                 "group": segments[0], "operation_id": op.get("operationId")}
        parent_param = params_before[-1] if params_before else None
        if not name:
            kind = "download"  # a file (the quote PDF), not JSON
        elif list_kind == "list":
            kind = "list"
        elif list_kind == "search_result":
            kind = "search"
        elif method == "GET":
            kind = "retrieve" if last_is_param else "singleton"
        elif method == "DELETE":
            kind = "delete"
        elif last_is_param:
            kind = "update"
        else:
            owner_segments = segments[:-1]
            owner = self._type_of_prefix(owner_segments) if owner_segments else None
            ends_in_param = bool(owner_segments) and owner_segments[-1].startswith("{")
            if (owner is not None and name in self.members(owner)) or (
                    ends_in_param and owner is None):
                kind = "action"
                entry["action"] = segments[-1]
            elif self.responses.get(f"GET {path}", ("", "x"))[1] is None:
                kind = "singleton_update"
            elif parent_param is not None and self._parent_type(segments, parent_param) == name:
                kind = "action"  # /v1/test_helpers/issuing/cards/{card}/shipping/ship
                entry["action"] = segments[-1]
                entry["target"] = parent_param
            elif parent_param is not None:
                kind = "nested_create"
            else:
                kind = "create"
        node = op["responses"]["200"]["content"].get("application/json", {}).get("schema", {})
        if any(_ref_name(v).startswith("deleted_") for v in node.get("anyOf", ())):
            entry["deleted_ok"] = True  # a deleted object reads back as its stub
        if kind == "action" and segments[-2].startswith("{"):
            entry["target"] = path_params[-1]
        elif parent_param is not None and "target" not in entry:
            entry["parent"] = {"param": parent_param,
                               "object": self._parent_type(segments, parent_param)}
        entry["kind"] = kind
        defaults = self._defaults(op) if kind in ("create", "nested_create") else {}
        if defaults:
            entry["defaults"] = defaults
        return entry

    @staticmethod
    def _defaults(op: dict[str, Any]) -> dict[str, Any]:
        """Top-level params whose description says "Defaults to `x`", with that value."""
        body = (op.get("requestBody", {}).get("content", {})
                .get("application/x-www-form-urlencoded", {}).get("schema", {}))
        out: dict[str, Any] = {}
        for name, sub in body.get("properties", {}).items():
            found = _DEFAULT.search(sub.get("description", ""))
            if not found:
                continue
            raw = found.group(1)
            kind = sub.get("type")
            if kind == "boolean" and raw in ("true", "false"):
                out[name] = raw == "true"
            elif kind == "integer" and raw.isdigit():
                out[name] = int(raw)
            elif kind == "string" and raw in sub.get("enum", [raw]):
                out[name] = raw
        return out

    def operations(self) -> dict[str, Any]:
        return {key: self.operation(key) for key in sorted(self.ops)}

    # -- objects --
    def id_shape(self, name: str) -> tuple[str, int] | None:
        if name in PREFIX_CORRECTIONS:
            return PREFIX_CORRECTIONS[name]
        if "id" not in self.components[name].get("properties", {}):
            return None
        example = self.fixtures.get(name)
        oid = example.get("id") if isinstance(example, dict) else None
        if not isinstance(oid, str) or not oid:
            return None
        match = re.match(r"(.*_)([A-Za-z0-9]+)\Z", oid)
        if match is None:
            return ("", len(oid))
        prefix, rest = match.groups()
        return (prefix, len(rest))

    def objects(self, operations: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        lists: dict[str, list[str]] = {}
        searches: dict[str, str] = {}
        for key, op in operations.items():
            name, kind = self.responses[key]
            if kind == "list" and op["kind"] == "list" and "parent" not in op:
                lists.setdefault(name, []).append(key.split(" ", 1)[1])
            elif kind == "search_result":
                searches[name] = key.split(" ", 1)[1]
        for name in self.resources:
            node = self.components[name]
            if name.startswith("deleted_"):
                continue
            info: dict[str, Any] = {}
            shape = self.id_shape(name)
            if shape is not None:
                info["prefix"], info["id_length"] = shape
            if f"deleted_{name}" in self.components:
                info["deleted"] = f"deleted_{name}"
            if "anyOf" in node:
                info["one_of"] = sorted(_ref_name(v) for v in node["anyOf"])
            if name in lists:
                info["list_url"] = sorted(lists[name], key=len)[0]
            if name in searches:
                info["search_url"] = searches[name]
                info["search_fields"] = search_fields(current["objects"].get(name, {}))
            doc = current["objects"].get(name, {})
            if doc.get("x-includable"):
                info["includable"] = doc["x-includable"]
            if doc.get("x-expandable"):
                info["expandable"] = doc["x-expandable"]
            out[name] = info
        return out


def search_fields(doc: dict[str, Any]) -> dict[str, str]:
    """Fields a search query may name: top-level scalars (numbers numeric; enums and booleans
    tokens; other strings words) and ``metadata``."""
    fields: dict[str, str] = {}
    for name, node in doc.get("properties", {}).items():
        if name in ("object", "livemode"):
            continue
        kinds = _scalar_kinds(node)
        if name == "metadata":
            fields[name] = "token"
        elif kinds & {"integer", "number"}:
            fields[name] = "numeric"
        elif "boolean" in kinds or "enum" in kinds or name == "id":
            fields[name] = "token"
        elif "string" in kinds:
            fields[name] = "string"
    return fields


def _scalar_kinds(node: dict[str, Any]) -> set[str]:
    kinds: set[str] = set()
    for variant in node.get("anyOf", [node]):
        kind = variant.get("type")
        for k in kind if isinstance(kind, list) else [kind]:
            if k in ("string", "integer", "number", "boolean"):
                kinds.add("enum" if k == "string" and "enum" in variant else k)
    return kinds


def endpoint_schema(spec: dict[str, Any], key: str) -> dict[str, Any]:
    method, path = key.split(" ", 1)
    op = spec["paths"][path][method.lower()]
    props: dict[str, Any] = {}
    required: list[str] = []
    for param in op.get("parameters", ()):
        if param["in"] == "path":
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
    return {"type": "object", "properties": props, "required": sorted(required),
            "additionalProperties": False}


# --- object schemas ------------------------------------------------------------------------


class ObjectSchemas:
    """Converts the spec's component schemas (OpenAPI 3.0) into JSON Schema documents: one
    per resource, the non-resource hashes it holds inlined under ``$defs``."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.components = spec["components"]["schemas"]
        self.resources = {n for n, c in self.components.items() if "x-resourceId" in c}

    def document(self, name: str) -> dict[str, Any]:
        if "anyOf" in self.components[name] and name in self.resources:
            return self._union_document(name)
        defs: dict[str, Any] = {}
        root, refs = self._convert_named(name)
        pending = list(refs)
        while pending:
            current = pending.pop()
            if current in defs:
                continue
            defs[current] = {}  # placeholder against cycles
            converted, refs = self._convert_named(current)
            defs[current] = converted
            pending.extend(r for r in refs if r not in defs)
        doc = {"$schema": DRAFT, "$id": f"{name}.json", "title": name, **root}
        if defs:
            doc["$defs"] = dict(sorted(defs.items()))
        return doc

    def _union_document(self, name: str) -> dict[str, Any]:
        """A polymorphic resource (``payment_source``): the member its ``object`` names."""
        members = [_ref_name(v) for v in self.components[name]["anyOf"]]
        doc: dict[str, Any] = {"$schema": DRAFT, "$id": f"{name}.json", "title": name}
        node = doc
        for index, member in enumerate(members):
            target = {"$ref": f"{member}.json"} if member in self.resources else None
            if target is None:  # a non-resource member (deleted_card): its own document
                target = {"$ref": f"{member}.json"}
            if index == len(members) - 1:
                node.update(target)
                break
            obj = self.components[member]["properties"]["object"]["enum"][0]
            node["if"] = {"properties": {"object": {"const": obj}}, "required": ["object"]}
            node["then"] = target
            node["else"] = {}
            node = node["else"]
        return doc

    def member_documents(self) -> set[str]:
        """Non-resource members of polymorphic resources (``deleted_card``): own documents."""
        out = set()
        for name in self.resources:
            for v in self.components[name].get("anyOf", ()):
                if "$ref" in v and _ref_name(v) not in self.resources:
                    out.add(_ref_name(v))
        return out

    def _convert_named(self, name: str) -> tuple[dict[str, Any], set[str]]:
        refs: set[str] = set()
        node = self._convert(self.components[name], refs)
        optional = set(INCLUDABLE.get(name, ())) | set(CONDITIONAL.get(name, ()))
        props = node.get("properties")
        if props is not None:
            expandable: dict[str, list[str]] = {}
            for field, sub in self.components[name].get("properties", {}).items():
                targets = sub.get("x-expansionResources", {}).get("oneOf", [])
                if targets:
                    expandable[field] = [_ref_name(t) for t in targets]
            expandable.update(NESTED_EXPANDABLE.get(name, {}))
            if expandable:
                node["x-expandable"] = expandable
            if name in INCLUDABLE:
                node["x-includable"] = list(INCLUDABLE[name])
            node["required"] = [] if "*" in optional else sorted(set(props) - optional)
            node["additionalProperties"] = False
        return node, refs

    def _convert(self, node: dict[str, Any], refs: set[str]) -> dict[str, Any]:
        if "$ref" in node:
            target = _ref_name(node)
            if target in self.resources or target in self._members:
                return {"$ref": f"{target}.json"}
            refs.add(target)
            return {"$ref": f"#/$defs/{target}"}
        out: dict[str, Any] = {}
        if "anyOf" in node:
            out["anyOf"] = [self._convert(v, refs) for v in node["anyOf"]]
        if "type" in node:
            out["type"] = node["type"]
        if "enum" in node:
            out["enum"] = node["enum"]
        if "properties" in node:
            out["properties"] = {k: self._convert(v, refs) for k, v in node["properties"].items()}
        if "items" in node:
            out["items"] = self._convert(node["items"], refs)
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = self._convert(node["additionalProperties"], refs)
        if node.get("nullable"):
            if list(out) == ["type"]:
                out["type"] = [out["type"], "null"]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        return out

    @property
    def _members(self) -> set[str]:
        cached = self.__dict__.get("_members_cache")
        if cached is None:
            cached = self.__dict__["_members_cache"] = self.member_documents()
        return cached


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


def build_oldest(spec: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    converter = ObjectSchemas(spec)
    names = sorted(set(catalog.resources) | converter.member_documents())
    objects = {name: converter.document(name) for name in names}
    for key in catalog.ops:
        name, kind = catalog.responses[key]
        if kind:
            objects[f"{name}_{kind}"] = envelope(kind, name)
    objects["error"] = error_schema(converter)
    endpoints = {key: {"params": endpoint_schema(spec, key),
                       "path_params": [p["name"] for p in catalog.ops[key].get("parameters", ())
                                       if p["in"] == "path"],
                       "response": catalog.response_name(key)}
                 for key in sorted(catalog.ops)}
    return {"objects": objects, "endpoints": endpoints}


# --- the current shape from the installed SDK ------------------------------------------------


def _sdk_classes() -> dict[str, Any]:
    import importlib

    from stripe._object_classes import OBJECT_CLASSES

    return {name: getattr(importlib.import_module(module), cls)
            for name, (module, cls) in OBJECT_CLASSES.items()}


def annotation_schema(annotation: Any, depth: int = 0) -> dict[str, Any]:
    """A JSON Schema for an SDK field annotation (``Optional[str]``, ``Literal[...]``, a nested
    ``StripeObject`` class, ``List[...]``); nested classes are described a few levels deep."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is str:
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}
    if origin is typing.Literal:
        return {"type": "string", "enum": sorted(str(a) for a in args)}
    if origin is typing.Union:
        nullable = type(None) in args
        rest = [a for a in args if a is not type(None)]
        if any(a is str for a in rest):  # Union[Literal[...], str]: any string
            rest = [str]
        variants = [annotation_schema(a, depth) for a in rest]
        if nullable:
            variants.append({"type": "null"})
        if len(variants) == 1:
            return variants[0]
        simple = [v for v in variants if list(v) == ["type"]]
        if len(simple) == len(variants):
            return {"type": [v["type"] for v in variants]}
        return {"anyOf": variants}
    if origin in (list, typing.List):  # noqa: UP006
        return {"type": "array", "items": annotation_schema(args[0], depth) if args else {}}
    if origin in (dict, typing.Dict):  # noqa: UP006
        return {"type": "object"}
    hints = getattr(annotation, "__annotations__", None)
    if isinstance(annotation, type) and hints is not None and depth < 3:
        props = {k: annotation_schema(v, depth + 1) for k, v in _fields(annotation).items()}
        if props:
            return {"type": "object", "properties": props}
    return {}


def _fields(cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for key, value in vars(klass).get("__annotations__", {}).items():
            if not key.startswith("_") and key not in SDK_NOT_FIELDS:
                out[key] = value
    return out


def apply_sdk_shapes(current: dict[str, Any], catalog: Catalog) -> None:
    """Give every resource the field set its SDK class declares in the current version:
    fields the SDK no longer knows are dropped, new ones are added as present-when-set with a
    schema from the SDK's annotations.  Objects the resources reshape by hand (``Change``)
    keep their hand-made shape for the fields they name."""
    hand = {name for change in versions.CHANGES for name in change.objects}
    classes = _sdk_classes()
    for name in catalog.resources:
        doc = current["objects"].get(name)
        cls = classes.get(name)
        if doc is None or cls is None or "properties" not in doc:
            continue
        sdk = _fields(cls)
        props = doc["properties"]
        if name not in hand:
            for gone in sorted(set(props) - set(sdk) - {"object", "id"}):
                del props[gone]
                doc["x-expandable"] = {k: v for k, v in doc.get("x-expandable", {}).items()
                                       if k != gone}
                if not doc["x-expandable"]:
                    del doc["x-expandable"]
            doc["required"] = sorted(r for r in doc.get("required", ()) if r in props)
        for added in sorted(set(sdk) - set(props)):
            props[added] = annotation_schema(sdk[added])


def write(schemas: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in [*out_dir.glob("*.json"), *out_dir.glob("endpoints/*.json")]:
        old.unlink()
    for name, doc in schemas["objects"].items():
        (out_dir / f"{name}.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    groups: dict[str, dict[str, Any]] = {}
    for key, entry in schemas["endpoints"].items():
        groups.setdefault(group_of(key), {})[key] = entry
    (out_dir / "endpoints").mkdir(exist_ok=True)
    for group, entries in groups.items():
        (out_dir / "endpoints" / f"{group}.json").write_text(
            json.dumps(entries, indent=1, sort_keys=True) + "\n")


def group_of(endpoint: str) -> str:
    """The params file of an endpoint: ``POST /v1/customers/{c}/tax_ids`` -> ``customers``."""
    return endpoint.split(" ", 1)[1].split("/")[2]


def write_catalog(operations: dict[str, Any], objects: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "operations.json").write_text(json.dumps(operations, indent=1, sort_keys=True)
                                             + "\n")
    (out_dir / "objects.json").write_text(json.dumps(objects, indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--out", type=Path, default=ROOT / "schemas")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text())
    if spec["info"]["version"] != versions.OLDEST:
        parser.error(f"spec describes {spec['info']['version']}, expected {versions.OLDEST}")
    fixtures = json.loads(args.fixtures.read_text()) if args.fixtures.is_file() else {}
    load_all()  # resources register their version changes
    catalog = Catalog(spec, fixtures)
    operations = catalog.operations()
    schemas = build_oldest(spec, catalog)
    write(schemas, args.out / versions.OLDEST)
    current = copy.deepcopy(schemas)
    for change in versions.CHANGES:
        change.upgrade_schemas(current)
    apply_sdk_shapes(current, catalog)
    write(current, args.out / versions.CURRENT)
    objects = catalog.objects(operations, current)
    write_catalog(operations, objects, args.out / "catalog")
    print(f"wrote {len(operations)} operations, {len(objects)} objects and "
          f"{len(schemas['objects'])} schemas for {', '.join(versions.SUPPORTED)} into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
