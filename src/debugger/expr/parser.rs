//! A Pratt parser for C/C++ debugger expressions: tokens in, an [`Expr`] tree out.
//!
//! Binding powers follow C (and gdb's `@` between shifts and additive operators). Whether
//! `(name)` starts a cast depends on the program's types, so the parser asks `is_type`.

use super::lexer::{lex, Tok, Token};
use super::{Ast, Expr, ExprError, TypeName};

/// Binding power of prefix operators.
const UNARY: u8 = 30;
/// Binding power of postfix `.`, `->`, `[]`.
const POSTFIX: u8 = 32;

/// Words that can only start a type.
const TYPE_WORDS: &[&str] = &[
    "struct", "union", "enum", "class", "const", "volatile", "unsigned", "signed", "int", "char",
    "short", "long", "float", "double", "void", "bool", "_Bool",
];

pub fn parse(text: &str, is_type: &dyn Fn(&str) -> bool) -> Result<Expr, ExprError> {
    let tokens = lex(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        is_type,
    };
    if p.peek() == &Tok::End {
        return Err(ExprError::new(1, "expected an expression"));
    }
    let e = p.expr(0)?;
    match p.peek() {
        Tok::End => Ok(e),
        _ => Err(ExprError::new(
            p.col(),
            format!("unexpected {} after the expression", p.describe()),
        )),
    }
}

/// `text` as a type name when the whole of it is one (`struct item *`, `unsigned int`).
pub fn parse_type(text: &str, is_type: &dyn Fn(&str) -> bool) -> Option<TypeName> {
    let tokens = lex(text).ok()?;
    let mut p = Parser {
        tokens,
        pos: 0,
        is_type,
    };
    if !p.starts_type(0) {
        return None;
    }
    let t = p.type_name().ok()?;
    (p.peek() == &Tok::End).then_some(t)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    is_type: &'a dyn Fn(&str) -> bool,
}

/// (left, right) binding powers of an infix operator.
fn infix(op: &str) -> Option<(u8, u8)> {
    Some(match op {
        "=" | "+=" | "-=" | "*=" | "/=" | "%=" | "&=" | "|=" | "^=" | "<<=" | ">>=" => (3, 2),
        "?" => (5, 4),
        "||" => (6, 7),
        "&&" => (8, 9),
        "|" => (10, 11),
        "^" => (12, 13),
        "&" => (14, 15),
        "==" | "!=" => (16, 17),
        "<" | ">" | "<=" | ">=" => (18, 19),
        "<<" | ">>" => (20, 21),
        "@" => (22, 23),
        "+" | "-" => (24, 25),
        "*" | "/" | "%" => (26, 27),
        _ => return None,
    })
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].tok
    }

    fn peek_at(&self, k: usize) -> &Tok {
        &self.tokens[(self.pos + k).min(self.tokens.len() - 1)].tok
    }

    fn col(&self) -> usize {
        self.tokens[self.pos.min(self.tokens.len() - 1)].col
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos.min(self.tokens.len() - 1)].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn describe(&self) -> String {
        match self.peek() {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Dollar(s) => format!("`${s}`"),
            Tok::Int { value, .. } => format!("number `{value}`"),
            Tok::Float { value, .. } => format!("number `{value}`"),
            Tok::Char(_) => "character literal".into(),
            Tok::Str(_) => "string literal".into(),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::End => "end of expression".into(),
        }
    }

    fn expect(&mut self, p: &'static str) -> Result<(), ExprError> {
        if self.peek() == &Tok::Punct(p) {
            self.bump();
            Ok(())
        } else {
            Err(ExprError::new(
                self.col(),
                format!("expected `{p}`, found {}", self.describe()),
            ))
        }
    }

    fn expr(&mut self, min_bp: u8) -> Result<Expr, ExprError> {
        let mut lhs = self.prefix()?;
        loop {
            let col = self.col();
            let op = match self.peek() {
                Tok::Punct(p) => *p,
                _ => break,
            };
            match op {
                "[" | "." | "->" | "++" | "--" if POSTFIX >= min_bp => {
                    self.bump();
                    lhs = match op {
                        "[" => {
                            let index = self.expr(0)?;
                            self.expect("]")?;
                            Expr {
                                ast: Ast::Index(Box::new(lhs), Box::new(index)),
                                col,
                            }
                        }
                        "++" | "--" => {
                            return Err(ExprError::new(
                                col,
                                format!("`{op}` is not supported (use `set var x = x + 1`)"),
                            ))
                        }
                        _ => {
                            let name = self.member_name()?;
                            Expr {
                                ast: Ast::Member {
                                    base: Box::new(lhs),
                                    field: name,
                                    arrow: op == "->",
                                },
                                col,
                            }
                        }
                    };
                    continue;
                }
                _ => {}
            }
            let Some((lbp, rbp)) = infix(op) else { break };
            if lbp < min_bp {
                break;
            }
            self.bump();
            if op == "?" {
                let then = self.expr(0)?;
                self.expect(":")?;
                let els = self.expr(rbp)?;
                lhs = Expr {
                    ast: Ast::Ternary(Box::new(lhs), Box::new(then), Box::new(els)),
                    col,
                };
                continue;
            }
            let rhs = self.expr(rbp)?;
            lhs = Expr {
                ast: if op.ends_with('=') && !matches!(op, "==" | "!=" | "<=" | ">=") {
                    Ast::Assign {
                        op: op.strip_suffix('=').filter(|s| !s.is_empty()),
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    }
                } else {
                    Ast::Binary(op, Box::new(lhs), Box::new(rhs))
                },
                col,
            };
        }
        Ok(lhs)
    }

    fn member_name(&mut self) -> Result<String, ExprError> {
        match self.bump().tok {
            Tok::Ident(s) => Ok(s),
            _ => {
                self.pos -= 1;
                Err(ExprError::new(
                    self.col(),
                    format!("expected a member name, found {}", self.describe()),
                ))
            }
        }
    }

    fn starts_type(&self, k: usize) -> bool {
        match self.peek_at(k) {
            Tok::Ident(s) if TYPE_WORDS.contains(&s.as_str()) => true,
            Tok::Ident(s) => {
                // A qualified name `a::b` is a type when the whole of it is.
                let mut name = s.clone();
                let mut j = k + 1;
                while self.peek_at(j) == &Tok::Punct("::") {
                    match self.peek_at(j + 1) {
                        Tok::Ident(n) => {
                            name.push_str("::");
                            name.push_str(n);
                            j += 2;
                        }
                        _ => break,
                    }
                }
                (self.is_type)(&name)
            }
            _ => false,
        }
    }

    fn qualified(&mut self, first: String) -> String {
        let mut name = first;
        while self.peek() == &Tok::Punct("::") {
            if let Tok::Ident(n) = self.peek_at(1).clone() {
                self.bump();
                self.bump();
                name.push_str("::");
                name.push_str(&n);
            } else {
                break;
            }
        }
        name
    }

    fn prefix(&mut self) -> Result<Expr, ExprError> {
        let col = self.col();
        let t = self.bump();
        let ast = match t.tok {
            Tok::Int {
                value,
                unsigned,
                long,
            } => Ast::Int {
                value,
                unsigned,
                long,
            },
            Tok::Float { value, single } => Ast::Float { value, single },
            Tok::Char(c) => Ast::Char(c),
            Tok::Str(s) => Ast::Str(s),
            Tok::Dollar(s) => Ast::Dollar(s),
            Tok::Ident(s) if s == "sizeof" => {
                if self.peek() == &Tok::Punct("(") && self.starts_type(1) {
                    self.bump();
                    let ty = self.type_name()?;
                    self.expect(")")?;
                    Ast::SizeofType(ty)
                } else {
                    Ast::SizeofExpr(Box::new(self.expr(UNARY)?))
                }
            }
            Tok::Ident(s) if s == "true" || s == "false" => Ast::Int {
                value: u64::from(s == "true"),
                unsigned: false,
                long: false,
            },
            Tok::Ident(s) => {
                if TYPE_WORDS.contains(&s.as_str()) {
                    return Err(ExprError::new(
                        col,
                        format!("a type (`{s}`) where a value was expected"),
                    ));
                }
                Ast::Name(self.qualified(s))
            }
            Tok::Punct("(") => {
                if self.starts_type(0) {
                    let ty = self.type_name()?;
                    self.expect(")")?;
                    let operand = self.expr(UNARY)?;
                    Ast::Cast(ty, Box::new(operand))
                } else {
                    let inner = self.expr(0)?;
                    self.expect(")")?;
                    return Ok(inner);
                }
            }
            Tok::Punct(op @ ("-" | "+" | "!" | "~" | "*" | "&")) => {
                let operand = self.expr(UNARY)?;
                Ast::Unary(op, Box::new(operand))
            }
            Tok::Punct(op @ ("++" | "--")) => {
                return Err(ExprError::new(
                    col,
                    format!("`{op}` is not supported (use `set var x = x + 1`)"),
                ))
            }
            Tok::End => return Err(ExprError::new(col, "expected an expression")),
            other => {
                let what = match other {
                    Tok::Punct(p) => format!("`{p}`"),
                    _ => "this".into(),
                };
                return Err(ExprError::new(
                    col,
                    format!("expected an expression, found {what}"),
                ));
            }
        };
        Ok(Expr { ast, col })
    }

    /// A type name: specifiers, then `*`, `&` and `const` declarators.
    fn type_name(&mut self) -> Result<TypeName, ExprError> {
        let col = self.col();
        let mut signedness: Option<&str> = None;
        let mut core: Vec<String> = Vec::new();
        let mut named: Option<String> = None;
        while let Tok::Ident(word) = self.peek().clone() {
            match word.as_str() {
                "const" | "volatile" => {
                    self.bump();
                }
                "unsigned" | "signed" => {
                    self.bump();
                    signedness = Some(if word == "unsigned" {
                        "unsigned"
                    } else {
                        "signed"
                    });
                }
                "struct" | "union" | "enum" | "class" => {
                    self.bump();
                    let Tok::Ident(n) = self.bump().tok else {
                        self.pos -= 1;
                        return Err(ExprError::new(
                            self.col(),
                            format!("expected a name after `{word}`"),
                        ));
                    };
                    let n = self.qualified(n);
                    named = Some(format!("{word} {n}"));
                }
                "int" | "char" | "short" | "long" | "float" | "double" | "void" | "bool"
                | "_Bool" => {
                    self.bump();
                    core.push(word);
                }
                _ if named.is_none() && core.is_empty() && signedness.is_none() => {
                    self.bump();
                    named = Some(self.qualified(word));
                }
                _ => break,
            }
        }
        let base = match named {
            Some(n) => n,
            None => canonical(signedness, &core)
                .ok_or_else(|| ExprError::new(col, format!("unknown type `{}`", core.join(" "))))?,
        };
        let mut pointers = Vec::new();
        loop {
            match self.peek() {
                Tok::Punct(p @ ("*" | "&" | "&&")) => {
                    pointers.push(*p);
                    self.bump();
                }
                Tok::Ident(w) if w == "const" || w == "volatile" => {
                    self.bump();
                }
                _ => break,
            }
        }
        Ok(TypeName {
            base,
            pointers,
            col,
        })
    }
}

/// The one spelling of a combination of base-type keywords (`long unsigned` -> `unsigned long`).
fn canonical(signedness: Option<&str>, core: &[String]) -> Option<String> {
    let longs = core.iter().filter(|w| *w == "long").count();
    let others: Vec<&str> = core
        .iter()
        .map(String::as_str)
        .filter(|w| *w != "long" && *w != "int")
        .collect();
    let has_int = core.iter().any(|w| w == "int");
    let body = match (others.as_slice(), longs) {
        ([], 0) => "int",
        ([], 1) => "long",
        ([], 2) => "long long",
        (["short"], 0) => "short",
        (["char"], 0) => "char",
        (["float"], 0) if !has_int => "float",
        (["double"], 0) if !has_int => "double",
        (["double"], 1) if !has_int => "long double",
        (["void"], 0) if !has_int => "void",
        (["bool"], 0) if !has_int => "bool",
        (["_Bool"], 0) if !has_int => "_Bool",
        _ => return None,
    };
    Some(match (signedness, body) {
        (Some("unsigned"), b) => format!("unsigned {b}"),
        (Some(_), "char") => "signed char".into(),
        (_, b) => b.to_string(),
    })
}
