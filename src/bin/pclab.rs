//! The pclab command line: the engine, natively, for sweeps, benchmarks and exact checks.

fn main() {
    println!("pclab {}", pclab::version());
}
