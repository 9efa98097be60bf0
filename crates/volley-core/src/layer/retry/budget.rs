//! [`RetryBudget`]: how many retries a client may make, as a share of its
//! requests.

/// Limits retries to a share of the requests sent, so retrying can never
/// multiply the load on a failing server (after tower's retry budget).
///
/// Each first attempt deposits `ratio` of a retry; each retry withdraws one.
/// A reserve of `min_retries` lets a quiet client retry at all. With the
/// default (ratio 0.2, reserve 10), 1,000 requests to a dead server cause at
/// most 210 retries, not 2,000.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    pub(super) ratio: f64,
    pub(super) reserve: u32,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            ratio: 0.2,
            reserve: 10,
        }
    }
}

impl RetryBudget {
    /// At most `ratio` retries per request sent, plus a reserve of `min_retries`.
    pub fn new(ratio: f64, min_retries: u32) -> Self {
        RetryBudget {
            ratio: if ratio.is_finite() {
                ratio.clamp(0.0, 1000.0)
            } else {
                0.0
            },
            reserve: min_retries,
        }
    }
}
