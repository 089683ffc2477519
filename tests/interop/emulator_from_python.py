"""Drives `wecom-openwork emulator` from Python, with the standard library
only, the way a test in another language would: start it with a suite,
learn the ticket and the auth code from its control answers, install a corp
through WeCom's own endpoints, and call the corp with the token WeCom hands
over. Exits non-zero (with the reason) on the first surprise.

Usage: python3 emulator_from_python.py PATH_TO_wecom-openwork
"""

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request

SUITE_ID, SUITE_SECRET = "wwsuitepy01", "suite-secret"
# WeCom's sample EncodingAESKey; the emulator encrypts its pushes with it.
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"


class Acknowledge(http.server.BaseHTTPRequestHandler):
    """The ISV's command URL: takes every push and answers `success`."""

    pushes = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Acknowledge.pushes.append((self.headers.get("Content-Type"), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"success")

    def log_message(self, *_):
        pass


def call(base, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data), timeout=10) as reply:
        return json.load(reply)


def expect(condition, what):
    if not condition:
        sys.exit(f"emulator_from_python: {what}")


def main(binary):
    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Acknowledge)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    command_url = f"http://127.0.0.1:{listener.server_address[1]}/command"
    config = {
        "suites": [
            {
                "suite_id": SUITE_ID,
                "suite_secret": SUITE_SECRET,
                "token": "Token",
                "aes_key": AES_KEY,
                "command_url": command_url,
            }
        ]
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "emulator.json")
        with open(path, "w") as f:
            json.dump(config, f)
        emulator = subprocess.Popen(
            [binary, "emulator", "--port", "0", "--manual-clock", "--config", path], stdout=subprocess.PIPE, text=True
        )
        try:
            # "emulator listening on http://…", within 60 s (a hung start fails, never hangs).
            lines = []
            reader = threading.Thread(target=lambda: lines.append(emulator.stdout.readline()), daemon=True)
            reader.start()
            reader.join(timeout=60)
            first = (lines[0] if lines else "").strip()
            base = first.rsplit(" ", 1)[-1]
            expect(base.startswith("http://127.0.0.1:"), f"no address in {first!r}")
            drive(base)
        finally:
            emulator.terminate()
            emulator.wait(timeout=10)
            listener.shutdown()


def drive(base):
    # The ticket, from the control answer (it was also pushed to our URL).
    ticket = call(base, "/__emulator/suite_ticket", {"suite_id": SUITE_ID})["ticket"]
    expect(Acknowledge.pushes and Acknowledge.pushes[-1][0] == "text/xml", "the ticket push is text/xml")
    suite = call(
        base,
        "/cgi-bin/service/get_suite_token",
        {"suite_id": SUITE_ID, "suite_secret": SUITE_SECRET, "suite_ticket": ticket},
    )
    expect(suite.get("errcode", 0) == 0, f"suite token: {suite}")
    token = suite["suite_access_token"]
    pre_auth = call(base, f"/cgi-bin/service/get_pre_auth_code?suite_access_token={token}")
    expect(pre_auth["errcode"] == 0 and pre_auth["pre_auth_code"], f"pre-auth code: {pre_auth}")

    # An admin authorizes a corp; the auth code comes back in the answer.
    auth_code = call(base, "/__emulator/authorize", {"suite_id": SUITE_ID, "corp_id": "wwcorppy01"})["auth_code"]
    permanent = call(base, f"/cgi-bin/service/get_permanent_code?suite_access_token={token}", {"auth_code": auth_code})
    expect(permanent["errcode"] == 0, f"permanent code: {permanent}")
    expect(permanent["auth_corp_info"]["corpid"] == "wwcorppy01", f"the corp: {permanent}")
    again = call(base, f"/cgi-bin/service/get_permanent_code?suite_access_token={token}", {"auth_code": auth_code})
    expect(again["errcode"] == 40078, f"an auth code works once: {again}")

    # The corp token WeCom handed over works for the corp's calls.
    user = call(base, f"/cgi-bin/user/get?access_token={permanent['access_token']}&userid=zhangsan")
    expect(user["errcode"] == 0, f"user/get: {user}")

    # WeCom's errors, in WeCom's shape.
    made_up = call(
        base,
        f"/cgi-bin/service/get_auth_info?suite_access_token={token}",
        {"auth_corpid": "wwcorppy01", "permanent_code": "made-up"},
    )
    expect(made_up["errcode"] == 40084, f"a made-up permanent code: {made_up}")
    unknown = call(base, "/cgi-bin/no/such/api")
    expect(unknown["errcode"] == 40066 and "more info at" in unknown["errmsg"], f"unknown path: {unknown}")
    print("emulator_from_python: ok")


if __name__ == "__main__":
    main(sys.argv[1])
