//! Hosts: the key the per-host layers group requests by, and [`PerHost`],
//! a value for every host with overrides for some.

use std::collections::HashMap;

use http::Uri;

/// The fewest hosts a [`Hosts`] map holds before it drops idle ones.
const PRUNE_AT: usize = 1024;

/// The per-host state of a layer, by [`host_key`]: once it has grown to
/// twice its size after the last clean-up (and to at least 1,024 hosts),
/// the entries of idle hosts are dropped before a new host is added, so a
/// crawl over a million hosts keeps only the busy ones, at a cost spread
/// over the insertions.
#[derive(Debug)]
pub(crate) struct Hosts<V> {
    map: HashMap<String, V>,
    prune_at: usize,
}

impl<V> Default for Hosts<V> {
    fn default() -> Self {
        Hosts {
            map: HashMap::new(),
            prune_at: PRUNE_AT,
        }
    }
}

impl<V> Hosts<V> {
    /// The entry of `key`, made by `make` if it has none; `busy` tells the
    /// entries to keep when idle ones are dropped.
    pub(crate) fn entry(
        &mut self,
        key: String,
        busy: impl FnMut(&V) -> bool,
        make: impl FnOnce() -> V,
    ) -> &mut V {
        if self.map.len() >= self.prune_at && !self.map.contains_key(&key) {
            let mut busy = busy;
            self.map.retain(|_, v| busy(v));
            self.prune_at = (self.map.len() * 2).max(PRUNE_AT);
        }
        self.map.entry(key).or_insert_with(make)
    }

    /// The entry of `key`, if there is one.
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }
}

/// The host a request goes to, as the per-host layers group it: scheme,
/// host (in lower case) and port, the scheme's default port left out, and
/// never the userinfo (`https://API.example.com:443` and
/// `https://api.example.com` are one host, `http://api.example.com` another).
/// Paths without a host (resolved later against the fetcher's base URL)
/// share the empty key.
pub(crate) fn host_key(url: &Uri) -> String {
    let (Some(scheme), Some(authority)) = (url.scheme_str(), url.authority()) else {
        return String::new();
    };
    let host = authority.host().to_ascii_lowercase();
    let default = match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    match authority.port_u16().filter(|p| Some(*p) != default) {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}

/// One value for every host, with overrides for some: the quota of a
/// per-host layer (`PerHost::new(50).host("api.example.com", 10)`).
///
/// An override named with a port (`"api.example.com:8443"`) applies to that
/// port only; one without applies to the host on every port. Names are
/// compared without regard to case. A plain value converts into a
/// `PerHost` with no overrides, so `limit_per_host(4)` still reads as it did.
/// Overrides apply to requests with absolute URLs; a path the fetcher
/// resolves against its base URL later gets the default.
///
/// ```
/// use volley_core::{Rate, layer::PerHost};
/// let quotas = PerHost::new(Rate::per_second(50.0)).host("api.example.com", Rate::per_second(10.0));
/// let url = "https://api.example.com/v1/users".parse().unwrap();
/// assert_eq!(*quotas.get(&url), Rate::per_second(10.0));
/// let other = "https://cdn.example.com/a.png".parse().unwrap();
/// assert_eq!(*quotas.get(&other), Rate::per_second(50.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PerHost<T> {
    default: T,
    overrides: Vec<(String, T)>,
}

impl<T> PerHost<T> {
    /// `default` for every host.
    pub fn new(default: T) -> Self {
        PerHost {
            default,
            overrides: Vec::new(),
        }
    }

    /// `value` for `host` (a name, or `name:port`) instead of the default.
    /// A later override of the same name replaces an earlier one.
    #[must_use]
    pub fn host(mut self, host: &str, value: T) -> Self {
        let name = host.to_ascii_lowercase();
        self.overrides.retain(|(n, _)| *n != name);
        self.overrides.push((name, value));
        self
    }

    /// The value for the host of `url`: an override naming its host and
    /// port, else one naming its host, else the default. A path without a
    /// host (one the fetcher resolves against its base URL later) gets the
    /// default: give the layers absolute URLs for the overrides to apply.
    pub fn get(&self, url: &Uri) -> &T {
        let Some(authority) = url.authority() else {
            return &self.default;
        };
        let find = |name: &str| {
            self.overrides
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let host = authority.host();
        let with_port = authority.port_u16().map(|p| format!("{host}:{p}"));
        with_port
            .as_deref()
            .and_then(find)
            .or_else(|| find(host))
            .unwrap_or(&self.default)
    }

    /// The value for hosts without an override.
    pub fn default_value(&self) -> &T {
        &self.default
    }
}

impl From<usize> for PerHost<usize> {
    fn from(max: usize) -> Self {
        PerHost::new(max)
    }
}

impl From<crate::layer::Rate> for PerHost<crate::layer::Rate> {
    fn from(rate: crate::layer::Rate) -> Self {
        PerHost::new(rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn a_port_specific_override_wins_over_the_host_wide_one() {
        let q = PerHost::new(1).host("a.test", 2).host("A.test:8443", 3);
        assert_eq!(*q.get(&uri("https://a.test:8443/")), 3);
        assert_eq!(*q.get(&uri("https://a.test/")), 2);
        assert_eq!(*q.get(&uri("http://a.test:80/")), 2);
        assert_eq!(*q.get(&uri("http://b.test/")), 1);
        assert_eq!(*q.get(&uri("/relative")), 1);
    }

    #[test]
    fn idle_hosts_are_dropped_once_the_map_has_doubled() {
        let mut hosts = Hosts::<bool>::default();
        for i in 0..PRUNE_AT {
            *hosts.entry(format!("h{i}"), |busy| *busy, || i % 2 == 0) = i % 2 == 0;
        }
        assert_eq!(hosts.map.len(), PRUNE_AT);
        hosts.entry("new".into(), |busy| *busy, || true);
        assert_eq!(hosts.map.len(), PRUNE_AT / 2 + 1, "the idle half went");
        assert_eq!(hosts.prune_at, PRUNE_AT, "at least the floor");
        assert!(hosts.get("h0").is_some() && hosts.get("h1").is_none());
    }

    #[test]
    fn a_later_override_replaces_an_earlier_one() {
        let q = PerHost::new(1).host("a.test", 2).host("a.test", 5);
        assert_eq!(*q.get(&uri("http://a.test/")), 5);
    }

    #[test]
    fn keys_keep_scheme_host_and_port_apart() {
        assert_eq!(host_key(&uri("https://a.test/x")), "https://a.test");
        assert_eq!(host_key(&uri("http://a.test:81/x")), "http://a.test:81");
        assert_eq!(host_key(&uri("/x")), "");
    }

    #[test]
    fn keys_leave_out_case_default_ports_and_credentials() {
        assert_eq!(host_key(&uri("https://A.Test:443/x")), "https://a.test");
        assert_eq!(host_key(&uri("http://a.test:80/")), "http://a.test");
        assert_eq!(
            host_key(&uri("https://bob:hunter2@a.test/")),
            "https://a.test"
        );
        let q = PerHost::new(1).host("a.test", 2);
        assert_eq!(*q.get(&uri("https://bob:pw@A.TEST/")), 2);
    }
}
