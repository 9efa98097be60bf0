//! The options every adapter's client takes, and the one builder for them.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::adapter::body::{BodyRules, DEFAULT_MAX_BODY_BYTES};
use crate::adapter::decode::ACCEPT_ENCODING;
use crate::adapter::proxy::{NoProxy, Proxies, Proxy};
use crate::adapter::redirect::Redirects;
use crate::adapter::tls::{Identity, built_in_roots, parse_certificates};
use crate::error::{Error, ErrorKind, Result};
use crate::request::Defaults;

/// The time each request gets by default, redirects and body included: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The time a new connection (TCP and TLS) gets by default: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The descriptors reserved by [`ClientBuilder::build`] when no pool size is
/// set.
const DEFAULT_RESERVED_DESCRIPTORS: usize = 1024;

/// What a [`ClientBuilder`] has gathered, handed to the adapter that builds
/// the client ([`BuildClient::build`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The base URL request paths are resolved against.
    pub base_url: Option<String>,
    /// Headers sent with every request that does not set them itself.
    pub headers: Vec<(String, String)>,
    /// The `User-Agent`; `None` means a `user-agent` default header if one
    /// was given, else [`USER_AGENT`](crate::USER_AGENT).
    pub user_agent: Option<String>,
    /// The time each request gets, unless it sets its own.
    pub timeout: Duration,
    /// The time a new connection gets.
    pub connect_timeout: Duration,
    /// The largest response body read.
    pub max_body_bytes: u64,
    /// The most connections the client opens at once, when the caller set
    /// it; by default what the process may open (see
    /// [`ClientConfig::connection_cap`]).
    pub pool_size: Option<usize>,
    /// How redirects are followed.
    pub redirects: Redirects,
    /// Whether TLS certificates go unverified (dangerous).
    pub accept_invalid_certs: bool,
    /// Whether the built-in roots ([`built_in_roots`](crate::adapter::built_in_roots))
    /// are trusted; see [`ClientConfig::trusted_roots`].
    pub built_in_roots: bool,
    /// Roots trusted besides the built-in ones (or instead of them), as DER.
    pub root_certificates: Vec<pki_types::CertificateDer<'static>>,
    /// The certificate chain and key the client presents when a server asks
    /// for one (mutual TLS).
    pub identity: Option<Identity>,
    /// Whether `Accept-Encoding` is sent and compressed bodies are decoded.
    pub decompress: bool,
    /// Which proxy requests go through (see [`ClientConfig::proxies`]).
    pub proxy: ProxyChoice,
    /// Whether plain `http://` is spoken in HTTP/2 from the first byte
    /// (h2c with prior knowledge), and `https://` offers HTTP/2 alone (see
    /// [`ClientBuilder::http2_prior_knowledge`]). Adapters that speak
    /// HTTP/1.1 only refuse it ([`ClientConfig::require_http1_only`]).
    pub http2_prior_knowledge: bool,
}

/// Where a client's proxies come from: the environment (the default), one
/// proxy for every request, or none.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyChoice {
    /// `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy` (either
    /// case), read when the client is built ([`Proxies::from_env`]).
    #[default]
    Environment,
    /// Every request goes direct.
    Direct,
    /// Every request goes through the proxy at this URL
    /// ([`Proxy::parse`](crate::adapter::Proxy::parse)).
    Through(String),
}

impl fmt::Debug for ProxyChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyChoice::Environment => f.write_str("Environment"),
            ProxyChoice::Direct => f.write_str("Direct"),
            // The URL may hold credentials: show where it points only.
            ProxyChoice::Through(url) => match Proxy::parse(url) {
                Ok(proxy) => f.debug_tuple("Through").field(proxy.authority()).finish(),
                Err(_) => f.write_str("Through(<not a proxy URL>)"),
            },
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: None,
            headers: Vec::new(),
            user_agent: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            pool_size: None,
            redirects: Redirects::default(),
            accept_invalid_certs: false,
            built_in_roots: true,
            root_certificates: Vec::new(),
            identity: None,
            proxy: ProxyChoice::default(),
            decompress: true,
            http2_prior_knowledge: false,
        }
    }
}

impl ClientConfig {
    /// How many requests the client may have on the wire at once, across
    /// all hosts (one connection each at most): the pool size when one was
    /// set, else [`default_connection_cap`](crate::adapter::default_connection_cap),
    /// what the process may open less headroom. Requests past it wait.
    ///
    /// With [`http2_prior_knowledge`](ClientConfig::http2_prior_knowledge)
    /// every request shares its host's connection instead of holding one,
    /// so a pool size caps the client's connections (the adapter's pool
    /// does), not its requests: the cap is then
    /// [`default_connection_cap`](crate::adapter::default_connection_cap)
    /// whatever the pool size, and 1,000 requests at once on a pool of 2
    /// all go out. Over https, where the server chooses HTTP/2 by ALPN
    /// only once connected, the cap still counts requests (as many as the
    /// pool size share the connection at once).
    ///
    /// ```
    /// use volley_core::adapter::{ClientConfig, default_connection_cap};
    /// let mut config = ClientConfig::default();
    /// config.pool_size = Some(20);
    /// assert_eq!(config.connection_cap(), 20);
    /// config.http2_prior_knowledge = true;
    /// assert_eq!(config.connection_cap(), default_connection_cap());
    /// ```
    pub fn connection_cap(&self) -> usize {
        match self.pool_size {
            Some(size) if !self.http2_prior_knowledge => size,
            _ => crate::adapter::default_connection_cap(),
        }
    }

    /// For an adapter that speaks HTTP/1.1 only, `adapter` being its name:
    /// an [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest)
    /// saying so when the builder asked for
    /// [`http2_prior_knowledge`](ClientBuilder::http2_prior_knowledge), so
    /// that the client is not built to speak what it cannot.
    ///
    /// ```
    /// use volley_core::{ErrorKind, adapter::ClientConfig};
    /// let mut config = ClientConfig::default();
    /// assert!(config.require_http1_only("volley-blocking").is_ok());
    /// config.http2_prior_knowledge = true;
    /// let err = config.require_http1_only("volley-blocking").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    /// assert!(err.to_string().contains("HTTP/1.1 only"));
    /// ```
    pub fn require_http1_only(&self, adapter: &str) -> Result<()> {
        if self.http2_prior_knowledge {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "{adapter} speaks HTTP/1.1 only: http2_prior_knowledge() needs an adapter \
                     that speaks HTTP/2 (volley-tokio or volley-smol)"
                ),
            ));
        }
        Ok(())
    }

    /// The proxies the client sends through, decided once: read from the
    /// environment now, by default, or as the builder was told; an
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) for a
    /// proxy that is not an `http://` URL.
    ///
    /// ```
    /// use volley_core::adapter::{ClientConfig, ProxyChoice};
    /// let mut config = ClientConfig::default();
    /// config.proxy = ProxyChoice::Through("http://proxy.internal:3128".into());
    /// let proxies = config.proxies()?;
    /// let via = proxies.for_url(&"https://api.example.com/".parse().unwrap());
    /// assert_eq!(via.unwrap().authority().as_str(), "proxy.internal:3128");
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn proxies(&self) -> Result<Proxies> {
        match &self.proxy {
            ProxyChoice::Environment => Proxies::from_env(),
            ProxyChoice::Direct => Ok(Proxies::none()),
            ProxyChoice::Through(url) => Ok(Proxies::all(Proxy::parse(url)?, NoProxy::default())),
        }
    }

    /// Every root certificate the client trusts, as DER: the built-in roots
    /// (unless turned off), then the added ones. Each adapter's TLS client
    /// trusts exactly these, and no other store. Unused when
    /// [`accept_invalid_certs`](ClientConfig::accept_invalid_certs) is set.
    ///
    /// ```
    /// use volley_core::adapter::{ClientConfig, built_in_roots};
    /// let mut config = ClientConfig::default();
    /// assert_eq!(config.trusted_roots().len(), built_in_roots().len());
    /// config.built_in_roots = false;
    /// assert!(config.trusted_roots().is_empty());
    /// ```
    pub fn trusted_roots(&self) -> Vec<pki_types::CertificateDer<'static>> {
        let built_in = if self.built_in_roots {
            built_in_roots()
        } else {
            &[]
        };
        built_in
            .iter()
            .chain(&self.root_certificates)
            .cloned()
            .collect()
    }

    /// How the client reads response bodies: the cap, and whether they are
    /// decoded.
    pub fn body_rules(&self) -> BodyRules {
        BodyRules {
            max_bytes: self.max_body_bytes,
            decompress: self.decompress,
        }
    }

    /// The base URL and default headers, `User-Agent` included (and
    /// `Accept-Encoding: gzip, br` when decoding is on and no default header
    /// sets it), checked:
    /// an [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) for
    /// a bad URL, header name or value.
    ///
    /// ```
    /// use volley_core::adapter::ClientConfig;
    /// let defaults = ClientConfig::default().defaults()?;
    /// assert!(defaults.default_headers()["user-agent"].to_str().unwrap().starts_with("volley/"));
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn defaults(&self) -> Result<Defaults> {
        let mut defaults = Defaults::new();
        if let Some(base) = &self.base_url {
            defaults = defaults.base_url(base)?;
        }
        let explicit_ua = self.user_agent.is_some();
        for (name, value) in &self.headers {
            if explicit_ua && name.eq_ignore_ascii_case("user-agent") {
                continue;
            }
            defaults = defaults.header(name.as_str(), value.as_str())?;
        }
        if !defaults
            .default_headers()
            .contains_key(http::header::USER_AGENT)
        {
            let ua = self.user_agent.as_deref().unwrap_or(crate::USER_AGENT);
            defaults = defaults.header(http::header::USER_AGENT, ua)?;
        }
        if self.decompress
            && !defaults
                .default_headers()
                .contains_key(http::header::ACCEPT_ENCODING)
        {
            defaults = defaults.header(http::header::ACCEPT_ENCODING, ACCEPT_ENCODING)?;
        }
        Ok(defaults)
    }
}

/// How an adapter turns a [`ClientConfig`] into its client. Each adapter's
/// `Client` implements it, and its `ClientBuilder` is
/// `volley_core::ClientBuilder<Client>`.
pub trait BuildClient: Sized {
    /// Builds the client.
    fn build(config: ClientConfig) -> Result<Self>;
}

/// The builder of every adapter's client: the same options, the same
/// defaults, the same errors, whatever the runtime. Mistakes are reported
/// by [`build`](ClientBuilder::build).
///
/// ```
/// use std::time::Duration;
/// use volley_core::{ClientBuilder, adapter::{BuildClient, ClientConfig}};
///
/// /// A stand-in adapter that keeps its configuration.
/// struct Client(ClientConfig);
/// impl BuildClient for Client {
///     fn build(config: ClientConfig) -> volley_core::Result<Self> {
///         config.defaults()?; // check the base URL and headers
///         Ok(Client(config))
///     }
/// }
///
/// let client = ClientBuilder::<Client>::new()
///     .base_url("http://127.0.0.1:8080")
///     .default_header("x-api-key", "k")
///     .timeout(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(client.0.timeout, Duration::from_secs(5));
/// assert!(ClientBuilder::<Client>::new().default_header("x", "a\r\nb").build().is_err());
/// # Ok::<(), volley_core::Error>(())
/// ```
#[must_use = "a builder does nothing until .build() is called"]
pub struct ClientBuilder<C> {
    config: ClientConfig,
    /// The first certificate or key that could not be read, reported by
    /// `build`.
    tls_problem: Option<String>,
    client: PhantomData<fn() -> C>,
}

impl<C> Clone for ClientBuilder<C> {
    fn clone(&self) -> Self {
        ClientBuilder {
            config: self.config.clone(),
            tls_problem: self.tls_problem.clone(),
            client: PhantomData,
        }
    }
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientBuilder").field(&self.config).finish()
    }
}

impl<C> Default for ClientBuilder<C> {
    fn default() -> Self {
        ClientBuilder {
            config: ClientConfig::default(),
            tls_problem: None,
            client: PhantomData,
        }
    }
}

impl<C: BuildClient> ClientBuilder<C> {
    /// A builder with every default.
    pub fn new() -> Self {
        ClientBuilder::default()
    }

    /// The base URL that request paths such as `/users/1` are resolved
    /// against (`http(s)://host[:port][/prefix]`).
    pub fn base_url(mut self, url: &str) -> Self {
        self.config.base_url = Some(url.to_owned());
        self
    }

    /// A header sent with every request that does not set it itself.
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        self.config
            .headers
            .push((name.to_owned(), value.to_owned()));
        self
    }

    /// The `User-Agent` header; default `volley/<version>`.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.config.user_agent = Some(user_agent.to_owned());
        self
    }

    /// The time each request gets, redirects and body included, unless it
    /// sets its own ([`RequestBuilder::timeout`](crate::RequestBuilder::timeout)).
    /// Default 30 s: no request waits forever.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// The time a new connection (TCP and TLS) gets. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// The largest response body read; a larger one fails with
    /// [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge) as soon as it
    /// passes the cap, without buffering the rest. A compressed body is
    /// held to it twice: the bytes received, and the decoded bytes while
    /// they are decoded (see [`decompress`](ClientBuilder::decompress)).
    /// Default 64 MiB.
    pub fn max_body_bytes(mut self, bytes: u64) -> Self {
        self.config.max_body_bytes = bytes;
        self
    }

    /// The most connections the client opens at once, all hosts together:
    /// requests past it wait for one to finish (outside their timeout)
    /// instead of failing. The adapter sizes its pool from it too (see its
    /// docs). By default the cap is what the process may open, less
    /// headroom ([`default_connection_cap`](crate::adapter::default_connection_cap)):
    /// a batch gathered without a limit runs slower, not into "too many open
    /// files". Bound concurrency with
    /// [`gather_limited`](crate::gather_limited) or
    /// [`.limit(n)`](crate::FetcherExt::limit) as well; the lower of the two
    /// caps wins. A size of 0 is refused by [`build`](Self::build).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.config.pool_size = Some(size);
        self
    }

    /// How redirects are followed; default up to 10 (see [`Redirects`]).
    pub fn redirects(mut self, policy: Redirects) -> Self {
        self.config.redirects = policy;
        self
    }

    /// **Dangerous**: with `true`, TLS certificates are not verified at all,
    /// so anyone on the network path can read and change the traffic. Only
    /// for tests against servers with self-signed certificates. Default
    /// `false`: certificates are verified.
    pub fn danger_accept_invalid_certs(mut self, yes: bool) -> Self {
        self.config.accept_invalid_certs = yes;
        self
    }

    /// Trusts the root certificate(s) in `pem` (one or more `CERTIFICATE`
    /// sections), besides the built-in roots: for a company's or a test's
    /// own certificate authority. May be called more than once. A PEM that
    /// holds no certificate, or a malformed one, fails
    /// [`build`](Self::build) with
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest).
    ///
    /// ```
    /// use volley_core::{ClientBuilder, ErrorKind, adapter::{BuildClient, ClientConfig, to_pem}};
    /// struct Client(ClientConfig);
    /// impl BuildClient for Client {
    ///     fn build(config: ClientConfig) -> volley_core::Result<Self> { Ok(Client(config)) }
    /// }
    /// # let ca_pem = to_pem("CERTIFICATE", &volley_core::adapter::built_in_roots()[0]);
    /// let client = ClientBuilder::<Client>::new()
    ///     .add_root_certificate(ca_pem.as_bytes())
    ///     .build()?;
    /// assert_eq!(client.0.root_certificates.len(), 1);
    /// let bad = ClientBuilder::<Client>::new().add_root_certificate(b"oops").build();
    /// assert_eq!(bad.err().map(|e| e.kind()), Some(ErrorKind::InvalidRequest));
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn add_root_certificate(mut self, pem: &[u8]) -> Self {
        match parse_certificates(pem) {
            Ok(certs) => self.config.root_certificates.extend(certs),
            Err(e) => self.note_tls_problem(format!("add_root_certificate: {}", e.message())),
        }
        self
    }

    /// Whether the built-in roots are trusted; default `true`. They are
    /// Mozilla's root certificates (the `webpki-root-certs` crate), the same
    /// on every adapter, not the operating system's store: a certificate
    /// authority installed on the machine only is trusted once it is added
    /// with [`add_root_certificate`](Self::add_root_certificate). With
    /// `false`, only the added roots are trusted; with none added either,
    /// [`build`](Self::build) fails, as no server could be.
    pub fn tls_built_in_roots(mut self, yes: bool) -> Self {
        self.config.built_in_roots = yes;
        self
    }

    /// The client certificate presented to servers that ask for one
    /// (mutual TLS): `cert_chain_pem` holds the client's certificate, then
    /// any intermediates; `key_pem` its private key (PKCS#8, or PKCS#1 RSA,
    /// or SEC1 EC). Either failing to read fails [`build`](Self::build)
    /// with [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest).
    pub fn identity(mut self, cert_chain_pem: &[u8], key_pem: &[u8]) -> Self {
        match Identity::from_pem(cert_chain_pem, key_pem) {
            Ok(identity) => self.config.identity = Some(identity),
            Err(e) => self.note_tls_problem(format!("identity: {}", e.message())),
        }
        self
    }

    fn note_tls_problem(&mut self, problem: String) {
        self.tls_problem.get_or_insert(problem);
    }

    /// Sends every request through the HTTP proxy at `url`
    /// (`http://[user:password@]host:port`): plain `http` requests to it in
    /// absolute form, `https` ones through a `CONNECT` tunnel. Credentials in
    /// the URL become a `Proxy-Authorization` header for the proxy alone;
    /// the origin never sees them. The environment is not read. A URL that
    /// is not an `http://` proxy fails [`build`](Self::build).
    pub fn proxy(mut self, url: &str) -> Self {
        self.config.proxy = ProxyChoice::Through(url.to_owned());
        self
    }

    /// Sends every request direct, whatever the environment says. By
    /// default the proxies come from `http_proxy`, `https_proxy`,
    /// `all_proxy` and `no_proxy` (either case; see
    /// [`Proxies::from_env`]).
    pub fn no_proxy(mut self) -> Self {
        self.config.proxy = ProxyChoice::Direct;
        self
    }

    /// Whether response bodies are decoded; default `true`.
    ///
    /// On, every request says `Accept-Encoding: gzip, br` unless it (or a
    /// default header) sets its own, and a body whose `Content-Encoding` is
    /// `gzip`, `deflate` or `br` is decoded as it arrives, the same on every
    /// adapter (volley-core decodes; the HTTP clients under the adapters
    /// are told not to). [`max_body_bytes`](ClientBuilder::max_body_bytes)
    /// caps the decoded size while decoding, so a small body that inflates
    /// past it is [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge) at once.
    /// A decoded response has no `Content-Encoding` or `Content-Length`
    /// header any more (they described the bytes on the wire). A body in a
    /// coding volley does not know (`compress`, `zstd`, or several stacked)
    /// is handed back as it came, headers intact; a corrupt one is an
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) error.
    ///
    /// Off, no `Accept-Encoding` is added and every body is handed back
    /// as its bytes came, with its headers.
    ///
    /// ```
    /// use volley_core::{ClientBuilder, adapter::{BuildClient, ClientConfig}};
    /// struct Client(ClientConfig);
    /// impl BuildClient for Client {
    ///     fn build(config: ClientConfig) -> volley_core::Result<Self> { Ok(Client(config)) }
    /// }
    /// let on = ClientBuilder::<Client>::new().build()?.0.defaults()?;
    /// assert_eq!(on.default_headers()["accept-encoding"], "gzip, br");
    /// let off = ClientBuilder::<Client>::new().decompress(false).build()?.0.defaults()?;
    /// assert!(off.default_headers().get("accept-encoding").is_none());
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn decompress(mut self, yes: bool) -> Self {
        self.config.decompress = yes;
        self
    }

    /// Speaks HTTP/2 from the first byte: plain `http://` as h2c with prior
    /// knowledge (no upgrade, no fallback: the server must speak HTTP/2),
    /// and `https://` offering HTTP/2 alone in the TLS handshake. Many
    /// requests to a host then share one connection, and a
    /// [`pool_size`](Self::pool_size) caps connections, not requests (see
    /// [`ClientConfig::connection_cap`]).
    ///
    /// Without it, `http://` is HTTP/1.1 and `https://` offers HTTP/2 and
    /// HTTP/1.1 by ALPN, on the adapters that speak HTTP/2 (volley-tokio and
    /// volley-smol); [`Response::version`](crate::Response::version) says
    /// which was spoken. volley-async-std and volley-blocking speak
    /// HTTP/1.1 only: on them [`build`](Self::build) fails with
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest).
    ///
    /// ```
    /// use volley_core::{ClientBuilder, adapter::{BuildClient, ClientConfig}};
    /// struct Client(ClientConfig);
    /// impl BuildClient for Client {
    ///     fn build(config: ClientConfig) -> volley_core::Result<Self> { Ok(Client(config)) }
    /// }
    /// let client = ClientBuilder::<Client>::new().http2_prior_knowledge().build()?;
    /// assert!(client.0.http2_prior_knowledge);
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.config.http2_prior_knowledge = true;
        self
    }

    /// What has been set so far.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Builds the client; an
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) for a
    /// bad base URL, header, user agent, root certificate or identity, a
    /// `pool_size` of 0, or for no trusted root at all (see
    /// [`tls_built_in_roots`](Self::tls_built_in_roots)).
    /// Before the client is built, the process's table of open files is
    /// grown to hold the pool (1,024 when unset; see
    /// [`reserve_descriptors`](crate::adapter::reserve_descriptors)), so that the
    /// first burst of connections does not stall on its growth.
    pub fn build(self) -> Result<C> {
        if let Some(problem) = self.tls_problem {
            return Err(Error::new(ErrorKind::InvalidRequest, problem));
        }
        if self.config.pool_size == Some(0) {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "pool_size must be at least 1 (every request would wait forever for a connection)",
            ));
        }
        if !self.config.built_in_roots
            && self.config.root_certificates.is_empty()
            && !self.config.accept_invalid_certs
        {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "tls_built_in_roots(false) with no add_root_certificate: no server would be trusted",
            ));
        }
        crate::adapter::reserve_descriptors(
            self.config
                .pool_size
                .unwrap_or(DEFAULT_RESERVED_DESCRIPTORS),
        );
        C::build(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_precedence() {
        let ua = |c: ClientConfig| {
            c.defaults().unwrap().default_headers()["user-agent"]
                .to_str()
                .unwrap()
                .to_owned()
        };
        let mut c = ClientConfig::default();
        assert!(ua(c.clone()).starts_with("volley/"));
        c.headers.push(("User-Agent".into(), "from-header".into()));
        assert_eq!(ua(c.clone()), "from-header");
        c.user_agent = Some("explicit".into());
        assert_eq!(ua(c), "explicit");
    }

    #[test]
    fn accept_encoding_is_a_default_the_caller_can_replace_or_drop() {
        let ae = |c: ClientConfig| {
            let d = c.defaults().unwrap();
            let all: Vec<String> = d
                .default_headers()
                .get_all("accept-encoding")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect();
            all
        };
        let mut c = ClientConfig::default();
        assert_eq!(ae(c.clone()), ["gzip, br"]);
        c.headers
            .push(("Accept-Encoding".into(), "identity".into()));
        assert_eq!(ae(c.clone()), ["identity"]);
        let c = ClientConfig {
            decompress: false,
            ..ClientConfig::default()
        };
        assert!(ae(c).is_empty());
    }
}
