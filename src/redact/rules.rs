//! The built-in rules, each beside its examples (see [`super::corpus`] for
//! the example syntax: `«…»` marks the secret, `{a:N}` a fake one).
//!
//! - [`SHAPES`]: tokens whose format alone identifies them.
//! - [`TRIGGERS`]: a trigger (a command and flag, a config line, a label)
//!   after which the value is a secret.
//! - [`LAYERS`]: examples of the context, structure and entropy layers, whose
//!   logic is code in `context.rs` and `entropy.rs`.

use super::corpus::Examples;
use super::keys::{pair_password, strong_value};

/// One shape: a pattern that identifies a secret by its format. A
/// `(?P<s>…)` group, when present, marks the secret part (the rest, e.g. a
/// webhook's host, is kept).
pub(super) struct Shape {
    pub(super) name: &'static str,
    pub(super) kind: &'static str,
    pub(super) pattern: &'static str,
    pub(super) check: Option<fn(&str) -> bool>,
    pub(super) examples: &'static [&'static str],
}

const fn shape(
    name: &'static str,
    kind: &'static str,
    pattern: &'static str,
    examples: &'static [&'static str],
) -> Shape {
    Shape {
        name,
        kind,
        pattern,
        check: None,
        examples,
    }
}

const fn shape_checked(
    name: &'static str,
    kind: &'static str,
    pattern: &'static str,
    check: fn(&str) -> bool,
    examples: &'static [&'static str],
) -> Shape {
    Shape {
        name,
        kind,
        pattern,
        check: Some(check),
        examples,
    }
}

// `(?-u:\b)` is an ASCII word boundary: a Unicode `\b` would push the regex
// crate off its fast DFA for any non-ASCII input.
pub(super) const SHAPES: &[Shape] = &[
    // Whole PEM block. The body accepts real newlines, JSON-escaped `\n`
    // (any number of backslashes) and `Proc-Type:`/`DEK-Info:` headers. The
    // footer is optional so a truncated key is still covered. The header
    // alternative comes first: alternatives are tried in order, and the body
    // alternative would otherwise eat `Proc` of `Proc-Type:` and stop at `-`.
    shape_checked(
        "pem-private-key",
        "private-key",
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z][A-Za-z0-9\-]*:[ \t]*[^\n\\]*|[A-Za-z0-9+/=\s]|\\+[nrt])*(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----)?",
        pem_is_key,
        &[
            "$ cat key.pem\n«-----BEGIN PRIVATE KEY-----\n{b:64}\n{b:64}\n{b:20}==\n-----END PRIVATE KEY-----»\n$ ls\n",
            "{\"key\": \"«-----BEGIN RSA PRIVATE KEY-----\\n{b:64}\\n{b:64}\\n-----END RSA PRIVATE KEY-----»\"}",
        ],
    ),
    shape(
        "age-secret-key",
        "private-key",
        r"AGE-SECRET-KEY-1[0-9A-Z]{58}",
        &["# created: 2024-01-01\n«AGE-SECRET-KEY-1{A:58}»\n"],
    ),
    // PuTTY key files keep the private part in `Private-Lines:` base64.
    shape(
        "putty-private-key",
        "private-key",
        r"Private-Lines:[ \t]*[0-9]+[ \t]*\r?\n(?P<s>(?:[A-Za-z0-9+/=]{4,}[ \t]*(?:\r?\n|$))+)",
        &[
            "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nComment: rsa-key-20240101\nPublic-Lines: 1\nAAAAB3NzaC1yc2EAAAADAQABAAAB\nPrivate-Lines: 3\n«{b:64}\n{b:64}\n{b:40}\n»Private-MAC: 8f2c\n",
        ],
    ),
    // Anthropic before OpenAI: both match `sk-ant-…` from the same start,
    // and the first alternative wins.
    shape(
        "anthropic-key",
        "anthropic-key",
        r"(?-u:\b)sk-ant-[a-z]{2,8}[0-9]{2}-[A-Za-z0-9_\-]{20,}",
        &["export ANTHROPIC_API_KEY «sk-ant-api03-{u:40}»"],
    ),
    shape_checked(
        "openai-key",
        "openai-key",
        r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        has_digit_and_letter,
        &["client = OpenAI(api_key «sk-proj-{a:48}»)"],
    ),
    shape(
        "stripe-key",
        "stripe-key",
        r"(?-u:\b)(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}",
        &["stripe.api_key «sk_live_{a:24}»"],
    ),
    shape(
        "stripe-webhook-secret",
        "stripe-key",
        r"(?-u:\b)whsec_[A-Za-z0-9+/=]{20,}",
        &["endpoint secret «whsec_{a:32}» set"],
    ),
    shape(
        "github-token",
        "github-token",
        r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{36,}",
        &["git remote set-url origin https://github.com/acme/app.git # «ghp_{a:36}»"],
    ),
    shape(
        "github-fine-grained-token",
        "github-token",
        r"(?-u:\b)github_pat_[A-Za-z0-9_]{22,}",
        &["gh auth login with «github_pat_{a:22}_{a:59}»"],
    ),
    shape(
        "gitlab-token",
        "gitlab-token",
        r"(?-u:\b)gl(?:pat|dt|rt|ptt|cbt|soat|ft|imt|oas)-[A-Za-z0-9_\-]{20,}",
        &["PRIVATE-TOKEN header «glpat-{a:20}»"],
    ),
    shape(
        "slack-token",
        "slack-token",
        r"(?-u:\b)xox[abposre]-[A-Za-z0-9\-]{10,}",
        &["bot «xoxb-{d:12}-{d:13}-{a:24}» posts alerts"],
    ),
    shape(
        "slack-app-token",
        "slack-token",
        r"(?-u:\b)xapp-[0-9]+-[A-Za-z0-9\-]{10,}",
        &["socket mode «xapp-1-{A:11}-{d:13}-{h:64}»"],
    ),
    shape(
        "slack-webhook",
        "slack-webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9_/\-]{10,})",
        &["POST https://hooks.slack.com/services/«T{A:8}/B{A:10}/{a:24}»"],
    ),
    shape(
        "discord-webhook",
        "discord-webhook",
        r"discord(?:app)?\.com/api/webhooks/[0-9]+/(?P<s>[A-Za-z0-9_\-]{20,})",
        &["curl https://discord.com/api/webhooks/{d:18}/«{u:68}»"],
    ),
    shape(
        "aws-access-key-id",
        "aws-key",
        r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?-u:\b)",
        &["aws_access_key_id = «AKIA{A:16}»"],
    ),
    shape(
        "gcp-api-key",
        "gcp-api-key",
        r"(?-u:\b)AIza[0-9A-Za-z_\-]{35}",
        &["maps?key «AIza{u:35}»&v=3"],
    ),
    shape(
        "gcp-client-secret",
        "gcp-client-secret",
        r"(?-u:\b)GOCSPX-[A-Za-z0-9_\-]{20,}",
        &["oauth client «GOCSPX-{u:28}»"],
    ),
    shape(
        "google-oauth-token",
        "google-oauth-token",
        r"(?-u:\b)ya29\.[0-9A-Za-z_\-]{20,}",
        &["access «ya29.{u:60}» expires in 3599"],
    ),
    shape(
        "npm-token",
        "npm-token",
        r"(?-u:\b)npm_[A-Za-z0-9]{36}",
        &["//registry.npmjs.org/:_authToken=«npm_{a:36}»"],
    ),
    shape(
        "pypi-token",
        "pypi-token",
        r"(?-u:\b)pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{20,}",
        &["twine upload -u __token__ «pypi-AgEIcHlwaS5vcmc{u:50}»"],
    ),
    shape(
        "sendgrid-key",
        "sendgrid-key",
        r"(?-u:\b)SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}",
        &["smtp relay with «SG.{u:22}.{u:43}»"],
    ),
    shape(
        "twilio-key",
        "twilio-key",
        r"(?-u:\b)SK[0-9a-fA-F]{32}(?-u:\b)",
        &["twilio api key «SK{h:32}»"],
    ),
    shape(
        "huggingface-token",
        "huggingface-token",
        r"(?-u:\b)hf_[A-Za-z0-9]{34,}",
        &["huggingface-cli login «hf_{a:34}»"],
    ),
    shape(
        "jwt",
        "jwt",
        r"(?-u:\b)eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
        &["cookie session «eyJhbGciOiJIUzI1NiJ9.eyJ{u:40}.{u:43}»"],
    ),
    shape(
        "digitalocean-token",
        "digitalocean-token",
        r"(?-u:\b)do[opr]_v1_[a-f0-9]{64}",
        &["doctl auth init «dop_v1_{h:64}»"],
    ),
    shape(
        "shopify-token",
        "shopify-token",
        r"(?-u:\b)shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
        &["X-Shopify-Access-Token «shpat_{h:32}»"],
    ),
    shape(
        "vault-token",
        "vault-token",
        r"(?-u:\b)hv[sbr]\.[A-Za-z0-9_\-]{24,}",
        &["VAULT_TOKEN «hvs.{u:90}»"],
    ),
    shape(
        "grafana-token",
        "grafana-token",
        r"(?-u:\b)(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})",
        &["grafana service account «glsa_{a:32}_{h:8}»"],
    ),
    shape(
        "linear-key",
        "linear-key",
        r"(?-u:\b)lin_api_[A-Za-z0-9]{40}",
        &["linear «lin_api_{a:40}»"],
    ),
    shape(
        "postman-key",
        "postman-key",
        r"(?-u:\b)PMAK-[A-Fa-f0-9]{24}-[A-Fa-f0-9]{34}",
        &["postman «PMAK-{h:24}-{h:34}»"],
    ),
    shape(
        "square-token",
        "square-token",
        r"(?-u:\b)sq0(?:atp|csp)-[0-9A-Za-z_\-]{22,}",
        &["square «sq0atp-{u:22}»"],
    ),
    shape(
        "newrelic-key",
        "newrelic-key",
        r"(?-u:\b)NRAK-[A-Z0-9]{27}",
        &["newrelic «NRAK-{A:27}»"],
    ),
    shape(
        "atlassian-token",
        "atlassian-token",
        r"(?-u:\b)ATATT3[A-Za-z0-9_\-=]{100,}",
        &["jira api «ATATT3{u:120}»"],
    ),
    shape(
        "doppler-token",
        "doppler-token",
        r"(?-u:\b)dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}",
        &["doppler «dp.st.{a:43}»"],
    ),
    shape(
        "sentry-token",
        "sentry-token",
        r"(?-u:\b)sntry[us]_[A-Za-z0-9+/=_]{40,}",
        &["sentry-cli «sntrys_{a:60}»"],
    ),
    shape(
        "mailgun-key",
        "mailgun-key",
        r"(?-u:\b)key-[0-9a-z]{32}(?-u:\b)",
        &["Mailgun key: «key-{l:32}»"],
    ),
];

/// Shapes without a literal prefix, searched as a set of their own: a match
/// here may overlap one of [`SHAPES`], and both are kept (then merged).
pub(super) const SHAPES_UNANCHORED: &[Shape] = &[
    // Azure AD client secrets: `xxx8Q~` followed by 31-34 chars.
    shape(
        "azure-client-secret",
        "azure-client-secret",
        r"(?-u:\b)[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}",
        &["app registration secret value «Ab38Q~{a:34}»"],
    ),
    shape(
        "telegram-token",
        "telegram-token",
        r"(?-u:\b)[0-9]{8,10}:AA[0-9A-Za-z_\-]{33}",
        &["bot «{d:10}:AA{u:33}» online"],
    ),
    shape(
        "mailchimp-key",
        "mailchimp-key",
        r"(?-u:\b)[0-9a-f]{32}-us[0-9]{1,2}(?-u:\b)",
        &["mailchimp «{h:32}-us21»"],
    ),
    // `<user id in base64>.<timestamp>.<hmac>`.
    shape_checked(
        "discord-bot-token",
        "discord-token",
        r"(?-u:\b)[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}(?-u:\b)",
        has_digit_and_letter,
        &["client.run(\"«MT{a:24}.{u:6}.{u:38}»\")"],
    ),
    // `manage-bde -protectors -get C:` prints eight groups of six digits.
    shape(
        "bitlocker-recovery-password",
        "bitlocker-recovery-key",
        r"(?-u:\b)[0-9]{6}(?:-[0-9]{6}){7}(?-u:\b)",
        &[
            "Numerical Password:\n  ID: {5A1B2C3D-0000-4000-8000-123456789ABC}\n  Password:\n    «{d:6}-{d:6}-{d:6}-{d:6}-{d:6}-{d:6}-{d:6}-{d:6}»\n",
            "RecoveryPassword : «{d:6}-{d:6}-{d:6}-{d:6}-{d:6}-{d:6}-{d:6}-{d:6}»",
        ],
    ),
    // The end of a private key whose header was cut away (a truncated tool
    // output keeps only its tail): the base64 lines before the footer.
    shape(
        "pem-private-key-tail",
        "private-key",
        r"(?:[ \t]*(?:[0-9]+\t)?[A-Za-z0-9+/=]{16,}[ \t]*(?:\r?\n|\\+n))+[ \t]*(?:[0-9]+\t)?-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----",
        &[
            "⟦…41210 bytes cut…⟧\n«{b:64}\n{b:64}\n{b:24}==\n-----END OPENSSH PRIVATE KEY-----»\n$ exit\n",
        ],
    ),
    shape(
        "putty-private-key-tail",
        "private-key",
        r"(?P<s>(?:[A-Za-z0-9+/=]{16,}[ \t]*\r?\n)+)Private-MAC:",
        &["⟦…9000 bytes cut…⟧\n«{b:64}\n{b:40}\n»Private-MAC: 8f2c\n"],
    ),
    // Windows and Office product keys: five groups of five.
    shape_checked(
        "product-key",
        "product-key",
        r"(?-u:\b)[A-Z0-9]{5}(?:-[A-Z0-9]{5}){4}(?-u:\b)",
        has_digit_and_upper,
        &["slmgr /ipk «{A:5}-{A:5}-{A:5}-{A:5}-{A:5}»"],
    ),
];

/// How a trigger rule finds its value once its trigger matched.
#[derive(Clone, Copy)]
pub(super) enum ValueAt {
    /// The value starts where the trigger ends (`sshpass -p VALUE`).
    AtEnd,
    /// The value must touch the trigger (`mysql -pVALUE`; `-p VALUE` prompts).
    Adjacent,
    /// The trigger's `(?P<v>…)` group is the value (quotes are dropped).
    Group,
    /// The trigger names a command; each of these flags on the same command
    /// line is followed by a value (`-P VALUE`, `--flag=VALUE`).
    Flags(&'static [&'static str]),
    /// The n-th argument after the trigger that is not a flag; the listed
    /// flags take a value, which is skipped (`openssl passwd -salt S PASSWORD`).
    Positional(usize, &'static [&'static str]),
    /// `net user NAME PASSWORD [/switches]`.
    NetUser,
    /// `net use [X:] \\host\share [PASSWORD] [/user:NAME] [PASSWORD]`.
    NetUse,
}

/// A rule that finds a value after a trigger.
pub(super) struct Trigger {
    pub(super) name: &'static str,
    pub(super) kind: &'static str,
    pub(super) pattern: &'static str,
    pub(super) value: ValueAt,
    /// A stricter test than the usual "is a value, not a reference or a
    /// word", for triggers that also occur in prose.
    pub(super) check: Option<fn(&str) -> bool>,
    pub(super) examples: &'static [&'static str],
}

const fn trigger(
    name: &'static str,
    kind: &'static str,
    value: ValueAt,
    pattern: &'static str,
    examples: &'static [&'static str],
) -> Trigger {
    Trigger {
        name,
        kind,
        pattern,
        value,
        check: None,
        examples,
    }
}

const fn strict(t: Trigger) -> Trigger {
    Trigger {
        check: Some(strong_value),
        ..t
    }
}

const fn paired(t: Trigger) -> Trigger {
    Trigger {
        check: Some(pair_password),
        ..t
    }
}

/// Searched as one alternation (see `lazy.rs`). Command triggers are anchored on a command name and stay
/// on one line (`[^\n|;&]*?`), so triggers do not swallow each other. Two
/// triggers must not start on the same word: the first alternative wins.
pub(super) const TRIGGERS: &[Trigger] = &[
    // --- Databases and remote shells.
    trigger(
        "mysql-p",
        "password",
        ValueAt::Adjacent,
        r"(?-u:\b)(?i:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlpump|mysqlsh|mariadb|mariadb-dump)(?i:\.exe)?(?-u:\b)[^\n|;&]*?[ \t]-p",
        &["mysql -u root -p«Sup3rS3cret» acme_prod"],
    ),
    trigger(
        "sqlcmd",
        "password",
        ValueAt::Flags(&["-P"]),
        r"(?i)(?-u:\b)(?:sqlcmd|bcp|osql)(?:\.exe)?(?-u:\b)",
        &["sqlcmd -S SQL01\\SQLEXPRESS -U sa -P «Sq1Adm!n2024» -Q \"SELECT 1\""],
    ),
    trigger(
        "sshpass",
        "password",
        ValueAt::AtEnd,
        r"(?-u:\b)sshpass(?:[ \t]+-[vhe])*[ \t]+-p[ \t]*",
        &["sshpass -p '«r00tPa55»' ssh admin@10.0.0.5"],
    ),
    trigger(
        "plink",
        "password",
        ValueAt::Flags(&["-pw"]),
        r"(?i)(?-u:\b)(?:plink|pscp|psftp)(?:\.exe)?(?-u:\b)",
        &["plink.exe -ssh admin@fw01 -pw «F1rewall!Adm» \"show run\""],
    ),
    trigger(
        "ssh-keygen",
        "password",
        ValueAt::AtEnd,
        r"(?-u:\b)ssh-keygen(?-u:\b)[^\n|;&]*?[ \t]-[NP][ \t]*",
        &["ssh-keygen -t ed25519 -N '«K3yPhr4se!»' -f ~/.ssh/deploy"],
    ),
    trigger(
        "curl-user",
        "password",
        ValueAt::AtEnd,
        r#"(?-u:\b)curl(?-u:\b)[^\n|;&]*?[ \t](?:-u|--user)(?:[ \t]+|=)["']?[^\s:"'$]+:"#,
        &["curl -u admin:«Adm1nPass» https://nas01/api"],
    ),
    trigger(
        "redis-cli",
        "password",
        ValueAt::AtEnd,
        r"(?-u:\b)redis-cli(?-u:\b)[^\n|;&]*?[ \t](?:-a|--pass)[ \t]+",
        &["redis-cli -h cache01 -a «R3dis!Pass» ping"],
    ),
    trigger(
        "docker-login",
        "password",
        ValueAt::AtEnd,
        r"(?-u:\b)docker[ \t]+login(?-u:\b)[^\n|;&]*?[ \t]-p[ \t]+",
        &["docker login -u ci -p «D0ckerHub!24» registry.acme.com"],
    ),
    trigger(
        "smb-user-percent",
        "password",
        ValueAt::AtEnd,
        r#"(?-u:\b)(?:smbclient|rpcclient|winexe|smbcacls|smbget|smbmap)(?-u:\b)[^\n|;&]*?[ \t](?:-U|--user)(?:[ \t]+|=)["']?[^\s%"']+%"#,
        &[
            "smbclient //fs01/share -U 'ACME\\admin%«Sh4reP4ss»'",
            "rpcclient -U administrator%«Rpc!Pass9» 10.0.0.10",
        ],
    ),
    trigger(
        "psexec",
        "password",
        ValueAt::AtEnd,
        r"(?i)(?-u:\b)psexec(?:64)?(?:\.exe)?(?-u:\b)[^\n|;&]*?[ \t]-p[ \t]+",
        &["psexec \\\\ws042 -u ACME\\admin -p «Ps3xec!Pw» cmd"],
    ),
    trigger(
        "schtasks",
        "password",
        ValueAt::AtEnd,
        r"(?i)(?-u:\b)schtasks(?:\.exe)?(?-u:\b)[^\n|;&]*?[ \t]/rp[ \t]+",
        &["schtasks /create /tn Backup /ru ACME\\svc_backup /rp «B4ckup!Svc» /sc daily"],
    ),
    trigger(
        "freerdp",
        "password",
        ValueAt::AtEnd,
        r"(?i)(?-u:\b)(?:xfreerdp|wlfreerdp|sdl-freerdp)(?-u:\b)[^\n|;&]*?[ \t]/p:",
        &["xfreerdp /v:ts01 /u:admin /p:«Rdp!Pass77» /cert:ignore"],
    ),
    trigger(
        "rdesktop",
        "password",
        ValueAt::Flags(&["-p"]),
        r"(?-u:\b)rdesktop(?-u:\b)",
        &["rdesktop -u admin -p «Rd3sk!top» ts01"],
    ),
    trigger(
        "cmdkey",
        "password",
        ValueAt::AtEnd,
        r"(?i)(?-u:\b)cmdkey(?:\.exe)?(?-u:\b)[^\n|;&]*?[ \t]/pass:",
        &["cmdkey /add:fs01 /user:ACME\\admin /pass:«Cmdk3y!Pw»"],
    ),
    trigger(
        "windows-password-switch",
        "password",
        ValueAt::AtEnd,
        r"(?i)/(?:password|passwd|pwd)[:=]",
        &["wmic /node:ws042 /user:admin /password:«Wm1c!Pass» os get caption"],
    ),
    trigger(
        "convertto-securestring",
        "password",
        ValueAt::AtEnd,
        r"(?i)ConvertTo-SecureString(?:[ \t]+-(?:String|AsPlainText|Force)(?-u:\b))*[ \t]+",
        &["$pw = ConvertTo-SecureString \"«P0sh!Secure»\" -AsPlainText -Force"],
    ),
    // Winlogon auto-logon and other secrets written to the registry.
    trigger(
        "reg-add-password",
        "password",
        ValueAt::AtEnd,
        r#"(?i)(?-u:\b)reg(?:\.exe)?[ \t]+add[ \t][^\n|&]*?/v[ \t]+"?[A-Za-z]*(?:Password|Passwd|Pwd|Secret)[A-Za-z]*"?[^\n|&]*?[ \t]/d[ \t]+"#,
        &[
            "reg add \"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\" /v DefaultPassword /t REG_SZ /d \"«Kiosk!2024»\" /f",
        ],
    ),
    trigger(
        "set-itemproperty-password",
        "password",
        ValueAt::AtEnd,
        r#"(?i)-Name[ \t]+["']?[A-Za-z]*(?:Password|Passwd|Pwd|Secret)["']?[ \t]+-Value[ \t]+"#,
        &["Set-ItemProperty -Path $winlogon -Name DefaultPassword -Value '«Kiosk!2025»'"],
    ),
    // `net` only in command position (line start, after a prompt, a quote
    // or an operator), so prose like "the net user accounts page" is left.
    trigger(
        "net-user",
        "password",
        ValueAt::NetUser,
        r#"(?im)(?:^|[>$;&|"'`(])[ \t]*net(?:\.exe)?[ \t]+user[ \t]+"#,
        &["C:\\> net user jdoe «W3lcome!2024» /add /domain"],
    ),
    trigger(
        "net-use",
        "password",
        ValueAt::NetUse,
        r#"(?im)(?:^|[>$;&|"'`(])[ \t]*net(?:\.exe)?[ \t]+use[ \t]+"#,
        &["net use Z: \\\\fs01\\data «NetUs3!Pw» /user:ACME\\jdoe"],
    ),
    // --- Passwords piped or here-string'd into a command.
    trigger(
        "echo-pipe-stdin",
        "password",
        ValueAt::Group,
        r#"(?-u:\b)(?:echo|printf)(?:[ \t]+-[neE]+)*[ \t]+(?P<v>"[^"\n]*"|'[^'\n]*'|[^\s|;&'"]+)[ \t]*\|[ \t]*(?:sudo[ \t]+(?:-[A-Za-z]+[ \t]+)*-S|(?:sudo[ \t]+)?(?:passwd[ \t]+--stdin|vncpasswd|smbpasswd[ \t]+-s|kinit)|(?:docker|podman|helm[ \t]+registry)[ \t]+login[^\n|]*--password-stdin)"#,
        &[
            "echo '«Sud0!Pass»' | sudo -S systemctl restart nginx",
            "echo «VncP4ss1» | vncpasswd -f > ~/.vnc/passwd",
        ],
    ),
    trigger(
        "echo-pipe-chpasswd",
        "password",
        ValueAt::Group,
        r#"(?-u:\b)echo(?:[ \t]+-[neE]+)*[ \t]+["']?[^\s:"'|]+:(?P<v>[^\s"'|]+)["']?[ \t]*\|[ \t]*(?:sudo[ \t]+)?chpasswd"#,
        &["echo 'root:«Chp4sswd!»' | sudo chpasswd"],
    ),
    trigger(
        "here-string-password",
        "password",
        ValueAt::AtEnd,
        r#"(?-u:\b)(?:sudo[ \t]+(?:-[A-Za-z]+[ \t]+)*-S|vncpasswd(?:[ \t]+-f)?|passwd[ \t]+--stdin(?:[ \t]+\S+)?|chpasswd)[^\n<|]*<<<[ \t]*(?:["']?[A-Za-z0-9_.\-]+:)?"#,
        &["sudo -S apt-get update <<< '«HereStr1ng!»'"],
    ),
    trigger(
        "expect-send-password",
        "password",
        ValueAt::Group,
        r#"(?i)expect[ \t]+(?:-[a-z]+[ \t]+)?"[^"\n]*(?:assword|passphrase)[^"\n]*"[ \t]*(?:\r?\n[ \t]*|;[ \t]*)send[ \t]+(?:--[ \t]+)?"(?P<v>[^"\n]*?)(?:\\r|\\n)?""#,
        &["expect \"Password:\"\nsend \"«Exp3ct!Pw»\\r\""],
    ),
    // --- Accounts and keys set on the command line.
    trigger(
        "htpasswd-nb",
        "password",
        ValueAt::Positional(1, &[]),
        r"(?-u:\b)htpasswd(?:\.exe)?(?:[ \t]+-[A-Za-z]+)*?[ \t]+-(?:[A-Za-z]*n[A-Za-z]*b|[A-Za-z]*b[A-Za-z]*n)[A-Za-z]*(?-u:\b)",
        &["htpasswd -nbB admin «Htpa55!Nb»"],
    ),
    trigger(
        "htpasswd-b",
        "password",
        ValueAt::Positional(2, &[]),
        r"(?-u:\b)htpasswd(?:\.exe)?(?:[ \t]+-[A-Za-z]+)*?[ \t]+-[A-Za-z]*b[A-Za-z]*(?-u:\b)",
        &[
            "htpasswd -b /etc/nginx/.htpasswd admin «Ht!passwd9»",
            "I ran `htpasswd -b /etc/nginx/.htpasswd admin «Ht!passwd8»` and reloaded nginx",
        ],
    ),
    trigger(
        "openssl-passwd",
        "password",
        ValueAt::Positional(0, &["-salt", "-in"]),
        r"(?-u:\b)openssl[ \t]+passwd(?-u:\b)",
        &[
            "openssl passwd -6 -salt x9 «Opens5l!Pw»",
            "ran `openssl passwd -1 «Md5!Crypt9»` for the legacy box",
        ],
    ),
    trigger(
        "rabbitmqctl-user",
        "password",
        ValueAt::AtEnd,
        r"(?-u:\b)rabbitmqctl(?:\.bat)?[ \t]+(?:add_user|change_password)[ \t]+\S+[ \t]+",
        &["rabbitmqctl add_user monitor «R4bbit!Mq»"],
    ),
    trigger(
        "az-login",
        "password",
        ValueAt::Flags(&["-p", "--password"]),
        r"(?-u:\b)az[ \t]+login(?-u:\b)",
        &["az login -u admin@acme.onmicrosoft.com -p «AzL0gin!Pw»"],
    ),
    trigger(
        "ldap-bind-password",
        "password",
        ValueAt::Flags(&["-w"]),
        r"(?-u:\b)ldap(?:search|modify|add|delete|modrdn|compare|whoami|exop|url)(?-u:\b)",
        &[
            "ldapsearch -x -H ldap://dc01 -D 'cn=svc,dc=acme,dc=local' -w «Ld4p!Bind» -b dc=acme,dc=local",
        ],
    ),
    trigger(
        "ldappasswd",
        "password",
        ValueAt::Flags(&["-w", "-s", "-a"]),
        r"(?-u:\b)ldappasswd(?-u:\b)",
        &["ldappasswd -x -D cn=admin,dc=acme -w «Ld4pAdm!n» -s «N3wUs3r!Pw» uid=jdoe"],
    ),
    trigger(
        "aws-configure-secret",
        "aws-secret",
        ValueAt::AtEnd,
        r"(?-u:\b)aws[ \t]+configure[ \t]+set[ \t]+(?:\S+\.)?(?:aws_secret_access_key|aws_session_token)[ \t]+",
        &["aws configure set aws_secret_access_key «{b:40}»"],
    ),
    trigger(
        "kubectl-from-literal",
        "secret",
        ValueAt::AtEnd,
        r#"--from-literal[= ]["']?[^=\s"']+="#,
        &["kubectl create secret generic app --from-literal=smtp-login=«Smtp!L0gin9»"],
    ),
    trigger(
        "archive-password",
        "password",
        ValueAt::Flags(&["-P", "--password"]),
        r"(?-u:\b)(?:zip|unzip|zipcloak)(?-u:\b)",
        &["zip -P «Z1pP4ss!» -r export.zip ./reports"],
    ),
    trigger(
        "7z-password",
        "password",
        ValueAt::Adjacent,
        r"(?i)(?-u:\b)7z[ar]?(?:\.exe)?(?-u:\b)[^\n|;&]*?[ \t]-p",
        &["7z a -p«7zP4ss!word» -mhe=on backup.7z C:\\Data"],
    ),
    trigger(
        "certutil-pfx",
        "password",
        ValueAt::Flags(&["-p"]),
        r"(?i)(?-u:\b)certutil(?:\.exe)?(?-u:\b)",
        &["certutil -f -p «Pfx!Imp0rt» -importpfx C:\\certs\\wildcard.pfx"],
    ),
    // --- BMCs: IPMI, iDRAC, Supermicro.
    trigger(
        "ipmitool",
        "password",
        ValueAt::Flags(&["-P"]),
        r"(?-u:\b)ipmitool(?-u:\b)",
        &["ipmitool -I lanplus -H 10.0.0.50 -U ADMIN -P «Ipm1!Adm1n» chassis status"],
    ),
    trigger(
        "ipmi-user-set-password",
        "password",
        ValueAt::AtEnd,
        r"(?-u:\b)user[ \t]+set[ \t]+password[ \t]+[0-9]+[ \t]+",
        &["ipmitool user set password 2 «N3wBmc!Pw»"],
    ),
    trigger(
        "racadm",
        "password",
        ValueAt::Flags(&["-p"]),
        r"(?i)(?-u:\b)racadm(?:\.exe)?(?-u:\b)",
        &["racadm -r 10.0.0.51 -u root -p «calvin» getsysinfo"],
    ),
    trigger(
        "idrac-user-password",
        "password",
        ValueAt::AtEnd,
        r"(?i)(?-u:\b)iDRAC\.Users\.[0-9]+\.Password[ \t]+",
        &["racadm set iDRAC.Users.2.Password «Idr4c!New»"],
    ),
    trigger(
        "smcipmitool",
        "password",
        ValueAt::AtEnd,
        r"(?i)(?-u:\b)SMCIPMITool(?:\.exe)?[ \t]+\S+[ \t]+\S+[ \t]+",
        &["SMCIPMITool 10.0.0.52 ADMIN «Smc!Adm1n» ipmi power status"],
    ),
    // --- SNMP.
    trigger(
        "snmp-tools",
        "snmp-secret",
        ValueAt::Flags(&["-c", "-A", "-X"]),
        r"(?-u:\b)snmp(?:walk|get|getnext|bulkwalk|bulkget|set|table|trap|inform|status|netstat|df|delta|usm|vacm|check)(?-u:\b)",
        &[
            "snmpwalk -v2c -c «Pr1vC0mmun1ty» 10.0.0.1 1.3.6.1.2.1.1",
            "snmpget -v3 -u monitor -l authPriv -a SHA -A «Auth!Pass9» -x AES -X «Pr1v!Pass9» sw01 sysUpTime.0",
            "snmptable -v 2c -c «Tabl3!Comm» ups01 upsBatteryTable",
        ],
    ),
    // --- Wi-Fi and remote support.
    trigger(
        "netsh-key-content",
        "wifi-key",
        ValueAt::AtEnd,
        r"(?i)(?-u:\b)Key Content[ \t]*:[ \t]*",
        &[
            "Security settings\n-------------------\n    Authentication         : WPA2-Personal\n    Key Content            : «Gu3stW1f1!»\n",
        ],
    ),
    trigger(
        "nmcli-wifi-password",
        "wifi-key",
        ValueAt::AtEnd,
        r"(?-u:\b)nmcli(?-u:\b)[^\n|;&]*?[ \t](?:password|wifi-sec\.psk|802-11-wireless-security\.psk)[ \t]+",
        &["nmcli dev wifi connect ACME-Office password «Off1ceW1f1»"],
    ),
    trigger(
        "ipsec-secrets-psk",
        "psk",
        ValueAt::AtEnd,
        r":[ \t]*(?:PSK|EAP|XAUTH)[ \t]+",
        &["10.0.0.1 203.0.113.9 : PSK \"«Ipsec!Psk2024»\""],
    ),
    trigger(
        "teamviewer-passwd",
        "password",
        ValueAt::AtEnd,
        r"(?i)(?-u:\b)teamviewer(?:\.exe)?[ \t]+(?:passwd|--passwd|--password)[ \t]+",
        &["sudo teamviewer passwd «Tv!Rem0te»"],
    ),
    trigger(
        "x11vnc-password",
        "password",
        ValueAt::Flags(&["-passwd", "-storepasswd"]),
        r"(?-u:\b)x11vnc(?-u:\b)",
        &["x11vnc -display :0 -passwd «Vnc!Sh4re» -forever"],
    ),
    // --- Network device configurations (Cisco IOS/ASA, HP/Aruba). The
    // optional digit is the encryption type (`password 0 …`, `secret 5 …`).
    trigger(
        "cisco-secret-line",
        "network-secret",
        ValueAt::AtEnd,
        r##"(?im)(?:^|[`'"#>$])[ \t]*(?:username[ \t]+\S+(?:[ \t]+privilege[ \t]+[0-9]+)?(?:[ \t]+algorithm-type[ \t]+\S+)?[ \t]+(?:password|secret)|enable[ \t]+(?:password|secret)(?:[ \t]+level[ \t]+[0-9]+)?|(?:tacacs-server|radius-server)[ \t]+(?:host[ \t]+\S+[ \t]+)?key|key-string|crypto[ \t]+isakmp[ \t]+key|pre-shared-key(?:[ \t]+(?:local|remote|address[ \t]+\S+(?:[ \t]+\S+)?[ \t]+key))?|ip[ \t]+ospf[ \t]+(?:message-digest-key[ \t]+[0-9]+[ \t]+md5|authentication-key)|neighbor[ \t]+\S+[ \t]+password|snmp-server[ \t]+community|wpa-psk[ \t]+ascii|ppp[ \t]+(?:chap|pap)[ \t]+(?:password|sent-username[ \t]+\S+[ \t]+password)|(?:password|secret)[ \t]+[0-9](?-u:\b))(?:[ \t]+[0-9](?-u:\b))?[ \t]+"##,
        &[
            "hostname rtr01\nusername admin privilege 15 password 0 «Cisc0!Adm1n»\n!",
            "enable secret 5 «$1$mERr$hx5rVt7rPNoS4wqbXKX7m0»",
            "crypto isakmp key «V1rtu4lPsk!» address 0.0.0.0 0.0.0.0",
            "snmp-server community «Publ1cRO-acme» RO 10",
            "line vty 0 4\n password 7 «0822455D0A16»\n login",
            "tacacs-server key «T4cacs!Key»",
            "then I ran `username ops privilege 15 secret 0 «Inl1ne!Cisco»` on both switches",
            "rtr01(config)# crypto isakmp key «Pr0mpt!Psk» address 203.0.113.9",
            "username backup secret 9 «$9$abcdEFGH1234$Xy8Zq0Lm2Np4Rs6Tu»",
            "ppp chap password 0 «Ch4p!Dsl»",
        ],
    ),
    trigger(
        "hp-password-plaintext",
        "network-secret",
        ValueAt::AtEnd,
        r##"(?im)(?:^|[`'"#>$])[ \t]*password[ \t]+(?:manager|operator)(?:[ \t]+user-name[ \t]+\S+)?[ \t]+(?:plaintext|sha1)[ \t]+"##,
        &["password manager user-name admin plaintext «Pr0curve!Adm»"],
    ),
    // Juniper, FortiGate, EdgeOS: `set … <secret keyword> [ENC] VALUE`.
    trigger(
        "set-secret-line",
        "network-secret",
        ValueAt::AtEnd,
        r##"(?im)(?:^|[`'"#>$])[ \t]*set[ \t]+(?:[^\n`]*?[ \t])?(?:password|passwd|encrypted-password|plain-text-password-value|plaintext-password|psksecret|secret|pre-shared-key(?:[ \t]+(?:ascii-text|hexadecimal))?|ascii-text|authentication-key|auth-pwd|priv-pwd|passphrase|sslvpn-password|wpa-passphrase)(?:[ \t]+ENC)?[ \t]+"##,
        &[
            "config system admin\n    edit \"admin\"\n        set password ENC «SH2nlXfCE7Gm0xKyS0Zp1Q»\n    next\nend",
            "set system login user ops authentication plaintext-password «Ed9eOS!Pw»",
            "set security ike policy vpn pre-shared-key ascii-text «$9$Jun1perPsk»",
        ],
    ),
    // --- Labelled secrets in prose and in tool output, several languages.
    // Only values that read like a password (mixed classes) qualify, so
    // "the password is in the vault" stays.
    strict(trigger(
        "labelled-password",
        "password",
        ValueAt::AtEnd,
        r#"(?i)(?-u:\b)(?:password|passwort|kennwort|passcode|passphrase|pass phrase|mot de passe|contraseña|contrasena|wachtwoord|senha|lösenord|losenord|hasło|haslo|salasana|adgangskode|passord|pwd|pw)(?:[ \t]+(?:for|of|to|on|für|pour|para|voor)(?:[ \t]+[^\s:=]+){1,5}?)?[ \t]+(?:is|was|are|ist|war|est|était|es|era|é|är|er|on|to|now|=|:|->|→)[ \t]+(?:now[ \t]+|set[ \t]+to[ \t]+|still[ \t]+)?"#,
        &[
            "the new domain admin password is «Winter2024!Dc» until Monday",
            "Das Kennwort für den Drucker ist «Druck3r#2024» laut Etikett",
            "le mot de passe est «Bonjour!2024» pour le wifi",
            "FYI the password for the ACME-Guest network is now «Gu3st!Acme»",
            "la contraseña es «Hola!2024» para la impresora",
            "het wachtwoord is «Welkom!2024» voor de gast",
            "Password for the scanner SMB share is now «Scan2Folder!»",
        ],
    )),
    strict(trigger(
        "labelled-key",
        "secret",
        ValueAt::AtEnd,
        r#"(?i)(?-u:\b)(?:wi-?fi[ \t]+(?:key|password)|network[ \t]+key|wlan[ \t]+key|wpa2?[ \t]+key|pre-shared[ \t]+key|psk|shared[ \t]+secret|product[ \t]+key|license[ \t]+key|recovery[ \t]+key|api[ \t]+key|secret[ \t]+key|access[ \t]+key|encryption[ \t]+key|master[ \t]+key|admin[ \t]+key)[ \t]*(?:is|was|:|=)[ \t]*"#,
        &[
            "Wi-Fi key: «Cafe!Wlan2024»",
            "The RADIUS shared secret is «R4d1us!Shared»",
            "New API key = «x7Kq9PzW2mR4vT8n»",
            "pre-shared key = «Vpn!Psk2024»",
        ],
    )),
    // `login root/calvin`: a user and password pair after a login word.
    // The password must read like one, or be a vendor default.
    paired(trigger(
        "credential-pair",
        "password",
        ValueAt::Group,
        r#"(?i)(?-u:\b)(?:login|log[ \t]in|logon|sign[ \t]in|credentials?|creds|user(?:name)?[ \t]*/[ \t]*pass(?:word)?|u/p|default[ \t]+(?:login|credentials?|creds|user/pass(?:word)?)|defaults)(?-u:\b)(?:[ \t]+(?:is|are|was|were|with|as))?(?:[ \t]*[:=][ \t]*|[ \t]+)[A-Za-z0-9._\\@\-]{1,64}[ \t]*/[ \t]*(?P<v>[^\s/'"`,;)]{3,})"#,
        &[
            "iDRAC default login root/«calvin» still works on srv03",
            "the Supermicro BMC login is ADMIN/«Smc!2024pw» again",
        ],
    )),
];

/// Examples for the layers whose logic is code rather than one pattern.
pub(super) const LAYERS: &[Examples] = &[
    Examples {
        rule: "assignment",
        kind: "password",
        templates: &[
            "DB_PASSWORD=«hunter2secret»",
            "{\"password\": \"«p@ss w0rd!»\"}",
            "Server=sql01;User Id=sa;Password=«a b c»;Encrypt=True",
            "mount -t cifs //fs01/data /mnt -o username=svc,password=«M0unt!Cifs»,vers=3.0",
            "sc config BackupSvc obj= ACME\\svc_backup password= «Sc!Config9»",
            "$env:SQL_SA_PASSWORD = \"«Sq1!EnvPw»\"",
            "PGPASSWORD=«Pg!Backup24» pg_dump -h db01 crm > crm.sql",
            "ansible_become_pass: «B3come!Root»",
            "docker run -d -e MYSQL_ROOT_PASSWORD=«My5ql!Root» mysql:8",
            "helm upgrade grafana grafana/grafana --set adminPassword=«Graf4na!Adm»",
            "<add key=\"SmtpPassword\" value=\"«Smtp!Relay9»\" />",
            "[distutils]\n[pypi]\nusername = __token__\npassword = «Pypirc!Pw24»\n",
        ],
    },
    Examples {
        rule: "assignment-token",
        kind: "token",
        templates: &["GITLAB_TOKEN: «{a:20}»"],
    },
    Examples {
        rule: "assignment-psk",
        kind: "psk",
        templates: &[
            "wpa_psk = «Psk!Wireless24»",
            "network={\n    ssid=\"ACME\"\n    psk=\"«Wp4Supplic4nt!»\"\n}",
        ],
    },
    Examples {
        rule: "assignment-totp",
        kind: "totp-seed",
        templates: &[
            "{\"login\":{\"username\":\"admin@acme.com\",\"totp\":\"«otpauth://totp/ACME:admin?secret={s:32}&issuer=ACME»\"}}",
        ],
    },
    Examples {
        rule: "assignment-snmp-community",
        kind: "snmp-secret",
        templates: &["snmp_community: «Rw!Commun1ty»"],
    },
    Examples {
        rule: "flag",
        kind: "password",
        templates: &[
            "mongodump --username admin --password «M0ngo!Dump» --db crm",
            "Invoke-Sqlcmd -ServerInstance SQL01 -Username sa -Password «Inv0ke!Sql» -Query \"SELECT 1\"",
            "openssl pkcs12 -export -in c.crt -inkey c.key -out c.pfx -passout «pass:Pfx!Exp0rt»",
        ],
    },
    Examples {
        rule: "authorization-header",
        kind: "basic-auth",
        templates: &["curl -H 'Authorization: Basic «{b:28}=»' https://psa/api"],
    },
    Examples {
        rule: "bearer",
        kind: "bearer-token",
        templates: &["sent bearer «{a:40}» to the API"],
    },
    Examples {
        rule: "url-credentials",
        kind: "url-credentials",
        templates: &[
            "psql postgres://msp:«Pg!Sync2024»@db01:5432/msp",
            "git clone https://deploy:«G1tDepl0y!»@git.acme.com/ops/scripts.git",
            "mount smb://admin:«Nas!Adm1n»@nas01/backup",
            "lftp ftp://backup:«Ftp!Back9»@ftp.acme.com",
        ],
    },
    Examples {
        rule: "xml-element",
        kind: "password",
        templates: &["<AutoLogon><Password><Value>«Unatt3nd!Pw»</Value></Password></AutoLogon>"],
    },
    Examples {
        rule: "name-value-pair",
        kind: "password",
        templates: &[
            "{\"fields\":[{\"name\":\"Admin password\",\"value\":\"«F1eld!Value»\",\"type\":1}]}",
            "\"environment\": [{\"name\": \"DB_PASSWORD\", \"value\": \"«Ecs!TaskPw»\"}]",
        ],
    },
    Examples {
        rule: "password-manager-export",
        kind: "password",
        templates: &["{\"k\":\"concealed\",\"n\":\"password\",\"v\":\"«OneP4ss!Item»\"}"],
    },
    Examples {
        rule: "kubernetes-secret",
        kind: "secret",
        templates: &[
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  username: «YWRtaW4=»\n  connection: «{b:40}»\n",
            "{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"data\": {\"tls.key\": \"«{b:48}»\", \"user\": \"«YWRtaW4=»\"}}",
        ],
    },
    Examples {
        rule: "entropy",
        kind: "high-entropy",
        templates: &["the signing key for staging «{a:32}» rotates monthly"],
    },
];

/// Text close to a secret that is not one: it must come out unchanged.
pub(super) const ORDINARY: &[&str] = &[
    "commit 3f2a9c1d4e5b6a7f8091a2b3c4d5e6f708192a3b",
    "request id 5a1b2c3d-0000-4000-8000-123456789abc failed",
    "/home/u/projects/acme-portal/src/routes/password_reset.rs",
    "Thumbprint: 1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D",
    "arn:aws:iam::123456789012:role/BackupOperator",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl u@host",
    "the password is in the vault under acme/dc01",
    "password is required and must be 12 characters",
    "Reset the user's password in AD, then login again.",
    "The wifi key is on the sticker under the router.",
    "login page/dashboard loads slowly after the update",
    "snmpwalk -v2c -c $SNMP_COMMUNITY 10.0.0.1",
    "ipmitool -I lanplus -H 10.0.0.50 -U ADMIN -E chassis status",
    "echo \"$PASSWORD\" | sudo -S true",
    "Interface GigabitEthernet0/1 is up, line protocol is up",
    "set system host-name edge01",
    "kind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n",
    "net user jdoe /domain",
    "msbuild /p:Configuration=Release /p:Platform=x64",
    "Build 22631.2861, KB5033375 installed",
    "uuid 6f1c2e34-8d5a-4b7c-9e0f-1a2b3c4d5e6f",
    "version 10.0.22631.2861 on ws042.acme.local",
];

/// Every rule's examples, in one list.
pub(super) fn examples() -> Vec<Examples> {
    let shapes = SHAPES.iter().chain(SHAPES_UNANCHORED).map(|s| Examples {
        rule: s.name,
        kind: s.kind,
        templates: s.examples,
    });
    let triggers = TRIGGERS.iter().map(|t| Examples {
        rule: t.name,
        kind: t.kind,
        templates: t.examples,
    });
    shapes
        .chain(triggers)
        .chain(LAYERS.iter().copied())
        .collect()
}

pub(super) fn pem_is_key(m: &str) -> bool {
    if m.contains("-----END") {
        return true;
    }
    // Without a footer, a bare header (`starts_with("-----BEGIN … KEY-----")`
    // in code) is a mention, not a key; a truncated key still has a body.
    let body = m
        .get(5..)
        .and_then(|rest| rest.find("-----").and_then(|i| rest.get(i + 5..)))
        .unwrap_or("");
    body.bytes()
        .filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        .count()
        >= 64
}

pub(super) fn has_digit_and_letter(s: &str) -> bool {
    // `sk-` + 20 chars with no digit is a slug (`sk-learn-compatible-…`).
    let body = s.get(3..).unwrap_or("");
    body.bytes().any(|c| c.is_ascii_digit()) && body.bytes().any(|c| c.is_ascii_alphabetic())
}

fn has_digit_and_upper(s: &str) -> bool {
    s.bytes().any(|c| c.is_ascii_digit()) && s.bytes().any(|c| c.is_ascii_uppercase())
}
