//! The live-equals-read identity, the promise of the one path to the
//! screen: the stdout of `qtap ... --tap t` equals the stdout of
//! `qtap --read t` with the same display options, byte for byte, in every
//! format, against a toy responder, the in-process hickory-server and a
//! real knotd. The other modules check what the output says; this one only
//! that the two paths say the same.

use crate::support::{qtap_at, tiny_server, Run, TestServer};
use crate::{read_back, read_trace};

/// Runs `qtap @127.0.0.1 -p PORT ARGS --tap T`, then `qtap --read T` with
/// the `+options` of ARGS, and asserts the two stdouts are equal and not
/// empty. Returns the live run and the trace's records.
fn assert_live_equals_read(port: &str, args: &[&str]) -> (Run, Vec<qtap::tap::pb::Dnstap>) {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let live = Run::of(qtap_at(port).args(args).arg("--tap").arg(&trace)).expect_code(0);
    assert!(!live.stdout.is_empty(), "{args:?}");
    let read = read_back(&trace, args);
    assert_eq!(
        read, live.stdout,
        "{args:?}: --read differs from live output\n--- live\n{}\n--- read\n{read}",
        live.stdout
    );
    (live, read_trace(&trace))
}

/// Every format and many display options, against a responder that
/// answers each query with one A record.
#[test]
fn live_equals_read_in_every_format() {
    let cases: &[&[&str]] = &[
        &["www.example"],
        &["www.example", "+qr"],
        &["www.example", "+short"],
        &["www.example", "+norec", "+nocmd"],
        &["a.example", "b.example", "AAAA", "+nostats"],
        &["www.example", "+json", "+qr"],
        &["a.example", "b.example", "+yaml"],
        &["www.example", "+multiline", "+nocrypto"],
    ];
    for case in cases {
        let queries = case.iter().filter(|w| w.contains('.')).count();
        let port = tiny_server(queries).to_string();
        assert_live_equals_read(&port, case);
    }
}

/// Record types, transports, truncation and its TCP retry, several lookups
/// in a run, against the in-process hickory-server.
#[test]
fn live_equals_read_against_hickory_server() {
    let server = TestServer::start();
    let port = server.port();
    let cases: &[(&[&str], &[&str])] = &[
        (&["www.qtap.test"], &[]),
        (&["www.qtap.test", "+tcp"], &[]),
        (&["qtap.test", "MX", "+qr"], &["+qr"]),
        (&["multi.qtap.test", "+short"], &["+short"]),
        (&["www.qtap.test", "+norec"], &[]),
        (&["nope.qtap.test"], &[]),
        (&["big.qtap.test", "TXT"], &[]),
        (&["big.qtap.test", "TXT", "+qr"], &["+qr"]),
        (
            &[
                "www.qtap.test",
                "A",
                "qtap.test",
                "NS",
                "txt.qtap.test",
                "TXT",
            ],
            &[],
        ),
        (&["-x", "192.0.2.1"], &[]),
        (&["unknown.qtap.test", "TYPE65400", "+dnssec"], &[]),
        (&["www.qtap.test", "+noedns"], &[]),
        (
            &["alias.qtap.test", "+nocomments", "+nostats"],
            &["+nocomments", "+nostats"],
        ),
        (
            &["_sip._udp.qtap.test", "SRV", "+noquestion", "+noadditional"],
            &["+noquestion", "+noadditional"],
        ),
        (
            &["qtap.test", "SOA", "+nocmd", "+noauthority"],
            &["+nocmd", "+noauthority"],
        ),
        (
            &["odd\\007byte.qtap.test", "+bufsize=512", "+short"],
            &["+short"],
        ),
        (
            &[
                "_443._tcp.www.qtap.test",
                "TLSA",
                "www.qtap.test",
                "AAAA",
                "+tcp",
                "+qr",
            ],
            &["+qr"],
        ),
    ];
    for (query, _) in cases {
        assert_live_equals_read(&port, query);
    }
}

/// With +ignore the TC=1 UDP answer is final: no TCP frames follow it in
/// the trace, and --read must show it as the answer, as live mode did.
#[test]
fn live_equals_read_for_an_ignored_truncation() {
    let server = TestServer::start();
    let (_, records) =
        assert_live_equals_read(&server.port(), &["big.qtap.test", "TXT", "+ignore"]);
    assert_eq!(records.len(), 2);
}

/// Many lookups of many types in one run, against a real knotd.
#[test]
fn live_equals_read_against_knotd() {
    let Some(knot) = crate::knot::start_knot() else {
        return;
    };
    let port = knot.port.to_string();
    let runs: &[&[&str]] = &[
        &[
            "a.lab.test",
            "mx.lab.test",
            "MX",
            "txt.lab.test",
            "TXT",
            "nonexistent.lab.test",
        ],
        &[
            "+qr",
            "dnskey.lab.test",
            "DNSKEY",
            "https.lab.test",
            "HTTPS",
        ],
        &["+short", "aaaa.lab.test", "AAAA", "srv.lab.test", "SRV"],
        &[
            "+tcp",
            "+norec",
            "naptr.lab.test",
            "NAPTR",
            "loc.lab.test",
            "LOC",
        ],
        &["big.lab.test", "TXT", "+qr"],
        &["-x", "192.0.2.1", "+nocmd"],
    ];
    for args in runs {
        assert_live_equals_read(&port, args);
    }
}
