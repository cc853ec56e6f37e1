//! `pclab bench`: times the library's fixed workloads ([`pclab::bench`]); one JSON object
//! per workload on stdout, a table on stderr.

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

/// Runs every workload for about `seconds` and prints what it measured.
pub fn run(args: &Args) -> Result<(), String> {
    let workloads = pclab::bench::workloads().map_err(|e| e.to_string())?;
    eprintln!(
        "{:<26} {:>6} {:>12} {:>9} {:>14}",
        "workload", "runs", "samples/s", "GFLOP/s", "FLOPs/sample"
    );
    let origin = Instant::now();
    for mut w in workloads
        .into_iter()
        .filter(|w| w.name.contains(&args.only))
    {
        let m = pclab::bench::measure(&mut w, args.seconds, || origin.elapsed().as_secs_f64())
            .map_err(|e| e.to_string())?;
        eprintln!(
            "{:<26} {:>6} {:>12.0} {:>9.2} {:>14.0}",
            m.name, m.runs, m.samples_per_s, m.gflops_per_s, m.flops_per_sample
        );
        println!("{}", serde_json::to_string(&m).map_err(|e| e.to_string())?);
    }
    Ok(())
}
