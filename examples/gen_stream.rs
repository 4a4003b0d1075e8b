fn main() {
    let mb: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    print!("{}", pss_fix::synth::stream(mb << 20, 1));
}
