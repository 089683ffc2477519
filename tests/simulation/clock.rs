//! Each instance's clock: the simulation's time (tokio's paused clock,
//! which jumps to the next timer when every task waits) plus the
//! instance's own skew.

use std::time::{Duration, SystemTime};

use wecom_openwork::clock::Clock;
use wecom_openwork::BoxFuture;

#[derive(Debug, Clone)]
pub struct SimClock {
    /// The wall time at the simulation's start.
    pub base: SystemTime,
    pub start: tokio::time::Instant,
    /// This instance's error, in ms (may be negative).
    pub skew_ms: i64,
}

impl SimClock {
    pub fn elapsed(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.start)
    }
}

impl Clock for SimClock {
    fn now(&self) -> SystemTime {
        let true_now = self.base + self.elapsed();
        if self.skew_ms >= 0 {
            true_now + Duration::from_millis(self.skew_ms as u64)
        } else {
            true_now - Duration::from_millis(self.skew_ms.unsigned_abs())
        }
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}
