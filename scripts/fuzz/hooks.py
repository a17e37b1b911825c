"""Schemathesis hooks of the fuzzing step of scripts/test: who the fuzzer is, and what it leaves alone.

scripts/test sets ACCOUNTCENTRAL_FUZZ_TOKENS (JSON: demo username -> bearer token) and
ACCOUNTCENTRAL_FUZZ_USERS and ACCOUNTCENTRAL_FUZZ_CUSTOMERS (their userPks, and the groupPks of
the customers they belong to, comma-separated) for a stand-in of its own.
"""

import json
import os

import schemathesis

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
