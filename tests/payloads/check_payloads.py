"""Independent checks of the payment-QR payloads made by crates/payments.

The Rust test `generated_payloads` (crates/payments/tests/static_qr/generated.rs) writes
seeded pseudo-random EPC, EMVCo, Pix and UPI payloads, plus inputs it refused, to the JSON
file named by SHOPCAST_PAYLOADS_OUT. This file re-checks them with other implementations:

* CRC-16/CCITT-FALSE of every EMVCo/Pix payload with crccheck;
* the EMVCo TLV structure and every declared length with a hand-written parser (counting
  characters, as EMVCo does);
* EPC line structure by hand, IBANs and BICs with schwifty, creditor references with
  python-stdnum (iso11649);
* Pix keys with python-stdnum (br.cpf, br.cnpj) and uuid;
* UPI links with urllib.parse;
* currency and country codes with pycountry;
* and that every refused IBAN, CPF, CNPJ and creditor reference is invalid for them too.

Run through tests/payloads/run.sh.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
import uuid
from decimal import Decimal

import pycountry
import pytest
from crccheck.crc import Crc16CcittFalse
from schwifty import BIC, IBAN
from stdnum import iso11649
from stdnum.br import cnpj, cpf

PATH = os.environ.get("SHOPCAST_PAYLOADS_OUT")
if not PATH:
    raise RuntimeError(
        "SHOPCAST_PAYLOADS_OUT is not set: run tests/payloads/run.sh, which makes the file first"
    )
with open(PATH, encoding="utf-8") as f:
    DATA = json.load(f)

PAYLOADS = DATA["payloads"]
REJECTED = DATA["rejected"]
MIN_PER_STANDARD = 200

# Minor-unit digits of the currencies the generator uses (ISO 4217), kept here on purpose
# rather than read from the Rust side.
EXPONENT = {"JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3}
# EEA countries (EU + IS, LI, NO) and EU regions with their own IBAN code: where EPC069-12
# version 002 may leave out the BIC.
EEA = set(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "IS LI NO AX GF GP MQ RE YT MF".split()
)
ANS = re.compile(r"[\x20-\x7e]*")


def by(standard: str) -> list[dict]:
    return [p for p in PAYLOADS if p["standard"] == standard]


def ids(items: list[dict]) -> list[str]:
    return [f"{p['standard']}-{i}" for i, p in enumerate(items)]


# ---------------------------------------------------------------- EMVCo helpers


def tlv(text: str) -> list[tuple[str, str]]:
    """Splits ID(2) LEN(2) VALUE runs; lengths count characters."""
    out = []
    i = 0
    while i < len(text):
        tag, length = text[i : i + 2], text[i + 2 : i + 4]
        assert re.fullmatch(r"[0-9]{2}", tag), f"bad ID {tag!r} at {i}"
        assert re.fullmatch(r"[0-9]{2}", length), f"bad length {length!r} at {i}"
        n = int(length)
        value = text[i + 4 : i + 4 + n]
        assert len(value) == n, f"object {tag} declares {n} characters, has {len(value)}"
        out.append((tag, value))
        i += 4 + n
    return out


def crc_hex(text: str) -> str:
    return f"{Crc16CcittFalse.calc(text.encode('utf-8')):04X}"


def amount_text(minor: int, exponent: int) -> str:
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


def check_emvco_frame(payload: str) -> dict[str, str]:
    """Checks what every EMVCo MPM payload shares and returns its objects by ID."""
    objects = tlv(payload)
    tags = [t for t, _ in objects]
    assert objects[0] == ("00", "01"), "must start with 000201"
    assert tags[-1] == "63", "CRC must be last"
    assert payload[-8:-4] == "6304"
    stated = objects[-1][1]
    assert re.fullmatch(r"[0-9A-F]{4}", stated), stated
    assert stated == crc_hex(payload[:-4]), "CRC mismatch"
    assert tags[:-1] == sorted(tags[:-1]) and len(set(tags)) == len(tags), tags
    assert len(payload) <= 512
    found = dict(objects)
    for tag in ("52", "53", "58", "59", "60"):
        assert tag in found, f"mandatory object {tag} missing"
    assert any("02" <= t <= "51" for t in tags), "no merchant account"
    for tag, value in objects:
        if tag != "64":
            assert ANS.fullmatch(value), f"object {tag} has non-ans characters"
        if "26" <= tag <= "51":
            inner = tlv(value)
            assert inner[0][0] == "00" and 1 <= len(inner[0][1]) <= 32, inner
    assert re.fullmatch(r"[0-9]{4}", found["52"])
    assert re.fullmatch(r"[0-9]{3}", found["53"])
    assert pycountry.currencies.get(numeric=found["53"]) is not None
    assert pycountry.countries.get(alpha_2=found["58"]) is not None
    assert 1 <= len(found["59"]) <= 25
    assert 1 <= len(found["60"]) <= 15
    if "62" in found:
        for sub, value in tlv(found["62"]):
            assert "01" <= sub <= "99" and 1 <= len(value) <= 25
    if "01" in found:
        assert found["01"] in ("11", "12")
    return found


# ---------------------------------------------------------------- EMVCo


@pytest.mark.parametrize("case", by("emvco"), ids=ids(by("emvco")))
def test_emvco(case):
    payload, expect = case["payload"], case["expect"]
    found = check_emvco_frame(payload)
    currency = pycountry.currencies.get(alpha_3=expect["currency"])
    assert found["53"] == currency.numeric == expect["currency_numeric"]
    assert found["52"] == expect["mcc"]
    assert found["58"] == expect["country"]
    assert found["59"] == expect["name"]
    assert found["60"] == expect["city"]
    if expect["amount_minor"] is None:
        assert "54" not in found
    else:
        exponent = EXPONENT.get(expect["currency"], 2)
        assert found["54"] == amount_text(expect["amount_minor"], exponent)
        assert len(found["54"]) <= 13 and Decimal(found["54"]) > 0
    if expect["language_name"] is None:
        assert "64" not in found
    else:
        inner = dict(tlv(found["64"]))
        assert re.fullmatch(r"[a-zA-Z]{2}", inner["00"])
        assert inner["01"] == expect["language_name"]


# ---------------------------------------------------------------- Pix

PHONE = re.compile(r"\+55[1-9]{2}[0-9]{8,9}")
EMAIL = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+")


@pytest.mark.parametrize("case", by("pix"), ids=ids(by("pix")))
def test_pix(case):
    payload, expect = case["payload"], case["expect"]
    found = check_emvco_frame(payload)
    assert "01" not in found, "static Pix codes carry no point of initiation here"
    assert len(found["26"]) <= 99
    account = tlv(found["26"])
    assert account[0] == ("00", "br.gov.bcb.pix")
    assert account[1] == ("01", expect["key"])
    if expect["description"] is None:
        assert len(account) == 2
    else:
        assert account[2] == ("02", expect["description"])

    key, kind = expect["key"], expect["key_kind"]
    if kind == "cpf":
        assert re.fullmatch(r"[0-9]{11}", key) and cpf.is_valid(key)
    elif kind == "cnpj":
        assert re.fullmatch(r"[0-9A-Z]{12}[0-9]{2}", key) and cnpj.is_valid(key)
    elif kind == "email":
        assert len(key) <= 77 and EMAIL.fullmatch(key)
    elif kind == "phone":
        assert PHONE.fullmatch(key)
    else:
        assert str(uuid.UUID(key)) == key

    assert found["52"] == "0000"
    assert found["53"] == "986"
    assert found["58"] == "BR"
    assert found["59"] == expect["name"]
    assert found["60"] == expect["city"]
    if expect["amount_minor"] is None:
        assert "54" not in found
    else:
        assert re.fullmatch(r"[0-9]+\.[0-9]{2}", found["54"])
        assert Decimal(found["54"]) * 100 == expect["amount_minor"]
    assert tlv(found["62"]) == [("05", expect["txid"])]
    assert re.fullmatch(r"[A-Za-z0-9]{1,25}|\*\*\*", expect["txid"])


# ---------------------------------------------------------------- EPC


@pytest.mark.parametrize("case", by("epc"), ids=ids(by("epc")))
def test_epc(case):
    raw = bytes.fromhex(case["payload_hex"])
    expect = case["expect"]
    assert len(raw) <= 331
    assert not raw.endswith(b"\n"), "the last element must not be followed by a line feed"
    charset = raw.split(b"\n")[2]
    assert charset == str(expect["character_set"]).encode()
    text = raw.decode("utf-8" if charset == b"1" else "latin-1")
    if charset == b"2":
        assert text.encode("latin-1") == raw
    lines = text.split("\n")
    assert 7 <= len(lines) <= 12
    assert "\r" not in text
    lines += [""] * (12 - len(lines))
    (service, version, _, ident, bic, name, iban, amount, purpose, ref, rem, info) = lines
    assert (service, ident) == ("BCD", "SCT")
    assert version == expect["version"]

    if expect["bic"] is None:
        assert bic == "" and version == "002"
        assert iban[:2] in EEA, "a BIC may only be left out for EEA accounts"
    else:
        assert bic == expect["bic"] and len(bic) in (8, 11)
        assert str(BIC(bic)) == bic
    assert name == expect["name"] and 1 <= len(name) <= 70

    assert iban == expect["iban"]
    assert IBAN(iban).compact == iban

    if expect["amount_minor"] is None:
        assert amount == ""
    else:
        m = re.fullmatch(r"EUR([0-9]{1,9})(?:\.([0-9]{1,2}))?", amount)
        assert m, amount
        assert not (m.group(2) or "").endswith("0"), "only the decimals needed"
        assert m.group(1) == "0" or not m.group(1).startswith("0")
        value = Decimal(amount[3:])
        assert value * 100 == expect["amount_minor"]
        assert Decimal("0.01") <= value <= Decimal("999999999.99")

    assert purpose == (expect["purpose"] or "")
    if purpose:
        assert re.fullmatch(r"[A-Z0-9]{4}", purpose)
    assert ref == (expect["reference"] or "")
    assert rem == (expect["text"] or "")
    assert not (ref and rem), "structured and unstructured remittance are exclusive"
    if ref:
        assert iso11649.is_valid(ref) and len(ref) <= 35
    assert len(rem) <= 140
    assert info == (expect["information"] or "") and len(info) <= 70


# ---------------------------------------------------------------- UPI

UPI_ORDER = ["pa", "pn", "am", "cu", "tn", "tr"]


@pytest.mark.parametrize("case", by("upi"), ids=ids(by("upi")))
def test_upi(case):
    link, expect = case["payload"], case["expect"]
    parts = urllib.parse.urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == ("upi", "pay", "", "")
    query = parts.query
    # RFC 3986: only unreserved characters, %XX escapes (upper-case hex), and @ = & remain.
    assert re.fullmatch(r"(?:[A-Za-z0-9\-._~@=&]|%[0-9A-F]{2})*", query), query
    assert "+" not in query
    pairs = [p.split("=", 1) for p in query.split("&")]
    keys = [k for k, _ in pairs]
    assert keys == [k for k in UPI_ORDER if k in keys], "parameter order"
    values = {k: urllib.parse.unquote(v, errors="strict") for k, v in pairs}
    # The standard library's query parser reads the same.
    assert dict(urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=True)) == values

    assert values["pa"] == expect["pa"]
    assert re.fullmatch(r"[A-Za-z0-9.\-_]{2,256}@[A-Za-z][A-Za-z0-9]{1,63}", values["pa"])
    assert values["pn"] == expect["pn"]
    assert values["cu"] == "INR"
    if expect["amount_minor"] is None:
        assert "am" not in values
    else:
        assert re.fullmatch(r"[0-9]+\.[0-9]{2}", values["am"])
        assert Decimal(values["am"]) * 100 == expect["amount_minor"]
    assert values.get("tn") == expect["tn"]
    assert values.get("tr") == expect["tr"]


# ---------------------------------------------------------------- refused inputs


@pytest.mark.parametrize("case", REJECTED, ids=[f"{r['kind']}-{i}" for i, r in enumerate(REJECTED)])
def test_refused_inputs_are_invalid_elsewhere_too(case):
    kind, value = case["kind"], case["value"]
    if kind == "iban":
        with pytest.raises(Exception):
            IBAN(value)
    elif kind == "cpf":
        assert not cpf.is_valid(value)
    elif kind == "cnpj":
        assert not cnpj.is_valid(value)
    elif kind == "creditor_reference":
        assert not iso11649.is_valid(value)
    else:
        pytest.fail(f"unknown kind {kind}")


# ---------------------------------------------------------------- the checks themselves


def test_file_has_every_standard():
    for standard in ("epc", "emvco", "pix", "upi"):
        assert len(by(standard)) >= MIN_PER_STANDARD, standard
    assert {r["kind"] for r in REJECTED} == {"iban", "cpf", "cnpj", "creditor_reference"}


def test_a_corrupted_crc_is_caught():
    payload = by("pix")[0]["payload"]
    wrong = payload[:-4] + f"{(int(payload[-4:], 16) + 1) % 0x10000:04X}"
    with pytest.raises(AssertionError, match="CRC mismatch"):
        check_emvco_frame(wrong)


def test_a_wrong_length_is_caught():
    # The merchant name declared one character longer than it is.
    objects = tlv(by("emvco")[0]["payload"])[:-1]
    body = "".join(f"{t}{len(v) + (t == '59'):02}{v}" for t, v in objects) + "6304"
    with pytest.raises(AssertionError):
        check_emvco_frame(body + crc_hex(body))
