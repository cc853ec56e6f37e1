//! `pclab bench`: times the library's fixed workloads ([`pclab::bench`]); one JSON object
//! per workload on stdout, a table on stderr.

use super::{runtime, usage, Failure};
use std::time::Instant;

/// The longest time one workload may be given.
const MAX_SECONDS: f64 = 600.0;

/// Arguments of `pclab bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seconds to spend on each workload (after one warm-up run): 0 < s ≤ 600.
    #[arg(long, default_value_t = 2.0, value_parser = seconds, allow_negative_numbers = true)]
    seconds: f64,
    /// Only the workloads whose name contains this.
    #[arg(long, default_value = "")]
    only: String,
}

/// Parses `--seconds`: a finite number in (0, [`MAX_SECONDS`]].
fn seconds(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && *s <= MAX_SECONDS)
        .ok_or_else(|| format!("must be a number of seconds above 0 and at most {MAX_SECONDS}"))
}

/// Runs every workload for about `seconds` and prints what it measured.
pub fn run(args: &Args) -> Result<(), Failure> {
    let workloads: Vec<_> = pclab::bench::workloads()
        .map_err(runtime)?
        .into_iter()
        .filter(|w| w.name.contains(&args.only))
        .collect();
    if workloads.is_empty() {
        return Err(usage(format!("no workload name contains {:?}", args.only)));
    }
    eprintln!(
        "{:<26} {:>6} {:>12} {:>9} {:>14}",
        "workload", "runs", "samples/s", "GFLOP/s", "FLOPs/sample"
    );
    let origin = Instant::now();
    for w in workloads {
        let m = pclab::bench::measure(w, args.seconds, || origin.elapsed().as_secs_f64())
            .map_err(runtime)?;
        eprintln!(
            "{:<26} {:>6} {:>12.0} {:>9.2} {:>14.0}",
            m.name, m.runs, m.samples_per_s, m.gflops_per_s, m.flops_per_sample
        );
        println!("{}", serde_json::to_string(&m).map_err(runtime)?);
    }
    Ok(())
}
