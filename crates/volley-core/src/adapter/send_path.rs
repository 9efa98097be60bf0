//! [`SendPath`]: the path of one request through an adapter.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use futures::FutureExt;
use futures::future::{self, Either};

use crate::adapter::body::BodyRules;
use crate::adapter::config::ClientConfig;
use crate::adapter::connection_cap::ConnectionCap;
use crate::adapter::redirect::{Redirects, follow_redirects};
use crate::error::Result;
use crate::layer::timeout::with_timeout;
use crate::request::{Defaults, Request};
use crate::response::Response;
use crate::rt::SharedTimer;

/// What every adapter does around its one-shot send, the same on every
/// runtime: room on the wire taken from the client's [`ConnectionCap`]
/// (waiting, outside the timeout, while the cap is reached), the client's
/// [`Defaults`] applied, the rules of every hop checked (only http and https
/// are sent, framing headers are the transport's; see [`follow_redirects`]),
/// redirects followed by its [`Redirects`] policy, all within the request's
/// own timeout or else the client's, on the adapter's timer. An adapter
/// keeps one and calls [`SendPath::send`] for every request.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use volley_core::testing::{ManualTimer, run};
/// use volley_core::{ErrorKind, Request, adapter::{ClientConfig, SendPath}};
///
/// let timer = ManualTimer::new();
/// let mut config = ClientConfig::default();
/// config.timeout = Duration::from_secs(2);
/// let path = SendPath::new(&config, Arc::new(timer.clone()))?;
/// let request = Request::get("http://127.0.0.1:9/slow").build()?;
/// let out = run(&timer, path.send(request, |_hop, _limit| std::future::pending()))
///     .expect("the fake clock ends the wait");
/// let err = out.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// assert_eq!(err.url().map(|u| u.to_string()).as_deref(), Some("http://127.0.0.1:9/slow"));
/// # Ok::<(), volley_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SendPath {
    cap: ConnectionCap,
    defaults: Defaults,
    redirects: Redirects,
    timeout: Duration,
    timer: SharedTimer,
}

impl fmt::Debug for SendPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendPath")
            .field("defaults", &self.defaults)
            .field("redirects", &self.redirects)
            .field("timeout", &self.timeout)
            .field("cap", &self.cap.size())
            .finish_non_exhaustive()
    }
}

impl SendPath {
    /// The path of a client built from `config`, timed on `timer`; an
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) for a
    /// bad base URL, header or user agent (see [`ClientConfig::defaults`]).
    pub fn new(config: &ClientConfig, timer: SharedTimer) -> Result<SendPath> {
        Ok(SendPath {
            cap: ConnectionCap::new(config.connection_cap()),
            defaults: config.defaults()?,
            redirects: config.redirects,
            timeout: config.timeout,
            timer,
        })
    }

    /// The cap on requests on the wire at once.
    pub fn cap(&self) -> &ConnectionCap {
        &self.cap
    }

    /// The adapter's timer.
    pub fn timer(&self) -> &SharedTimer {
        &self.timer
    }

    /// The start of an adapter's `Debug` for its client, the same on every
    /// adapter: `Client { base_url, timeout, redirects, body`, to which the
    /// adapter adds its own fields before it finishes.
    ///
    /// ```
    /// use std::fmt;
    /// use std::sync::Arc;
    /// use volley_core::testing::ManualTimer;
    /// use volley_core::adapter::{BodyRules, ClientConfig, SendPath};
    ///
    /// struct Client { path: SendPath, body: BodyRules }
    /// impl fmt::Debug for Client {
    ///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    ///         self.path.debug_client(f, &self.body).finish_non_exhaustive()
    ///     }
    /// }
    /// let config = ClientConfig::default();
    /// let client = Client {
    ///     path: SendPath::new(&config, Arc::new(ManualTimer::new()))?,
    ///     body: config.body_rules(),
    /// };
    /// assert!(format!("{client:?}").starts_with("Client { base_url: None, timeout: 30s"));
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn debug_client<'a, 'b>(
        &self,
        f: &'a mut fmt::Formatter<'b>,
        body: &BodyRules,
    ) -> fmt::DebugStruct<'a, 'b> {
        let mut client = f.debug_struct("Client");
        client
            .field("base_url", &self.defaults.base())
            .field("timeout", &self.timeout)
            .field("redirects", &self.redirects)
            .field("body", body);
        client
    }

    /// Sends `request`: room on the wire taken, defaults applied, each hop
    /// sent by `send_once` (which is also told how much of the request's
    /// time is left for it), within the time it has. An error that names no
    /// URL gets the request's.
    pub fn send<S, Fut>(
        &self,
        request: Request,
        mut send_once: S,
    ) -> impl Future<Output = Result<Response>>
    where
        S: FnMut(Request, Duration) -> Fut,
        Fut: Future<Output = Result<Response>>,
    {
        // A plain function building the future, not an `async fn`, and the
        // exchange made of combinators, not an `async` block: the request
        // is kept once in the future, not again as the argument of an
        // `async` block and the local it is moved to.
        let limit = request.timeout().unwrap_or(self.timeout);
        let timer = &self.timer;
        let (redirects, cap, defaults) = (&self.redirects, &self.cap, &self.defaults);
        // A request waiting for room is only its request and this closure:
        // the defaults are applied, and the exchange's future, with every
        // state it may pass through, is allocated once the room is there,
        // so 50,000 requests handed over at once cost memory for those on
        // the wire, not for all of them.
        self.cap.acquire().then(move |permit| {
            let exchange = match defaults.apply(request) {
                Err(e) => Either::Left(future::ready(Err(e))),
                Ok(request) => {
                    let url = request.url().clone();
                    let started = timer.now();
                    let hops = follow_redirects(redirects, Some(cap), request, move |hop| {
                        // What is left of the request's time for this hop.
                        send_once(hop, limit.saturating_sub(timer.now() - started))
                    });
                    Either::Right(with_timeout(&**timer, Some(limit), hops).map(move |out| {
                        drop(permit);
                        out.map_err(|e| e.or_url(url))
                    }))
                }
            };
            Box::pin(exchange)
        })
    }
}
