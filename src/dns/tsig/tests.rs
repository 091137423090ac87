//! Known-answer tests against messages recorded from dig, kdig and knotd
//! (tests/fixtures/tsig/README.md says how), plus key-text parsing.

use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/tsig/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

/// The recorded messages of one exchange: (from client?, bytes).
fn exchange(name: &str) -> Vec<(bool, Vec<u8>)> {
    fixture(name)
        .lines()
        .map(|l| {
            let (dir, hex) = l.split_once(' ').unwrap();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (dir == "Q", bytes)
        })
        .collect()
}

fn key_for(alg: &str) -> Key {
    let line = fixture("keys.txt")
        .lines()
        .find(|l| l.starts_with(&format!("{alg}:")))
        .unwrap()
        .to_string();
    Key::from_arg(&line).unwrap()
}

/// Re-signs the recorded query (TSIG removed) with its time and fudge and
/// checks the bytes equal dig's; then verifies knotd's answer.
fn known_answer(key: &Key, file: &str) {
    let ex = exchange(file);
    let (true, query) = &ex[0] else { panic!() };
    let Some(Located { start, tsig }) = locate(query).unwrap() else {
        panic!("query not signed")
    };
    let mut resigned = unsigned_form(query, start, tsig.original_id).unwrap();
    let mac = sign_query(&mut resigned, key, tsig.time_signed, tsig.fudge).unwrap();
    assert_eq!(
        &resigned, query,
        "{file}: signed query differs from the tool's"
    );
    assert_eq!(mac, tsig.mac);
    let mut v = Verifier::new(key.clone(), mac);
    for (from_client, msg) in &ex[1..] {
        assert!(!from_client);
        let t = find_tsig(msg).unwrap().unwrap();
        assert_eq!(
            v.check(msg, t.time_signed + 10).unwrap(),
            Checked::Verified(Box::new(t))
        );
    }
    v.finish().unwrap();
}

#[test]
fn dig_queries_and_knot_answers_match_for_every_algorithm() {
    for alg in Algorithm::ALL {
        let key = key_for(alg.mnemonic());
        assert_eq!(key.algorithm, alg);
        known_answer(&key, &format!("query-{}.txt", alg.mnemonic()));
    }
}

#[test]
fn tsig_keygen_file_signs_like_dig_k() {
    let key = Key::from_file_text(&fixture("tsig-keygen.key")).unwrap();
    assert_eq!(key.algorithm, Algorithm::HmacSha384);
    assert_eq!(key.name, Name::from_text("bind-key.example.").unwrap());
    known_answer(&key, "query-bind-key.txt");
}

#[test]
fn keymgr_and_kdig_key_files_sign_like_kdig_k() {
    let yaml = Key::from_file_text(&fixture("keymgr.key")).unwrap();
    let line = Key::from_file_text(&fixture("kdig-oneline.key")).unwrap();
    assert_eq!(yaml, line);
    assert_eq!(yaml.algorithm, Algorithm::HmacSha224);
    known_answer(&yaml, "query-kdig-knot-key.txt");
}

#[test]
fn every_message_of_a_knot_axfr_verifies() {
    let key = key_for("hmac-sha256");
    let ex = exchange("axfr-hmac-sha256.txt");
    assert!(ex.len() > 10, "a multi-message transfer");
    known_answer(&key, "axfr-hmac-sha256.txt");
}

fn axfr_verifier() -> (Verifier, Vec<Vec<u8>>, u64) {
    let key = key_for("hmac-sha256");
    let ex = exchange("axfr-hmac-sha256.txt");
    let qt = find_tsig(&ex[0].1).unwrap().unwrap();
    let now = qt.time_signed;
    let msgs = ex[1..].iter().map(|(_, m)| m.clone()).collect();
    (Verifier::new(key, qt.mac), msgs, now)
}

#[test]
fn tampered_record_in_a_middle_message_fails() {
    let (mut v, mut msgs, now) = axfr_verifier();
    msgs[3][40] ^= 1;
    for m in &msgs[..3] {
        v.check(m, now).unwrap();
    }
    assert_eq!(v.check(&msgs[3], now), Err(VerifyError::BadSig));
}

#[test]
fn tampered_mac_fails_and_names_dig_words() {
    let (mut v, mut msgs, now) = axfr_verifier();
    let last = msgs[0].len() - 10;
    msgs[0][last] ^= 0x80;
    let err = v.check(&msgs[0], now).unwrap_err();
    assert_eq!(err, VerifyError::BadSig);
    assert_eq!(err.dig_text(), "tsig verify failure");
}

#[test]
fn a_reordered_transfer_fails() {
    let (mut v, msgs, now) = axfr_verifier();
    v.check(&msgs[0], now).unwrap();
    assert_eq!(v.check(&msgs[2], now), Err(VerifyError::BadSig));
}

#[test]
fn answer_outside_the_fudge_is_bad_time() {
    let (mut v, msgs, now) = axfr_verifier();
    let err = v.check(&msgs[0], now + 301).unwrap_err();
    assert!(matches!(err, VerifyError::BadTime { fudge: 300, .. }));
    assert_eq!(err.dig_text(), "clocks are unsynchronized");
    let (mut v, msgs, now) = axfr_verifier();
    v.check(&msgs[0], now - 300).unwrap();
}

#[test]
fn wrong_secret_fails() {
    let (_, msgs, now) = axfr_verifier();
    let key = key_for("hmac-sha256");
    let other = Key::new(key.name.clone(), key.algorithm, b"not the secret".to_vec());
    let qt = find_tsig(&exchange("axfr-hmac-sha256.txt")[0].1)
        .unwrap()
        .unwrap();
    let mut v = Verifier::new(other, qt.mac);
    assert_eq!(v.check(&msgs[0], now), Err(VerifyError::BadSig));
}

#[test]
fn unsigned_first_answer_is_missing() {
    let (mut v, msgs, now) = axfr_verifier();
    let Located { start, tsig } = locate(&msgs[0]).unwrap().unwrap();
    let bare = unsigned_form(&msgs[0], start, tsig.original_id).unwrap();
    let err = v.check(&bare, now).unwrap_err();
    assert_eq!(err, VerifyError::Missing);
    assert_eq!(err.dig_text(), "expected a TSIG or SIG(0)");
}

/// Signs the messages of a transfer the way a server does (RFC 8945
/// §5.3.1), signing only those where `sign(i)`; the first is signed as a
/// response to `query_mac`.
fn server_sign(
    key: &Key,
    query_mac: &[u8],
    msgs: &[Vec<u8>],
    sign: impl Fn(usize) -> bool,
    time: u64,
) -> Vec<Vec<u8>> {
    let mut prior = query_mac.to_vec();
    let mut h: Option<Hasher> = None;
    let mut out = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let hh = h.get_or_insert_with(|| {
            let mut n = key.hasher().unwrap();
            n.update(&(prior.len() as u16).to_be_bytes());
            n.update(&prior);
            n
        });
        hh.update(m);
        if !sign(i) {
            out.push(m.clone());
            continue;
        }
        let mut hh = h.take().unwrap();
        let mut t = TsigRecord {
            key_name: key.name.clone(),
            class: types::CLASS_ANY,
            ttl: 0,
            algorithm: key.algorithm.wire_name(),
            time_signed: time,
            fudge: 300,
            mac: Vec::new(),
            original_id: u16::from_be_bytes([m[0], m[1]]),
            error: 0,
            other: Vec::new(),
        };
        hash_variables(&mut hh, &t, i > 0);
        t.mac = hh.finish();
        let mut signed = m.clone();
        signed.extend_from_slice(&encode_rr(&t));
        let ar = u16::from_be_bytes([signed[10], signed[11]]) + 1;
        signed[10..12].copy_from_slice(&ar.to_be_bytes());
        prior = t.mac;
        out.push(signed);
    }
    out
}

/// knotd's transfer messages without their TSIG records.
fn bare_transfer() -> (Key, Vec<u8>, Vec<Vec<u8>>, u64) {
    let (_, msgs, now) = axfr_verifier();
    let key = key_for("hmac-sha256");
    let qt = find_tsig(&exchange("axfr-hmac-sha256.txt")[0].1)
        .unwrap()
        .unwrap();
    let bare = msgs
        .iter()
        .map(|m| {
            let Located { start, tsig } = locate(m).unwrap().unwrap();
            unsigned_form(m, start, tsig.original_id).unwrap()
        })
        .collect();
    (key, qt.mac, bare, now)
}

#[test]
fn our_server_side_signer_reproduces_knot_macs() {
    // Checks the helper below against the real vector before trusting it.
    let (key, qmac, bare, now) = bare_transfer();
    let (_, real, _) = axfr_verifier();
    let t0 = find_tsig(&real[0]).unwrap().unwrap();
    let signed = server_sign(&key, &qmac, &bare, |_| true, t0.time_signed);
    assert_eq!(signed[0], real[0]);
    let _ = now;
}

#[test]
fn unsigned_messages_between_signed_ones_are_covered() {
    let (key, qmac, bare, now) = bare_transfer();
    let signed = server_sign(&key, &qmac, &bare, |i| i % 4 == 0 || i == 12, now);
    let mut v = Verifier::new(key.clone(), qmac.clone());
    for (i, m) in signed.iter().enumerate() {
        let c = v.check(m, now).unwrap();
        assert_eq!(matches!(c, Checked::Unsigned), !(i % 4 == 0 || i == 12));
    }
    v.finish().unwrap();
    // An unsigned message changed in transit breaks the next MAC.
    let mut bad = signed.clone();
    bad[2][30] ^= 1;
    let mut v = Verifier::new(key, qmac);
    v.check(&bad[0], now).unwrap();
    v.check(&bad[1], now).unwrap();
    v.check(&bad[2], now).unwrap();
    v.check(&bad[3], now).unwrap();
    assert_eq!(v.check(&bad[4], now), Err(VerifyError::BadSig));
}

#[test]
fn a_transfer_ending_unsigned_fails_at_finish() {
    let (key, qmac, bare, now) = bare_transfer();
    let signed = server_sign(&key, &qmac, &bare, |i| i < 12, now);
    let mut v = Verifier::new(key, qmac);
    for m in &signed {
        v.check(m, now).unwrap();
    }
    assert_eq!(v.finish(), Err(VerifyError::UnsignedEnd));
}

#[test]
fn a_hundredth_unsigned_message_fails() {
    let (key, qmac, bare, now) = bare_transfer();
    let many: Vec<Vec<u8>> = (0..101).map(|i| bare[i % bare.len()].clone()).collect();
    let signed = server_sign(&key, &qmac, &many, |i| i == 0, now);
    let mut v = Verifier::new(key, qmac);
    for m in &signed[..100] {
        v.check(m, now).unwrap();
    }
    assert_eq!(
        v.check(&signed[100], now),
        Err(VerifyError::TooManyUnsigned)
    );
}

#[test]
fn server_error_is_reported_as_dig_does() {
    // knotd's BADSIG answer: the TSIG has no MAC and error 16.
    let (key, qmac, bare, now) = bare_transfer();
    let mut m = bare[0].clone();
    let t = TsigRecord {
        key_name: key.name.clone(),
        class: types::CLASS_ANY,
        ttl: 0,
        algorithm: key.algorithm.wire_name(),
        time_signed: now,
        fudge: 300,
        mac: Vec::new(),
        original_id: 1,
        error: rcode::BADSIG,
        other: Vec::new(),
    };
    m.extend_from_slice(&encode_rr(&t));
    m[11] += 1;
    let err = Verifier::new(key, qmac).check(&m, now).unwrap_err();
    assert_eq!(err, VerifyError::ErrorSet(16));
    assert_eq!(err.dig_text(), "tsig indicates error");
    assert_eq!(err.to_string(), "server reported TSIG error BADSIG");
}

#[test]
fn truncated_macs_follow_rfc8945_5_2_2_1() {
    let (mut key, qmac, bare, now) = bare_transfer();
    let mut signed = server_sign(&key, &qmac, &bare[..1], |_| true, now);
    // Cut the MAC to 16 bytes (the minimum for SHA-256).
    let t = find_tsig(&signed[0]).unwrap().unwrap();
    let cut = |t: &TsigRecord, n: usize| {
        let mut m = bare[0].clone();
        let mut t = t.clone();
        t.mac.truncate(n);
        m.extend_from_slice(&encode_rr(&t));
        m[11] += 1;
        m
    };
    key.mac_len = 16;
    Verifier::new(key.clone(), qmac.clone())
        .check(&cut(&t, 16), now)
        .unwrap();
    assert_eq!(
        Verifier::new(key.clone(), qmac.clone()).check(&cut(&t, 15), now),
        Err(VerifyError::BadTrunc(15))
    );
    // A key configured for the full length refuses a truncated MAC.
    key.mac_len = 32;
    assert_eq!(
        Verifier::new(key.clone(), qmac.clone()).check(&cut(&t, 16), now),
        Err(VerifyError::BadTrunc(16))
    );
    signed.truncate(1);
}

#[test]
fn dig_truncation_form_signs_a_short_mac() {
    let key = Key::from_arg("hmac-sha256-128:k.:AAAA").unwrap();
    assert_eq!(key.mac_len, 16);
    let mut q = crate::testutil::query_message(7, "a.", 1);
    let mac = sign_query(&mut q, &key, 1, 300).unwrap();
    assert_eq!(mac.len(), 16);
    assert_eq!(find_tsig(&q).unwrap().unwrap().mac, mac);
    assert!(matches!(
        Key::from_arg("hmac-sha256-64:k.:AAAA"),
        Err(KeyError::Truncation { .. })
    ));
}

#[test]
fn tsig_not_last_is_malformed() {
    let (_, msgs, now) = axfr_verifier();
    let mut m = msgs[0].clone();
    // Claim one more additional record than there is: the TSIG is no
    // longer the last one (parsing stops at the end).
    m[11] += 1;
    let key = key_for("hmac-sha256");
    assert_eq!(
        Verifier::new(key, vec![]).check(&m, now),
        Err(VerifyError::Malformed)
    );
    assert_eq!(locate(&m[..5]).err(), Some(VerifyError::Malformed));
}

#[test]
fn dig_y_forms() {
    let k = Key::from_arg("name.example:AQID").unwrap();
    assert_eq!(k.algorithm, Algorithm::HmacSha256);
    assert_eq!(k.secret(), &[1, 2, 3]);
    let k = Key::from_arg("HMAC-MD5:n:AQID").unwrap();
    assert_eq!(k.algorithm, Algorithm::HmacMd5);
    let k = Key::from_arg("hmac-md5.sig-alg.reg.int.:n:AQID").unwrap();
    assert_eq!(k.algorithm, Algorithm::HmacMd5);
    assert_eq!(Key::from_arg("justone"), Err(KeyError::Form));
    assert_eq!(Key::from_arg("a:b:c:d"), Err(KeyError::Form));
    assert_eq!(Key::from_arg("n:"), Err(KeyError::Form));
    assert!(matches!(
        Key::from_arg("hmac-sha999:n:AQID"),
        Err(KeyError::Algorithm(_))
    ));
}

#[test]
fn errors_never_echo_the_secret() {
    let secret = "c2VjcmV0c2VjcmV0!!!";
    for text in [
        format!("hmac-sha256:n:{secret}"),
        format!("key \"n\" {{ algorithm hmac-sha256; secret \"{secret}\"; }};"),
        format!("key:\n  - id: n\n    algorithm: hmac-sha256\n    secret: {secret}\n"),
        format!("key \"n\" {{ secret \"{secret}\"; }};"),
        format!("key:\n  - id: n\n    secret: {secret}\n"),
        format!("bogus {secret}"),
    ] {
        let err = Key::from_file_text(&text).unwrap_err().to_string();
        assert!(!err.contains("c2VjcmV0"), "{err}");
    }
    let k = Key::from_arg("n:c2VjcmV0").unwrap();
    assert!(!format!("{k:?}").contains("c2VjcmV0"));
}

#[test]
fn bind_key_files_with_comments_and_several_keys() {
    let text = "// made by hand\n/* block\n comment */ key n.example. { # note\n\
                algorithm \"HMAC-SHA512\"; secret \"AQ ID\"; };\n\
                key \"second\" { algorithm hmac-md5; secret \"BAUG\"; };\n";
    let k = Key::from_file_text(text).unwrap();
    assert_eq!(k.name, Name::from_text("n.example.").unwrap());
    assert_eq!(k.algorithm, Algorithm::HmacSha512);
    assert_eq!(k.secret(), &[1, 2, 3]);
    let err = Key::from_file_text("key \"n\" { algorithm hmac-sha256; };")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "BIND key statement: no secret");
    let err = Key::from_file_text("key \"n\" { algorithm hmac-sha256 secret \"AQID\"; };")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "BIND key statement: expected `;` after a field");
    assert!(Key::from_file_text("key \"n\" { algorithm \"x; };").is_err());
    assert!(Key::from_file_text("").is_err());
}

#[test]
fn knot_yaml_takes_the_first_key_and_quotes() {
    let text = "# generated\nserver:\n    listen: 1.2.3.4\nkey:\n  - id: \"first.\"\n    \
                algorithm: hmac-sha1\n    secret: 'AQID'\n  - id: second\n    \
                algorithm: hmac-md5\n    secret: BAUG\nacl:\n  - id: x\n";
    let k = Key::from_file_text(text).unwrap();
    assert_eq!(k.name, Name::from_text("first.").unwrap());
    assert_eq!(k.algorithm, Algorithm::HmacSha1);
    assert_eq!(k.secret(), &[1, 2, 3]);
    let err = Key::from_file_text("key:\n  - id: n\n    secret: AQID\n")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "the first key of the key: section has no algorithm");
}

#[test]
fn signing_appends_one_record_and_bumps_arcount() {
    let key = Key::from_arg("hmac-sha1:k.example:AQID").unwrap();
    let mut q = vec![0x12, 0x34, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let before = q.clone();
    sign_query(&mut q, &key, 0x0001_0203_0405, 300).unwrap();
    assert_eq!(&q[..10], &before[..10]);
    assert_eq!(&q[10..12], &[0, 1]);
    let t = find_tsig(&q).unwrap().unwrap();
    assert_eq!(t.time_signed, 0x0001_0203_0405);
    assert_eq!(t.original_id, 0x1234);
    assert_eq!(t.mac.len(), 20);
    assert_eq!(
        sign_query(&mut vec![0; 5], &key, 0, 300),
        Err(VerifyError::Malformed)
    );
}

#[test]
fn checker_reports_once_in_dig_words_and_warns_at_the_end() {
    let (key, qmac, bare, now) = bare_transfer();
    let mut signed = server_sign(&key, &qmac, &bare, |_| true, now);
    signed[1][20] ^= 1;
    let mut c = Checker {
        verifier: Verifier::new(key.clone(), qmac.clone()),
        failed: false,
    };
    assert_eq!(c.message(&signed[0], now), None);
    assert_eq!(
        c.message(&signed[1], now).as_deref(),
        Some(";; Couldn't verify signature: tsig verify failure")
    );
    for m in &signed[2..] {
        assert_eq!(c.message(m, now), None);
    }
    assert_eq!(c.end(), vec![NOT_VALIDATED_LINE.to_owned()]);
    // A clean transfer says nothing.
    let signed = server_sign(&key, &qmac, &bare, |_| true, now);
    let mut c = Checker {
        verifier: Verifier::new(key.clone(), qmac.clone()),
        failed: false,
    };
    assert!(signed.iter().all(|m| c.message(m, now).is_none()));
    assert!(c.end().is_empty() && !c.failed());
    // An unsigned end is reported at the end.
    let signed = server_sign(&key, &qmac, &bare, |i| i == 0, now);
    let mut c = Checker {
        verifier: Verifier::new(key, qmac),
        failed: false,
    };
    assert!(signed.iter().all(|m| c.message(m, now).is_none()));
    assert_eq!(
        c.end(),
        vec![
            ";; Couldn't verify signature: expected a TSIG or SIG(0)".to_owned(),
            NOT_VALIDATED_LINE.to_owned()
        ]
    );
}

#[test]
fn checker_signs_like_sign_query() {
    let key = key_for("hmac-sha512");
    let ex = exchange("query-hmac-sha512.txt");
    let query = &ex[0].1;
    let Located { start, tsig } = locate(query).unwrap().unwrap();
    let mut q = unsigned_form(query, start, tsig.original_id).unwrap();
    let mut c = Checker::sign(&mut q, &key, tsig.time_signed).unwrap();
    assert_eq!(&q, query);
    assert_eq!(c.message(&ex[1].1, tsig.time_signed), None);
    assert!(c.end().is_empty());
}

proptest::proptest! {
    #[test]
    fn junk_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        let key = Key::from_arg("k.:AQID").unwrap();
        let mut v = Verifier::new(key.clone(), vec![1; 32]);
        let _ = v.check(&bytes, 0);
        let _ = v.check(&bytes, u64::MAX);
        let _ = find_tsig(&bytes);
        let _ = Key::from_file_text(&String::from_utf8_lossy(&bytes));
        let _ = Key::from_arg(&String::from_utf8_lossy(&bytes));
        let mut q = bytes.clone();
        let _ = sign_query(&mut q, &key, u64::MAX, 300);
    }

    #[test]
    fn truncated_signed_answers_never_panic(cut in 0usize..200, flip in 0usize..200) {
        let ex = exchange("query-hmac-sha256.txt");
        let key = key_for("hmac-sha256");
        let mac = find_tsig(&ex[0].1).unwrap().unwrap().mac;
        let mut r = ex[1].1.clone();
        if let Some(b) = r.get_mut(flip) {
            *b ^= 0x55;
        }
        r.truncate(r.len().saturating_sub(cut));
        let _ = Verifier::new(key, mac).check(&r, 0);
    }
}

#[test]
fn sign_response_reproduces_knot_answers() {
    for alg in Algorithm::ALL {
        let key = key_for(alg.mnemonic());
        let ex = exchange(&format!("query-{}.txt", alg.mnemonic()));
        let qmac = find_tsig(&ex[0].1).unwrap().unwrap().mac;
        let real = &ex[1].1;
        let Located { start, tsig } = locate(real).unwrap().unwrap();
        let mut bare = unsigned_form(real, start, tsig.original_id).unwrap();
        let mac = sign_response(&mut bare, &key, &qmac, tsig.time_signed, tsig.fudge).unwrap();
        assert_eq!(&bare, real, "{alg:?}");
        assert_eq!(mac, tsig.mac);
    }
}
