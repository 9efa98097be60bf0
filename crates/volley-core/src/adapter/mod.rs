//! What an adapter is built from: the configuration its builder gathers
//! ([`ClientConfig`], [`BuildClient`]), the send path every adapter shares
//! ([`SendPath`]: room on the wire, defaults, the rules of every hop,
//! redirects, the timeout), the rules decided here once ([`check_scheme`],
//! [`FRAMING_HEADERS`], [`check_response_framing`], the [`ConnectionCap`]),
//! reading a body within its cap and decoding it ([`BodyCollector`],
//! [`BodyRules`], [`Decoder`]) and the one wording of shared errors
//! ([`too_many_open_files`]) and the TLS trust every adapter applies
//! ([`ClientConfig::trusted_roots`], [`Identity`]).
//!
//! A user of volley needs none of this; a new adapter needs all of it.

pub(crate) mod body;
pub(crate) mod config;
pub(crate) mod connection_cap;
pub(crate) mod decode;
pub(crate) mod descriptors;
pub(crate) mod errors;
pub(crate) mod proxy;
pub(crate) mod redirect;
pub(crate) mod rules;
pub(crate) mod send_path;
pub(crate) mod tls;

pub use crate::request::Defaults;
pub use body::{BodyCollector, BodyRules, DEFAULT_MAX_BODY_BYTES};
pub use config::{
    BuildClient, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, ProxyChoice,
};
pub use connection_cap::{ConnectionCap, ConnectionPermit, default_connection_cap};
pub use decode::{ACCEPT_ENCODING, Coding, Decoder};
pub use descriptors::reserve_descriptors;
pub use errors::{is_too_many_open_files, too_many_open_files};
pub use proxy::{NoProxy, Proxies, Proxy};
pub use redirect::follow_redirects;
pub use rules::{
    FRAMING_HEADERS, check_response_framing, check_scheme, is_framing_header, response_has_no_body,
};
pub use send_path::SendPath;
pub use tls::{Identity, built_in_roots, key_label, parse_certificates, to_pem};

/// The DER types certificates and keys are held in (`rustls-pki-types`,
/// the crate rustls and the other Rust TLS clients share).
pub use pki_types;
