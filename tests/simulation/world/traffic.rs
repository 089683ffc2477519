//! What reaches the instances from outside: WeCom's pushes with their
//! retries and duplicates, install redirects, and the ISV's own calls.

use super::*;

impl World {
    /// WeCom pushes `message` to `url`: to a random live instance, again
    /// after a failure (WeCom's retries, sealed anew), at most
    /// [`PUSH_ATTEMPTS`] times; sometimes twice (a duplicate). Returns
    /// whether it was acknowledged.
    pub async fn push(
        self: &Arc<Self>,
        url: CallbackUrl,
        kind: &str,
        message: String,
        corp: Option<String>,
    ) -> bool {
        self.push_to(None, url, kind, message, corp).await
    }

    /// [`World::push`], its first attempt to `target` when it is up.
    pub async fn push_to(
        self: &Arc<Self>,
        target: Option<usize>,
        url: CallbackUrl,
        kind: &str,
        message: String,
        corp: Option<String>,
    ) -> bool {
        let index = {
            let mut state = lock(&self.state);
            state.ledger.pushes.push(PushRecord {
                message: message.clone(),
                kind: kind.to_owned(),
                acked: false,
            });
            state.ledger.pushes.len() - 1
        };
        let mut acked = false;
        for attempt in 0..PUSH_ATTEMPTS {
            let delay = self.rng(|r| r.between(10, 1500));
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let mut live = self.live_instances();
            if attempt == 0 {
                if let Some(target) = target {
                    live.retain(|(i, _)| *i == target);
                }
            }
            let Some(&(instance, incarnation)) = self.rng(|r| r.pick(&live).copied()).as_ref() else {
                self.trace(format!("push #{index} {kind}: no instance up"));
                tokio::time::sleep(PUSH_TIMEOUT).await;
                continue;
            };
            let stored_before = match &corp {
                Some(c) if matches!(url, CallbackUrl::Data(_)) => self.stored(c).await,
                _ => false,
            };
            let outcome = self.deliver(instance, incarnation, &url, &message).await;
            let line = format!("push #{index} {kind} attempt {attempt} → inst {instance}: {outcome:?}");
            self.trace(line);
            match outcome {
                Some((200, body)) if body == "success" => {
                    acked = true;
                    // WeCom (or the network) sometimes sends it again.
                    let dup = lock(&self.state).faults.duplicate;
                    if self.rng(|r| r.chance(dup)) {
                        lock(&self.state).injected.add("duplicate push");
                        let live = self.live_instances();
                        if let Some(&(i, inc)) = self.rng(|r| r.pick(&live).copied()).as_ref() {
                            let again = self.deliver(i, inc, &url, &message).await;
                            self.trace(format!("push #{index} {kind} duplicate → inst {i}: {again:?}"));
                        }
                    }
                    break;
                }
                Some((400, body)) if body == "-40005" => {
                    if let Some(c) = &corp {
                        if stored_before && self.stored(c).await {
                            self.violation(format!(
                                "a data push of corp {c}, whose authorization is stored, was refused as a receive-id mismatch"
                            ));
                        }
                    }
                }
                Some((status, body)) if (400..500).contains(&status) => {
                    self.violation(format!(
                        "push #{index} {kind} refused with {status} {body}: WeCom does not retry a refusal"
                    ));
                }
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(self.rng(|r| r.between(1000, 6000)))).await;
        }
        lock(&self.state).ledger.pushes[index].acked = acked;
        if !acked {
            self.trace(format!("push #{index} {kind}: WeCom gave up"));
        }
        acked
    }

    /// One delivery: the instance's `serve`, as its HTTP server runs it (a
    /// request whose caller left is dropped where it stands).
    async fn deliver(
        &self,
        instance: usize,
        incarnation: u64,
        url: &CallbackUrl,
        message: &str,
    ) -> Option<(u16, String)> {
        let (_, server, _) = self.app_of(instance).filter(|(_, _, inc)| *inc == incarnation)?;
        let (query, body) = self.seal(url, message);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let url = url.clone();
        let handle = self.spawn_request(instance, incarnation, async move {
            let response = server.serve(&url, "POST", &query, &body).await;
            let _ = tx.send((response.status, response.body));
        })?;
        match tokio::time::timeout(PUSH_TIMEOUT, rx).await {
            Ok(Ok(answer)) => Some(answer),
            Ok(Err(_)) => None,
            Err(_) => {
                handle.abort();
                None
            }
        }
    }

    /// The install page's redirect reaching a random live instance's
    /// `complete_install`, with a state its own link signed.
    pub async fn redirect(self: &Arc<Self>, auth_code: String) {
        let live = self.live_instances();
        if let Some(&(instance, _)) = self.rng(|r| r.pick(&live).copied()).as_ref() {
            self.redirect_to(instance, auth_code).await;
        }
    }

    /// The install redirect reaching `instance`.
    pub async fn redirect_to(self: &Arc<Self>, instance: usize, auth_code: String) {
        let Some(incarnation) = self.app_of(instance).map(|(_, _, inc)| inc) else { return };
        let Some((app, server, _)) = self.app_of(instance) else { return };
        let link = match app.suite(SUITE).install_url("PREAUTH", "https://isv.sim/installed", Some("sim")) {
            Ok(link) => link,
            Err(e) => return self.violation(format!("install_url failed: {e}")),
        };
        let state = reqwest::Url::parse(&link)
            .ok()
            .and_then(|u| u.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()))
            .unwrap_or_default();
        let query = format!("auth_code={auth_code}&expires_in=600&state={state}");
        let world = self.clone();
        self.spawn_request(instance, incarnation, async move {
            let Ok(redirect) = InstallRedirect::from_query(&query) else { return };
            let result = server.complete_install(SUITE, &redirect).await;
            // Journaled: the redirect brought the code to the ISV.
            if matches!(result, Ok(_) | Err(wecom_openwork::Error::InstallIncomplete { .. })) {
                lock(&world.state).ledger.redirected.push(redirect.auth_code.clone());
            }
            match result {
                Ok(a) => {
                    world.trace(format!("inst {instance}: redirect completed {}", a.authorization.corp_id))
                }
                Err(e @ wecom_openwork::Error::InvalidRequest(_)) => {
                    world.violation(format!("a redirect with a state its own link signed was refused: {e}"))
                }
                Err(e) => world.trace(format!("inst {instance}: redirect: {e}")),
            }
        });
    }

    /// An ISV's own work on one instance: tokens and JS tickets of the
    /// corps it holds (what makes the token runtime fetch).
    pub async fn workload(self: &Arc<Self>, instance: usize) {
        let Some((app, _, incarnation)) = self.app_of(instance) else { return };
        let world = self.clone();
        self.spawn_request(instance, incarnation, async move {
            let Ok(authorizations) = app.authorizations().await else { return };
            for a in authorizations {
                let corp = app.corp(a.suite_id.clone(), a.corp_id.clone());
                let current = |world: &World| {
                    let wecom = world.wecom.lock().expect("wecom");
                    wecom.corps.get(a.corp_id.as_str()).and_then(|c| c.current_code.clone())
                };
                // WeCom accepts the stored code before the call and after it.
                let valid_before = current(&world).as_deref() == Some(a.permanent_code.expose());
                let token = corp.access_token().get().await.map(|_| ());
                let ticket = corp.jsapi().ticket().await.map(|_| ());
                if let (Err(e), _) | (_, Err(e)) = (&token, &ticket) {
                    world.trace(format!("inst {instance}: workload {}: {e}", a.corp_id));
                    let valid_after = current(&world).as_deref() == Some(a.permanent_code.expose());
                    if matches!(e, wecom_openwork::Error::AuthorizationGone { .. })
                        && valid_before
                        && valid_after
                    {
                        world.violation(format!(
                            "inst {instance}: corp {} refused as gone although WeCom accepts its stored code",
                            a.corp_id
                        ));
                    }
                }
            }
        });
    }
}
