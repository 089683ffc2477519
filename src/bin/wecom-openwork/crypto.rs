//! `wecom-openwork crypto`: WXBizMsgCrypt and JS-SDK signatures by hand.

use clap::{Args, Subcommand};
use wecom_openwork::crypto::{jsapi_signature, MsgCrypt};

#[derive(Subcommand)]
pub(crate) enum CryptoCommand {
    /// Verify and decrypt a callback ciphertext; prints the message.
    Decrypt {
        #[command(flatten)]
        key: KeyArgs,
        /// The `msg_signature` query parameter.
        #[arg(long)]
        msg_signature: String,
        /// The `timestamp` query parameter.
        #[arg(long)]
        timestamp: String,
        /// The `nonce` query parameter.
        #[arg(long)]
        nonce: String,
        /// The `Encrypt` element (or `echostr`).
        #[arg(long)]
        encrypt: String,
    },
    /// Encrypt a message; prints JSON `{"encrypt": …, "msg_signature": …}`.
    Encrypt {
        #[command(flatten)]
        key: KeyArgs,
        /// The timestamp to sign with.
        #[arg(long)]
        timestamp: String,
        /// The nonce to sign with.
        #[arg(long)]
        nonce: String,
        /// The message to encrypt.
        #[arg(long)]
        message: String,
        /// The 16-byte random prefix as 32 hex digits (default: from the OS CSPRNG).
        #[arg(long)]
        random_hex: Option<String>,
    },
    /// The JS-SDK signature of a page (`wx.config`, `wx.agentConfig`).
    JsapiSignature {
        /// The jsapi ticket (or the app's agent_config ticket).
        #[arg(long)]
        ticket: String,
        /// The random string.
        #[arg(long)]
        noncestr: String,
        /// Unix seconds.
        #[arg(long)]
        timestamp: String,
        /// The page URL (its `#fragment` is ignored).
        #[arg(long)]
        url: String,
    },
}

/// The callback URL's token, EncodingAESKey and receive id.
#[derive(Args)]
pub(crate) struct KeyArgs {
    /// The callback token.
    #[arg(long)]
    token: String,
    /// The EncodingAESKey (43 characters).
    #[arg(long)]
    aes_key: String,
    /// The receive id (suite id, corp id).
    #[arg(long)]
    receive_id: String,
}

pub(crate) fn crypto(command: CryptoCommand) -> Result<String, String> {
    let crypt =
        |key: &KeyArgs| MsgCrypt::new(&key.token, &key.aes_key, &key.receive_id).map_err(|e| e.to_string());
    match command {
        CryptoCommand::Decrypt { key, msg_signature, timestamp, nonce, encrypt } => {
            crypt(&key)?.decrypt(&msg_signature, &timestamp, &nonce, &encrypt).map_err(|e| e.to_string())
        }
        CryptoCommand::Encrypt { key, timestamp, nonce, message, random_hex } => {
            let crypt = crypt(&key)?;
            let sealed = match random_hex {
                Some(hex) => crypt.encrypt_with_random(&message, &parse_random(&hex)?, &timestamp, &nonce),
                None => crypt.encrypt(&message, &timestamp, &nonce),
            }
            .map_err(|e| e.to_string())?;
            serde_json::to_string(&sealed).map_err(|e| e.to_string())
        }
        CryptoCommand::JsapiSignature { ticket, noncestr, timestamp, url } => {
            Ok(jsapi_signature(&ticket, &noncestr, &timestamp, &url))
        }
    }
}

fn parse_random(hex: &str) -> Result<[u8; 16], String> {
    let bytes = hex.as_bytes();
    if bytes.len() != 32 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return Err("--random-hex takes exactly 32 hex digits".into());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}
