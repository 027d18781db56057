//! Bounds-checked access to guest linear memory.
//!
//! Every guest pointer is a `u32` offset and every length a `u32`; ranges are
//! computed in `u64` so `ptr + len` can never wrap. A range outside the
//! memory is `EFAULT`, an invalid UTF-8 string is `EILSEQ`. Nothing here can
//! panic, whatever the guest passes.
//!
//! Every access goes through [`GuestMem::slice`] or [`GuestMem::slice_mut`],
//! which report it to the watchpoints of the memory ([`HostAccess`]): a host
//! function's reads and writes stop the program like the guest's own.

use super::abi::IOVEC_SIZE;
use super::errno::{self, Errno};
use crate::vm::watch::HostAccess;

/// A view of the calling instance's linear memory for the duration of one
/// host call (empty when the instance has no memory, so every access faults).
pub struct GuestMem<'a> {
    bytes: &'a mut [u8],
    /// The watchpoints of this memory while the call runs (lifted, checked).
    watch: HostAccess,
}

/// One guest `iovec`/`ciovec`: a pointer and a length, already bounds-checked.
#[derive(Debug, Clone, Copy)]
pub struct IoVec {
    pub ptr: u32,
    pub len: u32,
}

impl<'a> GuestMem<'a> {
    /// The view for one call of host function `name`, checked against the
    /// memory's watchpoints.
    pub fn for_call(bytes: &'a mut [u8], name: &'static str) -> GuestMem<'a> {
        let watch = HostAccess::begin(bytes.as_ptr(), bytes.len(), name);
        GuestMem { bytes, watch }
    }

    fn note(&self, ptr: u32, len: u64, write: bool) {
        self.watch.note(ptr as u64, len, write);
    }

    /// The range `ptr .. ptr + len` as host indices, or EFAULT.
    fn range(&self, ptr: u32, len: u64) -> Result<std::ops::Range<usize>, Errno> {
        let start = ptr as u64;
        let end = start.checked_add(len).ok_or(errno::FAULT)?;
        if end > self.bytes.len() as u64 {
            return Err(errno::FAULT);
        }
        Ok(start as usize..end as usize)
    }

    /// Fails with EFAULT unless `len` bytes at `ptr` are inside memory.
    pub fn check(&self, ptr: u32, len: u64) -> Result<(), Errno> {
        self.range(ptr, len).map(|_| ())
    }

    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = self.range(ptr, len as u64)?;
        self.note(ptr, len as u64, false);
        self.bytes.get(r).ok_or(errno::FAULT)
    }

    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = self.range(ptr, len as u64)?;
        self.note(ptr, len as u64, true);
        self.bytes.get_mut(r).ok_or(errno::FAULT)
    }

    /// Copies `data` to `ptr`.
    pub fn write_bytes(&mut self, ptr: u32, data: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(data.len()).map_err(|_| errno::FAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    fn array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Errno> {
        let s = self.slice(ptr, N as u32)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    pub fn read_u8(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.array::<1>(ptr)?[0])
    }

    pub fn read_u16(&self, ptr: u32) -> Result<u16, Errno> {
        Ok(u16::from_le_bytes(self.array(ptr)?))
    }

    pub fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.array(ptr)?))
    }

    pub fn read_u64(&self, ptr: u32) -> Result<u64, Errno> {
        Ok(u64::from_le_bytes(self.array(ptr)?))
    }

    pub fn write_u8(&mut self, ptr: u32, v: u8) -> Result<(), Errno> {
        self.write_bytes(ptr, &[v])
    }

    pub fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    pub fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    /// A guest string: EFAULT when out of bounds, EILSEQ when not UTF-8.
    pub fn read_str(&self, ptr: u32, len: u32) -> Result<&str, Errno> {
        std::str::from_utf8(self.slice(ptr, len)?).map_err(|_| errno::ILSEQ)
    }

    /// Reads an array of `count` iovecs at `ptr`, checking that the array and
    /// every buffer it names lie inside memory (EFAULT) and that the total
    /// length fits in the `u32` the call reports back (EINVAL).
    pub fn read_iovecs(&self, ptr: u32, count: u32) -> Result<Vec<IoVec>, Errno> {
        let bytes = (count as u64)
            .checked_mul(IOVEC_SIZE as u64)
            .ok_or(errno::FAULT)?;
        self.check(ptr, bytes)?;
        let mut out = Vec::with_capacity(count as usize);
        let mut total: u64 = 0;
        for i in 0..count {
            let at = ptr.wrapping_add(i.wrapping_mul(IOVEC_SIZE));
            let v = IoVec {
                ptr: self.read_u32(at)?,
                len: self.read_u32(at.wrapping_add(4))?,
            };
            self.check(v.ptr, v.len as u64)?;
            total += v.len as u64;
            if total > u32::MAX as u64 {
                return Err(errno::INVAL);
            }
            out.push(v);
        }
        Ok(out)
    }

    /// Copies `data` into `iovs` in order; returns how many bytes were placed.
    pub fn scatter(&mut self, iovs: &[IoVec], mut data: &[u8]) -> Result<usize, Errno> {
        let mut done = 0;
        for v in iovs {
            if data.is_empty() {
                break;
            }
            let n = (v.len as usize).min(data.len());
            self.slice_mut(v.ptr, n as u32)?.copy_from_slice(&data[..n]);
            data = &data[n..];
            done += n;
        }
        Ok(done)
    }
}

/// Total length of a list of iovecs (fits in u32: `read_iovecs` checked it).
pub fn total_len(iovs: &[IoVec]) -> usize {
    iovs.iter().map(|v| v.len as usize).sum()
}
