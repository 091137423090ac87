//! Fuzz target: dig-style rendering of an arbitrary DNS message
//! (`render::dig::write_message`, `write_short`, `find_cookie`) under
//! display options picked by the first bytes. Nothing may panic and the
//! text must be terminal-safe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtap::render::dig;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let [opt_a, opt_b, flags, cookie_len, rest @ ..] = data else {
        return;
    };
    let opts = common::display_opts(*opt_a, *opt_b);
    let cookie_len = usize::from(*cookie_len % 40).min(rest.len());
    let (cookie, msg) = rest.split_at(cookie_len);
    let cookie = (flags & 2 != 0).then_some(cookie);
    let mut out = String::new();
    dig::write_message(&mut out, msg, flags & 1 != 0, cookie, &opts);
    dig::write_short(&mut out, msg, &opts);
    let _ = dig::find_cookie(msg);
    common::assert_terminal_safe(&out);
});
