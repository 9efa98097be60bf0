//! [`Pool`]: surf's h1 client, replaced as a whole when a connection may
//! have gone back to it in an unknown state, and [`Exchange`], one
//! request's hold on it.
//!
//! surf's h1 client returns a connection to its pool when the response is
//! dropped, whether or not the body was read to its end, and reuses it
//! without checking: a request abandoned mid-way (timed out, cancelled, over
//! the size cap) would leave the next request on that connection reading
//! the old response. So a request that ends without reading its response to
//! the end retires the whole pool, and new requests get a fresh one.
//! Requests in flight on the old pool finish on it, then its connections are
//! closed.
//!
//! Requests run on several threads at once, so two steps are guarded by the
//! pool's read-write lock: a request picks its pool and checks out its
//! connection in one step (the first poll of surf's send) under the read
//! lock, so checkouts still run side by side; an abandoned request retires
//! its pool under the write lock before its connection goes back to it. No
//! checkout can then find that connection: one that came before found it
//! still in use, and one that comes after uses the new pool.
//!
//! One case is left: a checkout that found every connection in use waits
//! inside surf's pool, and would be handed the connection an abandoned
//! request lets go of. So no request is let into surf's pool to wait: each
//! holds a permit of its origin's gate (as many permits as the pool allows
//! connections per host) from before its checkout until its connection is
//! back, and waits for that permit instead. A connection surf has in use
//! always holds a permit, so a checkout always finds a free connection or
//! room to open one.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll};

use async_lock::{Semaphore, SemaphoreGuardArc};
use futures_lite::io::AsyncBufRead;
use surf::http::url::Origin;

/// surf's send, boxed: it owns its client, so it can outlive a retirement.
type Sending = Pin<Box<dyn Future<Output = surf::Result<surf::Response>> + Send>>;

/// A response body being read: the connection is inside.
pub(crate) type Reader = Box<dyn AsyncBufRead + Unpin + Send + Sync>;

/// The connection pool of one [`Client`](crate::Client).
pub(crate) struct Pool {
    pub(crate) config: http_client::Config,
    current: RwLock<Generation>,
    /// One gate per origin, kept across generations: connections of a
    /// retired pool still in use hold their permits.
    gates: RwLock<HashMap<Origin, Arc<Semaphore>>>,
}

struct Generation {
    id: u64,
    client: Arc<surf::Client>,
    /// Origins this generation has sent to. surf's h1 client makes its
    /// per-address pool on the first request to an address, and two first
    /// requests at once can each make one (the second replacing the first,
    /// whose connections are then lost): a first request to an origin is
    /// sent under the write lock.
    origins: HashSet<Origin>,
}

impl Generation {
    fn new(id: u64, client: Arc<surf::Client>) -> Generation {
        Generation {
            id,
            client,
            origins: HashSet::new(),
        }
    }
}

impl Pool {
    pub(crate) fn new(config: http_client::Config) -> Pool {
        let client = Arc::new(surf_client(&config));
        Pool {
            config,
            current: RwLock::new(Generation::new(0, client)),
            gates: RwLock::new(HashMap::new()),
        }
    }

    /// The gate of `origin`, made on its first request.
    fn gate(&self, origin: &Origin) -> Arc<Semaphore> {
        let gates = self.gates.read().unwrap_or_else(|p| p.into_inner());
        if let Some(gate) = gates.get(origin) {
            return Arc::clone(gate);
        }
        drop(gates);
        let mut gates = self.gates.write().unwrap_or_else(|p| p.into_inner());
        let permits = self.config.max_connections_per_host;
        Arc::clone(
            gates
                .entry(origin.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(permits))),
        )
    }

    /// Shared by checkouts, which may run at once.
    fn read(&self) -> RwLockReadGuard<'_, Generation> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Exclusive: a retirement waits for checkouts in progress and holds
    /// off new ones.
    fn write(&self) -> RwLockWriteGuard<'_, Generation> {
        self.current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An exchange that sends `request` when first polled.
    pub(crate) fn exchange(&self, request: surf::Request) -> Exchange<'_> {
        Exchange {
            pool: self,
            id: None,
            request: Some(request),
            sending: None,
            body: None,
            done: false,
            permit: None,
        }
    }
}

fn surf_client(config: &http_client::Config) -> surf::Client {
    let h1 = match http_client::h1::H1Client::try_from(config.clone()) {
        Ok(h1) => h1,
        Err(never) => match never {},
    };
    // No middleware: redirects and timeouts are volley's.
    let config = surf::Config::new().set_timeout(None).set_http_client(h1);
    match surf::Client::try_from(config) {
        Ok(client) => client,
        Err(never) => match never {},
    }
}

/// One request's use of the pool. Dropped before [`Exchange::finish`], it
/// retires the pool it used.
pub(crate) struct Exchange<'a> {
    pool: &'a Pool,
    /// The generation of the pool used, once sent.
    id: Option<u64>,
    request: Option<surf::Request>,
    /// What holds the connection: surf's send, then the response's body.
    sending: Option<Sending>,
    body: Option<Reader>,
    done: bool,
    /// Held until the connection is back: declared after what holds it, so
    /// dropped after it.
    permit: Option<SemaphoreGuardArc>,
}

impl Exchange<'_> {
    /// Sends the request and waits for the response head. The body, with
    /// the connection in it, stays in the exchange (see [`Exchange::body`])
    /// so that abandoning the exchange always retires the pool first; the
    /// response comes back without it, with the body's declared length.
    pub(crate) async fn send(&mut self) -> surf::Result<(surf::Response, Option<usize>)> {
        if let Some(request) = &self.request {
            let gate = self.pool.gate(&request.url().origin());
            self.permit = Some(gate.acquire_arc().await);
        }
        std::future::poll_fn(|cx| self.poll_send(cx)).await
    }

    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<surf::Result<(surf::Response, Option<usize>)>> {
        let polled = if let Some(request) = self.request.take() {
            // Pick the pool and check out the connection in one step: under
            // the read lock, or the write lock for a first request to its
            // origin (see `Generation::origins`).
            let origin = request.url().origin();
            let current = self.pool.read();
            if current.origins.contains(&origin) {
                self.first_poll(&current, request, cx)
            } else {
                drop(current);
                let mut current = self.pool.write();
                let polled = self.first_poll(&current, request, cx);
                current.origins.insert(origin);
                polled
            }
        } else if let Some(sending) = &mut self.sending {
            sending.as_mut().poll(cx)
        } else {
            Poll::Ready(Err(surf::Error::from_str(
                surf::StatusCode::InternalServerError,
                "the request was already sent",
            )))
        };
        let Poll::Ready(result) = polled else {
            return Poll::Pending;
        };
        self.sending = None;
        Poll::Ready(result.map(|mut response| {
            let body = response.take_body();
            let declared = body.len();
            self.body = Some(body.into_reader());
            (response, declared)
        }))
    }

    /// Sends on the generation `current` and polls once.
    fn first_poll(
        &mut self,
        current: &Generation,
        request: surf::Request,
        cx: &mut Context<'_>,
    ) -> Poll<surf::Result<surf::Response>> {
        let client = Arc::clone(&current.client);
        self.id = Some(current.id);
        let sending = self
            .sending
            .insert(Box::pin(async move { client.send(request).await }));
        sending.as_mut().poll(cx)
    }

    /// The body of the response, once sent.
    pub(crate) fn body(&mut self) -> Option<&mut Reader> {
        self.body.as_mut()
    }

    /// The response was read to its end, or had no body, or no connection
    /// is left to reuse (none was made, or it is closed): the pool is fine.
    pub(crate) fn finish(mut self) {
        self.done = true;
    }
}

impl Drop for Exchange<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        if self.done {
            return;
        }
        // Retire the pool, then let the connection go back to it: both under
        // the lock under which checkouts happen.
        let mut current = self.pool.write();
        if current.id == id {
            *current = Generation::new(id + 1, Arc::new(surf_client(&self.pool.config)));
        }
        self.sending = None;
        self.body = None;
    }
}
