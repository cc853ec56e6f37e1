//! Data parallelism: a minibatch split over replicas of a run, each learning from its
//! shard and all applying the sum, trains like one trainer on the whole minibatch (up to
//! float summation order), and the replicas never drift apart.
#![cfg(not(target_arch = "wasm32"))]

mod shipped;

use pclab::config::Config;
use pclab::energy::LayerEnergy;
use pclab::train::{Contribution, Flat, Shard, Trainer, MAX_SHARDS};
use shipped::{config, data};

/// `steps` steps of `replicas` trainers, each contributing its shard and applying the sum
/// of all (summed in shard order, as the page's lead worker does): the loss curve of
/// replica 0, after checking that every replica holds the same weights.
fn replicated_losses(config: &Config, replicas: usize, steps: usize) -> Vec<f64> {
    let mut trainers: Vec<Trainer> = (0..replicas)
        .map(|_| Trainer::new(config.clone(), data()).unwrap())
        .collect();
    let mut losses = vec![];
    for _ in 0..steps {
        let parts: Vec<Contribution> = trainers
            .iter_mut()
            .enumerate()
            .map(|(k, t)| t.contribute(Shard::new(k, replicas).unwrap()).unwrap())
            .collect();
        // The parts cross between workers as flat arrays and are summed flat, as the
        // page's lead worker does; the sum agrees with the sum of the unpacked parts.
        let t = &trainers[0];
        let (net, classifier) = (t.network(), t.classifier_network());
        let flats: Vec<Vec<Flat>> = parts.iter().map(Contribution::to_flat).collect();
        let mut unpacked = parts[0].clone();
        for (flat, part) in flats.iter().zip(&parts).skip(1) {
            let received = Contribution::from_flat(flat, net, classifier).unwrap();
            // A contribution survives its flat form: the gradients bit for bit, the rest
            // to f32's precision.
            assert_contributions_agree(&received, part);
            assert_eq!(received.grads, part.grads);
            unpacked.add(&received).unwrap();
        }
        let slices: Vec<&[Flat]> = flats.iter().map(Vec::as_slice).collect();
        let total = Contribution::from_flat(
            &Contribution::sum_flat(&slices, net, classifier).unwrap(),
            net,
            classifier,
        )
        .unwrap();
        assert_contributions_agree(&total, &unpacked);
        let records: Vec<f64> = trainers
            .iter_mut()
            .map(|t| t.apply(&total).unwrap().loss)
            .collect();
        assert!(records.windows(2).all(|w| w[0] == w[1]));
        losses.push(records[0]);
    }
    for t in &trainers[1..] {
        assert_eq!(
            t.network(),
            trainers[0].network(),
            "the replicas drifted apart"
        );
    }
    losses
}

/// Two sums of the same parts (or a part and its flat form) agree to f32 rounding: the
/// gradients (added in f64 and rounded once, or added in f32), and the records, FLOPs and
/// noise-model sums (crossing as f32); the sample counts exactly.
fn assert_contributions_agree(a: &Contribution, b: &Contribution) {
    assert_eq!(a.samples, b.samples);
    let grads = |c: &Contribution| -> Vec<f64> {
        std::iter::once(&c.grads)
            .chain(&c.classifier)
            .flat_map(|g| &g.blocks)
            .flat_map(|b| b.weight.iter().chain(b.bias.iter()))
            .map(|&x| f64::from(x))
            .collect()
    };
    let rest = |c: &Contribution| -> Vec<f64> {
        let r = &c.record;
        let f = c.flops;
        let mut out = vec![r.loss, r.energy];
        out.extend(&r.energy_per_layer);
        out.extend(&r.energy_trace);
        r.energy_trace_per_layer.iter().for_each(|l| out.extend(l));
        out.extend([f.inference as f64, f.learning as f64, f.bp as f64]);
        if let Some(m) = &c.moments {
            out.extend(
                m.squared_errors
                    .iter()
                    .chain(&m.latent_sum)
                    .chain(&m.latent_squares),
            );
        }
        out
    };
    for (what, x, y) in [
        ("gradients", grads(a), grads(b)),
        ("records", rest(a), rest(b)),
    ] {
        assert_eq!(x.len(), y.len(), "{what}");
        // One rounding apart, relative to the value or, where the parts cancel, the scale.
        let scale = x.iter().fold(0f64, |m, v| m.max(v.abs()));
        for (x, y) in x.iter().zip(&y) {
            let tolerance = 1e-6 * (x.abs().max(y.abs()) + scale);
            assert!((x - y).abs() <= tolerance, "{what}: {x} vs {y}");
        }
    }
}

fn single_losses(config: &Config, steps: usize) -> Vec<f64> {
    let mut t = Trainer::new(config.clone(), data()).unwrap();
    (0..steps).map(|_| t.step().unwrap().loss).collect()
}

/// 1, 2 and 3 replicas (uneven shards) agree to 1e-4 relative over 50 steps.
fn assert_replicas_agree(config: Config) {
    let steps = 50;
    let one = single_losses(&config, steps);
    for replicas in [2, 3] {
        let many = replicated_losses(&config, replicas, steps);
        for (t, (a, b)) in one.iter().zip(&many).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * a.abs().max(1e-3),
                "{replicas} replicas, step {t}: loss {b} against {a} on one"
            );
        }
    }
}

#[test]
fn pc_classification_learns_alike_on_one_two_and_three_replicas() {
    assert_replicas_agree(config(
        "classification",
        &[("hidden", "32,32"), ("batch", "25")],
    ));
}

#[test]
fn bp_classification_learns_alike_on_replicas() {
    assert_replicas_agree(config(
        "classification",
        &[("rule", "bp"), ("hidden", "32,32"), ("batch", "25")],
    ));
}

/// The decoders (compression, and the trade-off with its classifier) by both rules.
#[test]
fn decoders_learn_alike_on_replicas_by_pc_and_bp_through_inference() {
    for preset in ["compression", "tradeoff"] {
        for rule in ["pc", "bp-through-inference"] {
            assert_replicas_agree(config(
                preset,
                &[
                    ("rule", rule),
                    ("hidden", "32"),
                    ("latent", "8"),
                    ("batch", "25"),
                    ("T", "10"),
                ],
            ));
        }
    }
}

#[test]
fn the_accumulated_gradient_learns_alike_on_replicas() {
    assert_replicas_agree(config("tplus1", &[("hidden", "32,32"), ("batch", "25")]));
}

#[test]
fn more_replicas_than_samples_leave_some_shards_empty_and_still_agree() {
    // PC (an empty shard's record has another layout) and BP (the same layout: summed
    // number by number with the empty part).
    for rule in ["pc", "bp"] {
        let c = config(
            "classification",
            &[("hidden", "16"), ("batch", "3"), ("rule", rule)],
        );
        let one = single_losses(&c, 5);
        let many = replicated_losses(&c, 5, 5);
        for (a, b) in one.iter().zip(&many) {
            assert!(
                (a - b).abs() <= 1e-4 * a.abs().max(1e-3),
                "{rule}: {b} against {a}"
            );
        }
    }
}

#[test]
fn shards_cover_the_minibatch_once() {
    for batch in [1, 7, 128, 250] {
        for count in 1..=MAX_SHARDS {
            let rows: Vec<usize> = (0..count)
                .flat_map(|k| Shard::new(k, count).unwrap().rows(batch))
                .collect();
            assert_eq!(rows, (0..batch).collect::<Vec<_>>());
        }
    }
    assert!(Shard::new(2, 2).is_err());
    assert!(Shard::new(0, 0).is_err());
    assert!(Shard::new(0, MAX_SHARDS + 1).is_err());
}

#[test]
fn a_malformed_contribution_is_refused() {
    let c = config("classification", &[("hidden", "16"), ("batch", "4")]);
    let mut t = Trainer::new(c, data()).unwrap();
    let flat = t.contribute(Shard::WHOLE).unwrap().to_flat();
    let net = t.network();
    assert!(Contribution::from_flat(&flat, net, None).is_ok());
    assert!(Contribution::from_flat(&flat[..flat.len() - 1], net, None).is_err());
    assert!(Contribution::from_flat(&[], net, None).is_err());
    // The flat sum checks every part the same way.
    assert!(Contribution::sum_flat(&[&flat, &flat], net, None).is_ok());
    assert!(Contribution::sum_flat(&[&flat, &flat[..flat.len() - 1]], net, None).is_err());
    assert!(Contribution::sum_flat(&[], net, None).is_err());
    let mut bad = flat.clone();
    bad[0] = 99.0;
    assert!(Contribution::from_flat(&bad, net, None).is_err());
    let mut bad = flat.clone();
    bad[1] = -1.0;
    assert!(Contribution::from_flat(&bad, net, None).is_err());
    let mut bad = flat.clone();
    bad[1] = Flat::NAN;
    assert!(Contribution::from_flat(&bad, net, None).is_err());
    // A flag other than 0 or 1 (classifier, moments).
    for at in [4, 6] {
        let mut bad = flat.clone();
        bad[at] = 2.0;
        assert!(Contribution::from_flat(&bad, net, None).is_err());
        assert!(Contribution::sum_flat(&[&flat, &bad], net, None).is_err());
    }
    // Counts whose product passes a 32-bit usize (wasm32) and wraps to the right length.
    let mut bad = flat;
    let wrap = 1u64 << 32;
    bad[2] = 65536.0; // states
    bad[3] = (wrap / 65536) as Flat; // trace layers: states × trace layers = 2³²
    assert!(Contribution::from_flat(&bad, net, None).is_err());
    assert!(Contribution::sum_flat(&[&bad, &bad], net, None).is_err());
}

#[test]
fn a_batch_mean_energy_keeps_its_whole_batch_precision_on_a_part() {
    let e = LayerEnergy::from_name("mse_mean").unwrap();
    let (part, whole, units) = (3, 10, 7);
    let on_whole: f64 = e.precision(whole, units);
    let on_part: f64 = e.on_part(part, whole).precision(part, units);
    assert!((on_whole - on_part).abs() <= 1e-15 * on_whole);
    for sum in ["half_sse", "sse", "cross_entropy", "bce"] {
        let e = LayerEnergy::from_name(sum).unwrap();
        assert_eq!(
            e.on_part(part, whole),
            e,
            "{sum} is a plain sum over samples"
        );
    }
}

#[test]
fn the_noise_model_learns_alike_on_replicas() {
    let c = config(
        "generation",
        &[("hidden", "16,32"), ("batch", "25"), ("T", "5")],
    );
    assert_replicas_agree(c.clone());
    let steps = 20;
    let mut one = Trainer::new(c.clone(), data()).unwrap();
    let mut two: Vec<Trainer> = (0..2)
        .map(|_| Trainer::new(c.clone(), data()).unwrap())
        .collect();
    for _ in 0..steps {
        one.step().unwrap();
        let mut total = two[0].contribute(Shard::new(0, 2).unwrap()).unwrap();
        total
            .add(&two[1].contribute(Shard::new(1, 2).unwrap()).unwrap())
            .unwrap();
        for t in &mut two {
            t.apply(&total).unwrap();
        }
    }
    let (a, b) = (one.noise_model().unwrap(), two[0].noise_model().unwrap());
    assert_eq!(
        two[1].noise_model(),
        Some(b),
        "the replicas' noise models are the same"
    );
    assert_eq!(a.batches, b.batches);
    for (x, y) in a.variances.iter().zip(&b.variances) {
        assert!(
            (x - y).abs() <= 1e-4 * x.abs(),
            "σ² {y} on two replicas against {x} on one"
        );
    }
}
