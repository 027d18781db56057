//! The `fd_*` functions: reading, writing, seeking, status, directories
//! and preopens of open descriptors.

use super::abi::*;
use super::errno::{self, Errno};
use super::fs::{self, Kind};
use super::mem::{total_len, GuestMem};
use super::{Args, WasiCtx};
use std::fs::{File, FileTimes};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn io(e: std::io::Error) -> Errno {
    errno::from_io(&e)
}

pub fn fd_read(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (fd, nread_ptr) = (a.u32(0), a.u32(3));
    mem.check(nread_ptr, 4)?;
    let iovs = mem.read_iovecs(a.u32(1), a.u32(2))?;
    let ent = ctx.fds.get(fd)?;
    let n = match &mut ent.kind {
        Kind::Stdin => {
            ent.need(RIGHT_FD_READ)?;
            let data = ctx.stdin.read(total_len(&iovs))?;
            mem.scatter(&iovs, &data)?
        }
        Kind::File(f) => {
            if ent.rights_base & RIGHT_FD_READ == 0 {
                return Err(errno::BADF);
            }
            let mut done = 0usize;
            for v in &iovs {
                let buf = mem.slice_mut(v.ptr, v.len)?;
                let got = match f.read(buf) {
                    Ok(got) => got,
                    Err(_) if done > 0 => break,
                    Err(e) => return Err(io(e)),
                };
                done += got;
                if got < buf.len() {
                    break;
                }
            }
            done
        }
        Kind::Dir(_) => return Err(errno::ISDIR),
        Kind::Stdout | Kind::Stderr => return Err(errno::BADF),
    };
    mem.write_u32(nread_ptr, n as u32)
}

pub fn fd_write(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (fd, nwritten_ptr) = (a.u32(0), a.u32(3));
    mem.check(nwritten_ptr, 4)?;
    let iovs = mem.read_iovecs(a.u32(1), a.u32(2))?;
    let ent = ctx.fds.get(fd)?;
    let n = match &mut ent.kind {
        Kind::Stdout | Kind::Stderr => {
            ent.need(RIGHT_FD_WRITE)?;
            let parts = iovs
                .iter()
                .map(|v| mem.slice(v.ptr, v.len))
                .collect::<Result<Vec<_>, _>>()?;
            let out = if matches!(ent.kind, Kind::Stdout) {
                &mut ctx.stdout
            } else {
                &mut ctx.stderr
            };
            out.write(&parts)?;
            total_len(&iovs)
        }
        Kind::File(f) => {
            if ent.rights_base & RIGHT_FD_WRITE == 0 {
                return Err(errno::BADF);
            }
            let mut done = 0usize;
            for v in &iovs {
                match f.write_all(mem.slice(v.ptr, v.len)?) {
                    Ok(()) => done += v.len as usize,
                    Err(_) if done > 0 => break,
                    Err(e) => return Err(io(e)),
                }
            }
            done
        }
        Kind::Dir(_) => return Err(errno::ISDIR),
        Kind::Stdin => return Err(errno::BADF),
    };
    mem.write_u32(nwritten_ptr, n as u32)
}

/// The open file of a descriptor for positioned I/O: ESPIPE for streams,
/// EISDIR for directories.
fn seekable(kind: &Kind) -> Result<&File, Errno> {
    match kind {
        Kind::File(f) => Ok(f),
        Kind::Dir(_) => Err(errno::ISDIR),
        _ => Err(errno::SPIPE),
    }
}

pub fn fd_pread(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (fd, mut offset, nread_ptr) = (a.u32(0), a.u64(3), a.u32(4));
    mem.check(nread_ptr, 4)?;
    let iovs = mem.read_iovecs(a.u32(1), a.u32(2))?;
    let ent = ctx.fds.get(fd)?;
    let f = seekable(&ent.kind)?;
    ent.need(RIGHT_FD_READ | RIGHT_FD_SEEK)?;
    let mut done = 0usize;
    for v in &iovs {
        let buf = mem.slice_mut(v.ptr, v.len)?;
        let got = match f.read_at(buf, offset) {
            Ok(got) => got,
            Err(_) if done > 0 => break,
            Err(e) => return Err(io(e)),
        };
        done += got;
        offset = offset.checked_add(got as u64).ok_or(errno::INVAL)?;
        if got < buf.len() {
            break;
        }
    }
    mem.write_u32(nread_ptr, done as u32)
}

pub fn fd_pwrite(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (fd, mut offset, nwritten_ptr) = (a.u32(0), a.u64(3), a.u32(4));
    mem.check(nwritten_ptr, 4)?;
    let iovs = mem.read_iovecs(a.u32(1), a.u32(2))?;
    let ent = ctx.fds.get(fd)?;
    let f = seekable(&ent.kind)?;
    ent.need(RIGHT_FD_WRITE | RIGHT_FD_SEEK)?;
    if offset > i64::MAX as u64 {
        return Err(errno::INVAL);
    }
    let mut done = 0usize;
    for v in &iovs {
        match f.write_all_at(mem.slice(v.ptr, v.len)?, offset) {
            Ok(()) => done += v.len as usize,
            Err(_) if done > 0 => break,
            Err(e) => return Err(io(e)),
        }
        offset = offset.checked_add(v.len as u64).ok_or(errno::FBIG)?;
    }
    mem.write_u32(nwritten_ptr, done as u32)
}

pub fn fd_seek(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (fd, offset, whence, newoffset_ptr) = (a.u32(0), a.u64(1) as i64, a.u32(2), a.u32(3));
    mem.check(newoffset_ptr, 8)?;
    let ent = ctx.fds.get(fd)?;
    let right = if offset == 0 && whence == WHENCE_CUR as u32 {
        RIGHT_FD_TELL
    } else {
        RIGHT_FD_SEEK
    };
    let from = match u8::try_from(whence) {
        Ok(WHENCE_SET) => SeekFrom::Start(u64::try_from(offset).map_err(|_| errno::INVAL)?),
        Ok(WHENCE_CUR) => SeekFrom::Current(offset),
        Ok(WHENCE_END) => SeekFrom::End(offset),
        _ => return Err(errno::INVAL),
    };
    let mut f: &File = match &ent.kind {
        Kind::File(f) => f,
        Kind::Dir(_) => return Err(errno::BADF),
        _ => return Err(errno::SPIPE),
    };
    ent.need(right)?;
    let pos = f.seek(from).map_err(io)?;
    mem.write_u64(newoffset_ptr, pos)
}

pub fn fd_tell(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (fd, ptr) = (a.u32(0), a.u32(1));
    mem.check(ptr, 8)?;
    let ent = ctx.fds.get(fd)?;
    let mut f: &File = match &ent.kind {
        Kind::File(f) => f,
        Kind::Dir(_) => return Err(errno::BADF),
        _ => return Err(errno::SPIPE),
    };
    ent.need(RIGHT_FD_TELL)?;
    let pos = f.stream_position().map_err(io)?;
    mem.write_u64(ptr, pos)
}

pub fn fd_close(ctx: &mut WasiCtx, _mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    ctx.fds.remove(a.u32(0)).map(drop)
}

fn sync(ctx: &mut WasiCtx, fd: u32, data_only: bool) -> Result<(), Errno> {
    let ent = ctx.fds.get(fd)?;
    ent.need(if data_only {
        RIGHT_FD_DATASYNC
    } else {
        RIGHT_FD_SYNC
    })?;
    match &ent.kind {
        Kind::File(f) if data_only => f.sync_data().map_err(io),
        Kind::File(f) => f.sync_all().map_err(io),
        Kind::Dir(d) => File::open(&d.host).and_then(|f| f.sync_all()).map_err(io),
        Kind::Stdout => {
            ctx.stdout.flush();
            Ok(())
        }
        Kind::Stderr => {
            ctx.stderr.flush();
            Ok(())
        }
        Kind::Stdin => Err(errno::INVAL),
    }
}

pub fn fd_sync(ctx: &mut WasiCtx, _mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    sync(ctx, a.u32(0), false)
}

pub fn fd_datasync(ctx: &mut WasiCtx, _mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    sync(ctx, a.u32(0), true)
}

pub fn fd_fdstat_get(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let ptr = a.u32(1);
    mem.check(ptr, FDSTAT_SIZE as u64)?;
    let ent = ctx.fds.get(a.u32(0))?;
    let mut b = [0u8; FDSTAT_SIZE as usize];
    b[0] = ent.filetype();
    b[2..4].copy_from_slice(&ent.flags.to_le_bytes());
    b[8..16].copy_from_slice(&ent.rights_base.to_le_bytes());
    b[16..24].copy_from_slice(&ent.rights_inheriting.to_le_bytes());
    mem.write_bytes(ptr, &b)
}

pub fn fd_fdstat_set_flags(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let ent = ctx.fds.get(a.u32(0))?;
    let flags = u16::try_from(a.u32(1)).map_err(|_| errno::INVAL)?;
    let known = FDFLAGS_APPEND | FDFLAGS_DSYNC | FDFLAGS_NONBLOCK | FDFLAGS_RSYNC | FDFLAGS_SYNC;
    if flags & !known != 0 {
        return Err(errno::INVAL);
    }
    ent.need(RIGHT_FD_FDSTAT_SET_FLAGS)?;
    // Changing O_APPEND (or the sync modes) of an open host file needs fcntl;
    // only the non-blocking flag (meaningless here) may change.
    if matches!(ent.kind, Kind::File(_)) && (flags ^ ent.flags) & !FDFLAGS_NONBLOCK != 0 {
        return Err(errno::NOTSUP);
    }
    ent.flags = flags;
    Ok(())
}

pub fn fd_fdstat_set_rights(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let ent = ctx.fds.get(a.u32(0))?;
    let (base, inheriting) = (a.u64(1), a.u64(2));
    if base & !ent.rights_base != 0 || inheriting & !ent.rights_inheriting != 0 {
        return Err(errno::NOTCAPABLE);
    }
    ent.rights_base = base;
    ent.rights_inheriting = inheriting;
    Ok(())
}

pub fn fd_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let ptr = a.u32(1);
    mem.check(ptr, FILESTAT_SIZE as u64)?;
    let ent = ctx.fds.get(a.u32(0))?;
    ent.need(RIGHT_FD_FILESTAT_GET)?;
    let b = match &ent.kind {
        Kind::File(f) => fs::filestat_bytes(&f.metadata().map_err(io)?),
        Kind::Dir(d) => fs::filestat_bytes(&std::fs::metadata(&d.host).map_err(io)?),
        _ => fs::filestat_raw(0, 0, FILETYPE_CHARACTER_DEVICE, 1, 0, [0; 3]),
    };
    mem.write_bytes(ptr, &b)
}

pub fn fd_filestat_set_size(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let ent = ctx.fds.get(a.u32(0))?;
    let size = a.u64(1);
    match &ent.kind {
        Kind::File(f) => {
            ent.need(RIGHT_FD_FILESTAT_SET_SIZE)?;
            if size > i64::MAX as u64 {
                return Err(errno::FBIG);
            }
            f.set_len(size).map_err(io)
        }
        Kind::Dir(_) => Err(errno::ISDIR),
        _ => Err(errno::INVAL),
    }
}

/// The times `fd_filestat_set_times` / `path_filestat_set_times` ask for.
pub fn file_times(atim: u64, mtim: u64, fst: u32) -> Result<FileTimes, Errno> {
    let fst = u16::try_from(fst).map_err(|_| errno::INVAL)?;
    let known = FSTFLAGS_ATIM | FSTFLAGS_ATIM_NOW | FSTFLAGS_MTIM | FSTFLAGS_MTIM_NOW;
    if fst & !known != 0
        || (fst & FSTFLAGS_ATIM != 0 && fst & FSTFLAGS_ATIM_NOW != 0)
        || (fst & FSTFLAGS_MTIM != 0 && fst & FSTFLAGS_MTIM_NOW != 0)
    {
        return Err(errno::INVAL);
    }
    let at = |ns: u64| {
        UNIX_EPOCH
            .checked_add(Duration::from_nanos(ns))
            .ok_or(errno::OVERFLOW)
    };
    let mut t = FileTimes::new();
    if fst & FSTFLAGS_ATIM != 0 {
        t = t.set_accessed(at(atim)?);
    } else if fst & FSTFLAGS_ATIM_NOW != 0 {
        t = t.set_accessed(SystemTime::now());
    }
    if fst & FSTFLAGS_MTIM != 0 {
        t = t.set_modified(at(mtim)?);
    } else if fst & FSTFLAGS_MTIM_NOW != 0 {
        t = t.set_modified(SystemTime::now());
    }
    Ok(t)
}

pub fn fd_filestat_set_times(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let ent = ctx.fds.get(a.u32(0))?;
    let times = file_times(a.u64(1), a.u64(2), a.u32(3))?;
    ent.need(RIGHT_FD_FILESTAT_SET_TIMES)?;
    match &ent.kind {
        Kind::File(f) => f.set_times(times).map_err(io),
        Kind::Dir(d) => File::open(&d.host)
            .and_then(|f| f.set_times(times))
            .map_err(io),
        _ => Ok(()),
    }
}

pub fn fd_advise(ctx: &mut WasiCtx, _mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let ent = ctx.fds.get(a.u32(0))?;
    if a.u32(3) > ADVICE_MAX as u32 {
        return Err(errno::INVAL);
    }
    match ent.kind {
        // Advice is only a hint; accepting and ignoring it is correct.
        Kind::File(_) | Kind::Dir(_) => ent.need(RIGHT_FD_ADVISE),
        _ => Err(errno::SPIPE),
    }
}

pub fn fd_allocate(ctx: &mut WasiCtx, _mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let ent = ctx.fds.get(a.u32(0))?;
    let (offset, len) = (a.u64(1), a.u64(2));
    let f = match &ent.kind {
        Kind::File(f) => f,
        Kind::Dir(_) => return Err(errno::BADF),
        _ => return Err(errno::SPIPE),
    };
    ent.need(RIGHT_FD_ALLOCATE)?;
    if len == 0 {
        return Err(errno::INVAL);
    }
    let end = offset
        .checked_add(len)
        .filter(|&e| e <= i64::MAX as u64)
        .ok_or(errno::FBIG)?;
    // No posix_fallocate in safe Rust: grow the file (sparse) to cover the range.
    if f.metadata().map_err(io)?.len() < end {
        f.set_len(end).map_err(io)?;
    }
    Ok(())
}

pub fn fd_prestat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let ptr = a.u32(1);
    let name_len = match &ctx.fds.get(a.u32(0))?.kind {
        Kind::Dir(fs::DirFd {
            preopen: Some(name),
            ..
        }) => name.len() as u32,
        _ => return Err(errno::BADF),
    };
    let mut b = [0u8; PRESTAT_SIZE as usize];
    b[0] = PREOPENTYPE_DIR;
    b[4..8].copy_from_slice(&name_len.to_le_bytes());
    mem.write_bytes(ptr, &b)
}

pub fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let (ptr, len) = (a.u32(1), a.u32(2));
    let name = match &ctx.fds.get(a.u32(0))?.kind {
        Kind::Dir(fs::DirFd {
            preopen: Some(name),
            ..
        }) => name.as_bytes(),
        _ => return Err(errno::BADF),
    };
    if (len as usize) < name.len() {
        return Err(errno::NAMETOOLONG);
    }
    mem.write_bytes(ptr, name)
}

pub fn fd_readdir(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (buf, buf_len, cookie, used_ptr) = (a.u32(1), a.u32(2), a.u64(3), a.u32(4));
    mem.check(buf, buf_len as u64)?;
    mem.check(used_ptr, 4)?;
    let ent = ctx.fds.get(a.u32(0))?;
    let dir = match &mut ent.kind {
        Kind::Dir(d) => d,
        _ => return Err(errno::NOTDIR),
    };
    if ent.rights_base & RIGHT_FD_READDIR == 0 {
        return Err(errno::NOTCAPABLE);
    }
    if cookie == 0 || dir.listing.is_none() {
        dir.listing = Some(fs::list_dir(&dir.host)?);
    }
    let data = fs::encode_dirents(
        dir.listing.as_deref().unwrap_or_default(),
        cookie,
        buf_len as usize,
    );
    mem.write_bytes(buf, &data)?;
    mem.write_u32(used_ptr, data.len() as u32)
}

pub fn fd_renumber(ctx: &mut WasiCtx, _mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (from, to) = (a.u32(0), a.u32(1));
    if !ctx.fds.contains(from) || !ctx.fds.contains(to) {
        return Err(errno::BADF);
    }
    if from != to {
        let ent = ctx.fds.remove(from)?;
        ctx.fds.insert_at(to, ent);
    }
    Ok(())
}
