#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| serving_verifier::fuzz::sign_and_recover(data));
