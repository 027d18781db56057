//! The Variables and Watch panes' state and how it changes: source
//! variables (DWARF) of the selected frame as a tree that opens structs,
//! arrays and pointers, watch expressions re-evaluated at every stop with
//! the values that changed since the last stop marked, and `w` (a
//! watchpoint on the selected variable). Values come from the engine's
//! `SourceRequest::Inspect`; drawing is in `draw::variables`.

use super::model::{App, Pane};
use super::model::{PromptKind, Scroll};
use std::collections::HashMap;
use wdb::debugger::inspect::{Inspection, ValueNode};
use wdb::debugger::{Command, RunState, SourceRequest};

/// Watch expressions kept at most.
const MAX_WATCH: usize = 64;

#[derive(Debug, Default)]
pub struct SourceVars {
    /// The engine's last answer for the selected frame.
    pub values: Option<Inspection>,
    /// Expressions opened in either tree (kept across stops, as in VS Code).
    pub expanded: Vec<String>,
    pub scroll: Scroll,
    /// Watch expressions, in the order added.
    pub watch: Vec<String>,
    pub watch_scroll: Scroll,
    /// Each expression's value at the previous stop (changed ones are marked).
    pub before: HashMap<String, String>,
    /// An answer is on its way.
    pub pending: bool,
}

/// One row of a tree as shown: depth, the value, whether it is open.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeRow<'a> {
    pub depth: usize,
    pub node: &'a ValueNode,
    pub open: bool,
    /// The value differs from the previous stop's.
    pub changed: bool,
}

impl SourceVars {
    fn children(&self, expr: &str) -> Option<&Vec<ValueNode>> {
        self.values
            .as_ref()?
            .children
            .iter()
            .find(|(e, _)| e == expr)
            .map(|(_, c)| c)
    }

    fn push_rows<'a>(&'a self, nodes: &'a [ValueNode], depth: usize, out: &mut Vec<TreeRow<'a>>) {
        for n in nodes {
            let open = n.expandable && self.expanded.contains(&n.expr);
            let changed = !n.error && self.before.get(&n.expr).is_some_and(|old| *old != n.value);
            out.push(TreeRow {
                depth,
                node: n,
                open,
                changed,
            });
            if open && depth < 32 {
                if let Some(c) = self.children(&n.expr) {
                    self.push_rows(c, depth + 1, out);
                }
            }
        }
    }

    /// The Variables pane's rows.
    pub fn var_rows(&self) -> Vec<TreeRow<'_>> {
        let mut out = Vec::new();
        if let Some(v) = &self.values {
            self.push_rows(&v.vars, 0, &mut out);
        }
        out
    }

    /// The Watch pane's rows.
    pub fn watch_rows(&self) -> Vec<TreeRow<'_>> {
        let mut out = Vec::new();
        if let Some(v) = &self.values {
            self.push_rows(&v.watch, 0, &mut out);
        }
        out
    }

    /// Every value shown, by expression (what the next stop compares with).
    fn shown(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        if let Some(v) = &self.values {
            let all = v
                .vars
                .iter()
                .chain(&v.watch)
                .chain(v.children.iter().flat_map(|(_, c)| c));
            for n in all.filter(|n| !n.error) {
                m.insert(n.expr.clone(), n.value.clone());
            }
        }
        m
    }
}

impl App {
    /// Asks the engine for the values of the selected frame (after a stop,
    /// a frame change, an expansion or a new watch).
    pub fn request_values(&mut self) {
        if self.state != RunState::Paused || self.snapshot.is_none() {
            return;
        }
        if !self.has_dwarf && self.source_vars.watch.is_empty() {
            return;
        }
        let frame = self.frames.sel;
        let request = SourceRequest::Inspect {
            expand: self.source_vars.expanded.clone(),
            watch: self.source_vars.watch.clone(),
        };
        self.source_vars.pending = true;
        self.send(Command::Source { frame, request });
    }

    /// A stop: what is shown now is what the next values are compared with.
    pub(super) fn values_at_stop(&mut self) {
        self.source_vars.before = self.source_vars.shown();
    }

    /// `Event::Values`.
    pub(super) fn on_values(&mut self, v: Inspection) {
        if v.frame != self.frames.sel {
            return;
        }
        self.source_vars.pending = false;
        self.source_vars.values = Some(v);
        let n = self.source_vars.var_rows().len();
        let s = self.source_vars.scroll.sel;
        self.source_vars.scroll.set(s, n);
        let n = self.source_vars.watch_rows().len();
        let s = self.source_vars.watch_scroll.sel;
        self.source_vars.watch_scroll.set(s, n);
    }

    /// The selected row of the focused tree: (expression, expandable, open, depth).
    fn selected_tree_row(&self) -> Option<(String, bool, bool, usize)> {
        let sv = &self.source_vars;
        let (rows, sel) = match self.focus {
            Pane::Variables => (sv.var_rows(), sv.scroll.sel),
            Pane::Watch => (sv.watch_rows(), sv.watch_scroll.sel),
            _ => return None,
        };
        rows.get(sel)
            .map(|r| (r.node.expr.clone(), r.node.expandable, r.open, r.depth))
    }

    /// → or Enter: opens the selected struct, array or pointer.
    pub(super) fn expand_selected(&mut self) {
        match self.selected_tree_row() {
            Some((expr, true, false, _)) => {
                self.source_vars.expanded.push(expr);
                self.request_values();
            }
            Some((_, true, true, _)) => {}
            Some((expr, false, ..)) => self.set_message(&format!("`{expr}` has nothing to open")),
            None if self.focus == Pane::Watch => self.open_prompt(PromptKind::Watch),
            None => {}
        }
    }

    /// ←: closes the selected row, or moves to its parent.
    pub(super) fn collapse_selected(&mut self) {
        let Some((expr, _, open, depth)) = self.selected_tree_row() else {
            return;
        };
        if open {
            // Closing a row closes what was opened under it too.
            self.source_vars.expanded.retain(|e| !under(e, &expr));
            return;
        }
        if depth == 0 {
            return;
        }
        let sv = &self.source_vars;
        let (rows, sel) = match self.focus {
            Pane::Variables => (sv.var_rows(), sv.scroll.sel),
            _ => (sv.watch_rows(), sv.watch_scroll.sel),
        };
        let parent = rows
            .iter()
            .take(sel)
            .rposition(|r| r.depth + 1 == depth)
            .unwrap_or(0);
        let n = rows.len();
        match self.focus {
            Pane::Variables => self.source_vars.scroll.set(parent, n),
            _ => self.source_vars.watch_scroll.set(parent, n),
        }
    }

    /// Toggles the selected row open or closed (Enter).
    pub(super) fn toggle_selected(&mut self) {
        match self.selected_tree_row() {
            Some((_, _, true, _)) => self.collapse_selected(),
            _ => self.expand_selected(),
        }
    }

    /// `:watch-expr EXPR` or `a` in the Watch pane.
    pub fn add_watch(&mut self, expr: &str) {
        let expr = expr.trim();
        if expr.is_empty() {
            return;
        }
        if self.source_vars.watch.iter().any(|w| w == expr) {
            self.set_message(&format!("already watching `{expr}`"));
        } else if self.source_vars.watch.len() >= MAX_WATCH {
            self.error(&format!("at most {MAX_WATCH} watch expressions"));
            return;
        } else {
            self.source_vars.watch.push(expr.to_string());
            self.set_message(&format!("watching `{expr}` (re-evaluated at every stop)"));
        }
        self.focus(Pane::Watch);
        let n = self.source_vars.watch.len();
        self.source_vars.watch_scroll.set(n.saturating_sub(1), n);
        self.request_values();
    }

    /// `d` or Delete in the Watch pane: removes the selected expression.
    pub(super) fn delete_watch(&mut self) {
        let Some((expr, _, _, depth)) = self.selected_tree_row() else {
            return;
        };
        if depth > 0 {
            self.error("select a watch expression (not a member of one) to delete it");
            return;
        }
        self.source_vars.watch.retain(|w| *w != expr);
        if let Some(v) = self.source_vars.values.as_mut() {
            v.watch.retain(|n| n.expr != expr);
        }
        let n = self.source_vars.watch_rows().len();
        let s = self.source_vars.watch_scroll.sel;
        self.source_vars.watch_scroll.set(s, n);
        self.set_message(&format!("no longer watching `{expr}`"));
    }

    /// `w` in the Variables pane: a write watchpoint on the selected
    /// variable, set with the console's `watch` (the engine answers).
    pub(super) fn watchpoint_on_selected(&mut self) {
        match self.selected_tree_row() {
            Some((expr, ..)) if !expr.is_empty() => self.run_command(&format!("watch {expr}")),
            _ => self.error("select a variable to watch it"),
        }
    }

    /// Scrolls the Variables or Watch tree.
    pub(super) fn scroll_tree(&mut self, pane: Pane, delta: isize) {
        if pane == Pane::Variables {
            let n = self.source_vars.var_rows().len();
            self.source_vars.scroll.move_by(delta, n);
        } else {
            let n = self.source_vars.watch_rows().len();
            self.source_vars.watch_scroll.move_by(delta, n);
        }
    }
}

/// `e` is `expr` or an expression reached by opening it (`ds->count`, `(*p).x`).
fn under(e: &str, expr: &str) -> bool {
    let after = e.strip_prefix(expr);
    after.is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '-', '[']))
        || e.starts_with(&format!("*{expr}"))
        || e.starts_with(&format!("*({expr})"))
        || e.starts_with(&format!("(*{expr})"))
        || e.starts_with(&format!("(*({expr}))"))
}

#[cfg(test)]
mod tests {
    use super::under;

    #[test]
    fn closing_a_row_closes_what_was_opened_under_it() {
        assert!(under("ds", "ds"));
        assert!(under("ds->values", "ds"));
        assert!(under("ds->values[2]", "ds"));
        assert!(under("s.a", "s"));
        assert!(under("(*p).x", "p"));
        assert!(!under("ds2", "ds"));
        assert!(!under("values", "ds"));
    }
}
