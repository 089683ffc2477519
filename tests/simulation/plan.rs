//! A seed's schedule: what WeCom does to which corp and when (installs,
//! some completed by their redirect too, resets, changes, cancels, data
//! bursts within one second, ties in one second), and what goes wrong
//! (crashes at a moment or at a store operation, a store outage), plus the
//! ISV's own token work. The schedule is printed when a seed fails.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use wecom_openwork::server::CallbackUrl;
use wecom_openwork::SuiteId;

use crate::rng::Rng;
use crate::wecom::SUITE;
use crate::world::{Faults, World};

#[derive(Debug, Clone)]
pub enum Step {
    Install {
        corp: String,
        redirect: bool,
    },
    Reset {
        corp: String,
    },
    Change {
        corp: String,
    },
    Cancel {
        corp: String,
    },
    /// `burst` distinct data pushes of one kind in one second.
    Data {
        corp: String,
        kind: DataKind,
        burst: usize,
    },
    Ticket,
    Crash {
        instance: usize,
    },
    CrashAtStoreOp {
        instance: usize,
        after_ops: u64,
    },
    Outage {
        secs: u64,
    },
    Workload {
        instance: usize,
    },
}

#[derive(Debug, Clone, Copy)]
pub enum DataKind {
    CreateParty,
    AddExternalContact,
    BatchJobResult,
}

#[derive(Debug, Clone)]
pub struct Planned {
    pub at_ms: u64,
    pub step: Step,
    /// Stamped with the same `TimeStamp` second as the corp's previous
    /// lifecycle push, and sent once that one was delivered (or given up).
    pub tie: bool,
}

#[derive(Clone)]
pub struct Plan {
    pub seed: u64,
    pub instances: usize,
    pub faults: Faults,
    pub skews: Vec<i64>,
    pub steps: Vec<Planned>,
    /// How long the schedule runs before the world settles.
    pub minutes: u64,
    /// WeCom's rate limit pauses a call (120 s) past the exchange lease (60 s).
    pub long_rate_limit_pause: bool,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {}: {} instances, skews {:?} ms, faults {}",
            self.seed,
            self.instances,
            self.skews,
            if self.faults.enabled { "on" } else { "off" }
        )?;
        for p in &self.steps {
            writeln!(
                f,
                "  {:>8.1}s {}{:?}",
                p.at_ms as f64 / 1000.0,
                if p.tie { "(same second) " } else { "" },
                p.step
            )?;
        }
        Ok(())
    }
}

impl Plan {
    /// The schedule of `seed`: one run in four is calm (no faults, no
    /// crashes), where the token runtime must fetch once per scope.
    pub fn generate(seed: u64) -> Plan {
        let mut rng = Rng::new(seed);
        let instances = rng.between(2, 4) as usize;
        let calm = rng.chance(0.25);
        let faults = if calm { Faults::calm() } else { Faults::stormy(&mut rng) };
        let skews = (0..instances).map(|_| rng.between(0, 6000) as i64 - 3000).collect();
        let minutes = 40;
        let end = minutes * 60_000;
        let mut steps = Vec::new();
        for at in (0..end).step_by(600_000) {
            steps.push(Planned { at_ms: at, step: Step::Ticket, tie: false });
        }
        let corps = rng.between(3, 8);
        for n in 0..corps {
            let corp = format!("wwsimcorp{n:02}");
            let mut at = rng.between(5_000, 600_000);
            let mut authorized = true;
            let mut after_lifecycle = true;
            let mut previous_tie = false;
            steps.push(Planned {
                at_ms: at,
                step: Step::Install { corp: corp.clone(), redirect: rng.chance(0.5) },
                tie: false,
            });
            for _ in 0..rng.between(0, 5) {
                // A tie shares the second of the lifecycle push just before
                // (at most two actions in one second: a third, such as a
                // second cancel, would repeat a message byte for byte, which
                // is WeCom's retry).
                let tie = rng.chance(0.2) && after_lifecycle && !previous_tie;
                at += if tie { 0 } else { rng.between(30_000, 600_000) };
                if at >= end - 60_000 {
                    break;
                }
                let step = if authorized {
                    match rng.below(10) {
                        0..=1 => Step::Reset { corp: corp.clone() },
                        2 => Step::Change { corp: corp.clone() },
                        3..=5 => {
                            authorized = false;
                            Step::Cancel { corp: corp.clone() }
                        }
                        _ => {
                            let kind = [
                                DataKind::CreateParty,
                                DataKind::AddExternalContact,
                                DataKind::BatchJobResult,
                            ][rng.below(3) as usize];
                            Step::Data { corp: corp.clone(), kind, burst: rng.between(1, 8) as usize }
                        }
                    }
                } else {
                    authorized = true;
                    Step::Install { corp: corp.clone(), redirect: rng.chance(0.5) }
                };
                after_lifecycle = !matches!(step, Step::Data { .. });
                let tie = tie && after_lifecycle;
                previous_tie = tie;
                steps.push(Planned { at_ms: at, step, tie });
            }
        }
        for instance in 0..instances {
            let mut at = rng.between(60_000, 300_000);
            while at < end {
                steps.push(Planned { at_ms: at, step: Step::Workload { instance }, tie: false });
                at += rng.between(120_000, 400_000);
            }
        }
        if !calm {
            for _ in 0..rng.between(0, 3) {
                let instance = rng.below(instances as u64) as usize;
                steps.push(Planned {
                    at_ms: rng.between(1_000, end),
                    step: Step::Crash { instance },
                    tie: false,
                });
            }
            for _ in 0..rng.between(0, 3) {
                let instance = rng.below(instances as u64) as usize;
                let after_ops = rng.below(60);
                steps.push(Planned {
                    at_ms: rng.between(1_000, end),
                    step: Step::CrashAtStoreOp { instance, after_ops },
                    tie: false,
                });
            }
            if rng.chance(0.3) {
                steps.push(Planned {
                    at_ms: rng.between(1_000, end),
                    step: Step::Outage { secs: rng.between(8, 20) },
                    tie: false,
                });
            }
        }
        steps.sort_by_key(|p| p.at_ms);
        let long_rate_limit_pause = rng.chance(0.5);
        Plan { seed, instances, faults, skews, steps, minutes, long_rate_limit_pause }
    }
}

fn corp_of(step: &Step) -> Option<&str> {
    match step {
        Step::Install { corp, .. }
        | Step::Reset { corp }
        | Step::Change { corp }
        | Step::Cancel { corp }
        | Step::Data { corp, .. } => Some(corp),
        _ => None,
    }
}

pub fn command(info_type: &str, second: u64, extra: &str) -> String {
    format!(
        "<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId><InfoType><![CDATA[{info_type}]]></InfoType><TimeStamp>{second}</TimeStamp>{extra}</xml>"
    )
}

/// The data pushes of a burst: distinct events of one kind, in one second.
pub fn data_messages(
    corp: &str,
    kind: DataKind,
    burst: usize,
    second: u64,
    first_id: u64,
) -> Vec<(String, String)> {
    (0..burst as u64)
        .map(|i| {
            let id = first_id + i;
            let head = format!(
                "<ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>{second}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            );
            match kind {
                DataKind::CreateParty => (
                    "change_contact.create_party".to_owned(),
                    format!("<xml>{head}<Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[create_party]]></ChangeType><Id>{id}</Id><Name><![CDATA[Dept {id}]]></Name><ParentId>1</ParentId><Order>1</Order></xml>"),
                ),
                DataKind::AddExternalContact => (
                    "change_external_contact.add_external_contact".to_owned(),
                    format!("<xml>{head}<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[wmext{id}]]></ExternalUserID><State><![CDATA[]]></State><WelcomeCode><![CDATA[WELCOME{id}]]></WelcomeCode></xml>"),
                ),
                DataKind::BatchJobResult => (
                    "batch_job_result".to_owned(),
                    format!("<xml>{head}<Event><![CDATA[batch_job_result]]></Event><BatchJob><JobId><![CDATA[job{id}]]></JobId><JobType><![CDATA[sync_user]]></JobType><ErrCode>0</ErrCode><ErrMsg><![CDATA[ok]]></ErrMsg></BatchJob></xml>"),
                ),
            }
        })
        .collect()
}

/// Runs the schedule on `world`, then lets it settle with the faults off
/// until every push, exchange and hook is through.
pub async fn run(world: &Arc<World>, plan: &Plan) {
    if plan.long_rate_limit_pause {
        world.tweak_config(|config| config.http.rate_limit_pause = 120.0);
    }
    for instance in 0..plan.instances {
        world.start_instance(instance).await;
    }
    let mut per_corp: BTreeMap<String, Vec<Planned>> = BTreeMap::new();
    let mut global = Vec::new();
    for p in &plan.steps {
        match corp_of(&p.step) {
            Some(corp) => per_corp.entry(corp.to_owned()).or_default().push(p.clone()),
            None => global.push(p.clone()),
        }
    }
    let mut drivers = Vec::new();
    for (corp, steps) in per_corp {
        let world = world.clone();
        drivers.push(tokio::spawn(async move { drive_corp(&world, &corp, steps).await }));
    }
    let w = world.clone();
    drivers.push(tokio::spawn(async move { drive_global(&w, global).await }));
    for driver in drivers {
        let _ = driver.await;
    }
    let end = Duration::from_secs(plan.minutes * 60);
    let now = Duration::from_millis(world.now_ms());
    tokio::time::sleep(end.saturating_sub(now)).await;
    world.trace("the schedule is over: faults off, every instance up, settling");
    world.settle();
    for instance in 0..plan.instances {
        world.start_instance(instance).await;
    }
    // Sweeps every 30 s pick up what an instance left idle for 2 minutes.
    tokio::time::sleep(Duration::from_secs(8 * 60)).await;
    for (_, server, _) in (0..plan.instances).filter_map(|i| world.app_of(i)) {
        let _ = tokio::time::timeout(Duration::from_secs(600), server.drain()).await;
    }
}

async fn drive_global(world: &Arc<World>, steps: Vec<Planned>) {
    let mut pushes = Vec::new();
    for p in steps {
        tokio::time::sleep_until(world.start + Duration::from_millis(p.at_ms)).await;
        match p.step {
            Step::Ticket => {
                let ticket = world.wecom.lock().expect("wecom").new_ticket(world.now_ms());
                let message = command(
                    "suite_ticket",
                    world.wecom_second(),
                    &format!("<SuiteTicket><![CDATA[{ticket}]]></SuiteTicket>"),
                );
                world.trace(format!("WeCom: suite ticket {ticket}"));
                let w = world.clone();
                pushes.push(tokio::spawn(async move {
                    w.push(CallbackUrl::Command(SuiteId::new(SUITE)), "suite_ticket", message, None).await
                }));
            }
            Step::Crash { instance } => world.crash(instance),
            Step::CrashAtStoreOp { instance, after_ops } => {
                world.trace(format!("inst {instance}: dies at its store operation #{after_ops} from now"));
                world.arm_crash(instance, after_ops);
            }
            Step::Outage { secs } => world.set_outage(world.now_ms() + secs * 1000),
            Step::Workload { instance } => world.workload(instance).await,
            _ => {}
        }
    }
    for push in pushes {
        let _ = push.await;
    }
}

async fn drive_corp(world: &Arc<World>, corp: &str, steps: Vec<Planned>) {
    let mut last: Option<(u64, tokio::task::JoinHandle<bool>)> = None;
    let mut pushes = Vec::new();
    let mut next_id = 1;
    for p in steps {
        tokio::time::sleep_until(world.start + Duration::from_millis(p.at_ms)).await;
        let second = match (last.take(), p.tie) {
            (Some((second, previous)), true) => {
                // Sent once the previous one was delivered, in its second.
                let _ = previous.await;
                second
            }
            (previous, _) => {
                last = previous;
                world.wecom_second()
            }
        };
        let now = world.now_ms();
        let suite = || CallbackUrl::Command(SuiteId::new(SUITE));
        let (kind, message, redirect) = {
            let mut wecom = world.wecom.lock().expect("wecom");
            match &p.step {
                Step::Install { redirect, .. } => {
                    let code = wecom.install(corp, second, now);
                    let extra = format!("<AuthCode><![CDATA[{code}]]></AuthCode>");
                    ("create_auth", command("create_auth", second, &extra), redirect.then_some(code))
                }
                Step::Reset { .. } => {
                    let code = wecom.reset(corp, second, now);
                    let extra = format!(
                        "<AuthCode><![CDATA[{code}]]></AuthCode><AuthCorpId><![CDATA[{corp}]]></AuthCorpId>"
                    );
                    ("reset_permanent_code", command("reset_permanent_code", second, &extra), None)
                }
                Step::Change { .. } => {
                    let extra = format!("<AuthCorpId><![CDATA[{corp}]]></AuthCorpId>");
                    ("change_auth", command("change_auth", second, &extra), None)
                }
                Step::Cancel { .. } => {
                    wecom.cancel(corp, second, now);
                    let extra = format!("<AuthCorpId><![CDATA[{corp}]]></AuthCorpId>");
                    ("cancel_auth", command("cancel_auth", second, &extra), None)
                }
                Step::Data { kind, burst, .. } => {
                    drop(wecom);
                    let messages = data_messages(corp, *kind, *burst, second, next_id);
                    next_id += *burst as u64;
                    world.trace(format!("WeCom: {burst} data pushes of {corp} in second {second}"));
                    for (kind, message) in messages {
                        let w = world.clone();
                        let corp = corp.to_owned();
                        pushes.push(tokio::spawn(async move {
                            w.push(CallbackUrl::Data(SuiteId::new(SUITE)), &kind, message, Some(corp)).await
                        }));
                    }
                    continue;
                }
                _ => continue,
            }
        };
        world.trace(format!(
            "WeCom: {kind} of {corp} in second {second}{}",
            if p.tie { " (tie)" } else { "" }
        ));
        let w = world.clone();
        let handle = tokio::spawn(async move { w.push(suite(), kind, message, None).await });
        if let Some(code) = redirect {
            let w = world.clone();
            let delay = world.rng(|r| r.between(0, 3000));
            pushes.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                w.redirect(code).await;
                true
            }));
        }
        if let Some((_, previous)) = last.take() {
            pushes.push(previous);
        }
        last = Some((second, handle));
    }
    if let Some((_, previous)) = last {
        let _ = previous.await;
    }
    for push in pushes {
        let _ = push.await;
    }
}
