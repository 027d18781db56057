//! C++ exceptions thrown through LLVM's libunwind and libc++abi on wasm32:
//! the thrown object's type, read from the exception's header in linear
//! memory, for the `catch throw` stop line.
//!
//! libc++abi allocates `__cxa_exception` right before the thrown object and
//! throws the address of its last member, the `_Unwind_Exception`, as the
//! `__cpp_exception` tag's payload. On wasm32 (4-byte pointers, no
//! `__LP64__` fields at the front) the header's first member,
//! `exceptionType`, lies [`HEADER_BEFORE_UNWIND`] bytes before that
//! address. Every read is checked: the payload must point at an
//! `_Unwind_Exception` whose class is libc++abi's primary-exception class,
//! and the `type_info`'s name must parse as a mangled type; anything else
//! gives no type (the stop line then says only "a C++ exception").

/// `offsetof(__cxa_exception, unwindHeader)` on wasm32: eleven 4-byte
/// members from `exceptionType` to `adjustedPtr`, then `referenceCount`.
const HEADER_BEFORE_UNWIND: u32 = 48;

/// The `exception_class` libc++abi gives a primary exception ("CLNGC++\0",
/// big-endian in the name, stored as a little-endian u64).
const PRIMARY_CLASS: u64 = 0x434c_4e47_432b_2b00;

/// The longest type name read.
const MAX_NAME: usize = 512;

/// The C++ type of the exception whose `_Unwind_Exception` is at
/// `unwind_header` in `memory`, demangled (`ParseError`, `int`,
/// `std::runtime_error`), or mangled as libc++abi stores it when the name is
/// a form this reader does not demangle (templates, for one). None when the
/// memory does not hold a primary libc++abi exception there.
pub(crate) fn thrown_type(memory: &[u8], unwind_header: u32) -> Option<String> {
    let class = read_u64(memory, unwind_header)?;
    if class != PRIMARY_CLASS {
        return None;
    }
    let type_info = read_u32(memory, unwind_header.checked_sub(HEADER_BEFORE_UNWIND)?)?;
    // `std::type_info` is a vtable pointer, then `__type_name`.
    let name_at = read_u32(memory, type_info.checked_add(4)?)? as usize;
    let tail = memory.get(name_at..)?;
    let len = tail.iter().take(MAX_NAME).position(|&b| b == 0)?;
    let mangled = std::str::from_utf8(&tail[..len]).ok()?;
    if mangled.is_empty() || !mangled.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let mut p = Demangler {
        s: mangled.as_bytes(),
        at: 0,
    };
    match p.ty() {
        Some(t) if p.at == mangled.len() => Some(t),
        // Well-formed bytes that only a full demangler would read: shown as
        // they are, marked.
        _ => Some(format!("{mangled} (mangled)")),
    }
}

fn read_u32(memory: &[u8], at: u32) -> Option<u32> {
    let b = memory.get(at as usize..at as usize + 4)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

fn read_u64(memory: &[u8], at: u32) -> Option<u64> {
    let b = memory.get(at as usize..at as usize + 8)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

/// A reader of the Itanium ABI's `<type>` grammar for the types programs
/// throw: builtin types, class names (nested in namespaces or classes, `St`
/// for `std::`), pointers and `const`. Anything else (templates,
/// substitutions, function types) is None.
struct Demangler<'a> {
    s: &'a [u8],
    at: usize,
}

impl Demangler<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn ty(&mut self) -> Option<String> {
        let c = self.peek()?;
        if let Some(name) = builtin(c) {
            self.at += 1;
            return Some(name.to_string());
        }
        match c {
            b'P' => {
                self.at += 1;
                Some(format!("{}*", self.ty()?))
            }
            b'K' => {
                self.at += 1;
                Some(format!("{} const", self.ty()?))
            }
            b'N' => {
                self.at += 1;
                let mut parts = Vec::new();
                if self.s[self.at..].starts_with(b"St") {
                    self.at += 2;
                    parts.push("std".to_string());
                }
                while self.peek()? != b'E' {
                    parts.push(self.source_name()?);
                }
                self.at += 1;
                (!parts.is_empty()).then(|| parts.join("::"))
            }
            b'S' if self.s[self.at..].starts_with(b"St") => {
                self.at += 2;
                Some(format!("std::{}", self.source_name()?))
            }
            b'0'..=b'9' => self.source_name(),
            _ => None,
        }
    }

    /// `<length><identifier>`.
    fn source_name(&mut self) -> Option<String> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let len: usize = std::str::from_utf8(&self.s[start..self.at])
            .ok()?
            .parse()
            .ok()?;
        let end = self.at.checked_add(len)?;
        let id = self.s.get(self.at..end)?;
        if len == 0 || !id.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        self.at = end;
        Some(String::from_utf8_lossy(id).into_owned())
    }
}

/// The Itanium ABI's one-letter builtin types.
fn builtin(c: u8) -> Option<&'static str> {
    Some(match c {
        b'v' => "void",
        b'w' => "wchar_t",
        b'b' => "bool",
        b'c' => "char",
        b'a' => "signed char",
        b'h' => "unsigned char",
        b's' => "short",
        b't' => "unsigned short",
        b'i' => "int",
        b'j' => "unsigned int",
        b'l' => "long",
        b'm' => "unsigned long",
        b'x' => "long long",
        b'y' => "unsigned long long",
        b'n' => "__int128",
        b'o' => "unsigned __int128",
        b'f' => "float",
        b'd' => "double",
        b'e' => "long double",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memory holding an exception header at 0x100 (type_info at 0x40,
    /// its name at 0x80) whose `_Unwind_Exception` is at 0x130.
    fn memory(class: u64, name: &str) -> Vec<u8> {
        let mut m = vec![0u8; 0x200];
        m[0x100..0x104].copy_from_slice(&0x40u32.to_le_bytes());
        m[0x44..0x48].copy_from_slice(&0x80u32.to_le_bytes());
        m[0x80..0x80 + name.len()].copy_from_slice(name.as_bytes());
        m[0x130..0x138].copy_from_slice(&class.to_le_bytes());
        m
    }

    #[test]
    fn reads_and_demangles_the_thrown_type() {
        for (mangled, shown) in [
            ("10ParseError", "ParseError"),
            ("i", "int"),
            ("PKc", "char const*"),
            ("St13runtime_error", "std::runtime_error"),
            ("N6ledger5ErrorE", "ledger::Error"),
            ("NSt3__112basic_stringE", "std::__1::basic_string"),
            (
                "NSt3__112basic_stringIcEE",
                "NSt3__112basic_stringIcEE (mangled)",
            ),
        ] {
            let m = memory(PRIMARY_CLASS, mangled);
            assert_eq!(thrown_type(&m, 0x130).as_deref(), Some(shown), "{mangled}");
        }
    }

    #[test]
    fn anything_but_a_primary_libcxxabi_exception_has_no_type() {
        // A dependent exception (std::rethrow_exception), another class.
        assert_eq!(thrown_type(&memory(PRIMARY_CLASS | 1, "i"), 0x130), None);
        assert_eq!(thrown_type(&memory(0, "i"), 0x130), None);
        // Out of bounds, below the header, an unterminated or unprintable name.
        let m = memory(PRIMARY_CLASS, "i");
        assert_eq!(thrown_type(&m, 0x1fc), None);
        assert_eq!(thrown_type(&m, 0x10), None);
        let mut m = memory(PRIMARY_CLASS, "i");
        m[0x44..0x48].copy_from_slice(&0x1feu32.to_le_bytes());
        m[0x1fe..].fill(b'a');
        assert_eq!(thrown_type(&m, 0x130), None);
        assert_eq!(thrown_type(&memory(PRIMARY_CLASS, "\u{7}x"), 0x130), None);
        // A length past the end of the name.
        assert_eq!(
            thrown_type(&memory(PRIMARY_CLASS, "99x"), 0x130).as_deref(),
            Some("99x (mangled)")
        );
    }
}
