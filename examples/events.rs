//! Raw saphyr-parser event count of a file: the baseline the engine is measured against
//! (run under `valgrind --tool=callgrind` to compare instruction counts with `pss-fix fix -`).
fn main() {
    let path = std::env::args().nth(1).expect("usage: events FILE");
    let text = std::fs::read_to_string(path).unwrap();
    let n = saphyr_parser::Parser::new_from_str(&text).count();
    println!("{n} events");
}
