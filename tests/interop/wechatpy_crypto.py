#!/usr/bin/env python3
"""A command-line peer around PyPI's wechatpy (pinned in setup.sh beside this
file), driven by tests/interop.rs to check our WXBizMsgCrypt against it.

  encrypt <token> <aesKey> <receiveId> <timestamp> <nonce> <message> [randomHex]
      -> {"encrypt": "...", "msg_signature": "..."}
      randomHex (32 hex digits) is the 16-byte random prefix; omitted,
      wechatpy draws 16 random letters and digits itself.
  decrypt <token> <aesKey> <msgSignature> <timestamp> <nonce> <encrypt> [receiveId]
      -> {"message": "...", "receive_id": "..."} after wechatpy has checked the
      signature (exit 1, "-40001 ..." on stderr, when it does not match) and,
      when receiveId is given, the receive id (-40005).
  batch
      -> many encrypt/decrypt requests in one process: each stdin line is a
      JSON array ["encrypt" | "decrypt", ...arguments], each stdout line the
      answer's JSON or {"error": "<code> <text>"}.

It uses wechatpy.enterprise.crypto.WeChatCrypto, the class a wechatpy WeCom
callback handler uses: encrypt_message (which answers the reply XML) and
decrypt_message (signature check, AES-256-CBC, receive-id check).
"""
import json
import sys

try:
    import xmltodict
    from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
    from wechatpy.exceptions import WeChatException
except ImportError as e:  # the message is the point
    sys.stderr.write(f"wechatpy is not installed ({e}): run tests/interop/setup.sh\n")
    sys.exit(3)


class PeerError(Exception):
    def __init__(self, code, text):
        super().__init__(f"{code} {text}")
        self.code = code


def usage():
    sys.stderr.write(
        "usage: wechatpy_crypto.py encrypt <token> <aesKey> <receiveId> <timestamp> <nonce> <message> [randomHex]\n"
        "       wechatpy_crypto.py decrypt <token> <aesKey> <msgSignature> <timestamp> <nonce> <encrypt> [receiveId]\n"
        '       wechatpy_crypto.py batch   (JSON lines on stdin: ["encrypt", ...] or ["decrypt", ...])\n'
    )
    sys.exit(2)


def fixed_random_prp(random: bytes):
    """wechatpy's PrpCrypto with its 16-byte random prefix fixed."""

    class FixedRandomPrpCrypto(PrpCrypto):
        def get_random_string(self):
            return random

    return FixedRandomPrpCrypto


class AnyId:
    """Stands for the receive id when the caller does not know it: wechatpy
    compares `from_id != expected` and raises on a mismatch; this matches any
    id and keeps the one it was compared with."""

    value = None

    def __ne__(self, other):
        self.value = other
        return False

    def __eq__(self, other):
        self.value = other
        return True

    __hash__ = None


def do_encrypt(args):
    if len(args) not in (6, 7):
        raise PeerError(2, "encrypt takes 6 or 7 arguments")
    token, aes_key, receive_id, timestamp, nonce, message = args[:6]
    try:
        crypto = WeChatCrypto(token, aes_key, receive_id)
        if len(args) == 7:
            try:
                random = bytes.fromhex(args[6])
            except ValueError:
                random = b""
            if len(random) != 16:
                raise PeerError(-40006, "randomHex must be 32 hex digits")
            xml = crypto._encrypt_message(message, nonce, timestamp, fixed_random_prp(random))
        else:
            xml = crypto.encrypt_message(message, nonce, timestamp)
    except PeerError:
        raise
    except Exception as e:
        raise PeerError(-40006, f"{type(e).__name__}: {e}") from e
    reply = xmltodict.parse(xml)["xml"]
    if reply["TimeStamp"] != timestamp or reply["Nonce"] != nonce:
        raise PeerError(-40011, f"wechatpy's reply does not echo timestamp/nonce: {xml}")
    return {"encrypt": reply["Encrypt"], "msg_signature": reply["MsgSignature"]}


def do_decrypt(args):
    if len(args) not in (6, 7):
        raise PeerError(2, "decrypt takes 6 or 7 arguments")
    token, aes_key, signature, timestamp, nonce, encrypt = args[:6]
    expected = args[6] if len(args) == 7 else AnyId()
    try:
        crypto = WeChatCrypto(token, aes_key, expected)
        message = crypto.decrypt_message({"Encrypt": encrypt}, signature, timestamp, nonce)
    except WeChatException as e:
        raise PeerError(e.errcode, f"{type(e).__name__}: {e.errmsg}") from e
    except Exception as e:  # wechatpy lets AES, base64 and UTF-8 errors through as they are
        raise PeerError(-40007, f"{type(e).__name__}: {e}") from e
    receive_id = expected.value if isinstance(expected, AnyId) else expected
    return {"message": message, "receive_id": receive_id}


OPS = {"encrypt": do_encrypt, "decrypt": do_decrypt}


def single(op, args):
    try:
        out = op(args)
    except PeerError as e:
        if e.code == 2:
            usage()
        sys.stderr.write(f"{e}\n")
        sys.exit(1)
    print(json.dumps(out))


def batch():
    for line in sys.stdin:
        if not line.strip():
            continue
        name, *args = json.loads(line)
        op = OPS.get(name)
        try:
            if op is None:
                raise PeerError(2, f"unknown request {name!r}")
            out = op(args)
        except PeerError as e:
            out = {"error": str(e)}
        print(json.dumps(out))


def main():
    if len(sys.argv) < 2:
        usage()
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd in OPS:
        single(OPS[cmd], args)
    elif cmd == "batch" and not args:
        batch()
    else:
        usage()


if __name__ == "__main__":
    main()
