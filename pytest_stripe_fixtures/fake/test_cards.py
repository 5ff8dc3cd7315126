"""Stripe's test instruments, in one table: magic PaymentMethod ids (``pm_card_visa``), card
tokens (``tok_visa``) and raw test card numbers (``4242424242424242``), each with the outcome
Stripe documents for it (STRIPE-API-RULES-PAYMENTS.md section 2, docs.stripe.com/testing).

Every resource that takes money reads this table: legacy charges and customer sources
(``cards.py``), PaymentMethods, PaymentIntents and SetupIntents.  A row is found by any of its
names or by its number; a stored card or PaymentMethod finds its row again through its
``fingerprint`` (the same number always has the same fingerprint).

Confidence tags as everywhere: [D] docs, [V] seen in real responses, [C] corroborated, [R] our
reading.  Names: every row answers ``pm_card_<name>`` and ``tok_<name>`` [D] pattern.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# --- decline messages (one place) ------------------------------------------------------------
DECLINED = "Your card was declined."  # [V]
INSUFFICIENT_FUNDS = "Your card has insufficient funds."  # [V]
EXPIRED = "Your card has expired."  # [V]
INCORRECT_CVC = "Your card's security code is incorrect."  # [V]
PROCESSING = "An error occurred while processing your card. Try again in a little bit."  # [V]
VELOCITY = ("Your card was declined for making repeated attempts too frequently or exceeding "
            "its amount limit.")  # [V]
INCORRECT_NUMBER = "Your card number is incorrect."  # [C]
AUTHENTICATION_REQUIRED = "Your card was declined. This transaction requires authentication."  # [V]
INVALID_EXPIRY_MONTH = "Your card's expiration month is invalid."  # [C]
INVALID_EXPIRY_YEAR = "Your card's expiration year is invalid."  # [C]
INVALID_CVC = "Your card's security code is invalid."  # [C]


@dataclass(frozen=True)
class Decline:
    """A card error: ``code`` (e.g. ``card_declined``), ``decline_code`` (e.g.
    ``insufficient_funds``), ``message`` and the ``param`` of field-specific codes.

    ``decline_code_2023``: whether 2023-08-16 answers carry ``decline_code`` (the 2023
    expired-card capture has none; 2026 probes repeat the code there) [V]."""

    __test__ = False

    code: str
    decline_code: str | None
    message: str
    param: str | None = None
    decline_code_2023: bool = True


GENERIC = Decline("card_declined", "generic_decline", DECLINED)
INSUFFICIENT = Decline("card_declined", "insufficient_funds", INSUFFICIENT_FUNDS)
LOST = Decline("card_declined", "lost_card", DECLINED)
STOLEN = Decline("card_declined", "stolen_card", DECLINED)
EXPIRED_CARD = Decline("expired_card", "expired_card", EXPIRED, "exp_month", False)
BAD_CVC = Decline("incorrect_cvc", "incorrect_cvc", INCORRECT_CVC, "cvc", False)
PROCESSING_ERROR = Decline("processing_error", "processing_error", PROCESSING, None, False)
FRAUDULENT = Decline("card_declined", "fraudulent", DECLINED)
VELOCITY_EXCEEDED = Decline("card_declined", "card_velocity_exceeded", VELOCITY)
BAD_NUMBER = Decline("incorrect_number", None, INCORRECT_NUMBER, "number")
# off-session payment of a card that needs authentication [V] (aat; openfoodnetwork#6534)
NEEDS_AUTHENTICATION = Decline("authentication_required", "authentication_required",
                               AUTHENTICATION_REQUIRED)

# 3D Secure behaviours [D] (docs "Regulatory cards")
NO_3DS = None
ALWAYS = "always"  # authenticate on every payment, set up or not (off-session: declined)
ON_SETUP = "on_setup"  # authenticate unless set up for off-session use (SetupIntent first)
OFF_SESSION_OK = "off_session_ok"  # on-session needs authentication; off-session succeeds
OPTIONAL = "optional"  # supported, not required: succeeds without action
NOT_SUPPORTED = "not_supported"  # 3DS cannot be invoked


@dataclass(frozen=True)
class Instrument:
    """One test card and everything Stripe does with it."""

    __test__ = False

    number: str
    brand: str  # as PaymentMethods spell it: visa, mastercard, amex, ...
    funding: str = "credit"
    country: str = "US"
    names: tuple[str, ...] = ()  # pm_card_<name> and tok_<name>
    decline: Decline | None = None  # when charged (and, unless charge_only, when attached)
    charge_only: bool = False  # attaching succeeds, charging fails [D] (chargeCustomerFail)
    three_d_secure: str | None = NO_3DS
    risk_level: str = "normal"
    blocked: bool = False  # Radar blocks it [V] outcome `blocked`
    checks: tuple[tuple[str, str], ...] = ()  # overrides of card.checks (cvc_check: fail, ...)
    refund: str = "succeeded"  # pending / fails later [D] ("Refunds" cards)
    available: bool = False  # funds bypass the pending balance [D]
    networks: tuple[str, ...] = field(default=())
    variant: str = ""  # tells apart rows sharing a number (their fingerprints differ) [R]
    shown_last4: str = ""  # when the magic id's card differs from the documented number [C]

    @property
    def last4(self) -> str:
        return self.shown_last4 or self.number[-4:]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.number + self.variant)

    @property
    def legacy_brand(self) -> str:
        """The brand as Cards and Sources spell it (``Visa``, ``American Express``)."""
        return LEGACY_BRANDS.get(self.brand, "Unknown")

    def needs_authentication(self, *, off_session: bool, set_up: bool) -> bool:
        """Whether a payment must be authenticated by the customer first."""
        mode = self.three_d_secure
        if mode == ALWAYS:
            return True
        if mode == ON_SETUP:
            return not (off_session and set_up)
        if mode == OFF_SESSION_OK:
            return not off_session
        return False


LEGACY_BRANDS = {"visa": "Visa", "mastercard": "MasterCard", "amex": "American Express",
                 "discover": "Discover", "diners": "Diners Club", "jcb": "JCB",
                 "unionpay": "UnionPay", "cartes_bancaires": "Visa", "eftpos_au": "Visa"}


def fingerprint(number: str) -> str:
    """A stable 16-character fingerprint of a card number [V] (16 alphanumerics)."""
    digest = hashlib.sha256(f"card|{number}".encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:16])


I = Instrument  # noqa: E741 (one letter keeps the table readable)
INSTRUMENTS: tuple[Instrument, ...] = (
    # --- successes by brand [D] (docs "Cards by brand"); last4 of the number [R] except visa/mc
    I("4242424242424242", "visa", names=("visa",)),
    I("4000056655665556", "visa", "debit", names=("visa_debit",)),
    I("5555555555554444", "mastercard", names=("mastercard",)),
    I("5200828282828210", "mastercard", "debit", names=("mastercard_debit",)),
    I("5105105105105100", "mastercard", "prepaid", names=("mastercard_prepaid",)),
    I("2223003122003222", "mastercard"),
    # stripe-stateful-mock's parity table: tok_amex shows 8431 [C]
    I("378282246310005", "amex", names=("amex",), shown_last4="8431"),
    I("371449635398431", "amex"),
    I("6011111111111117", "discover", names=("discover",)),
    I("6011000990139424", "discover"),
    I("6011981111111113", "discover", "debit"),
    I("3056930009020004", "diners", names=("diners",)),
    I("36227206271667", "diners"),
    I("3566002020360505", "jcb", country="JP", names=("jcb",)),
    I("6200000000000005", "unionpay", country="CN", names=("unionpay",)),
    I("6200000000000047", "unionpay", "debit", country="CN"),
    I("6205500000000000004", "unionpay", country="CN"),
    I("4000002500001001", "visa", country="FR", names=("visa_cartesBancaires",),
      networks=("cartes_bancaires", "visa")),
    I("5555552500001001", "mastercard", country="FR", names=("mastercard_cartesBancaires",),
      networks=("cartes_bancaires", "mastercard")),
    I("4000050360000001", "visa", "debit", country="AU",
      names=("visa_debit_eftposAuCoBranded",), networks=("eftpos_au", "visa")),
    I("5555050360000080", "mastercard", "debit", country="AU",
      names=("mastercard_debit_eftposAuCoBranded",), networks=("eftpos_au", "mastercard")),
    # --- a few country cards [D] (docs "International cards"); card.country is the code [R]
    I("4000000760000002", "visa", country="BR", names=("br",)),
    I("4000001240000000", "visa", country="CA", names=("ca",)),
    I("4000002760000016", "visa", country="DE", names=("de",)),
    I("4000002500000003", "visa", country="FR", names=("fr",)),
    I("4000008260000000", "visa", country="GB", names=("gb",)),
    I("4000058260000005", "visa", "debit", country="GB", names=("gb_debit",)),
    I("5555558265554449", "mastercard", country="GB", names=("gb_mastercard",)),
    I("4000003720000005", "visa", country="IE", names=("ie",)),
    I("4000003920000003", "visa", country="JP", names=("jp",)),
    I("4000000360000006", "visa", country="AU", names=("au",)),
    # --- declines [V] codes/messages (aat 2026, openfoodnetwork 2023); see Decline
    I("4000000000000002", "visa", names=("chargeDeclined", "visa_chargeDeclined"),
      decline=GENERIC),
    I("4000000000009995", "visa", names=("chargeDeclinedInsufficientFunds",
                                         "visa_chargeDeclinedInsufficientFunds"),
      decline=INSUFFICIENT),
    I("4000000000009987", "visa", names=("chargeDeclinedLostCard", "visa_chargeDeclinedLostCard"),
      decline=LOST),
    I("4000000000009979", "visa", names=("chargeDeclinedStolenCard",
                                         "visa_chargeDeclinedStolenCard"), decline=STOLEN),
    I("4000000000000069", "visa", names=("chargeDeclinedExpiredCard",), decline=EXPIRED_CARD),
    I("4000000000000127", "visa", names=("chargeDeclinedIncorrectCvc",), decline=BAD_CVC),
    I("4000000000000119", "visa", names=("chargeDeclinedProcessingError",),
      decline=PROCESSING_ERROR),
    I("4000000000006975", "visa", names=("visa_chargeDeclinedVelocityLimitExceeded",
                                         "chargeDeclinedVelocityLimitExceeded"),
      decline=VELOCITY_EXCEEDED),
    # fraudulent: Radar blocks it (same number as radarBlock [R]); outcome `blocked` [V]
    I("4100000000000019", "visa", names=("chargeDeclinedFraudulent", "radarBlock"),
      decline=FRAUDULENT, risk_level="highest", blocked=True),
    # --- attach succeeds, charges fail [D] (decline code generic [R], lost/stolen [D])
    I("4000000000000341", "visa", names=("chargeCustomerFail",), decline=GENERIC,
      charge_only=True),
    I("4000000000000341", "visa", variant="lost", names=("visa_chargeCustomerFailLostCard",),
      decline=LOST, charge_only=True),
    I("4000000000000341", "visa", variant="stolen", names=("visa_chargeCustomerFailStolenCard",),
      decline=STOLEN, charge_only=True),
    # --- 3D Secure [D] (docs "Regulatory cards"); behaviour after authentication as named
    I("4000002500003155", "visa", country="FR", names=("authenticationRequiredOnSetup",),
      three_d_secure=ON_SETUP),
    I("4000002760003184", "visa", country="DE", names=("authenticationRequired",),
      three_d_secure=ALWAYS),
    I("4000003800000446", "visa", country="LU",
      names=("authenticationRequiredSetupForOffSession",), three_d_secure=OFF_SESSION_OK),
    I("4000008260003178", "visa", country="GB",
      names=("authenticationRequiredChargeDeclinedInsufficientFunds",),
      three_d_secure=ALWAYS, decline=INSUFFICIENT, charge_only=True),
    I("4000000000003220", "visa", country="IE",
      names=("threeDSecure2Required", "threeDSecureRequired"), three_d_secure=ALWAYS),
    I("4000008400000027", "visa", three_d_secure=ALWAYS),
    I("4000008400001629", "visa", names=("threeDSecureRequiredChargeDeclined",),
      three_d_secure=ALWAYS, decline=GENERIC, charge_only=True),
    I("4000008400001280", "visa", names=("threeDSecureRequiredProcessingError",),
      three_d_secure=ALWAYS, decline=PROCESSING_ERROR, charge_only=True),
    I("4000000000003055", "visa", names=("threeDSecureOptional",), three_d_secure=OPTIONAL),
    I("4000000000003097", "visa", names=("threeDSecureOptionalProcessingError",),
      three_d_secure=OPTIONAL, decline=PROCESSING_ERROR, charge_only=True),
    I("378282246310005", "amex", variant="no3ds", names=("amex_threeDSecureNotSupported",),
      three_d_secure=NOT_SUPPORTED),
    I("4000000032200000", "visa", three_d_secure=OPTIONAL),  # frictionless
    # --- Radar and checks [D] (docs "Fraud prevention")
    I("4000000000004954", "visa", names=("riskLevelHighest",), decline=FRAUDULENT,
      risk_level="highest", blocked=True),
    I("4000000000009235", "visa", names=("riskLevelElevated",), risk_level="elevated"),
    I("4000000000000101", "visa", names=("cvcCheckFail",), checks=(("cvc_check", "fail"),)),
    I("4000000000000036", "visa", names=("avsZipFail",),
      checks=(("address_postal_code_check", "fail"),)),
    I("4000000000000028", "visa", names=("avsLine1Fail",),
      checks=(("address_line1_check", "fail"),)),
    I("4000000000000010", "visa", names=("avsFail",),
      checks=(("address_line1_check", "fail"), ("address_postal_code_check", "fail"))),
    I("4000000000000044", "visa", names=("avsUnchecked",),
      checks=(("address_line1_check", "unavailable"),
              ("address_postal_code_check", "unavailable"))),
    # --- refunds [D] (docs "Refunds")
    I("4000000000007726", "visa", names=("pendingRefund",), refund="pending"),
    I("4000000000005126", "visa", names=("refundFail",), refund="fails"),
    # --- balance [D]
    I("4000000000000077", "visa", names=("bypassPending",), available=True),
    I("4000003720000278", "visa", country="IE", names=("bypassPendingInternational",),
      available=True),
    I("4000000000000093", "visa", names=("domesticPricing",)),
    # --- invalid number [D] code, [C] message: a Luhn failure
    I("4242424242424241", "visa", decline=BAD_NUMBER),
)
del I

BY_NAME: dict[str, Instrument] = {}
BY_NUMBER: dict[str, Instrument] = {}
BY_FINGERPRINT: dict[str, Instrument] = {}
for _row in INSTRUMENTS:
    for _name in _row.names:
        BY_NAME[f"pm_card_{_name}"] = _row
        BY_NAME[f"tok_{_name}"] = _row
    if not _row.variant:
        BY_NUMBER.setdefault(_row.number, _row)
    BY_FINGERPRINT[_row.fingerprint] = _row
del _row, _name


def by_name(name: str) -> Instrument | None:
    """The row behind a magic ``pm_card_*`` id or ``tok_*`` token."""
    return BY_NAME.get(name)


def by_fingerprint(value: str | None) -> Instrument | None:
    """The row a stored card or PaymentMethod was made from (None for other numbers)."""
    return BY_FINGERPRINT.get(value) if value else None


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number]
    for i in range(len(digits) - 2, -1, -2):
        digits[i] = digits[i] * 2 - 9 if digits[i] > 4 else digits[i] * 2
    return sum(digits) % 10 == 0


_PREFIX_BRANDS = (("34", "amex"), ("37", "amex"), ("4", "visa"), ("51", "mastercard"),
                  ("52", "mastercard"), ("53", "mastercard"), ("54", "mastercard"),
                  ("55", "mastercard"), ("22", "mastercard"), ("6011", "discover"),
                  ("65", "discover"), ("36", "diners"), ("30", "diners"), ("35", "jcb"),
                  ("62", "unionpay"))


def by_number(number: str) -> Instrument:
    """The row for a raw card number; another number that passes the Luhn check is an ordinary
    card of the brand its prefix names [R]; one that fails it is ``incorrect_number``."""
    row = BY_NUMBER.get(number)
    if row is not None:
        return row
    brand = next((b for prefix, b in _PREFIX_BRANDS if number.startswith(prefix)), "unknown")
    if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_ok(number):
        return Instrument(number, brand, decline=BAD_NUMBER)
    return Instrument(number, brand)


# --- the card error a decline answers -----------------------------------------------------------

# Since when expired / CVC / processing declines repeat their code as `decline_code`: absent in
# a 2023-10-16 capture, present in 2026 probes [V]; the version in between is unknown [R].
DECLINE_CODE_EVERYWHERE = "2024-06-20"


def shows_decline_code(decline: Decline, version: str) -> bool:
    from . import versions

    if decline.decline_code is None:
        return False
    return decline.decline_code_2023 or (
        versions.version_key(version) >= versions.version_key(DECLINE_CODE_EVERYWHERE))


def error_hash(decline: Decline, version: str) -> dict[str, object]:
    """The error's own keys (``code``, ``decline_code``, ``doc_url``, ``message``, ``param``,
    ``type``), as ``last_payment_error`` and the 402 body carry them [V]."""
    from .errors import DOCS

    out: dict[str, object] = {"code": decline.code,
                              "doc_url": DOCS + decline.code.replace("_", "-"),
                              "message": decline.message, "type": "card_error"}
    if shows_decline_code(decline, version):
        out["decline_code"] = decline.decline_code
    if decline.param is not None:
        out["param"] = decline.param
    return out


def card_error(decline: Decline, version: str, **extra: object):  # -> errors.StripeError
    """The 402 ``card_error`` for ``decline`` (``extra``: ``charge``, ``payment_intent``, ...)."""
    from . import errors

    body = {k: v for k, v in error_hash(decline, version).items()
            if k not in ("code", "doc_url", "message", "param", "type")}
    body.update({k: v for k, v in extra.items() if v is not None})
    return errors.StripeError(decline.message, status=402, type="card_error", code=decline.code,
                              param=decline.param, saved=True, extra=body)
