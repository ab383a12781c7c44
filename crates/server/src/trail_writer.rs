//! Records the calls that do not record themselves (reads, and calls
//! denied by policy) in the account's audit trail, off the request path:
//! requests hand their events to one writer thread, which writes whatever
//! has queued up in one transaction. A read then costs its caller no write
//! at all, as CloudTrail too delivers events after the answer.
//!
//! The writer takes the server's writers' lock for each transaction, so it
//! queues with the calls that write instead of meeting them in SQLite's
//! busy handler. Events still queued when the server stops are written
//! before it returns; a connection that outlives the stop (see
//! `http::serve`) records nothing more.

use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rolecall_emulator::{Emulator, EmulatorError, TrailEntry};

/// Events written in one transaction at most.
const MAX_BATCH: usize = 512;
/// How long the writer waits for more events after the first of a batch:
/// an event is in the account at most this long (and one transaction)
/// after its answer.
const LINGER: Duration = Duration::from_millis(5);

pub struct TrailWriter {
    sender: Mutex<Option<Sender<TrailEntry>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl TrailWriter {
    /// Starts the writer on a handle of its own to the account at `path`.
    pub fn start(path: &Path, writes: Arc<Mutex<()>>) -> Result<TrailWriter, EmulatorError> {
        let emulator = Emulator::open(path)?;
        let (sender, receiver) = channel();
        let thread = std::thread::Builder::new()
            .name("rolecall-trail".into())
            .spawn(move || write_until_closed(&emulator, &receiver, &writes))
            .map_err(|source| EmulatorError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(TrailWriter {
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues one event.
    pub fn record(&self, entry: TrailEntry) {
        let sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        let sent = match sender.as_ref() {
            Some(sender) => sender.send(entry).is_ok(),
            None => false,
        };
        if !sent {
            tracing::warn!("the audit trail is closed: an event is not recorded");
        }
    }

    /// Writes what is queued and stops the writer.
    pub fn close(&self) {
        drop(
            self.sender
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread
            && thread.join().is_err()
        {
            tracing::warn!("the audit trail's writer panicked");
        }
    }
}

impl Drop for TrailWriter {
    fn drop(&mut self) {
        self.close();
    }
}

fn write_until_closed(emulator: &Emulator, queue: &Receiver<TrailEntry>, writes: &Mutex<()>) {
    while let Ok(first) = queue.recv() {
        // Gathers what comes within LINGER of the first event: under load,
        // one transaction for many events instead of one each (on two
        // cores, a transaction per read cost a read through the endpoint
        // about a third of its time).
        let deadline = Instant::now() + LINGER;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            let left = deadline.saturating_duration_since(Instant::now());
            match queue.recv_timeout(left) {
                Ok(entry) => batch.push(entry),
                Err(_) => break,
            }
        }
        let _writing = writes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = emulator.record_events(&batch) {
            tracing::warn!(
                "the audit trail could not record {} event(s): {error}",
                batch.len()
            );
        }
    }
}
