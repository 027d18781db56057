//! C/C++ expressions of the debugger (`print`, `display`, breakpoint conditions, `set var`):
//! [`lexer`] → [`parser`] (Pratt) → [`Expr`] → [`eval`] against a paused frame through DWARF.

pub mod eval;
pub mod lexer;
pub mod parser;

use std::fmt;

/// A one-line error with the 1-based column of the problem in the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub col: usize,
    pub msg: String,
}

impl ExprError {
    pub fn new(col: usize, msg: impl Into<String>) -> ExprError {
        ExprError {
            col,
            msg: msg.into(),
        }
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (column {})", self.msg, self.col)
    }
}

/// A type written in an expression: `unsigned int`, `struct item`, `geo::Point`, then `*`/`&`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeName {
    pub base: String,
    pub pointers: Vec<&'static str>,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    Int {
        value: u64,
        unsigned: bool,
        long: bool,
    },
    Float {
        value: f64,
        single: bool,
    },
    Char(u8),
    Str(Vec<u8>),
    /// A variable, possibly qualified (`geo::origin`).
    Name(String),
    /// `$local3`, `$global0`, `$1`, `$`.
    Dollar(String),
    Member {
        base: Box<Expr>,
        field: String,
        arrow: bool,
    },
    Index(Box<Expr>, Box<Expr>),
    Unary(&'static str, Box<Expr>),
    Cast(TypeName, Box<Expr>),
    SizeofType(TypeName),
    SizeofExpr(Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `a = b`, or `a += b` with `op` `+`.
    Assign {
        op: Option<&'static str>,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
}

/// An expression node and the column where it starts (or where its operator is).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub ast: Ast,
    pub col: usize,
}

pub use parser::parse;
