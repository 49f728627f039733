"""Reference vectors from the official Alipay Python SDK (alipay-sdk-python), for the Rust
tests in crates/payments/tests/alipay/vectors.rs.

Reads one JSON job on stdin, writes one JSON answer on stdout. The SDK's client cannot reach a
gateway on a non-default port, so this calls its own request builder and signing/verifying
functions directly:

- requests: the SDK request class for the method, biz_content set from a plain dict, run
  through DefaultAlipayClient's private request preparation (common parameters, sign content,
  sign_with_rsa2) with the timestamp pinned. Returns every parameter and the sign content.
  For alipay.trade.pay (payment codes) the biz_content comes from the SDK's own
  AlipayTradePayModel, each field set by name: a field the model does not know fails the job.
- sign_strings: SignatureUtils.get_sign_content + sign_with_rsa2 over a parameter map.
- verify: DefaultAlipayClient's private response parser (extraction + verify_with_rsa) over a
  reply body; says whether it accepted it.
- sign_responses: wraps a `*_response` object (given as exact text, or as a dict that Python
  serialises with its own spacing and escaping) with a sign from sign_with_rsa2.
- page_urls: the buyer's gateway address for a web payment (wap.pay / page.pay), from
  DefaultAlipayClient.page_execute(request, http_method="GET") with the timestamp pinned.
- notifies: an asynchronous notification signed the documented way with the SDK's own
  functions: get_sign_content over every parameter but sign and sign_type (empty ones
  dropped), sign_with_rsa2 with "Alipay's" private key. Returns the form body.
- verify_notifies: verify_with_rsa (Alipay's public key) over a sign content we built.

Exit status 3 means the SDK is not installed: run tests/peers/setup.sh.
"""

import datetime
import json
import sys
from urllib.parse import urlencode

try:
    from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
    from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
    from alipay.aop.api.constant.CommonConstants import THREAD_LOCAL
    from alipay.aop.api.domain.AlipayTradePayModel import AlipayTradePayModel
    from alipay.aop.api.request.AlipayTradeCancelRequest import AlipayTradeCancelRequest
    from alipay.aop.api.request.AlipayTradePrecreateRequest import AlipayTradePrecreateRequest
    from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
    from alipay.aop.api.request.AlipayTradePagePayRequest import AlipayTradePagePayRequest
    from alipay.aop.api.request.AlipayTradePayRequest import AlipayTradePayRequest
    from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest
    from alipay.aop.api.request.AlipayTradeWapPayRequest import AlipayTradeWapPayRequest
    from alipay.aop.api.util.SignatureUtils import (
        get_sign_content,
        sign_with_rsa2,
        verify_with_rsa,
    )
except ImportError as err:
    sys.stderr.write(
        f"alipay-sdk-python is not installed in this venv ({err}); run tests/peers/setup.sh\n"
    )
    sys.exit(3)

REQUEST_CLASSES = {
    "alipay.trade.precreate": AlipayTradePrecreateRequest,
    "alipay.trade.query": AlipayTradeQueryRequest,
    "alipay.trade.cancel": AlipayTradeCancelRequest,
    "alipay.trade.refund": AlipayTradeRefundRequest,
    "alipay.trade.wap.pay": AlipayTradeWapPayRequest,
    "alipay.trade.page.pay": AlipayTradePagePayRequest,
    "alipay.trade.pay": AlipayTradePayRequest,
}

# Methods whose biz_content is built from the SDK's model class rather than a plain dict.
MODEL_CLASSES = {
    "alipay.trade.pay": AlipayTradePayModel,
}

CLIENT_MODULE = sys.modules[DefaultAlipayClient.__module__]


class PinnedClock:
    """Stands in for the `datetime` module inside DefaultAlipayClient: now() is fixed."""

    def __init__(self, text):
        self._at = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")

    @property
    def datetime(self):
        at = self._at

        class _Pinned:
            @staticmethod
            def now():
                return at

        return _Pinned


def client(job):
    config = AlipayClientConfig()
    config.app_id = job["app_id"]
    config.app_private_key = job["app_private_key"]
    config.alipay_public_key = job["alipay_public_key"]
    config.sign_type = "RSA2"
    config.charset = "utf-8"
    # Alipay documents format as "JSON"; the SDK's default is lower case.
    config.format = "JSON"
    return DefaultAlipayClient(config)


def sdk_model(method, biz):
    model = MODEL_CLASSES[method]()
    for name, value in biz.items():
        if not isinstance(getattr(type(model), name, None), property):
            raise KeyError(f"{MODEL_CLASSES[method].__name__} has no field {name!r}")
        setattr(model, name, value)
    return model


def sdk_request(job, case):
    request = REQUEST_CLASSES[case["method"]]()
    if case["method"] in MODEL_CLASSES:
        request.biz_model = sdk_model(case["method"], case["biz"])
    else:
        request.biz_content = case["biz"]
    if case.get("notify_url"):
        request.notify_url = case["notify_url"]
    THREAD_LOCAL.uuid = "vectors"
    CLIENT_MODULE.datetime = PinnedClock(case["timestamp"])
    try:
        common, params = client(job)._DefaultAlipayClient__prepare_request_params(request)
    finally:
        CLIENT_MODULE.datetime = datetime
    everything = dict(params)
    everything.update(common)
    unsigned = {k: v for k, v in everything.items() if k != "sign"}
    return {"params": everything, "sign_content": get_sign_content(unsigned)}


def sdk_sign_string(job, case):
    # The SDK's client only ever passes non-empty values (has_value / truthiness checks).
    params = {k: v for k, v in case["params"].items() if v and k != "sign"}
    content = get_sign_content(params)
    return {"content": content, "sign": sign_with_rsa2(job["app_private_key"], content, "utf-8")}


def sdk_verify(job, case):
    THREAD_LOCAL.uuid = "vectors"
    THREAD_LOCAL.logger = None
    try:
        content = client(job)._DefaultAlipayClient__parse_response(case["body"].encode("utf-8"))
        return {"ok": True, "content": content}
    except Exception as err:  # the SDK raises ResponseException (and others) on failure
        return {"ok": False, "error": str(err)[:300]}


def sdk_sign_response(job, case):
    if "content" in case:
        content = case["content"]
    else:
        content = json.dumps(case["object"], ensure_ascii=case.get("ensure_ascii", False))
    sign = sign_with_rsa2(job["alipay_private_key"], content, "utf-8")
    key = case["method"].replace(".", "_") + "_response"
    return {"body": '{"' + key + '":' + content + ',"sign":"' + sign + '"}', "content": content}


def sdk_page_url(job, case):
    request = REQUEST_CLASSES[case["method"]]()
    request.biz_content = case["biz"]
    if case.get("notify_url"):
        request.notify_url = case["notify_url"]
    request.return_url = case["return_url"]
    CLIENT_MODULE.datetime = PinnedClock(case["timestamp"])
    try:
        url = client(job).page_execute(request, http_method="GET")
    finally:
        CLIENT_MODULE.datetime = datetime
    return {"url": url}


def sdk_notify(job, case):
    params = {k: v for k, v in case["params"].items() if v}
    content = get_sign_content({k: v for k, v in params.items() if k not in ("sign", "sign_type")})
    params["sign"] = sign_with_rsa2(job["alipay_private_key"], content, "utf-8")
    # Form-encoded the way a Python sender (requests, urllib) writes a POST body.
    return {"body": urlencode(params, encoding="utf-8"), "content": content}


def sdk_verify_notify(job, case):
    try:
        ok = verify_with_rsa(
            job["alipay_public_key"], case["content"].encode("utf-8"), case["sign"]
        )
        return {"ok": ok}
    except Exception as err:  # rsa.VerificationError on a bad signature
        return {"ok": False, "error": str(err)[:300]}


def main():
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    answer = {
        "requests": [sdk_request(job, c) for c in job.get("requests", [])],
        "sign_strings": [sdk_sign_string(job, c) for c in job.get("sign_strings", [])],
        "verify": [sdk_verify(job, c) for c in job.get("verify", [])],
        "sign_responses": [sdk_sign_response(job, c) for c in job.get("sign_responses", [])],
        "page_urls": [sdk_page_url(job, c) for c in job.get("page_urls", [])],
        "notifies": [sdk_notify(job, c) for c in job.get("notifies", [])],
        "verify_notifies": [sdk_verify_notify(job, c) for c in job.get("verify_notifies", [])],
    }
    sys.stdout.buffer.write(json.dumps(answer, ensure_ascii=False).encode("utf-8"))


if __name__ == "__main__":
    main()
