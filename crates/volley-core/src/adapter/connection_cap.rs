//! [`ConnectionCap`]: the most requests a client has on the wire at once,
//! so that it never opens more connections than the process can.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use async_lock::{Semaphore, SemaphoreGuardArc};
use event_listener::Event;

/// Descriptors left for everything else the process opens (its runtime,
/// name lookups, files, a server in the same process): an eighth of the
/// limit, and at least this many.
const MIN_HEADROOM: usize = 64;

/// A cap that never binds.
const UNLIMITED: usize = usize::MAX >> 1;

/// The cap of a client that was given no pool size: what the process may
/// open, less headroom, when the descriptor limit is known; unlimited
/// otherwise.
///
/// The limit is read as it is after
/// [`reserve_descriptors`](crate::adapter::reserve_descriptors), which every
/// adapter's builder calls first and which raises the soft limit to the hard
/// one. Under `ulimit -n 4096` this is 3,584.
///
/// ```
/// let cap = volley_core::adapter::default_connection_cap();
/// assert!(cap >= 1);
/// ```
pub fn default_connection_cap() -> usize {
    match crate::adapter::descriptors::open_files_limit() {
        Some(limit) => {
            let headroom = (limit / 8).max(MIN_HEADROOM);
            limit.saturating_sub(headroom).max(1)
        }
        None => UNLIMITED,
    }
}

/// How many requests of one client may be on the wire at once, across all
/// hosts: one connection each at most. A request past the cap waits for
/// one to finish instead of failing with "too many open files"; the wait
/// does not count against its timeout. Clones share the cap.
///
/// The cap counts requests, not connections: on HTTP/1.1 they are the
/// same, one request to a connection at a time. On HTTP/2 many requests
/// share one connection, so the cap is looser than the descriptors it
/// guards, never tighter than the client's pool: with
/// [`http2_prior_knowledge`](crate::ClientBuilder::http2_prior_knowledge)
/// it is the process's [`default_connection_cap`] whatever the pool size
/// (see [`ClientConfig::connection_cap`](crate::adapter::ClientConfig::connection_cap)),
/// and a pool size bounds the connections the adapter opens.
///
/// A client's pool may still hold more descriptors than requests (idle
/// connections, a connect raced against an idle one coming back): a request
/// whose connect finds the process out of descriptors, while others of the
/// client are in flight, waits for one of them to end and tries again
/// ([`ConnectionCap::wait_for_another`]; nothing had been sent).
///
/// Every adapter holds one, sized by
/// [`ClientConfig::connection_cap`](crate::adapter::ClientConfig::connection_cap):
/// the pool size when one was set, else [`default_connection_cap`].
///
/// ```
/// use volley_core::adapter::ConnectionCap;
/// # futures::executor::block_on(async {
/// let cap = ConnectionCap::new(1);
/// let first = cap.acquire().await;
/// assert!(cap.try_acquire().is_none()); // the second waits
/// drop(first);
/// assert!(cap.try_acquire().is_some());
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct ConnectionCap {
    permits: Arc<Semaphore>,
    size: usize,
    shared: Arc<Shared>,
}

/// What a cap's permits tell it as they are given back.
#[derive(Debug, Default)]
struct Shared {
    /// Told each time a request gives its room back.
    released: Event,
    /// Requests holding room that wait for another to end (not on the wire).
    starved: AtomicUsize,
    /// How many times room was given back, ever.
    releases: AtomicU64,
}

impl ConnectionCap {
    /// A cap of `size` requests at once (at least 1).
    pub fn new(size: usize) -> ConnectionCap {
        let size = size.clamp(1, UNLIMITED);
        ConnectionCap {
            permits: Arc::new(Semaphore::new(size)),
            size,
            shared: Arc::new(Shared::default()),
        }
    }

    /// The cap.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Waits for room on the wire; the room is given back when the guard
    /// drops.
    pub async fn acquire(&self) -> ConnectionPermit {
        self.permit(self.permits.acquire_arc().await)
    }

    /// Room on the wire now, if there is some.
    pub fn try_acquire(&self) -> Option<ConnectionPermit> {
        self.permits
            .try_acquire_arc()
            .map(|guard| self.permit(guard))
    }

    /// Blocks the thread until there is room on the wire (for synchronous
    /// clients).
    pub fn acquire_blocking(&self) -> ConnectionPermit {
        self.permit(self.permits.acquire_arc_blocking())
    }

    fn permit(&self, guard: SemaphoreGuardArc) -> ConnectionPermit {
        ConnectionPermit {
            _guard: guard,
            shared: Arc::clone(&self.shared),
        }
    }

    /// How many requests hold room now.
    pub fn in_use(&self) -> usize {
        self.size.saturating_sub(self.permits.available_permits())
    }

    /// How many times a request has given its room back so far: read before
    /// a send, handed to [`wait_for_another`](Self::wait_for_another) after
    /// it.
    pub fn releases(&self) -> u64 {
        self.shared.releases.load(Ordering::SeqCst)
    }

    /// For a request that holds room and found the process out of file
    /// descriptors (nothing was sent), `releases` having been
    /// [`releases`](Self::releases) when it started: waits until another
    /// request of this client gives its room back (and with it, most
    /// likely, a connection to reuse or a descriptor), at once if one did
    /// since, and returns true; returns false at once when no other request
    /// is on the wire, so that there is nothing to wait for.
    pub async fn wait_for_another(&self, releases: u64) -> bool {
        let listener = self.shared.released.listen();
        // Counted before `releases` is read again, so that a permit given
        // back meanwhile either shows in `releases` or sees this waiter and
        // notifies it. Uncounted when this returns or is dropped (a timeout).
        let waiting = Starved::count(&self.shared);
        if self.releases() != releases {
            return true;
        }
        // Requests that hold room but wait, like this one, are not on the
        // wire and free nothing.
        let on_the_wire = self.in_use().saturating_sub(waiting.now);
        if on_the_wire == 0 {
            drop(waiting);
            // Wake another waiter, which may now find itself alone too.
            self.shared.released.notify_additional(1);
            return false;
        }
        listener.await;
        true
    }
}

/// One waiter counted in [`Shared::starved`] while it lives.
struct Starved<'a> {
    shared: &'a Shared,
    /// How many waited, this one included, when it was counted.
    now: usize,
}

impl<'a> Starved<'a> {
    fn count(shared: &'a Shared) -> Starved<'a> {
        let now = shared.starved.fetch_add(1, Ordering::SeqCst) + 1;
        Starved { shared, now }
    }
}

impl Drop for Starved<'_> {
    fn drop(&mut self) {
        self.shared.starved.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One request's room on the wire under a [`ConnectionCap`], given back
/// when dropped.
#[must_use = "the room is given back as soon as the permit is dropped"]
pub struct ConnectionPermit {
    _guard: SemaphoreGuardArc,
    shared: Arc<Shared>,
}

impl fmt::Debug for ConnectionPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionPermit").finish_non_exhaustive()
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.shared.releases.fetch_add(1, Ordering::SeqCst);
        // Only a request that found no descriptor waits for this; most of
        // the time none does, and the event is left alone.
        if self.shared.starved.load(Ordering::SeqCst) > 0 {
            self.shared.released.notify_additional(1);
        }
    }
}
