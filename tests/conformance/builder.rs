//! A client builder keeps its mistakes and reports them from `build`, the
//! same on every adapter, before anything is opened.

use volley_core::ErrorKind;

use crate::support::{Adapter, Opts};

fn the_builder_reports_its_mistakes_from_build(adapter: Adapter) {
    let kind = |opts: Opts| adapter.try_session(opts).map(|_| ()).map_err(|e| e.kind());
    let fine = || Opts::new("http://127.0.0.1:9".to_owned());
    for (what, opts) in [
        (
            "a base URL that is not one",
            Opts::new("not a url".to_owned()),
        ),
        (
            "a base URL of another scheme",
            Opts::new("ftp://nope".to_owned()),
        ),
        (
            "a default header with CR LF",
            fine().header("x-a", "a\r\nb: c"),
        ),
        ("a user agent with LF", fine().user_agent("bad\nua")),
        ("a pool of no connections", fine().pool_size(0)),
    ] {
        assert_eq!(kind(opts), Err(ErrorKind::InvalidRequest), "{what}");
    }
    assert_eq!(kind(fine()), Ok(()));
    assert_eq!(kind(fine().accept_invalid_certs()), Ok(()));
}

crate::on_every_adapter!(the_builder_reports_its_mistakes_from_build);
