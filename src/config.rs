//! The configuration of a training run, written once: every hyperparameter with its
//! bounds ([`FIELDS`]), the presets ([`PRESETS`]), how settings are parsed from CLI flags
//! and URL keys, and the [`Schema`] the page builds its controls from.

use crate::activation::Activation;
use crate::energy::{LayerEnergy, Reduction};
use crate::error::{PcError, Result};
use crate::experiment::{End, Experiment, InferenceKind, Rule, View};
use crate::inference::{Inference, Standard};
use crate::label::Labelled;
use crate::optimizer::OptimizerConfig;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The optimiser of the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// torch Adam.
    Adam,
    /// Plain SGD.
    Sgd,
    /// SGD with momentum 0.9.
    Momentum,
}

/// The output layer's energy (the task loss).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputEnergy {
    /// `½‖y − μ‖²`.
    Gaussian,
    /// Softmax cross-entropy.
    Categorical,
    /// Binary cross-entropy on logits.
    Bernoulli,
}

/// The output block's activation: chosen by the experiment and energy, or fixed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum OutputActivation {
    /// The identity under categorical and Bernoulli energies (their mean squashes), the
    /// sigmoid for a predicted image, the hidden activation for a Gaussian classifier.
    Auto,
    /// This activation.
    Fixed(Activation),
}

impl Labelled for OptimizerKind {
    fn label(&self) -> &'static str {
        match self {
            OptimizerKind::Adam => "Adam",
            OptimizerKind::Sgd => "SGD",
            OptimizerKind::Momentum => "SGD with momentum 0.9",
        }
    }
}

impl Labelled for OutputEnergy {
    fn label(&self) -> &'static str {
        match self {
            OutputEnergy::Gaussian => "Gaussian (squared error)",
            OutputEnergy::Categorical => "categorical (softmax)",
            OutputEnergy::Bernoulli => "Bernoulli (sigmoid)",
        }
    }
}

impl Labelled for OutputActivation {
    fn label(&self) -> &'static str {
        match self {
            OutputActivation::Auto => "auto (fits the energy)",
            OutputActivation::Fixed(a) => a.label(),
        }
    }
}

impl TryFrom<String> for OutputActivation {
    type Error = PcError;
    fn try_from(name: String) -> Result<Self> {
        match name.as_str() {
            "auto" => Ok(OutputActivation::Auto),
            _ => Activation::from_name(&name).map(OutputActivation::Fixed),
        }
    }
}

impl From<OutputActivation> for String {
    fn from(a: OutputActivation) -> String {
        match a {
            OutputActivation::Auto => "auto".into(),
            OutputActivation::Fixed(a) => a.name(),
        }
    }
}

/// Every hyperparameter of a training run. Field names are the CLI flags and URL keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub experiment: Experiment,
    pub rule: Rule,
    pub inference: InferenceKind,
    pub form: crate::network::PredictionForm,
    /// Hidden layer sizes between the two ends.
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub output_activation: OutputActivation,
    pub output_energy: OutputEnergy,
    /// The hidden layers' energy (the same three choices): a categorical or Bernoulli
    /// hidden layer holds a distribution belief (see [`crate::energy`]).
    pub hidden_energy: OutputEnergy,
    /// Inference steps T.
    pub steps: usize,
    pub inference_lr: f64,
    pub inference_momentum: f64,
    /// Sum the weight gradients over all inference states (the tutorial's code).
    pub accumulate: bool,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    /// The learning rate is multiplied by this at the end of every epoch (1: constant).
    pub lr_decay: f64,
    pub weight_decay: f64,
    pub batch: usize,
    pub seed: u64,
    /// Data augmentation: training images shift by up to this many pixels (0: off).
    pub augment: usize,
    /// Size of the inferred latent (compress, tradeoff).
    pub latent: usize,
    /// λ, the weight of the cross-entropy against the reconstruction (tradeoff).
    pub lambda: f64,
}

impl Default for Config {
    /// The classification experiment's base settings (the presets start from these).
    fn default() -> Self {
        Config {
            experiment: Experiment::Classify,
            rule: Rule::Pc,
            inference: InferenceKind::Standard,
            form: crate::network::PredictionForm::Post,
            hidden: vec![128, 128, 128],
            activation: Activation::Tanh,
            output_activation: OutputActivation::Auto,
            output_energy: OutputEnergy::Categorical,
            hidden_energy: OutputEnergy::Gaussian,
            steps: 8,
            inference_lr: 0.1,
            inference_momentum: 0.5,
            accumulate: false,
            optimizer: OptimizerKind::Adam,
            lr: 1e-3,
            lr_decay: 1.0,
            weight_decay: 0.0,
            batch: 128,
            seed: 1,
            augment: 0,
            latent: 64,
            lambda: 0.5,
        }
    }
}

/// One value of a choice: its stable name and what the page shows for it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choice {
    /// The stable name (URL, CLI, saved models).
    pub name: String,
    /// What a control shows.
    pub label: &'static str,
    /// What a legend shows.
    pub short: &'static str,
}

/// Each of `values` with its name, label and short name.
fn choices<E: Labelled>(values: &[E]) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            name: name(v),
            label: v.label(),
            short: v.short(),
        })
        .collect()
}

/// What values a setting takes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Kind {
    /// One of these values.
    Choice { choices: Vec<Choice> },
    /// A whole number in `min..=max`.
    Int { min: u64, max: u64 },
    /// A number in `[min, max]`, or `(min, max]` when `above`.
    Number { min: f64, max: f64, above: bool },
    /// `true` or `false`.
    Bool,
    /// Up to `max_len` layer sizes, each in `min..=max`.
    Sizes { min: u64, max: u64, max_len: usize },
}

/// One setting: its config field, its short URL key, and the values it takes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Field {
    /// The config field (and CLI flag).
    pub name: &'static str,
    /// The URL key (the page's and the CLI's alias).
    pub key: &'static str,
    /// The values it takes.
    #[serde(flatten)]
    pub kind: Kind,
}

/// The largest layer (hidden or latent) a configuration may ask for.
pub const MAX_UNITS: u64 = 4096;
/// The most hidden layers.
pub const MAX_HIDDEN_LAYERS: usize = 16;
/// The most inference steps T.
pub const MAX_STEPS: u64 = 1000;
/// The largest minibatch.
pub const MAX_BATCH: u64 = 8192;
/// The largest learning rate (of the weights or the beliefs): large enough to show a
/// run diverging.
pub const MAX_RATE: f64 = 1e30;
/// The largest seed (exact as a JavaScript number, as the page holds it).
pub const MAX_SEED: u64 = (1 << 32) - 1;

/// A bound as messages write it: `1e30`, not thirty-one digits.
fn show(x: f64) -> String {
    if x.abs() >= 1e6 {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// The serde name of one value (a serde enum's name).
pub fn name<E: Serialize>(value: &E) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Every setting, in the order the controls show them.
pub fn fields() -> Vec<Field> {
    use crate::network::PredictionForm;
    let choice = |name, choices| Field {
        name,
        key: name,
        kind: Kind::Choice { choices },
    };
    let int = |name, key, min, max| Field {
        name,
        key,
        kind: Kind::Int { min, max },
    };
    let number = |name, min, max, above| Field {
        name,
        key: name,
        kind: Kind::Number { min, max, above },
    };
    let mut output_activations = vec![OutputActivation::Auto];
    output_activations.extend(Activation::ALL.map(OutputActivation::Fixed));
    let energies = choices(&[
        OutputEnergy::Gaussian,
        OutputEnergy::Categorical,
        OutputEnergy::Bernoulli,
    ]);
    vec![
        choice("experiment", choices(&Experiment::ALL)),
        choice("rule", choices(&Rule::ALL)),
        choice("inference", choices(&InferenceKind::ALL)),
        choice(
            "form",
            choices(&[PredictionForm::Post, PredictionForm::Pre]),
        ),
        Field {
            name: "hidden",
            key: "hidden",
            kind: Kind::Sizes {
                min: 1,
                max: MAX_UNITS,
                max_len: MAX_HIDDEN_LAYERS,
            },
        },
        choice("activation", choices(&Activation::ALL)),
        choice("output_activation", choices(&output_activations)),
        choice("output_energy", energies.clone()),
        choice("hidden_energy", energies),
        int("steps", "T", 1, MAX_STEPS),
        number("inference_lr", 0.0, MAX_RATE, true),
        number("inference_momentum", 0.0, 0.999, false),
        Field {
            name: "accumulate",
            key: "accumulate",
            kind: Kind::Bool,
        },
        choice(
            "optimizer",
            choices(&[
                OptimizerKind::Adam,
                OptimizerKind::Sgd,
                OptimizerKind::Momentum,
            ]),
        ),
        number("lr", 0.0, MAX_RATE, true),
        number("lr_decay", 0.0, 1.0, false),
        number("weight_decay", 0.0, 1.0, false),
        int("batch", "batch", 1, MAX_BATCH),
        int("seed", "seed", 0, MAX_SEED),
        int("augment", "augment", 0, 4),
        int("latent", "latent", 1, MAX_UNITS),
        number("lambda", 0.0, 1.0, false),
    ]
}

/// The field a CLI flag or URL key names (`-` may stand for `_`; the URL key is an alias).
pub fn field(key: &str) -> Option<Field> {
    let name = key.replace('-', "_");
    fields()
        .into_iter()
        .find(|f| f.name == name || f.key == key)
}

impl Field {
    /// Checks a value of this field; the message names the field and the bounds.
    fn check(&self, value: &Value) -> Result<()> {
        let bad = |why: String| {
            Err(PcError::Config(format!(
                "{} must be {why}, got {value}",
                self.label()
            )))
        };
        match &self.kind {
            Kind::Int { min, max } => match value.as_u64() {
                Some(n) if (*min..=*max).contains(&n) => Ok(()),
                _ => bad(format!("a whole number from {min} to {max}")),
            },
            Kind::Number { min, max, above } => match value.as_f64() {
                Some(x) if x <= *max && (x > *min || (!above && x == *min)) => Ok(()),
                _ if *above => bad(format!("above {} and at most {}", show(*min), show(*max))),
                _ => bad(format!("from {} to {}", show(*min), show(*max))),
            },
            Kind::Sizes { min, max, max_len } => {
                let sizes = value.as_array().map(|a| a.iter().map(Value::as_u64));
                match sizes {
                    Some(s) if s.len() <= *max_len => {
                        if s.clone()
                            .all(|n| n.is_some_and(|n| (*min..=*max).contains(&n)))
                        {
                            Ok(())
                        } else {
                            bad(format!("layer sizes from {min} to {max}"))
                        }
                    }
                    _ => bad(format!("at most {max_len} layer sizes")),
                }
            }
            Kind::Choice { .. } | Kind::Bool => Ok(()),
        }
    }

    /// `name` or `name (key)`, as messages call it.
    fn label(&self) -> String {
        if self.key == self.name {
            self.name.to_string()
        } else {
            format!("{} ({})", self.name, self.key)
        }
    }

    /// Parses one setting's text: numbers as numbers, sizes as comma-separated whole
    /// numbers, booleans as `true/false/1/0`, names as names.
    fn parse(&self, text: &str) -> Result<Value> {
        let text = text.trim();
        let bad = |what: &str| {
            PcError::Config(format!(
                "setting {}={text:?}: expected {what}",
                self.label()
            ))
        };
        let whole = |t: &str| {
            let t = t.trim();
            (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<u64>().ok())
                .flatten()
        };
        Ok(match &self.kind {
            Kind::Choice { choices } => {
                if !choices.iter().any(|c| c.name == text) {
                    let names: Vec<&str> = choices.iter().map(|c| c.name.as_str()).collect();
                    return Err(bad(&format!("one of {}", names.join(", "))));
                }
                Value::from(text)
            }
            Kind::Bool => match text {
                "true" | "1" | "on" => Value::Bool(true),
                "false" | "0" | "off" => Value::Bool(false),
                _ => return Err(bad("true or false")),
            },
            Kind::Int { .. } => Value::from(whole(text).ok_or_else(|| bad("a whole number"))?),
            Kind::Number { .. } => {
                let x: f64 = text.parse().map_err(|_| bad("a number"))?;
                serde_json::Number::from_f64(x)
                    .map(Value::Number)
                    .ok_or_else(|| bad("a finite number"))?
            }
            Kind::Sizes { .. } => Value::from(
                text.split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| whole(s).ok_or_else(|| bad("comma-separated sizes like 128,128")))
                    .collect::<Result<Vec<u64>>>()?,
            ),
        })
    }
}

/// A named starting point for a lecture: a configuration and how the page shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Preset {
    /// The URL's `preset=` name.
    pub name: &'static str,
    /// What it shows, in one line.
    pub summary: &'static str,
    /// The second run the page trains beside it, if any.
    pub compare: Compare,
    /// The view that leads the page.
    pub lead: View,
    /// The configuration.
    pub config: Config,
}

/// A second run trained beside the first, on identical batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    /// One run.
    Off,
    /// The same network trained by the other rule: PC against BP where data sit at both
    /// ends (classify, generate), against BP through inference where layer 0 is an inferred
    /// latent (compress, tradeoff), on identical batches.
    Bp,
    /// PC's clean weight rule against the tutorial's gradient accumulated over T+1 states.
    Accumulate,
}

/// The names of the presets, in menu order.
pub const PRESET_NAMES: [&str; 8] = [
    "classification",
    "compression",
    "dynamics",
    "generation",
    "tradeoff",
    "gradients",
    "tplus1",
    "tutorial",
];

/// Every preset, in menu order.
pub fn presets() -> Vec<Preset> {
    PRESET_NAMES
        .iter()
        .filter_map(|name| preset(name).ok())
        .collect()
}

/// The preset called `name`.
pub fn preset(name: &str) -> Result<Preset> {
    let unknown = || {
        PcError::Config(format!(
            "unknown preset {name:?} (known: {})",
            PRESET_NAMES.join(", ")
        ))
    };
    let name: &'static str = PRESET_NAMES
        .iter()
        .copied()
        .find(|&n| n == name)
        .ok_or_else(unknown)?;
    let base = Config::default();
    // The tutorial's three hidden layers, 256 wide, with one-pixel shifts and a decaying
    // rate, the same for both rules: over seeds 0–4 after 25 epochs, PC 96.19 ± 0.30% and
    // BP 96.48 ± 0.24% (README). At 128 wide PC reached 95.64 ± 0.33%, BP 96.19 ± 0.19%.
    let classification = Config {
        hidden: vec![256, 256, 256],
        augment: 1,
        lr_decay: 0.92,
        ..base.clone()
    };
    // The tutorial's decoder 64-384-784 and T = 35, with a faster latent
    // inference (rate 0.3, momentum 0.8) and weight rate: test MSE < 0.012 in 5 epochs.
    let compression = Config {
        experiment: Experiment::Compress,
        hidden: vec![384],
        output_energy: OutputEnergy::Gaussian,
        steps: 35,
        inference_lr: 0.3,
        inference_momentum: 0.8,
        lr: 2e-3,
        batch: 250,
        ..base.clone()
    };
    let make = |summary, compare, lead, config| {
        Ok(Preset {
            name,
            summary,
            compare,
            lead,
            config,
        })
    };
    match name {
        "classification" => make(
            "PC learns to classify digits with a 784-256-256-256-10 network",
            Compare::Off,
            View::Training,
            classification,
        ),
        "compression" => make(
            "a PC decoder infers a 64-number code for each digit and redraws it",
            Compare::Off,
            View::Reconstructions,
            compression,
        ),
        // The same decoder trained by both rules on the same batches; 100 a batch keeps BP
        // through 35 inference steps within the page's budget per step.
        "dynamics" => make(
            "one decoder trained by PC and by BP through its inference: how each infers a digit",
            Compare::Bp,
            View::Inference,
            Config {
                batch: 100,
                ..compression
            },
        ),
        "generation" => make(
            "a class predicts an image: the network learns to draw each digit",
            Compare::Off,
            View::Generation,
            Config {
                experiment: Experiment::Generate,
                hidden: vec![64, 256],
                output_energy: OutputEnergy::Gaussian,
                steps: 20,
                batch: 64,
                ..base
            },
        ),
        "tradeoff" => make(
            "reconstruction against classification from one inferred latent, over λ",
            Compare::Off,
            View::Tradeoff,
            Config {
                experiment: Experiment::Tradeoff,
                hidden: vec![256],
                output_energy: OutputEnergy::Gaussian,
                steps: 20,
                ..base
            },
        ),
        "gradients" => make(
            "how close PC's weight gradients come to BP's as inference runs longer",
            Compare::Off,
            View::Gradients,
            classification,
        ),
        "tplus1" => make(
            "the tutorial's weight gradient summed over T+1 states against PC's clean rule",
            Compare::Accumulate,
            View::Training,
            classification,
        ),
        // The PC tutorial's own classification settings: leaky ReLU on every block
        // (output too), squared-error output energy, T = 8 at rate 0.5 with momentum
        // 0.8 on Σ‖ε‖², weight gradients summed over the inference states as its code
        // does, Adam 2.715e-4 with L2 decay 0.02715, batch 128. Our energies are ½‖ε‖²,
        // half of theirs, so the rate doubles to 1.0 and the decay halves (Adam ignores
        // the gradient's scale but not the decay's share of it). It learns as slowly as
        // theirs: 35% and 49% after epochs 1 and 2 (theirs: 37% and 62%).
        "tutorial" => make(
            "the PC tutorial's own settings, to compare with its published code",
            Compare::Off,
            View::Training,
            Config {
                accumulate: true,
                activation: Activation::LEAKY_RELU,
                output_activation: OutputActivation::Fixed(Activation::LEAKY_RELU),
                output_energy: OutputEnergy::Gaussian,
                inference_lr: 1.0,
                inference_momentum: 0.8,
                lr: 2.715e-4,
                weight_decay: 0.02715 / 2.0,
                ..base
            },
        ),
        _ => Err(unknown()),
    }
}

impl Config {
    /// A named preset's configuration (see [`presets`]).
    pub fn preset(name: &str) -> Result<Self> {
        Ok(preset(name)?.config)
    }

    /// The configuration an experiment starts from when it is chosen: its preset's.
    pub fn for_experiment(experiment: Experiment) -> Result<Self> {
        Config::preset(experiment.spec().preset)
    }

    /// Checks every field against its bounds, then the combination against the
    /// experiment table; the message names the first problem.
    pub fn validate(&self) -> Result<()> {
        let json = serde_json::to_value(self)
            .map_err(|e| PcError::Config(format!("cannot represent the configuration: {e}")))?;
        for f in fields() {
            f.check(&json[f.name])?;
        }
        let spec = self.experiment.spec();
        if !spec.rules.contains(&self.rule) {
            return Err(PcError::Config(format!(
                "the {} experiment trains by {}, not {}",
                name(&self.experiment),
                spec.rules.iter().map(name).collect::<Vec<_>>().join(" or "),
                name(&self.rule)
            )));
        }
        if !spec.inferences.contains(&self.inference) {
            return Err(PcError::Config(format!(
                "{} inference needs both ends clamped to data; the {} experiment infers a free layer, so only standard inference fits",
                name(&self.inference),
                name(&self.experiment)
            )));
        }
        self.validate_hidden_energy()
    }

    /// A categorical or Bernoulli hidden layer is supported where both ends are data
    /// (classify), by BP or by PC with standard or strict inference (whose loop descends its
    /// natural parameters; exact and fixed-prediction inference assume Gaussian layers).
    fn validate_hidden_energy(&self) -> Result<()> {
        if self.hidden_energy == OutputEnergy::Gaussian {
            return Ok(());
        }
        let what = format!("a {} hidden energy", name(&self.hidden_energy));
        if self.experiment != Experiment::Classify {
            return Err(PcError::Config(format!(
                "{what} is supported in the classify experiment only, not {}",
                name(&self.experiment)
            )));
        }
        if self.rule == Rule::Pc && !self.inference.handles_distribution_layers() {
            return Err(PcError::Config(format!(
                "{what} needs standard or strict inference, not {}",
                name(&self.inference)
            )));
        }
        Ok(())
    }

    /// A configuration from `key = value` settings over `self` (CLI flags, URL
    /// parameters): keys are field names (`-` may stand for `_`) or URL keys (`T`).
    /// An `experiment` that differs from `self`'s starts from that experiment's preset
    /// (keeping the seed), so every experiment starts from settings under which it learns;
    /// the other settings then apply in order. A key given twice is an error.
    pub fn with_settings<'a>(
        &self,
        settings: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self> {
        let mut parsed = Vec::new();
        for (key, text) in settings {
            let f = field(key).ok_or_else(|| {
                PcError::Config(format!(
                    "unknown field {key:?} (known: {})",
                    fields()
                        .iter()
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            if parsed
                .iter()
                .any(|(g, _): &(Field, Value)| g.name == f.name)
            {
                return Err(PcError::Config(format!(
                    "setting {} is given twice",
                    f.label()
                )));
            }
            let value = f.parse(text)?;
            parsed.push((f, value));
        }
        let mut base = self.clone();
        if let Some((_, v)) = parsed.iter().find(|(f, _)| f.name == "experiment") {
            let experiment: Experiment =
                serde_json::from_value(v.clone()).map_err(|e| PcError::Config(e.to_string()))?;
            if experiment != self.experiment {
                base = Config {
                    seed: self.seed,
                    ..Config::for_experiment(experiment)?
                };
            }
        }
        let mut json = serde_json::to_value(&base)
            .map_err(|e| PcError::Config(format!("cannot represent the configuration: {e}")))?;
        for (f, value) in &parsed {
            f.check(value)?;
            json[f.name] = value.clone();
        }
        let config: Config =
            serde_json::from_value(json).map_err(|e| PcError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Standard inference with this configuration's T, rate and momentum.
    pub fn standard(&self) -> Standard {
        Standard {
            steps: self.steps,
            lr: self.inference_lr,
            momentum: self.inference_momentum,
            accumulate_weight_grads: self.accumulate,
        }
    }

    /// The inference method of the PC rule.
    pub fn inference(&self) -> Inference {
        self.inference
            .method(self.steps, self.inference_lr, self.standard())
    }

    /// The weights' optimiser.
    pub fn optimizer(&self) -> OptimizerConfig {
        let sgd = |momentum| OptimizerConfig::Sgd {
            lr: self.lr,
            momentum,
            weight_decay: self.weight_decay,
        };
        match self.optimizer {
            OptimizerKind::Adam => OptimizerConfig::adam(self.lr, self.weight_decay),
            OptimizerKind::Sgd => sgd(0.0),
            OptimizerKind::Momentum => sgd(0.9),
        }
    }

    /// Input pixels: centred to [−1, 1] where the image is an input, in [0, 1] where the
    /// image is predicted (a decoder's output).
    pub fn pixel_scale(&self) -> crate::data::PixelScale {
        if self.experiment.spec().image_is_input() {
            crate::data::PixelScale::Centered
        } else {
            crate::data::PixelScale::Unit
        }
    }

    /// Whether BP trains an autoencoder: a free latent at the bottom gets an encoder
    /// from the image in front of it.
    pub fn autoencoder(&self) -> bool {
        self.rule == Rule::Bp && self.experiment.spec().bottom == End::Latent
    }

    /// Layer sizes `[n_0, .., n_L]` of the network this configuration trains.
    pub fn sizes(&self, pixels: usize, classes: usize) -> Vec<usize> {
        let size = |end| match end {
            End::Image => pixels,
            End::Label => classes,
            End::Latent => self.latent,
        };
        let spec = self.experiment.spec();
        let mut sizes = Vec::new();
        if self.autoencoder() {
            sizes.push(pixels);
            sizes.extend(self.hidden.iter().rev());
        }
        sizes.push(size(spec.bottom));
        sizes.extend(&self.hidden);
        sizes.push(size(spec.top));
        sizes
    }

    /// The output layer's energy.
    pub fn output_energy(&self) -> LayerEnergy {
        energy_of(self.output_energy)
    }

    /// A hidden layer's energy.
    pub fn hidden_energy(&self) -> LayerEnergy {
        energy_of(self.hidden_energy)
    }

    /// One activation per block; see [`OutputActivation::Auto`] for the output block's.
    pub fn activations(&self, blocks: usize) -> Vec<Activation> {
        let mut acts = vec![self.activation; blocks];
        let top = self.experiment.spec().top;
        acts[blocks - 1] = match (self.output_activation, self.output_energy, top) {
            (OutputActivation::Fixed(a), _, _) => a,
            (OutputActivation::Auto, OutputEnergy::Gaussian, End::Image) => Activation::Sigmoid,
            (OutputActivation::Auto, OutputEnergy::Gaussian, _) => self.activation,
            (OutputActivation::Auto, _, _) => Activation::Identity,
        };
        acts
    }
}

/// `½‖ε‖²`, softmax cross-entropy or BCE on logits.
fn energy_of(choice: OutputEnergy) -> LayerEnergy {
    match choice {
        OutputEnergy::Gaussian => LayerEnergy::gaussian(Reduction::HalfSse),
        OutputEnergy::Categorical => LayerEnergy::categorical(),
        OutputEnergy::Bernoulli => LayerEnergy::bernoulli(),
    }
}

impl InferenceKind {
    /// This method with T steps (sweeps) at rate η; `standard` for standard inference.
    pub fn method(self, steps: usize, eta: f64, standard: Standard) -> Inference {
        match self {
            InferenceKind::Standard => Inference::Standard(standard),
            InferenceKind::Strict => Inference::Strict { eta, steps },
            InferenceKind::FixedPrediction => Inference::FixedPrediction { eta, sweeps: steps },
            InferenceKind::Exact => Inference::Exact,
        }
    }
}

impl Labelled for Compare {
    fn label(&self) -> &'static str {
        match self {
            Compare::Off => "nothing (one run)",
            Compare::Bp => "the other learning rule",
            Compare::Accumulate => "T+1 accumulated gradient",
        }
    }
}

impl Compare {
    /// Every comparison, in menu order.
    pub const ALL: [Compare; 3] = [Compare::Off, Compare::Bp, Compare::Accumulate];

    /// The configurations of the runs: `config`, and the one it is compared with.
    pub fn runs(self, config: &Config) -> Result<Vec<Config>> {
        let spec = config.experiment.spec();
        let second = match self {
            Compare::Off => return Ok(vec![config.clone()]),
            Compare::Bp => {
                let rule = match config.rule {
                    // The same network: a decoder's latent is inferred by both rules
                    // (BP's autoencoder is another network, with no inference to compare).
                    Rule::Pc if spec.rules.contains(&Rule::Bp) && spec.bottom != End::Latent => {
                        Rule::Bp
                    }
                    Rule::Pc => Rule::BpThroughInference,
                    Rule::Bp | Rule::BpThroughInference => Rule::Pc,
                };
                Config {
                    rule,
                    ..config.clone()
                }
            }
            Compare::Accumulate => {
                if config.rule != Rule::Pc || config.inference != InferenceKind::Standard {
                    return Err(PcError::Config(
                        "the T+1 accumulated gradient compares PC runs with standard inference"
                            .into(),
                    ));
                }
                return Ok(vec![
                    Config {
                        accumulate: false,
                        ..config.clone()
                    },
                    Config {
                        accumulate: true,
                        ..config.clone()
                    },
                ]);
            }
        };
        second.validate()?;
        Ok(vec![config.clone(), second])
    }
}

/// Everything the page needs to build its controls, written by the engine.
#[derive(Clone, Debug, Serialize)]
pub struct Schema {
    /// Every setting with its URL key and values.
    pub fields: Vec<Field>,
    /// The defaults (the classification experiment's base settings).
    pub defaults: Config,
    /// Every preset.
    pub presets: Vec<Preset>,
    /// The comparisons the page offers.
    pub compare: Vec<Choice>,
    /// The experiment table, with the settings that apply to each.
    pub experiments: Vec<ExperimentSchema>,
    /// The bounds of a sampling request.
    pub sampling: SamplingLimits,
    /// The bounds of a trade-off sweep's plan.
    pub sweep: SweepLimits,
    /// The VAE comparison's sizes and bounds.
    pub vae: VaeLimits,
}

/// The bounds of a sampling request (see [`crate::sampling`]), for the page's controls.
#[derive(Clone, Debug, Serialize)]
pub struct SamplingLimits {
    /// The largest noise scale τ.
    pub max_noise: f64,
    /// The most samples per request.
    pub max_samples: usize,
}

/// The bounds of a trade-off sweep (the sweep module's `Plan`): its λ values, its seeds per
/// rule and λ, and the training steps of each run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SweepLimits {
    /// The most λ values.
    pub lambdas: usize,
    /// The most seeds.
    pub seeds: usize,
    /// The most training steps of one run.
    pub steps: usize,
}

/// The sweep's bounds, for the engine, the CLI and the page.
pub const SWEEP_LIMITS: SweepLimits = SweepLimits {
    lambdas: 101,
    seeds: 100,
    steps: 1_000_000,
};

/// The VAE comparison's sizes and bounds (of the `vae` module), for the engine, the CLI and
/// the page.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct VaeLimits {
    /// Hidden units of the encoder's and the decoder's hidden layer.
    pub hidden: usize,
    /// The latent dimension d.
    pub latent: usize,
    /// Samples per minibatch.
    pub batch: usize,
    /// PC's inference steps T per minibatch.
    pub inference_steps: usize,
    /// PC's inference rate γ.
    pub inference_rate: f64,
    /// PC's default β, the weight of the ELBO's terms in F (its output precision).
    pub beta: f64,
    /// Adam's learning rate (both rules).
    pub learning_rate: f64,
    /// The most training steps of one comparison.
    pub max_steps: usize,
    /// The most test digits, or prior samples, shown at once.
    pub max_images: usize,
    /// Test measurements of a comparison: at step 0 and about this many more.
    pub checkpoints: usize,
}

/// The VAE comparison's sizes and bounds.
pub const VAE_LIMITS: VaeLimits = VaeLimits {
    hidden: 128,
    latent: 8,
    batch: 64,
    inference_steps: 20,
    inference_rate: 0.1,
    beta: 0.01,
    learning_rate: 1e-3,
    max_steps: 100_000,
    max_images: 16,
    checkpoints: 10,
};

/// One experiment as the page sees it.
#[derive(Clone, Debug, Serialize)]
pub struct ExperimentSchema {
    /// The experiment's name.
    pub name: String,
    /// Its row of the table.
    #[serde(flatten)]
    pub spec: crate::experiment::Spec,
    /// The settings that change what it does.
    pub settings: Vec<&'static str>,
    /// What its test measures, the one it is judged by first: `accuracy`, `mse`.
    pub metrics: Vec<&'static str>,
}

/// The schema of the configuration (see [`Schema`]).
pub fn schema() -> Schema {
    Schema {
        fields: fields(),
        defaults: Config::default(),
        presets: presets(),
        compare: choices(&Compare::ALL),
        experiments: Experiment::ALL
            .iter()
            .map(|&e| {
                let spec = e.spec();
                let metrics = [
                    ("accuracy", spec.classifies()),
                    ("mse", spec.reconstructs()),
                ];
                ExperimentSchema {
                    name: name(&e),
                    metrics: metrics
                        .into_iter()
                        .filter_map(|(m, has)| has.then_some(m))
                        .collect(),
                    settings: fields()
                        .into_iter()
                        .map(|f| f.name)
                        .filter(|&n| applies(&spec, n))
                        .collect(),
                    spec,
                }
            })
            .collect(),
        sampling: SamplingLimits {
            max_noise: crate::sampling::MAX_NOISE,
            max_samples: crate::sampling::MAX_SAMPLES,
        },
        sweep: SWEEP_LIMITS,
        vae: VAE_LIMITS,
    }
}

/// Whether setting `name` changes what an experiment of `spec` does.
fn applies(spec: &crate::experiment::Spec, name: &str) -> bool {
    match name {
        "lambda" => spec.classifier,
        "latent" => spec.bottom == End::Latent,
        "inference" => spec.inferences.len() > 1,
        "augment" => spec.image_is_input(),
        _ => true,
    }
}
