//! TSIG (RFC 8945) against knotd, whose zone `tsig.test` may be transferred
//! only with a key: qtap's signer and verifier over a plain socket, the key
//! files qtap reads used by dig and kdig themselves, and qtap's `-y`/`-k`
//! end to end (signed transfer with its TSIG pseudosection, refusals,
//! a tampered MAC from a proxy, the `--read` identity). Skips, saying so,
//! where knotd, dig, kdig or the key generators are not installed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use qtap::dns::build::{encode_query, QueryParams};
use qtap::dns::name::Name;
use qtap::dns::tsig::{self, Algorithm, Checked, Key, Verifier, VerifyError};
use qtap::dns::wire::Message;
use qtap::dns::xfr::{Progress, XfrTracker};

use crate::have;
use crate::knot::{launch, Knot};

/// TXT records in the zone: enough for a transfer of many messages.
const RECORDS: usize = 3000;

/// A key as knotd's configuration takes it.
struct ConfKey {
    name: String,
    alg: &'static str,
    secret: String,
}

impl ConfKey {
    fn from_key(key: &Key) -> ConfKey {
        use base64::Engine as _;
        ConfKey {
            name: key.name.to_string(),
            alg: key.algorithm.mnemonic(),
            secret: base64::engine::general_purpose::STANDARD.encode(key.secret()),
        }
    }

    fn arg(&self) -> String {
        format!("{}:{}:{}", self.alg, self.name, self.secret)
    }
}

/// The test key: hmac-sha256, a fixed secret.
fn test_key() -> ConfKey {
    ConfKey {
        name: "xfr-key.example.".into(),
        alg: "hmac-sha256",
        secret: "nBQxKyVHRgnpjdL9CLV1YcM14dc6eKJTuVDkLWZi/uo=".into(),
    }
}

/// Starts knotd serving tsig.test, transferable only with one of `keys`.
fn start(keys: &[ConfKey]) -> Option<Knot> {
    if !have("knotd") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut zone = String::from(
        "$ORIGIN tsig.test.\n$TTL 3600\n@ SOA ns1 host 1 7200 3600 1209600 300\n\
         @ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.1\n",
    );
    for i in 0..RECORDS {
        zone.push_str(&format!("r{i} TXT \"record {i} {}\"\n", "y".repeat(40)));
    }
    std::fs::write(dir.path().join("tsig.test.zone"), zone).unwrap();
    let mut conf = String::from("key:\n");
    for k in keys {
        conf.push_str(&format!(
            "  - id: {}\n    algorithm: {}\n    secret: {}\n",
            k.name, k.alg, k.secret
        ));
    }
    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    conf.push_str(&format!(
        "acl:\n  - id: xfr\n    key: [{}]\n    action: transfer\n\
         zone:\n  - domain: tsig.test\n    file: \"tsig.test.zone\"\n    acl: xfr\n",
        names.join(", ")
    ));
    Some(launch(dir, &conf, "tsig.test"))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn axfr_query(id: u16) -> Vec<u8> {
    encode_query(&QueryParams {
        id,
        name: &Name::from_text("tsig.test.").unwrap(),
        qtype: qtap::dns::types::AXFR,
        qclass: 1,
        rd: false,
        ad: false,
        cd: false,
        aa: false,
        edns: None,
        ixfr_serial: None,
        zflag: false,
    })
}

/// Sends `query` over TCP and reads messages until the transfer ends or
/// fails (the first message, when it is an error).
fn exchange(port: u16, query: &[u8]) -> Vec<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    s.write_all(&framed).unwrap();
    let mut tracker = XfrTracker::new(qtap::dns::types::AXFR);
    let mut out = Vec::new();
    loop {
        let mut len = [0u8; 2];
        s.read_exact(&mut len).unwrap();
        let mut msg = vec![0; usize::from(u16::from_be_bytes(len))];
        s.read_exact(&mut msg).unwrap();
        let progress = tracker.feed(&Message::parse(&msg).unwrap());
        out.push(msg);
        if progress != Progress::More {
            return out;
        }
    }
}

fn rcode(msg: &[u8]) -> u8 {
    msg[3] & 0x0f
}

#[test]
fn knot_accepts_a_transfer_qtap_signs_and_every_message_verifies() {
    let k = test_key();
    let Some(knot) = start(&[k]) else { return };
    let key = Key::from_arg(&test_key().arg()).unwrap();
    let mut q = axfr_query(0x4242);
    let mac = tsig::sign_query(&mut q, &key, now(), tsig::DEFAULT_FUDGE).unwrap();
    let msgs = exchange(knot.port, &q);
    assert!(
        msgs.len() > 5,
        "a transfer of many messages: {}",
        msgs.len()
    );
    let mut v = Verifier::new(key, mac);
    for m in &msgs {
        assert_eq!(rcode(m), 0);
        assert!(matches!(v.check(m, now()).unwrap(), Checked::Verified(_)));
    }
    v.finish().unwrap();
}

#[test]
fn knot_refuses_unsigned_and_wrongly_signed_transfers() {
    let Some(knot) = start(&[test_key()]) else {
        return;
    };
    // Unsigned: NOTAUTH, unsigned.
    let msgs = exchange(knot.port, &axfr_query(1));
    assert_eq!((msgs.len(), rcode(&msgs[0])), (1, 9));
    assert_eq!(tsig::find_tsig(&msgs[0]).unwrap(), None);
    // Wrong secret: NOTAUTH with TSIG error BADSIG, which qtap reports as dig does.
    let right = Key::from_arg(&test_key().arg()).unwrap();
    let wrong = Key::new(right.name.clone(), right.algorithm, b"wrong".to_vec());
    let mut q = axfr_query(2);
    let mac = tsig::sign_query(&mut q, &wrong, now(), 300).unwrap();
    let msgs = exchange(knot.port, &q);
    assert_eq!(rcode(&msgs[0]), 9);
    let err = Verifier::new(wrong, mac)
        .check(&msgs[0], now())
        .unwrap_err();
    assert_eq!(err, VerifyError::ErrorSet(tsig::rcode::BADSIG));
    assert_eq!(err.dig_text(), "tsig indicates error");
    // Unknown key name: BADKEY.
    let other = Key::new(
        Name::from_text("other.example.").unwrap(),
        Algorithm::HmacSha256,
        right.secret().to_vec(),
    );
    let mut q = axfr_query(3);
    let mac = tsig::sign_query(&mut q, &other, now(), 300).unwrap();
    let msgs = exchange(knot.port, &q);
    assert_eq!(
        Verifier::new(other, mac).check(&msgs[0], now()),
        Err(VerifyError::ErrorSet(tsig::rcode::BADKEY))
    );
}

fn run(cmd: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(cmd)
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

/// A transfer by dig or kdig succeeded: both SOAs and no failure words.
fn transferred(out: &std::process::Output) -> bool {
    let text = String::from_utf8_lossy(&out.stdout);
    let soas = text.lines().filter(|l| l.contains("\tSOA\t")).count();
    soas == 2
        && !text.contains("Transfer failed")
        && !text.contains("Couldn't verify")
        && !String::from_utf8_lossy(&out.stderr).contains("ERROR")
}

/// knotd is configured with the key as qtap parsed it from a file that
/// tsig-keygen wrote; dig -k reads the same file. If qtap misread the
/// secret, name or algorithm, knotd would refuse dig.
#[test]
fn dig_k_transfers_with_a_tsig_keygen_file_as_qtap_reads_it() {
    if !have("tsig-keygen") || !have("dig") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for alg in ["hmac-md5", "hmac-sha224", "hmac-sha512"] {
        let out = run("tsig-keygen", &["-a", alg, "bind-made.example"]);
        let file = dir.path().join(format!("{alg}.key"));
        std::fs::write(&file, &out.stdout).unwrap();
        let key = Key::from_file_text(&String::from_utf8(out.stdout).unwrap()).unwrap();
        assert_eq!(key.algorithm.mnemonic(), alg);
        let Some(knot) = start(&[ConfKey::from_key(&key)]) else {
            return;
        };
        let port = knot.port.to_string();
        let f = file.to_str().unwrap();
        let out = run(
            "dig",
            &["@127.0.0.1", "-p", &port, "-k", f, "tsig.test", "AXFR"],
        );
        assert!(transferred(&out), "{alg}: {out:?}");
    }
}

/// The same with keymgr -t (Knot's YAML) and kdig: kdig 3.2 reads only
/// its one-line form with -k, so it gets the key both as -y and -k built
/// from what qtap parsed out of keymgr's YAML.
#[test]
fn kdig_transfers_with_a_keymgr_key_as_qtap_reads_it() {
    if !have("keymgr") || !have("kdig") {
        return;
    }
    let out = run("keymgr", &["-t", "knot-made.example", "hmac-sha384"]);
    let key = Key::from_file_text(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(key.algorithm, Algorithm::HmacSha384);
    let conf = ConfKey::from_key(&key);
    let Some(knot) = start(&[ConfKey::from_key(&key)]) else {
        return;
    };
    let port = knot.port.to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("line.key");
    std::fs::write(&file, conf.arg()).unwrap();
    assert_eq!(Key::from_file_text(&conf.arg()).unwrap(), key);
    let f = file.to_str().unwrap();
    let arg = conf.arg();
    for how in [["-k", f], ["-y", &arg]] {
        let out = run(
            "kdig",
            &[
                "@127.0.0.1",
                "-p",
                &port,
                how[0],
                how[1],
                "tsig.test",
                "AXFR",
            ],
        );
        assert!(transferred(&out), "{how:?}: {out:?}");
    }
}

/// qtap against the test knotd; the run, with stdout and stderr.
fn qtap_run(port: u16, args: &[&str]) -> crate::support::Run {
    let mut cmd = crate::support::qtap_at(&port.to_string());
    cmd.args(args);
    crate::support::Run::of(&mut cmd)
}

/// The TSIG lines of a text output.
fn tsig_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.contains("\tTSIG\t")).collect()
}

#[test]
fn qtap_y_transfer_verifies_every_message_and_reads_back_the_same() {
    let Some(knot) = start(&[test_key()]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tap = dir.path().join("t.dnstap");
    let t = tap.to_str().unwrap();
    let run = qtap_run(
        knot.port,
        &["-y", &test_key().arg(), "tsig.test", "AXFR", "--tap", t],
    )
    .expect_code(0);
    assert_eq!(run.stderr, "", "every message verified");
    let size = run
        .lines()
        .into_iter()
        .find_map(|l| l.strip_prefix(";; XFR size: "))
        .unwrap()
        .to_owned();
    let messages: usize = size
        .split("messages ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(messages > 5, "{size}");
    // One TSIG record per message, in dig's transfer layout.
    let tsigs = tsig_lines(&run.stdout);
    assert_eq!(tsigs.len(), messages);
    assert!(tsigs.iter().all(
        |l| l.starts_with("xfr-key.example.\t0\tANY\tTSIG\thmac-sha256. ")
            && l.ends_with(" NOERROR 0 ")
    ));
    let read = crate::support::Run::of(crate::qtap().args(["--read", t])).expect_code(0);
    assert_eq!(read.stdout, run.stdout);
    assert_eq!(read.stderr, "");
}

#[test]
fn qtap_k_reads_every_key_file_form_and_renders_tsig_as_dig() {
    let Some(knot) = start(&[test_key()]) else {
        return;
    };
    let k = test_key();
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "bind.key",
            format!(
                "key \"{}\" {{\n\talgorithm {};\n\tsecret \"{}\";\n}};\n",
                k.name, k.alg, k.secret
            ),
        ),
        (
            "knot.key",
            format!(
                "# {}\nkey:\n  - id: {}\n    algorithm: {}\n    secret: {}\n",
                k.arg(),
                k.name,
                k.alg,
                k.secret
            ),
        ),
        ("kdig.key", k.arg()),
    ];
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let run = qtap_run(
            knot.port,
            &["-k", path.to_str().unwrap(), "tsig.test", "AXFR", "+onesoa"],
        )
        .expect_code(0);
        assert_eq!(run.stderr, "", "{name}");
        assert!(run.stdout.contains("\tSOA\t"), "{name}: {}", run.stdout);
        assert!(!run.stdout.contains("Transfer failed"), "{name}");
    }
    // A signed plain query: the TSIG pseudosection, laid out as dig lays
    // it out (time, MAC and ID differ between the two runs).
    if !have("dig") {
        return;
    }
    let mask = |text: &str| -> String {
        crate::knot::normalize(text)
            .lines()
            .map(|l| match l.split_once("\tTSIG\t") {
                Some((owner, rest)) => {
                    let f: Vec<&str> = rest.split(' ').collect();
                    format!(
                        "{owner}\tTSIG\t{} T {} {} MAC ID {}",
                        f[0],
                        f[2],
                        f[3],
                        f[6..].join(" ")
                    )
                }
                None => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let args = ["-y", &k.arg(), "www.tsig.test", "+tcp"];
    let ours = qtap_run(knot.port, &args).expect_code(0);
    assert!(ours
        .stdout
        .contains("\n;; TSIG PSEUDOSECTION:\nxfr-key.example.\t0\tANY\tTSIG\thmac-sha256. "));
    let theirs = crate::knot::dig(knot.port, &args);
    assert_eq!(mask(&ours.stdout), mask(&theirs));
}

#[test]
fn qtap_unsigned_and_wrongly_signed_transfers_are_refused() {
    let Some(knot) = start(&[test_key()]) else {
        return;
    };
    let run = qtap_run(knot.port, &["tsig.test", "AXFR"]).expect_code(0);
    assert!(
        run.stdout.ends_with("; Transfer failed.\n"),
        "{}",
        run.stdout
    );
    assert!(tsig_lines(&run.stdout).is_empty());
    let k = test_key();
    let wrong = format!("{}:{}:AAAA{}", k.alg, k.name, &k.secret[4..]);
    let run = qtap_run(knot.port, &["-y", &wrong, "tsig.test", "AXFR"]).expect_code(0);
    let tsig = tsig_lines(&run.stdout);
    assert_eq!(tsig.len(), 1, "{}", run.stdout);
    assert!(tsig[0].ends_with(" BADSIG 0 "), "{}", tsig[0]);
    assert!(
        run.stdout.ends_with("; Transfer failed.\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stderr,
        ";; Couldn't verify signature: tsig indicates error\n\
         ;; WARNING -- Some TSIG could not be validated\n"
    );
    let other = format!("{}:unknown.example.:{}", k.alg, k.secret);
    let run = qtap_run(knot.port, &["-y", &other, "tsig.test", "AXFR"]).expect_code(0);
    assert!(
        tsig_lines(&run.stdout)[0].ends_with(" BADKEY 0 "),
        "{}",
        run.stdout
    );
}

/// A proxy in front of knotd that flips one bit of the MAC of the
/// `nth` message of every answer.
fn tampering_proxy(knot_port: u16, nth: usize) -> crate::support::Hostile {
    crate::support::Hostile::tcp(move |query| {
        let msgs = exchange(knot_port, query);
        msgs.into_iter()
            .enumerate()
            .map(|(i, mut m)| {
                if i == nth {
                    let t = tsig::find_tsig(&m).unwrap().unwrap();
                    // The MAC sits before original ID, error and other length.
                    let at = m.len() - 6 - t.other.len() - 1;
                    m[at] ^= 1;
                }
                crate::support::Reply::Send(m)
            })
            .collect()
    })
}

#[test]
fn a_tampered_mac_is_reported_in_a_transfer_and_a_plain_answer() {
    let Some(knot) = start(&[test_key()]) else {
        return;
    };
    let k = test_key().arg();
    let proxy = tampering_proxy(knot.port, 3);
    let mut cmd = crate::support::qtap_at(&proxy.port());
    cmd.args(["-y", &k, "tsig.test", "AXFR"]);
    let run = crate::support::Run::of(&mut cmd).expect_code(0);
    assert_eq!(
        run.stderr,
        ";; Couldn't verify signature: tsig verify failure\n\
         ;; WARNING -- Some TSIG could not be validated\n"
    );
    // The transfer is still shown whole, as dig shows it.
    assert!(run.stdout.contains(";; XFR size: "), "{}", run.stdout);
    let proxy = tampering_proxy(knot.port, 0);
    let mut cmd = crate::support::qtap_at(&proxy.port());
    cmd.args(["-y", &k, "www.tsig.test", "+tcp"]);
    let run = crate::support::Run::of(&mut cmd).expect_code(0);
    assert!(run
        .stderr
        .starts_with(";; Couldn't verify signature: tsig verify failure\n"));
    assert!(run.stdout.contains(";; TSIG PSEUDOSECTION:\n"));
    // Untouched, the same proxy path verifies.
    let proxy = tampering_proxy(knot.port, usize::MAX);
    let mut cmd = crate::support::qtap_at(&proxy.port());
    cmd.args(["-y", &k, "www.tsig.test", "+tcp"]);
    let run = crate::support::Run::of(&mut cmd).expect_code(0);
    assert_eq!(run.stderr, "");
}

/// How the scripted responder signs its answer.
#[derive(Clone, Copy)]
enum Signing {
    Right,
    WrongSecret,
    Unsigned,
    LongAgo,
}

/// Without knotd: a scripted UDP responder answers with an A record,
/// signed (or not) as `how` says, so the driver's verification is covered
/// wherever the tests run.
fn signing_responder(how: Signing) -> crate::support::Hostile {
    crate::support::Hostile::udp(move |query| {
        let key = Key::from_arg(&test_key().arg()).unwrap();
        let Ok(Some(t)) = tsig::find_tsig(query) else {
            return vec![];
        };
        let mut reply = crate::answer_a(query);
        let (key, time) = match how {
            Signing::Right | Signing::Unsigned => (key, now()),
            Signing::WrongSecret => (
                Key::new(key.name.clone(), key.algorithm, vec![7; 32]),
                now(),
            ),
            Signing::LongAgo => (key, now() - 3600),
        };
        if !matches!(how, Signing::Unsigned) {
            tsig::sign_response(&mut reply, &key, &t.mac, time, 300).unwrap();
        }
        vec![crate::support::Reply::Send(reply)]
    })
}

#[test]
fn scripted_answers_are_verified_in_dig_words() {
    let cases = [
        (Signing::Right, ""),
        (
            Signing::WrongSecret,
            ";; Couldn't verify signature: tsig verify failure\n",
        ),
        (
            Signing::Unsigned,
            ";; Couldn't verify signature: expected a TSIG or SIG(0)\n",
        ),
        (
            Signing::LongAgo,
            ";; Couldn't verify signature: clocks are unsynchronized\n",
        ),
    ];
    for (how, said) in cases {
        let server = signing_responder(how);
        let mut cmd = crate::support::qtap_at(&server.port());
        cmd.args(["-y", &test_key().arg(), "a.example", "+tries=1"]);
        let run = crate::support::Run::of(&mut cmd).expect_code(0);
        let want = if said.is_empty() {
            String::new()
        } else {
            format!("{said};; WARNING -- Some TSIG could not be validated\n")
        };
        assert_eq!(run.stderr, want, "{}", run.stdout);
        assert!(run.stdout.contains("192.0.2.77"), "{}", run.stdout);
        let signed = !matches!(how, Signing::Unsigned);
        assert_eq!(run.stdout.contains(";; TSIG PSEUDOSECTION:\n"), signed);
    }
}

/// Signed queries and answers render the same from the trace as live, in
/// every format, even when the answer did not verify (that verdict is a
/// stderr diagnostic, which `--read` cannot give without the key).
#[test]
fn signed_exchanges_read_back_as_shown_live_in_every_format() {
    let key = test_key().arg();
    for how in [Signing::Right, Signing::WrongSecret] {
        for display in [
            &[][..],
            &["+qr"],
            &["+short"],
            &["+json", "+qr"],
            &["+yaml"],
            &["+multiline"],
        ] {
            let server = signing_responder(how);
            let dir = tempfile::tempdir().unwrap();
            let trace = dir.path().join("t.fstrm");
            let mut cmd = crate::support::qtap_at(&server.port());
            cmd.args(["-y", &key, "a.example", "+tries=1"])
                .args(display)
                .arg("--tap")
                .arg(&trace);
            let live = crate::support::Run::of(&mut cmd).expect_code(0);
            assert!(!live.stdout.is_empty());
            assert_eq!(
                crate::read_back(&trace, display),
                live.stdout,
                "{display:?}"
            );
        }
    }
}

/// `--replay` of a signed query recorded against knotd: the recorded
/// TSIG record cannot verify on a new ID, so it is removed (knotd answers
/// unsigned, the same as recorded, TSIG aside); with `-y` the query is
/// signed afresh and the signed answer verifies; a wrong secret is
/// refused by knotd and shows as a difference.
#[test]
fn a_replayed_signed_query_goes_unsigned_or_signed_afresh() {
    let k = test_key();
    let Some(knot) = start(&[test_key()]) else {
        eprintln!("skipped: knotd not installed");
        return;
    };
    let port = knot.port.to_string();
    let dir = tempfile::tempdir().unwrap();
    let recorded = dir.path().join("signed.fstrm");
    let run = crate::Run::of(
        crate::qtap()
            .args([
                "@127.0.0.1",
                "-p",
                &port,
                "-y",
                &k.arg(),
                "www.tsig.test",
                "--tap",
            ])
            .arg(&recorded),
    )
    .expect_code(0);
    assert!(run.stdout.contains("TSIG PSEUDOSECTION"), "{}", run.stdout);
    // As if recorded an hour ago: the query signed then (knotd would
    // answer the signature itself with BADTIME now).
    let key = Key::from_arg(&k.arg()).unwrap();
    let records = crate::read_trace(&recorded);
    let mut writer =
        qtap::tap::writer::TapWriter::new(std::fs::File::create(&recorded).unwrap()).unwrap();
    for r in records {
        let mut e = qtap::tap::event::Event::from_pb(r).unwrap();
        if let Some(q) = &e.query_message {
            let mut old = tsig::unsigned(q).unwrap();
            tsig::sign_query(&mut old, &key, now() - 3600, tsig::DEFAULT_FUDGE).unwrap();
            e.query_message = Some(old.into());
        }
        writer.write(&e.to_pb()).unwrap();
    }
    writer.finish().unwrap();
    let replay = |extra: &[&str], tap: &std::path::Path| {
        crate::Run::of(
            crate::qtap()
                .args(["@127.0.0.1", "-p", &port, "--replay"])
                .arg(&recorded)
                .args(["+tries=1", "+timeout=2", "--tap"])
                .arg(tap)
                .args(extra),
        )
    };
    let signed_records = |tap: &std::path::Path| -> Vec<usize> {
        crate::read_trace(tap)
            .iter()
            .filter_map(|r| r.message.as_ref())
            .filter(|m| m.response_message.is_none())
            .filter_map(|m| m.query_message.clone())
            .map(|q| {
                let m = Message::parse(&q).unwrap();
                assert!(m.error.is_none() && m.trailing == 0);
                m.additional
                    .iter()
                    .filter(|r| r.rtype == qtap::dns::types::TSIG)
                    .count()
            })
            .collect()
    };
    // Unsigned: the recorded TSIG record is gone.
    let tap = dir.path().join("unsigned.fstrm");
    let got = replay(&[], &tap);
    assert_eq!(
        crate::replay_tally(&got.stdout, "same"),
        Some(1),
        "{}{}",
        got.stdout,
        got.stderr
    );
    got.expect_code(0);
    assert_eq!(signed_records(&tap), [0]);
    // Signed afresh with -y: one TSIG record, the answer verifies.
    let tap = dir.path().join("signed-again.fstrm");
    let got = replay(&["-y", &k.arg()], &tap);
    assert_eq!(
        crate::replay_tally(&got.stdout, "same"),
        Some(1),
        "{}",
        got.stdout
    );
    assert!(!got.stderr.contains("verify"), "{}", got.stderr);
    got.expect_code(0);
    assert_eq!(signed_records(&tap), [1]);
    let answer = crate::read_trace(&tap)
        .iter()
        .find_map(|r| r.message.as_ref()?.response_message.clone())
        .unwrap();
    assert!(tsig::find_tsig(&answer).unwrap().is_some());
    // A wrong secret: knotd refuses it (NOTAUTH), a difference.
    let wrong = format!(
        "{}:{}:{}",
        k.alg, k.name, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    );
    let got = replay(&["-y", &wrong], &dir.path().join("wrong.fstrm"));
    assert!(got.stdout.contains(";; DIFFERS: #1"), "{}", got.stdout);
    // The unsigned refusal does not verify either: a difference of its own.
    assert!(
        got.stdout.contains("+;; Couldn't verify signature")
            && crate::replay_tally(&got.stdout, "tsig") == Some(1),
        "{}",
        got.stdout
    );
    got.expect_code(12);
}
