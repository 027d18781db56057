//! WASI preview 1 error numbers (`errno`) and the mapping from host I/O errors.
//!
//! The values are the ones `wasi_snapshot_preview1` defines (witx `$errno`,
//! a `u16`); they are not the host's `libc` numbers.

use std::io;

/// A WASI error number.
pub type Errno = u16;

pub const SUCCESS: Errno = 0;
pub const TOOBIG: Errno = 1;
pub const ACCES: Errno = 2;
pub const ADDRINUSE: Errno = 3;
pub const ADDRNOTAVAIL: Errno = 4;
pub const AFNOSUPPORT: Errno = 5;
pub const AGAIN: Errno = 6;
pub const ALREADY: Errno = 7;
pub const BADF: Errno = 8;
pub const BADMSG: Errno = 9;
pub const BUSY: Errno = 10;
pub const CANCELED: Errno = 11;
pub const CHILD: Errno = 12;
pub const CONNABORTED: Errno = 13;
pub const CONNREFUSED: Errno = 14;
pub const CONNRESET: Errno = 15;
pub const DEADLK: Errno = 16;
pub const DESTADDRREQ: Errno = 17;
pub const DOM: Errno = 18;
pub const DQUOT: Errno = 19;
pub const EXIST: Errno = 20;
pub const FAULT: Errno = 21;
pub const FBIG: Errno = 22;
pub const HOSTUNREACH: Errno = 23;
pub const IDRM: Errno = 24;
pub const ILSEQ: Errno = 25;
pub const INPROGRESS: Errno = 26;
pub const INTR: Errno = 27;
pub const INVAL: Errno = 28;
pub const IO: Errno = 29;
pub const ISCONN: Errno = 30;
pub const ISDIR: Errno = 31;
pub const LOOP: Errno = 32;
pub const MFILE: Errno = 33;
pub const MLINK: Errno = 34;
pub const MSGSIZE: Errno = 35;
pub const MULTIHOP: Errno = 36;
pub const NAMETOOLONG: Errno = 37;
pub const NETDOWN: Errno = 38;
pub const NETRESET: Errno = 39;
pub const NETUNREACH: Errno = 40;
pub const NFILE: Errno = 41;
pub const NOBUFS: Errno = 42;
pub const NODEV: Errno = 43;
pub const NOENT: Errno = 44;
pub const NOEXEC: Errno = 45;
pub const NOLCK: Errno = 46;
pub const NOLINK: Errno = 47;
pub const NOMEM: Errno = 48;
pub const NOMSG: Errno = 49;
pub const NOPROTOOPT: Errno = 50;
pub const NOSPC: Errno = 51;
pub const NOSYS: Errno = 52;
pub const NOTCONN: Errno = 53;
pub const NOTDIR: Errno = 54;
pub const NOTEMPTY: Errno = 55;
pub const NOTRECOVERABLE: Errno = 56;
pub const NOTSOCK: Errno = 57;
pub const NOTSUP: Errno = 58;
pub const NOTTY: Errno = 59;
pub const NXIO: Errno = 60;
pub const OVERFLOW: Errno = 61;
pub const OWNERDEAD: Errno = 62;
pub const PERM: Errno = 63;
pub const PIPE: Errno = 64;
pub const PROTO: Errno = 65;
pub const PROTONOSUPPORT: Errno = 66;
pub const PROTOTYPE: Errno = 67;
pub const RANGE: Errno = 68;
pub const ROFS: Errno = 69;
pub const SPIPE: Errno = 70;
pub const SRCH: Errno = 71;
pub const STALE: Errno = 72;
pub const TIMEDOUT: Errno = 73;
pub const TXTBSY: Errno = 74;
pub const XDEV: Errno = 75;
pub const NOTCAPABLE: Errno = 76;

/// The WASI errno for a host I/O error: by the OS error number when there is
/// one, otherwise by the error kind.
pub fn from_io(e: &io::Error) -> Errno {
    if let Some(code) = e.raw_os_error() {
        if let Some(n) = from_os(code) {
            return n;
        }
    }
    use io::ErrorKind as K;
    match e.kind() {
        K::NotFound => NOENT,
        K::PermissionDenied => ACCES,
        K::AlreadyExists => EXIST,
        K::InvalidInput | K::InvalidData => INVAL,
        K::BrokenPipe => PIPE,
        K::WouldBlock => AGAIN,
        K::Interrupted => INTR,
        K::Unsupported => NOTSUP,
        K::OutOfMemory => NOMEM,
        K::UnexpectedEof | K::WriteZero => IO,
        K::TimedOut => TIMEDOUT,
        K::NotADirectory => NOTDIR,
        K::IsADirectory => ISDIR,
        K::DirectoryNotEmpty => NOTEMPTY,
        K::ReadOnlyFilesystem => ROFS,
        K::StorageFull => NOSPC,
        K::FileTooLarge => FBIG,
        K::CrossesDevices => XDEV,
        K::TooManyLinks => MLINK,
        K::InvalidFilename => INVAL,
        _ => IO,
    }
}

/// The WASI errno for a host `errno` value (None for numbers WASI lacks).
fn from_os(code: i32) -> Option<Errno> {
    Some(match code {
        libc::E2BIG => TOOBIG,
        libc::EACCES => ACCES,
        libc::EADDRINUSE => ADDRINUSE,
        libc::EADDRNOTAVAIL => ADDRNOTAVAIL,
        libc::EAFNOSUPPORT => AFNOSUPPORT,
        libc::EAGAIN => AGAIN,
        libc::EALREADY => ALREADY,
        libc::EBADF => BADF,
        libc::EBADMSG => BADMSG,
        libc::EBUSY => BUSY,
        libc::ECANCELED => CANCELED,
        libc::ECHILD => CHILD,
        libc::ECONNABORTED => CONNABORTED,
        libc::ECONNREFUSED => CONNREFUSED,
        libc::ECONNRESET => CONNRESET,
        libc::EDEADLK => DEADLK,
        libc::EDESTADDRREQ => DESTADDRREQ,
        libc::EDOM => DOM,
        libc::EDQUOT => DQUOT,
        libc::EEXIST => EXIST,
        libc::EFAULT => FAULT,
        libc::EFBIG => FBIG,
        libc::EHOSTUNREACH => HOSTUNREACH,
        libc::EIDRM => IDRM,
        libc::EILSEQ => ILSEQ,
        libc::EINPROGRESS => INPROGRESS,
        libc::EINTR => INTR,
        libc::EINVAL => INVAL,
        libc::EIO => IO,
        libc::EISCONN => ISCONN,
        libc::EISDIR => ISDIR,
        libc::ELOOP => LOOP,
        libc::EMFILE => MFILE,
        libc::EMLINK => MLINK,
        libc::EMSGSIZE => MSGSIZE,
        libc::EMULTIHOP => MULTIHOP,
        libc::ENAMETOOLONG => NAMETOOLONG,
        libc::ENETDOWN => NETDOWN,
        libc::ENETRESET => NETRESET,
        libc::ENETUNREACH => NETUNREACH,
        libc::ENFILE => NFILE,
        libc::ENOBUFS => NOBUFS,
        libc::ENODEV => NODEV,
        libc::ENOENT => NOENT,
        libc::ENOEXEC => NOEXEC,
        libc::ENOLCK => NOLCK,
        libc::ENOLINK => NOLINK,
        libc::ENOMEM => NOMEM,
        libc::ENOMSG => NOMSG,
        libc::ENOPROTOOPT => NOPROTOOPT,
        libc::ENOSPC => NOSPC,
        libc::ENOSYS => NOSYS,
        libc::ENOTCONN => NOTCONN,
        libc::ENOTDIR => NOTDIR,
        libc::ENOTEMPTY => NOTEMPTY,
        libc::ENOTRECOVERABLE => NOTRECOVERABLE,
        libc::ENOTSOCK => NOTSOCK,
        libc::ENOTSUP => NOTSUP,
        libc::ENOTTY => NOTTY,
        libc::ENXIO => NXIO,
        libc::EOVERFLOW => OVERFLOW,
        libc::EOWNERDEAD => OWNERDEAD,
        libc::EPERM => PERM,
        libc::EPIPE => PIPE,
        libc::EPROTO => PROTO,
        libc::EPROTONOSUPPORT => PROTONOSUPPORT,
        libc::EPROTOTYPE => PROTOTYPE,
        libc::ERANGE => RANGE,
        libc::EROFS => ROFS,
        libc::ESPIPE => SPIPE,
        libc::ESRCH => SRCH,
        libc::ESTALE => STALE,
        libc::ETIMEDOUT => TIMEDOUT,
        libc::ETXTBSY => TXTBSY,
        libc::EXDEV => XDEV,
        _ => return None,
    })
}

/// The symbolic name of an errno (for messages and test failures).
pub fn name(e: Errno) -> &'static str {
    #[rustfmt::skip]
    const NAMES: [&str; 77] = [
        "success", "2big", "acces", "addrinuse", "addrnotavail", "afnosupport", "again", "already", "badf", "badmsg",
        "busy", "canceled", "child", "connaborted", "connrefused", "connreset", "deadlk", "destaddrreq", "dom",
        "dquot", "exist", "fault", "fbig", "hostunreach", "idrm", "ilseq", "inprogress", "intr", "inval", "io",
        "isconn", "isdir", "loop", "mfile", "mlink", "msgsize", "multihop", "nametoolong", "netdown", "netreset",
        "netunreach", "nfile", "nobufs", "nodev", "noent", "noexec", "nolck", "nolink", "nomem", "nomsg",
        "noprotoopt", "nospc", "nosys", "notconn", "notdir", "notempty", "notrecoverable", "notsock", "notsup",
        "notty", "nxio", "overflow", "ownerdead", "perm", "pipe", "proto", "protonosupport", "prototype", "range",
        "rofs", "spipe", "srch", "stale", "timedout", "txtbsy", "xdev", "notcapable",
    ];
    NAMES.get(e as usize).copied().unwrap_or("unknown")
}
