//! Statistics over repeated runs: the mean and sample standard deviation of a measurement
//! over seeds, as the README's results and the page's error bars report them.

use serde::{Deserialize, Serialize};

/// A measurement over runs: `mean = Σ x_i / n`, `sd = √(Σ (x_i − mean)² / (n − 1))` (the
/// sample standard deviation; NaN for fewer than two values), and the values themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanSd {
    /// The mean of the values.
    pub mean: f64,
    /// The sample standard deviation (NaN for one value).
    pub sd: f64,
    /// The values, in run order.
    pub values: Vec<f64>,
}

/// The mean and sample standard deviation of `values` (both NaN when empty).
pub fn mean_sd(values: &[f64]) -> MeanSd {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    MeanSd {
        mean,
        sd,
        values: values.to_vec(),
    }
}
