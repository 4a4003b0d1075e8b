//! The two reader families side by side on one stream, for the parser choice in docs/editing.md:
//! saphyr-parser (what pss-fix reads with) and unsafe-libyaml (libyaml's C code translated to
//! Rust: go-yaml's own family). `readers FILE`: events per second of each, best of five, and
//! which unit each one's marks count (bytes or characters, checked on a wide character).
use std::time::Instant;

use unsafe_libyaml as unsafe_y;

/// saphyr's events of `text`, up to its first error.
fn saphyr(text: &str) -> usize {
    saphyr_parser::Parser::new_from_str(text)
        .take_while(Result::is_ok)
        .count()
}

/// pss-fix's reader: saphyr, with the rewrite of go-yaml's leniencies for the documents saphyr
/// refuses, building span trees.
fn reader(text: &str) -> usize {
    pss_fix::yaml::Documents::new(text)
        .take_while(Result::is_ok)
        .count()
}

/// libyaml's events of `text`; with `marks`, the start index and column of the last scalar.
fn libyaml(text: &str, marks: bool) -> (usize, Option<(usize, usize)>) {
    // SAFETY: the parser and event live on this stack frame; every event is deleted after
    // use and the parser after the loop, as libyaml's API requires.
    unsafe {
        let mut parser = std::mem::MaybeUninit::<unsafe_y::yaml_parser_t>::uninit();
        assert!(unsafe_y::yaml_parser_initialize(parser.as_mut_ptr()).ok);
        let parser = parser.as_mut_ptr();
        unsafe_y::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        let mut event = std::mem::MaybeUninit::<unsafe_y::yaml_event_t>::uninit();
        let mut n = 0;
        let mut first = None;
        loop {
            if !unsafe_y::yaml_parser_parse(parser, event.as_mut_ptr()).ok {
                break;
            }
            let e = event.as_mut_ptr();
            n += 1;
            if marks && (*e).type_ == unsafe_y::YAML_SCALAR_EVENT {
                // The last scalar's start: after the wide character.
                first = Some((
                    (*e).start_mark.index as usize,
                    (*e).start_mark.column as usize,
                ));
            }
            let end = (*e).type_ == unsafe_y::YAML_STREAM_END_EVENT;
            unsafe_y::yaml_event_delete(e);
            if end {
                break;
            }
        }
        unsafe_y::yaml_parser_delete(parser);
        (n, first)
    }
}

fn best(f: impl Fn() -> usize) -> (usize, f64) {
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..5 {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (n, best)
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: readers FILE");
    let text = std::fs::read_to_string(path).unwrap();
    let mb = text.len() as f64 / 1e6;
    let (sn, st) = best(|| saphyr(&text));
    let (ln, lt) = best(|| libyaml(&text, false).0);
    println!("saphyr-parser  {sn} events  {:.1} MB/s", mb / st);
    let (dn, dt) = best(|| reader(&text));
    println!("pss-fix reader {dn} documents  {:.1} MB/s", mb / dt);
    println!(
        "unsafe-libyaml {ln} events  {:.1} MB/s  ({:.2}x saphyr)",
        mb / lt,
        st / lt
    );
    let (_, mark) = libyaml("é: x\n", true);
    println!(
        "libyaml marks after one 2-byte character: index {:?} (bytes would be 4, characters 3)",
        mark.map(|m| m.0)
    );
}
