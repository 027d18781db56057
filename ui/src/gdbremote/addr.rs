//! LLDB's 64-bit encoding of WebAssembly addresses (its `wasm_addr_t`):
//! bits 63–62 name the space (0 = linear memory, 1 = module bytes — "object"),
//! bits 61–32 the module (or memory) index, bits 31–0 the offset. Code
//! addresses are module byte offsets, so a pc is `0x4000_0000_0000_0000 | offset`
//! for module 0. wdb debugs one module with one memory: both have index 0.

/// One address, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmAddr {
    /// Linear memory `index`, byte `offset`.
    Memory { index: u32, offset: u32 },
    /// Module `index`'s bytes (code addresses), byte `offset`.
    Object { index: u32, offset: u32 },
}

const OBJECT: u64 = 1 << 62;

impl WasmAddr {
    /// The code address of module 0's byte `offset`.
    pub fn code(offset: u32) -> WasmAddr {
        WasmAddr::Object { index: 0, offset }
    }

    pub fn decode(raw: u64) -> Option<WasmAddr> {
        let offset = raw as u32;
        let index = ((raw >> 32) & 0x3fff_ffff) as u32;
        match raw >> 62 {
            0 => Some(WasmAddr::Memory { index, offset }),
            1 => Some(WasmAddr::Object { index, offset }),
            _ => None,
        }
    }

    pub fn raw(self) -> u64 {
        match self {
            WasmAddr::Memory { index, offset } => (index as u64) << 32 | offset as u64,
            WasmAddr::Object { index, offset } => OBJECT | (index as u64) << 32 | offset as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_lldb() {
        assert_eq!(WasmAddr::code(0x1a2).raw(), 0x4000_0000_0000_01a2);
        assert_eq!(
            WasmAddr::decode(0x4000_0000_0000_01a2),
            Some(WasmAddr::code(0x1a2))
        );
        assert_eq!(
            WasmAddr::decode(0x1_0000_0010),
            Some(WasmAddr::Memory {
                index: 1,
                offset: 0x10
            })
        );
        assert_eq!(WasmAddr::decode(0xc000_0000_0000_0000), None);
        assert_eq!(WasmAddr::decode(0x8000_0000_0000_0000), None);
    }
}
