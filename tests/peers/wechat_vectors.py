"""Reference vectors from the community WeChat Pay APIv3 SDK (wechatpayv3 2.0.4), for the Rust
tests in crates/payments/tests/wechat/vectors.rs and crates/testkit/tests/testkit.

Reads one JSON job on stdin, writes one JSON answer on stdout. The SDK's real client
(`WeChatPay(...)` in public-key mode) is pointed at a capture server this script runs on
127.0.0.1 (`wx._core._gate_way = "http://127.0.0.1:PORT"`), or at a gateway the job names:

- requests: SDK calls (native / codepay / query / close / reverse / refund / query_refund) with
  the given arguments; returns what reached the server: method, path (with query), body text,
  Authorization and Wechatpay-Serial headers. The server answers each with the job's
  `request_reply` (or 204), so the SDK's own reply check does not matter here.
- replies: for each {status, headers, body} the server answers one SDK query with exactly
  that; returns whether the SDK accepted it (its `_verify_signature` over `response.text`) or
  the exception it raised. Unknown serials make the SDK fetch /v3/certificates: the server
  answers {"data": []} there, as for an account in public-key mode.
- encrypt: AES-256-GCM (cryptography's AESGCM, the class wechatpayv3.utils.aes_decrypt uses)
  over {plaintext, nonce, associated_data} with the APIv3 key; base64 of ciphertext||tag.
- decrypt: wechatpayv3.utils.aes_decrypt over {nonce, associated_data, ciphertext}: the text,
  or null when it refuses.
- callbacks: WeChatPay.callback(headers, body) for notifications we built: the parsed dict
  with the decrypted resource, null when it refuses, or the exception text.
- gateway: {url, calls}: the SDK client against that gateway; each call's (status, body) or
  the exception the SDK raised verifying the reply.

Exit status 3 means the SDK is not installed: run tests/peers/setup.sh.
"""

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from wechatpayv3 import WeChatPay, WeChatPayType
    from wechatpayv3.utils import aes_decrypt
except ImportError as err:
    sys.stderr.write(
        f"wechatpayv3 is not installed in this venv ({err}); run tests/peers/setup.sh\n"
    )
    sys.exit(3)


class Capture:
    """What the capture server saw, and what it answers next."""

    def __init__(self):
        self.seen = []
        self.replies = []
        self.default = {"status": 204, "headers": {}, "body": ""}
        self.lock = threading.Lock()


def make_handler(capture):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, reply):
            body = reply.get("body", "").encode("utf-8")
            self.send_response(reply["status"])
            for name, value in reply.get("headers", {}).items():
                self.send_header(name, value)
            if body:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else ""
            if self.path.startswith("/v3/certificates"):
                self.answer({"status": 200, "headers": {}, "body": '{"data": []}'})
                return
            with capture.lock:
                capture.seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "body": body,
                        "authorization": self.headers.get("Authorization"),
                        "wechatpay_serial": self.headers.get("Wechatpay-Serial"),
                        "content_type": self.headers.get("Content-Type"),
                    }
                )
                reply = capture.replies.pop(0) if capture.replies else capture.default
            self.answer(reply)

        do_GET = handle_any
        do_POST = handle_any

    return Handler


def client(job, gate_way):
    wx = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=job["mchid"],
        private_key=job["merchant_private_key"],
        cert_serial_no=job["merchant_serial"],
        appid=job["appid"],
        apiv3_key=job["apiv3_key"],
        notify_url=job.get("notify_url", "https://shop.example/hooks/wechat"),
        public_key=job["wechatpay_public_key"],
        public_key_id=job["public_key_id"],
    )
    wx._core._gate_way = gate_way
    return wx


def call(wx, name, args):
    """One SDK call by the name the Rust tests use."""
    if name == "native":
        return wx.pay(pay_type=WeChatPayType.NATIVE, **args)
    if name == "codepay":
        return wx.pay(pay_type=WeChatPayType.CODEPAY, **args)
    if name == "query":
        return wx.query(**args)
    if name == "close":
        return wx.close(**args)
    if name == "reverse":
        return wx.codepay_reverse(**args)
    if name == "refund":
        return wx.refund(**args)
    if name == "query_refund":
        return wx.query_refund(**args)
    if name == "certificates":
        return wx._core.request("/v3/certificates")
    raise ValueError(f"unknown call {name}")


def outcome(wx, name, args):
    try:
        code, message = call(wx, name, args)
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        return {"status": code, "body": message, "error": None}
    except Exception as err:  # the SDK raises a bare Exception on a bad signature
        return {"status": None, "body": None, "error": str(err)}


def main():
    job = json.load(sys.stdin)
    answer = {}
    capture = Capture()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(capture))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        wx = client(job, local)
        if "requests" in job:
            if "request_reply" in job:
                capture.default = job["request_reply"]
            seen = []
            for case in job["requests"]:
                outcome(wx, case["call"], case.get("args", {}))
                seen.append(capture.seen.pop() if capture.seen else None)
            answer["requests"] = seen
        if "replies" in job:
            verdicts = []
            for reply in job["replies"]:
                capture.replies.append(reply)
                result = outcome(wx, "query", {"out_trade_no": "O-42_N1"})
                verdicts.append(
                    {"accepted": result["error"] is None, "error": result["error"]}
                )
            answer["replies"] = verdicts
        key = job["apiv3_key"].encode("utf-8")
        if "encrypt" in job:
            answer["encrypt"] = [
                base64.b64encode(
                    AESGCM(key).encrypt(
                        case["nonce"].encode("utf-8"),
                        case["plaintext"].encode("utf-8"),
                        case["associated_data"].encode("utf-8"),
                    )
                ).decode("ascii")
                for case in job["encrypt"]
            ]
        if "decrypt" in job:
            answer["decrypt"] = [
                aes_decrypt(
                    nonce=case["nonce"],
                    ciphertext=case["ciphertext"],
                    associated_data=case["associated_data"],
                    apiv3_key=job["apiv3_key"],
                )
                for case in job["decrypt"]
            ]
        if "callbacks" in job:
            results = []
            for case in job["callbacks"]:
                try:
                    results.append(
                        {"result": wx.callback(case["headers"], case["body"]), "error": None}
                    )
                except Exception as err:
                    results.append({"result": None, "error": str(err)})
            answer["callbacks"] = results
        if "gateway" in job:
            gateway = client(job, job["gateway"]["url"])
            answer["gateway"] = [
                outcome(gateway, case["call"], case.get("args", {}))
                for case in job["gateway"]["calls"]
            ]
    finally:
        server.shutdown()
    json.dump(answer, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
