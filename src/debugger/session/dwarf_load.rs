//! The module's DWARF, parsed on a background thread that the session starts
//! with the program, so the first pause does not wait for it (on a large `-g`
//! module the parse takes longer than everything else before the entry stop).
//! A query that needs the whole of it waits for that parse (or runs it, if
//! the thread has not got to it yet). Only the source position of a stop is
//! answered before the parse ends: from the line programs of the units whose
//! ranges cover the offset, which gives the same row as the whole table.

use super::shared::{lock, Shared};
use crate::debugger::dwarf::{DwarfInfo, LineRow};
use std::sync::Arc;

/// Source rows found before the whole DWARF was ready, by module offset.
pub(crate) type EarlyRows = std::collections::HashMap<u32, Option<LineRow>>;

impl Shared {
    /// The module's DWARF (None without any, or when it is malformed: that
    /// only costs source-level features). Waits for the background parse.
    pub fn dwarf(&self) -> Option<&DwarfInfo> {
        self.dwarf_cell
            .get_or_init(|| DwarfInfo::parse(&self.module.info().bytes).unwrap_or_default())
            .as_ref()
    }

    /// Starts parsing the DWARF on its own thread (when that fails to
    /// start, the first query parses it).
    pub(super) fn parse_dwarf_in_background(self: &Arc<Self>) {
        let s = self.clone();
        let _ = std::thread::Builder::new()
            .name("wdb-dwarf".into())
            .spawn(move || {
                s.dwarf();
            });
    }

    /// The line-table row covering module offset `offset`, without waiting
    /// for the whole DWARF.
    pub(crate) fn line_row(&self, offset: u32) -> Option<LineRow> {
        if let Some(d) = self.dwarf_cell.get() {
            return d.as_ref()?.line_at(offset).cloned();
        }
        let mut early = lock(&self.early_rows);
        early
            .entry(offset)
            .or_insert_with(|| {
                DwarfInfo::parse_lines_at(&self.module.info().bytes, offset)
                    .ok()
                    .flatten()?
                    .line_at(offset)
                    .cloned()
            })
            .clone()
    }
}
