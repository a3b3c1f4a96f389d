//! The sentence encoder: what embedding a prompt or a memory costs.
//!
//! `MSP_BENCH_MODEL_WHEEL=PATH cargo bench --bench embed` converts the
//! all-MiniLM-L6-v2 wheel, then times, in one process: mapping the encoder
//! file and embedding a prompt from a fresh mapping (what a hook pays), and
//! embedding prompts and memories of several lengths with the file mapped.
//! Results go to bench/results/embed.md.

use std::fmt::Write as _;
use std::time::Instant;

use msp::embed::{Encoder, convert, kernels};

const PROMPT: &str = "how do the sales people reach the file server from the road?";
const MEMORY: &str = "Backup job to the Synology NAS failed: Hyper Backup reported the destination volume full; \
pruned old versions and set rotation to 30 days. Then verified the Veeam agent on the file server and re-ran the \
nightly job, which completed in 42 minutes. The client asked for a monthly restore test, scheduled for the first Monday.";

fn median_ms(mut xs: Vec<f64>) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    (
        xs[xs.len() / 2],
        xs[(xs.len() * 95 / 100).min(xs.len() - 1)],
    )
}

fn time(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let xs = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    median_ms(xs)
}

fn main() {
    let wheel = std::env::var("MSP_BENCH_MODEL_WHEEL").expect(
        "MSP_BENCH_MODEL_WHEEL names the all-MiniLM-L6-v2 wheel (scripts/fetch-model prints it)",
    );
    let dir = std::env::temp_dir().join(format!("msp-bench-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("encoder.msp");
    let t = Instant::now();
    let bytes = std::fs::read(&wheel).unwrap();
    convert::convert(&convert::from_wheel(&bytes).unwrap(), &path).unwrap();
    let convert_s = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).unwrap().len();

    let cold = time(50, || {
        let e = Encoder::open(&path).unwrap();
        std::hint::black_box(e.embed(PROMPT).unwrap());
    });
    let open = time(50, || {
        std::hint::black_box(Encoder::open(&path).unwrap());
    });
    let e = Encoder::open(&path).unwrap();
    let words: Vec<&str> = MEMORY.split(' ').collect();
    let mut rows = Vec::new();
    for n in [8, 16, 32, 64] {
        let text = words
            .iter()
            .cycle()
            .take(n)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let tokens = e.token_ids(&text).unwrap().len();
        let (p50, p95) = time(50, || {
            std::hint::black_box(e.embed(&text).unwrap());
        });
        rows.push((n, tokens, p50, p95));
    }
    let prompt_tokens = e.token_ids(PROMPT).unwrap().len();

    // The int8 products of one encoder layer (its six linear maps, for a
    // 23-token prompt, as above), by each path this CPU has: what the SIMD
    // kernels buy, measured side by side.
    let (hidden, intermediate, tokens) = (384, 1536, 23);
    let fill = |n: usize, seed: usize| -> Vec<i8> {
        (0..n)
            .map(|i| ((i * 37 + seed * 11) % 255) as i16 - 127)
            .map(|v| v as i8)
            .collect()
    };
    let shapes = [
        (hidden, hidden),
        (hidden, hidden),
        (hidden, hidden),
        (hidden, hidden),
        (intermediate, hidden),
        (hidden, intermediate),
    ];
    let layer: Vec<(Vec<i8>, Vec<i8>, usize, usize)> = shapes
        .iter()
        .enumerate()
        .map(|(i, &(rows, cols))| (fill(tokens * cols, i), fill(rows * cols, i + 7), rows, cols))
        .collect();
    let mut paths = Vec::new();
    // Every path that fits the smaller width fits the larger (a multiple of it).
    for (name, path) in kernels::matmul_paths(hidden) {
        let (p50, p95) = time(200, || {
            for (x, w, rows, cols) in &layer {
                let mut out = vec![0i32; tokens * rows];
                path(x, w, *cols, &mut out);
                std::hint::black_box(&out);
            }
        });
        paths.push((name, p50, p95));
    }

    let mut out = String::new();
    writeln!(out, "# Sentence encoder (all-MiniLM-L6-v2, int8)\n").unwrap();
    writeln!(
        out,
        "- encoder file {:.1} MB, converted from the wheel in {convert_s:.1} s",
        size as f64 / 1e6
    )
    .unwrap();
    writeln!(
        out,
        "- one process, 50 runs each, milliseconds (median / p95)\n"
    )
    .unwrap();
    writeln!(out, "| what | tokens | p50 ms | p95 ms |").unwrap();
    writeln!(out, "| --- | ---: | ---: | ---: |").unwrap();
    writeln!(
        out,
        "| map the file and check it | - | {:.2} | {:.2} |",
        open.0, open.1
    )
    .unwrap();
    writeln!(
        out,
        "| map + embed a prompt (what a hook pays) | {prompt_tokens} | {:.2} | {:.2} |",
        cold.0, cold.1
    )
    .unwrap();
    for (n, tokens, p50, p95) in rows {
        writeln!(
            out,
            "| embed {n} words, mapped | {tokens} | {p50:.2} | {p95:.2} |"
        )
        .unwrap();
    }
    writeln!(
        out,
        "\nThe int8 products of one layer (six linear maps, {tokens} tokens), by path, 200 runs; the last is the one used:\n"
    )
    .unwrap();
    writeln!(out, "| path | p50 ms | p95 ms | vs portable |").unwrap();
    writeln!(out, "| --- | ---: | ---: | ---: |").unwrap();
    let portable = paths[0].1;
    for (name, p50, p95) in &paths {
        writeln!(
            out,
            "| {name} | {p50:.3} | {p95:.3} | {:.1}× |",
            portable / p50
        )
        .unwrap();
    }
    print!("{out}");
    std::fs::create_dir_all("bench/results").unwrap();
    std::fs::write("bench/results/embed.md", out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
