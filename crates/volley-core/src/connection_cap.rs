//! [`ConnectionCap`]: the most requests a client has on the wire at once,
//! so that it never opens more connections than the process can.

use std::fmt;
use std::sync::Arc;

use async_lock::{Semaphore, SemaphoreGuardArc};

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
/// [`reserve_descriptors`](crate::reserve_descriptors), which every
/// adapter's builder calls first and which raises the soft limit to the hard
/// one. Under `ulimit -n 4096` this is 3,584.
///
/// ```
/// let cap = volley_core::default_connection_cap();
/// assert!(cap >= 1);
/// ```
pub fn default_connection_cap() -> usize {
    match crate::descriptors::open_files_limit() {
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
/// Every adapter holds one, sized by
/// [`ClientConfig::connection_cap`](crate::ClientConfig::connection_cap):
/// the pool size when one was set, else [`default_connection_cap`].
///
/// ```
/// use volley_core::ConnectionCap;
/// # futures::executor::block_on(async {
/// let cap = ConnectionCap::new(1);
/// let first = cap.acquire().await;
/// assert!(cap.try_acquire().is_none()); // the second waits
/// drop(first);
/// assert!(cap.try_acquire().is_some());
/// # });
/// ```
#[derive(Clone)]
pub struct ConnectionCap {
    permits: Arc<Semaphore>,
    size: usize,
}

impl fmt::Debug for ConnectionCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionCap")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl ConnectionCap {
    /// A cap of `size` requests at once (at least 1).
    pub fn new(size: usize) -> ConnectionCap {
        let size = size.clamp(1, UNLIMITED);
        ConnectionCap {
            permits: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// The cap.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Waits for room on the wire; the room is given back when the guard
    /// drops.
    pub async fn acquire(&self) -> ConnectionPermit {
        ConnectionPermit(self.permits.acquire_arc().await)
    }

    /// Room on the wire now, if there is some.
    pub fn try_acquire(&self) -> Option<ConnectionPermit> {
        self.permits.try_acquire_arc().map(ConnectionPermit)
    }

    /// Blocks the thread until there is room on the wire (for synchronous
    /// clients).
    pub fn acquire_blocking(&self) -> ConnectionPermit {
        ConnectionPermit(self.permits.acquire_arc_blocking())
    }
}

/// One request's room on the wire under a [`ConnectionCap`], given back
/// when dropped.
#[derive(Debug)]
#[must_use = "the room is given back as soon as the permit is dropped"]
pub struct ConnectionPermit(#[allow(dead_code)] SemaphoreGuardArc);
