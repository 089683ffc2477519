//! The invariants, checked once the world has settled, against what WeCom
//! did (the ground truth) and what the store and the ISV's hooks hold.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;
use sha1::{Digest, Sha1};
use wecom_openwork::store::{keys, Store};
use wecom_openwork::{CorpId, SuiteId};

use crate::wecom::{ActionKind, AuthCode, CorpState, SUITE, TOKEN_LIFETIME_S};
use crate::world::World;

/// The SDK's journal key of an auth code (a digest, never the code).
fn journal_key(auth_code: &str) -> String {
    let hex: String =
        Sha1::digest(auth_code.as_bytes()).iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("{}{SUITE}:{hex}", keys::PENDING_PREFIX)
}

async fn record(world: &World, key: &str) -> Option<Value> {
    let record = world.store.get_record(key).await.ok().flatten()?;
    serde_json::from_str(&record.value).ok()
}

/// Every invariant the settled world breaks, in words.
pub async fn check(world: &Arc<World>, calm: bool) -> Vec<String> {
    let mut broken = world.violations();
    let (corps, codes, fetches, changes) = {
        let wecom = world.wecom.lock().expect("wecom");
        let corps: Vec<(String, CorpState, Vec<crate::wecom::Action>)> =
            wecom.corps.iter().map(|(id, c)| (id.clone(), c.state, c.actions.clone())).collect();
        let codes: HashMap<String, AuthCode> = wecom.codes.clone();
        (corps, codes, wecom.fetches.clone(), wecom.code_changes.clone())
    };
    let crashed_after = |incarnation: (usize, u64)| {
        world.trace_lines().iter().any(|l| l.contains(&format!("inst {}: CRASH", incarnation.0)))
    };
    let (authorized_hooks, cancelled_hooks, handled, pushes) = world
        .with_ledger(|l| (l.authorized.clone(), l.cancelled.clone(), l.handled.clone(), l.pushes.clone()));

    // Every corp ends where WeCom's last action left it.
    for (corp, _state, actions) in &corps {
        let key = keys::authorization(&SuiteId::new(SUITE), &CorpId::new(corp.as_str()));
        let stored = record(world, &key).await;
        let stored_code = stored.as_ref().and_then(|v| v.get("permanent_code")).and_then(Value::as_str);
        let Some(last) = actions.last() else { continue };
        match &last.kind {
            ActionKind::Authorize { auth_code } => {
                let Some(code) = codes.get(auth_code) else { continue };
                let (permanent, used, void, lost) =
                    (&code.permanent_code, &code.used, &code.void, &code.reply_lost);
                let journal = record(world, &journal_key(auth_code)).await;
                let status =
                    journal.as_ref().and_then(|j| j.get("status")).and_then(Value::as_str).unwrap_or("none");
                let excused = *lost || code.consumed_by.is_some_and(crashed_after);
                if *void {
                    continue;
                }
                if !used {
                    broken.push(format!(
                        "corp {corp}: its last authorization's code (second {}) was never exchanged (journal {status})",
                        last.second
                    ));
                } else if stored_code == Some(permanent.as_str()) {
                    if !authorized_hooks.iter().any(|(c, code, _)| c == corp && code == permanent) {
                        broken.push(format!(
                            "corp {corp}: authorized, but on_authorized never ran for its code"
                        ));
                    }
                } else if excused && status == "failed" {
                    // WeCom gave the code to a reply that was lost: reported.
                } else {
                    broken.push(format!(
                        "corp {corp}: its last action is an authorization, but the store holds {} (journal {status}, reply lost {lost})",
                        match stored_code {
                            Some(code) if code == permanent => "its code".to_owned(),
                            Some(code) => format!("another code {code}"),
                            None => "no authorization".to_owned(),
                        }
                    ));
                }
            }
            ActionKind::Cancel => {
                if stored_code.is_some() {
                    broken.push(format!("corp {corp}: its last action is a cancel, yet it is authorized"));
                }
                let seen = authorized_hooks.iter().filter(|(c, _, _)| c == corp).map(|(_, _, at)| *at).max();
                let told = cancelled_hooks.iter().filter(|(c, _)| c == corp).map(|(_, at)| *at).max();
                if let Some(seen) = seen {
                    if told.is_none_or(|told| told < seen) {
                        broken.push(format!(
                            "corp {corp}: on_authorized ran, but on_cancelled never ran after it"
                        ));
                    }
                }
            }
        }
    }

    // No journal is left unfinished, and none failed while its code was good.
    let journals = world.store.record_keys(keys::PENDING_PREFIX).await.unwrap_or_default();
    for key in journals {
        let Some(journal) = record(world, &key).await else { continue };
        let status = journal.get("status").and_then(Value::as_str).unwrap_or("?");
        let auth_code = journal.get("auth_code").and_then(Value::as_str).unwrap_or_default();
        match status {
            "done" => {}
            "failed" => {
                let reason = journal.get("reason").and_then(Value::as_str).unwrap_or_default();
                let Some(code) = codes.get(auth_code) else { continue };
                let excused = code.void || code.reply_lost || code.consumed_by.is_some_and(crashed_after);
                if !excused {
                    broken
                        .push(format!("journal of {auth_code} failed although its code was good: {reason}"));
                }
            }
            other => broken.push(format!("journal of {auth_code} left {other} after the world settled")),
        }
    }

    // Every acknowledged push was handled; no incarnation handled one twice.
    let mut runs: BTreeMap<(usize, u64, &str), usize> = BTreeMap::new();
    for (instance, incarnation, message) in &handled {
        *runs.entry((*instance, *incarnation, message.as_str())).or_default() += 1;
    }
    for ((instance, incarnation, message), n) in &runs {
        if *n > 1 {
            let short: String = message.chars().take(120).collect();
            broken.push(format!(
                "inst {instance} (incarnation {incarnation}) handled one push {n} times: {short}"
            ));
        }
    }
    for push in pushes.iter().filter(|p| p.acked) {
        if !handled.iter().any(|(_, _, m)| *m == push.message) {
            broken.push(format!("a {} push was acknowledged but never handled", push.kind));
        }
    }

    // The newest suite ticket acknowledged is the one stored.
    let newest = pushes.iter().rfind(|p| p.kind == "suite_ticket" && p.acked);
    if let Some(push) = newest {
        let ticket = push.message.split("<SuiteTicket><![CDATA[").nth(1).and_then(|s| s.split(']').next());
        let stored = world.store.get_record(&keys::suite_ticket(&SuiteId::new(SUITE))).await.ok().flatten();
        if ticket.is_some() && stored.as_ref().map(|r| r.value.as_str()) != ticket {
            broken.push(format!("the stored suite ticket is not the newest pushed ({ticket:?})"));
        }
    }

    // Calm runs: one upstream fetch per scope per token lifetime, across
    // every instance (a corp's code changing starts a new one).
    if calm {
        let mut by_scope: BTreeMap<&str, Vec<(u64, usize)>> = BTreeMap::new();
        for f in &fetches {
            by_scope.entry(f.scope.as_str()).or_default().push((f.at_ms, f.instance));
        }
        let refresh_after_ms = (TOKEN_LIFETIME_S - 300) * 1000;
        for (scope, times) in by_scope {
            for pair in times.windows(2) {
                let ((a, ia), (b, ib)) = (pair[0], pair[1]);
                let corp = scope.split(':').nth(1).unwrap_or_default();
                let changed = changes.iter().any(|(c, at)| c == corp && *at >= a && *at <= b);
                if b < a + refresh_after_ms && !changed {
                    broken.push(format!(
                        "{scope} fetched twice within one lifetime: at {:.1}s by inst {ia} and {:.1}s by inst {ib}",
                        a as f64 / 1000.0,
                        b as f64 / 1000.0
                    ));
                }
            }
        }
    }
    broken
}
