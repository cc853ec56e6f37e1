//! One learning step's gradients, computed without changing the run, so that a minibatch
//! can be split over replicas of one network (data parallelism).
//!
//! Every energy in pclab is a sum over the samples of a batch (the batch-mean Gaussian
//! `MseMean` too, once its precision is taken from the whole batch: see
//! [`LayerEnergy::on_part`]), and PC inference settles each sample on its own. So the
//! gradients of a minibatch are the sum of the gradients of its parts, and replicas that
//! each learn from one [`Shard`] and apply the same sum never drift apart:
//! `∂θ = Σ_k ∂θ(shard k)`.

use super::generative::feedforward_explained;
use super::record::{per_sample, trace_record};
use super::{Beliefs, StepRecord, F};
use crate::config::Config;
use crate::energy::LayerEnergy;
use crate::error::{PcError, Result};
use crate::experiment::{End, Rule};
use crate::flops::Flops;
use crate::inference::{infer, Clamp, Settled};
use crate::learning::{bp_gradients, pc_gradients};
use crate::network::{BlockGradient, Gradients, Network};
use crate::sampling::BatchMoments;
use crate::unrolled::{settle_with_readout, unroll, Readout};
use nalgebra::DMatrix;
use std::borrow::Cow;
use std::ops::Range;

/// The most replicas a minibatch is split over (the page's workers).
pub const MAX_SHARDS: usize = 8;

/// Replica `index` of `count`: its rows of a minibatch of B samples are
/// `[⌊index·B/count⌋, ⌊(index+1)·B/count⌋)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which part, `0..count`.
    pub index: usize,
    /// Into how many parts the minibatch is split.
    pub count: usize,
}

impl Shard {
    /// The whole minibatch (one replica).
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Replica `index` of `count`, checked.
    pub fn new(index: usize, count: usize) -> Result<Self> {
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(PcError::Config(format!(
                "a shard is one of 1 to {MAX_SHARDS} parts of a minibatch (got part {index} of {count})"
            )));
        }
        Ok(Shard { index, count })
    }

    /// This shard's rows of a minibatch of `batch` samples (empty when there are more
    /// replicas than samples).
    pub fn rows(&self, batch: usize) -> Range<usize> {
        (self.index * batch / self.count)..((self.index + 1) * batch / self.count)
    }
}

/// What one replica contributes to a step: the gradients of its shard (sums over its
/// samples), the classifier's (trade-off), its share of the step's record (sums divided by
/// the whole batch, so that the shares add up to the record) and the FLOPs it spent.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    /// `∂θ` of the network's blocks over this shard.
    pub grads: Gradients<F>,
    /// `∂θ` of the trade-off's classifier over this shard.
    pub classifier: Option<Gradients<F>>,
    /// This shard's share of the step's loss and energies.
    pub record: StepRecord,
    /// FLOPs spent on this shard.
    pub flops: Flops,
    /// Samples in this shard (0: a replica with no rows of a short last minibatch).
    pub samples: usize,
    /// The sums the noise model learns from (a run that can be sampled).
    pub moments: Option<BatchMoments>,
}

/// A layer energy's batch-dependent precision taken from the whole batch (see
/// [`LayerEnergy::on_part`]); borrowed as is when no layer depends on the batch size.
fn on_part(net: &Network<F>, part: usize, whole: usize) -> Result<Cow<'_, Network<F>>> {
    let energies: Vec<LayerEnergy> = net.blocks().iter().map(|b| b.energy).collect();
    if energies.iter().all(|e| e.on_part(part, whole) == *e) {
        return Ok(Cow::Borrowed(net));
    }
    let mut net = net.clone();
    for (l, e) in energies.into_iter().enumerate() {
        net.set_energy(l + 1, e.on_part(part, whole))?;
    }
    Ok(Cow::Owned(net))
}

/// `net` with every layer's energy multiplied by `factor` (a term's weight in a sum).
pub(super) fn weighted(net: &Network<F>, factor: f64) -> Result<Network<F>> {
    let mut net = net.clone();
    for l in 1..=net.depth() {
        let energy = net.blocks()[l - 1].energy;
        net.set_energy(l, energy.scaled(energy.scale * factor))?;
    }
    Ok(net)
}

/// The starting beliefs of a free latent: zero latent, and the feedforward predictions
/// from it for the layers below.
pub(super) fn latent_init(net: &Network<F>, b: usize) -> Result<Beliefs> {
    net.feedforward(&DMatrix::zeros(b, net.sizes()[0]))
}

/// The data at one end of the network during learning (`None`: a free latent).
pub(super) fn data_at<'a>(
    end: End,
    images: &'a DMatrix<F>,
    labels: &'a DMatrix<F>,
) -> Option<&'a DMatrix<F>> {
    match end {
        End::Image => Some(images),
        End::Label => Some(labels),
        End::Latent => None,
    }
}

/// One learning step's gradients on part of a minibatch, by the configured rule.
pub(super) struct LearningStep<'a> {
    pub config: &'a Config,
    pub net: &'a Network<F>,
    pub classifier: Option<&'a Network<F>>,
    /// Samples in the whole minibatch (the records' divisor).
    pub whole: usize,
    /// Whether the run learns a noise model (and so needs the beliefs' moments).
    pub noise: bool,
}

impl LearningStep<'_> {
    /// The contribution of `images`/`labels` (this shard's rows).
    pub fn contribute(&self, images: &DMatrix<F>, labels: &DMatrix<F>) -> Result<Contribution> {
        let mut flops = Flops::default();
        let net = on_part(self.net, images.nrows(), self.whole)?;
        let spec = self.config.experiment.spec();
        let mut moments = None;
        let (grads, classifier, record) = match self.config.rule {
            Rule::BpThroughInference => {
                self.bp_through_inference(&net, images, labels, &mut moments, &mut flops)?
            }
            Rule::Pc if spec.classifier => {
                self.pc_tradeoff(&net, images, labels, &mut moments, &mut flops)?
            }
            Rule::Bp => {
                // BP trains the feedforward map from what is observed: an autoencoder
                // from the image where layer 0 is a latent.
                let (bottom, top) = if self.config.autoencoder() {
                    (Some(images), Some(images))
                } else {
                    (
                        data_at(spec.bottom, images, labels),
                        data_at(spec.top, images, labels),
                    )
                };
                let (Some(bottom), Some(top)) = (bottom, top) else {
                    return Err(PcError::Config(
                        "BP needs data at both ends of the network".into(),
                    ));
                };
                if self.noise {
                    let beliefs = feedforward_explained(&net, bottom, top)?;
                    moments = Some(BatchMoments::of(&net, &beliefs)?);
                }
                let bp = bp_gradients(&net, bottom, top, &mut flops)?;
                let loss = per_sample(bp.loss, self.whole);
                let record = StepRecord {
                    loss,
                    energy: loss,
                    ..StepRecord::default()
                };
                (bp.grads, None, record)
            }
            Rule::Pc => {
                let clamp = Clamp {
                    input: data_at(spec.bottom, images, labels),
                    output: data_at(spec.top, images, labels),
                };
                let initial = match clamp.input {
                    None => Some(latent_init(&net, images.nrows())?),
                    Some(_) => None,
                };
                let settled = infer(
                    &net,
                    clamp,
                    &self.config.inference(),
                    initial.as_deref(),
                    &mut flops,
                )?;
                self.observe(&net, &settled.beliefs, &mut moments)?;
                let (grads, record) = self.pc_step(&net, &settled, &mut flops);
                (grads, None, record)
            }
        };
        Ok(Contribution {
            grads,
            classifier,
            record,
            flops,
            samples: images.nrows(),
            moments,
        })
    }

    /// The moments of `beliefs` for the noise model, if the run learns one.
    fn observe(
        &self,
        net: &Network<F>,
        beliefs: &[DMatrix<F>],
        moments: &mut Option<BatchMoments>,
    ) -> Result<()> {
        if self.noise {
            *moments = Some(BatchMoments::of(net, beliefs)?);
        }
        Ok(())
    }

    /// The contribution of a shard with no rows: zero gradients, nothing recorded.
    pub fn nothing(&self) -> Contribution {
        Contribution {
            grads: Gradients::zeros(self.net),
            classifier: self.classifier.map(Gradients::zeros),
            record: StepRecord::default(),
            flops: Flops::default(),
            samples: 0,
            moments: None,
        }
    }

    /// PC weight gradients (clean rule, or the tutorial's accumulated sum) and the record
    /// of the inference that produced them.
    fn pc_step(
        &self,
        net: &Network<F>,
        settled: &Settled<F>,
        flops: &mut Flops,
    ) -> (Gradients<F>, StepRecord) {
        let grads = match &settled.accumulated_grads {
            Some(sum) if self.config.accumulate => sum.clone(),
            _ => pc_gradients(net, settled, flops),
        };
        (
            grads,
            trace_record(&settled.energy_trace, net.depth(), self.whole),
        )
    }

    /// The trade-off's classifier, weighted by λ.
    fn classifier(&self) -> Result<Network<F>> {
        let net = self.classifier.ok_or_else(super::no_classifier)?;
        weighted(net, self.config.lambda)
    }

    /// PC on `(1−λ)·F + λ·E_c`: with the image at layer L and the label at the classifier,
    /// the latent settles under the decoder's energy F and the classifier's cross-entropy
    /// `E_c = CE(classifier(v_0), label)`; then every decoder block and the classifier take
    /// their local gradients at the settled state.
    fn pc_tradeoff(
        &self,
        net: &Network<F>,
        images: &DMatrix<F>,
        labels: &DMatrix<F>,
        moments: &mut Option<BatchMoments>,
        flops: &mut Flops,
    ) -> Result<(Gradients<F>, Option<Gradients<F>>, StepRecord)> {
        let decoder = weighted(net, 1.0 - self.config.lambda)?;
        let classifier = self.classifier()?;
        let readout = Readout {
            net: &classifier,
            target: labels,
        };
        let settled = settle_with_readout(
            &decoder,
            Clamp::output_only(images),
            &self.config.standard(),
            Some(&latent_init(net, images.nrows())?),
            readout,
            flops,
        )?;
        let head = classifier_gradients(readout, &settled.beliefs[0], flops)?;
        self.observe(net, &settled.beliefs, moments)?;
        let (grads, mut record) = self.pc_step(net, &settled, flops);
        record.loss = record.energy_per_layer[0] + record.energy_per_layer[net.depth()];
        Ok((grads, Some(head.parameters), record))
    }

    /// BP through inference: the latent settles on the decoder's energy alone (image
    /// clamped), then the outer loss
    /// `(1−λ)·E_L(decoder(v_0(T)), image) + λ·CE(classifier(v_0(T)), label)` (compress: the
    /// reconstruction term alone) is differentiated through every inference step. The
    /// reconstruction is the decoder's feedforward prediction from the latent, as at test
    /// time; the starting state is held fixed.
    fn bp_through_inference(
        &self,
        net: &Network<F>,
        images: &DMatrix<F>,
        labels: &DMatrix<F>,
        moments: &mut Option<BatchMoments>,
        flops: &mut Flops,
    ) -> Result<(Gradients<F>, Option<Gradients<F>>, StepRecord)> {
        let b = images.nrows();
        let lambda = if self.classifier.is_some() {
            self.config.lambda
        } else {
            0.0
        };
        let settings = self.config.standard();
        let initial = latent_init(net, b)?;
        let run = unroll(
            net,
            Clamp::output_only(images),
            &settings,
            Some(&initial),
            flops,
        )?;
        self.observe(net, run.beliefs(), moments)?;
        let latent = &run.beliefs()[0];
        let decoder = weighted(net, 1.0 - lambda)?;
        let reconstruction = Readout {
            net: &decoder,
            target: images,
        }
        .evaluate(latent, flops)?;
        let mut outer: Vec<DMatrix<F>> =
            net.sizes().iter().map(|&n| DMatrix::zeros(b, n)).collect();
        outer[0] = reconstruction.input;
        let mut loss = reconstruction.energy;
        let mut head = None;
        if self.classifier.is_some() {
            let classifier = self.classifier()?;
            let readout = Readout {
                net: &classifier,
                target: labels,
            };
            let ce = classifier_gradients(readout, latent, flops)?;
            outer[0] += ce.input;
            loss += ce.energy;
            head = Some(ce.parameters);
        }
        let grads = run
            .backward(net, &outer, Some(&reconstruction.parameters), flops)?
            .parameters;
        let record = StepRecord {
            loss: per_sample(loss, self.whole),
            ..trace_record(&run.energy_trace, net.depth(), self.whole)
        };
        Ok((grads, head, record))
    }
}

/// The classifier's energy and gradients at the latent `v_0` (its local PC gradient and
/// its BP gradient alike), counted as learning.
fn classifier_gradients(
    readout: Readout<'_, F>,
    latent: &DMatrix<F>,
    flops: &mut Flops,
) -> Result<crate::unrolled::ReadoutGradients<F>> {
    let mut scratch = Flops::default();
    let evaluated = readout.evaluate(latent, &mut scratch)?;
    flops.learning += scratch.total();
    Ok(evaluated)
}

impl Contribution {
    /// Adds `other`'s gradients, record and FLOPs to this one's (the same step of another
    /// shard): shapes and trace lengths must match.
    pub fn add(&mut self, other: &Contribution) -> Result<()> {
        let mismatch = || PcError::Shape("contributions of different steps or networks".into());
        add_gradients(&mut self.grads, &other.grads).ok_or_else(mismatch)?;
        match (&mut self.classifier, &other.classifier) {
            (Some(a), Some(b)) => add_gradients(a, b).ok_or_else(mismatch)?,
            (None, None) => {}
            _ => return Err(mismatch()),
        }
        self.flops.inference += other.flops.inference;
        self.flops.learning += other.flops.learning;
        self.flops.bp += other.flops.bp;
        if other.samples == 0 {
            return Ok(());
        }
        if self.samples == 0 {
            self.record = other.record.clone();
            self.samples = other.samples;
            self.moments = other.moments.clone();
            return Ok(());
        }
        match (&mut self.moments, &other.moments) {
            (Some(a), Some(b)) => a.add(b)?,
            (None, None) => {}
            _ => return Err(mismatch()),
        }
        self.samples += other.samples;
        let (a, b) = (&mut self.record, &other.record);
        let same = a.energy_per_layer.len() == b.energy_per_layer.len()
            && a.energy_trace.len() == b.energy_trace.len()
            && a.energy_trace_per_layer.len() == b.energy_trace_per_layer.len()
            && (a.energy_trace_per_layer.iter())
                .zip(&b.energy_trace_per_layer)
                .all(|(x, y)| x.len() == y.len());
        if !same {
            return Err(mismatch());
        }
        a.loss += b.loss;
        a.energy += b.energy;
        add_all(&mut a.energy_per_layer, &b.energy_per_layer);
        add_all(&mut a.energy_trace, &b.energy_trace);
        for (x, y) in a
            .energy_trace_per_layer
            .iter_mut()
            .zip(&b.energy_trace_per_layer)
        {
            add_all(x, y);
        }
        Ok(())
    }

    /// Every number of the contribution in one array, for a message between replicas:
    /// a header of lengths, the gradients, then the record and the FLOPs.
    pub fn to_flat(&self) -> Vec<Flat> {
        let r = &self.record;
        let trace_layers = r.energy_trace_per_layer.len();
        let mut out = vec![
            FORMAT as Flat,
            r.energy_per_layer.len() as Flat,
            r.energy_trace.len() as Flat,
            trace_layers as Flat,
            Flat::from(u8::from(self.classifier.is_some())),
            self.samples as Flat,
            Flat::from(u8::from(self.moments.is_some())),
        ];
        for grads in std::iter::once(&self.grads).chain(&self.classifier) {
            for block in &grads.blocks {
                out.extend(block.weight.iter().copied());
                out.extend(block.bias.iter().copied());
            }
        }
        let wide = |xs: &[f64]| xs.iter().map(|&x| x as Flat).collect::<Vec<_>>();
        out.extend(wide(&[r.loss, r.energy]));
        out.extend(wide(&r.energy_per_layer));
        out.extend(wide(&r.energy_trace));
        for layer in &r.energy_trace_per_layer {
            out.extend(wide(layer));
        }
        let f = self.flops;
        out.extend([f.inference as Flat, f.learning as Flat, f.bp as Flat]);
        if let Some(m) = &self.moments {
            out.extend(wide(&m.squared_errors));
            out.extend(wide(&m.latent_sum));
            out.extend(wide(&m.latent_squares));
        }
        out
    }

    /// The sum of contributions in their flat form ([`Contribution::to_flat`]), added in
    /// the order given, as one flat array. Parts of the same layout (every shard with
    /// samples) are added number by number without unpacking them; the rest (an empty
    /// shard) goes through [`Contribution::add`]. Every part's header and length are
    /// checked as [`Contribution::from_flat`] checks them; its values are checked when the
    /// sum is read.
    pub fn sum_flat(
        parts: &[&[Flat]],
        net: &Network<F>,
        classifier: Option<&Network<F>>,
    ) -> Result<Vec<Flat>> {
        let layouts = parts
            .iter()
            .map(|p| Layout::read(p, net, classifier))
            .collect::<Result<Vec<_>>>()?;
        let (first, rest) = parts
            .split_first()
            .ok_or_else(|| PcError::Shape("no contributions to sum".into()))?;
        if layouts.iter().all(|l| l.same_shape(&layouts[0])) {
            // Added in f64 and rounded once, as the unpacked sum adds its records.
            let mut total: Vec<f64> = first.iter().map(|&x| f64::from(x)).collect();
            for part in rest {
                for (t, &x) in total[HEADER..].iter_mut().zip(&part[HEADER..]) {
                    *t += f64::from(x);
                }
            }
            total[SAMPLES] = layouts.iter().map(|l| l.samples as f64).sum();
            return Ok(total.into_iter().map(|x| x as Flat).collect());
        }
        let mut total = Self::from_flat(first, net, classifier)?;
        for part in rest {
            total.add(&Self::from_flat(part, net, classifier)?)?;
        }
        Ok(total.to_flat())
    }

    /// A contribution from [`Contribution::to_flat`]'s array, shaped like `net` (and
    /// `classifier`); fails on any mismatch or a non-finite or negative count.
    pub fn from_flat(
        flat: &[Flat],
        net: &Network<F>,
        classifier: Option<&Network<F>>,
    ) -> Result<Self> {
        let Layout {
            layers,
            states,
            trace_layers,
            samples,
            has_moments,
            ..
        } = Layout::read(flat, net, classifier)?;
        let (depth, n0) = (net.depth(), net.sizes()[0]);
        let bad =
            |what: &str| PcError::Shape(format!("a replica's contribution is malformed: {what}"));
        let mut rest = &flat[HEADER..];
        let mut take = |n: usize| {
            let (head, tail) = rest.split_at(n);
            rest = tail;
            head
        };
        let mut grads_of = |n: &Network<F>| Gradients {
            blocks: n
                .blocks()
                .iter()
                .map(|b| {
                    let (rows, cols) = b.weight.shape();
                    let weight = DMatrix::from_column_slice(rows, cols, take(rows * cols));
                    let bias = nalgebra::DVector::from_column_slice(take(b.bias.len()));
                    BlockGradient { weight, bias }
                })
                .collect(),
        };
        let grads = grads_of(net);
        let classifier = classifier.map(&mut grads_of);
        let mut wide = |n: usize| -> Vec<f64> { take(n).iter().map(|&x| f64::from(x)).collect() };
        let [loss, energy] = [wide(1)[0], wide(1)[0]];
        let energy_per_layer = wide(layers);
        let energy_trace = wide(states);
        let energy_trace_per_layer = (0..trace_layers).map(|_| wide(states)).collect();
        let f = wide(3);
        if f.iter()
            .any(|&x| !(x >= 0.0 && x.fract() == 0.0 && x < 2f64.powi(63)))
        {
            return Err(bad("FLOP counts"));
        }
        let moments = has_moments.then(|| BatchMoments {
            samples,
            squared_errors: wide(depth),
            latent_sum: wide(n0),
            latent_squares: wide(n0),
        });
        Ok(Contribution {
            grads,
            classifier,
            record: StepRecord {
                loss,
                energy,
                energy_per_layer,
                energy_trace,
                energy_trace_per_layer,
                ..StepRecord::default()
            },
            flops: Flops {
                inference: f[0] as u64,
                learning: f[1] as u64,
                bp: f[2] as u64,
            },
            samples,
            moments,
        })
    }
}

/// The number type of a contribution's flat form: the gradients' own (f32), so that the
/// largest part crosses between workers unconverted and at half the bytes of f64. The
/// header's counts stay exact (to 2²⁴); the records and the FLOP counts are rounded to 24
/// bits (a split step's FLOPs can differ from one worker's in the eighth digit).
pub type Flat = f32;

/// The version of [`Contribution::to_flat`]'s layout (2: f32).
const FORMAT: f64 = 2.0;
/// Numbers in its header: format, layers, states, trace layers, classifier, samples,
/// moments.
const HEADER: usize = 7;
/// Where the header holds the number of samples.
const SAMPLES: usize = 5;

/// A flat contribution's header, checked against the network it is for.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Layout {
    layers: usize,
    states: usize,
    trace_layers: usize,
    has_classifier: bool,
    samples: usize,
    has_moments: bool,
}

impl Layout {
    /// Reads and checks `flat`'s header: counts that are whole numbers, the format, the
    /// classifier `net` has, and a length that fits `net` (and `classifier`).
    fn read(flat: &[Flat], net: &Network<F>, classifier: Option<&Network<F>>) -> Result<Self> {
        let bad =
            |what: &str| PcError::Shape(format!("a replica's contribution is malformed: {what}"));
        let mut it = flat.iter().map(|&x| f64::from(x));
        let mut count = |what: &str| -> Result<usize> {
            let x = it.next().ok_or_else(|| bad("too short"))?;
            if !(x >= 0.0 && x.fract() == 0.0 && x <= 1e9) {
                return Err(bad(what));
            }
            Ok(x as usize)
        };
        if count("format")? as f64 != FORMAT {
            return Err(bad("unknown format"));
        }
        let (layers, states) = (count("layers")?, count("states")?);
        let trace_layers = count("trace")?;
        let flag = |x: usize, what: &str| match x {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad(what)),
        };
        let has_classifier = flag(count("classifier")?, "classifier")?;
        let samples = count("samples")?;
        let layout = Layout {
            layers,
            states,
            trace_layers,
            has_classifier,
            samples,
            has_moments: flag(count("moments")?, "moments")?,
        };
        if layout.has_classifier != classifier.is_some() {
            return Err(bad("the classifier does not match"));
        }
        let params: usize = std::iter::once(net)
            .chain(classifier)
            .flat_map(|n| n.blocks())
            .map(|b| b.weight.len() + b.bias.len())
            .sum();
        let (depth, n0) = (net.depth(), net.sizes()[0]);
        let moments_len = if layout.has_moments {
            depth + 2 * n0
        } else {
            0
        };
        // Checked: counts up to 10⁹ multiply past a 32-bit usize (wasm32).
        let expected = (trace_layers.checked_mul(states))
            .and_then(|trace| trace.checked_add(layers + states))
            .map(|n| n + HEADER + params + 2 + 3 + moments_len);
        if expected != Some(flat.len()) {
            return Err(bad("its length does not fit the network"));
        }
        Ok(layout)
    }

    /// Whether two contributions have the same numbers in the same places (only their
    /// sample counts may differ), so that they add number by number.
    fn same_shape(&self, other: &Layout) -> bool {
        Layout {
            samples: other.samples,
            ..*self
        } == *other
    }
}

/// `a += b` block by block; `None` if the shapes differ.
fn add_gradients(a: &mut Gradients<F>, b: &Gradients<F>) -> Option<()> {
    if a.blocks.len() != b.blocks.len() {
        return None;
    }
    for (x, y) in a.blocks.iter_mut().zip(&b.blocks) {
        if x.weight.shape() != y.weight.shape() || x.bias.len() != y.bias.len() {
            return None;
        }
        x.weight += &y.weight;
        x.bias += &y.bias;
    }
    Some(())
}

/// `a += b` elementwise (equal lengths checked by the caller).
fn add_all(a: &mut [f64], b: &[f64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}
