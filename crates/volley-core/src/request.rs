//! Requests and their builder.

use std::fmt::Display;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderName, HeaderValue, PROXY_AUTHORIZATION,
};
use http::{Extensions, HeaderMap, Method, Uri};
use serde::Serialize;

use crate::adapter::rules::{
    check_scheme, framing_header_refused, is_framing_header, strip_framing,
};
use crate::error::{Error, ErrorKind, Result};

/// One HTTP request: method, URL, headers, body and an optional timeout.
///
/// The URL is either absolute (`http://host/path`) or a path (`/users/1`)
/// that the fetcher resolves against its base URL (see [`Defaults`]).
/// Requests are checked when built, so a bad URL, scheme, method or header
/// value is an [`ErrorKind::InvalidRequest`] and is never sent.
///
/// ```
/// use volley_core::Request;
/// let req = Request::get("/users/1")
///     .query(&[("expand", "company")])
///     .header("accept", "application/json")
///     .build()?;
/// assert_eq!(req.url().to_string(), "/users/1?expand=company");
/// # Ok::<(), volley_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: Uri,
    headers: HeaderMap,
    body: Bytes,
    timeout: Option<Duration>,
    attempt: u32,
    extensions: Extensions,
    /// Where the request's time went, shared by its clones (one per
    /// attempt); made by the layers that report it. A field of its own, not
    /// an extension: every request of a batch handed over at once carries
    /// one, so it costs one small allocation, not a map.
    pub(crate) waits: Option<std::sync::Arc<crate::layer::waits::WaitLog>>,
}

impl Request {
    /// A builder for a request with any method.
    ///
    /// ```
    /// use volley_core::Request;
    /// let req = Request::builder("PATCH", "http://127.0.0.1/posts/1").build()?;
    /// assert_eq!(req.method(), "PATCH");
    /// assert!(Request::builder("GE T", "/").build().is_err());
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn builder<M>(method: M, url: impl AsRef<str>) -> RequestBuilder
    where
        M: TryInto<Method>,
        M::Error: Into<Error>,
    {
        let inner = method
            .try_into()
            .map_err(Into::into)
            .and_then(|m| Ok((m, parse_url(url.as_ref())?)))
            .map(|(method, url)| Request {
                method,
                url,
                headers: HeaderMap::new(),
                body: Bytes::new(),
                timeout: None,
                attempt: 1,
                extensions: Extensions::new(),
                waits: None,
            });
        RequestBuilder { inner }
    }

    /// A `GET` request builder.
    pub fn get(url: impl AsRef<str>) -> RequestBuilder {
        Request::builder(Method::GET, url)
    }

    /// A `POST` request builder.
    pub fn post(url: impl AsRef<str>) -> RequestBuilder {
        Request::builder(Method::POST, url)
    }

    /// A `PUT` request builder.
    pub fn put(url: impl AsRef<str>) -> RequestBuilder {
        Request::builder(Method::PUT, url)
    }

    /// A `PATCH` request builder.
    pub fn patch(url: impl AsRef<str>) -> RequestBuilder {
        Request::builder(Method::PATCH, url)
    }

    /// A `DELETE` request builder.
    pub fn delete(url: impl AsRef<str>) -> RequestBuilder {
        Request::builder(Method::DELETE, url)
    }

    /// A `HEAD` request builder.
    pub fn head(url: impl AsRef<str>) -> RequestBuilder {
        Request::builder(Method::HEAD, url)
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL, absolute or a path to resolve against a base URL.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The headers, to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body (empty when none was set).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The timeout of this request alone, if one was set.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets the timeout of this request alone.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Which attempt at this request this is, from 1 (set by the
    /// [`Retry`](crate::layer::Retry) layer, read by observers).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Sets the attempt number (the retry layer does this).
    pub fn set_attempt(&mut self, attempt: u32) {
        self.attempt = attempt;
    }

    /// Replaces the URL. It is checked when sent: a URL whose scheme is not
    /// `http` or `https` is then an [`ErrorKind::InvalidRequest`] and
    /// nothing is opened.
    pub fn set_url(&mut self, url: Uri) {
        self.url = url;
    }

    /// True when the method is idempotent (GET, HEAD, PUT, DELETE, OPTIONS,
    /// TRACE): safe to send again after a failure.
    pub fn is_idempotent(&self) -> bool {
        matches!(
            self.method,
            Method::GET
                | Method::HEAD
                | Method::PUT
                | Method::DELETE
                | Method::OPTIONS
                | Method::TRACE
        )
    }

    /// Typed values that travel with the request through the layers (as in
    /// [`http::Request::extensions`]); they are never sent. Clones of a
    /// request (one per attempt) carry clones of them.
    ///
    /// ```
    /// use volley_core::Request;
    /// #[derive(Clone, Debug, PartialEq)]
    /// struct Tenant(&'static str);
    /// let mut req = Request::get("/users/1").build()?;
    /// req.extensions_mut().insert(Tenant("acme"));
    /// assert_eq!(req.clone().extensions().get::<Tenant>(), Some(&Tenant("acme")));
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The request's extensions, to add or change one.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    /// Splits the request into its parts, for adapters.
    pub fn into_parts(self) -> (Method, Uri, HeaderMap, Bytes) {
        (self.method, self.url, self.headers, self.body)
    }
}

/// Builds a [`Request`]; the first mistake is kept and returned by [`build`](RequestBuilder::build).
#[derive(Debug)]
#[must_use = "a builder does nothing until .build() is called"]
pub struct RequestBuilder {
    inner: Result<Request>,
}

impl RequestBuilder {
    fn map(mut self, f: impl FnOnce(&mut Request) -> Result<()>) -> Self {
        if let Ok(req) = &mut self.inner {
            if let Err(e) = f(req) {
                self.inner = Err(e);
            }
        }
        self
    }

    /// Adds a header. Values with CR, LF or other control characters are
    /// refused, and so are the headers that frame the message
    /// ([`FRAMING_HEADERS`](crate::adapter::FRAMING_HEADERS): `Content-Length`,
    /// `Transfer-Encoding`, `Connection`, ...), which the client writes itself.
    /// The values of `Authorization`, `Proxy-Authorization` and `Cookie` are
    /// marked sensitive, so `Debug` output shows `Sensitive` instead.
    ///
    /// ```
    /// use volley_core::{ErrorKind, Request};
    /// let err = Request::post("/p").header("content-length", "1").build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    /// ```
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: Into<Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<Error>,
    {
        self.map(|req| {
            let name = name.try_into().map_err(Into::into)?;
            if is_framing_header(&name) {
                return Err(framing_header_refused(&name));
            }
            let mut value = value.try_into().map_err(Into::into)?;
            mark_credentials(&name, &mut value);
            req.headers.append(name, value);
            Ok(())
        })
    }

    /// Appends query parameters, percent-encoded.
    ///
    /// ```
    /// use volley_core::Request;
    /// let req = Request::get("http://127.0.0.1/search?x=1").query(&[("q", "a b&c")]).build()?;
    /// assert_eq!(req.url().query(), Some("x=1&q=a+b%26c"));
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn query<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self {
        self.map(|req| {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs {
                ser.append_pair(k.as_ref(), v.as_ref());
            }
            let added = ser.finish();
            if added.is_empty() {
                return Ok(());
            }
            let current = req.url.to_string();
            let (base, fragment) = match current.split_once('#') {
                Some((b, f)) => (b, Some(f)),
                None => (current.as_str(), None),
            };
            let sep = if req.url.query().is_some_and(|q| !q.is_empty()) {
                "&"
            } else if base.ends_with('?') {
                ""
            } else {
                "?"
            };
            let mut s = format!("{base}{sep}{added}");
            if let Some(f) = fragment {
                s.push('#');
                s.push_str(f);
            }
            req.url = parse_url(&s)?;
            Ok(())
        })
    }

    /// Sets a JSON body and `content-type: application/json`.
    ///
    /// ```
    /// use volley_core::Request;
    /// let req = Request::post("/posts").json(&serde_json::json!({"title": "hi"})).build()?;
    /// assert_eq!(&req.body()[..], br#"{"title":"hi"}"#);
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value);
        self.serialized_body(
            body,
            "application/json",
            "the JSON body could not be serialised",
        )
    }

    /// Sets a form body (`application/x-www-form-urlencoded`, as an HTML
    /// form posts it) from anything serde serialises as a flat list of
    /// pairs: a slice of tuples, a map, a struct of plain fields. Its
    /// `content-type` is set too. A value that is not flat (a nested
    /// struct) is an [`ErrorKind::InvalidRequest`].
    ///
    /// ```
    /// use volley_core::Request;
    /// let req = Request::post("/login").form(&[("user", "ada"), ("note", "a b&c")]).build()?;
    /// assert_eq!(&req.body()[..], b"user=ada&note=a+b%26c");
    /// assert_eq!(req.headers()["content-type"], "application/x-www-form-urlencoded");
    ///
    /// #[derive(serde::Serialize)]
    /// struct Search { q: &'static str, page: u32 }
    /// let req = Request::post("/search").form(&Search { q: "rust", page: 2 }).build()?;
    /// assert_eq!(&req.body()[..], b"q=rust&page=2");
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn form<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_urlencoded::to_string(value).map(String::into_bytes);
        self.serialized_body(
            body,
            "application/x-www-form-urlencoded",
            "the form body could not be serialised (it must be a flat list of pairs)",
        )
    }

    /// The body `serialized` (or an [`ErrorKind::InvalidRequest`] saying
    /// `failure`, from its error) with its `content_type`.
    fn serialized_body<E: std::error::Error + Send + Sync + 'static>(
        self,
        serialized: std::result::Result<Vec<u8>, E>,
        content_type: &'static str,
        failure: &'static str,
    ) -> Self {
        self.map(|req| {
            let body = serialized
                .map_err(|e| Error::new(ErrorKind::InvalidRequest, failure).with_source(e))?;
            req.body = Bytes::from(body);
            req.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            Ok(())
        })
    }

    /// Sets `Authorization: Bearer <token>`, replacing any `Authorization`
    /// set before, with the value marked sensitive: `Debug` output of the
    /// request (and of its headers) shows `Sensitive`, never the token, and
    /// no volley error or trace prints a header. A token with CR, LF or
    /// other control characters is an [`ErrorKind::InvalidRequest`].
    ///
    /// ```
    /// use volley_core::Request;
    /// let req = Request::get("/me").bearer_auth("s3cr3t-token").build()?;
    /// assert_eq!(req.headers()["authorization"], "Bearer s3cr3t-token");
    /// assert!(req.headers()["authorization"].is_sensitive());
    /// assert!(!format!("{req:?}").contains("s3cr3t"));
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn bearer_auth<T: Display>(self, token: T) -> Self {
        self.map(|req| set_authorization(req, format!("Bearer {token}")))
    }

    /// Sets `Authorization: Basic <base64 of user:password>` (RFC 7617),
    /// replacing any `Authorization` set before, with the value marked
    /// sensitive as for [`bearer_auth`](RequestBuilder::bearer_auth).
    /// Without a password, `user:` is encoded (as curl and reqwest do).
    ///
    /// ```
    /// use volley_core::Request;
    /// let req = Request::get("/admin").basic_auth("ada", Some("open sesame")).build()?;
    /// assert_eq!(req.headers()["authorization"], "Basic YWRhOm9wZW4gc2VzYW1l");
    /// assert!(!format!("{req:?}").contains("YWRh"));
    /// let req = Request::get("/admin").basic_auth("ada", None::<&str>).build()?;
    /// assert_eq!(req.headers()["authorization"], "Basic YWRhOg==");
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn basic_auth<U: Display, P: Display>(self, user: U, password: Option<P>) -> Self {
        self.map(|req| {
            let pair = match password {
                Some(password) => format!("{user}:{password}"),
                None => format!("{user}:"),
            };
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            set_authorization(req, format!("Basic {encoded}"))
        })
    }

    /// Sets a raw body.
    pub fn body(self, body: impl Into<Bytes>) -> Self {
        self.map(|req| {
            req.body = body.into();
            Ok(())
        })
    }

    /// Sets a timeout for this request alone (it overrides the fetcher's).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|req| {
            req.timeout = Some(timeout);
            Ok(())
        })
    }

    /// The request, or the first mistake made while building it.
    pub fn build(self) -> Result<Request> {
        self.inner
    }
}

/// Sets `Authorization` to `value`, marked sensitive.
fn set_authorization(req: &mut Request, value: String) -> Result<()> {
    let mut value = HeaderValue::try_from(value).map_err(|e| {
        // Not the value itself: it holds the credentials.
        Error::new(
            ErrorKind::InvalidRequest,
            "the credentials are not a valid header value (control characters?)",
        )
        .with_source(e)
    })?;
    value.set_sensitive(true);
    req.headers.insert(AUTHORIZATION, value);
    Ok(())
}

/// Marks the value of a header that carries credentials sensitive.
fn mark_credentials(name: &HeaderName, value: &mut HeaderValue) {
    if *name == AUTHORIZATION || *name == PROXY_AUTHORIZATION || *name == COOKIE {
        value.set_sensitive(true);
    }
}

/// Parses and checks a URL: absolute `http`/`https` with a host, or a path.
fn parse_url(s: &str) -> Result<Uri> {
    let uri: Uri = s.parse().map_err(|e: http::uri::InvalidUri| {
        Error::new(ErrorKind::InvalidRequest, format!("bad URL {s:?}")).with_source(e)
    })?;
    check_uri(&uri)?;
    Ok(uri)
}

fn check_uri(uri: &Uri) -> Result<()> {
    match uri.scheme_str() {
        None if uri.authority().is_none() && uri.path().starts_with('/') => Ok(()),
        None => Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("bad URL {uri:?}: give an absolute http(s) URL or a path starting with '/'"),
        )),
        Some(_) => check_scheme(uri),
    }
}

/// What a fetcher adds to every request: a base URL for relative paths and
/// default headers (a request's own headers win).
///
/// Adapters hold one of these and call [`Defaults::apply`] before sending.
///
/// ```
/// use volley_core::{Request, adapter::Defaults};
/// let defaults = Defaults::new()
///     .base_url("http://127.0.0.1:8080/api")?
///     .header("x-api-key", "secret")?;
/// let req = defaults.apply(Request::get("/users/1").build()?)?;
/// assert_eq!(req.url().to_string(), "http://127.0.0.1:8080/api/users/1");
/// assert_eq!(req.headers()["x-api-key"], "secret");
/// # Ok::<(), volley_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    base: Option<String>,
    headers: HeaderMap,
}

impl Defaults {
    /// No base URL and no headers.
    pub fn new() -> Self {
        Defaults::default()
    }

    /// Sets the base URL that paths are appended to (`http(s)://host[:port][/prefix]`).
    pub fn base_url(mut self, base: &str) -> Result<Self> {
        let uri = parse_url(base)?;
        if uri.scheme().is_none() {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!("base URL {base:?} must be absolute (http:// or https://)"),
            ));
        }
        if uri.query().is_some() {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!("base URL {base:?} must not have a query"),
            ));
        }
        self.base = Some(uri.to_string().trim_end_matches('/').to_owned());
        Ok(self)
    }

    /// Adds a default header; a header that frames the message
    /// ([`FRAMING_HEADERS`](crate::adapter::FRAMING_HEADERS)) is an
    /// [`ErrorKind::InvalidRequest`]. Credentials (`Authorization`,
    /// `Proxy-Authorization`, `Cookie`) are marked sensitive, as by
    /// [`RequestBuilder::header`].
    pub fn header<K, V>(mut self, name: K, value: V) -> Result<Self>
    where
        K: TryInto<HeaderName>,
        K::Error: Into<Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<Error>,
    {
        let name = name.try_into().map_err(Into::into)?;
        if is_framing_header(&name) {
            return Err(framing_header_refused(&name));
        }
        let mut value = value.try_into().map_err(Into::into)?;
        mark_credentials(&name, &mut value);
        self.headers.append(name, value);
        Ok(self)
    }

    /// Adds every header of `headers`, less those that frame the message
    /// ([`FRAMING_HEADERS`](crate::adapter::FRAMING_HEADERS)), which are dropped.
    pub fn headers(mut self, mut headers: HeaderMap) -> Self {
        strip_framing(&mut headers);
        for (name, value) in &headers {
            let mut value = value.clone();
            mark_credentials(name, &mut value);
            self.headers.append(name.clone(), value);
        }
        self
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> Option<&str> {
        self.base.as_deref()
    }

    /// The default headers.
    pub fn default_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Resolves the URL against the base and adds the default headers that
    /// the request does not set itself.
    pub fn apply(&self, mut req: Request) -> Result<Request> {
        if req.url.scheme().is_none() {
            let Some(base) = &self.base else {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "relative URL {} but no base URL is set on the fetcher",
                        req.url
                    ),
                ));
            };
            let full = format!("{base}{}", req.url);
            req.url = parse_url(&full)?;
        }
        for name in self.headers.keys() {
            if !req.headers.contains_key(name) {
                for value in self.headers.get_all(name) {
                    req.headers.append(name.clone(), value.clone());
                }
            }
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_input_at_build_time() {
        let kind = |r: Result<Request>| r.map(|_| ()).map_err(|e| e.kind());
        assert_eq!(
            kind(Request::get("ftp://x/y").build()),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(Request::get("not a url").build()),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(Request::get("users/1").build()),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(Request::get("/x").header("x-a", "a\r\nInjected: 1").build()),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(Request::get("/x").header("bad name", "v").build()),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(Request::builder("BAD METHOD", "/x").build()),
            Err(ErrorKind::InvalidRequest)
        );
        assert!(Request::get("https://example.test/a?b=c").build().is_ok());
    }

    #[test]
    fn credentials_never_show_in_debug_output() -> Result<()> {
        let builder = || {
            Request::post("http://127.0.0.1:1/x")
                .header("cookie", "session=cookie-secret")
                .header("proxy-authorization", "Basic proxy-secret")
                .header("x-visible", "shown")
        };
        let bearer = builder().bearer_auth("bearer-secret");
        let basic = builder().basic_auth("basic-user", Some("basic-secret"));
        let basic_b64 = base64::engine::general_purpose::STANDARD.encode("basic-user:basic-secret");
        let debug = format!("{bearer:?} {basic:?}");
        let built = format!("{:?} {:?}", bearer.build()?, basic.build()?);
        for text in [&debug, &built] {
            for secret in [
                "cookie-secret",
                "proxy-secret",
                "bearer-secret",
                "basic-secret",
                basic_b64.as_str(),
            ] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
            assert!(text.contains("Sensitive"), "{text}");
            assert!(text.contains("shown"), "{text}");
        }
        let defaults = Defaults::new()
            .header("authorization", "Bearer default-secret")?
            .headers(HeaderMap::from_iter([(
                COOKIE,
                HeaderValue::from_static("c=map-secret"),
            )]));
        let text = format!("{defaults:?}");
        assert!(
            !text.contains("default-secret") && !text.contains("map-secret"),
            "{text}"
        );
        let applied = defaults.apply(Request::get("http://127.0.0.1:1/").build()?)?;
        assert!(applied.headers()[AUTHORIZATION].is_sensitive());
        Ok(())
    }

    #[test]
    fn auth_replaces_and_bad_credentials_are_refused_without_echo() -> Result<()> {
        let req = Request::get("/")
            .header("authorization", "Bearer old")
            .bearer_auth("new")
            .build()?;
        assert_eq!(req.headers().get_all(AUTHORIZATION).iter().count(), 1);
        assert_eq!(req.headers()[AUTHORIZATION], "Bearer new");
        let err = Request::get("/")
            .bearer_auth("bad\r\nsecret")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(!format!("{err:?}").contains("secret"), "{err:?}");
        let req = Request::get("/")
            .basic_auth("ümlaut", Some("pässword"))
            .build()?;
        let encoded = req.headers()[AUTHORIZATION]
            .to_str()
            .unwrap()
            .trim_start_matches("Basic ");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(decoded, "ümlaut:pässword".as_bytes());
        Ok(())
    }

    #[test]
    fn form_bodies_are_urlencoded_and_nested_values_refused() -> Result<()> {
        let mut map = std::collections::BTreeMap::new();
        map.insert("a", "1 2");
        map.insert("b", "é");
        let req = Request::post("/f").form(&map).build()?;
        assert_eq!(&req.body()[..], b"a=1+2&b=%C3%A9");
        assert_eq!(
            req.headers()[CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        #[derive(serde::Serialize)]
        struct Nested {
            inner: std::collections::BTreeMap<&'static str, u8>,
        }
        let err = Request::post("/f")
            .form(&Nested {
                inner: Default::default(),
            })
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        Ok(())
    }

    #[test]
    fn defaults_resolve_and_do_not_override() -> Result<()> {
        let d = Defaults::new()
            .base_url("http://127.0.0.1:1/")?
            .header("x-a", "default")?
            .header("x-b", "default")?;
        let req = d.apply(Request::get("/p?q=1").header("x-a", "mine").build()?)?;
        assert_eq!(req.url().to_string(), "http://127.0.0.1:1/p?q=1");
        assert_eq!(req.headers()["x-a"], "mine");
        assert_eq!(req.headers()["x-b"], "default");
        let abs = d.apply(Request::get("http://other:2/z").build()?)?;
        assert_eq!(abs.url().to_string(), "http://other:2/z");
        assert!(Defaults::new().apply(Request::get("/p").build()?).is_err());
        Ok(())
    }
}
