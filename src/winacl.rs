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

/// Gives `path` a protected DACL granting full control to the current user
/// only; a directory's entry is inherited by files and directories created
/// in it.
pub fn restrict(path: &Path) -> io::Result<()> {
    let user = CurrentUser::get()?;
    let inherit = if path.is_dir() {
        SUB_CONTAINERS_AND_OBJECTS_INHERIT
    } else {
        NO_INHERITANCE
    };
    let access = EXPLICIT_ACCESS_W {
        grfAccessPermissions: FILE_ALL_ACCESS,
        grfAccessMode: SET_ACCESS,
        grfInheritance: inherit,
        Trustee: TRUSTEE_W {
            pMultipleTrustee: null_mut(),
            MultipleTrusteeOperation: NO_MULTIPLE_TRUSTEE,
            TrusteeForm: TRUSTEE_IS_SID,
            TrusteeType: TRUSTEE_IS_USER,
            ptstrName: user.sid().cast(),
        },
    };
    let mut acl: *mut ACL = null_mut();
    // SAFETY: one entry pointing at a SID that outlives the call; `acl` is
    // allocated by the system and freed with LocalFree below.
    let code = unsafe { SetEntriesInAclW(1, &access, null(), &mut acl) };
    if code != ERROR_SUCCESS {
        return Err(win_err(code));
    }
    let name = wide(path);
    // SAFETY: a NUL-terminated path and the ACL made above.
    let code = unsafe {
        SetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            acl,
            null(),
        )
    };
    // SAFETY: allocated by SetEntriesInAclW.
    unsafe { LocalFree(acl.cast()) };
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
    let verdict = (|| {
        // A null DACL grants everyone everything.
        if dacl.is_null() {
            return false;
        }
        let mut control = 0u16;
        let mut revision = 0u32;
        // SAFETY: `sd` is the descriptor returned above.
        if unsafe { GetSecurityDescriptorControl(sd, &mut control, &mut revision) } == 0
            || control & SE_DACL_PROTECTED == 0
        {
            return false;
        }
        // SAFETY: `dacl` is a valid ACL inside `sd`.
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
            let sid = unsafe { (ace as *mut u8).add(8) }.cast::<c_void>();
            // SAFETY: two valid SIDs.
            if unsafe { EqualSid(sid, user.sid()) } == 0 {
                return false;
            }
        }
        true
    })();
    // SAFETY: allocated by GetNamedSecurityInfoW.
    unsafe { LocalFree(sd) };
    Ok(verdict)
}
