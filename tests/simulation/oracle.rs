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
    let (authorized_hooks, cancelled_hooks, handled, pushes, redirected) = world.with_ledger(|l| {
        (l.authorized.clone(), l.cancelled.clone(), l.handled.clone(), l.pushes.clone(), l.redirected.clone())
    });

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
                // WeCom gave up on a push every attempt of which failed (the
                // store was failing), and no redirect was journaled (a
                // redirect meeting a failing store answers the browser an
                // error): nothing reached the ISV.
                let pushed_unacked =
                    pushes.iter().filter(|p| p.message.contains(auth_code.as_str())).all(|p| !p.acked);
                let never_received = status == "none" && pushed_unacked && !redirected.contains(auth_code);
                if !used && never_received {
                    continue;
                }
                if !used {
                    broken.push(format!(
                        "corp {corp}: its last authorization's code (second {}) was never exchanged (journal {status})",
                        last.second
                    ));
                } else if stored_code == Some(permanent.as_str()) {
                    // A code exchanged before this ISV system ran is set by hand: no hook.
                    let exchanged_here = code.consumed_by.is_some();
                    if exchanged_here
                        && !authorized_hooks.iter().any(|(c, code, _)| c == corp && code == permanent)
                    {
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
                    let version = world.store.get_record(&key).await.ok().flatten().map(|r| r.version);
                    let arrivals = world
                        .store
                        .get_record(&format!("arrivals:{SUITE}"))
                        .await
                        .ok()
                        .flatten()
                        .map(|r| r.value);
                    broken.push(format!(
                        "corp {corp}: its last action is a cancel, yet it is authorized (record version {version:?}, cancel in second {}, arrivals {arrivals:?})",
                        last.second
                    ));
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

    // The stored suite ticket is the newest acknowledged, or a newer one
    // (whose write landed although the store reported it failed).
    let tickets: Vec<(&str, bool)> = pushes
        .iter()
        .filter(|p| p.kind == "suite_ticket")
        .filter_map(|p| {
            let ticket = p.message.split("<SuiteTicket><![CDATA[").nth(1)?.split(']').next()?;
            Some((ticket, p.acked))
        })
        .collect();
    if let Some(newest_acked) = tickets.iter().rposition(|(_, acked)| *acked) {
        let stored = world.store.get_record(&keys::suite_ticket(&SuiteId::new(SUITE))).await.ok().flatten();
        let acceptable: Vec<&str> = tickets[newest_acked..].iter().map(|(t, _)| *t).collect();
        if !stored.as_ref().is_some_and(|r| acceptable.contains(&r.value.as_str())) {
            broken
                .push(format!("the stored suite ticket is not the newest pushed ({:?})", acceptable.first()));
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
