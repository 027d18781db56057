//! Tiering benchmarks (a bench binary that prints tables; `cargo bench --bench tiering`):
//! - tier_down_all / tier_up_all wall time on the largest module (samples/big.wasm),
//!   first time (compiling) and again (cached code);
//! - a warm-up curve: time per call of a repeated kernel under dynamic tiering,
//!   showing the switch from baseline to optimized code.

use std::time::{Duration, Instant};
use wdb::wasi::WasiCtx;
use wdb::*;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn big_instance(engine: &Engine) -> (Store<WasiCtx>, Instance, usize) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/big.wasm");
    let module = Module::from_file(engine, path).expect("samples/big.wasm");
    let code = module.info().code_section_size;
    let mut store = Store::new(engine, WasiCtx::new());
    let mut linker = Linker::new();
    wdb::wasi::add_to_linker(&mut linker, &mut store, |w| w).unwrap();
    let inst = linker.instantiate(&mut store, &module).unwrap();
    (store, inst, code)
}

fn main() {
    let runs = 5;
    println!("## Tier switches on samples/big.wasm (median of {runs} fresh engines)\n");
    let (mut down1, mut down2, mut up1, mut up2) = (vec![], vec![], vec![], vec![]);
    let mut eager = vec![];
    let mut info = (0, 0);
    for _ in 0..runs {
        let engine = Engine::new(Config {
            strategy: Strategy::Dynamic,
            ..Config::default()
        })
        .unwrap();
        let (store, inst, code) = big_instance(&engine);
        let t = inst.tiering(&store);
        // Eager first on a throwaway instance of the same module would warm the
        // cache; measure it on its own engine instead.
        {
            let e2 = Engine::new(Config {
                strategy: Strategy::Dynamic,
                ..Config::default()
            })
            .unwrap();
            let (s2, i2, _) = big_instance(&e2);
            eager.push(i2.tiering(&s2).tier_down_all_eager().unwrap().time);
        }
        let s = t.tier_down_all().unwrap();
        info = (s.functions, code);
        down1.push(s.time);
        let t0 = Instant::now();
        t.tier_up_all();
        assert!(t.wait_all(Tier::Optimized, Duration::from_secs(600)));
        up1.push(t0.elapsed());
        down2.push(t.tier_down_all().unwrap().time);
        let t0 = Instant::now();
        t.tier_up_all();
        assert!(t.wait_all(Tier::Optimized, Duration::from_secs(60)));
        up2.push(t0.elapsed());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "functions: {}, code section: {} bytes, cores: {}\n",
        info.0,
        info.1,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| switch | first time (compiles) | again (cached code) |");
    println!("|---|---:|---:|");
    println!(
        "| tier_down_all (lazy: stubs compile debug code on first call) | {:.2} ms | {:.2} ms |",
        ms(median(down1)),
        ms(median(down2))
    );
    println!(
        "| tier_down_all_eager (all debug code compiled now, {} threads) | {:.1} ms | — |",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        ms(median(eager))
    );
    println!(
        "| tier_up_all until all optimized (background pool) | {:.0} ms | {:.2} ms |",
        ms(median(up1)),
        ms(median(up2))
    );

    println!(
        "\n## Warm-up curve: fib(16) called repeatedly under --tier dynamic (default budget)\n"
    );
    let engine = Engine::new(Config {
        strategy: Strategy::Dynamic,
        ..Config::default()
    })
    .unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/fib.wat");
    let module = Module::from_file(&engine, path).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let fib = inst.get_func(&store, "fib").unwrap();
    let tiering = inst.tiering(&store);
    println!("| call | µs | tier after the call |");
    println!("|---:|---:|---|");
    let mut last = String::new();
    for i in 1..=400 {
        let mut r = [Val::I32(0)];
        let t0 = Instant::now();
        fib.call(&mut store, &[Val::I32(16)], &mut r).unwrap();
        let dt = t0.elapsed();
        let tier = tiering
            .functions()
            .iter()
            .map(|f| f.tier.name())
            .collect::<Vec<_>>()
            .join(",");
        // The first calls, every call where the tier changed, then a sample.
        if i <= 5 || tier != last || i % 100 == 0 {
            println!("| {i} | {:.1} | {tier} |", dt.as_secs_f64() * 1e6);
        }
        last = tier;
    }
}
