"""Unit tests for the Search query language (``pytest_stripe_fixtures.fake.search``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_stripe_fixtures.fake.search import MESSAGES, SearchQueryError, compile_query

PRODUCTS = {
    "active": "token",
    "description": "string",
    "metadata": "token",
    "name": "string",
    "shippable": "token",
    "url": "string",
}
PRICES = {
    "active": "token",
    "currency": "token",
    "lookup_key": "string",
    "metadata": "token",
    "product": "string",
    "type": "token",
}
CUSTOMERS = {
    "created": "numeric",
    "email": "string",
    "metadata": "token",
    "name": "string",
    "phone": "string",
}
CHARGES = {
    "amount": "numeric",
    "billing_details.address.postal_code": "token",
    "currency": "token",
    "metadata": "token",
    "payment_method_details.card.exp_month": "token",
    "payment_method_details.card.last4": "token",
    "refunded": "token",
    "status": "token",
}


def matches(query: str, obj: dict[str, Any], fields: dict[str, str] = PRODUCTS) -> bool:
    return compile_query(query, fields)(obj)


def error(query: str, fields: dict[str, str] = PRODUCTS) -> str:
    with pytest.raises(SearchQueryError) as info:
        compile_query(query, fields)
    assert str(info.value) == info.value.message
    return info.value.message


# --- exact match ``:`` -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name", "expected"),
    [
        ('name:"one two three"', "one two three four", True),
        ('name:"one two three"', "zero one two three", True),
        ('name:"one two three"', "ONE  Two\tthree", True),
        ('name:"one two three"', "one three two", False),
        ('name:"one two three"', "one two", False),
        ('name:"one two three"', "one two thre", False),
        ('name:"two"', "one two three", True),
        ('name:"tw"', "one two three", False),
        ("name:'Amy'", "amy", True),
        ('name:"null"', "null", True),
        ('name:""', "", True),
        ('name:""', "anything", False),
    ],
)
def test_exact_match_on_string_fields_matches_words_in_order(
    query: str, name: str, expected: bool
) -> None:
    assert matches(query, {"name": name}) is expected


def test_exact_match_on_string_fields_keeps_ids_and_emails_whole() -> None:
    assert matches('product:"prod_123"', {"product": "prod_123"}, PRICES)
    assert matches('product:"PROD_123"', {"product": "prod_123"}, PRICES)
    assert not matches('product:"prod_123"', {"product": "prod_1234"}, PRICES)
    assert not matches('product:"prod"', {"product": "prod_123"}, PRICES)
    email = {"email": "Amy@RocketRides.io"}
    assert matches('email:"amy@rocketrides.io"', email, CUSTOMERS)
    assert not matches('email:"amy"', email, CUSTOMERS)


@pytest.mark.parametrize(
    ("query", "obj", "expected"),
    [
        ('currency:"usd"', {"currency": "usd"}, True),
        ('currency:"USD"', {"currency": "usd"}, True),
        ('currency:"usd"', {"currency": "usdx"}, False),
        ('type:"recurring"', {"type": "recurring one"}, False),
        ('active:"true"', {"active": True}, True),
        ('active:"TRUE"', {"active": True}, True),
        ('active:"false"', {"active": False}, True),
        ('active:"true"', {"active": False}, False),
        ('active:"true"', {"active": None}, False),
        ('active:"true"', {}, False),
        ('currency:""', {"currency": ""}, True),
        ('currency:""', {"currency": None}, False),
    ],
)
def test_exact_match_on_token_fields_is_case_insensitive_equality(
    query: str, obj: dict[str, Any], expected: bool
) -> None:
    assert matches(query, obj, PRICES) is expected


def test_token_fields_compare_the_string_form_of_numbers() -> None:
    card = {"payment_method_details": {"card": {"exp_month": 12, "last4": "4242"}}}
    assert matches("payment_method_details.card.exp_month:12", card, CHARGES)
    assert matches('payment_method_details.card.exp_month:"12"', card, CHARGES)
    assert matches("payment_method_details.card.last4:4242", card, CHARGES)
    assert not matches("payment_method_details.card.last4:0042", card, CHARGES)


def test_containers_never_match_a_value() -> None:
    assert not matches('currency:"usd"', {"currency": ["usd"]}, PRICES)
    assert not matches('currency:"usd"', {"currency": {"usd": 1}}, PRICES)


# --- substring ``~`` ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name", "expected"),
    [
        ('name~"amy"', "Amy Tan", True),
        ('name~"AMY"', "tamyra", True),
        ('name~"amy t"', "Amy Tan", True),
        ('name~"amy"', "am y", False),
        ('name~"amyt"', "Amy Tan", False),
        ("name~'dinosaur_swag'", "/dinosaur_swag/1", True),
    ],
)
def test_substring_match(query: str, name: str, expected: bool) -> None:
    assert matches(query, {"name": name}) is expected


def test_substring_on_missing_field_is_false() -> None:
    assert not matches('description~"abc"', {"description": None})
    assert not matches('description~"abc"', {})


# --- numeric comparisons -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "created", "expected"),
    [
        ("created:1000", 1000, True),
        ("created:1000", 1001, False),
        ('created:"1000"', 1000, True),
        ("created>1000", 1001, True),
        ("created>1000", 1000, False),
        ("created<1000", 999, True),
        ("created<1000", 1000, False),
        ("created>=1000", 1000, True),
        ("created>=1000", 999, False),
        ("created<=1000", 1000, True),
        ("created<=1000", 1001, False),
        ('created>"1000"', 1001, True),
        ("created>999.5", 1000, True),
        ("created>-1", 0, True),
        ("created<=1000", 1000.0, True),
        ("created>1000", "1500", True),
        ("created>1000", None, False),
        ("created>1000", True, False),
        ("created>1000", "soon", False),
    ],
)
def test_numeric_comparisons(query: str, created: Any, expected: bool) -> None:
    assert matches(query, {"created": created}, CUSTOMERS) is expected


def test_numeric_comparison_on_missing_field_is_false() -> None:
    assert not matches("created>0", {}, CUSTOMERS)
    assert matches("-created>0", {}, CUSTOMERS)


# --- AND / OR ----------------------------------------------------------------------------

PRODUCT = {"name": "Blue shirt", "active": True, "description": None, "metadata": {"k": "v"}}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('name:"shirt" active:"true"', True),
        ('name:"shirt" active:"false"', False),
        ('name:"shirt"\tactive:"true"\nmetadata["k"]:"v"', True),
        ('name:"shirt" AND active:"true"', True),
        ('name:"shirt" and active:"false"', False),
        ('name:"shirt" And active:"true" AND metadata["k"]:"v"', True),
        ('name:"pants" OR active:"true"', True),
        ('name:"pants" or active:"false"', False),
        ('name:"pants" Or active:"false" OR metadata["k"]:"v"', True),
        ('name:"pants"   OR   name:"shirt"', True),
    ],
)
def test_and_or(query: str, expected: bool) -> None:
    assert matches(query, PRODUCT) is expected


# --- negation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('-name:"shirt"', False),
        ('-name:"pants"', True),
        ('-active:"false"', True),
        ('-name:"pants" -active:"false"', True),
        ('-name:"shirt" OR active:"true"', True),
        ('-name:"shirt" OR -active:"true"', False),
        ('-shippable:"true"', True),  # missing field: the clause fails, its negation holds
        ('-description~"abc"', True),
    ],
)
def test_negation(query: str, expected: bool) -> None:
    assert matches(query, PRODUCT) is expected


# --- null and metadata -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"description": None}, True),
        ({"description": ""}, True),
        ({}, True),
        ({"description": "x"}, False),
    ],
)
def test_null_matches_none_empty_and_missing(obj: dict[str, Any], expected: bool) -> None:
    assert matches("description:null", obj) is expected
    assert matches("description:NULL", obj) is expected
    assert matches("description:Null", obj) is expected
    assert matches("-description:null", obj) is not expected


def test_quoted_null_is_a_literal_string() -> None:
    assert not matches('description:"null"', {"description": None})
    assert matches('description:"null"', {"description": "null"})


@pytest.mark.parametrize(
    ("query", "metadata", "expected"),
    [
        ('metadata["order"]:"6735"', {"order": "6735"}, True),
        ("metadata['order']:'6735'", {"order": "6735"}, True),
        ("metadata['order']:6735", {"order": "6735"}, True),
        ('metadata["order"]:"ABC"', {"order": "abc"}, True),
        ('metadata["order"]:"6735"', {"order": "67350"}, False),
        ('metadata["order"]:"6735"', {}, False),
        ('metadata["Order"]:"6735"', {"order": "6735"}, False),  # keys are case-sensitive
        ('metadata["order"]:null', {}, True),
        ('metadata["order"]:null', {"order": ""}, True),
        ('metadata["order"]:null', {"order": "1"}, False),
        ('-metadata["order"]:null', {"order": "1"}, True),
        ('-metadata["order"]:null', {}, False),
        ('metadata["a b"]:"c"', {"a b": "c"}, True),
        ('metadata["say \\"hi\\""]:"x"', {'say "hi"': "x"}, True),
    ],
)
def test_metadata(query: str, metadata: dict[str, str], expected: bool) -> None:
    assert matches(query, {"metadata": metadata}) is expected


def test_metadata_missing_or_not_a_dict() -> None:
    assert matches('metadata["k"]:null', {})
    assert matches('metadata["k"]:null', {"metadata": None})
    assert not matches('metadata["k"]:"v"', {"metadata": "k=v"})


# --- dotted paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "expected_match", "expected_null"),
    [
        ({"billing_details": {"address": {"postal_code": "94107"}}}, True, False),
        ({"billing_details": {"address": {"postal_code": None}}}, False, True),
        ({"billing_details": {"address": None}}, False, True),
        ({"billing_details": {}}, False, True),
        ({"billing_details": "oops"}, False, True),
        ({}, False, True),
    ],
)
def test_dotted_paths_walk_nested_dicts(
    obj: dict[str, Any], expected_match: bool, expected_null: bool
) -> None:
    field = "billing_details.address.postal_code"
    assert matches(f'{field}:"94107"', obj, CHARGES) is expected_match
    assert matches(f"{field}:94107", obj, CHARGES) is expected_match
    assert matches(f"{field}:null", obj, CHARGES) is expected_null


# --- quoting and escapes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ('name:"say \\"hi\\""', 'say "hi"'),
        ("name:'it\\'s'", "it's"),
        ('name:"it\'s"', "it's"),
        ("name:'say \"hi\"'", 'say "hi"'),
        ('name:"back\\\\slash"', "back\\slash"),
        ('name:"a\\nb"', "a\\nb"),  # unknown escapes are kept literally
        ('name:"x:y~z>=1 AND OR -q"', "x:y~z>=1 AND OR -q"),
        ('name:"(paren)"', "(paren)"),
    ],
)
def test_quoting_and_escapes(query: str, name: str) -> None:
    assert matches(query, {"name": name})


# --- errors ------------------------------------------------------------------------------


def message(key: str, **kwargs: Any) -> str:
    return MESSAGES[key].format(**kwargs)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", message("empty")),
        ("   \t\n", message("empty")),
        ('name:"abc', message("unterminated_string", pos=6)),
        ("name:'abc\"", message("unterminated_string", pos=6)),
        ('name:"abc\\"', message("unterminated_string", pos=6)),
        ('metadata["k', message("unterminated_string", pos=10)),
        (':"x"', message("expected_field", pos=1, found=":")),
        ('"x"', message("expected_field", pos=1, found='"')),
        ('--name:"x"', message("expected_field", pos=2, found="-")),
        ('(name:"x")', message("parentheses")),
        ('name:"x" (active:"true")', message("parentheses")),
        ('-(name:"x")', message("parentheses")),
        ("-", message("dangling_negation", pos=1)),
        ('- name:"x"', message("dangling_negation", pos=1)),
        ('name:"x" -', message("dangling_negation", pos=10)),
        ('metadata:"x"', message("metadata_key")),
        ('metadata[k]:"x"', message("metadata_key")),
        ('metadata["k":"x"', message("metadata_key")),
        ('metadata[""]:"x"', message("metadata_key")),
        ("metadata", message("metadata_key")),
        ('name["k"]:"x"', message("brackets", field="name")),
        ('email:"x"', message("unknown_field", field="email")),
        ('Name:"x"', message("unknown_field", field="Name")),
        ('and:"x"', message("unknown_field", field="and")),
        ('name.first:"x"', message("unknown_field", field="name.first")),
        ("name", message("expected_operator", field="name")),
        ('name "x"', message("expected_operator", field="name")),
        ('name="x"', message("expected_operator", field="name")),
        ('metadata["k"]', message("expected_operator", field='metadata["k"]')),
        ("name:", message("missing_value", field="name", op=":")),
        ('name: "x"', message("missing_value", field="name", op=":")),
        ('name~ "x"', message("missing_value", field="name", op="~")),
        ('metadata["k"]: "x"', message("missing_value", field='metadata["k"]', op=":")),
        ("name:abc", message("unquoted_value", value="abc", field="name")),
        ("active:true", message("unquoted_value", value="true", field="active")),
        ("name:12abc", message("unquoted_value", value="12abc", field="name")),
        ('name:abc"', message("unquoted_value", value='abc"', field="name")),
        ('name:"x"active:"true"', message("expected_whitespace", field="name", pos=9)),
        ('name:"x"AND active:"true"', message("expected_whitespace", field="name", pos=9)),
        ('name>"x"', message("unsupported_operator", op=">", type="string", field="name")),
        ('name<="x"', message("unsupported_operator", op="<=", type="string", field="name")),
        ('active~"true"', message("unsupported_operator", op="~", type="token", field="active")),
        ('active>"1"', message("unsupported_operator", op=">", type="token", field="active")),
        (
            'metadata["k"]~"abc"',
            message("unsupported_operator", op="~", type="token", field='metadata["k"]'),
        ),
        ("name>null", message("unsupported_operator", op=">", type="string", field="name")),
        ("name~null", message("null_operator")),
        ('name~"ab"', message("substring_too_short")),
        ('name~""', message("substring_too_short")),
        ("name~12", message("substring_too_short")),
        ('AND name:"x"', message("dangling_keyword", keyword="AND")),
        ('or name:"x"', message("dangling_keyword", keyword="OR")),
        ('name:"x" AND', message("dangling_keyword", keyword="AND")),
        ('name:"x" or ', message("dangling_keyword", keyword="OR")),
        ('name:"x" AND AND name:"y"', message("dangling_keyword", keyword="AND")),
        ('name:"x" AND OR name:"y"', message("dangling_keyword", keyword="OR")),
        ("AND", message("dangling_keyword", keyword="AND")),
        ('name:"x" OR name:"y" AND name:"z"', message("mixed_keywords")),
        ('name:"x" OR name:"y" name:"z"', message("mixed_keywords")),
        ('name:"x" name:"y" or name:"z"', message("mixed_keywords")),
    ],
)
def test_errors(query: str, expected: str) -> None:
    assert error(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('created>"soon"', message("not_numeric", value="soon", field="created")),
        ('created:"1e5"', message("not_numeric", value="1e5", field="created")),
        ('created:""', message("not_numeric", value="", field="created")),
        ("created>" + "9" * 5000, message("not_numeric", value="9" * 5000, field="created")),
        ("created~1000", message("unsupported_operator", op="~", type="numeric", field="created")),
        ("created>=null", message("null_operator")),
        ("created<abc", message("unquoted_value", value="abc", field="created")),
    ],
)
def test_numeric_errors(query: str, expected: str) -> None:
    assert error(query, CUSTOMERS) == expected


def test_metadata_is_unknown_unless_declared() -> None:
    assert error('metadata["k"]:"v"', {"name": "string"}) == message(
        "unknown_field", field="metadata"
    )


def test_non_string_query_is_a_query_error() -> None:
    with pytest.raises(SearchQueryError) as info:
        compile_query(None, PRODUCTS)  # type: ignore[arg-type]
    assert info.value.message == message("not_string")


def test_bad_field_table_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown type"):
        compile_query('name:"x"', {"name": "text"})


def test_error_messages_are_single_sentences() -> None:
    for template in MESSAGES.values():
        assert template.startswith("Invalid query: ")
        assert template.endswith(".")


# --- caching -----------------------------------------------------------------------------


def test_compiled_queries_are_cached_per_query_and_field_table() -> None:
    first = compile_query('name:"cache me"', PRODUCTS)
    assert compile_query('name:"cache me"', dict(PRODUCTS)) is first
    assert compile_query('name:"cache me"', {**PRODUCTS, "extra": "token"}) is not first


# --- property-based ----------------------------------------------------------------------

SAMPLE_OBJECTS: list[dict[str, Any]] = [
    {},
    {"name": None, "metadata": None, "active": None},
    {"name": "", "description": "", "metadata": {}},
    {"name": "Blue shirt", "active": True, "shippable": False, "metadata": {"k": "v", "": "x"}},
    {"name": 42, "url": ["x"], "description": {"nested": "dict"}, "metadata": "not a dict"},
    {"name": "a\u00a0b", "created": 1000, "description": "null", "metadata": {"k": None}},
]
FUZZ_FIELDS = {**PRODUCTS, "created": "numeric", "a.b": "token"}


def _assert_total(query: str) -> None:
    try:
        predicate = compile_query(query, FUZZ_FIELDS)
    except SearchQueryError as exc:
        assert isinstance(exc.message, str) and exc.message
        return
    for obj in SAMPLE_OBJECTS:
        assert predicate(obj) in (True, False)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_random_text_only_raises_search_query_error(query: str) -> None:
    _assert_total(query)


QUERY_PIECES = [
    " ",
    "\t",
    "\x00",
    "'x y'",
    *"""- : ~ > < >= <= = " ' \\ [ ] ( ) . AND or null NULL name active created metadata
    metadata["k"] a.b 12 -3 4.5 "abc" é""".split(),
]
QUERYISH = st.lists(st.sampled_from(QUERY_PIECES), max_size=12).map("".join)


@settings(max_examples=1000, deadline=None)
@given(QUERYISH)
def test_query_shaped_text_only_raises_search_query_error(query: str) -> None:
    _assert_total(query)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


WORDS = st.sampled_from(["blue", "Blue", "shirt", "red", "a", "v", "true", "false", "null", ""])
TEXT = st.lists(WORDS, max_size=3).map(" ".join)

CLAUSES = st.one_of(
    st.tuples(st.sampled_from(["name", "description", "url"]), st.sampled_from([":"]), TEXT),
    st.tuples(
        st.sampled_from(["name", "description", "url"]),
        st.just("~"),
        TEXT.filter(lambda t: len(t) >= 3),
    ),
    st.tuples(st.sampled_from(["active", "shippable", 'metadata["k"]']), st.just(":"), TEXT),
    st.tuples(
        st.just("created"),
        st.sampled_from([":", ">", "<", ">=", "<="]),
        st.integers(-5, 2000).map(str),
    ),
).map(lambda c: c[0] + c[1] + (c[2] if c[0] == "created" else _quote(c[2])))

OBJECTS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.none(), TEXT),
        "description": st.one_of(st.none(), TEXT),
        "url": st.one_of(st.none(), TEXT),
        "active": st.one_of(st.none(), st.booleans()),
        "shippable": st.one_of(st.none(), st.booleans(), TEXT),
        "created": st.one_of(st.none(), st.integers(-5, 2000)),
        "metadata": st.dictionaries(st.sampled_from(["k", "j"]), TEXT, max_size=2),
    },
)


@settings(max_examples=300, deadline=None)
@given(CLAUSES, OBJECTS)
def test_negation_is_the_complement(clause: str, obj: dict[str, Any]) -> None:
    fields = {**PRODUCTS, "created": "numeric"}
    assert compile_query("-" + clause, fields)(obj) is not compile_query(clause, fields)(obj)


@settings(max_examples=300, deadline=None)
@given(CLAUSES, CLAUSES, OBJECTS)
def test_and_or_combine_clauses(left: str, right: str, obj: dict[str, Any]) -> None:
    fields = {**PRODUCTS, "created": "numeric"}
    a = compile_query(left, fields)(obj)
    b = compile_query(right, fields)(obj)
    assert compile_query(f"{left} {right}", fields)(obj) is (a and b)
    assert compile_query(f"{left} AND {right}", fields)(obj) is (a and b)
    assert compile_query(f"{left} OR {right}", fields)(obj) is (a or b)
