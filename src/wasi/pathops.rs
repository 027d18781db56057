//! The `path_*` functions. Each resolves its guest path inside a directory
//! descriptor with [`fs::resolve`] (the sandbox) before touching the host.

use super::abi::*;
use super::errno::{self, Errno};
use super::fdops::file_times;
use super::fs::{self, DirFd, Entry, Kind, Resolved};
use super::mem::GuestMem;
use super::{Args, WasiCtx};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

fn io(e: std::io::Error) -> Errno {
    errno::from_io(&e)
}

/// The host directory of directory descriptor `fd` after checking `right`,
/// with the descriptor's inheriting rights.
fn dir_of(ctx: &mut WasiCtx, fd: u32, right: u64) -> Result<(PathBuf, u64), Errno> {
    let ent = ctx.fds.get(fd)?;
    let host = ent.dir()?.host.clone();
    ent.need(right)?;
    Ok((host, ent.rights_inheriting))
}

/// Reads the guest path at (`ptr`, `len`) and resolves it below `fd`.
fn resolve_at(
    ctx: &mut WasiCtx,
    mem: &GuestMem<'_>,
    fd: u32,
    right: u64,
    ptr: u32,
    len: u32,
    follow: bool,
) -> Result<Resolved, Errno> {
    let path = mem.read_str(ptr, len)?;
    let (root, _) = dir_of(ctx, fd, right)?;
    fs::resolve(&root, path, follow)
}

pub fn path_open(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (fd, dirflags, path_ptr, path_len) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    let oflags = u16::try_from(a.u32(4)).map_err(|_| errno::INVAL)?;
    let (want_base, want_inheriting) = (a.u64(5), a.u64(6));
    let fdflags = u16::try_from(a.u32(7)).map_err(|_| errno::INVAL)?;
    let fd_out = a.u32(8);
    mem.check(fd_out, 4)?;
    let path = mem.read_str(path_ptr, path_len)?;
    let (root, parent_inheriting) = dir_of(ctx, fd, RIGHT_PATH_OPEN)?;
    let creat = oflags & OFLAGS_CREAT != 0;
    let excl = oflags & OFLAGS_EXCL != 0;
    let trunc = oflags & OFLAGS_TRUNC != 0;
    if creat {
        ctx.fds.get(fd)?.need(RIGHT_PATH_CREATE_FILE)?;
    }
    if trunc {
        ctx.fds.get(fd)?.need(RIGHT_PATH_FILESTAT_SET_SIZE)?;
    }
    // A new descriptor gets at most what its directory may hand down.
    let base = want_base & parent_inheriting;
    let inheriting = want_inheriting & parent_inheriting;
    let r = fs::resolve(&root, path, dirflags & LOOKUP_SYMLINK_FOLLOW != 0)?;
    let md = std::fs::symlink_metadata(&r.host).ok();
    let is_dir = md.as_ref().is_some_and(|m| m.is_dir());
    let entry = if oflags & OFLAGS_DIRECTORY != 0 || is_dir {
        if oflags & OFLAGS_DIRECTORY != 0 && (creat || trunc) {
            return Err(errno::INVAL);
        }
        match &md {
            None => return Err(errno::NOENT),
            Some(m) if m.file_type().is_symlink() => return Err(errno::LOOP),
            Some(m) if !m.is_dir() => return Err(errno::NOTDIR),
            Some(_) => {}
        }
        if creat && excl {
            return Err(errno::EXIST);
        }
        if trunc || base & RIGHT_FD_WRITE != 0 {
            return Err(errno::ISDIR);
        }
        let dir = DirFd {
            host: r.host.clone(),
            preopen: None,
            listing: None,
        };
        Entry::new(
            Kind::Dir(dir),
            base & RIGHTS_DIR,
            inheriting,
            fdflags & !FDFLAGS_APPEND,
        )
    } else {
        if r.must_dir {
            // "name/" that is not a directory (resolve refused existing non-directories).
            return Err(if creat { errno::ISDIR } else { errno::NOENT });
        }
        let read = base & RIGHT_FD_READ != 0;
        let write = base & (RIGHT_FD_WRITE | RIGHT_FD_FILESTAT_SET_SIZE | RIGHT_FD_ALLOCATE) != 0;
        let exists = md.is_some();
        if creat && excl && exists {
            return Err(errno::EXIST);
        }
        // The host needs write access to create or truncate; the guest's
        // rights (not the host mode) decide what it may do with the file.
        let host_write = write || trunc || (creat && !exists);
        let mut opts = OpenOptions::new();
        opts.read(read || !host_write).write(host_write);
        if write && fdflags & FDFLAGS_APPEND != 0 {
            opts.append(true);
        }
        if creat && excl {
            opts.create_new(true);
        } else if creat && host_write {
            opts.create(true);
        }
        opts.truncate(trunc);
        let mut custom = libc::O_NOFOLLOW;
        if fdflags & FDFLAGS_NONBLOCK != 0 {
            custom |= libc::O_NONBLOCK;
        }
        if fdflags & FDFLAGS_SYNC != 0 {
            custom |= libc::O_SYNC;
        }
        if fdflags & FDFLAGS_DSYNC != 0 {
            custom |= libc::O_DSYNC;
        }
        if fdflags & FDFLAGS_RSYNC != 0 {
            custom |= libc::O_RSYNC;
        }
        opts.custom_flags(custom);
        let file = opts.open(&r.host).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if meta.is_dir() {
            // Became a directory between the check and the open.
            return Err(errno::ISDIR);
        }
        Entry::new(Kind::File(file), base & RIGHTS_FILE, inheriting, fdflags)
    };
    let new_fd = ctx.fds.insert(entry)?;
    mem.write_u32(fd_out, new_fd)
}

pub fn path_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let buf = a.u32(4);
    mem.check(buf, FILESTAT_SIZE as u64)?;
    let follow = a.u32(1) & LOOKUP_SYMLINK_FOLLOW != 0;
    let r = resolve_at(
        ctx,
        mem,
        a.u32(0),
        RIGHT_PATH_FILESTAT_GET,
        a.u32(2),
        a.u32(3),
        follow,
    )?;
    let md = r.metadata()?;
    mem.write_bytes(buf, &fs::filestat_bytes(&md))
}

pub fn path_filestat_set_times(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let follow = a.u32(1) & LOOKUP_SYMLINK_FOLLOW != 0;
    let times = file_times(a.u64(4), a.u64(5), a.u32(6))?;
    let r = resolve_at(
        ctx,
        mem,
        a.u32(0),
        RIGHT_PATH_FILESTAT_SET_TIMES,
        a.u32(2),
        a.u32(3),
        follow,
    )?;
    if r.metadata()?.file_type().is_symlink() {
        // Setting a link's own times needs utimensat(AT_SYMLINK_NOFOLLOW).
        return Err(errno::NOTSUP);
    }
    let open = |write: bool| {
        OpenOptions::new()
            .read(!write)
            .write(write)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&r.host)
    };
    let file: File = open(false).or_else(|_| open(true)).map_err(io)?;
    file.set_times(times).map_err(io)
}

pub fn path_create_directory(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let r = resolve_at(
        ctx,
        mem,
        a.u32(0),
        RIGHT_PATH_CREATE_DIRECTORY,
        a.u32(1),
        a.u32(2),
        false,
    )?;
    r.need_name(errno::EXIST)?;
    std::fs::create_dir(&r.host).map_err(io)
}

pub fn path_remove_directory(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let r = resolve_at(
        ctx,
        mem,
        a.u32(0),
        RIGHT_PATH_REMOVE_DIRECTORY,
        a.u32(1),
        a.u32(2),
        false,
    )?;
    r.need_name(errno::INVAL)?;
    std::fs::remove_dir(&r.host).map_err(io)
}

pub fn path_unlink_file(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let r = resolve_at(
        ctx,
        mem,
        a.u32(0),
        RIGHT_PATH_UNLINK_FILE,
        a.u32(1),
        a.u32(2),
        false,
    )?;
    r.need_name(errno::ISDIR)?;
    if r.must_dir || r.metadata()?.is_dir() {
        return Err(errno::ISDIR);
    }
    std::fs::remove_file(&r.host).map_err(io)
}

pub fn path_rename(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let from = resolve_at(
        ctx,
        mem,
        a.u32(0),
        RIGHT_PATH_RENAME_SOURCE,
        a.u32(1),
        a.u32(2),
        false,
    )?;
    let to = resolve_at(
        ctx,
        mem,
        a.u32(3),
        RIGHT_PATH_RENAME_TARGET,
        a.u32(4),
        a.u32(5),
        false,
    )?;
    from.need_name(errno::INVAL)?;
    to.need_name(errno::INVAL)?;
    std::fs::rename(&from.host, &to.host).map_err(io)
}

pub fn path_link(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let follow = a.u32(1) & LOOKUP_SYMLINK_FOLLOW != 0;
    let from = resolve_at(
        ctx,
        mem,
        a.u32(0),
        RIGHT_PATH_LINK_SOURCE,
        a.u32(2),
        a.u32(3),
        follow,
    )?;
    let to = resolve_at(
        ctx,
        mem,
        a.u32(4),
        RIGHT_PATH_LINK_TARGET,
        a.u32(5),
        a.u32(6),
        false,
    )?;
    from.need_name(errno::PERM)?;
    to.need_name(errno::EXIST)?;
    std::fs::hard_link(&from.host, &to.host).map_err(io)
}

pub fn path_readlink(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (buf, buf_len, used_ptr) = (a.u32(3), a.u32(4), a.u32(5));
    mem.check(buf, buf_len as u64)?;
    mem.check(used_ptr, 4)?;
    let r = resolve_at(
        ctx,
        mem,
        a.u32(0),
        RIGHT_PATH_READLINK,
        a.u32(1),
        a.u32(2),
        false,
    )?;
    let target = std::fs::read_link(&r.host).map_err(io)?;
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str());
    // Like readlink(2): a short buffer gets the first bytes.
    let n = bytes.len().min(buf_len as usize);
    mem.write_bytes(buf, &bytes[..n])?;
    mem.write_u32(used_ptr, n as u32)
}

/// `path_symlink(old_path, fd, new_path)`: the link's target must be
/// relative (an absolute one could never be followed inside the sandbox:
/// ENOTCAPABLE); its `..` components are checked when it is followed.
pub fn path_symlink(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let target = mem.read_str(a.u32(0), a.u32(1))?;
    let target = fs::symlink_target(target)?.to_owned();
    let r = resolve_at(
        ctx,
        mem,
        a.u32(2),
        RIGHT_PATH_SYMLINK,
        a.u32(3),
        a.u32(4),
        false,
    )?;
    r.need_name(errno::EXIST)?;
    if r.must_dir {
        return Err(errno::NOENT);
    }
    std::os::unix::fs::symlink(target, &r.host).map_err(io)
}
