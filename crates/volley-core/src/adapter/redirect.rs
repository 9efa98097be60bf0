//! Following redirects the same way on every adapter: [`Redirects`] and
//! [`follow_redirects`].

use std::collections::HashSet;
use std::future::Future;

use http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION, PROXY_AUTHORIZATION,
};
use http::{Method, StatusCode, Uri};

use crate::adapter::connection_cap::ConnectionCap;
use crate::adapter::errors::is_too_many_open_files;
use crate::adapter::rules::{check_response_framing, check_scheme, strip_framing};
use crate::error::{Error, ErrorKind, Result};
use crate::request::Request;
use crate::response::Response;

/// How redirects are followed: up to a limit (default 10), loops refused,
/// credentials (`Authorization`, `Cookie`, `Proxy-Authorization`) dropped when
/// a redirect leaves the origin, and no https-to-http downgrade unless allowed.
///
/// ```
/// use volley_core::Redirects;
/// assert_eq!(Redirects::default().max(), 10);
/// assert_eq!(Redirects::none().max(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redirects {
    max: usize,
    allow_downgrade: bool,
}

impl Default for Redirects {
    fn default() -> Self {
        Redirects::limited(10)
    }
}

impl Redirects {
    /// Follow up to `max` redirects.
    pub fn limited(max: usize) -> Self {
        Redirects {
            max,
            allow_downgrade: false,
        }
    }

    /// Never follow: a 3xx response comes back as it is.
    pub fn none() -> Self {
        Redirects::limited(0)
    }

    /// Allow a redirect from https to http (off by default: it would send
    /// the request in clear text).
    #[must_use]
    pub fn allow_https_downgrade(mut self, allow: bool) -> Self {
        self.allow_downgrade = allow;
        self
    }

    /// The most redirects followed.
    pub fn max(&self) -> usize {
        self.max
    }
}

/// Sends `request` with `send`, following redirects by `policy`: adapters
/// call this with their one-shot send so every runtime behaves the same.
///
/// Before every hop, the URL's scheme is checked ([`check_scheme`]: only
/// `http` and `https` are sent) and the headers only the transport may
/// write are dropped ([`FRAMING_HEADERS`](crate::adapter::FRAMING_HEADERS)); after it,
/// a response whose framing is invalid ([`check_response_framing`]) is an
/// [`ErrorKind::Body`] error. With the client's `cap`, a hop whose connect
/// found the process out of file descriptors waits for another request of
/// the client to end and is sent again (nothing had been sent).
///
/// 301, 302 and 303 turn a non-GET/HEAD request into a body-less `GET`; 307
/// and 308 keep the method and body. With a policy of [`Redirects::none`]
/// the 3xx response is returned unchanged.
// Not an `async fn`, for the size of its future (see the body).
#[allow(clippy::manual_async_fn)]
pub fn follow_redirects<S, Fut>(
    policy: &Redirects,
    cap: Option<&ConnectionCap>,
    mut current: Request,
    mut send: S,
) -> impl Future<Output = Result<Response>>
where
    S: FnMut(Request) -> Fut,
    Fut: Future<Output = Result<Response>>,
{
    // A plain function around an `async` block, not an `async fn`: the
    // request is kept once in the future (an `async fn` keeps its
    // arguments, and a loop variable made of one, apart).
    async move {
        let mut visited: HashSet<Uri> = HashSet::new();
        let mut followed = 0usize;
        loop {
            // One await of `send` in the whole loop keeps this future small.
            // The rules of every hop: only http(s) leaves, and only the
            // transport frames the message.
            check_scheme(current.url())?;
            strip_framing(current.headers_mut());
            // A copy is sent; `current` stays for a redirect or a second try.
            let releases = cap.map_or(0, ConnectionCap::releases);
            let response = match send(current.clone()).await {
                Ok(response) => response,
                Err(e) => match cap {
                    // Out of descriptors before anything was sent, while other
                    // requests of this client hold some: wait for one to end.
                    Some(cap)
                        if e.kind() == ErrorKind::Connect
                            && is_too_many_open_files(&e)
                            && cap.wait_for_another(releases).await =>
                    {
                        continue;
                    }
                    _ => return Err(e),
                },
            };
            check_response_framing(response.status(), response.headers())
                .map_err(|e| e.with_url(response.url().clone()))?;
            if policy.max == 0 {
                return Ok(response);
            }
            let status = response.status();
            if !is_redirect(status) {
                return Ok(response);
            }
            let Some(location) = response.headers().get(LOCATION) else {
                return Ok(response);
            };
            if followed >= policy.max {
                return Err(Error::new(
                    ErrorKind::Redirect,
                    format!("more than {} redirects", policy.max),
                )
                .with_url(current.url().clone())
                .with_status(status));
            }
            followed += 1;
            let from = current.url().clone();
            let location = location.to_str().map_err(|e| {
                Error::new(ErrorKind::Redirect, "the Location header is not text")
                    .with_url(from.clone())
                    .with_source(e)
            })?;
            let next_url = resolve(&from, location)?;
            if from.scheme_str() == Some("https")
                && next_url.scheme_str() == Some("http")
                && !policy.allow_downgrade
            {
                return Err(Error::new(
                    ErrorKind::Redirect,
                    format!("refused to follow a redirect from https to http ({next_url})"),
                )
                .with_url(from));
            }
            visited.insert(from.clone());
            if visited.contains(&next_url) {
                return Err(Error::new(
                    ErrorKind::Redirect,
                    format!("redirect loop back to {next_url}"),
                )
                .with_url(from));
            }
            current = next_request(current, status, next_url)?;
        }
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Resolves a Location value against the URL that sent it.
fn resolve(base: &Uri, location: &str) -> Result<Uri> {
    let bad = |e: url::ParseError| {
        Error::new(
            ErrorKind::Redirect,
            format!("bad redirect location {location:?}"),
        )
        .with_url(base.clone())
        .with_source(e)
    };
    let base_url = url::Url::parse(&base.to_string()).map_err(bad)?;
    let next = base_url.join(location).map_err(bad)?;
    match next.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::new(
                ErrorKind::Redirect,
                format!("refused to follow a redirect to scheme {other:?}"),
            )
            .with_url(base.clone()));
        }
    }
    next.as_str().parse::<Uri>().map_err(|e| {
        Error::new(ErrorKind::Redirect, "bad redirect location")
            .with_url(base.clone())
            .with_source(e)
    })
}

fn origin(uri: &Uri) -> (Option<&str>, Option<&str>, Option<u16>) {
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("http") => Some(80),
        Some("https") => Some(443),
        _ => None,
    });
    (uri.scheme_str(), uri.host(), port)
}

fn next_request(previous: Request, status: StatusCode, url: Uri) -> Result<Request> {
    let same_origin = origin(previous.url()) == origin(&url);
    let mut next = previous;
    let change_to_get = match status.as_u16() {
        303 => *next.method() != Method::HEAD,
        301 | 302 => *next.method() == Method::POST,
        _ => false,
    };
    if change_to_get {
        let timeout = next.timeout();
        let attempt = next.attempt();
        let (_, _, mut headers, _) = next.into_parts();
        headers.remove(CONTENT_TYPE);
        headers.remove(CONTENT_LENGTH);
        let mut get = Request::get(url.to_string()).build()?;
        *get.headers_mut() = headers;
        get.set_timeout(timeout);
        get.set_attempt(attempt);
        next = get;
    } else {
        next.set_url(url);
    }
    if !same_origin {
        let headers = next.headers_mut();
        headers.remove(AUTHORIZATION);
        headers.remove(COOKIE);
        headers.remove(PROXY_AUTHORIZATION);
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use std::sync::Mutex;

    fn redirect(to: &str, status: u16) -> Response {
        let mut h = http::HeaderMap::new();
        h.insert(LOCATION, http::HeaderValue::from_str(to).unwrap());
        Response::new(
            StatusCode::from_u16(status).unwrap(),
            Uri::from_static("/"),
            "",
        )
        .with_headers(h)
    }

    #[test]
    fn drops_credentials_across_origins_and_keeps_them_within() {
        let seen = Mutex::new(Vec::new());
        let req = Request::get("http://a.test/start")
            .header("authorization", "Bearer s3cret")
            .header("cookie", "sid=1")
            .build()
            .unwrap();
        let out = block_on(follow_redirects(&Redirects::default(), None, req, |r| {
            let path = r.url().to_string();
            seen.lock().unwrap().push((
                path.clone(),
                r.headers().contains_key(AUTHORIZATION),
                r.headers().contains_key(COOKIE),
            ));
            async move {
                Ok(match path.as_str() {
                    "http://a.test/start" => redirect("/same", 302),
                    "http://a.test/same" => redirect("http://b.test/other", 307),
                    _ => Response::new(StatusCode::OK, r.url().clone(), "done"),
                })
            }
        }))
        .unwrap();
        assert_eq!(out.status(), StatusCode::OK);
        let seen = seen.into_inner().unwrap();
        assert_eq!(
            seen,
            vec![
                ("http://a.test/start".to_owned(), true, true),
                ("http://a.test/same".to_owned(), true, true),
                ("http://b.test/other".to_owned(), false, false),
            ]
        );
    }

    /// A GET of `https://a.test/x` under `policy`, each hop answered by `answer`.
    fn follow<Fut: Future<Output = Result<Response>>>(
        policy: Redirects,
        answer: impl FnMut(Request) -> Fut,
    ) -> Result<Response> {
        let req = Request::get("https://a.test/x").build().unwrap();
        block_on(follow_redirects(&policy, None, req, answer))
    }

    #[test]
    fn refuses_loops_limits_and_downgrades() {
        let err = follow(Redirects::default(), |_| async { Ok(redirect("/x", 302)) }).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Redirect);
        assert!(err.to_string().contains("loop"), "{err}");

        let n = Mutex::new(0);
        let err = follow(Redirects::limited(3), |_| {
            let mut n = n.lock().unwrap();
            *n += 1;
            let to = format!("/hop{n}");
            async move { Ok(redirect(&to, 302)) }
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Redirect);
        assert_eq!(*n.lock().unwrap(), 4);

        let err = follow(Redirects::default(), |_| async {
            Ok(redirect("http://a.test/plain", 301))
        })
        .unwrap_err();
        assert!(err.to_string().contains("https to http"), "{err}");

        let out = follow(Redirects::none(), |_| async { Ok(redirect("/y", 302)) }).unwrap();
        assert_eq!(out.status(), StatusCode::FOUND);
    }

    #[test]
    fn post_becomes_get_on_303_and_stays_on_307() {
        let methods = Mutex::new(Vec::new());
        let req = Request::post("http://a.test/p").json(&1).build().unwrap();
        block_on(follow_redirects(&Redirects::default(), None, req, |r| {
            methods
                .lock()
                .unwrap()
                .push((r.method().clone(), r.body().len()));
            let path = r.url().path().to_owned();
            async move {
                Ok(match path.as_str() {
                    "/p" => redirect("/q", 307),
                    "/q" => redirect("/r", 303),
                    _ => Response::new(StatusCode::OK, Uri::from_static("/r"), ""),
                })
            }
        }))
        .unwrap();
        assert_eq!(
            methods.into_inner().unwrap(),
            vec![(Method::POST, 1), (Method::POST, 1), (Method::GET, 0)]
        );
    }
}
