//! bytes → `decode` → `process` with the default (safe) options, then the invariants of
//! `pss_fix_fuzz::check`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pss_fix_fuzz::check(data, pss_fix_fuzz::Mode::Safe);
});
