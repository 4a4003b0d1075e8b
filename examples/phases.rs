//! Where `fix` spends its time, phase by phase, on one input (a profiling aid; see the
//! throughput bench for the numbers that count). Only the public stages are timed here: the
//! reader, the fingerprints the verifier compares, and the whole engine; `perf` splits the rest.
use std::time::Instant;

use pss_fix::yaml::{canon, Documents};
use pss_fix::{process, Options};

fn main() {
    let path = std::env::args().nth(1).expect("usage: phases FILE");
    let text = std::fs::read_to_string(path).unwrap();
    let mb = text.len() as f64 / 1e6;
    let time = |label: &str, f: &mut dyn FnMut() -> usize| {
        let t = Instant::now();
        let n = f();
        let s = t.elapsed().as_secs_f64();
        println!("{label:<28} {:>7.1} MB/s ({n})", mb / s);
    };
    time("saphyr events", &mut || {
        saphyr_parser::Parser::new_from_str(&text).count()
    });
    time("span trees", &mut || {
        Documents::new(&text)
            .map(|d| d.unwrap().index)
            .last()
            .unwrap_or(0)
    });
    time("trees + fingerprints", &mut || {
        Documents::new(&text)
            .map(|d| canon::fingerprint(&d.unwrap().root) as usize & 1)
            .sum()
    });
    time("process (fix)", &mut || {
        process("x", &text, &Options::default())
            .unwrap()
            .workloads
            .len()
    });
}
