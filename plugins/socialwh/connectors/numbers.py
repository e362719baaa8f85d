"""Number parsing for connectors, with errors that name the account, the record and the field.

APIs send metrics as strings, JSON numbers, "-" or nothing. Every connector needs the same
rules: money as exact Decimal (never float; ``str()`` of a JSON float is its shortest repr, so
even a number arrives digit-exact), counts as non-negative integers, and a clear error when a
value is not what the contract says, e.g. ``TikTok advertiser 7000..: ad 123 on 2026-11-02:
field 'spend' is not a number: 'abc'``. A connector binds its own subject once::

    _num = FieldNumbers("Meta act_{}")
    _decimal, _int = _num.decimal, _num.int
    spend = _decimal(record.get("spend"), account_id, f"ad {ad_id} on {day}", "spend")

A record's numbers are usually a declaration, raw column <- (parser, API field), read at once
with :meth:`FieldNumbers.columns`::

    METRICS = {"spend": ("decimal", "spend"), "reach": ("optional_int", "reach")}
    row = {..., **_num.columns(METRICS, record, account_id, what), ...}
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

MICRO = -6


_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def is_plain_non_negative(text: str) -> bool:
    """True for an ASCII decimal like "12" or "12.34": a finite number >= 0 that needs no Decimal
    to judge (the loaders' fast paths; anything else goes to the full parse and its errors)."""
    return text.isascii() and (text.isdigit() or _PLAIN_NUMBER.fullmatch(text) is not None)


# possessive quantifiers (*+, ++, ?+): nothing to backtrack into, a third faster
_WS = rb"[ \t\n\r]*+"
_VALUE = rb'"value"' + _WS + rb":" + _WS + rb'"[0-9]++(?:\.[0-9]++)?+"'
_TYPE = rb'"action_type"' + _WS + rb":" + _WS + rb'"[^"\\]*+"'
_ACTION = (rb"\{" + _WS + rb"(?:" + _VALUE + _WS + rb"," + _WS + _TYPE + rb"|" + _TYPE + _WS + rb"," + _WS
           + _VALUE + rb")" + _WS + rb"\}")
_PLAIN_ACTIONS = re.compile(rb"\[" + _WS + rb"(?:" + _ACTION + rb"(?:" + _WS + rb"," + _WS + _ACTION + rb")*+"
                            + _WS + rb")?+\]")


def is_plain_action_list(text: bytes | memoryview | Any) -> bool:
    """True for the JSON text of a list of ``{"action_type": "..", "value": ".."}`` objects (in
    either key order, no other keys, no escapes in the type) whose every value is a plain
    decimal >= 0 (:func:`is_plain_non_negative`): Meta's action lists, judged without decoding
    them (the loaders' fast path; anything else is decoded and judged in full)."""
    return _PLAIN_ACTIONS.fullmatch(text) is not None


class PlainActionList:
    """The JSON text of an action list that :func:`is_plain_action_list` accepted when it was made
    (:meth:`of`): its type is the proof, so the loaders' rules need not read it again. Loaded into
    a jsonb column as it is; :meth:`value` is the list."""

    __slots__ = ("json",)

    def __init__(self, text: bytes | memoryview | Any) -> None:
        if not is_plain_action_list(text):
            raise ValueError(f"not a list of {{action_type, value}} with plain values >= 0: {bytes(text)[:200]!r}")
        self.json = text

    @classmethod
    def of(cls, text: bytes | memoryview | Any) -> PlainActionList | None:
        """The checked list, or None when `text` is not a plain action list."""
        if not is_plain_action_list(text):
            return None
        made = object.__new__(cls)
        made.json = text
        return made

    def __bytes__(self) -> bytes:
        return bytes(self.json)

    def value(self) -> list:
        return json.loads(bytes(self.json))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PlainActionList):
            return bytes(self.json) == bytes(other.json)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(bytes(self.json))

    def __repr__(self) -> str:
        return f"PlainActionList({bytes(self.json)[:80]!r})"


def micros_to_amount(micros: int | Decimal) -> Decimal:
    """Micro-currency to currency units, exactly (scaleb shifts the exponent, no rounding)."""
    return Decimal(micros).scaleb(MICRO)


class FieldNumbers:
    """Parsers bound to a subject template ("Meta act_{}": formatted with the account id).

    `absent` are the values an optional field may take to mean "not reported" (TikTok sends "-")."""

    def __init__(self, subject: str, absent: Collection[Any] = (None, "")) -> None:
        self.subject = subject
        self.absent = tuple(absent)

    def fail(self, account: str, what: str, field_name: str, problem: str) -> ValueError:
        return ValueError(f"{self.subject.format(account)}: {what}: field '{field_name}' {problem}")

    def _is_absent(self, value: Any) -> bool:
        return value in self.absent

    def _parsed(self, value: Any, account: str, what: str, field_name: str) -> Decimal:
        """The value as an exact Decimal (``str()`` of a JSON float is its shortest repr)."""
        if value is None or isinstance(value, bool):
            raise self.fail(account, what, field_name, f"is missing or not a number: {value!r}")
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(account, what, field_name, f"is not a number: {value!r}") from None

    def decimal(self, value: Any, account: str, what: str, field_name: str) -> Decimal:
        """A finite, non-negative exact number."""
        result = self._parsed(value, account, what, field_name)
        if not result.is_finite() or result < 0:
            raise self.fail(account, what, field_name, f"is not a finite non-negative number: {value!r}")
        return result

    def optional_decimal(self, value: Any, account: str, what: str, field_name: str) -> Decimal | None:
        return None if self._is_absent(value) else self.decimal(value, account, what, field_name)

    def int(self, value: Any, account: str, what: str, field_name: str) -> int:
        """A non-negative whole number (JSON integer or digits in a string)."""
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        else:
            raise self.fail(account, what, field_name, f"is missing or not a whole number: {value!r}")
        if number < 0:
            raise self.fail(account, what, field_name, f"is negative: {value!r}")
        return number

    def optional_int(self, value: Any, account: str, what: str, field_name: str) -> int | None:
        return None if self._is_absent(value) else self.int(value, account, what, field_name)

    def whole(self, value: Any, account: str, what: str, field_name: str) -> int:
        """A non-negative whole number also when sent as a JSON float (``1234.0``: Snapchat,
        Pinterest), exactly."""
        number = self._parsed(value, account, what, field_name)
        if not number.is_finite() or number != number.to_integral_value():
            raise self.fail(account, what, field_name, f"is not a whole number: {value!r}")
        if number < 0:
            raise self.fail(account, what, field_name, f"is negative: {value!r}")
        return int(number)

    def count(self, value: Any, account: str, what: str, field_name: str) -> int | None:
        """An optional non-negative count as the organic APIs send it: a JSON integer, an
        integral JSON float or digits in a string; None when absent."""
        if self._is_absent(value):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            number = int(value.strip())
        else:
            raise self.fail(account, what, field_name, f"is not a whole number: {value!r}")
        if number < 0:
            raise self.fail(account, what, field_name, f"is negative: {value!r}")
        return number

    def micros(self, value: Any, account: str, what: str, field_name: str) -> Decimal:
        """Micro-currency (a whole number, maybe sent as ``1234.0``) in major units, exactly."""
        return micros_to_amount(self.whole(value, account, what, field_name))

    def optional_micros(self, value: Any, account: str, what: str, field_name: str) -> Decimal | None:
        return None if self._is_absent(value) else self.micros(value, account, what, field_name)

    #: The parsers a declared mapping may name (:meth:`columns`).
    PARSERS = frozenset({"count", "decimal", "optional_decimal", "int", "optional_int", "whole", "micros",
                         "optional_micros"})

    def columns(self, spec: Mapping[str, tuple[str, str]], source: Mapping[str, Any], account: str,
                what: str, *, default: Any = None) -> dict[str, Any]:
        """Raw columns from an API record by a declared mapping ``{column: (parser, field)}``, in
        the declaration's order; ``parser`` names one of :data:`PARSERS`, an error names the API
        ``field``. ``default`` stands for a field the record leaves out (Pinterest omits zeros)."""
        out: dict[str, Any] = {}
        for column, (parser, field_name) in spec.items():
            if parser not in self.PARSERS:
                raise ValueError(f"column {column!r}: unknown parser {parser!r} (one of {sorted(self.PARSERS)})")
            out[column] = getattr(self, parser)(source.get(field_name, default), account, what, field_name)
        return out
