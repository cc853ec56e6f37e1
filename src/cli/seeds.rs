//! `--seeds`: the same run repeated for several seeds, and the mean ± sample standard
//! deviation of what they measured.

use serde_json::{json, Map, Value};

/// The most seeds one command may run.
pub const MAX_SEEDS: usize = pclab::config::SWEEP_LIMITS.seeds;

/// Seeds from `--seeds`: a range `A..B` (B excluded), `A..=B`, or a list `0,1,2`.
#[derive(Clone, Debug, PartialEq)]
pub struct Seeds(pub Vec<u64>);

/// Parses `--seeds` (clap's value parser): at least one seed, at most [`MAX_SEEDS`], no
/// repeats.
pub fn parse(text: &str) -> Result<Seeds, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("{s:?} is not a seed (a whole number 0 to {})", u64::MAX))
    };
    let seeds: Vec<u64> = if let Some((from, to)) = text.split_once("..") {
        let (to, inclusive) = match to.strip_prefix('=') {
            Some(to) => (to, true),
            None => (to, false),
        };
        let (from, to) = (number(from)?, number(to)?);
        let end = if inclusive {
            to.checked_add(1)
        } else {
            Some(to)
        };
        let count = end.map_or(u64::MAX, |end| end.saturating_sub(from));
        if count > MAX_SEEDS as u64 {
            return Err(format!("{text} is more than {MAX_SEEDS} seeds"));
        }
        (0..count).map(|i| from + i).collect()
    } else {
        text.split(',').map(number).collect::<Result<_, _>>()?
    };
    if seeds.is_empty() {
        return Err(format!(
            "{text} names no seed (ranges exclude their end: 0..5 is 0 to 4)"
        ));
    }
    if seeds.len() > MAX_SEEDS {
        return Err(format!("{} seeds: at most {MAX_SEEDS}", seeds.len()));
    }
    if let Some(seed) = seeds
        .iter()
        .find(|s| seeds.iter().filter(|t| t == s).count() > 1)
    {
        return Err(format!("seed {seed} is listed twice"));
    }
    Ok(Seeds(seeds))
}

/// One metric over the seeds, as JSON (`null` where a run did not measure it) and as
/// `mean ± sd` for the table.
fn summarise(values: &[Option<f64>]) -> (Value, String) {
    let Some(values) = values.iter().copied().collect::<Option<Vec<f64>>>() else {
        return (Value::Null, "-".into());
    };
    let pclab::stats::MeanSd { mean, sd, .. } = pclab::stats::mean_sd(&values);
    (
        json!({ "mean": mean, "sd": sd, "values": values }),
        format!("{mean:.4} ± {sd:.4}"),
    )
}

/// Prints a table of the runs' final accuracy and MSE, one row per seed and a
/// `mean ± sd` row, on stderr, and returns the summary line
/// `{"summary": {…fields, "seeds", "accuracy", "mse"}}`.
pub fn summary(
    seeds: &[u64],
    accuracy: &[Option<f64>],
    mse: &[Option<f64>],
    mut fields: Map<String, Value>,
) -> Value {
    eprintln!("{:>20}  {:>17}  {:>17}", "seed", "accuracy", "mse");
    for ((seed, a), m) in seeds.iter().zip(accuracy).zip(mse) {
        let cell = |v: &Option<f64>| v.map_or("-".into(), |v| format!("{v:.4}"));
        eprintln!("{seed:>20}  {:>17}  {:>17}", cell(a), cell(m));
    }
    let (accuracy, accuracy_text) = summarise(accuracy);
    let (mse, mse_text) = summarise(mse);
    eprintln!("{:>20}  {accuracy_text:>17}  {mse_text:>17}", "mean ± sd");
    fields.insert("seeds".into(), json!(seeds));
    fields.insert("accuracy".into(), accuracy);
    fields.insert("mse".into(), mse);
    json!({ "summary": fields })
}
