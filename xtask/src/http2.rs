//! `compare --http2`: the scenario over HTTP/2 with prior knowledge (h2c,
//! which the embedded volley-mock serves on its one port) on the runtimes
//! whose client speaks it; the others are listed as skipped.

use volley_core::ClientBuilder;
use volley_core::adapter::BuildClient;

use crate::cli::Runtime;

/// Whether `runtime`'s client speaks HTTP/2.
pub fn speaks_http2(runtime: Runtime) -> bool {
    matches!(
        runtime,
        Runtime::Tokio
            | Runtime::TokioFixed(_)
            | Runtime::Smol
            | Runtime::PlainReqwest
            | Runtime::PlainIsahc
    )
}

/// Why `runtime` cannot run an HTTP/2 scenario, if it cannot.
pub fn skip_reason(runtime: Runtime) -> Option<String> {
    (!speaks_http2(runtime)).then(|| match runtime {
        Runtime::PlainSurf => "surf's async-h1 client speaks HTTP/1.1 only".to_owned(),
        _ => format!(
            "volley-{} speaks HTTP/1.1 only: http2_prior_knowledge() is a build error there",
            runtime.name()
        ),
    })
}

/// `builder`, told to speak HTTP/2 from the first byte when `http2` is set.
pub fn volley_builder<C: BuildClient>(builder: ClientBuilder<C>, http2: bool) -> ClientBuilder<C> {
    if http2 {
        builder.http2_prior_knowledge()
    } else {
        builder
    }
}

/// The plain-reqwest reference's builder, the same way.
pub fn reqwest_builder(builder: reqwest::ClientBuilder, http2: bool) -> reqwest::ClientBuilder {
    if http2 {
        builder.http2_prior_knowledge()
    } else {
        builder
    }
}

/// The name of a scenario run over HTTP/2 (so its timeline and JSON do
/// not replace the HTTP/1.1 run's).
pub fn scenario_name(name: &str, http2: bool) -> String {
    if http2 {
        format!("{name}-http2")
    } else {
        name.to_owned()
    }
}

/// The line under a run that says how many connections carried it.
pub fn connections_line(runtime: Runtime, connections: u64, requests: usize) -> String {
    format!("{runtime}: {requests} requests over {connections} connection(s)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn async_std_and_blocking_are_skipped_with_the_reason() {
        for runtime in [Runtime::Tokio, Runtime::Smol, Runtime::PlainReqwest] {
            assert!(skip_reason(runtime).is_none(), "{runtime}");
        }
        assert!(skip_reason(Runtime::TokioFixed(50)).is_none());
        for runtime in [Runtime::AsyncStd, Runtime::Blocking] {
            let reason = skip_reason(runtime).expect("skipped");
            assert!(reason.contains("HTTP/1.1 only"), "{reason}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(scenario_name("custom", true), "custom-http2");
        assert_eq!(scenario_name("custom", false), "custom");
    }
}
