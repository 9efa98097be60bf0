//! [`Agents`]: several libcurl agents, each request sent by the least busy.
//!
//! One isahc client is one agent thread running one libcurl multi handle:
//! every connect, write and read of every request goes through that one
//! thread. With one agent per core, a burst of connections and their
//! transfers spread over every core.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The number of agents: one per core the process may use, at most
/// [`MAX_AGENTS`].
pub(crate) fn agent_count() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_AGENTS)
}

/// The per-host connection cap of each of `agents` agents so that together
/// they hold at most `per_host` (0: no cap, on every agent). With a cap
/// smaller than the number of agents, only that many agents are made.
pub(crate) fn agent_caps(per_host: usize, agents: usize) -> Vec<usize> {
    if per_host == 0 {
        return vec![0; agents.max(1)];
    }
    let agents = agents.clamp(1, per_host);
    (0..agents)
        .map(|i| per_host / agents + usize::from(i < per_host % agents))
        .collect()
}

/// More agents than this only add threads and idle pools.
const MAX_AGENTS: usize = 4;

/// isahc clients, each with its count of requests in progress.
pub(crate) struct Agents {
    agents: Vec<(isahc::HttpClient, AtomicUsize)>,
}

/// Marks a request in progress on one agent until dropped.
pub(crate) struct Busy<'a>(&'a AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

impl Agents {
    /// `agents` must not be empty.
    pub(crate) fn new(agents: Vec<isahc::HttpClient>) -> Agents {
        assert!(!agents.is_empty(), "at least one libcurl agent");
        Agents {
            agents: agents
                .into_iter()
                .map(|agent| (agent, AtomicUsize::new(0)))
                .collect(),
        }
    }

    /// The agent with the fewest requests in progress (the first on a tie),
    /// counted busy until the [`Busy`] is dropped. Requests then reuse the
    /// connections of the agent they land on; a balanced load keeps each
    /// agent's pool near its share.
    ///
    /// Threads that pick at once do not all land on the agent they each saw
    /// least busy: a pick counts only if that agent's count has not moved
    /// since it was read, and is made again otherwise.
    pub(crate) fn pick(&self) -> (&isahc::HttpClient, Busy<'_>) {
        loop {
            let (agent, busy, seen) = self
                .agents
                .iter()
                .map(|(agent, busy)| (agent, busy, busy.load(Ordering::Acquire)))
                .min_by_key(|&(_, _, seen)| seen)
                .expect("Agents::new makes sure there is one");
            if busy
                .compare_exchange(seen, seen + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return (agent, Busy(busy));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agents(n: usize) -> Agents {
        Agents::new(
            (0..n)
                .map(|_| isahc::HttpClient::new().expect("agent"))
                .collect(),
        )
    }

    #[test]
    fn the_least_busy_agent_is_picked_and_freed_on_drop() {
        let agents = agents(2);
        let (first, a) = agents.pick();
        let (second, b) = agents.pick();
        assert!(
            !std::ptr::eq(first, second),
            "two busy requests, two agents"
        );
        drop(a);
        let (third, _c) = agents.pick();
        assert!(
            std::ptr::eq(first, third),
            "the freed agent is picked again"
        );
        drop(b);
    }

    #[test]
    fn the_caps_add_up_to_the_pool_size() {
        assert_eq!(agent_caps(0, 2), vec![0, 0]);
        assert_eq!(agent_caps(5, 2), vec![3, 2]);
        assert_eq!(agent_caps(1000, 2), vec![500, 500]);
        assert_eq!(agent_caps(1, 4), vec![1]);
        assert_eq!(agent_caps(7, 3).iter().sum::<usize>(), 7);
    }

    #[test]
    fn one_agent_per_core_up_to_four() {
        assert!((1..=MAX_AGENTS).contains(&agent_count()));
    }
}
