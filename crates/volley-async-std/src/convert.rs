//! Between volley's `http` 1.x types and surf's `http-types` 2.

use std::str::FromStr;

use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, StatusCode, Uri, Version};
use surf::http as ht;
use volley_core::{Error, ErrorKind, Request, Result};

use crate::transport::{Outgoing, RawHead};

/// Turns a request (already resolved against the base URL) into surf's.
///
/// surf gets the method and URL; the headers and body travel beside them as
/// they are ([`Outgoing`]), for the transport to send: http-types would
/// refuse header bytes that are not ASCII and add a `Content-Type` of its
/// own. `Content-Length` and `Transfer-Encoding` are left to the transport,
/// which sets them from the body.
pub(crate) fn to_surf(request: Request) -> Result<surf::Request> {
    let (method, uri, mut headers, body) = request.into_parts();
    let invalid = |message: String| Error::new(ErrorKind::InvalidRequest, message);

    // http-types knows a fixed list of methods (and upper-cases what it
    // parses); the transport sends volley's own method from `Outgoing`, so
    // an extension method (PURGE, MKCOL) travels under a stand-in.
    let ht_method = ht::Method::from_str(method.as_str())
        .ok()
        .filter(|m| m.as_ref() == method.as_str())
        .unwrap_or(ht::Method::Get);
    let url = ht::Url::parse(&uri.to_string()).map_err(|e| {
        invalid(format!("bad URL {uri}"))
            .with_url(uri.clone())
            .with_source(e)
    })?;

    let mut req = ht::Request::new(ht_method, url);
    headers.remove(CONTENT_LENGTH);
    headers.remove(TRANSFER_ENCODING);
    req.ext_mut().insert(Outgoing {
        method,
        headers,
        body,
    });
    Ok(surf::Request::from(req))
}

/// The response's status, version and headers as the server sent them ([`RawHead`],
/// which the transport attaches to every response it reads: statuses
/// http-types does not list and header bytes that are not ASCII included).
pub(crate) fn head(
    response: &mut surf::Response,
    url: &Uri,
) -> Result<(StatusCode, Version, HeaderMap)> {
    let inner: &mut ht::Response = response.as_mut();
    match inner.ext_mut().remove::<RawHead>() {
        Some(RawHead {
            status,
            version,
            headers,
        }) => Ok((status, version, headers)),
        None => Err(Error::new(
            ErrorKind::Other,
            "the response did not come through volley's transport",
        )
        .with_url(url.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn req(builder: volley_core::RequestBuilder) -> Request {
        builder.build().expect("valid request")
    }

    fn outgoing(request: &surf::Request) -> &Outgoing {
        let inner: &ht::Request = request.as_ref();
        inner.ext().get::<Outgoing>().expect("carried along")
    }

    #[test]
    fn multi_valued_headers_body_and_method_survive() {
        let mut r = req(Request::post("http://127.0.0.1:1/p?q=1")
            .header("x-multi", "a")
            .header("x-multi", "b")
            .json(&serde_json::json!({"k": 1})));
        // The builder refuses it; one slipped in is still not sent.
        r.headers_mut()
            .insert(CONTENT_LENGTH, http::HeaderValue::from_static("999"));
        let surf_req = to_surf(r).expect("converts");
        let inner: &ht::Request = surf_req.as_ref();
        assert_eq!(inner.method(), ht::Method::Post);
        assert_eq!(inner.url().as_str(), "http://127.0.0.1:1/p?q=1");
        let out = outgoing(&surf_req);
        let multi: Vec<_> = out.headers.get_all("x-multi").iter().collect();
        assert_eq!(multi, ["a", "b"]);
        assert_eq!(out.headers["content-type"], "application/json");
        assert!(out.headers.get(CONTENT_LENGTH).is_none());
        assert_eq!(&out.body[..], br#"{"k":1}"#);
    }

    #[test]
    fn raw_body_gets_no_invented_content_type_and_obs_text_goes_through() {
        let mut r = req(Request::put("http://127.0.0.1:1/p").body("raw"));
        let value = HeaderValue::from_bytes(b"caf\xe9").expect("obs-text is valid in http");
        r.headers_mut().insert("x-name", value);
        let surf_req = to_surf(r).expect("converts");
        let out = outgoing(&surf_req);
        assert!(out.headers.get("content-type").is_none());
        assert_eq!(out.headers["x-name"].as_bytes(), b"caf\xe9");
    }

    #[test]
    fn extension_methods_travel_beside_surfs_request() {
        let surf_req =
            to_surf(req(Request::builder("PURGE", "http://127.0.0.1:1/"))).expect("converts");
        assert_eq!(outgoing(&surf_req).method.as_str(), "PURGE");
    }
}
