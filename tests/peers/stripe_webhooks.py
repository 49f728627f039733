"""Stripe's own webhook signing (stripe-python's `stripe.WebhookSignature`), for the Rust tests
in crates/payments/tests/stripe/webhook.rs.

Reads a JSON list of jobs on stdin, writes a JSON list of answers on stdout, one per job:

- {"sign": payload, "secret": s, "timestamp": t}: the header from
  `WebhookSignature.generate_signature_header` -> {"header": "..."}
- {"verify": payload, "header": h, "secret": s, "tolerance": n}: `WebhookSignature.verify_header`
  -> {"ok": true} or {"ok": false, "error": "<SignatureVerificationError message>"}

Exit status 3 means stripe-python is not installed: run tests/peers/setup.sh.
"""

import json
import sys

try:
    import stripe
    from stripe import WebhookSignature
except ImportError as err:
    sys.stderr.write(f"stripe-python is not installed in this venv ({err}); run tests/peers/setup.sh\n")
    sys.exit(3)


def run(job):
    if "sign" in job:
        header = WebhookSignature.generate_signature_header(
            job["sign"], job["secret"], timestamp=job["timestamp"]
        )
        return {"header": header}
    try:
        WebhookSignature.verify_header(
            job["verify"].encode("utf-8"), job["header"], job["secret"], job["tolerance"]
        )
        return {"ok": True}
    except stripe.SignatureVerificationError as err:
        return {"ok": False, "error": str(err)}


json.dump([run(job) for job in json.load(sys.stdin)], sys.stdout)
