//! The nonlinearities f of the predictions, with f' (for prediction errors and
//! local weight updates) and f'' (for differentiating through inference).

use crate::error::{PcError, Result};
use crate::linalg::{as_f32, as_f32_mut, real, sigmoid_f32, tanh_f32, to_f64, Real};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// An elementwise nonlinearity f. Written by its name ([`Activation::name`]) in
/// configurations, URLs and saved models.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Activation {
    /// f(x) = x.
    Identity,
    /// f(x) = tanh x, f' = 1 − tanh² x.
    Tanh,
    /// f(x) = σ(x) = 1/(1 + e^{−x}), f' = σ(1 − σ).
    Sigmoid,
    /// f(x) = max(0, x), with f'(0) = 0 as in torch.
    Relu,
    /// f(x) = x for x > 0, slope·x otherwise (torch default slope 0.01).
    LeakyRelu {
        /// The slope for x ≤ 0.
        slope: f64,
    },
    /// f(x) = x·Φ(x), the exact (erf) GELU as torch's default.
    Gelu,
}

impl TryFrom<String> for Activation {
    type Error = PcError;
    fn try_from(name: String) -> Result<Self> {
        Activation::from_name(&name)
    }
}

impl From<Activation> for String {
    fn from(a: Activation) -> String {
        a.name()
    }
}

impl crate::label::Labelled for Activation {
    fn label(&self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Relu => "ReLU",
            Activation::LeakyRelu { .. } => "leaky ReLU",
            Activation::Gelu => "GELU",
        }
    }
}

impl Activation {
    /// Leaky ReLU with torch's default slope 0.01.
    pub const LEAKY_RELU: Activation = Activation::LeakyRelu { slope: 0.01 };

    /// Every activation (leaky ReLU with the default slope), e.g. for a menu.
    pub const ALL: [Activation; 6] = [
        Activation::Identity,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Relu,
        Activation::LEAKY_RELU,
        Activation::Gelu,
    ];

    /// The activation's name: `identity`, `tanh`, `sigmoid`, `relu`, `leaky-relu` (with
    /// another slope than 0.01: `leaky-relu:SLOPE`), `gelu`.
    pub fn name(self) -> String {
        match self {
            Activation::Identity => "identity".into(),
            Activation::Tanh => "tanh".into(),
            Activation::Sigmoid => "sigmoid".into(),
            Activation::Relu => "relu".into(),
            Activation::LeakyRelu { slope } if slope != 0.01 => format!("leaky-relu:{slope}"),
            Activation::LeakyRelu { .. } => "leaky-relu".into(),
            Activation::Gelu => "gelu".into(),
        }
    }

    /// Parses [`Activation::name`]s and torch-style spellings (`linear`, `leaky_relu`).
    pub fn from_name(name: &str) -> Result<Self> {
        let lower = name.to_ascii_lowercase();
        let (base, slope) = match lower.split_once(':') {
            Some((base, slope)) => (base, Some(slope)),
            None => (lower.as_str(), None),
        };
        let unknown = || {
            let known: Vec<String> = Activation::ALL.iter().map(|a| a.name()).collect();
            PcError::Config(format!(
                "unknown activation '{name}' (known: {})",
                known.join(", ")
            ))
        };
        let activation = match base {
            "identity" | "linear" | "none" => Activation::Identity,
            "tanh" => Activation::Tanh,
            "sigmoid" => Activation::Sigmoid,
            "relu" => Activation::Relu,
            "leaky-relu" | "leaky_relu" | "leakyrelu" => match slope {
                None => Activation::LEAKY_RELU,
                Some(s) => Activation::LeakyRelu {
                    slope: s
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite())
                        .ok_or_else(unknown)?,
                },
            },
            "gelu" => Activation::Gelu,
            _ => return Err(unknown()),
        };
        if slope.is_some() && !matches!(activation, Activation::LeakyRelu { .. }) {
            return Err(unknown());
        }
        Ok(activation)
    }

    /// `(f(x), f'(x))`, sharing the work between the two.
    pub fn value_and_derivative<T: Real>(self, x: T) -> (T, T) {
        let zero = T::zero();
        let one = T::one();
        match self {
            Activation::Identity => (x, one),
            Activation::Tanh => {
                let t = x.tanh();
                (t, one - t * t)
            }
            Activation::Sigmoid => {
                let s = one / (one + (-x).exp());
                (s, s * (one - s))
            }
            Activation::Relu => {
                if x > zero {
                    (x, one)
                } else {
                    (zero, zero)
                }
            }
            Activation::LeakyRelu { slope } => {
                if x > zero {
                    (x, one)
                } else {
                    let a = real::<T>(slope);
                    (a * x, a)
                }
            }
            Activation::Gelu => {
                let cdf = real::<T>(0.5 * (1.0 + libm::erf(to_f64(x) / std::f64::consts::SQRT_2)));
                (x * cdf, cdf + x * gaussian_density(x))
            }
        }
    }

    /// f(x).
    pub fn value<T: Real>(self, x: T) -> T {
        self.value_and_derivative(x).0
    }

    /// f'(x).
    pub fn derivative<T: Real>(self, x: T) -> T {
        self.value_and_derivative(x).1
    }

    /// f''(x): −2 tanh(1 − tanh²), σ(1 − σ)(1 − 2σ), φ(x)(2 − x²) for GELU, 0 for the
    /// piecewise-linear ones.
    pub fn second_derivative<T: Real>(self, x: T) -> T {
        let one = T::one();
        let two = real::<T>(2.0);
        match self {
            Activation::Identity | Activation::Relu | Activation::LeakyRelu { .. } => T::zero(),
            Activation::Tanh => {
                let t = x.tanh();
                -two * t * (one - t * t)
            }
            Activation::Sigmoid => {
                let s = one / (one + (-x).exp());
                s * (one - s) * (one - two * s)
            }
            Activation::Gelu => gaussian_density(x) * (two - x * x),
        }
    }

    /// `value = f(x)` and `slope = f'(x)` elementwise, in one pass; counts one FLOP per
    /// element for each of the two.
    pub(crate) fn evaluate<T: Real>(
        self,
        x: &DMatrix<T>,
        value: &mut DMatrix<T>,
        slope: &mut DMatrix<T>,
        flops: &mut u64,
    ) {
        *flops += 2 * x.len() as u64;
        if let (Some(x), Some(value), Some(slope)) =
            (as_f32(x), as_f32_mut(value), as_f32_mut(slope))
        {
            return self.evaluate_f32(x, value, slope);
        }
        let pairs = value.as_mut_slice().iter_mut().zip(slope.as_mut_slice());
        for ((v, s), &x) in pairs.zip(x.as_slice()) {
            (*v, *s) = self.value_and_derivative(x);
        }
    }

    /// [`Activation::evaluate`] on f32 slices: tanh and σ through vectorisable
    /// polynomials instead of one libm call per element (the bulk of PC's time otherwise).
    fn evaluate_f32(self, x: &[f32], value: &mut [f32], slope: &mut [f32]) {
        let pairs = value.iter_mut().zip(slope.iter_mut()).zip(x);
        match self {
            Activation::Tanh => pairs.for_each(|((v, s), &x)| {
                let t = tanh_f32(x);
                (*v, *s) = (t, 1.0 - t * t);
            }),
            Activation::Sigmoid => pairs.for_each(|((v, s), &x)| {
                let y = sigmoid_f32(x);
                (*v, *s) = (y, y * (1.0 - y));
            }),
            _ => pairs.for_each(|((v, s), &x)| (*v, *s) = self.value_and_derivative(x)),
        }
    }
}

/// The standard normal density φ(x) = e^{−x²/2}/√(2π).
fn gaussian_density<T: Real>(x: T) -> T {
    let inv_sqrt_2pi = real::<T>(1.0 / (2.0 * std::f64::consts::PI).sqrt());
    (-(x * x) / real::<T>(2.0)).exp() * inv_sqrt_2pi
}
