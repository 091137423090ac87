//! Every way to name the server: kdig's `@host#port`, bracketed IPv6 with
//! a port, the `udp://`, `tcp://`, `tls://` and `https://` URL forms (the
//! scheme picks the transport), the precedence of `-p`, and the forms that
//! are refused (a `user@` part in a URL, an unknown scheme, a lone '[').

use crate::encrypted::tls_server;
use crate::support::{qtap, Run, TestServer};
use crate::tls::{ca_arg, ServerOpts};

fn short(args: &[&str]) -> Run {
    let mut cmd = qtap();
    cmd.args(args)
        .args(["www.qtap.test", "A", "+short", "+tries=1"]);
    Run::of(&mut cmd)
}

fn server_line(args: &[&str]) -> Run {
    let mut cmd = qtap();
    cmd.args(args).args(["www.qtap.test", "A", "+tries=1"]);
    Run::of(&mut cmd)
}

#[test]
fn kdig_hash_port_reaches_the_server() {
    let server = TestServer::start();
    let port = server.port();
    let at = format!("@127.0.0.1#{port}");
    let out = short(&[&at]).expect_code(0);
    assert_eq!(out.stdout, "192.0.2.1\n");
    // The later of -p and the server's own port wins (kdig).
    let out = short(&["-p", "9", &at]).expect_code(0);
    assert_eq!(out.stdout, "192.0.2.1\n");
    let colon = format!("@127.0.0.1:{port}");
    let out = short(&[&colon]).expect_code(0);
    assert_eq!(out.stdout, "192.0.2.1\n");
}

#[test]
fn bracketed_ipv6_with_a_port_reaches_the_server() {
    let server = TestServer::start();
    let Some(port) = server.port6() else {
        eprintln!("skipped: no IPv6 loopback");
        return;
    };
    for at in [
        format!("@[::1]:{port}"),
        format!("@[::1]#{port}"),
        format!("@::1#{port}"),
    ] {
        let out = server_line(&[&at]).expect_code(0);
        let want = format!(";; SERVER: ::1#{port}(::1) (UDP)");
        assert!(out.lines().contains(&want.as_str()), "{at}: {}", out.stdout);
    }
}

#[test]
fn url_schemes_pick_the_transport() {
    let server = TestServer::start();
    let port = server.port();
    let udp = format!("@udp://127.0.0.1:{port}");
    let out = server_line(&[&udp]).expect_code(0);
    assert!(
        out.stdout
            .contains(&format!(";; SERVER: 127.0.0.1#{port}(127.0.0.1) (UDP)")),
        "{}",
        out.stdout
    );
    let tcp = format!("@tcp://127.0.0.1:{port}");
    let out = server_line(&[&tcp]).expect_code(0);
    assert!(
        out.stdout
            .contains(&format!(";; SERVER: 127.0.0.1#{port}(127.0.0.1) (TCP)")),
        "{}",
        out.stdout
    );
    let dot = tls_server(ServerOpts::new(b"dot"), false);
    let tls = format!("@tls://127.0.0.1:{}", dot.addr.port());
    let mut cmd = qtap();
    cmd.args([tls.as_str(), "www.enc.test", "+short", &ca_arg()]);
    let out = Run::of(&mut cmd).expect_code(0);
    assert_eq!(out.stdout, "192.0.2.77\n");
}

#[test]
fn bad_server_forms_are_one_line_usage_errors() {
    for (at, want) in [
        ("@https://user@127.0.0.1/dns-query", "user name"),
        ("@http://127.0.0.1/", "unknown scheme"),
        ("@[::1", "'[' without ']'"),
        ("@[::1]:99999", "invalid port"),
        ("@user@ns.example", "invalid port"),
    ] {
        let out = server_line(&[at]).expect_code(1);
        assert_eq!(out.stderr.lines().count(), 1, "{at}: {}", out.stderr);
        assert!(out.stderr.contains(want), "{at}: {}", out.stderr);
        // The text is shown as typed, brackets and all.
        assert!(out.stderr.contains(&at[1..]), "{at}: {}", out.stderr);
    }
}
