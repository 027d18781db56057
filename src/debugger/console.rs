//! The command language (placeholder)
