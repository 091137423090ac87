//! DNS over TLS, HTTPS and QUIC against servers started in the test
//! process (rustls, h2 and quinn servers with the test PKI in
//! tests/fixtures/certs), including the failure cases: wrong CA, wrong
//! name, pins, an expired certificate, a required client certificate, a
//! server that closes mid-stream, a slow one, refused ALPN, HTTP errors,
//! and `+keepopen` reusing one connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use qtap::tap::pb;

use crate::tls::{
    ca_arg, cert_path, chain, quic_endpoint, read_http1_request, run, tls_listener, Mode, Server,
    ServerOpts,
};
use crate::{answer_a, have, qtap, read_trace};

/// DNS over TLS (and over plain TLS with h2 for DoH when `doh`).
pub(crate) fn tls_server(o: ServerOpts, doh: bool) -> Server {
    let gets = Arc::new(AtomicUsize::new(0));
    let g = gets.clone();
    let mode = o.mode;
    let mut server = tls_listener(&o, move |mut tls| {
        let g = g.clone();
        async move {
            if doh {
                serve_h2(tls, g).await;
                return;
            }
            loop {
                let mut len = [0u8; 2];
                if tls.read_exact(&mut len).await.is_err() {
                    return;
                }
                let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if tls.read_exact(&mut q).await.is_err() {
                    return;
                }
                match mode {
                    Mode::Answer => {
                        let r = answer_a(&q);
                        let mut out = (r.len() as u16).to_be_bytes().to_vec();
                        out.extend_from_slice(&r);
                        let _ = tls.write_all(&out).await;
                    }
                    Mode::CloseMidStream => {
                        let _ = tls.write_all(&[0]).await;
                        let _ = tls.shutdown().await;
                        return;
                    }
                    Mode::Silent => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        return;
                    }
                }
            }
        }
    });
    server.gets = gets;
    server
}

async fn serve_h2<S>(tls: S, gets: Arc<AtomicUsize>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Ok(mut conn) = h2::server::handshake(tls).await else {
        return;
    };
    while let Some(Ok((req, mut respond))) = conn.accept().await {
        let (parts, mut body) = req.into_parts();
        let query = if parts.method == http::Method::GET {
            gets.fetch_add(1, Ordering::SeqCst);
            let q = parts.uri.query().unwrap_or("");
            let b64 = q.strip_prefix("dns=").unwrap_or("");
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b64)
                .unwrap_or_default()
        } else {
            let mut data = Vec::new();
            while let Some(Ok(chunk)) = body.data().await {
                let _ = body.flow_control().release_capacity(chunk.len());
                data.extend_from_slice(&chunk);
            }
            data
        };
        if parts.uri.path() != "/dns-query" {
            let resp = http::Response::builder().status(404).body(()).unwrap();
            let _ = respond.send_response(resp, true);
            continue;
        }
        let answer = answer_a(&query);
        let resp = http::Response::builder()
            .status(200)
            .header("content-type", "application/dns-message")
            .body(())
            .unwrap();
        if let Ok(mut send) = respond.send_response(resp, false) {
            let _ = send.send_data(Bytes::from(answer), true);
        }
    }
}

/// DoH over HTTP/1.1 only (ALPN http/1.1): one request per connection.
fn http1_server() -> Server {
    tls_listener(&ServerOpts::new(b"http/1.1"), |mut tls| async move {
        let body = read_http1_request(&mut tls).await.unwrap_or_default();
        let answer = answer_a(&body);
        // Chunked, to exercise that path of the client.
        let mut resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
        resp.extend_from_slice(format!("{:x}\r\n", answer.len()).as_bytes());
        resp.extend_from_slice(&answer);
        resp.extend_from_slice(b"\r\n0\r\n\r\n");
        let _ = tls.write_all(&resp).await;
        let _ = tls.shutdown().await;
    })
}

/// DNS over QUIC.
fn quic_server(o: ServerOpts) -> Server {
    let handshakes = Arc::new(AtomicUsize::new(0));
    let h = handshakes.clone();
    let mut server = quic_endpoint(&o, move |incoming| {
        let h = h.clone();
        async move {
            let Ok(conn) = incoming.await else { return };
            h.fetch_add(1, Ordering::SeqCst);
            while let Ok((mut send, mut recv)) = conn.accept_bi().await {
                let Ok(data) = recv.read_to_end(65_537).await else {
                    return;
                };
                let Some(q) = data.get(2..) else { return };
                let r = answer_a(q);
                let mut out = (r.len() as u16).to_be_bytes().to_vec();
                out.extend_from_slice(&r);
                let _ = send.write_all(&out).await;
                let _ = send.finish();
            }
        }
    });
    server.handshakes = handshakes;
    server
}

fn msg(r: &pb::Dnstap) -> &pb::Message {
    r.message.as_ref().unwrap()
}

/// Runs a successful query with a trace and checks the recorded fields.
fn check_success(server: &Server, transport: &str, proto: pb::SocketProtocol, label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let ca = ca_arg();
    let trace_arg = trace.to_str().unwrap();
    let (code, stdout, stderr) = run(
        server,
        &["www.enc.test", transport, &ca, "--tap", trace_arg],
    );
    assert_eq!(code, 0, "{transport}: {stderr}");
    assert!(stdout.contains("192.0.2.77"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            ";; SERVER: 127.0.0.1#{}(127.0.0.1) ({label})",
            server.addr.port()
        )),
        "{stdout}"
    );
    let records = read_trace(&trace);
    assert_eq!(records.len(), 2, "{transport}");
    for r in &records {
        let m = msg(r);
        assert_eq!(m.socket_protocol, Some(proto as i32), "{transport}");
        assert_eq!(m.socket_family, Some(pb::SocketFamily::Inet as i32));
        assert_eq!(m.response_port, Some(u32::from(server.addr.port())));
        assert_eq!(m.response_address.as_deref(), Some(&[127, 0, 0, 1][..]));
        assert_eq!(m.query_address.as_deref(), Some(&[127, 0, 0, 1][..]));
        assert!(m.query_port.is_some_and(|p| p > 0));
        let http = (proto == pb::SocketProtocol::Doh).then_some(pb::HttpProtocol::Http2 as i32);
        assert_eq!(m.http_protocol, http);
    }
    let read = qtap().arg("--read").arg(&trace).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&read.stdout), stdout, "live = read");
}

#[test]
fn dot_doh_and_doq_succeed_and_are_recorded_with_their_protocol() {
    let dot = tls_server(ServerOpts::new(b"dot"), false);
    check_success(&dot, "+tls", pb::SocketProtocol::Dot, "TLS");
    let doh = tls_server(ServerOpts::new(b"h2"), true);
    check_success(&doh, "+https", pb::SocketProtocol::Doh, "HTTPS");
    assert_eq!(doh.gets.load(Ordering::SeqCst), 0, "POST by default");
    check_success(&doh, "+https-get", pb::SocketProtocol::Doh, "HTTPS");
    assert_eq!(doh.gets.load(Ordering::SeqCst), 1);
    let doq = quic_server(ServerOpts::new(b"doq"));
    check_success(&doq, "+quic", pb::SocketProtocol::Doq, "QUIC");
}

#[test]
fn doq_queries_use_message_id_zero() {
    let doq = quic_server(ServerOpts::new(b"doq"));
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let ca = ca_arg();
    let (code, _, stderr) = run(
        &doq,
        &["x.enc.test", "+quic", &ca, "--tap", trace.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    for r in read_trace(&trace) {
        let q = msg(&r).query_message.clone().unwrap();
        assert_eq!(&q[..2], &[0, 0]);
    }
}

#[test]
fn doh_falls_back_to_http1_when_the_server_offers_only_that() {
    let server = http1_server();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let ca = ca_arg();
    let (code, stdout, stderr) = run(
        &server,
        &[
            "www.enc.test",
            "+https",
            &ca,
            "+short",
            "--tap",
            trace.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "192.0.2.77\n");
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 1);
    for r in read_trace(&trace) {
        assert_eq!(msg(&r).http_protocol, Some(pb::HttpProtocol::Http1 as i32));
        assert_eq!(
            msg(&r).socket_protocol,
            Some(pb::SocketProtocol::Doh as i32)
        );
    }
}

#[test]
fn quic_connection_errors_are_clear() {
    let doq = quic_server(ServerOpts::new(b"doq"));
    let other = format!("+tls-ca={}", cert_path("other-ca.pem").display());
    let (code, _, stderr) = run(&doq, &["www.enc.test", "+quic", &other]);
    assert_eq!(code, 9);
    assert!(stderr.contains("QUIC handshake failed"), "{stderr}");
    let doq = quic_server(ServerOpts::new(b"not-doq"));
    let (code, _, stderr) = run(&doq, &["www.enc.test", "+quic", &ca_arg()]);
    assert_eq!(code, 9);
    assert!(stderr.contains("QUIC"), "{stderr}");
}

#[test]
fn qr_shows_the_negotiated_tls_parameters() {
    let dot = tls_server(ServerOpts::new(b"dot"), false);
    let (code, _, stderr) = run(&dot, &["www.enc.test", "+tls", &ca_arg(), "+qr"]);
    assert_eq!(code, 0);
    assert!(stderr.contains(";; TLS version: TLSv1_3"), "{stderr}");
    assert!(stderr.contains(";; TLS ALPN: dot"), "{stderr}");
    assert!(stderr.contains(";; TLS cipher suite: TLS13_"), "{stderr}");
}

#[test]
fn https_url_server_syntax() {
    let doh = tls_server(ServerOpts::new(b"h2"), true);
    let url = format!("@https://127.0.0.1:{}/dns-query", doh.addr.port());
    let out = qtap()
        .args([url.as_str(), "www.enc.test", &ca_arg(), "+short"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "192.0.2.77\n");
}

#[test]
fn http_errors_are_reported_with_the_status() {
    let doh = tls_server(ServerOpts::new(b"h2"), true);
    let (code, _, stderr) = run(&doh, &["www.enc.test", "+https=/wrong", &ca_arg()]);
    assert_eq!(code, 9);
    assert!(stderr.contains("HTTP status 404 Not Found"), "{stderr}");
}

#[test]
fn verification_failures_are_clear_and_exit_9() {
    let dot = tls_server(ServerOpts::new(b"dot"), false);
    let other = format!("+tls-ca={}", cert_path("other-ca.pem").display());
    let cases: [(&[&str], &str); 3] = [
        (&["+tls", other.as_str()], "unknown issuer"),
        (&["+tls"], "unknown issuer"),
        (
            &["+tls", "+tls-hostname=wrong.test"],
            "not valid for the server name",
        ),
    ];
    let ca = ca_arg();
    for (extra, want) in cases {
        let mut args = vec!["www.enc.test"];
        args.extend_from_slice(extra);
        if !extra.iter().any(|a| a.starts_with("+tls-ca")) && extra.len() > 1 {
            args.push(&ca);
        }
        let (code, stdout, stderr) = run(&dot, &args);
        assert_eq!(code, 9, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(!stdout.contains("192.0.2.77"));
    }
    // The right name passes.
    let (code, _, stderr) = run(
        &dot,
        &["www.enc.test", "+tls", &ca, "+tls-hostname=dns.test"],
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn expired_certificates_are_refused() {
    let mut o = ServerOpts::new(b"dot");
    o.cert = "expired";
    let dot = tls_server(o, false);
    let (code, _, stderr) = run(&dot, &["www.enc.test", "+tls", &ca_arg()]);
    assert_eq!(code, 9);
    assert!(stderr.contains("certificate expired"), "{stderr}");
}

#[test]
fn pins_accept_the_right_key_and_refuse_others() {
    let dot = tls_server(ServerOpts::new(b"dot"), false);
    let server_pin = qtap::query::tls::spki_pin(&chain("server")[0]).unwrap();
    let other_pin = qtap::query::tls::spki_pin(&chain("client")[0]).unwrap();
    // A pin alone is enough, without any CA (RFC 7858 §4.2).
    let good = format!("+tls-pin={server_pin}");
    let (code, stdout, stderr) = run(&dot, &["www.enc.test", "+tls", &good, "+short"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "192.0.2.77\n");
    let bad = format!("+tls-pin={other_pin}");
    let (code, _, stderr) = run(&dot, &["www.enc.test", "+tls", &bad]);
    assert_eq!(code, 9);
    assert!(stderr.contains("pin mismatch"), "{stderr}");
    assert!(stderr.contains(&server_pin), "shows the real pin: {stderr}");
    // +tlsinfo shows the pin to use.
    let (_, _, stderr) = run(&dot, &["www.enc.test", "+tls", &ca_arg(), "+tlsinfo"]);
    assert!(stderr.contains(&server_pin), "{stderr}");
}

#[test]
fn client_certificates() {
    let mut o = ServerOpts::new(b"dot");
    o.client_auth = true;
    let dot = tls_server(o, false);
    let ca = ca_arg();
    let (code, _, stderr) = run(
        &dot,
        &["www.enc.test", "+tls", &ca, "+timeout=2", "+tries=1"],
    );
    assert_eq!(code, 9, "{stderr}");
    assert!(stderr.contains("communications error"), "{stderr}");
    let cert = format!("+tls-certfile={}", cert_path("client.pem").display());
    let keyf = format!("+tls-keyfile={}", cert_path("client.key").display());
    let (code, _, stderr) = run(&dot, &["www.enc.test", "+tls", &ca, &cert, &keyf]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("BEGIN"), "no key material printed");
}

#[test]
fn insecure_mode_is_explicit_and_announced() {
    let mut o = ServerOpts::new(b"dot");
    o.cert = "expired";
    let dot = tls_server(o, false);
    let (code, _, stderr) = run(&dot, &["www.enc.test", "+tls", "+tls-insecure"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("NOT verified"), "{stderr}");
}

#[test]
fn alpn_refusal_is_reported() {
    let dot = tls_server(ServerOpts::new(b"something-else"), false);
    let (code, _, stderr) = run(&dot, &["www.enc.test", "+tls", &ca_arg()]);
    assert_eq!(code, 9);
    assert!(stderr.contains("ALPN"), "{stderr}");
}

#[test]
fn server_closing_mid_stream_gives_no_reply_and_a_valid_trace() {
    let mut o = ServerOpts::new(b"dot");
    o.mode = Mode::CloseMidStream;
    let dot = tls_server(o, false);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let ca = ca_arg();
    let (code, _, stderr) = run(
        &dot,
        &[
            "www.enc.test",
            "+tls",
            &ca,
            "+tries=1",
            "--tap",
            trace.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 9);
    assert!(stderr.contains("end of file"), "{stderr}");
    let records = read_trace(&trace);
    assert_eq!(records.len(), 1);
    assert_eq!(msg(&records[0]).r#type, pb::message::Type::StubQuery as i32);
}

#[test]
fn slow_servers_hit_the_timeout() {
    let mut o = ServerOpts::new(b"dot");
    o.mode = Mode::Silent;
    let dot = tls_server(o, false);
    let start = Instant::now();
    let (code, _, stderr) = run(
        &dot,
        &["www.enc.test", "+tls", &ca_arg(), "+timeout=1", "+tries=2"],
    );
    let took = start.elapsed();
    assert_eq!(code, 9);
    assert_eq!(stderr.matches("timed out").count(), 2, "{stderr}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "{took:?}"
    );
}

#[test]
fn keepopen_reuses_one_connection() {
    let ca = ca_arg();
    for (transport, server) in [
        ("+tls", tls_server(ServerOpts::new(b"dot"), false)),
        ("+https", tls_server(ServerOpts::new(b"h2"), true)),
        ("+quic", quic_server(ServerOpts::new(b"doq"))),
    ] {
        // Options before the names apply to every lookup, as in dig.
        let args = [
            transport,
            ca.as_str(),
            "+short",
            "a.enc.test",
            "b.enc.test",
            "c.enc.test",
        ];
        let (code, stdout, stderr) = run(&server, &[&["+keepopen"], &args[..]].concat());
        assert_eq!(code, 0, "{transport}: {stderr}");
        assert_eq!(stdout.lines().count(), 3, "{transport}");
        assert_eq!(server.handshakes.load(Ordering::SeqCst), 1, "{transport}");
        let (code, _, _) = run(&server, &args);
        assert_eq!(code, 0);
        assert_eq!(
            server.handshakes.load(Ordering::SeqCst),
            4,
            "{transport} without keepopen"
        );
    }
}

#[test]
fn dot_traces_are_read_by_the_peers() {
    let dot = tls_server(ServerOpts::new(b"dot"), false);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("dot.fstrm");
    let (code, _, stderr) = run(
        &dot,
        &[
            "www.enc.test",
            "+tls",
            &ca_arg(),
            "--tap",
            trace.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    if have("dnstap") {
        let out = std::process::Command::new("dnstap")
            .arg("-r")
            .arg(&trace)
            .arg("-y")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success());
        assert_eq!(text.matches("socket_protocol: DOT").count(), 2, "{text}");
    }
    if have("kdig") {
        let out = std::process::Command::new("kdig")
            .arg("-G")
            .arg(&trace)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("192.0.2.77"));
    }
}
