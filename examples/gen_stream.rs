//! Writes a synthetic Helm-like stream to stdout: `gen_stream MIB [SEED]` (MIB may be a fraction).
fn main() {
    let mut args = std::env::args().skip(1);
    let mib: f64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .expect("usage: gen_stream MIB [SEED]");
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    print!(
        "{}",
        pss_fix_testkit::synth::stream((mib * 1048576.0) as usize, seed)
    );
}
