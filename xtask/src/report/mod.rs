//! What runners report ([`model`]), how it is summarised ([`stats`]) and
//! how it is shown ([`table`]; the timeline is in `svg.rs`).

mod model;
mod stats;
mod table;
#[cfg(test)]
pub(crate) mod tests;

pub use model::{ErrorCounts, Outcome, RunOutput, RuntimeResult, ScenarioReport, Skipped, Span};
pub use stats::{ideal_s, median_run, parse_vm_hwm, summarize};
pub use table::{align, or_dash, render_table, tenths};
