//! The experiments a lecture shows, wired in one table ([`Experiment::spec`]): what sits
//! at each end of the network, which rules and inference methods apply, and which views
//! the page has. The trainer, the views, the wasm boundary and the page read the table;
//! a new experiment is one new entry.
//!
//! - **classify**: image at layer 0, one-hot label at layer L (clamped during learning);
//!   at test time the feedforward prediction `argmax v̂_L`.
//! - **compress**: a PC decoder `latent → … → image`; the latent layer 0 is free and
//!   inferred, the image at layer L clamped. BP trains an autoencoder
//!   `image → … → latent → … → image` on the reconstruction.
//! - **generate**: the class one-hot at layer 0 predicts the image at layer L. Generating
//!   is a feedforward pass from a class; classifying infers a free layer 0 from an image.
//! - **tradeoff**: the compress decoder plus a linear classifier read from the latent,
//!   trained on `(1−λ)·reconstruction + λ·cross-entropy`.

use crate::label::Labelled;
use serde::{Deserialize, Serialize};

/// What the network learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Experiment {
    /// Image → label.
    Classify,
    /// Inferred latent → image (PC decoder) or image → latent → image (BP autoencoder).
    Compress,
    /// Class → image; classify by inferring the class.
    Generate,
    /// Inferred latent → image, and latent → class: reconstruction against classification.
    Tradeoff,
}

/// How the weights learn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Local PC updates from the prediction errors after inference.
    Pc,
    /// Backpropagation of the output energy through the feedforward pass.
    Bp,
    /// Backpropagation of an outer loss on the settled latent through every inference step.
    BpThroughInference,
}

/// The inference variant used by the PC rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InferenceKind {
    /// Gradient descent on the total energy (the tutorial's PC).
    Standard,
    /// Torch2PC's Strict.
    Strict,
    /// Torch2PC's FixedPred.
    FixedPrediction,
    /// Torch2PC's Exact (errors are the BP gradients).
    Exact,
}

impl Rule {
    /// Every rule, in menu order.
    pub const ALL: [Rule; 3] = [Rule::Pc, Rule::Bp, Rule::BpThroughInference];
}

impl Labelled for Rule {
    fn label(&self) -> &'static str {
        match self {
            Rule::Pc => "predictive coding (PC)",
            Rule::Bp => "backpropagation (BP)",
            Rule::BpThroughInference => "BP through inference",
        }
    }

    /// The run's name in legends and the metric bar.
    fn short(&self) -> &'static str {
        match self {
            Rule::Pc => "PC",
            Rule::Bp => "BP",
            Rule::BpThroughInference => "BP through inference",
        }
    }
}

impl Labelled for InferenceKind {
    fn label(&self) -> &'static str {
        match self {
            InferenceKind::Standard => "standard",
            InferenceKind::Strict => "strict (Torch2PC)",
            InferenceKind::FixedPrediction => "fixed prediction (Torch2PC)",
            InferenceKind::Exact => "exact (Torch2PC)",
        }
    }
}

impl Labelled for Experiment {
    fn label(&self) -> &'static str {
        match self {
            Experiment::Classify => "classify digits",
            Experiment::Compress => "compress to a code",
            Experiment::Generate => "generate from a class",
            Experiment::Tradeoff => "reconstruct and classify",
        }
    }
}

impl InferenceKind {
    /// Every inference method, in menu order.
    pub const ALL: [InferenceKind; 4] = [
        InferenceKind::Standard,
        InferenceKind::Strict,
        InferenceKind::FixedPrediction,
        InferenceKind::Exact,
    ];

    /// Whether the method is written for hidden layers whose belief is a distribution
    /// (`v = m(φ)`, categorical or Bernoulli): standard and strict descend φ; exact and
    /// fixed-prediction assume Gaussian hidden layers.
    pub fn handles_distribution_layers(self) -> bool {
        matches!(self, InferenceKind::Standard | InferenceKind::Strict)
    }
}

/// What a layer at one end of the network holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum End {
    /// The image, clamped to the data.
    Image,
    /// The class as a one-hot vector, clamped to the label during learning.
    Label,
    /// A free latent, inferred from a zero start.
    Latent,
}

/// A view of a run that the page can show (one panel each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    /// Loss, energy and test metrics over training.
    Training,
    /// One digit's beliefs settling, step by step.
    Inference,
    /// Test images and their reconstructions.
    Reconstructions,
    /// Class probabilities, confusion matrix and a drawing pad.
    Classification,
    /// Images generated from a class.
    Generation,
    /// PC-vs-BP gradient cosines as T grows (needs both ends clamped).
    Gradients,
    /// Accuracy against reconstruction error over λ.
    Tradeoff,
    /// A VAE trained by BP and by PC side by side: test MSE, reconstructions, prior samples.
    Vae,
    /// FLOPs by phase.
    Cost,
    /// The weights that touch the image.
    Weights,
}

/// One row of the experiment table.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Spec {
    /// What the experiment shows, in one line.
    pub summary: &'static str,
    /// Layer 0.
    pub bottom: End,
    /// Layer L.
    pub top: End,
    /// A linear classifier read from the latent, trained with weight λ.
    pub classifier: bool,
    /// The learning rules that apply.
    pub rules: &'static [Rule],
    /// The inference methods that apply (Torch2PC's need both ends clamped).
    pub inferences: &'static [InferenceKind],
    /// The preset a run of this experiment starts from when the experiment is chosen.
    pub preset: &'static str,
    /// The views the page shows, the key figure first.
    pub views: &'static [View],
    /// The test images an evaluation while training uses: `None`, the whole test split;
    /// `Some(n)`, `n` images spread over it (an estimate, cheap enough to refresh often,
    /// for the experiments that infer a latent to test).
    pub test_samples: Option<usize>,
}

/// The test images an experiment that infers a latent to test is evaluated on while it
/// trains (see [`Spec::test_samples`]).
pub const TEST_SAMPLE: usize = 500;

const EVERY_INFERENCE: &[InferenceKind] = &InferenceKind::ALL;
const STANDARD_ONLY: &[InferenceKind] = &[InferenceKind::Standard];

impl Experiment {
    /// Every experiment, in menu order.
    pub const ALL: [Experiment; 4] = [
        Experiment::Classify,
        Experiment::Compress,
        Experiment::Generate,
        Experiment::Tradeoff,
    ];

    /// The experiment table: the one place that says what each experiment is.
    pub fn spec(self) -> Spec {
        use View::*;
        match self {
            Experiment::Classify => Spec {
                summary: "image in, label out: the network learns to classify digits",
                bottom: End::Image,
                top: End::Label,
                classifier: false,
                rules: &[Rule::Pc, Rule::Bp],
                inferences: EVERY_INFERENCE,
                preset: "classification",
                test_samples: None,
                views: &[
                    Training,
                    Classification,
                    Inference,
                    Weights,
                    Gradients,
                    Cost,
                ],
            },
            Experiment::Compress => Spec {
                summary: "a latent code is inferred for each image and decoded back to it",
                bottom: End::Latent,
                top: End::Image,
                classifier: false,
                rules: &[Rule::Pc, Rule::Bp, Rule::BpThroughInference],
                inferences: STANDARD_ONLY,
                preset: "compression",
                test_samples: Some(TEST_SAMPLE),
                views: &[Reconstructions, Training, Inference, Weights, Cost],
            },
            Experiment::Generate => Spec {
                summary: "a class predicts an image; classifying infers the class from an image",
                bottom: End::Label,
                top: End::Image,
                classifier: false,
                rules: &[Rule::Pc, Rule::Bp],
                inferences: STANDARD_ONLY,
                preset: "generation",
                test_samples: Some(TEST_SAMPLE),
                views: &[
                    Generation,
                    Vae,
                    Training,
                    Classification,
                    Inference,
                    Weights,
                    Cost,
                ],
            },
            Experiment::Tradeoff => Spec {
                summary: "one latent must both reconstruct the image and tell its class",
                bottom: End::Latent,
                top: End::Image,
                classifier: true,
                rules: &[Rule::Pc, Rule::BpThroughInference],
                inferences: STANDARD_ONLY,
                preset: "tradeoff",
                test_samples: Some(TEST_SAMPLE),
                views: &[
                    Tradeoff,
                    Training,
                    Reconstructions,
                    Classification,
                    Inference,
                    Weights,
                    Cost,
                ],
            },
        }
    }
}

impl Spec {
    /// Whether the image is the network's input (layer 0), as opposed to its prediction.
    pub fn image_is_input(&self) -> bool {
        self.bottom == End::Image
    }

    /// Whether test images are reconstructed through an inferred latent.
    pub fn reconstructs(&self) -> bool {
        self.bottom == End::Latent && self.top == End::Image
    }

    /// Whether a class is predicted for a test image (from the top, the bottom or a
    /// classifier on the latent).
    pub fn classifies(&self) -> bool {
        self.top == End::Label || self.bottom == End::Label || self.classifier
    }

    /// Whether images are generated from a class.
    pub fn generates(&self) -> bool {
        self.bottom == End::Label && self.top == End::Image
    }

    /// Whether the network is a generative model of the image that can be sampled: a class
    /// or a latent code at layer 0 predicting the image at layer L.
    pub fn samples(&self) -> bool {
        self.top == End::Image && self.bottom != End::Image
    }

    /// Whether `view` belongs to this experiment.
    pub fn has(&self, view: View) -> bool {
        self.views.contains(&view)
    }
}
