//! `ptype` of a C++ class, struct or union as gdb writes it: the keyword,
//! the base classes with their access, data members under `public:`,
//! `private:` and `protected:` labels (only when the access differs from
//! the keyword's default somewhere), a blank line, then the member
//! functions (`virtual`, `static`, `const`; the compiler's own ones hidden).

use super::dwarf_types::{Access, Aggregate, Member, Method, TypeId, TypeKind, TypeView};
use super::values::declare;

/// The body of `ptype` for the C++ aggregate `ty` (`class geo::Rect : public geo::Shape {…}`).
pub fn class_body(t: &dyn TypeView, ty: TypeId) -> String {
    let def = t.def(ty);
    let TypeKind::Struct { kind, members, .. } = &def.kind else {
        return t.base_name(ty);
    };
    let kw = match kind {
        Aggregate::Struct => "struct",
        Aggregate::Class => "class",
        Aggregate::Union => "union",
    };
    let mut out = match &def.name {
        Some(n) => format!("{kw} {n}"),
        None => kw.to_string(),
    };
    let bases: Vec<String> = members
        .iter()
        .filter(|m| m.is_base)
        .map(|m| {
            let virt = if m.is_virtual { " virtual" } else { "" };
            format!("{}{virt} {}", m.access.keyword(), t.name(m.ty))
        })
        .collect();
    if !bases.is_empty() {
        out.push_str(&format!(" : {}", bases.join(", ")));
    }
    out.push_str(" {\n");
    let fields: Vec<&Member> = members
        .iter()
        .filter(|m| !m.is_base && !is_vptr(m))
        .collect();
    let methods = t.methods(ty);
    let labels = needs_labels(*kind, &fields, methods);
    let mut section: Option<Access> = None;
    let mut label = |out: &mut String, a: Access| {
        if labels && section != Some(a) {
            out.push_str(&format!("  {}:\n", a.keyword()));
            section = Some(a);
        }
    };
    for m in &fields {
        label(&mut out, m.access);
        let name = m.name.clone().unwrap_or_default();
        let stat = if m.is_static { "static " } else { "" };
        let bits = m.bits.map(|(_, n)| format!(" : {n}")).unwrap_or_default();
        out.push_str(&format!("    {stat}{}{bits};\n", declare(t, m.ty, &name)));
    }
    let shown: Vec<&Method> = methods.iter().filter(|m| !m.is_artificial).collect();
    if !shown.is_empty() && labels && !fields.is_empty() {
        out.push('\n');
    }
    let class_name = def
        .name
        .as_deref()
        .map(|n| n.rsplit("::").next().unwrap_or(n))
        .unwrap_or("");
    for m in shown {
        label(&mut out, m.access);
        out.push_str("    ");
        if m.is_virtual {
            out.push_str("virtual ");
        } else if m.this.is_none() {
            out.push_str("static ");
        }
        let ctor = m.name == class_name || m.name.split('<').next() == Some(class_name);
        if !ctor && !m.name.starts_with('~') && !is_conversion(&m.name) {
            out.push_str(&t.name(m.ret));
            out.push(' ');
        }
        let params: Vec<String> = m.params.iter().map(|&p| t.name(p)).collect();
        let params = if params.is_empty() {
            "void".to_string()
        } else {
            params.join(", ")
        };
        out.push_str(&format!("{}({params})", m.name));
        let (is_const, is_volatile) = qualifiers(t, m.this);
        if is_const {
            out.push_str(" const");
        }
        if is_volatile {
            out.push_str(" volatile");
        }
        out.push_str(";\n");
    }
    out.push('}');
    out
}

/// Whether `this` (`T *`, `const T *`, `volatile T *`) makes a method const / volatile.
fn qualifiers(t: &dyn TypeView, this: Option<TypeId>) -> (bool, bool) {
    let (mut c, mut v) = (false, false);
    if let Some(TypeKind::Pointer { target, .. }) = this.map(|p| &t.def(p).kind) {
        let mut q = *target;
        for _ in 0..4 {
            match t.def(q).kind {
                TypeKind::Const(n) => (c, q) = (true, n),
                TypeKind::Volatile(n) => (v, q) = (true, n),
                _ => break,
            }
        }
    }
    (c, v)
}

/// gdb hides the vtable pointer (`_vptr$Shape` from clang, `_vptr.Shape` from gcc).
fn is_vptr(m: &Member) -> bool {
    m.name.as_deref().is_some_and(|n| {
        n.strip_prefix("_vptr")
            .is_some_and(|r| r.starts_with('$') || r.starts_with('.'))
    })
}

/// `operator int`, `operator const char *`: no return type is written.
fn is_conversion(name: &str) -> bool {
    name.strip_prefix("operator ").is_some_and(|r| {
        r.starts_with(|c: char| c.is_alphabetic() || c == '_')
            && !r.starts_with("new")
            && !r.starts_with("delete")
    })
}

/// gdb writes access labels when some member's access is not the keyword's
/// default: in a class, anything not private; elsewhere, anything not public.
fn needs_labels(kind: Aggregate, fields: &[&Member], methods: &[Method]) -> bool {
    let default = match kind {
        Aggregate::Class => Access::Private,
        _ => Access::Public,
    };
    fields.iter().any(|m| m.access != default) || methods.iter().any(|m| m.access != default)
}
