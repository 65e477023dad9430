#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The backend's protections, against the real server: demo passwords,
//! password changes, sessions that expire and can be revoked, the sign-in
//! throttle, body limits and timeouts, control characters, the add-in's
//! allow-list, file modes and security headers.

#[path = "server_support/mod.rs"]
mod support;

use invitelink_server::{Limits, ServeError, ServeOptions};
use serde_json::json;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use support::*;

fn options(db: &TestDb, demo: bool) -> ServeOptions {
    ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db.url().to_owned(),
        demo,
        static_root: repo_root(),
        mail: None,
    }
}

/// Binds (and at once stops) a server: the error when it refuses to start.
fn try_start(db: &TestDb, demo: bool) -> Result<(), ServeError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let server = invitelink_server::bind(&options(db, demo)).await?;
        server.run(async {}).await
    })
}

const NEW: &str = "a long and unusual passphrase";

#[test]
fn demo_passwords_stop_a_start_without_demo() {
    let db = TestDb::new("demo-passwords");
    TestServer::start_on(&db, true).stop();
    let err = try_start(&db, false).unwrap_err();
    let ServeError::DemoPasswords(emails) = &err else { panic!("{err}") };
    assert_eq!(emails.len(), 4, "{emails:?}");
    let message = err.to_string();
    assert!(message.contains("ben@ourcompany.example") && message.contains("--demo"), "{message}");

    // Started with --demo, every demo account gets a new password.
    let server = TestServer::start_on(&db, true);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let r = ben.put("/api/me/password", &json!({"current_password": BEN.1, "new_password": NEW}));
    assert_eq!(r.status, 204, "{}", r.text());
    let associates = ada.get("/api/associates").json;
    for email in [CARA.0, DAN.0] {
        let id = id_where(&associates, "email", email);
        let r = ada.put(&format!("/api/associates/{id}/password"), &json!({"new_password": NEW}));
        assert_eq!(r.status, 204, "{}", r.text());
    }
    // Three done: it still refuses, naming the one left.
    server.stop();
    let ServeError::DemoPasswords(left) = try_start(&db, false).unwrap_err() else { panic!() };
    assert_eq!(left, vec![ADA.0.to_owned()]);
    let server = TestServer::start_on(&db, true);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    assert_eq!(ada.put("/api/me/password", &json!({"current_password": ADA.1, "new_password": NEW})).status, 204);
    server.stop();

    let server = TestServer::start_on(&db, false);
    assert_eq!(
        server.client().post("/api/signin", &json!({"email": BEN.0, "password": BEN.1})).status,
        401,
        "the demo password is gone"
    );
    let (ben, _) = server.sign_in(BEN.0, NEW);
    assert_eq!(ben.get("/api/me").status, 200);
}

#[test]
fn passwords_are_changed_by_their_user_and_reset_by_administrators() {
    let (server, _db) = TestServer::demo("passwords");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (ben_elsewhere, _) = server.sign_in(BEN.0, BEN.1);
    let change = |current: &str, new: &str| {
        ben.put("/api/me/password", &json!({"current_password": current, "new_password": new}))
    };
    let r = change("not my password", NEW);
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.text());
    for weak in ["short", "password123", "ben@ourcompany.example", "zzzzzzzzzzzz"] {
        let r = change(BEN.1, weak);
        assert_eq!((r.status, r.code()), (422, "weak_password"), "{weak}: {}", r.text());
    }
    assert_eq!(change(BEN.1, NEW).status, 204);
    assert_eq!(ben.get("/api/me").status, 200, "this session stays");
    assert_eq!(ben_elsewhere.get("/api/me").status, 401, "the other sessions end");
    let anon = server.client();
    assert_eq!(anon.post("/api/signin", &json!({"email": BEN.0, "password": BEN.1})).status, 401);
    server.sign_in(BEN.0, NEW);

    // An administrator resets Cara's password: her sessions end.
    let (cara, cara_id) = server.sign_in(CARA.0, CARA.1);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let r = ada.put(&format!("/api/associates/{cara_id}/password"), &json!({"new_password": "short"}));
    assert_eq!(r.code(), "weak_password");
    assert_eq!(cara.get("/api/me").status, 200, "a refused reset changes nothing");
    let r = ada.put(&format!("/api/associates/{cara_id}/password"), &json!({"new_password": NEW}));
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(cara.get("/api/me").status, 401);
    server.sign_in(CARA.0, NEW);
    assert_eq!(ada.put("/api/associates/unknown/password", &json!({"new_password": NEW})).status, 404);
    let r = ben.put(&format!("/api/associates/{cara_id}/password"), &json!({"new_password": NEW}));
    assert_eq!(r.status, 403);
}

#[test]
fn sign_out_everywhere_and_administrators_revoke() {
    let (server, _db) = TestServer::demo("signout-all");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (ben2, _) = server.sign_in(BEN.0, BEN.1);
    let (cara, _) = server.sign_in(CARA.0, CARA.1);
    assert_eq!(ben.post("/api/signout/all", &json!({})).status, 204);
    assert_eq!(ben.get("/api/me").status, 401);
    assert_eq!(ben2.get("/api/me").status, 401);
    assert_eq!(cara.get("/api/me").status, 200, "other users stay signed in");

    let (dan, dan_id) = server.sign_in(DAN.0, DAN.1);
    let (dan2, _) = server.sign_in(DAN.0, DAN.1);
    assert_eq!(cara.post(&format!("/api/associates/{dan_id}/signout"), &json!({})).status, 403);
    assert_eq!(dan.get("/api/me").status, 200);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    assert_eq!(ada.post(&format!("/api/associates/{dan_id}/signout"), &json!({})).status, 204);
    assert_eq!(dan.get("/api/me").status, 401);
    assert_eq!(dan2.get("/api/me").status, 401);
    assert_eq!(ada.get("/api/me").status, 200);
    assert_eq!(ada.post("/api/associates/unknown/signout", &json!({})).status, 404);
}

#[test]
fn tokens_expire_when_idle_and_when_old() {
    let db = TestDb::new("expiry");
    let limits =
        Limits { token_idle: Duration::from_secs(4), token_lifetime: Duration::from_secs(12), ..Limits::default() };
    let server = TestServer::start_with(&db, true, limits);
    let (idle, _) = server.sign_in(BEN.0, BEN.1);
    let (busy, _) = server.sign_in(CARA.0, CARA.1);
    // Used every 2 s, a token lives on; unused for 6 s, it is gone.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(busy.get("/api/me").status, 200);
    }
    let r = idle.get("/api/me");
    assert_eq!(r.status, 401, "idle for 6 s: {}", r.text());
    assert!(r.json["error"]["message"].as_str().unwrap().contains("expired"));
    // In use, but older than its lifetime (margins of seconds either side,
    // for a loaded machine).
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(busy.get("/api/me").status, 200, "about 8 s old, under the 12 s lifetime");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(busy.get("/api/me").status, 401, "about 13 s old, over the 12 s lifetime");
}

fn sign_in_status(client: &Client, email: &str, password: &str) -> support::Response {
    client.post("/api/signin", &json!({"email": email, "password": password}))
}

#[test]
fn sign_in_is_throttled_per_account_and_per_address() {
    let (server, _db) = TestServer::demo("throttle");
    let anon = server.client();
    for _ in 0..5 {
        assert_eq!(sign_in_status(&anon, BEN.0, "wrong").status, 401);
    }
    // The sixth attempt is refused, the right password too, without checking it.
    let r = sign_in_status(&anon, BEN.0, BEN.1);
    assert_eq!((r.status, r.code()), (429, "too_many_attempts"), "{}", r.text());
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "Retry-After {wait}");
    assert_eq!(sign_in_status(&anon, &BEN.0.to_uppercase(), BEN.1).status, 429, "the account, however spelled");
    // Another account from the same address still signs in.
    assert_eq!(sign_in_status(&anon, CARA.0, CARA.1).status, 200);
    // Unknown accounts count for the address: 20 failures in all, then 429 for everyone.
    for n in 0..15 {
        assert_eq!(sign_in_status(&anon, &format!("nobody{n}@ourcompany.example"), "x").status, 401);
    }
    let r = sign_in_status(&anon, CARA.0, CARA.1);
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.header("retry-after").is_some());
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// An unknown address costs a password check like a known one, so timing
/// does not tell which addresses have accounts.
#[test]
fn unknown_addresses_take_as_long_as_known_ones() {
    let (server, _db) = TestServer::demo("timing");
    let anon = server.client();
    let time = |email: &str| {
        let start = Instant::now();
        assert_eq!(sign_in_status(&anon, email, "wrong password").status, 401);
        start.elapsed()
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for (n, (email, _)) in [ADA, BEN, CARA, DAN, ADA].into_iter().enumerate() {
        known.push(time(email));
        unknown.push(time(&format!("nobody{n}@ourcompany.example")));
    }
    let (known, unknown) = (median(known), median(unknown));
    assert!(unknown * 2 >= known, "unknown {unknown:?} against known {known:?}");
}

/// Sends `head` and part of a body, then waits for the answer.
fn raw_exchange(server: &TestServer, head: &str, body: &[u8]) -> (String, Duration) {
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let start = Instant::now();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    (String::from_utf8_lossy(&raw).into_owned(), start.elapsed())
}

#[test]
fn a_slow_request_times_out() {
    let db = TestDb::new("timeout");
    let limits = Limits { request_timeout: Duration::from_secs(1), ..Limits::default() };
    let server = TestServer::start_with(&db, true, limits);
    // 100 bytes announced, 10 sent, then nothing.
    let head = "POST /api/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    let (answer, took) = raw_exchange(&server, head, b"{\"email\":");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"timeout\""), "{answer}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Requests that finish in time are not affected.
    server.sign_in(BEN.0, BEN.1);
}

/// With one request in flight at most, a second waits for the first.
#[test]
fn requests_in_flight_are_capped() {
    let db = TestDb::new("in-flight");
    let limits = Limits { max_in_flight: 1, request_timeout: Duration::from_secs(2), ..Limits::default() };
    let server = TestServer::start_with(&db, true, limits);
    let addr = server.addr;
    // The first request holds the only slot until it times out (2 s).
    let slow = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let head =
            "POST /api/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
        stream.write_all(head.as_bytes()).unwrap();
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        String::from_utf8_lossy(&raw).into_owned()
    });
    std::thread::sleep(Duration::from_millis(1000));
    let start = Instant::now();
    let r = server.client().get("/health");
    let waited = start.elapsed();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(waited >= Duration::from_millis(500), "answered at once ({waited:?}): no cap");
    assert!(slow.join().unwrap().starts_with("HTTP/1.1 408"));
    // Alone, a request is answered at once.
    let start = Instant::now();
    assert_eq!(server.client().get("/health").status, 200);
    assert!(start.elapsed() < Duration::from_millis(500));
}

#[test]
fn bodies_are_limited_by_route() {
    let (server, _db) = TestServer::demo("body-limits");
    let anon = server.client();
    // A sign-in of 64 KiB is refused before its password is looked at.
    let r = sign_in_status(&anon, BEN.0, &"x".repeat(64 * 1024));
    assert_eq!((r.status, r.code()), (413, "too_large"), "{}", r.text());
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    // Other JSON endpoints take 256 KiB at most.
    let r = ben.post("/api/persons", &json!({"name": "x".repeat(300 * 1024), "emails": ["big@x.example"]}));
    assert_eq!(r.status, 413, "{}", r.text());
    // The archive keeps its large limit: a 1 MiB e-mail is archived.
    let message = format!("From: bob@acme.example\r\nSubject: big\r\n\r\n{}", "line of text\r\n".repeat(80_000));
    let r = ben.post("/api/archive", &json!({"message": message}));
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn control_characters_are_refused_in_names_and_addresses() {
    let (server, _db) = TestServer::demo("control");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let refused = |r: support::Response, what: &str| {
        assert_eq!((r.status, r.code()), (400, "control_character"), "{what}: {}", r.text());
    };
    refused(ben.post("/api/persons", &json!({"name": "Eve\r\nBcc: x@y.example", "emails": ["eve@x.example"]})), "name");
    refused(
        ben.post("/api/persons", &json!({"name": "Eve", "emails": ["eve@x.example\r\nBcc: y@z.example"]})),
        "email",
    );
    refused(ben.post("/api/persons", &json!({"name": "Eve", "emails": ["eve@x.example\t"]})), "tab in email");
    refused(
        ben.post("/api/persons", &json!({"name": "Eve", "title": "CEO\u{0}", "emails": ["eve@x.example"]})),
        "title",
    );
    let followup = |extra: serde_json::Value| {
        let mut body = json!({"title": "Plan", "start": at(0, 9, 0), "end": at(0, 10, 0)});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        ben.post("/api/followups", &body)
    };
    refused(followup(json!({"title": "Plan\r\nATTENDEE:mailto:eve@x.example"})), "follow-up title");
    refused(followup(json!({"location": "Room\nX"})), "location");
    refused(followup(json!({"emails": ["eve@x.example\r\nBcc: y@z.example"]})), "follow-up email");
    refused(ada.put("/api/preferences", &json!({"crm_inbox": "crm@x.example\r\nBcc: y@z.example"})), "crm_inbox");
    // A TAB in a title is harmless, and so is any other character.
    let r = followup(json!({"title": "Plan\tB \u{e6}\u{f8}\u{e5}", "location": "Fjord"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json["id"].as_str().unwrap();
    let r = ben.post(
        &format!("/api/followups/{id}/reschedule"),
        &json!({"start": at(1, 9, 0), "end": at(1, 10, 0), "location": "Glacier\r\nX"}),
    );
    refused(r, "rescheduled location");
    assert_eq!(ben.post("/api/persons", &json!({"name": "Eve Ek", "emails": ["eve@x.example"]})).status, 201);
}

#[test]
fn private_addin_folders_are_not_served_however_spelled() {
    let root = repo_root();
    assert!(root.join("addin/tests/package.json").is_file());
    assert!(root.join("addin/tools/make_icons.py").is_file());
    let (server, _db) = TestServer::demo("addin-allow-list");
    let anon = server.client();
    for path in ["/addin/taskpane.html", "/addin/src/main.js", "/addin/assets/icon-16.png", "/addin/./taskpane.html"] {
        assert_eq!(anon.get(path).status, 200, "{path}");
    }
    for path in [
        "/addin/tests/package.json",
        "/addin/%74ests/package.json",
        "/addin/%74%65%73%74%73/package.json",
        "/addin/./tests/package.json",
        "/addin/tests/../tests/package.json",
        "/addin/src/../tests/package.json",
        "/addin/src/%2e%2e/tests/package.json",
        "/addin//tests/package.json",
        "/addin/.//tests//package.json",
        "/addin/Tests/package.json",
        "/addin/TESTS/package.json",
        "/addin/tests%2fpackage.json",
        "/addin/%2574ests/package.json",
        "/addin/tools/make_icons.py",
        "/addin/%74ools/make_icons.py",
        "/addin/./tools/make_icons.py",
        "/addin/README.md",
    ] {
        let r = anon.get(path);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert!(!r.text().contains("\"name\""), "{path} leaked the file");
    }
}

#[cfg(unix)]
#[test]
fn the_database_file_and_the_tls_key_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // Always SQLite here: the file the server creates.
    let dir = temp_dir("file-modes");
    let file = dir.join("crm.sqlite");
    let server = TestServer::start_url(&format!("sqlite:{}", file.display()), true);
    server.sign_in(BEN.0, BEN.1);
    for path in [file.clone(), dir.join("crm.sqlite-wal"), dir.join("crm.sqlite-shm")] {
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    server.stop();
    let files = invitelink_server::tls::ensure_self_signed(&dir).unwrap();
    assert!(files.created);
    assert_eq!(mode(&files.key), 0o600);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn security_headers_are_on_every_response() {
    let (server, _db) = TestServer::demo("headers");
    let anon = server.client();
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let html = std::fs::read_to_string(repo_root().join("addin/taskpane.html")).unwrap();
    let meta = html.split("http-equiv=\"Content-Security-Policy\" content=\"").nth(1).unwrap();
    let meta = &meta[..meta.find('"').unwrap()];
    let responses = [
        ("/health", anon.get("/health")),
        ("/api/me", ben.get("/api/me")),
        ("/api/me anonymous", anon.get("/api/me")),
        ("/openapi.json", anon.get("/openapi.json")),
        ("/api/nothing", anon.get("/api/nothing")),
        ("/addin/taskpane.html", anon.get("/addin/taskpane.html")),
        ("/addin/src/main.js", anon.get("/addin/src/main.js")),
        ("/addin/tests/package.json", anon.get("/addin/tests/package.json")),
        ("/pkg/none.js", anon.get("/pkg/none.js")),
    ];
    for (what, r) in &responses {
        let csp = r.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{what}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
        if what.starts_with("/addin") || what.starts_with("/pkg") {
            // The pane's own policy, as in its <meta>, and who may frame it.
            assert!(csp.starts_with(meta), "{what}: {csp}");
            assert!(csp.contains("frame-ancestors 'self' https://outlook.office.com"), "{what}: {csp}");
            assert!(csp.contains("https://outlook.office365.com") && csp.contains("https://outlook.live.com"));
        } else {
            assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        }
    }
}
