//! What chance (or a scenario) makes of each store operation and each
//! request to WeCom: the faults, drawn from the seed.

use super::*;

impl World {
    /// What happens to a store operation of `instance`.
    pub fn store_fate(&self, instance: usize, incarnation: u64, operation: &str, write: bool) -> StoreFate {
        if !self.alive(instance, incarnation) {
            return StoreFate::Frozen;
        }
        let now = self.now_ms();
        let mut rng = lock(&self.rng);
        let mut state = lock(&self.state);
        let state = &mut *state;
        if let Some(slot) = state.instances.get_mut(instance) {
            if let Some(left) = slot.crash_after_ops.as_mut() {
                if *left == 0 {
                    slot.crash_after_ops = None;
                    state.injected.add("crash at a store operation");
                    return if write && rng.chance(0.5) {
                        StoreFate::CrashAfter
                    } else {
                        StoreFate::CrashBefore
                    };
                }
                *left -= 1;
            }
        }
        let faults = &state.faults;
        if now < faults.outage_until_ms {
            state.injected.add("store outage");
            return StoreFate::FailBefore;
        }
        if !faults.enabled {
            return StoreFate::Proceed;
        }
        let (error, timeout, lost) = (faults.store_error, faults.store_timeout, faults.store_lost_ack);
        let _ = operation;
        if rng.chance(error) {
            state.injected.add("store error");
            StoreFate::FailBefore
        } else if rng.chance(timeout) {
            state.injected.add("store timeout");
            StoreFate::Timeout
        } else if write && rng.chance(lost) {
            state.injected.add("store write landed, reported failed");
            StoreFate::LandThenFail
        } else {
            StoreFate::Proceed
        }
    }

    /// What happens to a request of `instance` to WeCom.
    pub fn wecom_fate(&self, instance: usize, incarnation: u64, path: &str) -> WeComFate {
        if !self.alive(instance, incarnation) {
            return WeComFate::Frozen;
        }
        let exchange = path.ends_with("get_permanent_code");
        let (fate, kind) = {
            let mut rng = lock(&self.rng);
            let mut guard = lock(&self.state);
            let state = &mut *guard;
            let forced = state.forced.iter_mut().find(|f| {
                f.times > 0 && path.ends_with(f.path_suffix) && f.instance.is_none_or(|i| i == instance)
            });
            if let Some(forced) = forced {
                forced.times -= 1;
                let fate = forced.fate;
                drop(guard);
                drop(rng);
                self.trace(format!("inst {instance}: forced {fate:?} on {path}"));
                return fate;
            }
            let f = &state.faults;
            if !f.enabled {
                return WeComFate::Answer;
            }
            let hang = if exchange { f.wecom_act_then_hang * 3.0 } else { f.wecom_act_then_hang };
            let fate = if rng.chance(f.wecom_error) {
                WeComFate::Errcode(-1)
            } else if rng.chance(f.wecom_status) {
                WeComFate::Status(502)
            } else if rng.chance(f.wecom_rate_limit) {
                WeComFate::Errcode(45009)
            } else if rng.chance(hang) {
                WeComFate::ActThenHang
            } else if rng.chance(f.wecom_refused) {
                WeComFate::Refused
            } else {
                WeComFate::Answer
            };
            let kind = match fate {
                WeComFate::Errcode(-1) => "wecom -1",
                WeComFate::Errcode(_) => "wecom 45009",
                WeComFate::Status(_) => "wecom 5xx",
                WeComFate::ActThenHang => "wecom reply lost after acting",
                WeComFate::Refused => "wecom connection refused",
                _ => return fate,
            };
            state.injected.add(kind);
            (fate, kind)
        };
        self.trace(format!("inst {instance}: {kind} on {path}"));
        fate
    }

    pub fn wecom_answer(
        &self,
        path: &str,
        query: &BTreeMap<String, String>,
        body: &Value,
        caller: (usize, u64),
    ) -> Value {
        let now = self.now_ms();
        let answer = lock(&self.wecom).answer(path, query, body, now, caller);
        let code = answer.get("errcode").and_then(Value::as_i64).unwrap_or(0);
        if code != 0 || path.ends_with("get_permanent_code") {
            self.trace(format!("inst {}: WeCom {path} → {code}", caller.0));
        }
        answer
    }

    /// The reply to an exchange was lost after WeCom acted on it.
    pub fn reply_lost(&self, body: &Value) {
        if let Some(code) = body.get("auth_code").and_then(Value::as_str) {
            if let Some(c) = lock(&self.wecom).codes.get_mut(code) {
                c.reply_lost = true;
            }
        }
    }
}
