//! [`reserve_descriptors`]: grow the table of open files before a burst.

/// Raises this process's open-files limit to its hard limit (as the Go
/// runtime does at start), then grows the table of open file descriptors,
/// now, to hold at least `count` of them (capped by that limit), and
/// returns the size reserved (0 where there is nothing to do or it failed).
///
/// On Linux the table of a multi-threaded process grows by doubling, and
/// every growth waits for an RCU grace period (several milliseconds) while
/// every thread that opens a socket in the meantime stalls. Opening 1,000
/// connections at once from an empty table grows it five times in the middle
/// of the burst. Growing it once ahead of time moves that wait out of the
/// burst. Every adapter's builder calls this with its pool size (1,024 when
/// unset); call it yourself before opening many sockets some other way.
///
/// Nothing stays open: a descriptor is duplicated to the number wanted and
/// closed at once (the table never shrinks). Elsewhere than on Unix it does
/// nothing.
///
/// ```
/// let reserved = volley_core::adapter::reserve_descriptors(256);
/// # #[cfg(unix)]
/// assert!(reserved == 0 || reserved >= 256);
/// ```
pub fn reserve_descriptors(count: usize) -> usize {
    #[cfg(unix)]
    {
        unix::reserve(count)
    }
    #[cfg(not(unix))]
    {
        let _ = count;
        0
    }
}

/// The most files this process may have open now (the soft `RLIMIT_NOFILE`),
/// when there is such a limit.
pub(crate) fn open_files_limit() -> Option<usize> {
    #[cfg(unix)]
    {
        unix::limit()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(unix)]
mod unix {
    use rustix::process::{Resource, getrlimit, setrlimit};

    /// Descriptors kept below the open-files limit, for the standard streams
    /// and whatever else the process has open.
    const HEADROOM: usize = 64;

    pub(super) fn limit() -> Option<usize> {
        getrlimit(Resource::Nofile)
            .current
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Raises the soft limit to the hard one; a failure leaves it as it was.
    fn raise() {
        let mut limits = getrlimit(Resource::Nofile);
        if limits.current != limits.maximum {
            limits.current = limits.maximum;
            let _ = setrlimit(Resource::Nofile, limits);
        }
    }

    pub(super) fn reserve(count: usize) -> usize {
        raise();
        let limit = limit().unwrap_or(usize::MAX);
        // The highest descriptor number the table must hold.
        let want = count.saturating_add(HEADROOM).min(limit.saturating_sub(1));
        let Ok(want_fd) = i32::try_from(want) else {
            return 0;
        };
        if want_fd < 3 {
            return 0;
        }
        let Ok(file) = std::fs::File::open("/dev/null") else {
            return 0;
        };
        // F_DUPFD takes the lowest free number at or above `want_fd`, so the
        // table grows to hold it; the copy is closed when it drops.
        match rustix::io::fcntl_dupfd_cloexec(&file, want_fd) {
            Ok(_copy) => want,
            Err(_) => 0,
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn table_size() -> usize {
        // "FDSize:" in /proc/self/status is the table's current size.
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("FDSize:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("FDSize")
    }

    #[test]
    fn the_table_grows_and_nothing_stays_open() {
        let reserved = reserve_descriptors(700);
        assert!(reserved >= 700, "reserved {reserved}");
        assert!(table_size() > 700, "FDSize {}", table_size());
        // The descriptor that grew the table is closed again.
        assert!(!std::path::Path::new(&format!("/proc/self/fd/{reserved}")).exists());
    }
}
