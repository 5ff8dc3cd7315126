"""Currencies Stripe accepts (lowercase ISO 4217), and the zero-decimal ones."""

from __future__ import annotations

from . import errors

SUPPORTED = frozenset("""
usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn
bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf
gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr
lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen
pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd
top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw
""".split())

ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())

INVALID_CURRENCY = "Invalid currency: {value}. Stripe currently supports these currencies: {all}"  # [C]
UPPERCASE_KEY = (  # [C]
    "Currencies must be lowercase when used as keys in a map. Use `{lower}` instead of `{value}`."
)


def check(value: str, param: str = "currency") -> str:
    """The lowercase currency, or Stripe's 400 for an unknown one."""
    lower = value.lower()
    if lower not in SUPPORTED:
        raise errors.invalid(
            INVALID_CURRENCY.format(value=value, all=", ".join(sorted(SUPPORTED))), param)
    return lower


def check_map_key(value: str, param: str) -> str:
    if value != value.lower() and value.lower() in SUPPORTED:
        raise errors.invalid(UPPERCASE_KEY.format(lower=value.lower(), value=value), param)
    return check(value, f"{param}[{value}]")
