//! The errors every adapter words the same way.

use std::error::Error as StdError;
use std::io;

use crate::error::{Error, ErrorKind};

/// `EMFILE` (this process) and `ENFILE` (the whole system) on Linux and the
/// BSDs.
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

/// True when `error`, or anything in its chain of sources, says the process
/// (or the system) is out of file descriptors: an `io::Error` with `EMFILE`
/// or `ENFILE`, or a message that says "too many open files" (clients that
/// keep only the text).
///
/// ```
/// use volley_core::adapter::is_too_many_open_files;
/// let emfile = std::io::Error::from_raw_os_error(24);
/// assert!(is_too_many_open_files(&emfile));
/// let wrapped = std::io::Error::other(std::io::Error::from_raw_os_error(24));
/// assert!(is_too_many_open_files(&wrapped));
/// assert!(!is_too_many_open_files(&std::io::Error::from(std::io::ErrorKind::ConnectionRefused)));
/// ```
pub fn is_too_many_open_files(error: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if cfg!(unix) && matches!(io.raw_os_error(), Some(EMFILE | ENFILE)) {
                return true;
            }
            // An io::Error's source() skips the error it wraps.
            if let Some(inner) = io.get_ref() {
                if is_too_many_open_files(inner) {
                    return true;
                }
            }
        }
        if e.to_string()
            .to_ascii_lowercase()
            .contains("too many open files")
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// The [`ErrorKind::Connect`] error of every adapter when the process is out
/// of file descriptors, with what to do about it.
///
/// ```
/// let err = volley_core::adapter::too_many_open_files();
/// assert_eq!(err.kind(), volley_core::ErrorKind::Connect);
/// assert!(err.to_string().contains("too many open files"));
/// ```
pub fn too_many_open_files() -> Error {
    Error::new(
        ErrorKind::Connect,
        "too many open files: raise the open-files limit (ulimit -n) or lower the concurrency",
    )
}
