//! The TUI on vector values: `v128` locals, operand-stack entries and
//! globals show as hex and lanes, `L` cycles the lane shape through all six
//! (shown in the footer and the help), and the Registers pane and `:info
//! registers xmmN` show all 128 bits of the xmm registers.

use super::model::Pane;
use super::tests::{key, paused_app, render, row_of, snapshot, val};
use crossterm::event::KeyCode;
use std::sync::Arc;
use wdb::debugger::{Event, GlobalValue, Place, StopReason, Value};
use wdb::ValType;

const V: u128 = 0x4000_0000_3f80_0000_ffff_fffe_0000_0001;

/// Lanes of `V` in each shape, in the order `L` goes through them from i32x4.
const SHAPES: [(&str, &str); 6] = [
    ("i32x4", "[1 -2 1065353216 1073741824]"),
    ("i64x2", "[-8589934591 4611686019492741120]"),
    ("f32x4", "[1e-45 NaN 1.0 2.0]"),
    ("f64x2", "[NaN 2.000000473111868]"),
    ("i8x16", "[1 0 0 0 -2 -1 -1 -1 0 0 -128 63 0 0 0 64]"),
    ("i16x8", "[1 0 -2 -1 0 16256 0 16384]"),
];

#[test]
fn l_cycles_the_lane_shape_of_v128_values_and_registers_are_128_bits() {
    let (mut app, _) = paused_app(false);
    let mut snap = (*snapshot(false)).clone();
    let mut v = val(ValType::V128, V as u64, Place::Register("xmm3"));
    v.hi = (V >> 64) as u64;
    snap.frames[0].stack.as_mut().unwrap().push(v);
    snap.frames[0].locals.as_mut().unwrap().push(Value {
        place: Place::Slot(-0x40),
        ..v
    });
    snap.globals.push(GlobalValue {
        index: 1,
        name: Some("vec".into()),
        ty: ValType::V128,
        mutable: true,
        bits: V as u64,
        hi: (V >> 64) as u64,
    });
    if let Some(r) = snap.regs.as_mut() {
        r.xmm[3] = V;
    }
    snap.reason = StopReason::Step;
    app.handle_event(Event::Paused(Arc::new(snap)));
    app.focus(Pane::Vars);
    let hex = format!("{V:#034x}");
    for (i, (shape, lanes)) in SHAPES.iter().enumerate() {
        if i > 0 {
            app.handle_key(key(KeyCode::Char('L')));
            let said = app.message.as_ref().map(|m| m.0.clone());
            assert_eq!(said, Some(format!("v128 lanes: {shape}")));
        }
        // Operand stack, local and global: three rows (in the zoomed pane).
        app.zoom = true;
        let (s, _) = render(&app, 300, 100);
        let text = format!("{shape} {lanes} {hex}");
        assert_eq!(s.matches(&text).count(), 3, "{shape}:\n{s}");
        app.zoom = false;
        let (s, _) = render(&app, 300, 100);
        assert!(s.contains(&format!("L lanes {shape}")), "footer:\n{s}");
        // xmm3 in the Registers pane: 32 hex digits, then the lanes.
        let row = row_of(&s, " xmm3 400000003f800000fffffffe00000001").expect("xmm3 row");
        let line = s.lines().nth(row).unwrap_or_default();
        assert!(line.contains(&lanes[..12]), "{shape}: {line}");
    }
    // Round the cycle: back to the default.
    app.handle_key(key(KeyCode::Char('L')));
    let (s, _) = render(&app, 300, 100);
    assert!(
        s.contains(&format!("i32x4 [1 -2 1065353216 1073741824] {hex}")),
        "{s}"
    );
    // The help names the key.
    app.help = true;
    let (s, _) = render(&app, 120, 60);
    assert!(s.contains("L         v128 lanes"), "{s}");
    app.help = false;
    // `:info registers xmm3`: every shape on the message line.
    app.run_command("info registers xmm3");
    assert_eq!(app.focus, Pane::Registers);
    let said = app
        .message
        .as_ref()
        .map(|m| m.0.clone())
        .unwrap_or_default();
    assert!(
        said.starts_with(&format!("xmm3  {hex} · i8x16 [1 0 0 0 -2")),
        "{said}"
    );
    assert!(said.contains("· f64x2 [NaN 2.000000473111868]"), "{said}");
    app.run_command("info registers xmm99");
    let said = app
        .message
        .as_ref()
        .map(|m| m.0.clone())
        .unwrap_or_default();
    assert!(said.contains("no register `xmm99`"), "{said}");
}
