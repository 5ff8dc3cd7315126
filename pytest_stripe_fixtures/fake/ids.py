"""Stripe-shaped ids.  Deterministic when seeded, so snapshots stay stable.

Shapes observed in real responses (STRIPE-API-RULES.md section 10): ``prod_``/``cus_`` plus
14 alphanumerics; ``price_``, ``ch_``, ``src_``, ``promo_``, ``di_`` plus 24 characters
beginning with a digit; coupons 8 alphanumerics; requests ``req_`` plus 14.
"""

from __future__ import annotations

import random
import string

ALPHANUM = string.ascii_letters + string.digits

SHORT = 14  # prod_NZOkxQ8eTZEHwN
LONG = 24  # price_1MoBy5LkdIwHu7ixZhnattbh

class _Prefixes(dict):  # type: ignore[type-arg]
    """Object type -> (prefix, length), from the catalog (``schemas/catalog/objects.json``,
    Stripe's example ids), read on first use; a type the catalog has no example for gets a
    prefix from its name, so a new id never fails."""

    _loaded = False

    def _load(self) -> None:
        if not self._loaded:
            from .catalog import objects

            for name, info in objects().items():
                if "prefix" in info:
                    self.setdefault(name, (info["prefix"], info["id_length"]))
            self._loaded = True

    def __missing__(self, name: str) -> tuple[str, int]:
        self._load()
        if name in self:
            return dict.__getitem__(self, name)
        words = name.replace(".", "_").split("_")
        return self.setdefault(name, ("".join(w[:2] for w in words if w) + "_", LONG))

    def items(self):  # type: ignore[override]
        self._load()
        return super().items()


PREFIXES: dict[str, tuple[str, int]] = _Prefixes({
    "request": ("req_", SHORT),
    "checkout.session": ("cs_test_a1", 56),  # cs_test_a1uVtOywngVrCV... [V] shape
    "item": ("li_", LONG),  # [R] from docs examples
})


# byte -> alphanumeric; bytes >= 248 (= 4 * 62) are dropped so every character is equally likely
_TO_ALPHANUM = bytes(ord(ALPHANUM[b % len(ALPHANUM)]) for b in range(256))
_REJECTED = bytes(range(4 * len(ALPHANUM), 256))
CODE_CHARS = string.ascii_uppercase + string.digits
_TO_CODE = bytes(ord(CODE_CHARS[b % len(CODE_CHARS)]) for b in range(256))
_REJECTED_CODE = bytes(range(7 * len(CODE_CHARS), 256))


_UNSEEDED = random.Random()


class IdFactory:
    """Generates ids; ``seed`` makes the sequence reproducible."""

    def __init__(self, seed: int | str | None = None) -> None:
        # unseeded factories share one generator: seeding a new one from the OS costs ~8 µs,
        # paid by every test otherwise
        self._random = _UNSEEDED if seed is None else random.Random(seed)

    def token(self, length: int) -> str:
        """``length`` random alphanumerics (random bytes mapped through a table: this runs on
        every request, for the request id, so it must be cheap)."""
        out = self._random.randbytes(length + 8).translate(_TO_ALPHANUM, _REJECTED)
        while len(out) < length:
            out += self._random.randbytes(8).translate(_TO_ALPHANUM, _REJECTED)
        return out[:length].decode()

    def new(self, object_type: str) -> str:
        prefix, length = PREFIXES[object_type]
        if length == LONG:
            return prefix + str(self._random.randint(1, 9)) + self.token(LONG - 1)
        return prefix + self.token(length)

    def code(self, length: int = 8) -> str:
        """A customer-facing code (promotion codes): upper-case letters and digits."""
        out = b""
        while len(out) < length:
            out += self._random.randbytes(length + 4).translate(_TO_CODE, _REJECTED_CODE)
        return out[:length].decode()
