//! The replay benchmark: a generated gateway stream fed through the path a
//! bot uses (raw JSON -> serenity's parse -> the adapter -> the pipeline ->
//! the store) on each backend, against baselines measured in the same run.
//!
//! ```text
//! cargo run --release -p persist-benches --bin replay -- [--messages N] [--seed S]
//!     [--backends memory,sqlite,redb,sled,postgres,mysql] [--dir DIR] [--skip-floors]
//!     [--skip-serenity-cache] [--stall-store SECONDS] [--queue-budget-mib N]
//!     [--ingest-runs N]
//! ```
//!
//! Each phase runs in a child process of its own, so peak RSS is the
//! phase's. Phases: `parse` (serenity parsing the stream: the end-to-end
//! floor, measured first and last), `serenity-cache` (serenity's own
//! in-memory cache updated with the same events), `ingest:<backend>` (the
//! bot's path as a bot runs it: parse, the adapter, until durable; nothing
//! timed per event, the end-to-end figure), `ours:<backend>` (the same path
//! with each event's cost timed, its allocations counted and reads during
//! and after ingest), `store:<backend>` (the same
//! mutations applied to the store directly, no pipeline) and
//! `floor:<backend>` (the same rows written to the raw engine in
//! transactions of 1,000 rows, no layers of ours); with `--stall-store S`,
//! `stalled:<backend>` (the bot's path while the store commits nothing for
//! S seconds); for the servers (`postgres`, `mysql`, at `PERSIST_POSTGRES_URL`
//! and `PERSIST_MYSQL_URL`, by default the local test servers),
//! `pair:<backend>` (two processes at once, each ingesting the events of
//! its shard of two into one database).
//!
//! One phase alone, with the heap it holds over time on stderr and its
//! peak in the result (`--heap`: where a phase's memory goes):
//!
//! ```text
//! target/release/replay --child ingest:redb --input target/replay/traffic-1-1000000.jsonl \
//!     --dir target/replay --heap
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use persist_benches::traffic::{TrafficConfig, generate};
use persist_benches::{Reservoir, open_store, percentile};
use persist_core::gateway::{Applied, Session, to_mutations};
use persist_core::{
    Cache, CacheConfig, ChannelId, MessageId, MessagePage, Mutation, ReadApi, Record, Ruleset,
    Store,
};
use persist_serenity::Persist;
use serde_json::{Value, json};
use serenity::model::event::{Event, GatewayEvent};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Counts the allocations the current thread makes (for allocations per
/// event on the shard's path), then defers to the system allocator (or to
/// mimalloc with the `mimalloc` feature).
struct CountingAlloc;

#[cfg(not(feature = "mimalloc"))]
use std::alloc::System as Backing;

#[cfg(feature = "mimalloc")]
use mimalloc::MiMalloc as Backing;

thread_local! {
    static ALLOCATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// With `--heap`, the bytes the process holds allocated now and at most
/// (two shared atomics per allocation: off unless asked for).
static TRACK_HEAP: AtomicBool = AtomicBool::new(false);
// Signed: what was allocated before tracking started is freed during it.
static HEAP_NOW: AtomicI64 = AtomicI64::new(0);
static HEAP_PEAK: AtomicI64 = AtomicI64::new(0);

fn heap_grew(bytes: usize) {
    if TRACK_HEAP.load(Ordering::Relaxed) {
        let bytes = bytes as i64;
        let now = HEAP_NOW.fetch_add(bytes, Ordering::Relaxed) + bytes;
        HEAP_PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

fn heap_shrank(bytes: usize) {
    if TRACK_HEAP.load(Ordering::Relaxed) {
        HEAP_NOW.fetch_sub(bytes as i64, Ordering::Relaxed);
    }
}

// SAFETY: defers every call to the system allocator unchanged; the counter
// is a const-initialised thread-local Cell, which never allocates.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        heap_grew(layout.size());
        // SAFETY: the caller's contract is passed on as it is.
        unsafe { Backing.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        heap_shrank(layout.size());
        // SAFETY: as above.
        unsafe { Backing.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        heap_shrank(layout.size());
        heap_grew(size);
        // SAFETY: as above.
        unsafe { Backing.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

fn allocations() -> u64 {
    ALLOCATIONS.with(std::cell::Cell::get)
}

const BACKENDS: &[&str] = &["memory", "sqlite", "redb", "sled", "postgres", "mysql"];

/// Whether a backend is a database server (its store lives in a schema or
/// database named after the path, see `persist_benches::server_place`).
fn is_server(backend: &str) -> bool {
    matches!(backend, "postgres" | "mysql")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("--child") {
        child(&args[1..])
    } else {
        parent(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replay: {e}");
            ExitCode::FAILURE
        }
    }
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number(args: &[String], name: &str, default: u64) -> Result<u64, Error> {
    match flag(args, name) {
        Some(v) => v
            .replace('_', "")
            .parse()
            .map_err(|_| format!("{name} wants a number, got {v:?}").into()),
        None => Ok(default),
    }
}

// ---------------------------------------------------------------- parent

fn parent(args: &[String]) -> Result<(), Error> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "usage: replay [--messages N] [--seed S] [--backends memory,sqlite,redb,sled,postgres,mysql] [--dir DIR] [--skip-floors] [--skip-serenity-cache] [--stall-store SECONDS] [--queue-budget-mib N] [--ingest-runs N]"
        );
        return Ok(());
    }
    let messages = number(args, "--messages", 100_000)?;
    let seed = number(args, "--seed", 1)?;
    let backends: Vec<String> = flag(args, "--backends").map_or_else(
        || BACKENDS.iter().map(|b| (*b).to_owned()).collect(),
        |b| b.split(',').map(str::to_owned).collect(),
    );
    if let Some(bad) = backends.iter().find(|b| !BACKENDS.contains(&b.as_str())) {
        return Err(format!("unknown backend {bad:?}; known: {}", BACKENDS.join(", ")).into());
    }
    let dir = flag(args, "--dir").map_or_else(|| PathBuf::from("target/replay"), PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    let config = TrafficConfig::for_messages(messages, seed);
    let input = dir.join(format!("traffic-{seed}-{messages}.jsonl"));
    if !input.exists() {
        let started = Instant::now();
        let partial = input.with_extension("partial");
        let summary = generate(&config, File::create(&partial)?)?;
        std::fs::rename(&partial, &input)?;
        println!(
            "generated {} events ({} members, {} messages kept) in {:.1} s: {}",
            summary.events,
            summary.members,
            summary.messages_kept,
            started.elapsed().as_secs_f64(),
            input.display()
        );
    }
    println!(
        "stream: {} ({:.0} MiB), {messages} MESSAGE_CREATEs, {} guilds, largest {} members",
        input.display(),
        std::fs::metadata(&input)?.len() as f64 / 1_048_576.0,
        config.guilds,
        config.largest_guild
    );
    let mut phases = vec!["parse".to_owned()];
    if !args.iter().any(|a| a == "--skip-serenity-cache") {
        // It keeps everything in memory: about 3 GiB per million messages.
        phases.push("serenity-cache".to_owned());
    }
    let stall = number(args, "--stall-store", 0)?;
    let queue_budget_mib = number(
        args,
        "--queue-budget-mib",
        CacheConfig::default().queue_memory_budget as u64 >> 20,
    )?;
    // Uninstrumented runs per backend (the long streams take one).
    let ingest_runs = number(args, "--ingest-runs", 2)?;
    for b in &backends {
        // Measured before and after the instrumented run, as the floor is
        // (the best is reported, with every run).
        if ingest_runs > 0 {
            phases.push(format!("ingest:{b}"));
        }
        phases.push(format!("ours:{b}"));
        for _ in 1..ingest_runs {
            phases.push(format!("ingest:{b}"));
        }
        if stall > 0 {
            phases.push(format!("stalled:{b}"));
        }
        if b != "memory" && !args.iter().any(|a| a == "--skip-floors") {
            phases.push(format!("store:{b}"));
            phases.push(format!("floor:{b}"));
        }
        if is_server(b) && ingest_runs > 0 {
            // Two processes, a shard each of two, into one database.
            phases.push(format!("pair:{b}"));
        }
    }
    phases.push("parse".to_owned());
    let mut results: Vec<(String, Value)> = Vec::new();
    for phase in &phases {
        eprintln!("== {phase}");
        if let Some(backend) = phase.strip_prefix("pair:") {
            let value = pair(&input, &dir, backend, queue_budget_mib)?;
            eprintln!("   {value}");
            results.push((phase.clone(), value));
            continue;
        }
        let out = child_command(phase, &input, &dir, stall, queue_budget_mib)?.output()?;
        let value = child_result(phase, &out)?;
        eprintln!("   {value}");
        results.push((phase.clone(), value));
    }
    print_tables(&results, messages);
    Ok(())
}

/// The command that runs `phase` in a child process of this binary.
fn child_command(
    phase: &str,
    input: &Path,
    dir: &Path,
    stall: u64,
    queue_budget_mib: u64,
) -> Result<Command, Error> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(["--child", phase, "--input"])
        .arg(input)
        .arg("--dir")
        .arg(dir)
        .args(["--stall-store", &stall.to_string()])
        .args(["--queue-budget-mib", &queue_budget_mib.to_string()]);
    Ok(command)
}

/// What a child printed as its `RESULT`, or why it has none.
fn child_result(phase: &str, out: &std::process::Output) -> Result<Value, Error> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| {
            format!(
                "phase {phase} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    Ok(serde_json::from_str(line)?)
}

/// Two child processes ingesting the stream into one server database at
/// once, each the events of its shard of two (READY both); the total
/// events over the slower one's time.
fn pair(input: &Path, dir: &Path, backend: &str, queue_budget_mib: u64) -> Result<Value, Error> {
    let path = dir.join(format!("store-pair-{backend}"));
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(discard(backend, &path))?;
    let phases: Vec<String> = (0..2)
        .map(|shard| format!("half:{backend}:{shard}"))
        .collect();
    let mut children = Vec::new();
    for phase in &phases {
        children.push(
            child_command(phase, input, dir, 0, queue_budget_mib)?
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()?,
        );
    }
    let mut halves = Vec::new();
    for (phase, child) in phases.iter().zip(children) {
        halves.push(child_result(phase, &child.wait_with_output()?)?);
    }
    runtime.block_on(discard(backend, &path))?;
    let events: f64 = halves.iter().map(|h| f(h, "events")).sum();
    let seconds = halves.iter().map(|h| f(h, "seconds")).fold(0.0, f64::max);
    Ok(json!({
        "events": events, "seconds": seconds, "events_per_s": events / seconds,
        "halves": halves,
    }))
}

fn get<'a>(results: &'a [(String, Value)], phase: &str) -> Vec<&'a Value> {
    results
        .iter()
        .filter(|(p, _)| p == phase)
        .map(|(_, v)| v)
        .collect()
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

fn print_tables(results: &[(String, Value)], messages: u64) {
    let parses = get(results, "parse");
    // The better of the two parse runs is the floor (the machine is noisy).
    let floor = parses
        .iter()
        .map(|v| f(v, "events_per_s"))
        .fold(0.0, f64::max);
    let spread = parses
        .iter()
        .map(|v| f(v, "events_per_s"))
        .fold(f64::INFINITY, f64::min);
    let serenity_cache = get(results, "serenity-cache")
        .first()
        .map(|v| (*v).clone())
        .unwrap_or_default();
    println!();
    println!("## Replay at {messages} messages");
    println!();
    println!(
        "Floor: serenity 0.12.5 parsing the stream, {floor:.0} events/s (the two runs: {spread:.0} and {floor:.0}). serenity's own cache: {:.0} events/s, peak RSS {:.0} MiB.",
        f(&serenity_cache, "events_per_s"),
        f(&serenity_cache, "peak_rss_mib")
    );
    println!();
    println!(
        "| backend | events/s until durable (the two runs) | vs parse floor | vs serenity's cache | instrumented run: events/s (vs floor) | shard-path cost p50 / p99 | serenity's event clone p50 / p99 | allocations per event | peak RSS | on disk | messages stored | shed | point read p50 / p99 (during) | page read p50 / p99 (during) | point read p50 / p99 (after) | page read p50 / p99 (after) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (phase, v) in results.iter().filter(|(p, _)| p.starts_with("ours:")) {
        let backend = &phase[5..];
        let ingests: Vec<f64> = get(results, &format!("ingest:{backend}"))
            .iter()
            .map(|i| f(i, "events_per_s"))
            .collect();
        let eps = ingests.iter().copied().fold(f64::NAN, f64::max);
        let worse = ingests.iter().copied().fold(f64::NAN, f64::min);
        let instrumented = f(v, "events_per_s");
        println!(
            "| {backend} | {eps:.0} ({worse:.0}, {eps:.0}) | {:.2} | {:.2} | {instrumented:.0} ({:.2}) | {:.1} / {:.1} µs | {:.1} / {:.1} µs | {:.1} | {:.0} MiB | {:.0} MiB | {} | {} | {:.0} / {:.0} µs | {:.0} / {:.0} µs | {:.1} / {:.1} µs | {:.0} / {:.0} µs |",
            eps / floor,
            eps / f(&serenity_cache, "events_per_s"),
            instrumented / floor,
            f(v, "apply_p50_us"),
            f(v, "apply_p99_us"),
            f(v, "clone_p50_us"),
            f(v, "clone_p99_us"),
            f(v, "allocations_per_event"),
            f(v, "peak_rss_mib"),
            f(v, "disk_mib"),
            v["messages"],
            v["shed"],
            f(v, "during_point_p50_us"),
            f(v, "during_point_p99_us"),
            f(v, "during_page_p50_us"),
            f(v, "during_page_p99_us"),
            f(v, "after_point_p50_us"),
            f(v, "after_point_p99_us"),
            f(v, "after_page_p50_us"),
            f(v, "after_page_p99_us"),
        );
    }
    println!();
    println!(
        "Reads by tier: answered from memory by the hot tier (`Cache::hot()`, messages shared as `Arc`) or from the store (a miss, then admitted). The hit rate is of the random reads (a message among the last 10,000 tracked, and its channel's newest 50); the hot reads during ingest add, every millisecond, the newest tracked message and its channel's page when the hot tier holds them. Baseline, same run: serenity's own cache reading the newest tracked message the same way while it ingests, p50 / p99 {:.1} / {:.1} µs (its ingest has no writer thread beside it).",
        f(&serenity_cache, "during_point_p50_us"),
        f(&serenity_cache, "during_point_p99_us")
    );
    println!();
    println!(
        "| backend | hit rate (during) | hot point p50 / p99 (during) | hot page p50 / p99 (during) | cold point p50 / p99 (during) | cold page p50 / p99 (during) | hit rate (after) | hot point / page p99 (after) | cold point p50 / p99 (after) | cold page p50 / p99 (after) | hot tier at the end |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (phase, v) in results.iter().filter(|(p, _)| p.starts_with("ours:")) {
        let pair = |name: &str| {
            format!(
                "{:.1} / {:.1} µs",
                f(v, &format!("{name}_p50_us")),
                f(v, &format!("{name}_p99_us"))
            )
        };
        println!(
            "| {} | {:.2} | {} | {} | {} | {} | {:.2} | {:.1} / {:.1} µs | {} | {} | {:.0} MiB, {} channel windows |",
            &phase[5..],
            f(v, "during_hit_rate"),
            pair("during_hot_point"),
            pair("during_hot_page"),
            pair("during_cold_point"),
            pair("during_cold_page"),
            f(v, "after_hit_rate"),
            f(v, "after_hot_point_p99_us"),
            f(v, "after_hot_page_p99_us"),
            pair("after_cold_point"),
            pair("after_cold_page"),
            f(&v["hot"], "bytes") / (1 << 20) as f64,
            v["hot"]["channel_windows"],
        );
    }
    let stalled: Vec<_> = results
        .iter()
        .filter(|(p, _)| p.starts_with("stalled:"))
        .collect();
    if !stalled.is_empty() {
        println!();
        println!(
            "| backend | shard-path cost p50 / p99 while the store is stalled | events in the stall | shard-path cost p50 / p99 (whole run) | queue high water | shed |"
        );
        println!("|---|---|---|---|---|---|");
        for (phase, v) in stalled {
            println!(
                "| {} | {:.1} / {:.1} µs | {} | {:.1} / {:.1} µs | {} | {} |",
                &phase[8..],
                f(v, "stalled_apply_p50_us"),
                f(v, "stalled_apply_p99_us"),
                v["stalled_apply_samples"],
                f(v, "apply_p50_us"),
                f(v, "apply_p99_us"),
                v["queue_high_water"],
                v["shed"],
            );
        }
    }
    let floors: Vec<_> = results
        .iter()
        .filter(|(p, _)| p.starts_with("floor:"))
        .collect();
    if !floors.is_empty() {
        println!();
        println!("| backend | store path alone (rows/s) | raw engine floor (rows/s) | ratio |");
        println!("|---|---|---|---|");
        for (phase, floor) in floors {
            let backend = &phase[6..];
            if let Some(store) = get(results, &format!("store:{backend}")).first() {
                let (s, r) = (f(store, "rows_per_s"), f(floor, "rows_per_s"));
                println!("| {backend} | {s:.0} | {r:.0} | {:.2} |", s / r);
            }
        }
    }
    let pairs: Vec<_> = results
        .iter()
        .filter(|(p, _)| p.starts_with("pair:"))
        .collect();
    if !pairs.is_empty() {
        println!();
        println!(
            "| backend | one process, every shard: events/s until durable (best run) | two processes, a shard of two each, one database: total events/s | ratio | each process: events, seconds |"
        );
        println!("|---|---|---|---|---|");
        for (phase, pair) in pairs {
            let backend = &phase[5..];
            let one = get(results, &format!("ingest:{backend}"))
                .iter()
                .map(|v| f(v, "events_per_s"))
                .fold(0.0, f64::max);
            let two = f(pair, "events_per_s");
            let halves: Vec<String> = pair["halves"]
                .as_array()
                .map(|h| {
                    h.iter()
                        .map(|h| format!("{:.0} in {:.1} s", f(h, "events"), f(h, "seconds")))
                        .collect()
                })
                .unwrap_or_default();
            println!(
                "| {backend} | {one:.0} | {two:.0} | {:.2} | {} |",
                two / one,
                halves.join("; ")
            );
        }
    }
}

// ---------------------------------------------------------------- children

fn child(args: &[String]) -> Result<(), Error> {
    let phase = args.first().ok_or("--child wants a phase")?.clone();
    let input = PathBuf::from(flag(args, "--input").ok_or("--child wants --input")?);
    let dir = PathBuf::from(flag(args, "--dir").ok_or("--child wants --dir")?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let allocator = if cfg!(feature = "mimalloc") {
        "mimalloc"
    } else {
        "system"
    };
    if args.iter().any(|a| a == "--heap") {
        TRACK_HEAP.store(true, Ordering::Relaxed);
        // The heap over time, on stderr (where in a run the peak is).
        let started = Instant::now();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(2));
                eprintln!(
                    "heap {:>6.1} s {:>8.1} MiB (peak {:.1} MiB)",
                    started.elapsed().as_secs_f64(),
                    HEAP_NOW.load(Ordering::Relaxed) as f64 / 1_048_576.0,
                    HEAP_PEAK.load(Ordering::Relaxed) as f64 / 1_048_576.0
                );
            }
        });
    }
    let default_budget = CacheConfig::default().queue_memory_budget as u64 >> 20;
    let queue_budget = (number(args, "--queue-budget-mib", default_budget)? << 20) as usize;
    let mut result = match phase.split_once(':') {
        None if phase == "parse" => parse_floor(&input)?,
        None if phase == "serenity-cache" => serenity_cache(&input)?,
        Some(("ingest", backend)) => {
            runtime.block_on(ingest(&input, &dir, backend, queue_budget))?
        }
        Some(("ours", backend)) => {
            let reads = number(args, "--reads", 20_000)?;
            runtime.block_on(ours(&input, &dir, backend, reads, None, queue_budget))?
        }
        Some(("stalled", backend)) => {
            let stall = Duration::from_secs(number(args, "--stall-store", 10)?.max(1));
            runtime.block_on(ours(
                &input,
                &dir,
                backend,
                1_000,
                Some(stall),
                queue_budget,
            ))?
        }
        Some(("store", backend)) => store_path(&input, &dir, backend, &runtime)?,
        Some(("half", rest)) => {
            let (backend, shard) = rest.split_once(':').ok_or("half:<backend>:<shard>")?;
            runtime.block_on(half(&input, &dir, backend, shard.parse()?, queue_budget))?
        }
        Some(("floor", backend)) => floor(&input, &dir, backend)?,
        _ => return Err(format!("unknown phase {phase:?}").into()),
    };
    result["peak_rss_mib"] = json!(peak_rss_mib());
    if TRACK_HEAP.load(Ordering::Relaxed) {
        result["peak_heap_mib"] = json!(HEAP_PEAK.load(Ordering::Relaxed) as f64 / 1_048_576.0);
        result["heap_at_end_mib"] = json!(HEAP_NOW.load(Ordering::Relaxed) as f64 / 1_048_576.0);
    }
    result["allocator"] = json!(allocator);
    println!("RESULT {result}");
    Ok(())
}

fn lines(input: &Path) -> Result<impl Iterator<Item = std::io::Result<String>>, Error> {
    Ok(BufReader::with_capacity(1 << 20, File::open(input)?).lines())
}

fn parse(line: &str) -> Result<Event, Error> {
    match serde_json::from_str::<GatewayEvent>(line)? {
        GatewayEvent::Dispatch(_, event) => Ok(event),
        other => Err(format!("not a dispatch: {other:?}").into()),
    }
}

fn parse_floor(input: &Path) -> Result<Value, Error> {
    let started = Instant::now();
    let mut events = 0u64;
    for line in lines(input)? {
        std::hint::black_box(parse(&line?)?);
        events += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(json!({"events": events, "seconds": secs, "events_per_s": events as f64 / secs}))
}

fn serenity_cache(input: &Path) -> Result<Value, Error> {
    use serenity::cache::{Cache, CacheUpdate, Settings};
    let mut settings = Settings::default();
    // Keep messages as ours does (serenity keeps none by default).
    settings.max_messages = 1_000_000;
    let cache = Arc::new(Cache::new_with_settings(settings));
    // Baseline for our hot reads, same run: serenity's cache reading the
    // newest tracked message (every 64th created) every millisecond while
    // it ingests, through its getter (a reference, no copy).
    let newest: Arc<Mutex<Option<(serenity::all::ChannelId, serenity::all::MessageId)>>> =
        Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (cache, newest, stop) = (Arc::clone(&cache), Arc::clone(&newest), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut points = Reservoir::new(100_000, 11);
            while !stop.load(Ordering::Relaxed) {
                let target = newest.lock().ok().and_then(|n| *n);
                if let Some((channel, id)) = target {
                    let t = Instant::now();
                    let held = cache
                        .message(channel, id)
                        .map(std::hint::black_box)
                        .is_some();
                    let took = t.elapsed();
                    if held {
                        points.push(took);
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            points
        })
    };
    let started = Instant::now();
    let mut events = 0u64;
    let mut created = 0u64;
    for line in lines(input)? {
        let event = parse(&line?)?;
        if let Event::MessageCreate(m) = &event {
            created += 1;
            if created.is_multiple_of(64)
                && let Ok(mut n) = newest.lock()
            {
                *n = Some((m.message.channel_id, m.message.id));
            }
        }
        match event {
            Event::Ready(mut e) => drop(e.update(&cache)),
            Event::GuildCreate(mut e) => drop(e.update(&cache)),
            Event::GuildUpdate(mut e) => drop(e.update(&cache)),
            Event::GuildMembersChunk(mut e) => drop(e.update(&cache)),
            Event::GuildMemberUpdate(mut e) => drop(e.update(&cache)),
            Event::GuildRoleUpdate(mut e) => drop(e.update(&cache)),
            Event::ChannelCreate(mut e) => drop(e.update(&cache)),
            Event::ChannelUpdate(mut e) => drop(e.update(&cache)),
            Event::MessageCreate(mut e) => drop(e.update(&cache)),
            Event::MessageUpdate(mut e) => drop(e.update(&cache)),
            Event::PresenceUpdate(mut e) => drop(e.update(&cache)),
            // serenity 0.12.5's cache neither removes deleted messages nor
            // counts reactions: it does nothing with the rest.
            other => drop(std::hint::black_box(other)),
        }
        events += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let points = reader
        .join()
        .map_err(|_| "the serenity cache's reader panicked")?;
    let messages: usize = cache
        .guilds()
        .iter()
        .filter_map(|g| {
            cache
                .guild(*g)
                .map(|g| g.channels.keys().copied().collect::<Vec<_>>())
        })
        .flatten()
        .map(|c| cache.channel_messages(c).map_or(0, |m| m.len()))
        .sum();
    let mut out = json!({"events": events, "seconds": secs, "events_per_s": events as f64 / secs, "messages": messages});
    percentiles(points.into_vec(), "during_point", &mut out);
    Ok(out)
}

fn rules() -> Result<Ruleset, Error> {
    // The defaults (everything but presences), with room for every message.
    Ok(Ruleset::builder().message_cap(1_000_000).build()?)
}

async fn open(dir: &Path, backend: &str) -> Result<(Arc<dyn Store>, PathBuf), Error> {
    let path = dir.join(format!("store-{backend}"));
    discard(backend, &path).await?;
    Ok((open_store(backend, &path).await?, path))
}

/// Removes what a phase wrote: a server store's schema or database, an
/// embedded store's files.
async fn discard(backend: &str, path: &Path) -> Result<(), Error> {
    if is_server(backend) {
        persist_benches::drop_server_place(backend, path).await?;
    } else {
        remove(path);
    }
    Ok(())
}

fn disk_mib(path: &Path) -> f64 {
    fn size(p: &Path) -> u64 {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => std::fs::read_dir(p)
                .map(|d| d.filter_map(Result::ok).map(|e| size(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    let wal = |ext: &str| size(&PathBuf::from(format!("{}-{ext}", path.display())));
    (size(path) + wal("wal") + wal("shm")) as f64 / 1_048_576.0
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn percentiles(mut samples: Vec<Duration>, prefix: &str, out: &mut Value) {
    samples.sort_unstable();
    out[format!("{prefix}_p50_us")] = json!(us(percentile(&samples, 50.0)));
    out[format!("{prefix}_p99_us")] = json!(us(percentile(&samples, 99.0)));
    out[format!("{prefix}_samples")] = json!(samples.len());
}

/// The messages the reader picks from while ingesting: the latest of every
/// 64th created, at most 10,000.
type Recent = Arc<Mutex<std::collections::VecDeque<(MessageId, ChannelId)>>>;

/// Read latencies: every read as the bot sees it, and split into reads the
/// hot tier answered from memory (`Cache::hot()`) and reads that went to
/// the store.
struct ReadTimes {
    point: Reservoir<Duration>,
    page: Reservoir<Duration>,
    hot_point: Reservoir<Duration>,
    hot_page: Reservoir<Duration>,
    cold_point: Reservoir<Duration>,
    cold_page: Reservoir<Duration>,
}

impl ReadTimes {
    fn new(seed: u64) -> Self {
        let r = |n| Reservoir::new(100_000, seed * 10 + n);
        Self {
            point: r(1),
            page: r(2),
            hot_point: r(3),
            hot_page: r(4),
            cold_point: r(5),
            cold_page: r(6),
        }
    }

    fn report(self, prefix: &str, out: &mut Value) {
        let cold = self.cold_point.seen() + self.cold_page.seen();
        let all = self.point.seen() + self.page.seen();
        out[format!("{prefix}_hit_rate")] = json!(1.0 - cold as f64 / all.max(1) as f64);
        percentiles(self.point.into_vec(), &format!("{prefix}_point"), out);
        percentiles(self.page.into_vec(), &format!("{prefix}_page"), out);
        percentiles(
            self.hot_point.into_vec(),
            &format!("{prefix}_hot_point"),
            out,
        );
        percentiles(self.hot_page.into_vec(), &format!("{prefix}_hot_page"), out);
        percentiles(
            self.cold_point.into_vec(),
            &format!("{prefix}_cold_point"),
            out,
        );
        percentiles(
            self.cold_page.into_vec(),
            &format!("{prefix}_cold_page"),
            out,
        );
    }
}

/// One read: from memory if the hot tier holds it, else from the store.
async fn timed_read(
    persist: &Persist,
    query: &persist_core::Query,
    all: &mut Reservoir<Duration>,
    hot: &mut Reservoir<Duration>,
    cold: &mut Reservoir<Duration>,
) -> Result<(), Error> {
    let t = Instant::now();
    if hot_read(persist, query) {
        let took = t.elapsed();
        all.push(took);
        hot.push(took);
        return Ok(());
    }
    std::hint::black_box(persist.cache().read(query).await?);
    let took = t.elapsed();
    all.push(took);
    cold.push(took);
    Ok(())
}

/// A read from memory as a bot makes it, through the synchronous getters
/// (messages shared, not copied); whether the hot tier held the answer.
fn hot_read(persist: &Persist, query: &persist_core::Query) -> bool {
    let hot = persist.cache().hot();
    match *query {
        persist_core::Query::Message(id) => hot.message(id).map(std::hint::black_box).is_some(),
        persist_core::Query::ChannelMessages {
            channel_id,
            page,
            limit,
        } => hot
            .channel_messages(channel_id, page, limit)
            .map(std::hint::black_box)
            .is_some(),
        _ => persist
            .cache()
            .try_read(query)
            .map(std::hint::black_box)
            .is_some(),
    }
}

/// Reads the newest message and its channel's page from memory, recording
/// the reads the hot tier answers (the random reads measure the store);
/// whether the message was held.
fn newest_read(
    persist: &Persist,
    id: MessageId,
    channel: ChannelId,
    times: &mut ReadTimes,
) -> bool {
    let t = Instant::now();
    let point = persist_core::Query::Message(id);
    if !hot_read(persist, &point) {
        return false;
    }
    times.hot_point.push(t.elapsed());
    let t = Instant::now();
    let page = persist_core::Query::ChannelMessages {
        channel_id: channel,
        page: MessagePage::Latest,
        limit: 50,
    };
    if hot_read(persist, &page) {
        times.hot_page.push(t.elapsed());
    }
    true
}

async fn read_once(
    persist: &Persist,
    (id, channel): (MessageId, ChannelId),
    times: &mut ReadTimes,
) -> Result<(), Error> {
    let point = persist_core::Query::Message(id);
    timed_read(
        persist,
        &point,
        &mut times.point,
        &mut times.hot_point,
        &mut times.cold_point,
    )
    .await?;
    let page = persist_core::Query::ChannelMessages {
        channel_id: channel,
        page: MessagePage::Latest,
        limit: 50,
    };
    timed_read(
        persist,
        &page,
        &mut times.page,
        &mut times.hot_page,
        &mut times.cold_page,
    )
    .await
}

/// A store whose commits wait until a moment (a disk that stalls).
struct StalledStore {
    inner: Arc<dyn Store>,
    until: Instant,
}

#[async_trait::async_trait]
impl Store for StalledStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn apply(&self, batch: &[Mutation]) -> persist_core::Result<()> {
        tokio::time::sleep_until(self.until.into()).await;
        self.inner.apply(batch).await
    }

    async fn read(
        &self,
        query: &persist_core::Query,
    ) -> persist_core::Result<persist_core::Answer> {
        self.inner.read(query).await
    }

    async fn schema_version(&self) -> persist_core::Result<u32> {
        self.inner.schema_version().await
    }

    async fn applied_hooks(&self) -> persist_core::Result<Vec<persist_core::AppliedHook>> {
        self.inner.applied_hooks().await
    }

    async fn record_hook(&self, hook: &persist_core::AppliedHook) -> persist_core::Result<()> {
        self.inner.record_hook(hook).await
    }
}

/// The adapter over `store`, with the replay's ruleset and this queue budget.
fn persist_over(store: Arc<dyn Store>, queue_budget: usize) -> Result<Persist, Error> {
    let defaults = CacheConfig::default();
    let config = CacheConfig {
        queue_memory_budget: queue_budget,
        // The default budgets at the default queue budget; a larger queue
        // budget is added on top, so the hot tier keeps its default share
        // however large the queue is let grow (one budget: what the queue
        // holds, the hot tier gives up).
        memory_budget: defaults.memory_budget
            + queue_budget.saturating_sub(defaults.queue_memory_budget),
        // The runs measure until durable, however long the backlog takes.
        flush_timeout: Duration::from_secs(3600),
        ..defaults
    };
    Ok(Persist::new(Cache::from_arc(store, rules()?, config)?))
}

/// The bot's path over one backend as a bot runs it: nothing per event but
/// the parse and the adapter, then until durable.
async fn ingest(
    input: &Path,
    dir: &Path,
    backend: &str,
    queue_budget: usize,
) -> Result<Value, Error> {
    let (store, path) = open(dir, backend).await?;
    let persist = persist_over(store, queue_budget)?;
    let started = Instant::now();
    let mut events = 0u64;
    for line in lines(input)? {
        persist.apply_event(&parse(&line?)?);
        events += 1;
    }
    let ingest_secs = started.elapsed().as_secs_f64();
    persist.flush().await?;
    let secs = started.elapsed().as_secs_f64();
    let stats = persist.stats();
    let counts = persist.cache().counts().await?;
    persist.shutdown().await?;
    if backend != "memory" {
        discard(backend, &path).await?;
    }
    Ok(json!({
        "events": events, "seconds": secs, "events_per_s": events as f64 / secs,
        "ingest_seconds": ingest_secs, "messages": counts.messages,
        "failed": stats.gateway.failed_total(), "shed": stats.cache.shed,
    }))
}

/// One of two processes sharing a server database: the events of shard
/// `shard` of two (and every READY), ingested as `ingest` does.
async fn half(
    input: &Path,
    dir: &Path,
    backend: &str,
    shard: u32,
    queue_budget: usize,
) -> Result<Value, Error> {
    let path = dir.join(format!("store-pair-{backend}"));
    let store = persist_benches::open_server(backend, &path, shard..shard + 1, 2).await?;
    let persist = persist_over(store, queue_budget)?;
    // Which shard an event belongs to, read before the clock starts.
    let mine: Vec<bool> = lines(input)?
        .map(|line| {
            let frame: Value = serde_json::from_str(&line?)?;
            let d = &frame["d"];
            let guild = d["guild_id"]
                .as_str()
                .or_else(|| {
                    (frame["t"] == "GUILD_CREATE")
                        .then(|| d["id"].as_str())
                        .flatten()
                })
                .and_then(|g| g.parse::<u64>().ok());
            Ok(match guild {
                Some(g) => persist_core::shard_of(persist_core::GuildId::new(g), 2) == shard,
                None => frame["t"] == "READY" || shard == 0,
            })
        })
        .collect::<Result<_, Error>>()?;
    let started = Instant::now();
    let mut events = 0u64;
    for (line, mine) in lines(input)?.zip(mine) {
        let line = line?;
        if mine {
            persist.apply_event(&parse(&line)?);
            events += 1;
        }
    }
    persist.flush().await?;
    let secs = started.elapsed().as_secs_f64();
    let fenced = persist.stats().cache.fenced_mutations;
    persist.shutdown().await?;
    Ok(
        json!({"events": events, "seconds": secs, "events_per_s": events as f64 / secs, "fenced": fenced}),
    )
}

/// The bot's path over one backend; with `stall`, the store commits nothing
/// for that long after ingest starts (the shard-path cost while stalled is
/// reported apart).
async fn ours(
    input: &Path,
    dir: &Path,
    backend: &str,
    reads: u64,
    stall: Option<Duration>,
    queue_budget: usize,
) -> Result<Value, Error> {
    let (store, path) = open(dir, backend).await?;
    let stalled_until = stall.map(|s| Instant::now() + s);
    let store: Arc<dyn Store> = match stalled_until {
        Some(until) => Arc::new(StalledStore {
            inner: store,
            until,
        }),
        None => store,
    };
    let persist = persist_over(store, queue_budget)?;
    let mut stalled_costs = Reservoir::new(1_000_000, 10);
    let recent: Recent = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    // Reads while ingesting: a point and a page read every millisecond.
    let reader = {
        let (persist, recent, stop) = (persist.clone(), Arc::clone(&recent), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut times = ReadTimes::new(1);
            let mut rng = fastrand::Rng::with_seed(3);
            while !stop.load(Ordering::Relaxed) {
                let target = recent
                    .lock()
                    .ok()
                    .and_then(|r| (!r.is_empty()).then(|| r[rng.u64(..r.len() as u64) as usize]));
                if let Some(target) = target {
                    read_once(&persist, target, &mut times).await?;
                }
                // And the newest tracked message, as a bot reads the message
                // it was just told about: from memory when its channel is hot.
                let newest = recent.lock().ok().and_then(|r| r.back().copied());
                if let Some((id, channel)) = newest
                    && !newest_read(&persist, id, channel, &mut times)
                {
                    // Not held: read once (not timed) so its channel is hot.
                    persist
                        .cache()
                        .read(&persist_core::Query::Message(id))
                        .await?;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Ok::<_, Error>(times)
        })
    };
    // Bounded samples, so measuring does not grow memory with the run.
    let mut costs = Reservoir::new(1_000_000, 4);
    let mut created = Reservoir::new(100_000, 5);
    // The slowest events by name: the count of each above the p99 budget (5 µs).
    let mut slow: std::collections::BTreeMap<String, (u64, u64, u64)> = Default::default();
    let mut shard_allocations = 0u64;
    let mut clone_costs = Reservoir::new(1_000_000, 9);
    let started = Instant::now();
    for line in lines(input)? {
        let line = line?;
        let event = parse(&line)?;
        if let Event::MessageCreate(m) = &event {
            let target = (
                MessageId::new(m.message.id.get()),
                ChannelId::new(m.message.channel_id.get()),
            );
            created.push(target);
            if created.seen().is_multiple_of(64)
                && let Ok(mut r) = recent.lock()
            {
                if r.len() == 10_000 {
                    r.pop_front();
                }
                r.push_back(target);
            }
        }
        // The shard's cost: what the collector does with the event.
        // Baseline, same run: serenity cloning the event (what a collector
        // that queued events for later would pay at least), on one event in
        // eight so that measuring it does not slow the ingest much.
        if costs.seen().is_multiple_of(8) {
            let t = Instant::now();
            let copy = std::hint::black_box(event.clone());
            clone_costs.push(t.elapsed());
            drop(copy);
        }
        let allocated = allocations();
        let t = Instant::now();
        persist.apply_event(&event);
        let cost = t.elapsed();
        let event_allocations = allocations() - allocated;
        shard_allocations += event_allocations;
        costs.push(cost);
        if stalled_until.is_some_and(|until| Instant::now() < until) {
            stalled_costs.push(cost);
        }
        let name = line
            .split_once("\"t\":\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map_or("?", |(name, _)| name);
        if !slow.contains_key(name) {
            slow.insert(name.to_owned(), Default::default());
        }
        let entry = slow.get_mut(name).ok_or("an event name went missing")?;
        entry.0 += 1;
        entry.2 += event_allocations;
        if cost > Duration::from_micros(5) {
            entry.1 += 1;
        }
    }
    let ingest_secs = started.elapsed().as_secs_f64();
    persist.flush().await?;
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let during = reader.await??;
    // Reads after ingest, over a sample of every message created (deleted
    // ones answer None, as they would for a bot).
    let created = created.into_vec();
    let mut after = ReadTimes::new(2);
    let mut rng = fastrand::Rng::with_seed(8);
    for _ in 0..reads {
        let target = created[rng.u64(..created.len() as u64) as usize];
        read_once(&persist, target, &mut after).await?;
    }
    let stats = persist.stats();
    let counts = persist.cache().counts().await?;
    persist.shutdown().await?;
    let events = costs.seen();
    let mut out = json!({
        "events": events, "seconds": secs, "events_per_s": events as f64 / secs,
        "messages": counts.messages, "members": counts.members,
        "failed": stats.gateway.failed_total(), "recovered": stats.gateway.recovered,
        "disk_mib": disk_mib(&path),
        "allocations_per_event": shard_allocations as f64 / events as f64,
        "ingest_seconds": ingest_secs,
    });
    percentiles(costs.into_vec(), "apply", &mut out);
    percentiles(clone_costs.into_vec(), "clone", &mut out);
    out["shed"] = json!(stats.cache.shed);
    out["queue_high_water"] = json!(stats.cache.queue_high_water);
    if stall.is_some() {
        percentiles(stalled_costs.into_vec(), "stalled_apply", &mut out);
    }
    out["by_event"] = json!(
        slow.into_iter()
            .map(|(name, (n, over, allocations))| {
                let per_event = allocations as f64 / n as f64;
                (
                    name,
                    json!({"events": n, "over_5us": over, "allocations_per_event": per_event}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
    );
    during.report("during", &mut out);
    after.report("after", &mut out);
    out["hot"] = json!({
        "bytes": stats.cache.hot.bytes, "hits": stats.cache.hot.hits,
        "misses": stats.cache.hot.misses, "channel_windows": stats.cache.hot.channel_windows,
    });
    if backend != "memory" {
        discard(backend, &path).await?;
    }
    Ok(out)
}

/// The stream's mutations, 10,000 events at a time, as the adapter makes them.
fn mutation_chunks(
    input: &Path,
    mut each: impl FnMut(Vec<Mutation>) -> Result<(), Error>,
) -> Result<(), Error> {
    let rules = rules()?;
    let now = std::time::SystemTime::now();
    let mut session = Session::default();
    let mut chunk = Vec::new();
    for (n, line) in lines(input)?.enumerate() {
        let frame: Value = serde_json::from_str(&line?)?;
        let event = frame["t"].as_str().unwrap_or_default();
        if event == "READY" {
            session.current_user = serde_json::from_value(frame["d"]["user"]["id"].clone()).ok();
        }
        if let Ok(Applied::Mutations(ms)) = to_mutations(event, &frame["d"], &session) {
            chunk.extend(ms.into_iter().filter_map(|m| rules.filter(m, now)));
        }
        if n % 10_000 == 9_999 {
            each(std::mem::take(&mut chunk))?;
        }
    }
    each(chunk)
}

/// Mutations per store batch and rows per raw-floor transaction: the
/// cache's default `batch_size`, so both sides commit as often.
const BATCH: usize = 1_000;

/// The store alone: the stream's mutations applied in batches of [`BATCH`]
/// (only the applies are timed).
fn store_path(
    input: &Path,
    dir: &Path,
    backend: &str,
    runtime: &tokio::runtime::Runtime,
) -> Result<Value, Error> {
    let (store, path) = runtime.block_on(open(dir, backend))?;
    let (mut rows, mut commits, mut timed) = (0u64, 0u64, Duration::ZERO);
    mutation_chunks(input, |chunk| {
        rows += chunk.iter().map(|m| rows_of(m).len() as u64).sum::<u64>();
        let started = Instant::now();
        for batch in chunk.chunks(BATCH) {
            runtime.block_on(store.apply(batch))?;
            commits += 1;
        }
        timed += started.elapsed();
        Ok(())
    })?;
    drop(store);
    let result = rows_result(rows, commits, timed, &path);
    if is_server(backend) {
        runtime.block_on(discard(backend, &path))?;
    }
    Ok(result)
}

/// A timed write phase's result; removes what it wrote.
fn rows_result(rows: u64, commits: u64, timed: Duration, path: &Path) -> Value {
    let disk = disk_mib(path);
    remove(path);
    let secs = timed.as_secs_f64();
    json!({"rows": rows, "commits": commits, "seconds": secs, "rows_per_s": rows as f64 / secs, "disk_mib": disk})
}

/// Removes a store: its file or folder, and SQLite's `-wal` and `-shm`.
fn remove(path: &Path) {
    let _ = std::fs::remove_dir_all(path).or_else(|_| std::fs::remove_file(path));
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// The rows a mutation writes whole (what the raw floor writes).
fn rows_of(m: &Mutation) -> Vec<&Record> {
    match m {
        Mutation::Upsert(r) => vec![&**r],
        Mutation::UpsertMany(rs) => rs.iter().collect(),
        _ => Vec::new(),
    }
}

/// An engine written to directly.
enum RawEngine {
    Sqlite(rusqlite::Connection),
    Redb(redb::Database),
    Sled(sled::Db),
    /// PostgreSQL: COPY into a staging table, one upsert from it.
    Postgres(tokio::runtime::Runtime, sqlx::PgConnection),
    /// MySQL: one multi-row `INSERT ... ON DUPLICATE KEY UPDATE`.
    MySql(tokio::runtime::Runtime, sqlx::MySqlConnection),
}

/// A key/value table on a server, fresh, in the floor's own schema or
/// database (the place of `path`).
fn raw_server(backend: &str, path: &Path) -> Result<RawEngine, Error> {
    use sqlx::Connection as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let place = persist_benches::server_place(path);
    let url = persist_benches::server_url(backend);
    let script = |sql: String| sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
    runtime.block_on(persist_benches::drop_server_place(backend, path))?;
    Ok(if backend == "postgres" {
        let mut conn = runtime.block_on(sqlx::PgConnection::connect(&url))?;
        runtime.block_on(
            script(format!(
                "CREATE SCHEMA {place}; SET search_path = {place}; \
                 CREATE TABLE floor_rows (key text PRIMARY KEY, value json NOT NULL); \
                 CREATE TEMP TABLE staging (key text, value json) ON COMMIT DELETE ROWS;"
            ))
            .execute(&mut conn),
        )?;
        RawEngine::Postgres(runtime, conn)
    } else {
        let mut conn = runtime.block_on(sqlx::MySqlConnection::connect(&url))?;
        runtime.block_on(
            script(format!(
                "CREATE DATABASE {place}; USE {place}; \
                 CREATE TABLE floor_rows (k VARCHAR(128) PRIMARY KEY, v JSON NOT NULL) ENGINE = InnoDB;"
            ))
            .execute(&mut conn),
        )?;
        RawEngine::MySql(runtime, conn)
    })
}

/// COPY's text format: a backslash doubled (JSON escapes tabs and newlines).
fn copy_text(out: &mut String, text: &str) {
    for c in text.chars() {
        if c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
}

const ROWS: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("rows");

impl RawEngine {
    fn open(backend: &str, path: &Path) -> Result<Self, Error> {
        Ok(match backend {
            "sqlite" => {
                let conn = rusqlite::Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn.execute(
                    "CREATE TABLE floor_rows (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
                    [],
                )?;
                Self::Sqlite(conn)
            }
            "redb" => Self::Redb(redb::Database::create(path)?),
            "sled" => Self::Sled(sled::Config::new().path(path).flush_every_ms(None).open()?),
            "postgres" | "mysql" => raw_server(backend, path)?,
            other => return Err(format!("no raw floor for {other}").into()),
        })
    }

    /// One durable transaction.
    fn write(&mut self, pairs: &[(Vec<u8>, Vec<u8>)]) -> Result<(), Error> {
        match self {
            Self::Sqlite(conn) => {
                let tx = conn.transaction()?;
                {
                    let mut insert = tx.prepare_cached(
                        "INSERT OR REPLACE INTO floor_rows (key, value) VALUES (?1, ?2)",
                    )?;
                    for (k, v) in pairs {
                        insert.execute((k, v))?;
                    }
                }
                tx.commit()?;
            }
            Self::Redb(db) => {
                let tx = db.begin_write()?;
                {
                    let mut table = tx.open_table(ROWS)?;
                    for (k, v) in pairs {
                        table.insert(k.as_slice(), v.as_slice())?;
                    }
                }
                tx.commit()?;
            }
            Self::Sled(db) => {
                let mut batch = sled::Batch::default();
                for (k, v) in pairs {
                    batch.insert(k.as_slice(), v.as_slice());
                }
                db.apply_batch(batch)?;
                db.flush()?;
            }
            Self::Postgres(runtime, conn) => runtime.block_on(async {
                let mut text = String::new();
                for (k, v) in pairs {
                    copy_text(&mut text, std::str::from_utf8(k)?);
                    text.push('\t');
                    copy_text(&mut text, std::str::from_utf8(v)?);
                    text.push('\n');
                }
                sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
                let mut copy = conn.copy_in_raw("COPY staging FROM STDIN").await?;
                copy.send(text.into_bytes()).await?;
                copy.finish().await?;
                sqlx::raw_sql(
                    "INSERT INTO floor_rows SELECT DISTINCT ON (key) key, value FROM staging \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value; COMMIT",
                )
                .execute(&mut *conn)
                .await?;
                Ok::<_, Error>(())
            })?,
            Self::MySql(runtime, conn) => runtime.block_on(async {
                let sql = format!(
                    "INSERT INTO floor_rows (k, v) VALUES {} ON DUPLICATE KEY UPDATE v = VALUES(v)",
                    vec!["(?, ?)"; pairs.len()].join(", ")
                );
                let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (k, v) in pairs {
                    insert = insert.bind(k.as_slice()).bind(std::str::from_utf8(v)?);
                }
                sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
                insert.execute(&mut *conn).await?;
                sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
                Ok::<_, Error>(())
            })?,
        }
        Ok(())
    }
}

/// The raw engine: the stream's upserted rows as key/value pairs (the
/// entity key, the record as MessagePack), in transactions of [`BATCH`] rows
/// (only the writes are timed).
fn floor(input: &Path, dir: &Path, backend: &str) -> Result<Value, Error> {
    let path = dir.join(format!("floor-{backend}"));
    remove(&path);
    let mut engine = RawEngine::open(backend, &path)?;
    let (mut rows, mut commits, mut timed) = (0u64, 0u64, Duration::ZERO);
    mutation_chunks(input, |chunk| {
        let mut pairs = Vec::new();
        for m in &chunk {
            for r in rows_of(m) {
                // A server's rows hold the object as JSON, as the store's do.
                let value = if is_server(backend) {
                    let mut json = Vec::new();
                    persist_sql::write_object(r, &mut json)?;
                    json
                } else {
                    persist_kv::codec::encode_record(r)?
                };
                pairs.push((format!("{:?}", r.key()).into_bytes(), value));
            }
        }
        rows += pairs.len() as u64;
        let started = Instant::now();
        for part in pairs.chunks(BATCH) {
            engine.write(part)?;
            commits += 1;
        }
        timed += started.elapsed();
        Ok(())
    })?;
    drop(engine);
    let result = rows_result(rows, commits, timed, &path);
    if is_server(backend) {
        tokio::runtime::Runtime::new()?.block_on(discard(backend, &path))?;
    }
    Ok(result)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
