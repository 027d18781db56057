//! DWARF (placeholder)
