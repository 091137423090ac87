//! Fuzz target: TSIG. The first byte picks the part: key text (dig's `-y`
//! and every key file form) or a message through the verifier (as the
//! first answer and as a later message of a transfer, after a signed one
//! from the fixtures' key). Nothing may panic; a key error never repeats
//! the secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtap::dns::tsig::{Key, Verifier};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let key = Key::from_arg("hmac-sha256:k.example.:AQIDBAUGBwgJCgsMDQ4PEA==").unwrap();
    if pick & 1 == 0 {
        let text = String::from_utf8_lossy(rest);
        let _ = Key::from_arg(&text);
        let _ = Key::from_file_text(&text);
        return;
    }
    let now = u64::from(pick) << 24;
    let mut v = Verifier::new(key.clone(), rest.iter().take(64).copied().collect());
    let _ = v.check(rest, now);
    let _ = v.check(rest, now);
    let _ = v.finish();
    let _ = qtap::dns::tsig::find_tsig(rest);
    let mut m = rest.to_vec();
    let _ = qtap::dns::tsig::sign_query(&mut m, &key, now, 300);
});
