"""Verifies every DKIM-Signature of some messages with dkimpy, an independent verifier.

DNS is answered from the request, never from the network.

stdin, JSON:  {"records": {"<selector>._domainkey.<domain>": "v=DKIM1; k=...; p=..."},
               "messages": ["<message, base64>", ...]}
stdout, JSON: for each message, for each DKIM-Signature (top first):
              {"pass": true|false, "detail": "<why it failed>"}
"""

import base64
import json
import sys

import dkim


def main():
    request = json.load(sys.stdin)
    records = {name.lower().rstrip("."): value.encode() for name, value in request["records"].items()}

    def dnsfunc(name, timeout=5):
        return records.get(name.decode().lower().rstrip("."))

    results = []
    for encoded in request["messages"]:
        message = base64.b64decode(encoded)
        count = sum(1 for name, _ in dkim.DKIM(message).headers if name.lower() == b"dkim-signature")
        outcomes = []
        for idx in range(count):
            # A fresh verifier per signature: verify() keeps state between calls.
            try:
                passed = bool(dkim.DKIM(message).verify(idx=idx, dnsfunc=dnsfunc))
                outcomes.append({"pass": passed, "detail": "" if passed else "signature mismatch"})
            except dkim.DKIMException as error:
                outcomes.append({"pass": False, "detail": str(error)})
        results.append(outcomes)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
