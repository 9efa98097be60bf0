//! [`exchange`]: the path of one request through an adapter.

use std::future::{Future, ready};
use std::time::Duration;

use futures::FutureExt;
use futures::future::Either;

use crate::error::Result;
use crate::redirect::{Redirects, follow_redirects};
use crate::request::{Defaults, Request};
use crate::response::Response;
use crate::timeout::with_timeout;
use crate::timer::Timer;

/// One request the way every adapter sends it: `defaults` applied,
/// redirects followed as `redirects` says (each hop sent by `send_once`,
/// which is also told how long the whole exchange may take), all within the
/// request's own timeout or else `timeout`, on `timer`. An error that names
/// no URL gets the request's.
///
/// ```
/// use std::time::Duration;
/// use volley_core::testing::{ManualTimer, run};
/// use volley_core::{Defaults, ErrorKind, Redirects, Request, exchange};
///
/// let timer = ManualTimer::new();
/// let defaults = Defaults::default();
/// let request = Request::get("http://127.0.0.1:9/slow").build()?;
/// let out = run(&timer, exchange(&defaults, &Redirects::default(), &timer,
///     Duration::from_secs(2), request, |_hop, _limit| std::future::pending()))
///     .expect("the fake clock ends the wait");
/// let err = out.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// assert_eq!(err.url().map(|u| u.to_string()).as_deref(), Some("http://127.0.0.1:9/slow"));
/// # Ok::<(), volley_core::Error>(())
/// ```
pub fn exchange<S, Fut>(
    defaults: &Defaults,
    redirects: &Redirects,
    timer: &dyn Timer,
    timeout: Duration,
    request: Request,
    mut send_once: S,
) -> impl Future<Output = Result<Response>>
where
    S: FnMut(Request, Duration) -> Fut,
    Fut: Future<Output = Result<Response>>,
{
    // A plain function building the future, not an `async fn`: the request
    // is not kept a second time inside it.
    let request = match defaults.apply(request) {
        Ok(request) => request,
        Err(e) => return Either::Left(ready(Err(e))),
    };
    let url = request.url().clone();
    let limit = request.timeout().unwrap_or(timeout);
    let sent = with_timeout(
        timer,
        Some(limit),
        follow_redirects(redirects, request, move |hop| send_once(hop, limit)),
    );
    Either::Right(sent.map(move |out| {
        out.map_err(|e| {
            if e.url().is_none() {
                e.with_url(url)
            } else {
                e
            }
        })
    }))
}
