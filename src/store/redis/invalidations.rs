//! Dropped tokens announced to every instance: a pub/sub subscription on
//! its own connection, remade with back-off when it fails.

use std::time::Duration;

use redis::{AsyncConnectionConfig, Client, ProtocolVersion, PushKind, RedisError, Value};
use tokio::sync::broadcast;

use super::{text, RedisStore};

/// First pause before resubscribing to invalidations, and the longest.
const RESUBSCRIBE_MIN: Duration = Duration::from_millis(100);
const RESUBSCRIBE_MAX: Duration = Duration::from_secs(5);
/// How often the subscription connection is pinged to notice a dead peer.
const SUBSCRIPTION_PING: Duration = Duration::from_secs(15);
/// Announcements buffered per receiver before it lags.
const INVALIDATION_CAPACITY: usize = 1024;

/// The invalidation subscription, started by the first
/// [`invalidations`](Store::invalidations) call.
pub(super) struct Subscription {
    pub(super) sender: broadcast::Sender<String>,
    /// Aborted when the store is dropped, which ends the task.
    pub(super) task: tokio::task::AbortHandle,
}

impl RedisStore {
    pub(super) fn subscribe(&self) -> Option<Subscription> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(store = %self.describe, "no tokio runtime: Redis invalidations are not received");
            return None;
        };
        // The subscription connection speaks RESP3 so that messages arrive
        // through a push channel on an ordinary connection.
        let info = self.client.get_connection_info().clone();
        let settings = info.redis_settings().clone().set_protocol(ProtocolVersion::RESP3);
        let client = match Client::open(info.set_redis_settings(settings)) {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(store = %self.describe, error = %e, "Redis invalidations are not received");
                return None;
            }
        };
        let (sender, _) = broadcast::channel(INVALIDATION_CAPACITY);
        let listener = Listener {
            client,
            channel: self.channel(),
            store: self.describe.clone(),
            timeout: self.timeout,
            sender: sender.clone(),
        };
        let task = runtime.spawn(listener.run()).abort_handle();
        Some(Subscription { sender, task })
    }
}

/// The subscription task: holds a pub/sub connection, resubscribes with
/// back-off when it fails, and is aborted when the store is dropped.
struct Listener {
    client: Client,
    channel: String,
    store: String,
    timeout: Duration,
    sender: broadcast::Sender<String>,
}

impl Listener {
    async fn run(self) {
        let mut backoff = RESUBSCRIBE_MIN;
        let mut failing = false;
        loop {
            let (push_tx, pushes) = tokio::sync::mpsc::unbounded_channel();
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.timeout))
                .set_response_timeout(Some(self.timeout))
                .set_push_sender(push_tx);
            let connect = async {
                let mut connection =
                    self.client.get_multiplexed_async_connection_with_config(&config).await?;
                connection.subscribe(&self.channel).await?;
                Ok::<_, RedisError>(connection)
            };
            match tokio::time::timeout(self.timeout, connect).await {
                Ok(Ok(connection)) => {
                    backoff = RESUBSCRIBE_MIN;
                    failing = false;
                    tracing::debug!(store = %self.store, "subscribed to Redis invalidations");
                    // Announcements may have been missed while unsubscribed.
                    let _ = self.sender.send(String::new());
                    self.listen(connection, pushes).await;
                    tracing::warn!(store = %self.store, "lost the Redis invalidation subscription; resubscribing");
                }
                Ok(Err(e)) => {
                    if !failing {
                        tracing::warn!(store = %self.store, error = %e, "cannot subscribe to Redis invalidations; retrying");
                    }
                    failing = true;
                }
                Err(_) => {
                    if !failing {
                        tracing::warn!(store = %self.store, "cannot subscribe to Redis invalidations (timeout); retrying");
                    }
                    failing = true;
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(RESUBSCRIBE_MAX);
        }
    }

    /// Forwards announced keys until the connection fails. A connection
    /// quiet for a while is pinged, so a dead peer is noticed.
    async fn listen(
        &self,
        mut connection: redis::aio::MultiplexedConnection,
        mut pushes: tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>,
    ) {
        loop {
            match tokio::time::timeout(SUBSCRIPTION_PING, pushes.recv()).await {
                Ok(None) => return,
                Ok(Some(push)) => match push.kind {
                    PushKind::Message => {
                        if let Some(key) = push.data.get(1).and_then(text) {
                            let _ = self.sender.send(key);
                        }
                    }
                    PushKind::Disconnection => return,
                    _ => {}
                },
                Err(_) => {
                    let ping = redis::cmd("PING");
                    let pong = ping.query_async::<Value>(&mut connection);
                    if !matches!(tokio::time::timeout(self.timeout, pong).await, Ok(Ok(_))) {
                        return;
                    }
                }
            }
        }
    }
}
