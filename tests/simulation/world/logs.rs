//! The SDK's log lines, written into the world's trace so a seed's run
//! reads as one story.

use super::*;

/// Writes the SDK's own log lines (INFO and above) into `world`'s trace,
/// on this thread, until the guard is dropped.
pub fn capture_logs(world: &Arc<World>) -> tracing::subscriber::DefaultGuard {
    let world = Arc::downgrade(world);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .event_format(EventOnly)
        .with_writer(move || LogLine { world: world.clone(), line: Vec::new() })
        .finish();
    tracing::subscriber::set_default(subscriber)
}

/// A log line as its level, message and fields, without the spans around
/// it (which tests running in parallel would make differ from run to run).
struct EventOnly;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for EventOnly
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        write!(writer, "{} ", event.metadata().level())?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// One formatted log line on its way into the trace.
struct LogLine {
    world: std::sync::Weak<World>,
    line: Vec<u8>,
}

impl std::io::Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if let Some(world) = self.world.upgrade() {
            let text = String::from_utf8_lossy(&self.line);
            world.trace(format!("  sdk: {}", text.trim_end()));
        }
    }
}
