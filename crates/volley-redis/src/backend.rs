//! The connection to Redis: one multiplexed connection per limiter, the
//! script loaded once and called by its SHA, a deadline on every call, and
//! a pause between attempts to reach a server that failed.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_lite::FutureExt;
use redis::aio::MultiplexedConnection;
use volley_core::layer::SharedObserver;
use volley_core::rt::SharedTimer;

use crate::script::{Reply, SOURCE};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why a call to Redis gave no answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A recent attempt failed and the next is not due yet.
    Resting,
    /// No answer within the deadline.
    Timeout(Duration),
    /// The client or the server reported an error.
    Redis(redis::RedisError),
    /// The script answered something it never answers.
    Reply,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Resting => f.write_str("it failed a moment ago"),
            Failure::Timeout(d) => write!(f, "no answer within {d:?}"),
            Failure::Redis(e) => write!(f, "{e}"),
            Failure::Reply => f.write_str("the script's reply was not understood"),
        }
    }
}

/// The connection and what is known of the server's health.
pub(crate) struct Backend {
    client: redis::Client,
    /// The name reported to `Observer::backend_changed`.
    pub(crate) name: &'static str,
    /// The deadline of one call, connecting included.
    pub(crate) timeout: Duration,
    /// How long to leave a failed server alone before trying again.
    pub(crate) retry_every: Duration,
    sha: String,
    conn: Mutex<ConnState>,
    connecting: async_lock::Mutex<()>,
    degraded: AtomicBool,
}

struct ConnState {
    current: Option<MultiplexedConnection>,
    /// When a failed server may be tried again.
    next_try: Option<Instant>,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field(
                "redis",
                &self.client.get_connection_info().addr().to_string(),
            )
            .field("name", &self.name)
            .field("degraded", &self.degraded.load(Ordering::Relaxed))
            .finish()
    }
}

impl Backend {
    pub(crate) fn new(client: redis::Client, name: &'static str) -> Self {
        Backend {
            client,
            name,
            timeout: Duration::from_millis(500),
            retry_every: Duration::from_secs(1),
            sha: redis::Script::new(SOURCE).get_hash().to_owned(),
            conn: Mutex::new(ConnState {
                current: None,
                next_try: None,
            }),
            connecting: async_lock::Mutex::new(()),
            degraded: AtomicBool::new(false),
        }
    }

    /// The server's address, for messages.
    pub(crate) fn addr(&self) -> String {
        self.client.get_connection_info().addr().to_string()
    }

    /// When the next attempt after a failure is due (`None`: now).
    pub(crate) fn next_try(&self) -> Option<Instant> {
        lock(&self.conn).next_try
    }

    /// Records a change of health, and reports it once per change.
    pub(crate) fn set_degraded(&self, degraded: bool, observer: Option<&SharedObserver>) {
        if self.degraded.swap(degraded, Ordering::SeqCst) != degraded {
            if let Some(o) = observer {
                o.backend_changed(self.name, degraded);
            }
        }
    }

    /// True while the last call failed.
    pub(crate) fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::SeqCst)
    }

    /// Runs the script with `keys` and `args`, within `budget` (at most the
    /// call deadline) on `timer`. A failure drops the connection and rests
    /// the server for [`retry_every`](Backend::retry_every).
    pub(crate) async fn run(
        &self,
        timer: &SharedTimer,
        budget: Duration,
        keys: [&str; 2],
        args: &[&str],
    ) -> Result<Reply, Failure> {
        let budget = budget.min(self.timeout);
        let call = async {
            let mut con = self.connection(timer.now()).await?;
            let reply = match self.evalsha(&mut con, keys, args).await {
                Err(e)
                    if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
                {
                    self.load(&mut con).await?;
                    self.evalsha(&mut con, keys, args).await
                }
                other => other,
            };
            let (code, value) = reply.map_err(Failure::Redis)?;
            Reply::from_pair(code, value).ok_or(Failure::Reply)
        };
        let deadline = async {
            timer.sleep(budget).await;
            Err(Failure::Timeout(budget))
        };
        let result = call.or(deadline).await;
        match &result {
            Ok(_) => lock(&self.conn).next_try = None,
            Err(Failure::Resting) => {}
            Err(_) => {
                let mut c = lock(&self.conn);
                c.current = None;
                c.next_try = Some(timer.now() + self.retry_every);
            }
        }
        result
    }

    async fn evalsha(
        &self,
        con: &mut MultiplexedConnection,
        keys: [&str; 2],
        args: &[&str],
    ) -> redis::RedisResult<(i64, i64)> {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&self.sha).arg(keys.len()).arg(&keys[..]).arg(args);
        cmd.query_async(con).await
    }

    async fn load(&self, con: &mut MultiplexedConnection) -> Result<(), Failure> {
        let sha: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(SOURCE)
            .query_async(con)
            .await
            .map_err(Failure::Redis)?;
        if sha == self.sha {
            Ok(())
        } else {
            Err(Failure::Reply)
        }
    }

    /// The open connection, or a new one (script loaded) if none is open and
    /// the server is not resting.
    async fn connection(&self, now: Instant) -> Result<MultiplexedConnection, Failure> {
        if let Some(con) = self.ready(now)? {
            return Ok(con);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(con) = self.ready(now)? {
            return Ok(con);
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let opened = async {
            let mut con = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(Failure::Redis)?;
            self.load(&mut con).await?;
            Ok(con)
        };
        let con = match opened.await {
            Ok(con) => con,
            Err(e) => {
                // Rest the server before the next waiter is let in.
                lock(&self.conn).next_try = Some(now + self.retry_every);
                return Err(e);
            }
        };
        lock(&self.conn).current = Some(con.clone());
        Ok(con)
    }

    fn ready(&self, now: Instant) -> Result<Option<MultiplexedConnection>, Failure> {
        let c = lock(&self.conn);
        if let Some(con) = &c.current {
            return Ok(Some(con.clone()));
        }
        match c.next_try {
            Some(at) if now < at => Err(Failure::Resting),
            _ => Ok(None),
        }
    }
}
