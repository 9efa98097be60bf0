//! Hosts: the key the per-host layers group requests by, and [`PerHost`],
//! a value for every host with overrides for some.

use http::Uri;

/// The host a request goes to, as the per-host layers group it: scheme,
/// host and port (`https://api.example.com:443` and `http://api.example.com`
/// are two hosts). Paths without a host (resolved later against the
/// fetcher's base URL) share the empty key.
pub(crate) fn host_key(url: &Uri) -> String {
    match (url.scheme_str(), url.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
        _ => String::new(),
    }
}

/// One value for every host, with overrides for some: the quota of a
/// per-host layer (`PerHost::new(50).host("api.example.com", 10)`).
///
/// An override named with a port (`"api.example.com:8443"`) applies to that
/// port only; one without applies to the host on every port. Names are
/// compared without regard to case. A plain value converts into a
/// `PerHost` with no overrides, so `limit_per_host(4)` still reads as it did.
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
    /// port, else one naming its host, else the default.
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
        find(authority.as_str())
            .or_else(|| find(authority.host()))
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
}
