#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| verifier::fuzz::typed_messages(data));
