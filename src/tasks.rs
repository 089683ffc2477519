//! Work started but not waited for (the permanent-code exchange after
//! create_auth, the emulator's pushes), tracked so it can be awaited, or
//! stopped as a crash would stop it, and is never dropped with the request
//! that started it.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use tokio::task::{AbortHandle, JoinHandle};

#[derive(Default)]
pub(crate) struct Background {
    /// Tasks not yet awaited by [`Background::drain`].
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Every task not yet finished, awaited or not.
    running: Mutex<Vec<AbortHandle>>,
}

impl Background {
    pub(crate) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(work);
        let abort = handle.abort_handle();
        {
            let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
            tasks.retain(|t| !t.is_finished());
            tasks.push(handle);
        }
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.retain(|t| !t.is_finished());
        running.push(abort);
    }

    /// Stops every task at its next await point, as a crash would: what
    /// they were doing is left to be resumed from the store.
    pub(crate) fn abort_all(&self) {
        for task in std::mem::take(&mut *self.running.lock().unwrap_or_else(PoisonError::into_inner)) {
            task.abort();
        }
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
                match task.await {
                    Err(e) if e.is_cancelled() => {}
                    Err(e) => tracing::error!(error = %e, "a background task failed"),
                    Ok(()) => {}
                }
            }
        }
    }
}
