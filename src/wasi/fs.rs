//! The descriptor table and the sandbox: resolving guest paths inside a
//! directory descriptor, one component at a time.
//!
//! A guest path is always relative to a directory descriptor (a preopen or a
//! directory opened below one); that directory is the root the path may not
//! leave. [`resolve`] walks the path component by component on the host:
//! `.` is skipped, `..` pops a component and fails with `ENOTCAPABLE` when
//! there is none left to pop, every other component is looked up with
//! `symlink_metadata`, and a symbolic link is read and its target spliced
//! into the remaining components (an absolute target is `ENOTCAPABLE`, a
//! relative one is resolved by the same rules, so `..` inside a link cannot
//! climb out either). The host path produced therefore contains no symbolic
//! links and no `..`, except possibly a final link the caller asked not to
//! follow. Files are then opened with `O_NOFOLLOW`, so a final component that
//! became a link after resolution is refused by the kernel.
//!
//! Limitation (documented, not hidden): without `openat` (which needs
//! `unsafe` here) an intermediate directory replaced by a symbolic link by
//! another host process between resolution and use is not detected. Guests
//! cannot do that themselves: every link they create goes through the same
//! resolution.

use super::abi::*;
use super::errno::{self, Errno};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, Metadata};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirEntryExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// How many symbolic links one resolution may expand (Linux's MAXSYMLINKS is 40).
const MAX_SYMLINKS: u32 = 40;

/// Most descriptors a guest may hold open at once.
const MAX_FDS: usize = 1024;

/// What a descriptor refers to.
pub enum Kind {
    Stdin,
    Stdout,
    Stderr,
    File(File),
    Dir(DirFd),
}

/// A directory descriptor: a host directory that is the root of the guest
/// paths resolved through it.
pub struct DirFd {
    /// Host path: free of symbolic links and `..` (canonical for preopens).
    pub host: PathBuf,
    /// The guest name when this is a preopened directory.
    pub preopen: Option<String>,
    /// Entries listed by the last `fd_readdir` with cookie 0; later cookies
    /// index into it, so a listing is stable while the guest pages through it.
    pub listing: Option<Vec<DirItem>>,
}

/// One directory entry as `fd_readdir` reports it.
pub struct DirItem {
    pub name: Vec<u8>,
    pub ino: u64,
    pub filetype: u8,
}

/// One open descriptor.
pub struct Entry {
    pub kind: Kind,
    pub rights_base: u64,
    pub rights_inheriting: u64,
    pub flags: u16,
}

impl Entry {
    pub fn new(kind: Kind, rights_base: u64, rights_inheriting: u64, flags: u16) -> Entry {
        Entry {
            kind,
            rights_base,
            rights_inheriting,
            flags,
        }
    }

    /// ENOTCAPABLE unless the descriptor holds every right in `rights`.
    pub fn need(&self, rights: u64) -> Result<(), Errno> {
        if self.rights_base & rights == rights {
            Ok(())
        } else {
            Err(errno::NOTCAPABLE)
        }
    }

    pub fn filetype(&self) -> u8 {
        match &self.kind {
            Kind::Stdin | Kind::Stdout | Kind::Stderr => FILETYPE_CHARACTER_DEVICE,
            Kind::Dir(_) => FILETYPE_DIRECTORY,
            Kind::File(f) => f
                .metadata()
                .map(|m| filetype_of(&m.file_type()))
                .unwrap_or(FILETYPE_UNKNOWN),
        }
    }

    /// The directory of a directory descriptor: ENOTDIR for other kinds.
    pub fn dir(&mut self) -> Result<&mut DirFd, Errno> {
        match &mut self.kind {
            Kind::Dir(d) => Ok(d),
            _ => Err(errno::NOTDIR),
        }
    }
}

/// The descriptor table. New descriptors take the lowest free number, as POSIX does.
#[derive(Default)]
pub struct FdTable {
    map: BTreeMap<u32, Entry>,
}

impl FdTable {
    pub fn get(&mut self, fd: u32) -> Result<&mut Entry, Errno> {
        self.map.get_mut(&fd).ok_or(errno::BADF)
    }

    pub fn contains(&self, fd: u32) -> bool {
        self.map.contains_key(&fd)
    }

    pub fn insert(&mut self, entry: Entry) -> Result<u32, Errno> {
        if self.map.len() >= MAX_FDS {
            return Err(errno::MFILE);
        }
        let mut fd = 0u32;
        for &used in self.map.keys() {
            if used != fd {
                break;
            }
            fd += 1;
        }
        self.map.insert(fd, entry);
        Ok(fd)
    }

    pub fn insert_at(&mut self, fd: u32, entry: Entry) {
        self.map.insert(fd, entry);
    }

    pub fn remove(&mut self, fd: u32) -> Result<Entry, Errno> {
        self.map.remove(&fd).ok_or(errno::BADF)
    }
}

/// A guest path resolved to a host path inside a directory descriptor.
#[derive(Debug)]
pub struct Resolved {
    pub host: PathBuf,
    /// Components below the root (0: the root itself).
    pub depth: usize,
    /// The guest path ends in a normal name (not `.`, `..` or nothing), so it
    /// can be created, removed or renamed.
    pub named: bool,
    /// The path ended with `/` (or `/.`): the target must be a directory.
    pub must_dir: bool,
}

impl Resolved {
    /// `symlink_metadata` of the target (it is a link only when not followed).
    pub fn metadata(&self) -> Result<Metadata, Errno> {
        fs::symlink_metadata(&self.host).map_err(|e| errno::from_io(&e))
    }

    /// Creating or removing the target needs a name of its own.
    pub fn need_name(&self, err: Errno) -> Result<(), Errno> {
        if self.named && self.depth > 0 {
            Ok(())
        } else {
            Err(err)
        }
    }
}

/// Splits a path into its components, dropping empty ones and `.`; also
/// says whether the path ends as a directory would (`x/` or `x/.`).
fn components(path: &[u8]) -> (Vec<OsString>, bool) {
    let parts: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    let dir_suffix = matches!(parts.last(), Some(&b"") | Some(&b".")) && parts.len() > 1;
    let comps = parts
        .into_iter()
        .filter(|c| !c.is_empty() && *c != b".")
        .map(|c| OsString::from_vec(c.to_vec()))
        .collect();
    (comps, dir_suffix)
}

/// Resolves guest `path` below the directory `root` (see the module comment).
/// `follow_final`: a symbolic link as the last component is followed too.
pub fn resolve(root: &Path, path: &str, follow_final: bool) -> Result<Resolved, Errno> {
    if path.is_empty() {
        return Err(errno::NOENT);
    }
    if path.contains('\0') {
        return Err(errno::INVAL);
    }
    if path.starts_with('/') {
        return Err(errno::NOTCAPABLE);
    }
    let (comps, mut must_dir) = components(path.as_bytes());
    let follow_final = follow_final || must_dir;
    let mut named = comps.last().is_some_and(|c| c.as_bytes() != b"..");
    // Remaining components, in reverse so the next one is at the end.
    let mut todo: Vec<OsString> = comps.into_iter().rev().collect();
    let mut stack: Vec<OsString> = Vec::new();
    let mut host = root.to_path_buf();
    let mut links = 0u32;
    while let Some(comp) = todo.pop() {
        let is_last = todo.is_empty();
        if comp.as_bytes() == b".." {
            if stack.pop().is_none() {
                return Err(errno::NOTCAPABLE);
            }
            host.pop();
            if is_last {
                named = false;
            }
            continue;
        }
        let candidate = host.join(&comp);
        match fs::symlink_metadata(&candidate) {
            Ok(md) if md.file_type().is_symlink() && (!is_last || follow_final) => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(errno::LOOP);
                }
                let target = fs::read_link(&candidate).map_err(|e| errno::from_io(&e))?;
                let bytes = target.as_os_str().as_bytes();
                if bytes.is_empty() {
                    return Err(errno::NOENT);
                }
                if bytes.starts_with(b"/") {
                    return Err(errno::NOTCAPABLE);
                }
                let (mut tcomps, tdir) = components(bytes);
                if is_last {
                    must_dir |= tdir;
                    named = tcomps.last().is_some_and(|c| c.as_bytes() != b"..");
                }
                // The link's components come next, in order.
                tcomps.reverse();
                todo.extend(tcomps);
            }
            Ok(md) => {
                if !is_last && !md.is_dir() {
                    return Err(errno::NOTDIR);
                }
                stack.push(comp);
                host = candidate;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && is_last => {
                stack.push(comp);
                host = candidate;
            }
            Err(e) => return Err(errno::from_io(&e)),
        }
    }
    if must_dir {
        if let Ok(md) = fs::symlink_metadata(&host) {
            if !md.is_dir() {
                return Err(errno::NOTDIR);
            }
        }
    }
    Ok(Resolved {
        host,
        depth: stack.len(),
        named,
        must_dir,
    })
}

pub fn filetype_of(ft: &fs::FileType) -> u8 {
    if ft.is_symlink() {
        FILETYPE_SYMBOLIC_LINK
    } else if ft.is_dir() {
        FILETYPE_DIRECTORY
    } else if ft.is_file() {
        FILETYPE_REGULAR_FILE
    } else if ft.is_char_device() {
        FILETYPE_CHARACTER_DEVICE
    } else if ft.is_block_device() {
        FILETYPE_BLOCK_DEVICE
    } else if ft.is_socket() {
        FILETYPE_SOCKET_STREAM
    } else {
        FILETYPE_UNKNOWN
    }
}

fn nanos(secs: i64, nsecs: i64) -> u64 {
    (secs as i128 * 1_000_000_000 + nsecs as i128).clamp(0, u64::MAX as i128) as u64
}

/// The 64-byte `filestat` of a host file.
pub fn filestat_bytes(md: &Metadata) -> [u8; FILESTAT_SIZE as usize] {
    filestat_raw(
        md.dev(),
        md.ino(),
        filetype_of(&md.file_type()),
        md.nlink(),
        md.size(),
        [
            nanos(md.atime(), md.atime_nsec()),
            nanos(md.mtime(), md.mtime_nsec()),
            nanos(md.ctime(), md.ctime_nsec()),
        ],
    )
}

/// A `filestat` from its fields: dev, ino, filetype, nlink, size, [atim, mtim, ctim].
pub fn filestat_raw(
    dev: u64,
    ino: u64,
    ft: u8,
    nlink: u64,
    size: u64,
    times: [u64; 3],
) -> [u8; 64] {
    let mut b = [0u8; 64];
    b[0..8].copy_from_slice(&dev.to_le_bytes());
    b[8..16].copy_from_slice(&ino.to_le_bytes());
    b[16] = ft;
    b[24..32].copy_from_slice(&nlink.to_le_bytes());
    b[32..40].copy_from_slice(&size.to_le_bytes());
    b[40..48].copy_from_slice(&times[0].to_le_bytes());
    b[48..56].copy_from_slice(&times[1].to_le_bytes());
    b[56..64].copy_from_slice(&times[2].to_le_bytes());
    b
}

/// Lists a directory for `fd_readdir`: `.` and `..` first, then the entries
/// sorted by name (a stable order, so cookies stay meaningful).
pub fn list_dir(dir: &Path) -> Result<Vec<DirItem>, Errno> {
    let md = fs::metadata(dir).map_err(|e| errno::from_io(&e))?;
    let parent_ino = dir
        .parent()
        .and_then(|p| fs::metadata(p).ok())
        .map_or(md.ino(), |m| m.ino());
    let mut items = vec![
        DirItem {
            name: b".".to_vec(),
            ino: md.ino(),
            filetype: FILETYPE_DIRECTORY,
        },
        DirItem {
            name: b"..".to_vec(),
            ino: parent_ino,
            filetype: FILETYPE_DIRECTORY,
        },
    ];
    let mut rest = Vec::new();
    for ent in fs::read_dir(dir).map_err(|e| errno::from_io(&e))? {
        let ent = ent.map_err(|e| errno::from_io(&e))?;
        let filetype = ent
            .file_type()
            .map(|t| filetype_of(&t))
            .unwrap_or(FILETYPE_UNKNOWN);
        rest.push(DirItem {
            name: ent.file_name().into_vec(),
            ino: ent.ino(),
            filetype,
        });
    }
    rest.sort_by(|a, b| a.name.cmp(&b.name));
    items.extend(rest);
    Ok(items)
}

/// Encodes entries from index `cookie` on into a `fd_readdir` buffer of
/// `cap` bytes: each a 24-byte `dirent` then the name; the last one may be
/// cut off (the guest sees a full buffer and asks again).
pub fn encode_dirents(items: &[DirItem], cookie: u64, cap: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, it) in items.iter().enumerate().skip(start) {
        if out.len() >= cap {
            break;
        }
        let mut d = [0u8; DIRENT_SIZE as usize];
        d[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        d[8..16].copy_from_slice(&it.ino.to_le_bytes());
        d[16..20].copy_from_slice(&(it.name.len() as u32).to_le_bytes());
        d[20] = it.filetype;
        out.extend_from_slice(&d);
        out.extend_from_slice(&it.name);
    }
    out.truncate(cap);
    out
}

/// Canonical host path of a directory to preopen.
pub fn preopen_path(host: &Path) -> std::io::Result<PathBuf> {
    let p = fs::canonicalize(host)?;
    if !fs::metadata(&p)?.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a directory",
        ));
    }
    Ok(p)
}

/// The target of a new symbolic link, checked: relative, no NUL.
pub fn symlink_target(s: &str) -> Result<&OsStr, Errno> {
    if s.is_empty() || s.contains('\0') {
        return Err(errno::INVAL);
    }
    if s.starts_with('/') {
        return Err(errno::NOTCAPABLE);
    }
    Ok(OsStr::new(s))
}
