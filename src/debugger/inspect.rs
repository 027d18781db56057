//! Source values as trees for front ends (the TUI's Variables and Watch
//! panes): the variables in scope at a frame, the children of any value by
//! its expression (members of a struct or of the struct a pointer points to,
//! elements of an array, the target of other pointers), and watch
//! expressions, each row with its name, type, value and the expression that
//! reaches it, so a front end can ask for the next level by that expression.

use super::api::PrintFormat;
use super::dwarf::Variable;
use super::dwarf_types::{TypeKind, TypeView};
use super::expr::eval::{Evaluator, Loc, Val};
use super::expr::{self, ExprError};
use super::values::Printer;

/// Array elements listed under an expanded array (more are reached with `[i]`).
pub const MAX_ELEMENTS: u64 = 100;

/// One row of a value tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueNode {
    /// What the row is called: `ds`, `count`, `[3]`, `*p`, or a watch expression.
    pub name: String,
    /// An expression that evaluates to this value (`ds->values[3]`).
    pub expr: String,
    /// The type as C spells it (empty when the expression did not evaluate).
    pub ty: String,
    /// The value as `print` shows it, or the error.
    pub value: String,
    /// The value has children (a struct, an array, a non-null pointer to data).
    pub expandable: bool,
    /// `value` is an error message.
    pub error: bool,
}

/// What a front end asked about one frame, answered in one piece.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inspection {
    pub frame: usize,
    /// Parameters (declaration order), then locals (innermost scope first).
    pub vars: Vec<ValueNode>,
    /// The children of each expression asked to expand, in the order asked.
    pub children: Vec<(String, Vec<ValueNode>)>,
    /// One row per watch expression, in the order asked.
    pub watch: Vec<ValueNode>,
}

/// Builds the answer for `expand` and `watch` with `ev` over the variables `vars` in scope.
pub fn inspect(
    ev: &mut Evaluator<'_>,
    vars: &[Variable],
    frame: usize,
    expand: &[String],
    watch: &[String],
) -> Inspection {
    let mut params: Vec<&Variable> = vars.iter().filter(|v| v.is_param).collect();
    params.dedup_by(|a, b| a.name == b.name);
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::new();
    for v in params
        .into_iter()
        .chain(vars.iter().filter(|v| !v.is_param))
    {
        // An inner scope's variable hides an outer one of the same name.
        if !seen.insert(v.name.clone()) {
            continue;
        }
        let node = match ev.var_value(v, 0) {
            Ok(val) => node(ev, &v.name, v.name.clone(), &val),
            Err(e) => failed(&v.name, &v.name, &e),
        };
        rows.push(node);
    }
    let children = expand
        .iter()
        .map(|e| (e.clone(), children_of(ev, e)))
        .collect();
    let watch = watch
        .iter()
        .map(|text| match evaluate(ev, text) {
            Ok(v) => node(ev, text, text.clone(), &v),
            Err(e) => failed(text, text, &e),
        })
        .collect();
    Inspection {
        frame,
        vars: rows,
        children,
        watch,
    }
}

fn evaluate(ev: &mut Evaluator<'_>, text: &str) -> Result<Val, ExprError> {
    let e = expr::parse(text, &|n| ev.is_type(n))?;
    ev.eval(&e)
}

fn failed(name: &str, expr: &str, e: &ExprError) -> ValueNode {
    ValueNode {
        name: name.to_string(),
        expr: expr.to_string(),
        ty: String::new(),
        value: e.msg.clone(),
        expandable: false,
        error: true,
    }
}

fn node(ev: &Evaluator<'_>, name: &str, expr: String, v: &Val) -> ValueNode {
    let p = Printer {
        ev,
        format: PrintFormat::Natural,
    };
    ValueNode {
        name: name.to_string(),
        expr,
        ty: ev.types.name(v.ty),
        value: p.value(v, false),
        expandable: shape(ev, v).is_some(),
        error: false,
    }
}

/// How a value opens: members, elements, or the one value a pointer points to.
enum Shape {
    Members,
    /// Members of the struct a pointer points to.
    PointedMembers,
    Elements(u64),
    Target,
}

fn shape(ev: &Evaluator<'_>, v: &Val) -> Option<Shape> {
    if matches!(v.loc, Loc::Gone(_)) {
        return None;
    }
    let t = &ev.types;
    match &t.def(t.strip(v.ty)).kind {
        TypeKind::Struct {
            members,
            incomplete: false,
            ..
        } if members.iter().any(|m| !m.is_static) => Some(Shape::Members),
        TypeKind::Array { count: Some(n), .. } if *n > 0 => Some(Shape::Elements(*n)),
        TypeKind::Pointer { target, size } => {
            let bytes = ev.bytes(v, u64::from(*size), 0).ok()?;
            if bytes.iter().all(|b| *b == 0) {
                return None;
            }
            let target = t.strip(*target);
            match &t.def(target).kind {
                TypeKind::Void | TypeKind::Function { .. } | TypeKind::Unknown => None,
                // `char *` prints as a string: nothing more to open.
                TypeKind::Base { size: 1, .. } => None,
                TypeKind::Struct {
                    incomplete: false, ..
                } => Some(Shape::PointedMembers),
                TypeKind::Struct { .. } => None,
                _ => Some(Shape::Target),
            }
        }
        _ => None,
    }
}

/// `expr` as the left side of `.`, `->` or `[]`: bare when it is a postfix chain.
fn operand(expr: &str) -> String {
    let postfix = expr
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '$' | ':'))
        || (expr.contains("->") && !expr.contains(|c: char| " *&+()".contains(c)));
    if postfix {
        expr.to_string()
    } else {
        format!("({expr})")
    }
}

/// The children of the value of `text`: one error row when it does not evaluate or has none.
pub fn children_of(ev: &mut Evaluator<'_>, text: &str) -> Vec<ValueNode> {
    let v = match evaluate(ev, text) {
        Ok(v) => v,
        Err(e) => return vec![failed("<error>", text, &e)],
    };
    let base = operand(text);
    let Some(shape) = shape(ev, &v) else {
        return Vec::new();
    };
    let (obj, sep) = match shape {
        Shape::Members => (v, "."),
        Shape::PointedMembers => match ev.deref(v, 0) {
            Ok(o) => (o, "->"),
            Err(e) => return vec![failed("<error>", text, &e)],
        },
        Shape::Target => {
            let name = format!("*{base}");
            return vec![match ev.deref(v, 0) {
                Ok(t) => node(ev, &name, name.clone(), &t),
                Err(e) => failed(&name, &name, &e),
            }];
        }
        Shape::Elements(n) => {
            let mut out = Vec::new();
            for i in 0..n.min(MAX_ELEMENTS) {
                let name = format!("[{i}]");
                let expr = format!("{base}[{i}]");
                out.push(match ev.index(v.clone(), i128::from(i), 0) {
                    Ok(e) => node(ev, &name, expr, &e),
                    Err(e) => failed(&name, &expr, &e),
                });
            }
            if n > MAX_ELEMENTS {
                out.push(ValueNode {
                    name: "…".into(),
                    expr: String::new(),
                    ty: String::new(),
                    value: format!("{} more (print {base}[i])", n - MAX_ELEMENTS),
                    expandable: false,
                    error: false,
                });
            }
            return out;
        }
    };
    let t = &ev.types;
    let TypeKind::Struct { members, .. } = &t.def(t.strip(obj.ty)).kind else {
        return Vec::new();
    };
    let members = members.clone();
    let mut out = Vec::new();
    for m in members.iter().filter(|m| !m.is_static) {
        let Some(name) = &m.name else {
            continue;
        };
        let expr = format!("{base}{sep}{name}");
        out.push(match ev.member(obj.clone(), name, 0) {
            Ok(mv) => node(ev, name, expr, &mv),
            Err(e) => failed(name, &expr, &e),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::operand;

    #[test]
    fn operands_get_parentheses_only_when_needed() {
        assert_eq!(operand("ds"), "ds");
        assert_eq!(operand("ds->values[2]"), "ds->values[2]");
        assert_eq!(operand("s.a.b"), "s.a.b");
        assert_eq!(operand("*p"), "(*p)");
        assert_eq!(operand("a + 1"), "(a + 1)");
        assert_eq!(operand("(char *)p"), "((char *)p)");
    }
}
