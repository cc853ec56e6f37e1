//! `pclab bench`: times the library's fixed workloads ([`pclab::bench`]); one JSON object
//! per workload on stdout, a table on stderr.

use serde_json::json;
use std::time::Instant;

/// Arguments of `pclab bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seconds to spend on each workload (after one warm-up run).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Only the workloads whose name contains this.
    #[arg(long, default_value = "")]
    only: String,
}

/// Runs every workload for about `seconds`; rates come from the median run time, which a
/// busy machine disturbs less than the mean.
pub fn run(args: &Args) -> Result<(), String> {
    let workloads = pclab::bench::workloads().map_err(|e| e.to_string())?;
    eprintln!(
        "{:<26} {:>6} {:>12} {:>9} {:>14}",
        "workload", "runs", "samples/s", "GFLOP/s", "FLOPs/sample"
    );
    for mut w in workloads
        .into_iter()
        .filter(|w| w.name.contains(&args.only))
    {
        let flops = w.run().map_err(|e| e.to_string())?;
        let mut times = Vec::new();
        let start = Instant::now();
        while times.len() < 3 || start.elapsed().as_secs_f64() < args.seconds {
            let t = Instant::now();
            w.run().map_err(|e| e.to_string())?;
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let per_sample = flops as f64 / w.samples as f64;
        let (samples_per_s, gflops_per_s) =
            (w.samples as f64 / median, flops as f64 / median / 1e9);
        eprintln!(
            "{:<26} {:>6} {samples_per_s:>12.0} {gflops_per_s:>9.2} {per_sample:>14.0}",
            w.name,
            times.len()
        );
        let line = json!({
            "name": w.name,
            "samples_per_s": samples_per_s,
            "gflops_per_s": gflops_per_s,
            "flops_per_sample": per_sample,
        });
        println!("{line}");
    }
    Ok(())
}
