//! `pclab grads CASE.json`: the engine's answer to a golden case, as JSON on stdout.

use super::{runtime, Failure};
use pclab::case::Case;
use std::path::PathBuf;

/// Arguments of `pclab grads`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A case in the golden schema (Torch2PC or PC tutorial); its sizes, steps and batch
    /// are bounded (see `pclab::case`).
    case: PathBuf,
}

/// Reads the case, evaluates it in f64 and prints the outcome.
pub fn run(args: &Args) -> Result<(), Failure> {
    let path = args.case.display();
    let text = std::fs::read_to_string(&args.case)
        .map_err(|e| runtime(format!("cannot read {path}: {e}")))?;
    let case = Case::from_json(&text).map_err(|e| runtime(format!("{path}: {e}")))?;
    let outcome = case
        .evaluate()
        .map_err(|e| runtime(format!("{path}: {e}")))?;
    let json = serde_json::to_string(&outcome).map_err(runtime)?;
    println!("{json}");
    Ok(())
}
