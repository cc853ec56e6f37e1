//! A diverging step undoes itself completely: the network, the optimiser's state (Adam's
//! moment estimates and step count), the trade-off's classifier head, the noise model and
//! the counters are as before it, so a good step after a failed one gives, to the bit,
//! what the same good step gives a run that never saw the failure.
//!
//! The failures are made deterministic by spoiling a step's contribution before
//! [`Trainer::apply`]: a NaN energy (every part of the state has already moved when it is
//! found), or NaN gradients of a part that is updated after others have moved.
#![cfg(not(target_arch = "wasm32"))]

mod shipped;

use pclab::config::Config;
use pclab::network::Network;
use pclab::sampling::NoiseModel;
use pclab::train::{Contribution, Shard, StepRecord, Trainer, F};
use shipped::{config, data};

/// Every bit of a network's parameters, block by block.
fn bits(net: &Network<F>) -> Vec<u32> {
    net.blocks()
        .iter()
        .flat_map(|b| b.weight.iter().chain(b.bias.iter()))
        .map(|v| v.to_bits())
        .collect()
}

/// What a run shows of its state: the parameters of the network and of the classifier
/// (bit by bit), the noise model and the latest step's record (its counters included).
struct State {
    net: Vec<u32>,
    classifier: Option<Vec<u32>>,
    noise: Option<NoiseModel>,
    last: StepRecord,
}

/// Parameters that differ in bits, out of all.
fn differing(a: &[u32], b: &[u32]) -> String {
    let n = a.iter().zip(b).filter(|(x, y)| x != y).count();
    format!("{n} of {} parameters differ", a.len())
}

/// `a` and `b` are the same state; `what` names the moment.
fn assert_same(a: &State, b: &State, what: &str) {
    assert!(
        a.net == b.net,
        "{what}: network: {}",
        differing(&a.net, &b.net)
    );
    match (&a.classifier, &b.classifier) {
        (Some(x), Some(y)) => assert!(x == y, "{what}: classifier: {}", differing(x, y)),
        (x, y) => assert_eq!(x.is_some(), y.is_some(), "{what}: classifier"),
    }
    assert_eq!(a.noise, b.noise, "{what}: noise model");
    assert_eq!(a.last, b.last, "{what}: the latest step's record");
}

fn state(trainer: &Trainer) -> State {
    State {
        net: bits(trainer.network()),
        classifier: trainer.classifier_network().map(bits),
        noise: trainer.noise_model().cloned(),
        last: trainer.last_step().clone(),
    }
}

/// Runs `config` twice for `good` steps; then one of them meets a step spoiled by `spoil`,
/// which must fail as a divergence and leave its state as it was, and after that both
/// take the same good steps and must stay identical to the bit (Adam's moments and step
/// count, the classifier's optimiser and the noise model's running averages all feed
/// those steps).
fn assert_failed_step_leaves_no_trace(config: Config, good: usize, spoil: fn(&mut Contribution)) {
    let mut failed = Trainer::new(config.clone(), data()).unwrap();
    let mut clean = Trainer::new(config, data()).unwrap();
    for _ in 0..good {
        failed.step().unwrap();
        clean.step().unwrap();
    }
    // Both draw the same next minibatch; only one sees it spoiled first.
    let total = failed.contribute(Shard::WHOLE).unwrap();
    assert_eq!(clean.contribute(Shard::WHOLE).unwrap(), total);
    let mut spoiled = total.clone();
    spoil(&mut spoiled);
    let before = state(&failed);
    for _ in 0..2 {
        let err = failed.apply(&spoiled).unwrap_err();
        assert!(err.to_string().contains("diverged"), "{err}");
        assert_same(&state(&failed), &before, "after the failed step");
    }
    failed.apply(&total).unwrap();
    clean.apply(&total).unwrap();
    assert_same(
        &state(&failed),
        &state(&clean),
        "the good step after the failed one",
    );
    for step in 0..3 {
        failed.step().unwrap();
        clean.step().unwrap();
        assert_same(
            &state(&failed),
            &state(&clean),
            &format!("good step {step} after that"),
        );
    }
    // The saved model (parameters, configuration, noise model) too.
    assert_eq!(
        pclab::inspect::save(&failed).unwrap(),
        pclab::inspect::save(&clean).unwrap()
    );
}

/// Found after the network, the classifier and the noise model have all moved.
fn nan_energy(total: &mut Contribution) {
    total.record.energy = f64::NAN;
}

/// Found by the network's optimiser, after the noise model took in the batch.
fn nan_network_gradient(total: &mut Contribution) {
    total.grads.blocks[0].weight[(0, 0)] = F::NAN;
}

/// Found by the classifier's optimiser, after the network's has moved it.
fn nan_classifier_gradient(total: &mut Contribution) {
    let grads = total
        .classifier
        .as_mut()
        .expect("the trade-off has a classifier");
    grads.blocks[0].bias[0] = F::NAN;
}

/// Huge finite gradients that SGD turns into weights far past what f32 resolves: found by
/// the check of the weights after the update.
fn huge_gradients(total: &mut Contribution) {
    for g in &mut total.grads.blocks {
        g.weight.fill(F::MAX);
    }
}

#[test]
fn adam_forgets_a_failed_step_its_moments_and_step_count_included() {
    let c = config(
        "classification",
        &[("hidden", "32"), ("batch", "50"), ("optimizer", "adam")],
    );
    assert_failed_step_leaves_no_trace(c.clone(), 3, nan_energy);
    assert_failed_step_leaves_no_trace(c, 3, nan_network_gradient);
}

/// Finite gradients whose squares overflow f32: Adam's second moment would become ∞ (and
/// freeze the weights it scales) although the weights stay finite.
fn squares_overflow(total: &mut Contribution) {
    for g in &mut total.grads.blocks {
        g.weight.fill(1e30);
    }
}

#[test]
fn adam_refuses_a_step_that_overflows_its_moment_estimates() {
    let c = config(
        "classification",
        &[("hidden", "32"), ("batch", "50"), ("optimizer", "adam")],
    );
    assert_failed_step_leaves_no_trace(c, 3, squares_overflow);
}

#[test]
fn sgd_with_momentum_forgets_a_step_that_overflowed_the_weights() {
    let c = config(
        "classification",
        &[
            ("hidden", "32"),
            ("batch", "50"),
            ("optimizer", "momentum"),
            ("lr", "0.1"),
        ],
    );
    assert_failed_step_leaves_no_trace(c, 3, huge_gradients);
}

#[test]
fn a_failed_step_leaves_the_trade_offs_classifier_head_as_it_was() {
    let c = config(
        "tradeoff",
        &[
            ("hidden", "32"),
            ("latent", "8"),
            ("batch", "50"),
            ("T", "10"),
        ],
    );
    assert!(Trainer::new(c.clone(), data())
        .unwrap()
        .classifier_network()
        .is_some());
    assert_failed_step_leaves_no_trace(c.clone(), 2, nan_energy);
    assert_failed_step_leaves_no_trace(c, 2, nan_classifier_gradient);
}

#[test]
fn a_failed_step_leaves_the_noise_model_as_it_was() {
    let c = config("generation", &[("hidden", "32"), ("batch", "50")]);
    let trainer = Trainer::new(c.clone(), data()).unwrap();
    assert!(trainer.noise_model().is_some());
    assert_failed_step_leaves_no_trace(c.clone(), 2, nan_energy);
    assert_failed_step_leaves_no_trace(c, 2, nan_network_gradient);
}

/// A rate that really diverges (Adam at the largest rate the settings allow): the run
/// stops at its second step with every part as after its first.
#[test]
fn adam_at_the_largest_rate_stops_with_the_state_before_the_diverging_step() {
    let c = config(
        "generation",
        &[("hidden", "32"), ("batch", "50"), ("lr", "1e30")],
    );
    let mut trainer = Trainer::new(c, data()).unwrap();
    let mut before = state(&trainer);
    let err = (0..5)
        .find_map(|_| {
            before = state(&trainer);
            trainer.step().err()
        })
        .expect("Adam at lr 1e30 must diverge");
    assert!(err.to_string().contains("diverged"), "{err}");
    assert_same(&state(&trainer), &before, "after the diverging step");
    assert!(trainer.network().validate().is_ok());
}

/// A rate that keeps every number finite but leaves no information in them (Adam at 10^9
/// moves every weight by about 10^9, past what f32 resolves): the first step is refused
/// and the run keeps its initial weights, with the message that it diverged.
#[test]
fn adam_at_a_huge_finite_rate_is_refused_at_its_first_step() {
    let c = config("classification", &[("hidden", "32"), ("lr", "1e9")]);
    let mut trainer = Trainer::new(c, data()).unwrap();
    let before = state(&trainer);
    let err = trainer.step().expect_err("Adam at lr 1e9 must be refused");
    assert!(err.to_string().contains("diverged at step 1"), "{err}");
    assert!(
        err.to_string().contains("beyond what f32 resolves"),
        "{err}"
    );
    assert_same(&state(&trainer), &before, "after the refused step");
    assert!(trainer.network().largest_parameter() < 1.0);
}

/// The bound is far from any usual run: every preset's runs, 15 steps at their own rates,
/// keep every weight under a thousandth of it.
#[test]
fn every_presets_weights_stay_far_inside_the_bound() {
    for preset in pclab::config::presets() {
        for run in preset.compare.runs(&preset.config).unwrap() {
            let mut trainer = Trainer::new(run, data()).unwrap();
            for _ in 0..15 {
                trainer.step().unwrap();
            }
            let largest = trainer.network().largest_parameter();
            println!("{}: largest parameter {largest:.3}", preset.name);
            assert!(
                largest < 1e-3 * pclab::train::MAX_PARAMETER,
                "{}",
                preset.name
            );
        }
    }
}
