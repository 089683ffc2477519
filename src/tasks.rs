//! Work started but not waited for (the permanent-code exchange after
//! create_auth, the emulator's pushes), tracked so it can be awaited and is
//! never dropped with the request that started it.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use tokio::task::JoinHandle;

#[derive(Default)]
pub(crate) struct Background {
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Background {
    pub(crate) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(work);
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle);
    }

    /// Waits for every task started so far (and those they start).
    pub(crate) async fn drain(&self) {
        loop {
            let pending: Vec<JoinHandle<()>> =
                std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
            if pending.is_empty() {
                return;
            }
            for task in pending {
                if let Err(e) = task.await {
                    tracing::error!(error = %e, "a background task failed");
                }
            }
        }
    }
}
