//! Which proxy a request goes through, decided here once for every adapter:
//! [`Proxy`] (one HTTP proxy and its credentials), [`NoProxy`] (the hosts
//! that go direct) and [`Proxies`] (the choice for each URL, from the
//! builder or read once from the environment).

use std::fmt;
use std::net::IpAddr;

use http::header::HeaderValue;
use http::uri::{Authority, Uri};

use crate::error::{Error, ErrorKind, Result};

/// An HTTP proxy: where it is, and the `Proxy-Authorization` its URL's
/// credentials make (sent to the proxy only, never to the origin).
///
/// A URL without a scheme means `http://` (as curl reads it); only plain
/// `http` proxies are supported, anything else (`https://`, `socks5://`) is
/// an [`ErrorKind::InvalidRequest`] when the client is built. A URL that
/// names no port means port 80, as for any `http://` URL (curl would take
/// 1080): name it.
///
/// ```
/// use volley_core::adapter::Proxy;
/// let proxy = Proxy::parse("http://alice:s%40cret@proxy.internal:3128")?;
/// assert_eq!(proxy.authority().as_str(), "proxy.internal:3128");
/// assert_eq!(proxy.authorization().unwrap(), "Basic YWxpY2U6c0BjcmV0"); // alice:s@cret
/// assert!(proxy.authorization().unwrap().is_sensitive());
/// assert!(!format!("{proxy:?}").contains("YWxp"));
/// assert!(Proxy::parse("socks5://proxy:1080").is_err());
/// # Ok::<(), volley_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    authority: Authority,
    credentials: Option<(String, String)>,
    authorization: Option<HeaderValue>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("authority", &self.authority)
            .field("credentials", &self.credentials.is_some())
            .finish()
    }
}

/// The error for a proxy URL that cannot be used. The URL may hold
/// credentials: it is named by its host alone, when it has one.
fn bad_proxy(host: Option<&str>, why: &str) -> Error {
    let message = match host {
        Some(host) => format!("bad proxy at {host}: {why}"),
        None => format!("bad proxy URL (not shown, it may hold credentials): {why}"),
    };
    Error::new(ErrorKind::InvalidRequest, message)
}

impl Proxy {
    /// Parses a proxy URL: `http://[user[:password]@]host[:port]`, or the
    /// same without `http://`. User and password are percent-decoded.
    pub fn parse(value: &str) -> Result<Proxy> {
        let value = value.trim();
        let with_scheme = if value.contains("://") {
            value.to_string()
        } else {
            format!("http://{value}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| bad_proxy(None, &e.to_string()))?;
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(host) => host.to_string(),
            None => return Err(bad_proxy(None, "no host")),
        };
        if url.scheme() != "http" {
            return Err(bad_proxy(
                Some(&host),
                &format!(
                    "only http:// proxies are supported, not {}://",
                    url.scheme()
                ),
            ));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let authority = Authority::try_from(format!("{host}:{port}"))
            .map_err(|e| bad_proxy(Some(&host), &e.to_string()))?;
        let credentials = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            let user = decode(url.username());
            let password = url.password().map(decode).unwrap_or_default();
            Some((user, password))
        };
        let authorization = credentials
            .as_ref()
            .map(|(user, password)| basic_authorization(user, password));
        Ok(Proxy {
            authority,
            credentials,
            authorization,
        })
    }

    /// The proxy's host and port, to connect to.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The proxy as a URL (`http://host:port`), for clients that take one.
    pub fn uri(&self) -> Uri {
        Uri::builder()
            .scheme("http")
            .authority(self.authority.clone())
            .path_and_query("/")
            .build()
            .unwrap_or_default()
    }

    /// The user and password of the proxy's URL, percent-decoded, for
    /// clients that build `Proxy-Authorization` themselves.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// `Proxy-Authorization` for the proxy (marked sensitive), if its URL
    /// had credentials.
    pub fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }
}

/// `Basic base64(user:password)`, marked sensitive.
pub(crate) fn basic_authorization(user: &str, password: &str) -> HeaderValue {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut value = HeaderValue::try_from(format!("Basic {token}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

/// One entry of a [`NoProxy`] list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// `*`: every host goes direct.
    All,
    /// A name: the host itself and every subdomain, on `port` or any.
    Name(String, Option<u16>),
    /// An address, or a block of them (`10.0.0.0/8`, `fd00::/8`).
    Block(IpAddr, u8, Option<u16>),
}

/// The hosts that never go through a proxy, as curl and reqwest read
/// `NO_PROXY`: a comma-separated list of names (each matching the host and
/// its subdomains; a leading dot is ignored; `name:port` for one port
/// only), IP addresses (`10.0.0.1`, `[::1]:8080` for one port), CIDR
/// blocks (`192.168.0.0/16`), or `*` for all.
/// Names compare without regard to case. Loopback is not implied: list
/// `localhost,127.0.0.1,::1` to keep it direct.
///
/// ```
/// use volley_core::adapter::NoProxy;
/// let direct = NoProxy::parse("example.com, .internal:8080, 10.0.0.0/8, ::1");
/// assert!(direct.matches("api.example.com", 443));
/// assert!(!direct.matches("notexample.com", 443));
/// assert!(direct.matches("db.internal", 8080) && !direct.matches("db.internal", 80));
/// assert!(direct.matches("10.1.2.3", 80) && !direct.matches("11.1.2.3", 80));
/// assert!(direct.matches("[::1]", 80));
/// assert!(NoProxy::parse("*").matches("anything", 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    rules: Vec<Rule>,
}

impl NoProxy {
    /// Parses a list; entries that are not names, addresses or blocks are
    /// skipped.
    pub fn parse(list: &str) -> NoProxy {
        let rules = list
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .filter_map(parse_rule)
            .collect();
        NoProxy { rules }
    }

    /// True when `host` (a name, an IPv4 address or a bracketed IPv6 one)
    /// on `port` goes direct.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let ip: Option<IpAddr> = bare.parse().ok();
        let host = host.trim_end_matches('.');
        self.rules.iter().any(|rule| match rule {
            Rule::All => true,
            Rule::Name(name, p) => {
                p.is_none_or(|p| p == port)
                    && (host.eq_ignore_ascii_case(name)
                        || host.len() > name.len()
                            && host.as_bytes()[host.len() - name.len() - 1] == b'.'
                            && host[host.len() - name.len()..].eq_ignore_ascii_case(name))
            }
            Rule::Block(net, bits, p) => {
                p.is_none_or(|p| p == port) && ip.is_some_and(|ip| in_block(ip, *net, *bits))
            }
        })
    }

    /// True when the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn parse_rule(entry: &str) -> Option<Rule> {
    if entry == "*" {
        return Some(Rule::All);
    }
    if let Some((net, bits)) = entry.split_once('/') {
        let net: IpAddr = net.trim_matches(['[', ']']).parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits: u8 = bits.parse().ok().filter(|b| *b <= max)?;
        return Some(Rule::Block(net, bits, None));
    }
    if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        return Some(Rule::Block(ip, bits, None));
    }
    // An address with a port: `[::1]:8080`, `10.0.0.1:8080`.
    if let Some((ip, port)) = entry.rsplit_once(':') {
        let ip = ip.trim_matches(['[', ']']).parse::<IpAddr>();
        if let (Ok(ip), Ok(port)) = (ip, port.parse()) {
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            return Some(Rule::Block(ip, bits, Some(port)));
        }
    }
    let (name, port) = match entry.rsplit_once(':') {
        Some((name, port)) => (name, Some(port.parse().ok()?)),
        None => (entry, None),
    };
    let name = name.trim_start_matches('.').trim_end_matches('.');
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return None;
    }
    Some(Rule::Name(name.to_ascii_lowercase(), port))
}

fn in_block(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        (IpAddr::V6(a), IpAddr::V4(b)) => match a.to_ipv4_mapped() {
            Some(a) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
            None => return false,
        },
        (IpAddr::V4(_), IpAddr::V6(_)) => return false,
    };
    let shift = width - u32::from(bits);
    shift >= 128 || (ip >> shift) == (net >> shift)
}

/// Where each request goes: through which proxy, or direct. Built once per
/// client, from [`ClientBuilder::proxy`](crate::ClientBuilder::proxy) and
/// [`no_proxy`](crate::ClientBuilder::no_proxy) or, by default, from the
/// environment ([`Proxies::from_env`]); adapters ask [`Proxies::for_url`]
/// for every hop and carry the bytes: plain `http` to the proxy in absolute
/// form, `https` through a `CONNECT` tunnel.
///
/// ```
/// use volley_core::adapter::Proxies;
/// let vars = [("HTTPS_PROXY", "http://proxy:3128"), ("no_proxy", "internal.test")];
/// let proxies = Proxies::from_vars(|k| vars.iter().find(|v| v.0 == k).map(|v| v.1.to_string()))?;
/// let via = |u: &str| proxies.for_url(&u.parse().unwrap()).map(|p| p.authority().to_string());
/// assert_eq!(via("https://api.example.com/"), Some("proxy:3128".into()));
/// assert_eq!(via("http://api.example.com/"), None); // no http_proxy set
/// assert_eq!(via("https://db.internal.test/"), None); // listed in no_proxy
/// # Ok::<(), volley_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    http: Option<Proxy>,
    https: Option<Proxy>,
    direct: NoProxy,
}

impl Proxies {
    /// Every request goes direct.
    pub fn none() -> Proxies {
        Proxies::default()
    }

    /// Every request goes through `proxy`, but those to hosts in `direct`.
    pub fn all(proxy: Proxy, direct: NoProxy) -> Proxies {
        Proxies {
            http: Some(proxy.clone()),
            https: Some(proxy),
            direct,
        }
    }

    /// The proxies of the process's environment, read now: `http_proxy`
    /// (or `HTTP_PROXY`, unless `REQUEST_METHOD` is set, as in a CGI script
    /// where a client's `Proxy:` header would become it) for `http` URLs,
    /// `https_proxy` or `HTTPS_PROXY` for `https` ones, `all_proxy` or
    /// `ALL_PROXY` for either when its own is not set, and `no_proxy` or
    /// `NO_PROXY` for the hosts that go direct. Lower case wins; empty
    /// values count as unset. A value that is not an `http://` proxy is an
    /// [`ErrorKind::InvalidRequest`] naming the variable.
    pub fn from_env() -> Result<Proxies> {
        Proxies::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables given by `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Proxies> {
        let get = |names: &[&'static str]| -> Option<(&'static str, String)> {
            names
                .iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()).map(|v| (*n, v)))
        };
        let cgi = var("REQUEST_METHOD").is_some();
        let http_names: &[&'static str] = if cgi {
            &["http_proxy"]
        } else {
            &["http_proxy", "HTTP_PROXY"]
        };
        let parse = |found: Option<(&'static str, String)>| {
            found
                .map(|(name, value)| {
                    Proxy::parse(&value).map_err(|e| {
                        Error::new(
                            ErrorKind::InvalidRequest,
                            format!("{} (from {name}; use no_proxy() to ignore it)", e.message()),
                        )
                    })
                })
                .transpose()
        };
        let all = get(&["all_proxy", "ALL_PROXY"]);
        let http = parse(get(http_names).or_else(|| all.clone()))?;
        let https = parse(get(&["https_proxy", "HTTPS_PROXY"]).or(all))?;
        let direct = get(&["no_proxy", "NO_PROXY"])
            .map_or_else(NoProxy::default, |(_, v)| NoProxy::parse(&v));
        Ok(Proxies {
            http,
            https,
            direct,
        })
    }

    /// The proxy a request to `url` goes through, or `None` for direct
    /// (no proxy for its scheme, its host listed as direct, or a path
    /// without a host).
    pub fn for_url(&self, url: &Uri) -> Option<&Proxy> {
        let proxy = match url.scheme_str()? {
            "http" => self.http.as_ref()?,
            "https" => self.https.as_ref()?,
            _ => return None,
        };
        let authority = url.authority()?;
        let port = authority
            .port_u16()
            .unwrap_or(if url.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        (!self.direct.matches(authority.host(), port)).then_some(proxy)
    }

    /// The proxy for URLs of `scheme` (`http` or `https`), before the
    /// hosts that go direct are taken out: for clients that take one proxy
    /// per scheme and ask [`for_url`](Self::for_url) for each request.
    pub fn for_scheme(&self, scheme: &str) -> Option<&Proxy> {
        match scheme {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => None,
        }
    }

    /// True when no request goes through a proxy.
    pub fn is_direct(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_string())
    }

    fn via(p: &Proxies, url: &str) -> Option<String> {
        p.for_url(&url.parse().unwrap())
            .map(|p| p.authority().to_string())
    }

    #[test]
    fn lower_case_wins_and_all_proxy_fills_in() {
        let p = Proxies::from_vars(vars(&[
            ("http_proxy", "lower:1"),
            ("HTTP_PROXY", "upper:2"),
            ("ALL_PROXY", "all:3"),
        ]))
        .unwrap();
        assert_eq!(via(&p, "http://a.test/"), Some("lower:1".into()));
        assert_eq!(via(&p, "https://a.test/"), Some("all:3".into()));
    }

    #[test]
    fn upper_case_http_proxy_is_ignored_under_cgi() {
        let p = Proxies::from_vars(vars(&[("HTTP_PROXY", "evil:1"), ("REQUEST_METHOD", "GET")]))
            .unwrap();
        assert_eq!(via(&p, "http://a.test/"), None);
        let p = Proxies::from_vars(vars(&[("HTTP_PROXY", "fine:1")])).unwrap();
        assert_eq!(via(&p, "http://a.test/"), Some("fine:1".into()));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let p =
            Proxies::from_vars(vars(&[("http_proxy", " "), ("HTTP_PROXY", "upper:2")])).unwrap();
        assert_eq!(via(&p, "http://a.test/"), Some("upper:2".into()));
    }

    #[test]
    fn an_unsupported_proxy_in_the_environment_names_the_variable() {
        let e = Proxies::from_vars(vars(&[("https_proxy", "socks5://u:pw@s:1080")])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        assert!(e.message().contains("https_proxy"), "{e}");
        assert!(
            !e.message().contains("pw"),
            "credentials are not shown: {e}"
        );
        // Unparsable: nothing of it is shown.
        let e = Proxy::parse("http://alice:s3cret").unwrap_err();
        assert!(
            !e.message().contains("s3cret") && !e.message().contains("alice"),
            "{e}"
        );
    }

    #[test]
    fn no_proxy_addresses_may_name_a_port() {
        let d = NoProxy::parse("[::1]:8080, 10.0.0.1:81");
        assert!(d.matches("[::1]", 8080) && !d.matches("[::1]", 80));
        assert!(d.matches("10.0.0.1", 81) && !d.matches("10.0.0.1", 80));
    }

    #[test]
    fn ports_default_as_curl_has_them() {
        assert_eq!(
            Proxy::parse("p.test").unwrap().authority().as_str(),
            "p.test:80"
        );
        assert_eq!(
            Proxy::parse("http://p.test").unwrap().authority().as_str(),
            "p.test:80"
        );
        assert_eq!(
            Proxy::parse("[::1]:3128").unwrap().authority().as_str(),
            "[::1]:3128"
        );
        assert_eq!(
            Proxy::parse("http://u@p.test:1")
                .unwrap()
                .authorization()
                .unwrap(),
            "Basic dTo="
        );
    }

    #[test]
    fn no_proxy_names_match_whole_labels_only() {
        let d = NoProxy::parse("Example.COM,.b.test, bad entry!, 192.168.0.0/16, [fd00::]/8");
        assert!(d.matches("example.com", 80));
        assert!(d.matches("x.EXAMPLE.com", 80));
        assert!(d.matches("example.com.", 80));
        assert!(!d.matches("badexample.com", 80));
        assert!(d.matches("b.test", 80));
        assert!(d.matches("192.168.7.7", 80));
        assert!(d.matches("[fd12::1]", 80));
        assert!(!d.matches("[fe80::1]", 80));
        assert!(!d.matches("192.169.0.1", 80));
        assert_eq!(d.rules.len(), 4, "the bad entry is skipped");
    }

    #[test]
    fn hosts_listed_as_direct_skip_the_proxy_and_paths_never_match() {
        let p = Proxies::all(Proxy::parse("p:1").unwrap(), NoProxy::parse("127.0.0.1"));
        assert_eq!(via(&p, "http://127.0.0.1:8080/"), None);
        assert_eq!(via(&p, "http://127.0.0.2/"), Some("p:1".into()));
        assert_eq!(via(&p, "/relative"), None);
    }
}
