//! The backend's throughput and latency on this machine, over loopback:
//!
//! - **inbox**: `--emails` invitation e-mails (REQUESTs from registered
//!   contacts of the demo data to the four demo users' mailboxes, one in five
//!   a weekly series, which waits for "Accept all") posted to `POST /api/inbox` by `--concurrency` clients
//!   on their own keep-alive connections; e-mails per second from the first
//!   request to the last response, the latency distribution, and a count of
//!   the committed rows in the SQLite file afterwards (every applied answer
//!   must be a committed processed message, every new appointment a row).
//! - **list**: `GET /api/invitations` at a fixed `--rate` for `--seconds`
//!   (open loop: each request is sent on its schedule, whatever the earlier
//!   ones are doing, and its latency counts from its scheduled time).
//! - with `--wrk`, a second opinion on the list's throughput by `wrk`
//!   (closed loop, 4 connections, 10 s) when it is installed.
//!
//! The server is the real one (`server::bind` and `Server::run`, as
//! `invitelink serve` runs it) on 127.0.0.1 with a fresh SQLite file (WAL,
//! `synchronous = FULL`) and the demo data, on a runtime of two workers;
//! the load runs on one more thread. Plain HTTP: TLS is not measured.
//!
//! `cargo run --release --example server_bench -- [--emails 20000] [--concurrency 32] [--rate 200] [--seconds 20] [--wrk]`

use invitelink_server::{ServeOptions, bind, store::Store};
use sqlx::Row;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The demo users (e-mail, password): their mailboxes receive the e-mails.
const USERS: [(&str, &str); 4] = [
    ("ada@ourcompany.example", "demo-ada"),
    ("ben@ourcompany.example", "demo-ben"),
    ("cara@ourcompany.example", "demo-cara"),
    ("dan@ourcompany.example", "demo-dan"),
];

/// Registered contacts of the demo data: (name, address, colleague's name, colleague's address).
const CONTACTS: [(&str, &str, &str, &str); 4] = [
    ("Bob Berg", "bob@acme.example", "Alice Ash", "alice@acme.example"),
    ("Alice Ash", "alice@acme.example", "Bob Berg", "bob@acme.example"),
    ("Gina Gray", "gina@globex.example", "Hal Hunt", "hal@globex.example"),
    ("Hal Hunt", "hal@globex.example", "Gina Gray", "gina@globex.example"),
];

/// Bounds on what the command line may ask.
const MAX_EMAILS: usize = 1_000_000;
const MAX_CONCURRENCY: usize = 512;
const MAX_RATE: u32 = 10_000;
const MAX_SECONDS: u64 = 600;

struct Options {
    emails: usize,
    concurrency: usize,
    rate: u32,
    seconds: u64,
    wrk: bool,
    /// A database URL to use instead of a fresh SQLite file (e.g. a fresh
    /// PostgreSQL database); it must be empty, as demo data is seeded.
    database: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut o = Options { emails: 20_000, concurrency: 32, rate: 200, seconds: 20, wrk: false, database: None };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("`{flag}` needs a value"));
        let number = |v: &String| v.parse::<u64>().map_err(|_| format!("`{flag}` takes a number, not `{v}`"));
        match flag.as_str() {
            "--emails" => o.emails = usize::try_from(number(value()?)?).unwrap_or(MAX_EMAILS).clamp(1, MAX_EMAILS),
            "--concurrency" => {
                o.concurrency = usize::try_from(number(value()?)?).unwrap_or(1).clamp(1, MAX_CONCURRENCY);
            }
            "--rate" => o.rate = u32::try_from(number(value()?)?).unwrap_or(MAX_RATE).clamp(1, MAX_RATE),
            "--seconds" => o.seconds = number(value()?)?.clamp(1, MAX_SECONDS),
            "--wrk" => o.wrk = true,
            "--database" => o.database = Some(value()?.clone()),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(o)
}

// ------------------------------------------------------------------ client

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream: BufReader::new(stream) })
    }

    /// Sends a request and reads the answer: (status, body).
    async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if let Some(t) = token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if !body.is_empty() {
            head.push_str(&format!("Content-Type: {content_type}\r\nContent-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        self.stream.get_mut().write_all(&out).await?;
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 =
            line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status"))?;
        let mut length: Option<usize> = None;
        for _ in 0..100 {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(bad("closed in the headers"));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().ok();
            }
        }
        let length = length.ok_or_else(|| bad("no content-length"))?;
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

async fn sign_in(addr: SocketAddr, email: &str, password: &str) -> Result<String, String> {
    let mut conn = Conn::open(addr).await.map_err(|e| e.to_string())?;
    let body = serde_json::json!({ "email": email, "password": password }).to_string();
    let (status, body) = conn
        .request("POST", "/api/signin", None, "application/json", body.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    match v.get("token").and_then(|t| t.as_str()) {
        Some(t) if status == 200 => Ok(t.to_owned()),
        _ => Err(format!("sign-in of {email} answered {status}: {v}")),
    }
}

// ------------------------------------------------------------------ e-mails

const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Oslo\r\nX-LIC-LOCATION:Europe/Oslo\r\nBEGIN:DAYLIGHT\r\n\
TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\n\
TZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
END:STANDARD\r\nEND:VTIMEZONE\r\n";

/// The item `i` of `items`, round and round.
fn pick<T: Copy + Default>(items: &[T], i: usize) -> T {
    items.get(i % items.len().max(1)).copied().unwrap_or_default()
}

/// The `i`th invitation e-mail of run `run`, for mailbox `i % 4`.
fn email(run: &str, i: usize) -> Vec<u8> {
    let (user, _) = pick(&USERS, i);
    let (name, address, colleague, colleague_address) = pick(&CONTACTS, i / USERS.len());
    let day = 1 + (i % 28);
    let month = 1 + (i / 28) % 12;
    let hour = 8 + (i % 9);
    let year = 2031 + (i / (28 * 12)) % 20;
    let recurring = if i.is_multiple_of(5) { "RRULE:FREQ=WEEKLY;COUNT=8\r\n" } else { "" };
    let summary = pick(&["Quarterly review", "Licence renewal", "Rollout planning", "Support escalation"], i);
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Acme//Mail 1.0//EN\r\nMETHOD:REQUEST\r\n{VTIMEZONE}\
         BEGIN:VEVENT\r\nUID:{run}-{i}@bench.example\r\nSEQUENCE:0\r\nDTSTAMP:20301201T120000Z\r\n\
         DTSTART;TZID=Europe/Oslo:{year}{month:02}{day:02}T{hour:02}0000\r\n\
         DTEND;TZID=Europe/Oslo:{year}{month:02}{day:02}T{:02}3000\r\n{recurring}\
         SUMMARY:{summary} #{i}\r\nLOCATION:Meeting room 4\r\n\
         DESCRIPTION:Agenda: figures of the quarter\\, open issues\\, next steps.\\nDial-in details follow.\r\n\
         ORGANIZER;CN={name}:mailto:{address}\r\n\
         ATTENDEE;CN=Recipient;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{user}\r\n\
         ATTENDEE;CN={colleague};ROLE=OPT-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:{colleague_address}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
        hour + 1
    );
    format!(
        "From: {name} <{address}>\r\nTo: {user}\r\nSubject: Invitation: {summary} #{i}\r\n\
         Message-ID: <{run}-{i}@mail.bench.example>\r\nDate: Mon, 2 Dec 2030 12:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b-{i}\"\r\n\r\n--b-{i}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{name} invites you to {summary}.\r\n--b-{i}\r\n\
         Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n{ics}\r\n--b-{i}--\r\n"
    )
    .into_bytes()
}

// ------------------------------------------------------------------ figures

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1).min(sorted.len() - 1)).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn distribution(latencies: &mut [Duration]) -> String {
    latencies.sort_unstable();
    format!(
        "p50 {}, p90 {}, p99 {}, p99.9 {}, max {}",
        ms(percentile(latencies, 50.0)),
        ms(percentile(latencies, 90.0)),
        ms(percentile(latencies, 99.0)),
        ms(percentile(latencies, 99.9)),
        ms(latencies.last().copied().unwrap_or_default())
    )
}

// ------------------------------------------------------------------ phases

struct InboxFigures {
    /// Applied (200, not a duplicate).
    ok: usize,
    /// Applied with a new appointment (the single invitations; a series
    /// waits for "Accept all" by default).
    created: usize,
    failed: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    first_error: Option<String>,
}

async fn inbox_phase(
    addr: SocketAddr,
    tokens: Arc<Vec<String>>,
    messages: Arc<Vec<Vec<u8>>>,
    c: usize,
) -> InboxFigures {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..c {
        let (next, tokens, messages) = (next.clone(), tokens.clone(), messages.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut ok, mut created, mut failed, mut first_error) = (0usize, 0usize, 0usize, None);
            let mut conn = match Conn::open(addr).await {
                Ok(c) => c,
                Err(e) => return (latencies, ok, created, failed + 1, Some(e.to_string())),
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(message) = messages.get(i) else { break };
                let token = tokens.get(i % tokens.len()).map(String::as_str);
                let sent = Instant::now();
                match conn.request("POST", "/api/inbox", token, "message/rfc822", message).await {
                    Ok((200, body)) => {
                        latencies.push(sent.elapsed());
                        let text = String::from_utf8_lossy(&body);
                        if text.contains("\"duplicate\":false") {
                            ok += 1;
                            created += usize::from(text.contains("\"create_appointment\""));
                        } else {
                            failed += 1;
                            first_error.get_or_insert_with(|| text.into_owned());
                        }
                    }
                    Ok((status, body)) => {
                        latencies.push(sent.elapsed());
                        failed += 1;
                        first_error.get_or_insert_with(|| format!("{status}: {}", String::from_utf8_lossy(&body)));
                    }
                    Err(e) => {
                        failed += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                        match Conn::open(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
                    }
                }
            }
            (latencies, ok, created, failed, first_error)
        }));
    }
    let mut figures = InboxFigures {
        ok: 0,
        created: 0,
        failed: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        first_error: None,
    };
    for w in workers {
        if let Ok((latencies, ok, created, failed, error)) = w.await {
            figures.latencies.extend(latencies);
            figures.ok += ok;
            figures.created += created;
            figures.failed += failed;
            if figures.first_error.is_none() {
                figures.first_error = error;
            }
        }
    }
    figures.elapsed = start.elapsed();
    figures
}

struct ListFigures {
    sent: usize,
    ok: usize,
    failed: usize,
    connections: usize,
    latencies: Vec<Duration>,
    elapsed: Duration,
    items: usize,
}

/// `GET /api/invitations` at `rate` per second for `seconds`, open loop.
async fn list_phase(addr: SocketAddr, tokens: Arc<Vec<String>>, rate: u32, seconds: u64) -> ListFigures {
    let total = usize::try_from(u64::from(rate) * seconds).unwrap_or(usize::MAX);
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let idle: Arc<std::sync::Mutex<Vec<Conn>>> = Arc::new(std::sync::Mutex::new(Vec::new()));
    let opened = Arc::new(AtomicUsize::new(0));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Result<(Duration, usize), String>>();
    let start = tokio::time::Instant::now();
    for i in 0..total {
        let scheduled = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled).await;
        let (idle, opened, done_tx, tokens) = (idle.clone(), opened.clone(), done_tx.clone(), tokens.clone());
        tokio::spawn(async move {
            let pooled = idle.lock().ok().and_then(|mut v| v.pop());
            let conn = match pooled {
                Some(c) => Ok(c),
                None => {
                    opened.fetch_add(1, Ordering::Relaxed);
                    Conn::open(addr).await
                }
            };
            let token = tokens.get(i % tokens.len()).map(String::as_str);
            let result = match conn {
                Ok(mut conn) => match conn.request("GET", "/api/invitations", token, "", &[]).await {
                    Ok((200, body)) => {
                        let items = serde_json::from_slice::<serde_json::Value>(&body)
                            .ok()
                            .and_then(|v| v.as_array().map(Vec::len))
                            .unwrap_or(0);
                        if let Ok(mut v) = idle.lock() {
                            v.push(conn);
                        }
                        Ok((scheduled.elapsed(), items))
                    }
                    Ok((status, _)) => Err(format!("status {status}")),
                    Err(e) => Err(e.to_string()),
                },
                Err(e) => Err(e.to_string()),
            };
            let _ = done_tx.send(result);
        });
    }
    drop(done_tx);
    let mut figures = ListFigures {
        sent: total,
        ok: 0,
        failed: 0,
        connections: 0,
        latencies: Vec::with_capacity(total),
        elapsed: Duration::ZERO,
        items: 0,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while let Ok(Some(result)) = tokio::time::timeout_at(deadline, done_rx.recv()).await {
        match result {
            Ok((latency, items)) => {
                figures.ok += 1;
                figures.items = figures.items.max(items);
                figures.latencies.push(latency);
            }
            Err(_) => figures.failed += 1,
        }
    }
    figures.elapsed = start.elapsed();
    figures.connections = opened.load(Ordering::Relaxed);
    figures
}

/// Rows committed by the inbox run: (appointments, processed messages, participants, occurrences).
async fn committed_rows(database: &str, run: &str) -> Result<(i64, i64, i64, i64), String> {
    let store = Store::open(database).await.map_err(|e| e.to_string())?;
    let like = format!("{run}-%");
    let count = |sql: &'static str| {
        let store = store.clone();
        let like = like.clone();
        async move {
            sqlx::query(sql)
                .bind(like)
                .fetch_one(store.pool())
                .await
                .and_then(|r| r.try_get::<i64, _>(0))
                .map_err(|e| e.to_string())
        }
    };
    let appointments = count("SELECT COUNT(*) FROM appointments WHERE origin = 'email' AND uid LIKE $1").await?;
    let processed = count("SELECT COUNT(*) FROM processed_messages WHERE message_key LIKE '%' || $1").await?;
    let participants = count(
        "SELECT COUNT(*) FROM participants WHERE appointment_id IN (SELECT id FROM appointments WHERE uid LIKE $1)",
    )
    .await?;
    let occurrences = count(
        "SELECT COUNT(*) FROM occurrences WHERE appointment_id IN (SELECT id FROM appointments WHERE uid LIKE $1)",
    )
    .await?;
    store.close().await;
    Ok((appointments, processed, participants, occurrences))
}

fn run_wrk(addr: SocketAddr, token: &str) {
    let header = format!("Authorization: Bearer {token}");
    let url = format!("http://{addr}/api/invitations");
    match std::process::Command::new("wrk")
        .args(["-t1", "-c4", "-d10s", "--timeout", "5s", "--latency", "-H", &header, &url])
        .output()
    {
        Ok(out) => {
            println!("\nwrk -t1 -c4 -d10s GET /api/invitations (closed loop):");
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
        Err(e) => println!("\nwrk: not run ({e}); `apt-get install wrk` for a second opinion"),
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server_bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let o = options()?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let dir = std::env::temp_dir().join(format!("invitelink-server-bench-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let database = o.database.clone().unwrap_or_else(|| format!("sqlite:{}", dir.join("crm.sqlite").display()));
    let opts = ServeOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        database: database.clone(),
        demo: true,
        static_root: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        mail: None,
    };

    // The server: its own runtime of two workers, on its own thread.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_thread = std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                let _ = addr_tx.send(Err(e.to_string()));
                return;
            }
        };
        rt.block_on(async move {
            let server = match bind(&opts).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = addr_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let _ = addr_tx.send(server.local_addr().map_err(|e| e.to_string()));
            let _ = server
                .run(async move {
                    let _ = stop_rx.await;
                })
                .await;
        });
    });
    let addr = addr_rx.recv_timeout(Duration::from_secs(120)).map_err(|e| e.to_string())??;

    // The load: one thread.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let result = rt.block_on(async {
        let mut tokens = Vec::new();
        for (email, password) in USERS {
            tokens.push(sign_in(addr, email, password).await?);
        }
        let tokens = Arc::new(tokens);
        let run_id = format!("bench{nanos:x}");
        let messages: Arc<Vec<Vec<u8>>> = Arc::new((0..o.emails).map(|i| email(&run_id, i)).collect());
        let bytes: usize = messages.iter().map(Vec::len).sum();

        println!("server_bench: server on http://{addr}, database {database}");
        println!(
            "\ninbox: {} invitation e-mails ({} bytes on average, 1 in 5 a weekly series) to 4 mailboxes, concurrency {}",
            o.emails,
            bytes / o.emails.max(1),
            o.concurrency
        );
        let mut inbox = inbox_phase(addr, tokens.clone(), messages, o.concurrency).await;
        let rate = inbox.ok as f64 / inbox.elapsed.as_secs_f64();
        println!(
            "  {} applied ({} new appointments), {} failed in {:.2} s: {:.0} e-mails/s",
            inbox.ok,
            inbox.created,
            inbox.failed,
            inbox.elapsed.as_secs_f64(),
            rate
        );
        println!("  latency: {}", distribution(&mut inbox.latencies));
        if let Some(e) = &inbox.first_error {
            println!("  first failure: {}", e.chars().take(300).collect::<String>());
        }
        let (appointments, processed, participants, occurrences) = committed_rows(&database, &run_id).await?;
        println!(
            "  committed rows: {appointments} appointments, {processed} processed messages, {participants} participants, {occurrences} occurrences"
        );
        let verified = usize::try_from(appointments).ok() == Some(inbox.created)
            && usize::try_from(processed).ok() == Some(inbox.ok);
        println!("  every answer is committed (rows = answers): {}", if verified { "yes" } else { "NO" });

        println!("\nlist: GET /api/invitations at {} requests/s for {} s (open loop)", o.rate, o.seconds);
        let mut list = list_phase(addr, tokens.clone(), o.rate, o.seconds).await;
        println!(
            "  {} sent, {} ok, {} failed in {:.2} s over {} connections; up to {} items per answer",
            list.sent,
            list.ok,
            list.failed,
            list.elapsed.as_secs_f64(),
            list.connections,
            list.items
        );
        println!("  latency from the scheduled send: {}", distribution(&mut list.latencies));
        if o.wrk {
            let token = tokens.first().cloned().unwrap_or_default();
            tokio::task::spawn_blocking(move || run_wrk(addr, &token)).await.map_err(|e| e.to_string())?;
        }
        if !verified || inbox.failed > 0 || list.failed > 0 {
            return Err("some requests failed or rows are missing".to_owned());
        }
        Ok::<(), String>(())
    });
    let _ = stop_tx.send(());
    let _ = server_thread.join();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
