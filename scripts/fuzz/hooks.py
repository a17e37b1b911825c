"""Schemathesis hooks of the fuzzing step of scripts/test: who the fuzzer is, and what it leaves alone.

scripts/test sets ACCOUNTCENTRAL_FUZZ_TOKENS (JSON: demo username -> bearer token) and
ACCOUNTCENTRAL_FUZZ_USERS and ACCOUNTCENTRAL_FUZZ_CUSTOMERS (their userPks, and the groupPks of
the customers they belong to, comma-separated) for a stand-in of its own.
"""

import base64
import datetime
import json
import os
import time

import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import strategies as st

TOKENS = json.loads(os.environ["ACCOUNTCENTRAL_FUZZ_TOKENS"])
FUZZER_USERS = set(os.environ["ACCOUNTCENTRAL_FUZZ_USERS"].split(","))
FUZZER_CUSTOMERS = set(os.environ["ACCOUNTCENTRAL_FUZZ_CUSTOMERS"].split(","))
# Writes that deactivate a customer, and with it the accounts of its users.
CUSTOMER_STATUS_WRITES = {"updateCustomer", "patchCustomerStatus"}


def demo_user(operation):
    """The demo user an operation is fuzzed as: the platform's admin (`care`, CUSTOMER_CARE),
    who passes every rule naming care, admin, member or user; where the rule (`x-auth`)
    admits only the mail operator or a service, its demo holder, so that those operations
    are exercised beyond their 403."""
    rule = operation.definition.raw.get("x-auth", "")
    if any(word in rule for word in ("care", "admin", "member", "user", "public")):
        return "care"
    return "dkimops" if "dkim" in rule else "mta"


@schemathesis.auth(refresh_interval=None)
class DemoUserTokens:
    def get(self, case, ctx):
        return TOKENS[demo_user(case.operation)]

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def filter_case(ctx, case):
    """No case takes the fuzzer's own access away, or every later answer would be 401/403:
    no write to the account of a user the fuzzer acts as (revoking its CUSTOMER_CARE
    capability, replacing its roles, suspending it, resetting its credentials), no failed
    login recorded against one (a lockout), and no change of status or deactivation job for
    the customer they belong to (the platform customer: its users would be disabled).
    Every other user and customer, the other demo ones included, is fuzzed as usual."""
    operation = case.operation.definition.raw.get("operationId")
    path = case.path_parameters or {}
    body = case.body if isinstance(case.body, dict) else {}
    if case.method != "GET" and str(path.get("userPk")) in FUZZER_USERS:
        return False
    if operation == "recordSecurityEvent" and str(body.get("userPk")) in FUZZER_USERS:
        return False
    if operation in CUSTOMER_STATUS_WRITES and str(path.get("groupPk")) in FUZZER_CUSTOMERS:
        return False
    if operation == "createProvisioningJob" and str(body.get("groupPk")) in FUZZER_CUSTOMERS:
        return False
    return True


# The rules the document states that JSON Schema cannot: the generator is taught them, as
# it knows `email` or `date-time`, so that its "valid" requests are valid. Each rule's
# refusal stays tested end to end (tests/tests/e2e/), and negative cases are left as drawn.


def key_pairs():
    """Key pairs of each kind a DKIM key may be (RSA of 1024 and 2048 bits with exponent
    65537, Ed25519): each private key in PEM (PKCS#8, and PKCS#1 for RSA) with the public
    forms that match it (the `p=` value, and PEM)."""
    pem = serialization.Encoding.PEM
    pairs = {}
    for private in (rsa.generate_private_key(65537, 1024), rsa.generate_private_key(65537, 2048), ed25519.Ed25519PrivateKey.generate()):
        public = private.public_key()
        if isinstance(private, rsa.RSAPrivateKey):
            p_value = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            formats = [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL]
        else:
            p_value = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            formats = [serialization.PrivateFormat.PKCS8]
        publics = [base64.b64encode(p_value).decode(), public.public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo).decode()]
        for private_format in formats:
            pairs[private.private_bytes(pem, private_format, serialization.NoEncryption()).decode()] = publics
    return pairs


PUBLIC_KEYS_OF = key_pairs()
schemathesis.openapi.format("pem-private-key", st.sampled_from(sorted(PUBLIC_KEYS_OF)))
schemathesis.openapi.format("dkim-public-key", st.sampled_from(sorted(key for keys in PUBLIC_KEYS_OF.values() for key in keys)))


def match_key_pairs(body):
    """`publicKey` must match `privateKey` where both are sent (DkimKeyFields, FblKeyFields)."""
    if isinstance(body, dict):
        publics = PUBLIC_KEYS_OF.get(body.get("privateKey"))
        if publics and "publicKey" in body:
            body["publicKey"] = publics[len(str(body["publicKey"])) % len(publics)]
        for value in body.values():
            match_key_pairs(value)
    elif isinstance(body, list):
        for value in body:
            match_key_pairs(value)


def order_time_range(query):
    """`to` must not be before `from` (the `To` parameter)."""
    if isinstance(query, dict):
        start, end = as_integer(query.get("from")), as_integer(query.get("to"))
        if start is not None and end is not None and end < start:
            query["from"], query["to"] = query["to"], query["from"]


def as_integer(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


# `mail-address-or-domain` (MessageSigningData): `local@domain`, `Name <local@domain>` or a
# bare domain, the domain a DomainName.
DOMAIN_NAME = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?)*\.[a-z][a-z0-9]{1,10}", fullmatch=True)
LOCAL_PART = st.from_regex(r"[A-Za-z0-9._%+-]{1,30}", fullmatch=True)
schemathesis.openapi.format(
    "mail-address-or-domain",
    st.one_of(
        DOMAIN_NAME,
        st.builds("{}@{}".format, LOCAL_PART, DOMAIN_NAME),
        st.builds("{} <{}@{}>".format, st.from_regex(r"[A-Za-z ]{0,20}", fullmatch=True), LOCAL_PART, DOMAIN_NAME),
    ),
)

# recordSecurityEvent's `timestamp`: within the retention period (400 days by default), at
# most 5 minutes ahead of the service's clock.
A_DAY_MS = 86_400_000


def reported_within_retention(operation, body):
    timestamp = body.get("timestamp") if isinstance(body, dict) else None
    # A number with a zero fraction is an integer, to JSON Schema and to the service.
    if operation == "recordSecurityEvent" and isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool) and timestamp == int(timestamp):
        body["timestamp"] = int(time.time() * 1000) - abs(int(timestamp)) % A_DAY_MS


def past_dates_of_birth(body):
    """`dateOfBirth` (UserProfileReplacement): from 1900-01-01 to today."""
    if isinstance(body, dict) and isinstance(body.get("dateOfBirth"), str):
        try:
            born = datetime.date.fromisoformat(body["dateOfBirth"])
        except ValueError:
            return
        if not datetime.date(1900, 1, 1) <= born <= datetime.date.today():
            body["dateOfBirth"] = datetime.date(1900 + born.year % 100, born.month, min(born.day, 28)).isoformat()


def follow_documented_rules(case):
    past_dates_of_birth(case.body)
    match_key_pairs(case.body)
    order_time_range(case.query)
    reported_within_retention(case.operation.definition.raw.get("operationId"), case.body)


@schemathesis.hook
def map_case(ctx, case):
    if case.meta is not None and case.meta.generation.mode.is_positive:
        follow_documented_rules(case)
    return case


@schemathesis.hook
def before_add_examples(ctx, examples):
    """The examples phase (the document's examples, their gaps filled) bypasses map_case."""
    for case in examples:
        follow_documented_rules(case)
