"""The Shopify webhook signature: base64 HMAC-SHA256 of the raw body bytes, keyed with the
secret, checked before the body is read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.samples.shopify_sample import SECRET, hmac_header

from ordergrid.adapters.connectors.shopify import ShopifyConnector, signature, verify
from ordergrid.domain.errors import Unauthenticated

#: Computed with `openssl dgst -sha256 -hmac hush -binary | base64`.
KNOWN_BODY = b'{"id":820982911946154508,"name":"#9999"}'
KNOWN_SIGNATURE = "YBwnJ9vsibq7srObgXybmGHWuwos+jDEL//7749XS78="

bodies = st.binary(min_size=1, max_size=2048)
secrets = st.text(min_size=1, max_size=64)


def test_signature_matches_openssl_for_a_known_body() -> None:
    assert signature("hush", KNOWN_BODY) == KNOWN_SIGNATURE
    assert verify("hush", KNOWN_BODY, KNOWN_SIGNATURE)


@given(body=bodies, secret=secrets)
def test_any_body_signed_with_the_secret_verifies(body: bytes, secret: str) -> None:
    assert verify(secret, body, hmac_header(body, secret))


@given(body=bodies, secret=secrets, data=st.data())
def test_changing_any_one_byte_of_the_body_fails(
    body: bytes, secret: str, data: st.DataObject
) -> None:
    header = hmac_header(body, secret)
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1), label="index")
    flip = data.draw(st.integers(min_value=1, max_value=255), label="xor")
    changed = bytearray(body)
    changed[index] ^= flip
    assert not verify(secret, bytes(changed), header)


@given(body=bodies, secret=secrets, other=secrets)
def test_a_signature_made_with_another_secret_fails(body: bytes, secret: str, other: str) -> None:
    if other != secret:
        assert not verify(secret, body, hmac_header(body, other))


def test_the_bytes_are_signed_not_the_json_they_parse_to() -> None:
    """Re-serialising the same JSON (spacing, key order) is another body."""
    compact = b'{"id":1,"name":"#1001"}'
    spaced = b'{"id": 1, "name": "#1001"}'
    assert not verify(SECRET, spaced, hmac_header(compact))


@pytest.mark.parametrize(
    "header",
    ["", "not base64!", "é" * 44, KNOWN_SIGNATURE[:-4], KNOWN_SIGNATURE.encode().hex()],
)
def test_a_malformed_header_fails_without_error(header: str) -> None:
    assert not verify("hush", KNOWN_BODY, header)


def test_surrounding_whitespace_in_the_header_is_tolerated() -> None:
    assert verify("hush", KNOWN_BODY, f" {KNOWN_SIGNATURE}\t")


def test_missing_and_wrong_signatures_have_their_own_codes() -> None:
    connector = ShopifyConnector(SECRET)
    connector.authenticate(KNOWN_BODY, hmac_header(KNOWN_BODY))
    with pytest.raises(Unauthenticated) as missing:
        connector.authenticate(KNOWN_BODY, None)
    assert missing.value.code == "shopify_signature_missing"
    with pytest.raises(Unauthenticated) as wrong:
        connector.authenticate(KNOWN_BODY, KNOWN_SIGNATURE)
    assert wrong.value.code == "shopify_signature_invalid"
