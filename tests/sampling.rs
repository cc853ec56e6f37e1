//! Sampling the network as a generative model: zero noise is exactly the mean prediction,
//! the variance estimate is the mean squared prediction error (hand-computed cases), a
//! seed reproduces its samples, many samples have the predicted mean and variance, the
//! trainer learns the noise model, and saved models keep it (older files get it fitted).
#![cfg(not(target_arch = "wasm32"))]

mod shipped;

use nalgebra::{DMatrix, DVector};
use pclab::activation::Activation;
use pclab::energy::{LayerEnergy, Reduction};
use pclab::experiment::End;
use pclab::network::{Block, Init, Network, PredictionForm};
use pclab::sampling::{
    layer_variances, sample, NoiseModel, Pixels, Prior, SampleRequest, MAX_NOISE, MAX_SAMPLES,
};
use pclab::train::Trainer;
use proptest::prelude::*;
use shipped::{config, data};

fn request(class: Option<usize>, count: usize, noise: f64, seed: u64) -> SampleRequest {
    SampleRequest {
        class,
        count,
        noise,
        pixels: Pixels::Mean,
        seed,
    }
}

/// A network `sizes` with the given output energy, its hidden layers ½‖ε‖².
fn network(sizes: &[usize], output: LayerEnergy, form: PredictionForm, seed: u64) -> Network<f64> {
    let acts = vec![Activation::Tanh; sizes.len() - 1];
    let mut net = Network::new(sizes, &acts, form, Init::XavierUniform, seed).unwrap();
    net.set_energy(sizes.len() - 1, output).unwrap();
    net
}

/// A noise model with these variances and the uniform class prior.
fn class_model(net: &Network<f64>, variances: Vec<f64>) -> NoiseModel {
    let classes = net.sizes()[0];
    NoiseModel {
        variances,
        ..NoiseModel::new(net, Prior::class_frequencies(&[], classes))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// At τ = 0 every layer is its mean: the feedforward values from the one-hot class (or
    /// the prior's mean), and the output energy's mean on top, bit for bit, whatever the
    /// variances, the seed and the output distribution.
    #[test]
    fn zero_noise_is_exactly_the_mean_prediction(
        hidden in prop::collection::vec(1usize..12, 0..3),
        classes in 2usize..6,
        out in 1usize..10,
        output in 0usize..3,
        pre in any::<bool>(),
        class in prop::option::of(0usize..6),
        seed in any::<u64>(),
        net_seed in any::<u64>(),
        variance in 0.0f64..3.0,
        pixels in any::<bool>(),
    ) {
        let mut sizes = vec![classes];
        sizes.extend(&hidden);
        sizes.push(out);
        let energy = [LayerEnergy::gaussian(Reduction::HalfSse), LayerEnergy::bernoulli(), LayerEnergy::categorical()][output];
        let form = if pre { PredictionForm::Pre } else { PredictionForm::Post };
        let net = network(&sizes, energy, form, net_seed);
        let model = class_model(&net, vec![variance; sizes.len() - 1]);
        let class = class.map(|k| k % classes);
        let r = SampleRequest {
            pixels: if pixels { Pixels::Sample } else { Pixels::Mean },
            ..request(class, 3, 0.0, seed)
        };
        let layers = sample(&net, &model, &r).unwrap();
        let top = DMatrix::from_fn(3, classes, |_, j| match class {
            Some(k) => f64::from(u8::from(j == k)),
            None => 1.0 / classes as f64,
        });
        let mut expected = net.feedforward(&top).unwrap();
        let mu = expected.pop().unwrap();
        let mut mean = mu.clone();
        energy.mean(&mu, &mut mean, &mut 0);
        expected.push(mean);
        prop_assert_eq!(layers, expected);
    }
}

#[test]
fn the_variance_estimate_is_the_mean_squared_prediction_error() {
    // One block 1 → 2, identity, μ = W v_0 + b with W = [2, −1]ᵀ, b = [1, 0].
    let block = Block {
        weight: DMatrix::from_row_slice(2, 1, &[2.0, -1.0]),
        bias: DVector::from_row_slice(&[1.0, 0.0]),
        activation: Activation::Identity,
        energy: LayerEnergy::gaussian(Reduction::HalfSse),
    };
    let net = Network::from_blocks(vec![block], PredictionForm::Post).unwrap();
    // v_0 = [1; 2] → μ = [[3, −1], [5, −2]]; v_1 = [[3.5, −1], [4, −1]]: errors
    // [[0.5, 0], [−1, 1]], squares 0.25 + 0 + 1 + 1 = 2.25 over B·n = 4.
    let v0 = DMatrix::from_row_slice(2, 1, &[1.0, 2.0]);
    let v1 = DMatrix::from_row_slice(2, 2, &[3.5, -1.0, 4.0, -1.0]);
    let batch = vec![v0.clone(), v1];
    assert_eq!(layer_variances(&net, &batch).unwrap(), vec![0.5625]);

    // The running average: the first batch is taken whole, the second with weight ½.
    let mut model = NoiseModel::new(&net, Prior::standard_normal(1));
    assert_eq!(model.variances, vec![1.0], "½‖ε‖² implies σ² = 1");
    model.observe(&net, &batch).unwrap();
    assert_eq!(model.variances, vec![0.5625]);
    // Latent prior after one batch: mean (1 + 2)/2 = 1.5, variance (1 + 4)/2 − 1.5² = 0.25.
    assert_eq!(
        model.prior,
        Prior::Gaussian {
            mean: vec![1.5],
            variance: vec![0.25]
        }
    );
    // A second batch with zero error and v_0 = [3; 3]: σ² = (0.5625 + 0)/2, mean
    // (1.5 + 3)/2 = 2.25, second moment ((0.25 + 2.25) + 9)/2 = 5.75, variance
    // 5.75 − 2.25² = 0.6875.
    let v0 = DMatrix::from_row_slice(2, 1, &[3.0, 3.0]);
    let exact = net.feedforward(&v0).unwrap();
    model.observe(&net, &exact).unwrap();
    assert_eq!(model.variances, vec![0.28125]);
    assert_eq!(
        model.prior,
        Prior::Gaussian {
            mean: vec![2.25],
            variance: vec![0.6875]
        }
    );
    assert_eq!(model.batches, 2);
}

#[test]
fn class_frequencies_are_the_categorical_prior() {
    assert_eq!(
        Prior::class_frequencies(&[0, 2, 2, 2], 4),
        Prior::Categorical {
            probabilities: vec![0.25, 0.0, 0.75, 0.0]
        }
    );
}

#[test]
fn the_same_seed_gives_the_same_samples_and_another_seed_others() {
    let net = network(
        &[4, 6, 5],
        LayerEnergy::bernoulli(),
        PredictionForm::Post,
        3,
    );
    let model = class_model(&net, vec![0.2, 0.1]);
    for class in [None, Some(2)] {
        for pixels in [Pixels::Mean, Pixels::Sample] {
            let at = |seed| {
                let r = SampleRequest {
                    pixels,
                    ..request(class, 5, 1.0, seed)
                };
                sample(&net, &model, &r).unwrap()
            };
            assert_eq!(at(7), at(7));
            assert_ne!(at(7)[2], at(8)[2], "{class:?} {pixels:?}");
            let images = &at(7)[2];
            assert_ne!(
                images.row(0),
                images.row(1),
                "two samples of one request differ"
            );
        }
    }
}

#[test]
fn many_samples_have_the_predicted_mean_and_variance() {
    let net = network(
        &[3, 8, 6],
        LayerEnergy::gaussian(Reduction::HalfSse),
        PredictionForm::Post,
        11,
    );
    let sigma2 = 0.09;
    let tau = 1.5;
    let model = class_model(&net, vec![sigma2, 0.04]);
    let mut layer1 = Vec::new();
    for seed in 0..40 {
        let layers = sample(&net, &model, &request(Some(1), MAX_SAMPLES, tau, seed)).unwrap();
        layer1.extend(layers[1].row_iter().map(|r| r.clone_owned()));
    }
    let one_hot = DMatrix::from_row_slice(1, 3, &[0.0, 1.0, 0.0]);
    let predicted = net.predict(1, &one_hot).unwrap();
    let n = layer1.len() as f64;
    for j in 0..8 {
        let mean = layer1.iter().map(|r| r[j]).sum::<f64>() / n;
        let var = layer1.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let sd_of_mean = (tau * tau * sigma2 / n).sqrt();
        assert!(
            (mean - predicted[(0, j)]).abs() < 4.0 * sd_of_mean,
            "unit {j}: mean {mean} vs predicted {}",
            predicted[(0, j)]
        );
        // The sample variance's sd is about σ²·√(2/n) ≈ 1% here.
        assert!(
            (var / (tau * tau * sigma2) - 1.0).abs() < 0.05,
            "unit {j}: variance {var} vs τ²σ² = {}",
            tau * tau * sigma2
        );
    }
}

#[test]
fn requests_out_of_bounds_are_refused() {
    let net = network(&[3, 4], LayerEnergy::bernoulli(), PredictionForm::Post, 1);
    let model = class_model(&net, vec![0.1]);
    for (r, needle) in [
        (request(None, 0, 1.0, 0), "number of samples"),
        (request(None, MAX_SAMPLES + 1, 1.0, 0), "number of samples"),
        (request(None, 1, f64::NAN, 0), "noise scale"),
        (request(None, 1, -0.1, 0), "noise scale"),
        (request(None, 1, MAX_NOISE + 0.1, 0), "noise scale"),
        (request(Some(3), 1, 1.0, 0), "class 3"),
    ] {
        let e = sample(&net, &model, &r).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }
    let latent = NoiseModel::new(&net, Prior::standard_normal(3));
    let e = sample(&net, &latent, &request(Some(0), 1, 1.0, 0)).unwrap_err();
    assert!(e.to_string().contains("latent"), "{e}");
    let short = NoiseModel {
        variances: vec![],
        ..model
    };
    assert!(sample(&net, &short, &request(None, 1, 1.0, 0)).is_err());
}

fn trained(preset: &str, settings: &[(&str, &str)], steps: usize) -> Trainer {
    let mut trainer = Trainer::new(config(preset, settings), data()).unwrap();
    for _ in 0..steps {
        trainer.step().unwrap();
    }
    trainer
}

#[test]
fn the_generation_run_learns_its_noise_and_samples_varied_digits_of_a_class() {
    let trainer = trained("generation", &[], 30);
    let model = trainer.noise_model().unwrap();
    assert_eq!(model.batches, 30);
    assert!(
        model.variances.iter().all(|&v| v > 0.0 && v < 1.0),
        "PC leaves errors in every layer: {:?}",
        model.variances
    );
    let Prior::Categorical { probabilities } = &model.prior else {
        panic!("a class prior");
    };
    let labels = trainer.data().train.labels();
    let threes = labels.iter().filter(|&&c| c == 3).count() as f64;
    assert_eq!(probabilities[3], threes / labels.len() as f64);

    let mean = trainer.sample(&request(Some(3), 4, 0.0, 9)).unwrap();
    assert!(
        mean[3] == trainer.generate(&[3; 4]).unwrap(),
        "τ = 0: exactly the generation"
    );
    let varied = trainer.sample(&request(Some(3), 4, 1.0, 9)).unwrap();
    let image = &varied[3];
    let diff = (image.row(0) - image.row(1)).abs().sum();
    assert!(diff > 1.0, "two samples of a 3 differ: {diff}");
    // BP leaves the hidden layers on their predictions: its only noise is the image's.
    let bp = trained("generation", &[("rule", "bp")], 5);
    let v = &bp.noise_model().unwrap().variances;
    assert_eq!(&v[..2], &[0.0, 0.0]);
    assert!(v[2] > 0.0);
}

#[test]
fn a_compression_decoder_samples_its_fitted_latent_prior() {
    let settings = [("hidden", "32"), ("latent", "8"), ("steps", "10")];
    let trainer = trained("compression", &settings, 3);
    let Prior::Gaussian { mean, variance } = &trainer.noise_model().unwrap().prior else {
        panic!("a latent prior");
    };
    assert_ne!(mean, &vec![0.0; 8], "fitted to the inferred latents");
    assert!(variance.iter().all(|&v| v >= 0.0));
    let layers = trainer.sample(&request(None, 3, 1.0, 0)).unwrap();
    assert_eq!(layers[2].shape(), (3, 784));
    assert!(trainer.sample(&request(Some(1), 1, 1.0, 0)).is_err());
    let autoencoder = trained("compression", &[("rule", "bp"), ("hidden", "32")], 0);
    assert!(autoencoder.noise_model().is_none());
    let e = autoencoder.sample(&request(None, 1, 1.0, 0)).unwrap_err();
    assert!(e.to_string().contains("not a generative model"), "{e}");
}

#[test]
fn saved_models_keep_their_noise_and_older_files_get_it_fitted() {
    let mut trainer = trained("generation", &[], 5);
    let json = pclab::inspect::save(&trainer).unwrap();
    let loaded = pclab::inspect::load(&json, data()).unwrap();
    assert_eq!(loaded.noise_model(), trainer.noise_model());

    // A format-1 file (no noise model) loads with the one-pass fit.
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    old["format"] = "pclab-model-1".into();
    old.as_object_mut().unwrap().remove("noise");
    let loaded = pclab::inspect::load(&old.to_string(), data()).unwrap();
    trainer.fit_noise(pclab::train::FIT_IMAGES).unwrap();
    assert_eq!(loaded.noise_model(), trainer.noise_model());
    assert_eq!(
        loaded.noise_model().unwrap().batches,
        pclab::train::FIT_IMAGES.div_ceil(64) as u64
    );

    // A noise model that does not fit is refused with a message.
    let mut bad: serde_json::Value = serde_json::from_str(&json).unwrap();
    bad["noise"]["variances"] = serde_json::json!([1.0]);
    let Err(e) = pclab::inspect::load(&bad.to_string(), data()) else {
        panic!("one variance for three layers is refused");
    };
    assert!(e.to_string().contains("noise model"), "{e}");
    bad["noise"]["variances"] = serde_json::json!([-1.0, 0.0, 0.0]);
    assert!(pclab::inspect::load(&bad.to_string(), data()).is_err());
    let model = trainer.noise_model().unwrap().clone();
    let latent = NoiseModel {
        prior: Prior::standard_normal(10),
        ..model
    };
    assert!(latent.validate(trainer.network(), End::Label).is_err());
}
