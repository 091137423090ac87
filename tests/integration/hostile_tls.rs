//! Hostile peers of the encrypted transports, started in the test process:
//! HTTP/1.1 DoH servers that frame their answers in every legal (and some
//! illegal) way, servers whose free text (HTTP reason phrases, QUIC close
//! reasons) carries terminal escapes, certificates that fail in ways that
//! need a sentence, and TLS or batch files that never end.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::encrypted::tls_server;
use crate::tls::{
    ca_arg, quic_endpoint, read_http1_request, run, tls_listener, Server, ServerOpts,
};
use crate::{answer_a, qtap};

/// What an HTTP/1.1 server does once its response is written.
#[derive(Clone, Copy, Debug)]
enum After {
    /// Close the TCP connection without TLS close_notify.
    Drop,
    /// Keep the connection open (and idle) for a minute.
    KeepOpen,
    /// Close properly, with close_notify.
    Shutdown,
}

/// A DoH server that speaks only HTTP/1.1 and answers every request with
/// `respond(answer)`, then does `after`.
fn http1_server<F>(respond: F, after: After) -> Server
where
    F: Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static,
{
    let respond = std::sync::Arc::new(respond);
    tls_listener(&ServerOpts::new(b"http/1.1"), move |mut tls| {
        let respond = respond.clone();
        async move {
            let Some(query) = read_http1_request(&mut tls).await else {
                return;
            };
            let _ = tls.write_all(&respond(&answer_a(&query))).await;
            let _ = tls.flush().await;
            match after {
                After::Drop => drop(tls),
                After::KeepOpen => tokio::time::sleep(Duration::from_secs(60)).await,
                After::Shutdown => {
                    let _ = tls.shutdown().await;
                }
            }
        }
    })
}

fn head(lines: &str, body: &[u8]) -> Vec<u8> {
    let mut out = lines.replace('\n', "\r\n").into_bytes();
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn ok_with_length(answer: &[u8]) -> Vec<u8> {
    head(
        &format!(
            "HTTP/1.1 200 OK\nContent-Type: application/dns-message\nContent-Length: {}\n",
            answer.len()
        ),
        answer,
    )
}

fn doh(server: &Server, extra: &[&str]) -> (i32, String, String) {
    let ca = ca_arg();
    let mut args = vec!["www.enc.test", "+https", ca.as_str(), "+short", "+tries=1"];
    args.extend_from_slice(extra);
    run(server, &args)
}

#[test]
fn http1_answer_is_taken_when_the_server_closes_without_close_notify() {
    let server = http1_server(ok_with_length, After::Drop);
    let (code, stdout, stderr) = doh(&server, &[]);
    assert_eq!((code, stdout.as_str()), (0, "192.0.2.77\n"), "{stderr}");
}

#[test]
fn http1_answer_is_taken_when_the_server_keeps_the_connection_open() {
    let server = http1_server(ok_with_length, After::KeepOpen);
    let (code, stdout, stderr) = doh(&server, &["+timeout=20"]);
    assert_eq!((code, stdout.as_str()), (0, "192.0.2.77\n"), "{stderr}");
}

#[test]
fn http1_chunked_answer_is_taken_when_the_server_keeps_the_connection_open() {
    let chunked = |answer: &[u8]| {
        let (a, b) = answer.split_at(5);
        let mut body = format!("{:x}\r\n", a.len()).into_bytes();
        body.extend_from_slice(a);
        body.extend_from_slice(format!("\r\n{:x};ext=1\r\n", b.len()).as_bytes());
        body.extend_from_slice(b);
        body.extend_from_slice(b"\r\n0\r\n\r\n");
        head(
            "HTTP/1.1 200 OK\nContent-Type: application/dns-message\nTransfer-Encoding: chunked\n",
            &body,
        )
    };
    let server = http1_server(chunked, After::KeepOpen);
    let (code, stdout, stderr) = doh(&server, &["+timeout=20"]);
    assert_eq!((code, stdout.as_str()), (0, "192.0.2.77\n"), "{stderr}");
}

#[test]
fn http1_get_carries_the_query_in_the_target() {
    let server = http1_server(ok_with_length, After::Shutdown);
    let (code, stdout, stderr) = doh(&server, &["+https-get"]);
    assert_eq!((code, stdout.as_str()), (0, "192.0.2.77\n"), "{stderr}");
}

#[test]
fn http1_interim_responses_are_skipped() {
    let interim = |answer: &[u8]| {
        let mut out = head("HTTP/1.1 100 Continue\n", b"");
        out.extend(head("HTTP/1.1 103 Early Hints\nLink: </style.css>\n", b""));
        out.extend(ok_with_length(answer));
        out
    };
    let server = http1_server(interim, After::Shutdown);
    let (code, stdout, stderr) = doh(&server, &[]);
    assert_eq!((code, stdout.as_str()), (0, "192.0.2.77\n"), "{stderr}");
}

#[test]
fn http1_conflicting_lengths_are_refused() {
    let conflicting = |answer: &[u8]| {
        let mut body = answer.to_vec();
        body.extend_from_slice(b"JUNK");
        head(
            &format!(
                "HTTP/1.1 200 OK\nContent-Type: application/dns-message\nContent-Length: {}\nContent-Length: {}\n",
                answer.len(),
                answer.len() + 4
            ),
            &body,
        )
    };
    let server = http1_server(conflicting, After::Shutdown);
    let (code, stdout, stderr) = doh(&server, &[]);
    assert_eq!(code, 9, "{stderr}");
    assert!(!stdout.contains("192.0.2.77"), "{stdout}");
    assert!(stderr.contains("HTTP/1.1 exchange failed"), "{stderr}");
}

#[test]
fn http1_wrong_content_type_is_named() {
    let portal = |_: &[u8]| {
        let page = b"<html>Please log in</html>";
        head(
            &format!(
                "HTTP/1.1 200 OK\nContent-Type: text/html; charset=utf-8\nContent-Length: {}\n",
                page.len()
            ),
            page,
        )
    };
    let server = http1_server(portal, After::Shutdown);
    let (code, _, stderr) = doh(&server, &[]);
    assert_eq!(code, 9, "{stderr}");
    assert!(
        stderr.contains("not a DNS message (Content-Type: text/html; charset=utf-8"),
        "{stderr}"
    );
}

#[test]
fn http1_reason_phrases_reach_stderr_escaped() {
    // A custom reason phrase is shown, escaped like wire text.
    let tab = |_: &[u8]| head("HTTP/1.1 403 Go\taway\\now\nContent-Length: 0\n", b"");
    let server = http1_server(tab, After::Shutdown);
    let (code, _, stderr) = doh(&server, &[]);
    assert_eq!(code, 9, "{stderr}");
    assert!(
        stderr.contains("HTTP status 403 Go\\009away\\092now"),
        "{stderr}"
    );
    // C1 controls (U+009B is CSI to some terminals) are legal "obs-text":
    // never shown raw.
    let c1 = |_: &[u8]| head("HTTP/1.1 403 Denied \u{9b}2J\nContent-Length: 0\n", b"");
    let server = http1_server(c1, After::Shutdown);
    let (code, _, stderr) = doh(&server, &[]);
    assert_eq!(code, 9, "{stderr}");
    assert!(stderr.contains("HTTP status 403"), "{stderr}");
    assert!(!stderr.contains('\u{9b}'), "{stderr:?}");
    // ESC itself: refused by the parser or escaped, never shown raw.
    let esc = |_: &[u8]| {
        head(
            "HTTP/1.1 403 \u{1b}[2J\u{1b}]0;pwned\u{7}\nContent-Length: 0\n",
            b"",
        )
    };
    let server = http1_server(esc, After::Shutdown);
    let (code, _, stderr) = doh(&server, &[]);
    assert_eq!(code, 9, "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
}

#[test]
fn quic_close_reasons_reach_stderr_escaped() {
    let server = quic_endpoint(&ServerOpts::new(b"doq"), |incoming| async move {
        let Ok(conn) = incoming.await else { return };
        if let Ok((_send, mut recv)) = conn.accept_bi().await {
            let _ = recv.read_to_end(65_537).await;
            conn.close(2u32.into(), b"\x1b[2J\x1b]0;pwned\x07bye");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let (code, _, stderr) = run(&server, &["www.enc.test", "+quic", &ca_arg(), "+tries=1"]);
    assert_eq!(code, 9, "{stderr}");
    assert!(
        stderr.contains("DOQ_PROTOCOL_ERROR 0x2): \\027[2J\\027]0;pwned\\007bye"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[test]
fn certificate_errors_are_sentences() {
    // The CA's own certificate as the server's: webpki's CaUsedAsEndEntity.
    let mut o = ServerOpts::new(b"dot");
    o.cert = "ca";
    let dot = tls_server(o, false);
    let (code, _, stderr) = run(&dot, &["www.enc.test", "+tls", &ca_arg()]);
    assert_eq!(code, 9, "{stderr}");
    assert!(stderr.contains("CA used as end entity"), "{stderr}");
    assert!(!stderr.contains("OtherError"), "{stderr}");
    // The name check names the certificate's names.
    let dot = tls_server(ServerOpts::new(b"dot"), false);
    let (code, _, stderr) = run(
        &dot,
        &[
            "www.enc.test",
            "+tls",
            &ca_arg(),
            "+tls-hostname=wrong.test",
        ],
    );
    assert_eq!(code, 9, "{stderr}");
    assert!(
        stderr.contains(
            "not valid for the server name wrong.test (it is for dns.test, 127.0.0.1, ::1)"
        ),
        "{stderr}"
    );
}

#[test]
fn quic_certificate_errors_are_sentences() {
    let server = quic_endpoint(&ServerOpts::new(b"doq"), |incoming| async move {
        let _ = incoming.await;
    });
    // No +tls-ca: the test CA is unknown to the system roots.
    let (code, _, stderr) = run(&server, &["www.enc.test", "+quic", "+tries=1"]);
    assert_eq!(code, 9, "{stderr}");
    assert!(
        stderr.contains("unknown issuer (not signed by a trusted CA)"),
        "{stderr}"
    );
}

#[test]
fn endless_tls_and_batch_files_are_refused_at_once() {
    for arg in [
        "+tls-ca=/dev/zero",
        "+tls-certfile=/dev/zero",
        "+tls-ca=/dev/urandom",
    ] {
        let out = qtap()
            .args(["@127.0.0.1", "-p", "9", "x.example", "+tls", arg])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{arg}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{arg}: {stderr}");
        assert!(stderr.contains("larger than 4 MiB"), "{arg}: {stderr}");
    }
    // The batch file keeps dig's exit code for batch-file trouble (8).
    let out = qtap()
        .args(["@127.0.0.1", "-p", "9", "-f", "/dev/zero"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("line 1: longer than 64 KiB"), "{stderr}");
}

#[test]
fn doh_paths_with_control_characters_never_reach_a_request() {
    for arg in [
        "+https=/dns-query\r\nX-Evil: 1",
        "--https=/a\nb",
        "@https://127.0.0.1/a%0d%0a\r\n",
    ] {
        let out = qtap()
            .args(["@127.0.0.1", "-p", "9", "x.example", arg])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{arg:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{arg:?}: {stderr}");
    }
}
