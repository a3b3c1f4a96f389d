//! Owner-only files and directories on Windows: a protected DACL (no ACE
//! inherited from the parent) with one entry, full control for the user
//! running msp. A directory's entry is inherited by what is created in it,
//! so the files SQLite and the log create in the data directory are
//! owner-only too. This is what 0600/0700 are on unix; administrators can
//! still take ownership, as root can read any file.

use std::ffi::c_void;
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{null, null_mut};

use windows_sys::Win32::Foundation::{CloseHandle, ERROR_SUCCESS, HANDLE, LocalFree, WIN32_ERROR};
use windows_sys::Win32::Security::Authorization::{
    EXPLICIT_ACCESS_W, GetNamedSecurityInfoW, NO_MULTIPLE_TRUSTEE, SE_FILE_OBJECT, SET_ACCESS,
    SetEntriesInAclW, SetNamedSecurityInfoW, TRUSTEE_IS_SID, TRUSTEE_IS_USER, TRUSTEE_W,
};
use windows_sys::Win32::Security::{
    ACE_HEADER, ACL, DACL_SECURITY_INFORMATION, EqualSid, GetAce, GetSecurityDescriptorControl,
    GetTokenInformation, NO_INHERITANCE, PROTECTED_DACL_SECURITY_INFORMATION, SE_DACL_PROTECTED,
    SUB_CONTAINERS_AND_OBJECTS_INHERIT, TOKEN_QUERY, TOKEN_USER, TokenUser,
};
use windows_sys::Win32::Storage::FileSystem::FILE_ALL_ACCESS;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// `ACCESS_ALLOWED_ACE_TYPE`.
const ACCESS_ALLOWED: u8 = 0;

fn wide(path: &Path) -> Vec<u16> {
    path.as_os_str().encode_wide().chain([0]).collect()
}

fn win_err(code: WIN32_ERROR) -> io::Error {
    io::Error::from_raw_os_error(code as i32)
}

/// The current user's SID, in a buffer the `TOKEN_USER` points into.
struct CurrentUser {
    buf: Vec<u64>,
}

impl CurrentUser {
    fn get() -> io::Result<CurrentUser> {
        let mut token: HANDLE = null_mut();
        // SAFETY: the pseudo handle of this process; `token` receives a handle closed below.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut len = 0u32;
        // SAFETY: asks for the size only.
        unsafe { GetTokenInformation(token, TokenUser, null_mut(), 0, &mut len) };
        let mut buf = vec![0u64; (len as usize).div_ceil(8).max(8)];
        // SAFETY: `buf` holds `len` bytes, 8-aligned for TOKEN_USER.
        let ok = unsafe {
            GetTokenInformation(
                token,
                TokenUser,
                buf.as_mut_ptr().cast(),
                (buf.len() * 8) as u32,
                &mut len,
            )
        };
        let err = io::Error::last_os_error();
        // SAFETY: the handle opened above.
        unsafe { CloseHandle(token) };
        if ok == 0 {
            return Err(err);
        }
        Ok(CurrentUser { buf })
    }

    fn sid(&self) -> *mut c_void {
        // SAFETY: filled by GetTokenInformation(TokenUser).
        unsafe { (*(self.buf.as_ptr() as *const TOKEN_USER)).User.Sid }
    }
}

/// An ACL the system allocated (`SetEntriesInAclW`), freed on drop.
struct LocalAcl(*mut ACL);

impl Drop for LocalAcl {
    fn drop(&mut self) {
        // SAFETY: allocated by SetEntriesInAclW, freed once.
        unsafe { LocalFree(self.0.cast()) };
    }
}

/// Adds `entries` to `old` (none: a new ACL).
fn acl_with(entries: &[EXPLICIT_ACCESS_W], old: Option<&LocalAcl>) -> io::Result<LocalAcl> {
    let mut acl: *mut ACL = null_mut();
    let old = old.map_or(null(), |o| o.0.cast_const());
    // SAFETY: the entries point at SIDs that outlive the call; `acl` is
    // allocated by the system and owned by the returned LocalAcl.
    let code = unsafe { SetEntriesInAclW(entries.len() as u32, entries.as_ptr(), old, &mut acl) };
    if code != ERROR_SUCCESS {
        return Err(win_err(code));
    }
    Ok(LocalAcl(acl))
}

/// An entry of `mode` (grant, set, deny) of `access` for the SID `sid`.
fn entry(sid: *mut c_void, mode: i32, access: u32, inherit: u32) -> EXPLICIT_ACCESS_W {
    EXPLICIT_ACCESS_W {
        grfAccessPermissions: access,
        grfAccessMode: mode,
        grfInheritance: inherit,
        Trustee: TRUSTEE_W {
            pMultipleTrustee: null_mut(),
            MultipleTrusteeOperation: NO_MULTIPLE_TRUSTEE,
            TrusteeForm: TRUSTEE_IS_SID,
            TrusteeType: TRUSTEE_IS_USER,
            ptstrName: sid.cast(),
        },
    }
}

/// The DACL [`restrict`] gives: full control for `user` alone, inherited by
/// what a directory holds.
fn owner_only_acl(user: &CurrentUser, directory: bool) -> io::Result<LocalAcl> {
    let inherit = if directory {
        SUB_CONTAINERS_AND_OBJECTS_INHERIT
    } else {
        NO_INHERITANCE
    };
    acl_with(
        &[entry(user.sid(), SET_ACCESS, FILE_ALL_ACCESS, inherit)],
        None,
    )
}

/// Gives `path` a protected DACL granting full control to the current user
/// only; a directory's entry is inherited by files and directories created
/// in it.
pub fn restrict(path: &Path) -> io::Result<()> {
    let user = CurrentUser::get()?;
    let acl = owner_only_acl(&user, path.is_dir())?;
    let name = wide(path);
    // SAFETY: a NUL-terminated path and the ACL made above.
    let code = unsafe {
        SetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            acl.0,
            null(),
        )
    };
    if code != ERROR_SUCCESS {
        return Err(win_err(code));
    }
    Ok(())
}

/// Whether `path`'s DACL is protected and grants access to the current
/// user alone (deny entries are allowed: they only narrow it).
pub fn is_owner_only(path: &Path) -> io::Result<bool> {
    let user = CurrentUser::get()?;
    let name = wide(path);
    let mut dacl: *mut ACL = null_mut();
    let mut sd: *mut c_void = null_mut();
    // SAFETY: out-pointers to locals; `sd` is freed with LocalFree below and
    // `dacl` points into it.
    let code = unsafe {
        GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            &mut dacl,
            null_mut(),
            &mut sd,
        )
    };
    if code != ERROR_SUCCESS {
        return Err(win_err(code));
    }
    let mut control = 0u16;
    let mut revision = 0u32;
    // SAFETY: `sd` is the descriptor returned above.
    let read = unsafe { GetSecurityDescriptorControl(sd, &mut control, &mut revision) } != 0;
    // SAFETY: `dacl` is null or a valid ACL inside `sd`, which is still alive.
    let verdict = read && unsafe { grants_only(dacl, control, user.sid()) };
    // SAFETY: allocated by GetNamedSecurityInfoW.
    unsafe { LocalFree(sd) };
    Ok(verdict)
}

/// Whether a DACL with these descriptor `control` bits is protected (takes
/// nothing from the parent) and allows access to `sid` alone.
///
/// # Safety
/// `dacl` is null or points at a valid ACL; `sid` at a valid SID.
unsafe fn grants_only(dacl: *const ACL, control: u16, sid: *mut c_void) -> bool {
    // A null DACL grants everyone everything.
    if dacl.is_null() || control & SE_DACL_PROTECTED == 0 {
        return false;
    }
    // SAFETY: a valid ACL (the caller's promise).
    let count = unsafe { (*dacl).AceCount };
    for i in 0..u32::from(count) {
        let mut ace: *mut c_void = null_mut();
        // SAFETY: index below AceCount.
        if unsafe { GetAce(dacl, i, &mut ace) } == 0 {
            return false;
        }
        // SAFETY: every ACE starts with its header.
        let header = unsafe { &*(ace as *const ACE_HEADER) };
        if header.AceType != ACCESS_ALLOWED {
            // Deny and audit entries grant nothing; any other allow kind
            // (object, callback) is treated as a grant to someone else.
            if matches!(header.AceType, 1 | 2) {
                continue;
            }
            return false;
        }
        // ACCESS_ALLOWED_ACE: header, mask, then the SID.
        // SAFETY: the SID starts 8 bytes into an ACCESS_ALLOWED_ACE.
        let allowed = unsafe { (ace as *mut u8).add(8) }.cast::<c_void>();
        // SAFETY: two valid SIDs.
        if unsafe { EqualSid(allowed, sid) } == 0 {
            return false;
        }
    }
    true
}

// The file system's side (that Windows keeps and enforces the DACL set on
// a path) needs a real Windows: Wine 8 keeps no DACL, and reads back one
// made from the unix mode bits. These run the ACLs msp builds and judges
// through the system's own ACL functions.
#[cfg(test)]
mod tests {
    use super::*;
    use windows_sys::Win32::Security::Authorization::{DENY_ACCESS, GRANT_ACCESS};
    use windows_sys::Win32::Security::{CreateWellKnownSid, SECURITY_MAX_SID_SIZE, WinWorldSid};
    use windows_sys::Win32::Storage::FileSystem::FILE_GENERIC_READ;

    /// The owner-only ACL of a directory or a file plus one entry for
    /// Everyone, of `mode` and `access`.
    fn with_everyone(user: &CurrentUser, directory: bool, mode: i32, access: u32) -> LocalAcl {
        let mut sid = vec![0u64; (SECURITY_MAX_SID_SIZE as usize).div_ceil(8)];
        let mut len = SECURITY_MAX_SID_SIZE;
        // SAFETY: `sid` holds SECURITY_MAX_SID_SIZE bytes.
        let ok = unsafe {
            CreateWellKnownSid(WinWorldSid, null_mut(), sid.as_mut_ptr().cast(), &mut len)
        };
        assert_ne!(ok, 0, "{}", io::Error::last_os_error());
        let own = owner_only_acl(user, directory).unwrap();
        let added = entry(sid.as_mut_ptr().cast(), mode, access, NO_INHERITANCE);
        acl_with(&[added], Some(&own)).unwrap()
    }

    fn judge(acl: &LocalAcl, control: u16, user: &CurrentUser) -> bool {
        // SAFETY: an ACL made by SetEntriesInAclW and the token's SID.
        unsafe { grants_only(acl.0, control, user.sid()) }
    }

    #[test]
    fn the_acl_restrict_sets_grants_the_current_user_alone() {
        let user = CurrentUser::get().unwrap();
        for directory in [true, false] {
            let acl = owner_only_acl(&user, directory).unwrap();
            assert!(
                judge(&acl, SE_DACL_PROTECTED, &user),
                "directory: {directory}"
            );
            // The same entries without protection take the parent's too.
            assert!(!judge(&acl, 0, &user), "directory: {directory}");
        }
    }

    #[test]
    fn an_acl_that_lets_everyone_read_is_not_owner_only() {
        let user = CurrentUser::get().unwrap();
        let shared = with_everyone(&user, false, GRANT_ACCESS, FILE_GENERIC_READ);
        assert!(!judge(&shared, SE_DACL_PROTECTED, &user));
        // A null DACL lets everyone in.
        // SAFETY: a null ACL is allowed, and the token's SID.
        assert!(!unsafe { grants_only(null(), SE_DACL_PROTECTED, user.sid()) });
    }

    #[test]
    fn a_deny_entry_keeps_an_acl_owner_only() {
        let user = CurrentUser::get().unwrap();
        let narrowed = with_everyone(&user, true, DENY_ACCESS, FILE_ALL_ACCESS);
        // SAFETY: a valid ACL made above.
        assert_eq!(unsafe { (*narrowed.0).AceCount }, 2);
        assert!(judge(&narrowed, SE_DACL_PROTECTED, &user));
    }
}
