"""Drives `wecom-openwork emulator` with a real client: PyPI's wechatpy 2
(2.0.0a26), the way its users drive it as a WeCom service provider:
`wechatpy.work.services.WeChatServiceClient` for the suite,
`wechatpy.work.client.WeChatClient` (its `service`, `oauth` and `user` APIs)
for the provider and the authorized corp, `wechatpy.work.crypto.WeChatCrypto`
on the command URL. The install flow end to end: provider token, the suite
ticket from its push, suite token, pre-auth code, session info, permanent
code, auth info, corp token, admin list, OAuth user info and a corp call.

Every call WeCom answers with success must succeed; every call WeCom refuses
must be refused with WeCom's errcode (asserted, with the reason, below).
Exits non-zero (with the reason) on the first surprise.

wechatpy 2 is pointed at the emulator the way its users point it anywhere
else, by subclassing; every adaptation it needed is marked ADAPTATION below,
and is a finding about wechatpy 2 (not about the emulator).

Usage: PYTHONPATH=tests/interop/.wechatpy2 python3 wechatpy2_flow.py PATH_TO_wecom-openwork
(`bash tests/interop/setup.sh` installs wechatpy 2 there, next to wechatpy 1.)
"""

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

# Nothing may leave the machine: a URL wechatpy hard-codes to
# https://qyapi.weixin.qq.com would go through this proxy, which refuses
# the connection, instead of reaching WeCom. The emulator is direct.
os.environ["HTTPS_PROXY"] = os.environ["https_proxy"] = "http://127.0.0.1:9"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import wechatpy  # noqa: E402
import xmltodict  # noqa: E402  (a dependency of wechatpy 2)
from wechatpy.exceptions import WeChatClientException  # noqa: E402
from wechatpy.work.client import WeChatClient  # noqa: E402
from wechatpy.work.crypto import WeChatCrypto  # noqa: E402
from wechatpy.work.services import WeChatServiceClient  # noqa: E402

WECHATPY_VERSION = "2.0.0.alpha26"  # wechatpy.__version__ of PyPI's 2.0.0a26
PROVIDER_CORP, PROVIDER_SECRET = "wwproviderpy2", "provider-secret"
SUITE_ID, SUITE_SECRET, TOKEN = "wwsuitepy2", "suite-secret", "Token"
# WeCom's sample EncodingAESKey; the emulator encrypts its pushes with it.
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP = "wwcorppy2"


def expect(condition, what):
    if not condition:
        sys.exit(f"wechatpy2_flow: {what}")


def refused(call, errcode, what):
    """`call()` must raise wechatpy's WeChatClientException with `errcode`."""
    try:
        answer = call()
    except WeChatClientException as e:
        expect(e.errcode == errcode, f"{what}: errcode {e.errcode} ({e.errmsg}), WeCom answers {errcode}")
        return e
    sys.exit(f"wechatpy2_flow: {what}: answered {answer}, WeCom refuses it with {errcode}")


# ---------------------------------------------------------------------------
# The ISV's command URL, as a wechatpy user writes it: verify and decrypt
# each push with wechatpy's WeChatCrypto (receive id: the suite id), read the
# event with xmltodict, answer `success`.


class CommandUrl(http.server.BaseHTTPRequestHandler):
    crypto = WeChatCrypto(TOKEN, AES_KEY, SUITE_ID)
    events = []  # the decrypted events, oldest first
    errors = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        try:
            xml = CommandUrl.crypto.decrypt_message(
                body, query["msg_signature"], query["timestamp"], query["nonce"]
            )
            CommandUrl.events.append(xmltodict.parse(xml)["xml"])
        except Exception as e:  # noqa: BLE001 — recorded, and fails the run below
            CommandUrl.errors.append(f"{type(e).__name__}: {e} on {body!r}")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"success")

    def log_message(self, *_):
        pass


def last_event(info_type):
    found = [e for e in CommandUrl.events if e.get("InfoType") == info_type]
    expect(found, f"no {info_type} push decrypted (errors: {CommandUrl.errors})")
    return found[-1]


# ---------------------------------------------------------------------------
# wechatpy 2's clients, pointed at the emulator.


class ServiceClient(WeChatServiceClient):
    """The suite's client. ADAPTATION 1: `API_BASE_URL` (a class attribute,
    https://qyapi.weixin.qq.com/cgi-bin/) is set to the emulator's in
    `drive`. ADAPTATION 2: `fetch_access_token` hard-codes the full URL
    https://qyapi.weixin.qq.com/cgi-bin/service/get_suite_token instead of
    using `API_BASE_URL`, so it is overridden with the same call on
    `API_BASE_URL`."""

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}service/get_suite_token",
            params={"suite_id": self.suite_id, "suite_secret": self.suite_secret, "suite_ticket": self.suite_ticket},
        )


class ProviderClient(WeChatClient):
    """A WeChatClient for the provider's corp, whose `service` API has
    `get_provider_token`. ADAPTATION 1 again (`API_BASE_URL`), and
    ADAPTATION 3: `WeChatClient.fetch_access_token` hard-codes
    https://qyapi.weixin.qq.com/cgi-bin/gettoken; overridden with the same
    call on `API_BASE_URL`."""

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
        )


class CorpClient(WeChatClient):
    """A WeChatClient for a corp that authorized the suite. ADAPTATION 4:
    wechatpy 2 has no `get_corp_token` (its WeChatClient fetches tokens from
    `gettoken` with an app secret, which a third-party app has not), so its
    `fetch_access_token` is overridden to call `service/get_corp_token`
    through the suite's client, with the permanent code; wechatpy then
    refreshes the corp token itself. ADAPTATION 1 again (`API_BASE_URL`)."""

    def __init__(self, suite, corp_id, permanent_code):
        self._suite, self._permanent_code = suite, permanent_code
        # `secret` only names the token in wechatpy's session storage.
        super().__init__(corp_id, permanent_code)

    def fetch_access_token(self):
        result = self._suite.post(
            "service/get_corp_token", data={"auth_corpid": self.corp_id, "permanent_code": self._permanent_code}
        )
        self.session.set(self.access_token_key, result["access_token"], result["expires_in"])
        self.expires_at = int(time.time()) + result["expires_in"]
        return result


# ---------------------------------------------------------------------------
# The emulator, and the flow.


def control(base, path, body=None):
    """The emulator's control API (what WeCom's admin and clock do)."""
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data), timeout=60) as reply:
        return json.load(reply)


def main(binary):
    expect(wechatpy.__version__ == WECHATPY_VERSION, f"wechatpy {wechatpy.__version__} imported, not 2.0.0a26")
    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CommandUrl)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    config = {
        "provider_corp_id": PROVIDER_CORP,
        "provider_secret": PROVIDER_SECRET,
        "suites": [
            {
                "suite_id": SUITE_ID,
                "suite_secret": SUITE_SECRET,
                "token": TOKEN,
                "aes_key": AES_KEY,
                "command_url": f"http://127.0.0.1:{listener.server_address[1]}/command",
            }
        ],
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
    api = f"{base}/cgi-bin/"
    for cls in (ServiceClient, ProviderClient, CorpClient):
        cls.API_BASE_URL = api  # ADAPTATION 1

    # --- Provider token -------------------------------------------------
    # A WeChatClient without a token first fetches one from `gettoken` (with
    # corpsecret = the provider secret) before it sends
    # get_provider_token: WeCom refuses that secret there, 40001 (the
    # provider secret is no app secret), and wechatpy raises.
    refused(
        lambda: ProviderClient(PROVIDER_CORP, PROVIDER_SECRET).service.get_provider_token(PROVIDER_SECRET),
        40001,
        "gettoken with the provider secret",
    )
    # ADAPTATION 5: so users hand it a placeholder token. wechatpy then puts
    # `access_token=unused` on get_provider_token's URL, which WeCom ignores;
    # the emulator too (it records a violation of the SDK's own
    # one-token rule, checked at the end).
    provider = ProviderClient(PROVIDER_CORP, PROVIDER_SECRET, access_token="unused")
    answer = provider.service.get_provider_token(PROVIDER_SECRET)
    expect(answer["errcode"] == 0 and answer["provider_access_token"], f"provider token: {answer}")
    # A wrong provider secret: WeCom's 40001. wechatpy takes 40001 for a bad
    # access token and retries after fetching one from `gettoken`, which
    # refuses the placeholder's owner with 40001 again: the caller sees 40001.
    refused(
        lambda: provider.service.get_provider_token("wrong-secret"), 40001, "get_provider_token with a wrong secret"
    )

    # --- Suite ticket, from the push to the command URL -------------------
    told = control(base, "/__emulator/suite_ticket", {"suite_id": SUITE_ID})["ticket"]
    pushed = last_event("suite_ticket")
    expect(pushed["SuiteId"] == SUITE_ID, f"the ticket push's SuiteId: {pushed}")
    ticket = pushed["SuiteTicket"]
    expect(ticket == told, f"pushed ticket {ticket!r}, the control answer says {told!r}")

    # --- Suite token ------------------------------------------------------
    refused(
        lambda: ServiceClient(PROVIDER_CORP, SUITE_ID, SUITE_SECRET, "made-up-ticket").fetch_access_token(),
        40085,
        "get_suite_token with a made-up ticket",
    )
    suite = ServiceClient(PROVIDER_CORP, SUITE_ID, SUITE_SECRET, ticket)
    answer = suite.fetch_access_token()
    expect(answer["errcode"] == 0 and answer["suite_access_token"], f"suite token: {answer}")
    expect(suite.access_token == answer["suite_access_token"], "wechatpy keeps the suite token")

    # --- Pre-auth code and session info -----------------------------------
    answer = suite.auth.get_pre_auth_code()
    pre_auth_code = answer["pre_auth_code"]
    expect(answer["errcode"] == 0 and pre_auth_code, f"pre-auth code: {answer}")
    answer = suite.auth.set_session_info(pre_auth_code, auth_type=1)  # a test authorization
    expect(answer["errcode"] == 0, f"set_session_info: {answer}")

    # --- An admin authorizes a corp; the auth code arrives in a push --------
    told = control(base, "/__emulator/authorize", {"suite_id": SUITE_ID, "corp_id": CORP})["auth_code"]
    pushed = last_event("create_auth")
    auth_code = pushed["AuthCode"]
    expect(auth_code == told, f"pushed auth code {auth_code!r}, the control answer says {told!r}")

    # --- Permanent code ---------------------------------------------------
    permanent = suite.auth.get_permanent_code(auth_code)
    expect(permanent["errcode"] == 0, f"permanent code: {permanent}")
    expect(permanent["auth_corp_info"]["corpid"] == CORP, f"the corp: {permanent}")
    permanent_code = permanent["permanent_code"]
    agentid = permanent["auth_info"]["agent"][0]["agentid"]
    # An auth code works once: WeCom's 40078.
    refused(lambda: suite.auth.get_permanent_code(auth_code), 40078, "an auth code used twice")

    # --- Auth info ------------------------------------------------------------
    # wechatpy 2's get_auth_info(auth_code, permanent_code) sends
    # {"auth_code", "permanent_code"}; WeCom's get_auth_info wants
    # {"auth_corpid", "permanent_code"} (an auth code is single-use and
    # spent by now anyway). Without auth_corpid WeCom refuses the call; the
    # emulator answers 40058 (invalid parameter: `auth_corpid` is required).
    refused(
        lambda: suite.auth.get_auth_info(auth_code, permanent_code),
        40058,
        "wechatpy 2's get_auth_info (auth_code instead of auth_corpid)",
    )
    # ADAPTATION 6: so users post WeCom's body through the client itself.
    info = suite.post("service/get_auth_info", data={"auth_corpid": CORP, "permanent_code": permanent_code})
    expect(info["errcode"] == 0 and info["auth_corp_info"]["corpid"] == CORP, f"auth info: {info}")
    refused(
        lambda: suite.post("service/get_auth_info", data={"auth_corpid": CORP, "permanent_code": "made-up"}),
        40084,
        "get_auth_info with a made-up permanent code",
    )

    # --- Corp token (ADAPTATION 4: CorpClient fetches it) -----------------------
    corp = CorpClient(suite, CORP, permanent_code)
    answer = corp.fetch_access_token()
    expect(answer["errcode"] == 0 and answer["access_token"], f"corp token: {answer}")
    refused(
        lambda: CorpClient(suite, CORP, "made-up").fetch_access_token(),
        40084,
        "get_corp_token with a made-up permanent code",
    )

    # --- Admin list (ADAPTATION 7: not in wechatpy 2; posted through the client)
    admins = suite.post("service/get_admin_list", data={"auth_corpid": CORP, "agentid": agentid})
    expect(admins["errcode"] == 0 and isinstance(admins["admin"], list), f"admin list: {admins}")
    refused(
        lambda: suite.post("service/get_admin_list", data={"auth_corpid": "wwstranger01", "agentid": agentid}),
        48004,
        "the admin list of a corp that did not authorize the suite",
    )

    # --- OAuth user info ------------------------------------------------------
    # wechatpy 2's only OAuth call is WeChatClient.oauth.get_user_info:
    # GET user/getuserinfo?access_token=<corp token>&code=…, the self-built
    # (and 代开发) apps' call. A third-party app's members are identified
    # with the suite token on service/auth/getuserinfo3rd instead, and WeCom
    # refuses the corp-token call to a third-party app's token: 48002 (api
    # forbidden), which is what the emulator answers.
    # The code WeCom's OAuth redirect hands over, here from the control API;
    # it works once, with this suite's token.
    code = control(base, "/__emulator/oauth_code", {"suite_id": SUITE_ID, "corp_id": CORP, "userid": "lisi"})["code"]
    refused(lambda: corp.oauth.get_user_info(code), 48002, "wechatpy 2's oauth.get_user_info for a third-party app")
    # ADAPTATION 8: so users call the third-party path through the suite's
    # client (it puts the suite token on the URL).
    user = suite.get("service/auth/getuserinfo3rd", params={"code": code})
    expect(user["errcode"] == 0 and user["userid"] == "lisi" and user["corpid"] == CORP, f"OAuth user info: {user}")
    refused(lambda: suite.get("service/auth/getuserinfo3rd", params={"code": code}), 40029, "a used OAuth code")
    refused(lambda: suite.get("service/auth/getuserinfo3rd", params={"code": "made-up"}), 40029, "a made-up OAuth code")

    # --- A corp call, with the corp token ----------------------------------------
    member = corp.user.get("zhangsan")
    expect(member["errcode"] == 0 and member["userid"], f"user.get: {member}")
    expect(corp.access_token == answer["access_token"], "wechatpy reuses the corp token")

    # --- An expired suite token ---------------------------------------------------
    # wechatpy retries a call once with a fresh token on 40001/40014/42001
    # (the corp token's codes) only. WeCom's codes for an expired suite
    # token are 42009 (40082 for an invalid one), so an expired suite token
    # reaches the caller as an error (and wechatpy's own expiry clock, the
    # wall clock, still thinks it valid). Moving the emulator's clock two
    # hours expires it; the tickets pushed meanwhile are on the command URL.
    control(base, "/__emulator/clock/advance", {"seconds": 2 * 3600 + 60})
    refused(lambda: suite.auth.get_pre_auth_code(), 42009, "a call with an expired suite token")
    # A user refetches with the latest pushed ticket.
    suite.suite_ticket = last_event("suite_ticket")["SuiteTicket"]
    expect(suite.suite_ticket != ticket, "a new ticket was pushed while the clock moved")
    suite.fetch_access_token()
    answer = suite.auth.get_pre_auth_code()
    expect(answer["errcode"] == 0 and answer["pre_auth_code"], f"pre-auth code after refetching: {answer}")

    # --- What went where ----------------------------------------------------------
    expect(not CommandUrl.errors, f"pushes wechatpy could not open: {CommandUrl.errors}")
    # The only break of the emulator's one-token rule: ADAPTATION 5's placeholder.
    violations = control(base, "/__emulator/violations")
    paths = sorted({(v["path"], v["detail"]) for v in violations})
    expected = [("/cgi-bin/service/get_provider_token", "unexpected access_token on this endpoint")]
    expect(paths == expected, f"violations: {violations}")
    print("wechatpy2_flow: ok")


if __name__ == "__main__":
    main(sys.argv[1])
