//! Test support for the backend: the real server on a loopback port with a
//! fresh database, driven over HTTP by a small blocking client.
//!
//! The database is a fresh SQLite file, or, when `INVITELINK_TEST_DATABASE`
//! holds a server-level PostgreSQL URL (`postgres://user@127.0.0.1:5432/postgres`,
//! see tests/pg/start.sh), a fresh database `test_<name>_<random>` on that
//! server, created for the test and dropped at its end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, dead_code)]

use invitelink_server::{ServeOptions, bind};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The variable naming the PostgreSQL server the tests run on.
pub const TEST_DATABASE: &str = "INVITELINK_TEST_DATABASE";

/// A fresh, empty directory under the system's temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("invitelink-{name}-{}-{nanos}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The PostgreSQL server the tests run on, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var(TEST_DATABASE).ok().filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

/// A fresh database of one test; dropped (PostgreSQL) or deleted (SQLite)
/// when the last clone goes, so a server holding a clone keeps it alive.
#[derive(Clone)]
pub struct TestDb(Arc<DbInner>);

struct DbInner {
    url: String,
    place: Place,
}

enum Place {
    Sqlite { dir: PathBuf, file: PathBuf },
    Postgres { server: String, name: String },
}

impl TestDb {
    /// A fresh database named after `name`.
    pub fn new(name: &str) -> TestDb {
        match postgres_server() {
            None => {
                let dir = temp_dir(name);
                let file = dir.join("crm.sqlite");
                TestDb(Arc::new(DbInner {
                    url: format!("sqlite:{}", file.display()),
                    place: Place::Sqlite { dir, file },
                }))
            }
            Some(server) => {
                let clean: String = name
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
                    .take(24)
                    .collect();
                let mut random = [0u8; 8];
                getrandom::fill(&mut random).unwrap();
                let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
                let name = format!("test_{clean}_{hex}");
                admin_sql(&server, &format!("CREATE DATABASE {name}"));
                let url = with_database(&server, &name);
                TestDb(Arc::new(DbInner { url, place: Place::Postgres { server, name } }))
            }
        }
    }

    /// The database URL, for `serve --database`.
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// The SQLite file, when the tests run on SQLite.
    pub fn sqlite_file(&self) -> Option<&Path> {
        match &self.0.place {
            Place::Sqlite { file, .. } => Some(file),
            Place::Postgres { .. } => None,
        }
    }
}

impl Drop for DbInner {
    fn drop(&mut self) {
        match &self.place {
            Place::Sqlite { dir, .. } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Place::Postgres { server, name } => {
                let (server, sql) = (server.clone(), format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                // Its own thread: a drop may happen inside a runtime, or while unwinding.
                let _ = std::thread::spawn(move || admin_sql(&server, &sql)).join();
            }
        }
    }
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Runs one statement on the PostgreSQL server (outside any transaction).
fn admin_sql(server: &str, sql: &str) {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut conn = sqlx::AnyConnection::connect(server)
            .await
            .unwrap_or_else(|e| panic!("{TEST_DATABASE}: cannot connect to {server}: {e}"));
        conn.execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
    });
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub database: String,
    /// The first administrator's password, printed on a first start without demo data.
    pub first_admin_password: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Keeps the database until the server has stopped.
    _db: Option<TestDb>,
}

impl TestServer {
    /// Starts a server on 127.0.0.1:0 on the database `db`.
    pub fn start_on(db: &TestDb, demo: bool) -> TestServer {
        let mut server = TestServer::start_url(db.url(), demo);
        server._db = Some(db.clone());
        server
    }

    /// Starts a server on 127.0.0.1:0 on the database at `database` (a URL).
    pub fn start_url(database: &str, demo: bool) -> TestServer {
        TestServer::start_url_with(database, demo, invitelink_server::Limits::default())
    }

    /// Starts a server with `limits` on the database `db`.
    pub fn start_with(db: &TestDb, demo: bool, limits: invitelink_server::Limits) -> TestServer {
        let mut server = TestServer::start_url_with(db.url(), demo, limits);
        server._db = Some(db.clone());
        server
    }

    /// Starts a server with `limits` on the database at `database` (a URL).
    pub fn start_url_with(database: &str, demo: bool, limits: invitelink_server::Limits) -> TestServer {
        TestServer::start_with_mail(database, demo, limits, None)
    }

    /// Starts a server (demo data or not) with the mail settings `mail` on the database `db`.
    pub fn start_on_with_mail(db: &TestDb, demo: bool, mail: invitelink_server::mail::MailConfig) -> TestServer {
        let mut server = TestServer::start_with_mail(db.url(), demo, invitelink_server::Limits::default(), Some(mail));
        server._db = Some(db.clone());
        server
    }

    /// Starts a server with `limits` and the mail settings `mail` on the database at `database`.
    pub fn start_with_mail(
        database: &str,
        demo: bool,
        limits: invitelink_server::Limits,
        mail: Option<invitelink_server::mail::MailConfig>,
    ) -> TestServer {
        let database = database.to_owned();
        let opts = ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            database: database.clone(),
            demo,
            static_root: repo_root(),
            mail,
        };
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let server = match bind(&opts).await {
                    Ok(s) => s,
                    Err(e) => {
                        addr_tx.send(Err(e.to_string())).unwrap();
                        return;
                    }
                };
                let server = server.with_limits(limits);
                addr_tx.send(Ok((server.local_addr().unwrap(), server.first_admin_password.clone()))).unwrap();
                server
                    .run(async move {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let (addr, first_admin_password) = addr_rx.recv_timeout(Duration::from_secs(60)).unwrap().unwrap();
        TestServer { addr, database, first_admin_password, shutdown: Some(stop_tx), thread: Some(thread), _db: None }
    }

    /// Starts a server with demo data on a fresh database.
    pub fn demo(name: &str) -> (TestServer, TestDb) {
        let db = TestDb::new(name);
        (TestServer::start_on(&db, true), db)
    }

    /// A client for this server.
    pub fn client(&self) -> Client {
        Client { addr: self.addr, token: None }
    }

    /// Signs in and returns an authenticated client and the associate's id.
    pub fn sign_in(&self, email: &str, password: &str) -> (Client, String) {
        let anon = self.client();
        let r = anon.post("/api/signin", &serde_json::json!({"email": email, "password": password}));
        assert_eq!(r.status, 200, "sign-in {email}: {}", r.text());
        let token = r.json["token"].as_str().unwrap().to_owned();
        let id = r.json["associate"]["id"].as_str().unwrap().to_owned();
        (Client { addr: self.addr, token: Some(token) }, id)
    }

    /// Stops the server and waits for it to release the database.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// The demo users: (email, password).
pub const ADA: (&str, &str) = ("ada@ourcompany.example", "demo-ada");
pub const BEN: (&str, &str) = ("ben@ourcompany.example", "demo-ben");
pub const CARA: (&str, &str) = ("cara@ourcompany.example", "demo-cara");
pub const DAN: (&str, &str) = ("dan@ourcompany.example", "demo-dan");

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub json: Value,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The error code of a JSON error body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

/// A blocking HTTP/1.1 client for one server.
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub token: Option<String>,
}

impl Client {
    pub fn with_token(&self, token: Option<&str>) -> Client {
        Client { addr: self.addr, token: token.map(str::to_owned) }
    }

    pub fn request(&self, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Response {
        self.request_with(method, path, content_type, body, &[])
    }

    /// A request with extra headers (`name`, `value`).
    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> Response {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        if let Some(t) = &self.token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        for (name, value) in extra {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).unwrap();
        // The server may answer (413) before reading a large body.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        parse_response(&raw)
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, None, b"")
    }

    pub fn delete(&self, path: &str) -> Response {
        self.request("DELETE", path, None, b"")
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.request("POST", path, Some("application/json"), body.to_string().as_bytes())
    }

    pub fn patch(&self, path: &str, body: &Value) -> Response {
        self.request("PATCH", path, Some("application/json"), body.to_string().as_bytes())
    }

    pub fn put(&self, path: &str, body: &Value) -> Response {
        self.request("PUT", path, Some("application/json"), body.to_string().as_bytes())
    }

    pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> Response {
        self.request("POST", path, Some(content_type), body)
    }
}

fn parse_response(raw: &[u8]) -> Response {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no header end in response");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))).collect();
    let chunked =
        headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            let eol = rest[i..].windows(2).position(|w| w == b"\r\n").unwrap() + i;
            let size_text = String::from_utf8_lossy(&rest[i..eol]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            i = eol + 2 + size + 2;
        }
        rest = out;
    }
    let json = serde_json::from_slice(&rest).unwrap_or(Value::Null);
    Response { status, headers, body: rest, json }
}

/// Finds the id of the row in a JSON list whose `field` equals `value`.
pub fn id_where(list: &Value, field: &str, value: &str) -> String {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .find(|x| x[field].as_str() == Some(value))
        .unwrap_or_else(|| panic!("no {field} = {value} in {list}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An instant `days` days from a fixed Monday (2030-01-07) at `hour`:`minute` UTC.
pub fn at(days: i64, hour: u32, minute: u32) -> String {
    let monday = chrono::NaiveDate::from_ymd_opt(2030, 1, 7).unwrap();
    let d = monday + chrono::Duration::days(days);
    format!("{}T{hour:02}:{minute:02}:00Z", d.format("%Y-%m-%d"))
}

/// The value of the Prometheus sample `name{labels}` (labels in any order;
/// every one given must match), summed over the samples that match.
pub fn sample(exposition: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            (metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
                .then(|| value.parse::<f64>().unwrap())
        })
        .sum()
}
