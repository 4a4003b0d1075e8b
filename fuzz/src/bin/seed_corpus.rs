//! Writes synthetic seed streams: `seed_corpus DIR [COUNT]` writes COUNT files
//! `synth-<seed>.yaml` of `pss_fix_testkit::synth::stream(4096, seed)` into DIR.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: seed_corpus DIR [COUNT]"));
    let count: u64 = args
        .next()
        .map_or(16, |n| n.parse().expect("COUNT is a number"));
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    for seed in 0..count {
        let text = pss_fix_testkit::synth::stream(4096, seed);
        std::fs::write(dir.join(format!("synth-{seed}.yaml")), text).expect("write a seed");
    }
}
