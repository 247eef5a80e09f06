//! In-process ceilings for bench/run.sh. Each command prints one JSON
//! object on standard output.
//!
//!   ceilings gen-trace FILE [POINTS]     write a trace JSON (100,000 points by default)
//!   ceilings serde FILE [RUNS]           parse FILE as a trace, serialise it back; median times
//!   ceilings argon2 [SECONDS] [THREADS]  Argon2id verifications per second at Steward's parameters
//!   ceilings startup ADDR RUNS -- CMD... exec CMD, time until GET /readyz on ADDR answers 200

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// The service's `TracePointDto` (crates/api/src/dto.rs), field for field.
#[derive(Serialize, Deserialize)]
struct TracePoint {
    time: DateTime<Utc>,
    lat: f64,
    lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    elevation: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    heart_rate: Option<i32>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match arg(0) {
        Some("gen-trace") => gen_trace(arg(1).expect("FILE"), arg(2).map_or(100_000, |n| n.parse().expect("POINTS"))),
        Some("serde") => serde_times(arg(1).expect("FILE"), arg(2).map_or(7, |n| n.parse().expect("RUNS"))),
        Some("argon2") => argon2_rate(
            arg(1).map_or(5.0, |s| s.parse().expect("SECONDS")),
            arg(2).map_or_else(
                || std::thread::available_parallelism().map_or(1, |n| n.get()),
                |t| t.parse().expect("THREADS"),
            ),
        ),
        Some("startup") => {
            let sep = args.iter().position(|a| a == "--").expect("-- CMD");
            startup(arg(1).expect("ADDR"), arg(2).expect("RUNS").parse().expect("RUNS"), &args[sep + 1..]);
        }
        _ => {
            eprintln!("usage: ceilings gen-trace FILE [POINTS] | serde FILE [RUNS] | argon2 [SECONDS] [THREADS] | startup ADDR RUNS -- CMD...");
            std::process::exit(2);
        }
    }
}

/// A 1 Hz run: a random walk from Paris with full-precision coordinates
/// (the slow case for float parsing), elevation and heart rate on every point.
fn gen_trace(path: &str, points: usize) {
    let start = Utc.with_ymd_and_hms(2026, 11, 28, 7, 0, 0).unwrap();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut lat, mut lon, mut ele) = (48.856_613_f64, 2.352_222_f64, 35.0_f64);
    let trace: Vec<TracePoint> = (0..points)
        .map(|i| {
            lat += (next() - 0.5) * 1e-4;
            lon += (next() - 0.5) * 1e-4;
            ele += (next() - 0.5) * 0.4;
            TracePoint {
                time: start + chrono::Duration::seconds(i as i64),
                lat,
                lon,
                elevation: Some((ele * 10.0).round() / 10.0),
                heart_rate: Some(120 + (next() * 60.0) as i32),
            }
        })
        .collect();
    let json = serde_json::to_vec(&trace).expect("serialise");
    std::fs::write(path, &json).expect("write the trace");
    println!("{{\"points\": {points}, \"bytes\": {}}}", json.len());
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// What the service does with a trace's JSON, minus HTTP and the database:
/// parse the upload into points, and serialise points into the answer.
fn serde_times(path: &str, runs: usize) {
    let json = std::fs::read(path).expect("read the trace");
    let (mut parse, mut ser) = (Vec::new(), Vec::new());
    let mut out_len = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let points: Vec<TracePoint> = serde_json::from_slice(&json).expect("a valid trace");
        parse.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let out = serde_json::to_vec(&points).expect("serialise");
        ser.push(t.elapsed().as_secs_f64() * 1e3);
        out_len = out.len();
        assert_eq!(points.len(), std::hint::black_box(points.len()));
    }
    let (p, s) = (median(parse), median(ser));
    println!(
        "{{\"bytes\": {}, \"out_bytes\": {out_len}, \"runs\": {runs}, \"parse_ms\": {p:.2}, \"serialize_ms\": {s:.2}, \"total_ms\": {:.2}}}",
        json.len(),
        p + s
    );
}

/// Sign-in verifies one Argon2id hash (`PasswordHash::new` + the crate's
/// `verify_password`), on `threads` threads for `seconds`. The hash is
/// `ARGON2_HASH` of `ARGON2_PASSWORD` when set (the benchmark passes a hash
/// Steward made, so the parameters are Steward's by construction), else one
/// made here at Steward's parameters (crates/api/src/auth/passwords.rs).
fn argon2_rate(seconds: f64, threads: usize) {
    use argon2::password_hash::rand_core::OsRng;
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};

    let (password, hash) = match (std::env::var("ARGON2_PASSWORD"), std::env::var("ARGON2_HASH")) {
        (Ok(password), Ok(hash)) => (password, hash),
        _ => {
            let password = "correct horse battery staple".to_owned();
            let params = Params::new(12 * 1024, 3, 1, None).expect("params");
            let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
                .expect("hash")
                .to_string();
            (password, hash)
        }
    };
    let (count, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (count, stop, hash, password) = (Arc::clone(&count), Arc::clone(&stop), hash.clone(), password.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let parsed = PasswordHash::new(&hash).expect("parse");
                    assert!(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok());
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = count.load(Ordering::Relaxed);
    println!(
        "{{\"threads\": {threads}, \"seconds\": {elapsed:.2}, \"hashes\": {n}, \"per_second\": {:.2}, \"ms_per_hash_per_thread\": {:.2}, \"params\": \"{}\"}}",
        n as f64 / elapsed,
        elapsed * 1e3 * threads as f64 / n.max(1) as f64,
        hash.split('$').nth(3).unwrap_or("?")
    );
}

/// One GET /readyz; true on a 200.
fn ready(addr: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    let mut got = 0;
    while got < 12 {
        match s.read(&mut buf[got..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got += n,
        }
    }
    buf.starts_with(b"HTTP/1.1 200")
}

/// From exec to the first 200 on /readyz, polling every 0.5 ms; the
/// process is then stopped with SIGTERM. Median of `runs`.
fn startup(addr: &str, runs: usize, cmd: &[String]) {
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let mut child = Command::new(&cmd[0])
            .args(&cmd[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("exec");
        let deadline = t + Duration::from_secs(10);
        let mut ok = false;
        while Instant::now() < deadline {
            if ready(addr) {
                ok = true;
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                eprintln!("the server exited during start-up: {status}");
                break;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let waited = Instant::now();
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if waited.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if !ok {
            eprintln!("no 200 on /readyz within 10 s");
            std::process::exit(1);
        }
        times.push(ms);
    }
    let all: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
    println!(
        "{{\"runs\": {}, \"median_ms\": {:.1}, \"all_ms\": [{}]}}",
        times.len(),
        median(times.clone()),
        all.join(", ")
    );
}
