//! Raw saphyr-parser event count of a file: the baseline the engine is measured against
//! (run under `valgrind --tool=callgrind` to compare instruction counts with `pss-fix fix -`).
fn main() {
    let path = std::env::args().nth(1).expect("usage: events FILE");
    let text = std::fs::read_to_string(path).unwrap();
    // What pss-fix's reader has saphyr read: documents it refuses rewritten (the bench's
    // baseline reads the same).
    let text = pss_fix::parser_text(&text);
    // saphyr keeps returning its error once it refuses the text (Helm 4's renders hold
    // constructs it refuses): stop there rather than count forever.
    let mut n = 0;
    for ev in saphyr_parser::Parser::new_from_str(&text) {
        if let Err(e) = ev {
            println!("{n} events, then refused: {e}");
            return;
        }
        n += 1;
    }
    println!("{n} events");
}
