//! Linear memory growth through `memory.grow` (DESIGN.md §3.2): the base never
//! moves, data survives growth, sizes and failure results follow the spec, and
//! host views see what wasm writes. Every test runs in the baseline and debug tiers.

use wdb::*;

const TIERS: [Strategy; 2] = [Strategy::Baseline, Strategy::Debug];
const PAGE: u64 = 65536;

const WAT: &str = r#"(module
  (memory (export "mem") 1)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "size") (result i32) memory.size)
  (func (export "ld") (param i32) (result i32) local.get 0 i32.load)
  (func (export "ld8") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "st") (param i32 i32) local.get 0 local.get 1 i32.store)
  ;; Grows one page at a time, `n` times; returns how many grows returned the
  ;; expected old size.
  (func (export "grow_loop") (param $n i32) (result i32) (local $ok i32) (local $before i32)
    block $done
      loop $l
        local.get $n
        i32.eqz
        br_if $done
        memory.size
        local.set $before
        i32.const 1
        memory.grow
        local.get $before
        i32.eq
        local.get $ok
        i32.add
        local.set $ok
        local.get $n
        i32.const 1
        i32.sub
        local.set $n
        br $l
      end
    end
    local.get $ok))"#;

struct Setup {
    store: Store<()>,
    inst: Instance,
    tier: Strategy,
}

fn setup(tier: Strategy, wat: &str) -> Setup {
    let engine = Engine::new(Config {
        strategy: tier,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    Setup { store, inst, tier }
}

impl Setup {
    fn call(&mut self, name: &str, args: &[Val]) -> Vec<Val> {
        let f = self.inst.get_func(&self.store, name).unwrap();
        let ty = f.ty(&self.store).unwrap();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        let tier = self.tier;
        f.call(&mut self.store, args, &mut results)
            .unwrap_or_else(|e| panic!("[{tier:?}] {name}{args:?}: {e}"));
        results
    }

    fn i32(&mut self, name: &str, args: &[Val]) -> i32 {
        self.call(name, args).first().and_then(|v| v.i32()).unwrap()
    }

    fn grow(&mut self, delta: i32) -> i32 {
        self.i32("grow", &[Val::I32(delta)])
    }

    fn size(&mut self) -> i32 {
        self.i32("size", &[])
    }

    fn ld(&mut self, addr: u64) -> i32 {
        self.i32("ld", &[Val::I32(addr as u32 as i32)])
    }

    fn st(&mut self, addr: u64, v: i32) {
        self.call("st", &[Val::I32(addr as u32 as i32), Val::I32(v)]);
    }

    fn mem(&self) -> Memory {
        self.inst
            .get_memory(&self.store, "mem")
            .expect("exported memory")
    }
}

fn marker(step: u64, end: bool) -> i32 {
    (0x5a00_0000 + step as i32 * 2 + end as i32) ^ 0x0f0f
}

#[test]
fn grow_to_one_gib_in_steps() {
    const STEP: u64 = 1024;
    const TARGET: u64 = 16384;
    for tier in TIERS {
        let mut s = setup(tier, WAT);
        let mem = s.mem();
        let base = mem.base_ptr(&s.store);
        assert!(!base.is_null());
        s.st(0, marker(0, false));
        s.st(PAGE - 4, marker(0, true));
        let mut regions = vec![(0u64, PAGE)];
        let mut pages = 1u64;
        let mut step = 1u64;
        while pages < TARGET + 1 {
            let old = s.grow(STEP as i32);
            assert_eq!(
                old as u64, pages,
                "[{tier:?}] memory.grow returns the old size"
            );
            pages += STEP;
            assert_eq!(
                s.size() as u64,
                pages,
                "[{tier:?}] memory.size after growth"
            );
            assert_eq!(mem.pages(&s.store), pages, "[{tier:?}] Memory::pages");
            assert_eq!(
                mem.data(&s.store).len() as u64,
                pages * PAGE,
                "[{tier:?}] host view length"
            );
            assert_eq!(
                mem.base_ptr(&s.store),
                base,
                "[{tier:?}] base moved at {pages} pages"
            );
            let (start, end) = (old as u64 * PAGE, pages * PAGE);
            // Fresh pages are zero, then get their markers.
            assert_eq!(s.ld(start), 0, "[{tier:?}] fresh page not zero");
            assert_eq!(s.ld(end - 4), 0, "[{tier:?}] fresh page not zero");
            s.st(start, marker(step, false));
            s.st(end - 4, marker(step, true));
            regions.push((start, end));
            // Every marker written so far is still there.
            for (k, &(a, b)) in regions.iter().enumerate() {
                assert_eq!(
                    s.ld(a),
                    marker(k as u64, false),
                    "[{tier:?}] marker at {a:#x} after growth to {pages} pages"
                );
                assert_eq!(
                    s.ld(b - 4),
                    marker(k as u64, true),
                    "[{tier:?}] marker at {:#x}",
                    b - 4
                );
            }
            // One past the end still traps.
            let f = s.inst.get_func(&s.store, "ld8").unwrap();
            let mut r = [Val::I32(0)];
            let e = f
                .call(&mut s.store, &[Val::I32(end as u32 as i32)], &mut r)
                .unwrap_err();
            assert_eq!(
                e.as_trap_code(),
                Some(TrapCode::MemoryOutOfBounds),
                "[{tier:?}] {e}"
            );
            step += 1;
        }
        assert!(pages * PAGE >= 1 << 30);
        // memory.grow(0) returns the size and changes nothing.
        assert_eq!(s.grow(0) as u64, pages);
        assert_eq!(s.size() as u64, pages);
        // The host view sees the markers wasm wrote, at the same addresses.
        let data = mem.data(&s.store);
        for (k, &(a, b)) in regions.iter().enumerate() {
            let at =
                |p: u64| i32::from_le_bytes(data[p as usize..p as usize + 4].try_into().unwrap());
            assert_eq!(at(a), marker(k as u64, false));
            assert_eq!(at(b - 4), marker(k as u64, true));
        }
        assert_eq!(mem.base_ptr(&s.store), base);
    }
}

#[test]
fn grow_one_page_at_a_time_from_wasm() {
    for tier in TIERS {
        let mut s = setup(tier, WAT);
        let base = s.mem().base_ptr(&s.store);
        s.st(8, 1234);
        assert_eq!(s.i32("grow_loop", &[Val::I32(300)]), 300, "[{tier:?}]");
        assert_eq!(s.size(), 301);
        assert_eq!(s.ld(8), 1234);
        assert_eq!(s.mem().base_ptr(&s.store), base);
        s.st(301 * PAGE - 4, 77);
        assert_eq!(s.ld(301 * PAGE - 4), 77);
    }
}

#[test]
fn grow_past_declared_maximum_fails() {
    let wat = WAT.replace(
        "(memory (export \"mem\") 1)",
        "(memory (export \"mem\") 2 5)",
    );
    for tier in TIERS {
        let mut s = setup(tier, &wat);
        assert_eq!(s.size(), 2);
        assert_eq!(s.grow(4), -1, "[{tier:?}] 2 + 4 pages > maximum 5");
        assert_eq!(s.size(), 2, "[{tier:?}] failed growth changes nothing");
        assert_eq!(s.grow(3), 2);
        assert_eq!(s.size(), 5);
        assert_eq!(s.grow(1), -1, "[{tier:?}] past the maximum");
        assert_eq!(s.grow(-1), -1, "[{tier:?}] 0xffffffff pages");
        assert_eq!(s.grow(i32::MIN), -1);
        assert_eq!(s.grow(0), 5, "[{tier:?}] grow(0) at the maximum");
        assert_eq!(s.size(), 5);
        s.st(5 * PAGE - 4, 9);
        assert_eq!(s.ld(5 * PAGE - 4), 9);
        // The host API follows the same limit.
        let mem = s.mem();
        assert_eq!(mem.grow(&mut s.store, 1), None);
        assert_eq!(mem.grow(&mut s.store, 0), Some(5));
    }
    let zero = WAT.replace(
        "(memory (export \"mem\") 1)",
        "(memory (export \"mem\") 0 0)",
    );
    for tier in TIERS {
        let mut s = setup(tier, &zero);
        assert_eq!(s.size(), 0);
        assert_eq!(s.grow(0), 0);
        assert_eq!(s.grow(1), -1);
        assert!(s.mem().data(&s.store).is_empty());
    }
}

#[test]
fn grow_past_4_gib_fails() {
    for tier in TIERS {
        let mut s = setup(tier, WAT);
        let base = s.mem().base_ptr(&s.store);
        assert_eq!(s.grow(65536), -1, "[{tier:?}] 1 + 65536 pages > 65536");
        assert_eq!(s.grow(-1), -1);
        assert_eq!(s.size(), 1);
        assert_eq!(s.grow(65535), 1, "[{tier:?}] growing to exactly 4 GiB");
        assert_eq!(s.size() as u32, 65536);
        assert_eq!(s.grow(1), -1, "[{tier:?}] past 65536 pages");
        assert_eq!(s.grow(0) as u32, 65536);
        assert_eq!(s.mem().base_ptr(&s.store), base);
        // The very last word of a 4 GiB memory is addressable.
        let last = (1u64 << 32) - 4;
        assert_eq!(s.ld(last), 0);
        s.st(last, -7);
        assert_eq!(s.ld(last), -7);
        assert_eq!(s.i32("ld8", &[Val::I32(-1)]), 0xff);
        assert_eq!(s.mem().data(&s.store).len() as u64, 1 << 32);
    }
}

#[test]
fn host_views_see_wasm_writes() {
    for tier in TIERS {
        let mut s = setup(tier, WAT);
        let mem = s.mem();
        s.st(16, 0x1122_3344);
        s.st(PAGE - 4, -1);
        {
            let data = mem.data(&s.store);
            assert_eq!(data.len() as u64, PAGE);
            assert_eq!(&data[16..20], &[0x44, 0x33, 0x22, 0x11]);
            assert_eq!(&data[PAGE as usize - 4..], &[0xff; 4]);
        }
        // Host writes are visible to wasm.
        mem.data_mut(&mut s.store)[100..104].copy_from_slice(&0x0bad_cafe_u32.to_le_bytes());
        assert_eq!(s.ld(100), 0x0bad_cafe);
        // Growth from wasm shows in a new host view; the old bytes are kept.
        assert_eq!(s.grow(2), 1);
        assert_eq!(mem.data(&s.store).len() as u64, 3 * PAGE);
        assert_eq!(&mem.data(&s.store)[16..20], &[0x44, 0x33, 0x22, 0x11]);
        // Growth from the host shows in wasm.
        assert_eq!(mem.grow(&mut s.store, 1), Some(3));
        assert_eq!(s.size(), 4);
        mem.data_mut(&mut s.store)[4 * PAGE as usize - 1] = 0x5c;
        assert_eq!(s.i32("ld8", &[Val::I32(4 * PAGE as i32 - 1)]), 0x5c);
        assert_eq!(s.ld(100), 0x0bad_cafe);
    }
}
