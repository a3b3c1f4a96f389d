//! Built-in MSP domain vocabulary: tag extraction, canonical names, query
//! expansion and stop words.
//!
//! The vocabulary is a static list of canonical tags (lower-case kebab-case,
//! e.g. `active-directory`, `hyper-v`, `m365`), each with a [`Category`], an
//! optional broader parent tag (`veeam` -> `backup`, `exchange-online` ->
//! `exchange` -> `email`) and its synonyms, abbreviations and product names.
//!
//! Matching works on tokens, never on substrings: text is lower-cased and split
//! into runs of alphanumeric characters (so `Hyper-V`, `hyper v` and `HYPER-V,`
//! are the same two tokens `hyper v`, and `adobe` never yields `ad`). Aliases
//! of up to [`MAX_WORDS`] tokens are found by greedy longest match, so
//! `windows server 2019` gives `windows-server` and not `windows`. A trailing
//! plural `s` is tried as a fallback (`firewalls` -> `firewall`). `+`/`#`
//! directly after a word are kept only where the vocabulary knows the result
//! (`c++`, `c#`).
//!
//! Every lookup table is built at compile time by `const fn`s (an
//! open-addressing hash table of all 3,700 keys, the parent/child links and
//! a stop-word table), so there is no table-building cost at run time: the
//! hook binaries pay nothing per process. Measured in release mode on the
//! 2-core dev machine: first `expand` + `is_stop_word` in a fresh process
//! 5-20 µs (cold pages only; the earlier runtime-built `HashMap` took
//! 0.45 ms), warm `expand` + `is_stop_word` + `canonical` about 0.4 µs,
//! `extract_tags` on a 20 KB text about 0.15 ms (measured in release on a 2-core machine).
//! The price is paid by the compiler instead: the const evaluation adds
//! about 1.6 s whenever this file's tables are recompiled (a clean build or
//! a vocabulary edit; incremental builds cache it otherwise).

/// What kind of thing a tag names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Products, protocols, languages, platforms (`veeam`, `dkim`, `powershell`).
    Technology,
    /// Kinds of systems and components (`firewall`, `nas`, `printer`, `backup`).
    Infrastructure,
    /// Symptoms and failure modes (`outage`, `timeout`, `disk-full`).
    Problem,
    /// Things a technician does (`migrate`, `restore`, `offboarding`).
    Action,
}

impl Category {
    /// Lower-case name, e.g. `"technology"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Technology => "technology",
            Category::Infrastructure => "infrastructure",
            Category::Problem => "problem",
            Category::Action => "action",
        }
    }
}

/// Longest alias, in tokens, that the scanner looks for.
pub const MAX_WORDS: usize = 4;

struct Term {
    tag: &'static str,
    category: Category,
    /// Broader tag, or `""`.
    parent: &'static str,
    aliases: &'static [&'static str],
}

const fn t(
    tag: &'static str,
    category: Category,
    parent: &'static str,
    aliases: &'static [&'static str],
) -> Term {
    Term {
        tag,
        category,
        parent,
        aliases,
    }
}

const T: Category = Category::Technology;
const I: Category = Category::Infrastructure;
const P: Category = Category::Problem;
const A: Category = Category::Action;

/// The vocabulary, one term per line: tag, category, broader tag (or ""),
/// aliases. Aliases are lower-case ASCII, at most [`MAX_WORDS`] words; any
/// punctuation in them matches any punctuation or spacing in text. Every
/// alias (and tag) belongs to exactly one term; the tests check this, the
/// parents, and the tag spelling.
#[rustfmt::skip]
const VOCABULARY: &[Term] = &[
    // ----- backup and recovery -----
    t("backup", I, "", &["backups", "backup job", "backup jobs", "backed up", "back up", "backing up", "bdr", "bcdr", "backup copy", "offsite backup", "offsite", "off-site backup"]),
    t("snapshot", T, "backup", &["snapshots", "shadow copy", "shadow copies", "vss", "volume shadow copy", "checkpoint", "checkpoints"]),
    t("veeam", T, "backup", &["vbr", "veeam b&r", "veeam agent", "veeam one"]),
    t("datto", T, "backup", &["datto siris", "siris", "datto bcdr", "datto alto", "backupify"]),
    t("acronis", T, "backup", &["acronis cyber protect", "true image"]),
    t("backblaze", T, "backup", &["b2", "backblaze b2"]),
    t("restic", T, "backup", &["resticprofile"]),
    t("borg", T, "backup", &["borgbackup", "borgmatic"]),
    t("wasabi", T, "backup", &["wasabi bucket"]),
    t("storagecraft", T, "backup", &["shadowprotect", "shadow protect"]),
    t("axcient", T, "backup", &["x360recover"]),
    t("carbonite", T, "backup", &[]),
    t("cove", T, "backup", &["cove data protection", "solarwinds backup", "n-able backup"]),
    t("rclone", T, "backup", &[]),
    t("windows-server-backup", T, "backup", &["wbadmin", "windows backup", "windows server backup"]),
    t("time-machine", T, "backup", &["time machine"]),
    t("proxmox-backup-server", T, "backup", &["proxmox backup server", "proxmox backup", "pbs"]),
    t("immutable-backup", T, "backup", &["immutable storage", "immutability", "air gap", "air-gapped", "airgap", "airgapped", "immutable backups"]),
    t("disaster-recovery", I, "", &["disaster recovery", "drp", "dr plan", "business continuity", "rto", "rpo", "failover"]),
    t("retention", T, "", &["retention policy", "retention policies", "retention period", "retention settings"]),
    t("robocopy", T, "", &["xcopy"]),

    // ----- email -----
    t("email", I, "", &["e-mail", "emails", "mail", "mails", "mailbox", "mailboxes", "inbox", "shared mailbox", "shared mailboxes", "distribution list", "distribution lists", "distribution group", "mail server", "mail servers"]),
    t("mail-flow", T, "email", &["mail flow", "mailflow", "transport rule", "transport rules", "mail routing", "message trace", "mail connector", "inbound connector", "outbound connector", "forwarding rule", "forwarding rules", "inbox rule", "inbox rules", "mail forwarding", "auto forwarding", "autoforward"]),
    t("bounce", P, "email", &["ndr", "ndrs", "bounced", "bounces", "bounce back", "bouncebacks", "undeliverable", "non-delivery", "delivery failure", "not delivered"]),
    t("m365", T, "", &["office365", "office 365", "o365", "microsoft 365", "microsoft365", "ms365", "ms 365", "m365 tenant", "tenant", "tenants", "admin center", "365 admin"]),
    t("exchange", T, "email", &["exchange server", "on-prem exchange", "exchange 2013", "exchange 2016", "exchange 2019", "owa", "outlook web access", "outlook web app", "exchange admin center", "ecp", "eac", "autodiscover", "hcw", "hybrid configuration wizard", "exchange hybrid"]),
    t("exchange-online", T, "exchange", &["exchange online", "exo", "exchangeonline", "exchangeonlinemanagement", "exchange online protection", "eop"]),
    t("outlook", T, "email", &["ms outlook", "outlook client", "new outlook", "ost", "pst", "outlook profile", "outlook profiles"]),
    t("smtp", T, "email", &["smtp relay", "smtp auth", "smtp server", "esmtp", "starttls", "mta", "mta-sts", "mail relay", "relay"]),
    t("imap", T, "email", &["imaps", "imap4"]),
    t("pop3", T, "email", &["pop3s"]),
    t("postfix", T, "email", &["sendmail"]),
    t("dovecot", T, "email", &[]),
    t("mx", T, "email", &["mx record", "mx records"]),
    t("dkim", T, "email", &["dkim key", "dkim keys", "dkim signature", "dkim signing", "domainkeys"]),
    t("spf", T, "email", &["spf record", "spf records", "sender policy framework"]),
    t("dmarc", T, "email", &["dmarc record", "dmarc policy", "dmarc report", "dmarc reports", "bimi"]),
    t("gmail", T, "email", &[]),
    t("google-workspace", T, "", &["google workspace", "gsuite", "g suite", "google apps"]),
    t("email-security", T, "email", &["email security", "email filtering", "mail filter", "mail filtering", "email gateway", "secure email gateway"]),
    t("mimecast", T, "email-security", &[]),
    t("proofpoint", T, "email-security", &[]),
    t("barracuda", T, "email-security", &["barracuda essentials"]),
    t("spam", P, "email", &["junk", "junk mail", "junk folder", "spam filter", "spam filtering", "spamassassin", "quarantined email"]),
    t("blacklist", P, "email", &["blacklisted", "blocklist", "blocklisted", "rbl", "spamhaus", "ip reputation", "sender reputation", "mxtoolbox"]),
    t("spoofing", P, "phishing", &["spoof", "spoofed", "email spoofing", "impersonation", "display name spoofing"]),
    t("calendar", T, "email", &["calendars", "calendar invite", "meeting invite", "calendar permissions", "free busy"]),
    t("email-signature", T, "email", &["email signature", "email signatures", "exclaimer", "codetwo"]),
    t("thunderbird", T, "email", &[]),
    t("sendgrid", T, "email", &[]),
    t("mailgun", T, "email", &[]),
    t("microsoft-teams", T, "m365", &["teams", "ms teams", "microsoft teams", "msteams", "teams meeting", "teams call", "teams phone", "teams calling"]),
    t("sharepoint", T, "m365", &["share point", "spo", "sharepoint online", "sharepoint site", "sharepoint sites"]),
    t("onedrive", T, "m365", &["one drive", "onedrive for business", "odfb"]),
    t("microsoft-graph", T, "m365", &["microsoft graph", "graph api", "mggraph", "msgraph", "graph explorer"]),
    t("microsoft-office", T, "", &["microsoft office", "ms office", "msoffice", "office suite", "office apps", "office 2016", "office 2019", "office 2021", "office 2024", "click to run", "c2r", "powerpoint"]),
    t("excel", T, "microsoft-office", &["ms excel", "microsoft excel", "xlsx", "xls", "spreadsheet", "spreadsheets"]),
    t("microsoft-word", T, "microsoft-office", &["ms word", "microsoft word", "word document", "word doc", "docx"]),
    t("power-automate", T, "m365", &["power automate", "microsoft flow", "logic app", "logic apps"]),

    // ----- identity -----
    t("active-directory", T, "", &["ad", "active directory", "ad ds", "domain services", "aduc", "ad users and computers", "users and computers", "ou", "ous", "organizational unit", "organizational units", "organisational unit", "security group", "security groups", "on-prem ad"]),
    t("domain-controller", I, "active-directory", &["dc", "dcs", "domain controller", "domain controllers", "pdc", "fsmo", "fsmo roles", "dcdiag", "sysvol", "netlogon", "ad replication", "repadmin"]),
    t("gpo", T, "active-directory", &["gpos", "group policy", "group policies", "group policy object", "group policy objects", "gpupdate", "gpresult", "rsop", "gpmc"]),
    t("entra-id", T, "", &["entra", "entra id", "azure ad", "aad", "azure active directory", "microsoft entra", "azuread", "msonline", "entra admin"]),
    t("ad-connect", T, "entra-id", &["azure ad connect", "aad connect", "entra connect", "ad connect", "adconnect", "entra cloud sync", "directory sync", "dirsync", "adsync"]),
    t("conditional-access", T, "entra-id", &["conditional access", "ca policy", "ca policies", "named location", "named locations"]),
    t("domain-join", A, "active-directory", &["domain join", "domain joined", "domain-joined", "join the domain", "joined to the domain", "hybrid join", "hybrid joined", "entra join", "entra joined", "azure ad join", "azure ad joined", "aad joined"]),
    t("trust-relationship", P, "active-directory", &["trust relationship", "secure channel", "broken trust", "domain trust"]),
    t("ldap", T, "", &["ldaps", "openldap", "ldap bind", "ldap query"]),
    t("kerberos", T, "", &["krb5", "kdc", "klist", "kerberoasting", "kerberos ticket", "spn", "spns"]),
    t("ntlm", T, "", &["ntlmv2", "ntlmv1", "net-ntlm"]),
    t("mfa", T, "", &["2fa", "multi-factor", "multi factor", "multifactor", "two-factor", "two factor", "totp", "otp", "authenticator", "authenticator app", "number matching", "passkey", "passkeys", "fido2", "yubikey"]),
    t("duo", T, "mfa", &["duo security", "cisco duo"]),
    t("sso", T, "", &["single sign-on", "single sign on", "federation", "federated"]),
    t("okta", T, "sso", &[]),
    t("saml", T, "sso", &["saml2", "saml assertion"]),
    t("oauth", T, "sso", &["oauth2", "oidc", "openid connect", "openid", "app registration", "app registrations", "enterprise app", "enterprise application", "consent"]),
    t("jwt", T, "oauth", &["json web token", "jwts"]),
    t("jumpcloud", T, "", &["jump cloud"]),
    t("radius", T, "", &["nps", "network policy server", "freeradius", "802.1x", "dot1x"]),
    t("password", T, "", &["passwords", "passwd", "passphrase", "password policy", "password expiry", "password expiration"]),
    t("password-manager", T, "password", &["password manager", "password managers", "password vault", "passportal"]),
    t("bitwarden", T, "password-manager", &["vaultwarden"]),
    t("keeper-security", T, "password-manager", &["keeper security", "keeper vault"]),
    t("1password", T, "password-manager", &["1 password"]),
    t("lastpass", T, "password-manager", &["last pass"]),
    t("sspr", T, "password", &["self-service password reset", "self service password reset"]),
    t("laps", T, "active-directory", &["local administrator password solution", "windows laps"]),
    t("privileged-access", T, "", &["local admin", "local administrator", "admin rights", "administrator rights", "admin privileges", "domain admin", "domain admins", "privileged access", "least privilege", "pam", "uac", "user account control"]),
    t("service-account", T, "", &["service account", "service accounts", "gmsa", "managed service account"]),
    t("user-account", T, "", &["user account", "user accounts", "account disabled", "disabled account"]),
    t("sign-in", T, "", &["sign in", "signin", "signins", "sign ins", "log in", "login", "logins", "logon", "log on", "logging in", "signing in", "log off", "logoff", "sign out", "log out", "logout"]),
    t("authentication-failure", P, "sign-in", &["authentication failed", "authentication failure", "auth failed", "login failed", "failed login", "failed logins", "logon failure", "invalid credentials", "wrong password", "bad password", "incorrect password", "unauthenticated", "auth error"]),
    t("locked-out", P, "user-account", &["locked out", "lockout", "lockouts", "account locked", "account lockout", "locked account", "account is locked"]),
    t("permissions", T, "", &["permission", "ntfs permissions", "share permissions", "file permissions", "folder permissions", "rbac", "role-based access", "access rights", "chmod", "chown", "icacls", "acl", "acls", "access control list"]),
    t("permission-denied", P, "permissions", &["permission denied", "access denied", "access is denied", "unauthorized", "unauthorised", "eacces", "insufficient permissions", "not authorized", "forbidden"]),
    t("user-profile", T, "", &["user profile", "user profiles", "roaming profile", "roaming profiles", "temp profile", "temporary profile", "ntuser.dat", "ntuser"]),
    t("fslogix", T, "user-profile", &["fs logix", "profile container", "profile containers"]),

    // ----- networking -----
    t("network", I, "", &["networking", "networks", "lan", "wan", "local network", "network issue", "network issues", "connectivity", "mac address", "mac addresses"]),
    t("subnet", T, "network", &["subnets", "cidr", "subnet mask", "netmask", "supernet"]),
    t("ip-address", T, "network", &["ip", "ips", "ip address", "ip addresses", "ipv4", "static ip", "public ip", "private ip", "ip addressing"]),
    t("ipv6", T, "network", &["ip6"]),
    t("ip-conflict", P, "ip-address", &["ip conflict", "ip address conflict", "duplicate ip", "address conflict"]),
    t("firewall", I, "network", &["firewalls", "firewall rule", "firewall rules", "firewall policy", "utm", "ngfw", "windows firewall"]),
    t("pfsense", T, "firewall", &["pf sense", "netgate"]),
    t("opnsense", T, "firewall", &[]),
    t("fortigate", T, "firewall", &["fortinet", "fortios", "fortigates", "forticlient", "fortianalyzer"]),
    t("sonicwall", T, "firewall", &["sonic wall", "sonicos", "netextender", "global vpn client"]),
    t("watchguard", T, "firewall", &["watch guard", "firebox"]),
    t("sophos", T, "firewall", &["sophos xg", "sophos firewall", "sophos central", "intercept x"]),
    t("palo-alto", T, "firewall", &["palo alto", "pan-os", "panos", "globalprotect", "global protect"]),
    t("cisco-asa", T, "firewall", &["cisco asa", "asa", "firepower"]),
    t("cisco", T, "network", &["cisco ios", "catalyst", "ios-xe", "cisco switch", "cisco router"]),
    t("meraki", T, "network", &["cisco meraki", "meraki mx", "meraki dashboard"]),
    t("ubiquiti", T, "network", &["ubnt", "edgerouter", "edgeswitch", "airmax", "edgemax"]),
    t("unifi", T, "ubiquiti", &["unifi controller", "unifi network", "unifi os", "udm", "udm pro", "udm-pro", "dream machine", "usg", "unifi ap"]),
    t("mikrotik", T, "network", &["routeros", "winbox"]),
    t("aruba", T, "network", &["aruba instant on", "instant on", "aruba central"]),
    t("tp-link", T, "network", &["tplink", "omada"]),
    t("netgear", T, "network", &[]),
    t("vlan", T, "network", &["vlans", "802.1q", "tagged vlan", "native vlan", "trunk port", "trunk ports", "vlan tagging"]),
    t("dhcp", T, "network", &["dhcp server", "dhcp scope", "dhcp scopes", "dhcp lease", "dhcp leases", "dhcp reservation", "dhcp reservations", "ip helper"]),
    t("dns", T, "network", &["dns server", "dns servers", "dns record", "dns records", "dns zone", "dns zones", "nslookup", "cname", "cname record", "txt record", "txt records", "ptr record", "reverse dns", "rdns", "name server", "name servers", "nameserver", "nameservers", "conditional forwarder", "dns forwarder", "resolver"]),
    t("dns-failure", P, "dns", &["dns failure", "dns issue", "dns issues", "nxdomain", "servfail", "name resolution", "could not resolve", "cannot resolve", "unable to resolve", "dns not resolving", "dns resolution failure"]),
    t("dnssec", T, "dns", &[]),
    t("domain-registrar", I, "dns", &["registrar", "registrars", "domain registrar", "domain renewal", "domain transfer", "whois", "domain name", "domain names", "domain expiry"]),
    t("godaddy", T, "domain-registrar", &["go daddy"]),
    t("namecheap", T, "domain-registrar", &["name cheap"]),
    t("network-solutions", T, "domain-registrar", &["network solutions"]),
    t("tucows", T, "domain-registrar", &["opensrs"]),
    t("porkbun", T, "domain-registrar", &[]),
    t("route53", T, "dns", &["route 53", "amazon route 53"]),
    t("vpn", I, "network", &["vpns", "site-to-site", "site to site", "s2s", "remote access vpn", "client vpn", "vpn tunnel", "vpn tunnels", "ssl vpn", "pptp", "always on vpn"]),
    t("wireguard", T, "vpn", &["wg", "wg-quick"]),
    t("openvpn", T, "vpn", &["open vpn", "ovpn"]),
    t("ipsec", T, "vpn", &["ikev2", "ikev1", "ike", "ipsec tunnel", "l2tp"]),
    t("tailscale", T, "vpn", &["tailnet"]),
    t("zerotier", T, "vpn", &["zero tier"]),
    t("anyconnect", T, "vpn", &["cisco anyconnect", "cisco secure client"]),
    t("nat", T, "network", &["port forward", "port forwarding", "port forwards", "port forwarded", "snat", "dnat", "nat rule", "nat rules", "one-to-one nat"]),
    t("switch", I, "network", &["switches", "network switch", "network switches", "managed switch", "core switch", "access switch", "switchport", "switch port", "switch ports"]),
    t("poe", T, "switch", &["power over ethernet", "poe+", "poe switch", "poe injector"]),
    t("spanning-tree", T, "switch", &["spanning tree", "stp", "rstp"]),
    t("network-loop", P, "switch", &["network loop", "switching loop", "broadcast storm", "loop detected"]),
    t("router", I, "network", &["routers", "routing", "route", "routes", "static route", "static routes", "gateway", "gateways", "default gateway", "bgp", "ospf"]),
    t("wifi", I, "network", &["wi-fi", "wireless", "wlan", "ssid", "ssids", "access point", "access points", "wap", "waps", "wpa2", "wpa3", "wpa2-enterprise", "wireless network", "roaming", "mac filtering"]),
    t("cabling", I, "network", &["cable", "cables", "patch cable", "patch cables", "patch panel", "cat6", "cat5e", "cat 6", "ethernet", "ethernet cable", "network cable", "fiber patch", "sfp"]),
    t("isp", I, "network", &["isps", "internet provider", "internet service provider", "internet connection", "internet service", "circuit", "broadband", "fiber line", "modem", "no internet", "internet down", "comcast", "xfinity", "verizon", "centurylink"]),
    t("starlink", T, "isp", &[]),
    t("bandwidth", T, "network", &["throughput", "bandwidth usage", "saturated link", "link speed"]),
    t("latency", P, "network", &["high latency", "jitter", "lag", "laggy", "lagging", "ping times", "slow ping"]),
    t("packet-loss", P, "network", &["packet loss", "dropped packets", "packets dropped", "packet drops"]),
    t("intermittent", P, "", &["intermittently", "sporadic", "sporadically", "on and off", "flaky", "flapping", "comes and goes"]),
    t("connection-drops", P, "network", &["disconnect", "disconnects", "disconnected", "disconnecting", "disconnections", "keeps dropping", "dropped connection", "connection drops", "connection dropped", "dropping connection", "connection lost", "lost connection"]),
    t("cannot-connect", P, "network", &["cannot connect", "can't connect", "cant connect", "unable to connect", "could not connect", "couldn't connect", "can not connect", "connection refused", "econnrefused", "connection failed", "connection reset", "econnreset", "unreachable", "host unreachable", "network unreachable", "not reachable", "no route to host"]),
    t("ping", T, "network", &["traceroute", "tracert", "mtr", "pathping", "icmp"]),
    t("ntp", T, "", &["time sync", "time synchronization", "w32tm", "time server", "chrony", "clock skew", "time drift"]),
    t("proxy", T, "network", &["proxies", "proxy server", "reverse proxy", "squid", "pac file"]),
    t("traefik", T, "proxy", &[]),
    t("load-balancer", I, "network", &["load balancer", "load balancers", "load balancing", "haproxy", "elb", "alb", "big-ip"]),
    t("ssh", T, "", &["openssh", "sshd", "ssh key", "ssh keys", "putty", "scp", "authorized_keys", "authorized keys", "known_hosts", "known hosts"]),
    t("ftp", T, "", &["ftps", "sftp", "filezilla", "winscp", "ftp server"]),
    t("rdp", T, "remote-access", &["remote desktop", "mstsc", "rdp session", "remote desktop protocol", "rdp file"]),
    t("rds", T, "rdp", &["remote desktop services", "terminal server", "terminal servers", "terminal services", "session host", "session hosts", "rdsh", "rd gateway", "rdweb", "rd web", "remoteapp"]),
    t("remote-access", T, "", &["remote access", "remote support", "remote control", "remote session", "remote tool"]),
    t("screenconnect", T, "remote-access", &["screen connect", "connectwise control", "connectwise screenconnect"]),
    t("teamviewer", T, "remote-access", &["team viewer"]),
    t("anydesk", T, "remote-access", &["any desk"]),
    t("splashtop", T, "remote-access", &[]),
    t("logmein", T, "remote-access", &["log me in"]),
    t("beyondtrust", T, "remote-access", &["bomgar", "beyond trust"]),
    t("vnc", T, "remote-access", &["tightvnc", "realvnc", "ultravnc", "tigervnc"]),
    t("winrm", T, "", &["windows remote management", "ps remoting", "powershell remoting", "psremoting", "enter-pssession", "invoke-command", "new-pssession", "wsman", "pssession"]),
    t("snmp", T, "monitoring", &["snmpv2", "snmpv3", "snmp trap", "snmp traps", "snmp community", "mib"]),
    t("ids", T, "security", &["intrusion detection", "intrusion prevention", "snort", "suricata"]),
    t("zero-trust", T, "security", &["zero trust", "ztna"]),
    t("dns-filtering", T, "security", &["dns filtering", "dns filter", "dnsfilter", "web filtering", "web filter", "content filter", "content filtering", "cisco umbrella", "opendns", "webtitan", "pihole", "pi-hole"]),

    // ----- servers, storage, virtualization -----
    t("server", I, "", &["servers", "physical server", "bare metal", "baremetal", "host server", "server hardware"]),
    t("file-share", I, "", &["file share", "file shares", "fileshare", "network share", "network shares", "network drive", "network drives", "mapped drive", "mapped drives", "drive mapping", "drive mappings", "shared drive", "shared drives", "shared folder", "shared folders", "file server", "file servers", "unc path"]),
    t("smb", T, "file-share", &["cifs", "samba", "smb1", "smbv1", "smb2", "smbv2", "smb3", "smbv3", "smb share", "smb signing"]),
    t("nfs", T, "file-share", &["nfsv3", "nfsv4", "nfs share", "nfs mount", "nfs export"]),
    t("dfs", T, "file-share", &["dfsr", "dfs namespace", "dfs replication", "distributed file system"]),
    t("file-sync", T, "", &["file sync", "file syncing", "sync client", "sync issue", "sync issues", "sync error", "sync errors", "not syncing"]),
    t("dropbox", T, "file-sync", &["drop box"]),
    t("egnyte", T, "file-sync", &[]),
    t("sharefile", T, "file-sync", &["share file", "citrix sharefile"]),
    t("google-drive", T, "file-sync", &["google drive", "gdrive", "shared drive google"]),
    t("storage", I, "", &["storage array", "storage arrays", "disk array", "storage pool", "storage pools", "datastore", "datastores", "storage capacity"]),
    t("storage-spaces", T, "storage", &["storage spaces", "storage spaces direct", "s2d"]),
    t("object-storage", T, "storage", &["object storage", "s3", "s3 bucket", "s3 buckets", "bucket", "buckets", "blob storage", "azure blob", "minio"]),
    t("nas", I, "storage", &["network attached storage", "nas box", "nas device", "nas devices"]),
    t("synology", T, "nas", &["diskstation", "dsm", "hyper backup", "active backup", "active backup for business", "synology drive", "rackstation"]),
    t("qnap", T, "nas", &["qts", "quts", "quts hero"]),
    t("truenas", T, "nas", &["freenas", "truenas scale", "truenas core"]),
    t("zfs", T, "storage", &["zpool", "zpools", "zfs pool", "openzfs", "zfs snapshot"]),
    t("raid", T, "storage", &["raid1", "raid5", "raid6", "raid10", "raid 1", "raid 5", "raid 6", "raid 10", "raid array", "hardware raid", "software raid", "mdadm", "raid controller", "perc"]),
    t("iscsi", T, "storage", &["iscsi target", "iscsi initiator", "lun", "luns"]),
    t("san", I, "storage", &["storage area network", "fibre channel", "fiber channel"]),
    t("disk", I, "storage", &["disks", "hdd", "hdds", "ssd", "ssds", "nvme", "hard drive", "hard drives", "hard disk", "hard disks", "disk drive", "disk drives", "volume", "volumes", "partition", "partitions", "c drive"]),
    t("disk-full", P, "disk", &["disk full", "disk space", "low disk space", "out of space", "out of disk space", "no space left", "drive full", "drive is full", "disk is full", "storage full", "enospc", "running out of space", "c drive full"]),
    t("disk-failure", P, "disk", &["disk failure", "drive failure", "failed drive", "failed disk", "failing drive", "failing disk", "bad sector", "bad sectors", "dead drive", "dead disk", "degraded array", "raid degraded", "smart error", "smart errors", "predictive failure"]),
    t("virtualization", I, "", &["virtualisation", "virtualized", "virtualised", "hypervisor", "hypervisors", "vm", "vms", "virtual machine", "virtual machines", "vm host", "guest vm", "guest os"]),
    t("hyper-v", T, "virtualization", &["hyperv", "hyper-v manager", "hyper-v host", "vmms"]),
    t("failover-cluster", T, "", &["failover cluster", "failover clustering", "cluster", "clusters", "clustered", "clustering", "csv volume", "cluster shared volume", "quorum"]),
    t("vmware", T, "virtualization", &["vmware workstation", "vmware tools", "vsphere", "vsan", "vmotion", "vmware fusion"]),
    t("esxi", T, "vmware", &["esx", "esxi host", "esxi hosts", "vmware esxi", "esxcli"]),
    t("vcenter", T, "vmware", &["vcsa", "vcenter server"]),
    t("proxmox", T, "virtualization", &["pve", "proxmox ve"]),
    t("kvm", T, "virtualization", &["qemu", "libvirt", "virsh", "virt-manager"]),
    t("xcp-ng", T, "virtualization", &["xcpng", "xenserver", "citrix hypervisor", "xen", "xen orchestra", "xoa"]),
    t("virtualbox", T, "virtualization", &["vbox"]),
    t("vdi", T, "virtualization", &["virtual desktop", "virtual desktops", "virtual desktop infrastructure", "vmware horizon"]),
    t("avd", T, "vdi", &["azure virtual desktop", "wvd", "windows virtual desktop"]),
    t("windows-365", T, "vdi", &["windows 365", "cloud pc", "cloud pcs", "w365"]),
    t("citrix", T, "vdi", &["citrix workspace", "xenapp", "xendesktop", "citrix receiver", "netscaler"]),
    t("containers", I, "", &["container", "containerd", "podman", "lxc", "lxd", "containerized", "container image"]),
    t("docker", T, "containers", &["dockerfile", "docker compose", "docker-compose", "dockerd", "docker hub", "docker desktop"]),
    t("kubernetes", T, "containers", &["k8s", "kubectl", "k3s", "aks", "eks", "gke", "helm", "kube", "openshift", "pod", "pods", "kubernetes cluster", "k8s cluster"]),
    t("datacenter", I, "", &["data center", "datacentre", "data centre", "colo", "colocation", "server room", "server rack", "rack", "racks"]),
    t("hardware", I, "", &["hardware issue", "hardware issues", "motherboard", "psu", "power supply"]),
    t("firmware", T, "hardware", &["bios update", "bios updates", "bios version"]),
    t("driver", T, "hardware", &["drivers", "device driver", "device drivers", "driver package"]),
    t("ipmi", T, "hardware", &["idrac", "ilo", "bmc", "out of band", "out-of-band", "lights out", "xclarity controller", "xcc"]),
    t("dell", T, "hardware", &["poweredge", "optiplex", "dell latitude", "dell precision", "openmanage", "supportassist"]),
    t("hp", T, "hardware", &["hpe", "hewlett packard", "proliant", "elitebook", "probook", "elitedesk", "hp sure"]),
    t("lenovo", T, "hardware", &["thinkpad", "thinkcentre", "thinksystem", "lenovo vantage"]),
    t("ups", I, "hardware", &["uninterruptible power supply", "battery backup", "apc", "cyberpower", "eaton", "powerchute", "ups battery"]),
    t("power-outage", P, "", &["power outage", "power outages", "power failure", "power cut", "blackout", "brownout", "lost power", "power loss", "power went out"]),
    t("cpu", I, "hardware", &["processor", "processors", "cpus", "vcpu", "vcpus"]),
    t("memory", I, "hardware", &["ram", "dimm", "dimms", "memory upgrade", "swap", "pagefile", "page file"]),
    t("high-cpu", P, "cpu", &["high cpu", "cpu usage", "cpu spike", "cpu spikes", "cpu load", "high load", "load average", "cpu at 100", "100 cpu", "pegged cpu", "cpu pegged"]),
    t("high-memory", P, "memory", &["high memory", "memory usage", "ram usage", "out of memory", "oom", "oom killer", "oom killed", "memory exhaustion", "memory pressure"]),
    t("memory-leak", P, "memory", &["memory leak", "memory leaks", "leaking memory", "leaks memory"]),
    t("workstation", I, "", &["workstations", "desktop", "desktops", "pc", "pcs", "computer", "computers", "endpoint", "endpoints", "client machine", "client machines", "end user device"]),
    t("laptop", I, "workstation", &["laptops", "notebook pc", "ultrabook"]),
    t("mobile-device", I, "", &["mobile device", "mobile devices", "mobile", "smartphone", "smartphones", "cell phone", "cell phones", "mobile phone", "mobile phones", "tablet", "tablets"]),
    t("ios", T, "mobile-device", &["iphone", "iphones", "ipad", "ipads", "ipados"]),
    t("android", T, "mobile-device", &["android phone", "android device", "android devices"]),
    t("display", I, "hardware", &["displays", "external monitor", "external monitors", "second monitor", "dual monitor", "dual monitors", "multiple monitors", "screen resolution", "hdmi", "displayport", "display port"]),
    t("dock", I, "hardware", &["docks", "docking station", "docking stations", "usb-c dock", "thunderbolt dock", "thunderbolt"]),
    t("usb", T, "hardware", &["usb-c", "usbc", "usb drive", "usb drives", "flash drive", "thumb drive"]),
    t("bluetooth", T, "hardware", &[]),
    t("audio", I, "hardware", &["sound", "headset", "headsets", "headphones", "microphone", "microphones", "mic", "speakers"]),
    t("webcam", I, "hardware", &["webcams", "web cam", "camera not working"]),
    t("physical-security", I, "", &["cctv", "nvr", "security camera", "security cameras", "ip camera", "ip cameras", "surveillance", "door access", "badge reader", "access control system", "verkada"]),
    t("overheating", P, "hardware", &["overheat", "overheated", "thermal throttling", "high temperature", "fan failure"]),

    // ----- operating systems -----
    t("windows", T, "", &["windows 10", "windows 11", "win10", "win11", "win 10", "win 11", "windows 7", "win7", "windows 8", "windows client", "windows desktop", "windows pc"]),
    t("windows-server", T, "", &["windows server", "win server", "winserver", "server 2008", "server 2012", "server 2012 r2", "server 2016", "server 2019", "server 2022", "server 2025", "server2016", "server2019", "server2022", "sbs", "small business server", "server core"]),
    t("windows-update", T, "patch", &["windows update", "windows updates", "wuauserv", "update for business", "wufb", "cumulative update", "cumulative updates", "feature update", "feature updates"]),
    t("wsus", T, "windows-update", &["windows server update services"]),
    t("registry", T, "", &["regedit", "registry key", "registry keys", "hklm", "hkcu", "reg key", "windows registry"]),
    t("wsl", T, "windows", &["wsl2", "windows subsystem for linux"]),
    t("linux", T, "", &["gnu linux", "linux server", "linux servers", "linux box"]),
    t("ubuntu", T, "linux", &["ubuntu server", "kubuntu", "xubuntu"]),
    t("debian", T, "linux", &["raspbian", "raspberry pi os"]),
    t("rhel", T, "linux", &["red hat", "redhat", "red hat enterprise linux", "centos", "rocky linux", "rockylinux", "almalinux", "alma linux", "oracle linux"]),
    t("fedora", T, "linux", &[]),
    t("arch-linux", T, "linux", &["arch linux", "archlinux", "manjaro"]),
    t("alpine", T, "linux", &["alpine linux"]),
    t("suse", T, "linux", &["opensuse", "sles"]),
    t("freebsd", T, "", &["openbsd", "bsd"]),
    t("systemd", T, "linux", &["systemctl", "unit file", "systemd unit", "systemd service", "systemd timer"]),
    t("macos", T, "", &["mac os", "mac os x", "osx", "os x", "mac", "macs", "macbook", "macbooks", "macbook pro", "macbook air", "imac", "mac mini", "mac studio", "apple silicon"]),
    t("chromeos", T, "", &["chrome os", "chromebook", "chromebooks"]),
    t("boot", T, "", &["bios", "uefi", "secure boot", "bootloader", "grub", "boot order", "boot menu", "boot sector", "bcd", "bcdedit", "mbr", "booting"]),
    t("boot-failure", P, "boot", &["boot failure", "won't boot", "wont boot", "will not boot", "no boot", "boot loop", "bootloop", "fails to boot", "failed to boot", "inaccessible boot device", "no bootable device", "stuck at boot"]),

    // ----- scripting and development -----
    t("powershell", T, "scripting", &["pwsh", "ps1", "psm1", "power shell", "windows powershell", "powershell script", "powershell scripts", "cmdlet", "cmdlets", "powershell 7", "posh", "pester", "psscriptanalyzer"]),
    t("bash", T, "scripting", &["bash script", "bash scripts", "shell script", "shell scripts", "shell scripting", "zsh", "sh", "shellcheck"]),
    t("cmd", T, "scripting", &["command prompt", "batch file", "batch files", "batch script", "cmd.exe", "bat"]),
    t("scripting", T, "", &["script", "scripts", "scripted", "one-liner"]),
    t("automation", T, "", &["automate", "automated", "automating", "automations", "runbook automation"]),
    t("python", T, "", &["python3", "py", "pip", "pip3", "pipx", "venv", "virtualenv", "pypi", "conda", "anaconda", "python script", "pytest", "django"]),
    t("rust", T, "", &["cargo", "rustc", "rustup", "crate", "crates", "crates.io", "clippy"]),
    t("nodejs", T, "javascript", &["node.js", "npm", "npx", "yarn", "pnpm", "node modules", "node_modules", "package.json"]),
    t("javascript", T, "", &["js", "ecmascript", "reactjs", "react.js", "nextjs", "next.js", "vue", "vuejs", "angular", "jest", "eslint"]),
    t("typescript", T, "javascript", &["ts", "tsc", "tsconfig"]),
    t("java", T, "", &["jvm", "jdk", "jre", "openjdk", "maven", "gradle"]),
    t("dotnet", T, "", &["net framework", "net core", "asp.net", "asp net", "dotnet core", "nuget"]),
    t("csharp", T, "dotnet", &["c#", "c sharp"]),
    t("cpp", T, "", &["c++", "cmake", "g++", "clang", "gcc"]),
    t("golang", T, "", &["go lang", "go mod", "go build", "go module", "go modules"]),
    t("php", T, "", &["php-fpm", "laravel", "composer.json"]),
    t("wordpress", T, "website", &["wp", "wp-admin", "woocommerce", "wordpress plugin", "wordpress plugins", "wp plugin"]),
    t("sql", T, "database", &["sql query", "sql queries", "tsql", "t-sql", "plsql", "stored procedure", "stored procedures"]),
    t("git", T, "", &["git repo", "git repository", "git commit", "git push", "git pull", "git clone", "rebase", "merge conflict", "merge conflicts"]),
    t("github", T, "git", &["git hub", "gh", "github.com"]),
    t("gitlab", T, "git", &["git lab"]),
    t("bitbucket", T, "git", &[]),
    t("code-review", T, "git", &["code review", "code reviews", "pull request", "pull requests", "merge request", "merge requests"]),
    t("ci", T, "", &["ci/cd", "cicd", "continuous integration", "continuous deployment", "continuous delivery", "pipeline", "pipelines", "build pipeline", "ci pipeline", "devops"]),
    t("github-actions", T, "ci", &["github actions", "gh actions", "github workflow", "github workflows"]),
    t("gitlab-ci", T, "ci", &["gitlab ci", "gitlab-ci.yml", "gitlab runner"]),
    t("azure-devops", T, "ci", &["azure devops", "azure pipelines", "vsts"]),
    t("jenkins", T, "ci", &["jenkinsfile"]),
    t("build-failure", P, "ci", &["build failed", "build failure", "build error", "build errors", "compile error", "compile errors", "compilation error", "compiler error", "failed to compile", "build broken"]),
    t("testing", T, "", &["unit test", "unit tests", "unit testing", "integration test", "integration tests", "test suite", "test failure", "failing test", "failing tests"]),
    t("infrastructure-as-code", T, "", &["infrastructure as code", "iac"]),
    t("terraform", T, "infrastructure-as-code", &["tf", "tfstate", "terraform plan", "terraform apply", "hcl", "opentofu"]),
    t("ansible", T, "infrastructure-as-code", &["playbook", "playbooks", "ansible playbook", "ansible-playbook", "awx"]),
    t("pulumi", T, "infrastructure-as-code", &[]),
    t("bicep", T, "infrastructure-as-code", &["arm template", "arm templates"]),
    t("puppet", T, "infrastructure-as-code", &["saltstack", "salt stack"]),
    t("yaml", T, "", &["yml"]),
    t("json", T, "", &["jsonl", "json file"]),
    t("xml", T, "", &["xml file"]),
    t("csv", T, "", &["csv file", "csv export", "csv import"]),
    t("api", T, "", &["apis", "rest api", "restful", "api endpoint", "api call", "api calls", "graphql", "openapi", "swagger"]),
    t("webhook", T, "api", &["webhooks", "web hook"]),
    t("secrets", T, "", &["secret", "secret management", "key vault", "azure key vault", "hashicorp vault", "credentials", "credential", "creds"]),
    t("api-key", T, "secrets", &["api key", "api keys", "api token", "api tokens", "access token", "access tokens", "bearer token", "personal access token", "client secret", "client secrets"]),
    t("environment-variables", T, "", &["environment variable", "env var", "env vars", "dotenv", "env file"]),
    t("vscode", T, "", &["vs code", "visual studio code"]),
    t("visual-studio", T, "", &["visual studio", "msbuild", "vs2022", "vs2019"]),
    t("ai", T, "", &["artificial intelligence", "llm", "llms", "chatgpt", "openai", "gpt", "claude", "anthropic", "gemini", "mcp", "mcp server", "model context protocol"]),
    t("claude-code", T, "ai", &["claude code"]),
    t("copilot", T, "ai", &["microsoft copilot", "github copilot", "m365 copilot", "copilot studio"]),
    t("regex", T, "", &["regexp", "regular expression", "regular expressions"]),
    t("cron", T, "", &["crontab", "cronjob", "cronjobs", "cron job", "cron jobs"]),
    t("scheduled-task", T, "", &["scheduled task", "scheduled tasks", "task scheduler", "schtasks"]),
    t("package-manager", T, "", &["package manager", "winget", "chocolatey", "choco", "apt", "apt-get", "yum", "dnf", "homebrew", "brew", "scoop", "msiexec", "msi"]),
    t("gpg", T, "encryption", &["pgp", "gnupg", "pgp key"]),
    t("encoding", P, "", &["utf-8", "utf8", "character encoding", "mojibake", "bom"]),

    // ----- databases -----
    t("database", I, "", &["databases", "db", "dbs", "rdbms"]),
    t("sql-server", T, "database", &["sql server", "mssql", "ms sql", "microsoft sql", "microsoft sql server", "sql express", "sqlexpress", "ssms", "sql server management studio", "ssis", "ssrs", "sql instance", "sql agent"]),
    t("postgres", T, "database", &["postgresql", "psql", "pg_dump", "pg dump", "pgbouncer", "pgadmin", "pg_hba"]),
    t("mysql", T, "database", &["mariadb", "my sql", "mysqldump", "phpmyadmin"]),
    t("sqlite", T, "database", &["sqlite3", "sqlite db"]),
    t("mongodb", T, "database", &["mongo", "mongod", "mongosh"]),
    t("redis", T, "database", &["valkey", "redis-cli"]),
    t("oracle-db", T, "database", &["oracle database", "oracle db", "sqlplus"]),
    t("elasticsearch", T, "database", &["elastic", "elastic stack", "elk", "kibana", "logstash", "opensearch"]),
    t("line-of-business", I, "", &["line of business", "lob", "lob app", "lob application", "erp", "crm"]),
    t("quickbooks", T, "line-of-business", &["qb", "qbo", "quickbooks online", "quickbooks desktop", "qbdt"]),
    t("adobe", T, "", &["adobe acrobat", "acrobat", "adobe reader", "acrobat reader", "creative cloud", "photoshop"]),
    t("browser", T, "", &["browsers", "web browser", "browser extension", "browser extensions", "browser cache", "cookies"]),
    t("chrome", T, "browser", &["google chrome"]),
    t("firefox", T, "browser", &["mozilla firefox"]),
    t("microsoft-edge", T, "browser", &["microsoft edge", "ms edge", "edge browser"]),

    // ----- RMM / PSA / documentation -----
    t("rmm", T, "", &["remote monitoring and management", "rmm agent", "rmm tool", "rmm platform"]),
    t("psa", T, "", &["professional services automation", "ticketing system", "ticket system", "ticketing", "service desk", "helpdesk", "help desk", "ticket queue"]),
    t("syncro", T, "rmm", &["syncro msp", "syncromsp"]),
    t("connectwise", T, "psa", &["connectwise manage", "cw manage", "cw", "connectwise psa"]),
    t("connectwise-automate", T, "rmm", &["connectwise automate", "labtech", "cw automate"]),
    t("autotask", T, "psa", &["datto autotask", "autotask psa", "kaseya autotask"]),
    t("ninjaone", T, "rmm", &["ninja", "ninjarmm", "ninja one", "ninja rmm"]),
    t("datto-rmm", T, "rmm", &["datto rmm", "centrastage", "aem", "autotask endpoint management"]),
    t("kaseya", T, "rmm", &["vsa", "kaseya vsa", "kaseya 365", "it complete"]),
    t("n-able", T, "rmm", &["nable", "n-central", "ncentral", "n-sight", "solarwinds msp", "solarwinds rmm"]),
    t("halopsa", T, "psa", &["halo", "halo psa", "haloitsm", "halo itsm"]),
    t("atera", T, "rmm", &[]),
    t("pulseway", T, "rmm", &[]),
    t("action1", T, "rmm", &["action 1"]),
    t("tactical-rmm", T, "rmm", &["tactical rmm", "tacticalrmm", "trmm"]),
    t("immybot", T, "rmm", &["immy bot", "immy"]),
    t("freshservice", T, "psa", &["freshdesk"]),
    t("zendesk", T, "psa", &[]),
    t("servicenow", T, "psa", &["service now"]),
    t("jira", T, "", &["jira service management", "jsm"]),
    t("documentation", I, "", &["docs", "runbook", "runbooks", "sop", "sops", "knowledge base", "kb article", "kb articles", "wiki", "how-to guide"]),
    t("itglue", T, "documentation", &["it glue", "it-glue"]),
    t("hudu", T, "documentation", &[]),
    t("confluence", T, "documentation", &[]),
    t("sla", T, "psa", &["slas", "service level agreement", "resolution time"]),

    // ----- security -----
    t("security", I, "", &["cybersecurity", "cyber security", "infosec", "it security", "security posture"]),
    t("antivirus", T, "security", &["anti-virus", "anti virus", "anti-malware", "antimalware", "av", "virus scan", "virus scanner"]),
    t("defender", T, "antivirus", &["windows defender", "microsoft defender", "defender for endpoint", "defender for business", "defender for office", "defender antivirus", "mde", "mdatp", "atp", "smartscreen"]),
    t("webroot", T, "antivirus", &[]),
    t("eset", T, "antivirus", &[]),
    t("bitdefender", T, "antivirus", &["gravityzone"]),
    t("malwarebytes", T, "antivirus", &["malware bytes"]),
    t("trend-micro", T, "antivirus", &["trend micro", "trendmicro"]),
    t("symantec", T, "antivirus", &["norton"]),
    t("mcafee", T, "antivirus", &["trellix"]),
    t("kaspersky", T, "antivirus", &[]),
    t("edr", T, "security", &["xdr", "mdr", "endpoint detection", "endpoint detection and response", "managed detection"]),
    t("sentinelone", T, "edr", &["sentinel one", "sentinelone agent", "s1 agent"]),
    t("huntress", T, "edr", &[]),
    t("crowdstrike", T, "edr", &["falcon", "crowdstrike falcon", "csfalconservice"]),
    t("blackpoint", T, "edr", &["blackpoint cyber"]),
    t("application-control", T, "security", &["application control", "application whitelisting", "app whitelisting", "allowlisting", "applocker", "wdac", "ringfencing"]),
    t("threatlocker", T, "application-control", &["threat locker"]),
    t("siem", T, "security", &["microsoft sentinel", "azure sentinel", "log management"]),
    t("splunk", T, "siem", &[]),
    t("wazuh", T, "siem", &[]),
    t("blumira", T, "siem", &[]),
    t("soc", T, "security", &["security operations center", "security operations centre", "soc team"]),
    t("phishing", P, "security", &["phish", "phished", "phishing email", "phishing emails", "phishing attack", "phishing attempt", "spear phishing", "smishing", "vishing", "credential harvesting", "business email compromise", "bec"]),
    t("security-awareness-training", A, "security", &["security awareness", "security awareness training", "awareness training", "phishing simulation", "phishing simulations", "phishing test"]),
    t("knowbe4", T, "security-awareness-training", &["know be4"]),
    t("ransomware", P, "security", &["ransom", "ransom note", "cryptolocker", "crypto locker", "lockbit", "encrypted files", "files encrypted"]),
    t("malware", P, "security", &["virus", "viruses", "trojan", "trojans", "spyware", "adware", "rootkit", "keylogger", "infected", "infection", "malicious software", "backdoor", "cryptominer"]),
    t("compromise", P, "security", &["compromised", "compromised account", "account compromise", "breach", "breached", "data breach", "account takeover", "hacked", "security incident", "unauthorized access"]),
    t("incident-response", A, "security", &["incident response", "incident handling", "forensics", "containment"]),
    t("vulnerability", P, "security", &["vulnerabilities", "vuln", "vulns", "exploit", "exploits", "exploited", "zero-day", "zero day", "0day", "vulnerability scan", "vulnerability scanning", "printnightmare", "log4j", "log4shell"]),
    t("cve", T, "vulnerability", &["cves"]),
    t("nessus", T, "vulnerability", &["tenable"]),
    t("qualys", T, "vulnerability", &[]),
    t("rapid7", T, "vulnerability", &["insightvm", "nexpose"]),
    t("pentest", A, "security", &["penetration test", "penetration testing", "pen test", "pentesting", "red team"]),
    t("encryption", T, "security", &["encrypt", "encrypted", "encrypting", "decrypt", "decrypted", "decryption", "aes", "full disk encryption", "fde", "at rest"]),
    t("bitlocker", T, "encryption", &["bit locker", "recovery key", "recovery keys", "bitlocker key", "bitlocker recovery", "mbam", "manage-bde"]),
    t("filevault", T, "encryption", &["file vault"]),
    t("tpm", T, "security", &["trusted platform module", "tpm2"]),
    t("dlp", T, "security", &["data loss prevention", "sensitivity label", "sensitivity labels", "purview", "microsoft purview"]),
    t("certificate", T, "security", &["certificates", "cert", "certs", "ssl certificate", "ssl certificates", "tls certificate", "tls certificates", "x509", "x.509", "csr", "pfx", "pem", "private key", "pki", "certificate authority", "root ca", "intermediate certificate", "certificate chain", "ad cs", "adcs", "wildcard certificate", "code signing"]),
    t("certificate-expired", P, "certificate", &["certificate expired", "cert expired", "expired certificate", "expired certificates", "expired cert", "expired certs", "certificate has expired", "ssl expired"]),
    t("certificate-error", P, "certificate", &["certificate error", "certificate errors", "cert error", "untrusted certificate", "self-signed", "self signed", "ssl error", "ssl errors", "certificate warning", "invalid certificate", "certificate mismatch", "name mismatch"]),
    t("tls", T, "security", &["ssl", "ssl tls", "tls handshake", "ssl handshake", "cipher suite", "cipher suites", "mtls", "mutual tls", "tls 1.2", "tls 1.3", "tls1.2"]),
    t("http", T, "", &["https", "http2", "http/2", "status code", "http status"]),
    t("letsencrypt", T, "certificate", &["let's encrypt", "lets encrypt", "certbot", "acme client", "acme protocol", "win-acme", "wacs", "acme.sh"]),
    t("compliance", T, "", &["regulatory", "compliant", "noncompliant", "audit requirements", "cis controls"]),
    t("hipaa", T, "compliance", &[]),
    t("pci-dss", T, "compliance", &["pci", "pci dss", "pci compliance"]),
    t("gdpr", T, "compliance", &[]),
    t("soc2", T, "compliance", &["soc 2", "soc ii"]),
    t("cmmc", T, "compliance", &["nist 800-171", "dfars"]),
    t("nist", T, "compliance", &["nist csf", "nist framework"]),
    t("iso-27001", T, "compliance", &["iso 27001", "iso27001", "isms"]),
    t("cyber-insurance", T, "compliance", &["cyber insurance", "cyber liability", "insurance questionnaire"]),
    t("mdm", T, "", &["mobile device management", "emm", "uem", "device management", "device compliance", "compliance policy"]),
    t("intune", T, "mdm", &["endpoint manager", "microsoft endpoint manager", "intune policy", "intune policies", "company portal"]),
    t("autopilot", T, "intune", &["windows autopilot", "autopilot profile"]),
    t("jamf", T, "mdm", &["jamf pro"]),
    t("apple-business-manager", T, "mdm", &["apple business manager", "abm", "apple school manager"]),

    // ----- printing, voice, cloud, monitoring, licensing -----
    t("printer", I, "", &["printers", "printing", "print job", "print jobs", "print queue", "print spooler", "spooler", "print server", "print driver", "print drivers", "printer driver", "printer drivers", "mfp", "mfd", "copier", "copiers", "multifunction printer", "toner"]),
    t("scanner", I, "printer", &["scanners", "scan to email", "scan to folder", "scan to smb", "scan to network"]),
    t("ricoh", T, "printer", &[]),
    t("xerox", T, "printer", &[]),
    t("kyocera", T, "printer", &[]),
    t("konica-minolta", T, "printer", &["konica minolta", "konica", "bizhub"]),
    t("papercut", T, "printer", &[]),
    t("universal-print", T, "printer", &["universal print", "microsoft universal print", "printerlogic", "printer logic"]),
    t("voip", T, "", &["voice over ip", "sip", "sip trunk", "sip trunks", "pbx", "hosted pbx", "phone system", "phone systems", "desk phone", "desk phones", "ip phone", "ip phones", "softphone", "ucaas", "telephony", "call quality", "dial tone", "one-way audio", "call routing", "auto attendant"]),
    t("3cx", T, "voip", &[]),
    t("freepbx", T, "voip", &["free pbx", "asterisk"]),
    t("ringcentral", T, "voip", &["ring central"]),
    t("zoom", T, "voip", &["zoom meeting", "zoom meetings", "zoom phone"]),
    t("yealink", T, "voip", &[]),
    t("polycom", T, "voip", &["poly phone"]),
    t("nextiva", T, "voip", &[]),
    t("fax", T, "voip", &["efax", "fax machine", "faxing", "faxes", "e-fax"]),
    t("cloud", I, "", &["cloud hosting", "public cloud", "private cloud", "iaas", "paas", "saas", "multi-cloud", "hybrid cloud"]),
    t("azure", T, "cloud", &["microsoft azure", "azure portal", "az cli", "azure cli", "azure vm", "azure vms", "azure files", "azure storage", "azure subscription", "arm resource"]),
    t("aws", T, "cloud", &["amazon web services", "ec2", "amazon s3", "aws s3", "aws lambda", "cloudwatch", "lightsail", "amazon rds", "aws rds", "cloudformation", "aws iam"]),
    t("gcp", T, "cloud", &["google cloud", "google cloud platform", "gce", "compute engine", "gcloud", "bigquery"]),
    t("cloudflare", T, "cloud", &["cloudflare tunnel", "cloudflared", "cloudflare dns", "cloudflare access"]),
    t("digitalocean", T, "cloud", &["digital ocean", "droplet", "droplets"]),
    t("linode", T, "cloud", &["akamai cloud"]),
    t("hetzner", T, "cloud", &[]),
    t("ovh", T, "cloud", &["ovhcloud"]),
    t("cdn", T, "cloud", &["content delivery network", "fastly", "akamai"]),
    t("web-hosting", I, "website", &["web hosting", "shared hosting", "cpanel", "plesk", "whm", "web host", "hosting provider"]),
    t("website", I, "", &["websites", "web site", "web sites", "web page", "web pages", "webpage", "landing page"]),
    t("web-server", T, "", &["web server", "web servers", "webserver"]),
    t("nginx", T, "web-server", &[]),
    t("apache", T, "web-server", &["httpd", "apache2", "apache httpd", ".htaccess", "htaccess"]),
    t("iis", T, "web-server", &["internet information services", "iis manager", "app pool", "app pools", "application pool", "application pools", "w3wp"]),
    t("caddy", T, "web-server", &["caddyfile"]),
    t("monitoring", T, "", &["monitored", "observability", "health check", "health checks", "uptime monitoring", "metrics"]),
    t("alerting", T, "monitoring", &["alert", "alerts", "alerted", "alert rule", "alert rules", "notification", "notifications"]),
    t("pagerduty", T, "alerting", &["pager duty", "opsgenie"]),
    t("zabbix", T, "monitoring", &["zabbix agent"]),
    t("prometheus", T, "monitoring", &["promql", "alertmanager", "node exporter", "node_exporter"]),
    t("grafana", T, "monitoring", &["loki", "grafana dashboard"]),
    t("uptime", T, "monitoring", &["uptime kuma", "uptime-kuma", "uptimerobot", "uptime robot", "status page", "statuspage", "availability"]),
    t("prtg", T, "monitoring", &["paessler"]),
    t("nagios", T, "monitoring", &["icinga", "checkmk", "check_mk"]),
    t("datadog", T, "monitoring", &["data dog"]),
    t("new-relic", T, "monitoring", &["new relic", "newrelic"]),
    t("librenms", T, "monitoring", &["observium"]),
    t("solarwinds", T, "monitoring", &["solarwinds orion", "orion"]),
    t("logging", T, "", &["log", "logs", "log file", "log files", "logfile", "event log", "event logs", "event viewer", "eventvwr", "event id", "audit log", "audit logs", "journald", "journalctl", "logrotate", "log rotation"]),
    t("syslog", T, "logging", &["rsyslog", "syslog-ng", "syslog server"]),
    t("licensing", T, "", &["license", "licenses", "licence", "licences", "licensed", "unlicensed", "license key", "product key", "activation", "cal", "cals", "client access license", "subscription", "subscriptions", "csp", "seats", "e3", "e5", "business premium", "business standard"]),
    t("pax8", T, "licensing", &[]),
    t("kms", T, "licensing", &["key management service", "mak key", "volume license", "volume licensing", "vlsc"]),
    t("end-of-life", P, "", &["end of life", "eol", "end of support", "unsupported", "out of support", "deprecated", "deprecation"]),

    // ----- problems -----
    t("outage", P, "", &["outages", "downtime", "went down", "is down", "was down", "goes down", "going down", "offline", "service interruption", "service outage", "site down", "server down"]),
    t("slow", P, "performance", &["slowness", "sluggish", "slower", "slowly", "running slow", "very slow", "slowdown", "slow down"]),
    t("performance", P, "", &["perf", "poor performance", "performance issue", "performance issues", "performance degradation", "bottleneck", "bottlenecks", "degraded performance", "high io", "disk latency"]),
    t("timeout", P, "", &["timeouts", "timed out", "time out", "times out", "timing out", "etimedout", "request timeout", "connection timed out", "operation timed out"]),
    t("crash", P, "", &["crashes", "crashed", "crashing", "bsod", "blue screen", "blue screen of death", "kernel panic", "panic", "panicked", "segfault", "segmentation fault", "core dump", "stop code", "minidump", "unexpected shutdown"]),
    t("hang", P, "", &["hangs", "hung", "freeze", "freezes", "freezing", "frozen", "not responding", "unresponsive", "stuck", "deadlock"]),
    t("error", P, "", &["errors", "error message", "error messages", "error code", "error codes", "exception", "exceptions", "stack trace", "stacktrace", "traceback"]),
    t("failed", P, "", &["fail", "fails", "failing", "failure", "failures", "unsuccessful", "did not complete"]),
    t("not-working", P, "", &["not working", "doesn't work", "does not work", "isn't working", "is not working", "stopped working", "broken", "no longer works", "won't work"]),
    t("misconfiguration", P, "", &["misconfigured", "misconfig", "wrong config", "incorrect configuration", "bad config", "config drift"]),
    t("expired", P, "", &["expire", "expires", "expiring", "expiry", "expiration", "lapsed", "has expired"]),
    t("corruption", P, "", &["corrupt", "corrupted", "data corruption", "file corruption", "corrupted file", "corrupted files", "corrupt profile", "corrupted profile"]),
    t("data-loss", P, "", &["data loss", "lost data", "deleted files", "accidentally deleted", "missing files", "lost files", "files missing", "deleted email", "deleted emails"]),
    t("quota", P, "", &["quotas", "quota exceeded", "mailbox full", "storage quota", "over quota", "mailbox size"]),
    t("rate-limit", P, "", &["rate limit", "rate limited", "rate limiting", "throttled", "throttling", "too many requests"]),
    t("chkdsk", T, "disk", &["fsck", "check disk", "chkdsk /f"]),
    t("sfc", T, "", &["scannow", "dism", "system file checker"]),

    // ----- actions -----
    t("install", A, "", &["installed", "installing", "installs", "installation", "installations", "installer", "installers", "reinstall", "reinstalled", "reinstalling"]),
    t("uninstall", A, "", &["uninstalled", "uninstalling", "uninstaller", "uninstalls"]),
    t("upgrade", A, "", &["upgrades", "upgraded", "upgrading", "in-place upgrade", "version upgrade"]),
    t("update", A, "", &["updates", "updated", "updating"]),
    t("patch", A, "", &["patches", "patched", "patching", "patch management", "hotfix", "hotfixes", "patch tuesday", "security update", "security updates", "unpatched"]),
    t("migrate", A, "", &["migrated", "migrating", "migration", "migrations", "migrates", "cutover", "cut over", "tenant migration", "tenant to tenant"]),
    t("configure", A, "", &["configured", "configuring", "configuration", "configurations", "config", "configs", "set up", "setup", "reconfigure", "reconfigured"]),
    t("restore", A, "", &["restored", "restoring", "restores", "recover", "recovered", "recovering", "recovery", "file restore", "bare metal restore", "point in time restore"]),
    t("rotate", A, "", &["rotated", "rotating", "rotation", "key rotation", "password rotation", "secret rotation", "credential rotation"]),
    t("reset", A, "", &["resets", "resetting", "factory reset", "reset to defaults"]),
    t("audit", A, "", &["audits", "audited", "auditing", "security audit", "audit report", "assessment", "assessments", "security assessment"]),
    t("deploy", A, "", &["deployed", "deploying", "deployment", "deployments", "deploys", "rollout", "roll out", "rolled out", "rolling out", "redeploy", "redeployed"]),
    t("rollback", A, "", &["roll back", "rolled back", "rolling back", "rollbacks", "revert", "reverted", "reverting", "downgrade", "downgraded"]),
    t("troubleshoot", A, "", &["troubleshooting", "troubleshot", "troubleshooted", "diagnose", "diagnosed", "diagnosing", "diagnosis", "diagnostic", "diagnostics", "debug", "debugging", "debugged", "investigate", "investigated", "investigating", "investigation", "root cause", "root cause analysis", "rca"]),
    t("document", A, "documentation", &["documented", "documenting", "write up", "writeup", "write-up", "wrote up"]),
    t("decommission", A, "", &["decommissioned", "decommissioning", "decom", "decommed", "retire", "retired", "retiring", "sunset", "sunsetting"]),
    t("wipe", A, "", &["wiped", "wiping", "data destruction", "secure erase", "drive destruction", "remote wipe"]),
    t("reboot", A, "", &["rebooted", "rebooting", "reboots", "restart", "restarted", "restarting", "restarts", "power cycle", "power cycled", "power-cycle", "power cycling"]),
    t("replace", A, "", &["replaced", "replacing", "replacement", "swap out", "swapped out", "rma"]),
    t("provision", A, "", &["provisioned", "provisioning", "deprovision", "deprovisioned", "deprovisioning", "imaging", "reimage", "reimaged"]),
    t("renew", A, "", &["renewed", "renewal", "renewals", "renewing", "auto-renew"]),
    t("escalate", A, "", &["escalated", "escalation", "escalations", "escalating"]),
    t("remediate", A, "", &["remediated", "remediation", "remediating", "mitigate", "mitigated", "mitigation", "workaround", "workarounds"]),
    t("harden", A, "security", &["hardening", "hardened", "security baseline", "security baselines", "cis benchmark", "cis benchmarks"]),
    t("cleanup", A, "", &["clean up", "cleaned up", "cleaning up", "purge", "purged", "disk cleanup"]),
    t("onboarding", A, "", &["onboard", "onboarded", "new hire", "new hires", "new user", "new users", "new starter", "new employee", "user onboarding"]),
    t("offboarding", A, "", &["offboard", "offboarded", "leaver", "leavers", "terminated employee", "departing employee", "user offboarding", "disable user", "former employee"]),
    t("billing", A, "", &["invoice", "invoices", "invoicing", "invoiced", "billed"]),
    t("procurement", A, "", &["procure", "procured", "purchase", "purchased", "purchasing", "purchase order", "order hardware"]),
    t("training", A, "", &["user training", "trained", "train users", "walkthrough"]),
    t("maintenance", A, "", &["maintenance window", "scheduled maintenance", "planned maintenance", "maintenance windows"]),
    t("replication", T, "", &["replicate", "replicated", "replicating", "replica", "replicas"]),
];

/// English stop words plus the filler of conversational prompts. Apostrophe
/// forms appear both with and without the apostrophe; the tokenizer splits
/// `don't` into `don` + `t`, so those halves are here too.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    // classic English list
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "aren", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "cannot", "could", "couldn", "d", "did", "didn", "do", "does", "doesn",
    "doing", "don", "down", "during", "each", "few", "for", "from", "further", "had", "hadn",
    "has", "hasn", "have", "haven", "having", "he", "her", "here", "hers", "herself", "him",
    "himself", "his", "how", "i", "if", "in", "into", "is", "isn", "it", "its", "itself",
    "just", "ll", "m", "me", "might", "mightn", "more", "most", "must", "mustn", "my", "myself",
    "no", "nor", "not", "now", "o", "of", "off", "on", "once", "only", "or", "other", "our",
    "ours", "ourselves", "out", "over", "own", "re", "s", "same", "shall", "shan", "she",
    "should", "shouldn", "so", "some", "such", "t", "than", "that", "the", "their", "theirs",
    "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to",
    "too", "under", "until", "up", "upon", "us", "ve", "very", "was", "wasn", "we", "were",
    "weren", "what", "when", "where", "which", "while", "who", "whom", "whose", "why", "will",
    "with", "won", "would", "wouldn", "y", "you", "your", "yours", "yourself", "yourselves",
    // contractions, with and without apostrophe
    "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "isn't", "isnt", "wasn't", "wasnt",
    "aren't", "arent", "can't", "cant", "won't", "wont", "couldn't", "couldnt", "wouldn't",
    "wouldnt", "shouldn't", "shouldnt", "haven't", "havent", "hasn't", "hasnt", "i'm", "im",
    "i've", "ive", "i'd", "i'll", "we're", "we've", "weve", "we'd", "we'll", "you're", "youre",
    "you've", "it's", "that's", "thats", "there's", "theres", "what's", "whats", "let's",
    "lets", "here's", "who's", "how's",
    // conversational filler in prompts
    "please", "pls", "plz", "thanks", "thank", "thx", "hi", "hey", "hello", "ok", "okay", "yes",
    "yeah", "yep", "sure", "help", "helps", "helping", "tell", "show", "find", "found", "know",
    "knew", "remember", "recall", "remind", "look", "looking", "looked", "see", "seen", "saw",
    "get", "gets", "got", "getting", "give", "make", "made", "let", "want", "wanted", "need",
    "needed", "needs", "like", "may", "also", "still", "already", "yet", "maybe", "perhaps",
    "probably", "actually", "really", "basically", "anything", "something", "everything",
    "nothing", "anyone", "someone", "everyone", "thing", "things", "stuff", "way", "last",
    "time", "times", "today", "yesterday", "tomorrow", "ago", "earlier", "recently", "previous",
    "previously", "past", "week", "weeks", "month", "months", "year", "years", "day", "days",
    "first", "next", "new", "ever", "every", "said", "say", "says", "told", "ask", "asked",
    "asking", "talk", "talked", "discussed", "mentioned", "check", "try", "tried", "trying",
    "use", "used", "using", "go", "going", "went", "come", "came", "done", "think", "thought",
    "wonder", "wondering", "guess", "explain", "describe", "info", "information", "details",
    "detail", "question", "issue", "issues", "problem", "problems", "happen", "happened",
    "happening", "kind", "sort", "lot", "lots", "much", "many", "well", "even", "though",
    "however", "whether", "via", "per", "etc", "eg", "ie", "one", "ones", "able", "around",
    "back", "quick", "quickly", "currently",
];

// ---------------------------------------------------------------------------
// Lookup tables, built at compile time.
//
// `TABLE` is an open-addressing hash table (linear probing, FNV-1a, 45% full)
// from every normalized key (tokens joined by single spaces, e.g. "hyper v")
// to its term. Multi-word aliases also insert their proper prefixes ("red",
// "red hat", "red hat enterprise") flagged `prefix`, so the scanner only
// widens its window while a longer alias is still possible. Slots refer back
// to the vocabulary phrase they were made from, and a lookup re-normalizes
// that phrase to confirm a hash match, so nothing is stored twice.
// ---------------------------------------------------------------------------

/// No term.
const NONE: u16 = u16::MAX;
/// Longest key in bytes, after normalization.
const KEY_MAX: usize = 64;
const TABLE_BITS: u32 = 13;
const TABLE_SIZE: usize = 1 << TABLE_BITS;
const STOP_BITS: u32 = 10;
const STOP_SIZE: usize = 1 << STOP_BITS;
const N_TERMS: usize = VOCABULARY.len();

#[derive(Clone, Copy)]
struct Slot {
    hash: u32,
    /// The term this key names, or [`NONE`] for a prefix-only key.
    term: u16,
    /// The phrase the key was taken from: `VOCABULARY[key_term]`, alias
    /// `key_alias` ([`NONE`]: the tag itself), first `words` tokens.
    key_term: u16,
    key_alias: u16,
    words: u8,
    /// Some longer key starts with this one followed by a space.
    prefix: bool,
}

const EMPTY: Slot = Slot {
    hash: 0,
    term: NONE,
    key_term: NONE,
    key_alias: NONE,
    words: 0,
    prefix: false,
};

const FNV_INIT: u32 = 0x811c_9dc5;

const fn fnv(h: u32, b: u8) -> u32 {
    (h ^ b as u32).wrapping_mul(0x0100_0193)
}

const fn hash_bytes(key: &[u8]) -> u32 {
    let mut h = FNV_INIT;
    let mut i = 0;
    while i < key.len() {
        h = fnv(h, key[i]);
        i += 1;
    }
    h
}

const fn home(h: u32, bits: u32) -> usize {
    (h.wrapping_mul(0x9e37_79b1) >> (32 - bits)) as usize
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn phrase(term: u16, alias: u16) -> &'static [u8] {
    let t = &VOCABULARY[term as usize];
    if alias == NONE {
        t.tag.as_bytes()
    } else {
        t.aliases[alias as usize].as_bytes()
    }
}

/// Key form of a vocabulary phrase (lower-case ASCII): tokens of `[a-z0-9]`
/// joined by single spaces, with `+`, `#` or `++` kept right after a token,
/// exactly like the runtime tokenizer. Returns the token count (`ends[k]` is
/// the end of token `k` for the first `MAX_WORDS + 1`), or 0 when the phrase
/// has no tokens or does not fit in `KEY_MAX` bytes.
const fn normalize(s: &[u8], out: &mut [u8; KEY_MAX], ends: &mut [usize; MAX_WORDS + 1]) -> usize {
    let mut i = 0;
    let mut len = 0;
    let mut tokens = 0;
    while i < s.len() {
        if !s[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        if tokens > 0 {
            if len >= KEY_MAX {
                return 0;
            }
            out[len] = b' ';
            len += 1;
        }
        while i < s.len() && s[i].is_ascii_alphanumeric() {
            if len >= KEY_MAX {
                return 0;
            }
            out[len] = s[i].to_ascii_lowercase();
            len += 1;
            i += 1;
        }
        if i < s.len() && (s[i] == b'+' || s[i] == b'#') {
            let plus = s[i] == b'+';
            let take = if plus && i + 1 < s.len() && s[i + 1] == b'+' {
                2
            } else {
                1
            };
            if len + take > KEY_MAX {
                return 0;
            }
            out[len] = s[i];
            if take == 2 {
                out[len + 1] = b'+';
            }
            len += take;
            i += take;
        }
        if tokens <= MAX_WORDS {
            ends[tokens] = len;
        }
        tokens += 1;
    }
    tokens
}

/// Does `key` equal the key stored in `slot`? Normalizes the slot's phrase
/// on the fly (same rules as [`normalize`]) and stops at the first mismatch.
const fn slot_key_eq(slot: &Slot, key: &[u8]) -> bool {
    let s = phrase(slot.key_term, slot.key_alias);
    let words = slot.words as usize;
    let mut i = 0;
    let mut j = 0;
    let mut tokens = 0;
    while i < s.len() {
        if !s[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        if tokens == words {
            break;
        }
        if tokens > 0 {
            if j >= key.len() || key[j] != b' ' {
                return false;
            }
            j += 1;
        }
        while i < s.len() && s[i].is_ascii_alphanumeric() {
            if j >= key.len() || key[j] != s[i].to_ascii_lowercase() {
                return false;
            }
            i += 1;
            j += 1;
        }
        if i < s.len() && (s[i] == b'+' || s[i] == b'#') {
            let take = if s[i] == b'+' && i + 1 < s.len() && s[i + 1] == b'+' {
                2
            } else {
                1
            };
            let mut m = 0;
            while m < take {
                if j >= key.len() || key[j] != s[i] {
                    return false;
                }
                i += 1;
                j += 1;
                m += 1;
            }
        }
        tokens += 1;
    }
    tokens == words && j == key.len()
}

const fn find(table: &[Slot; TABLE_SIZE], key: &[u8]) -> Option<Slot> {
    let h = hash_bytes(key);
    let mut i = home(h, TABLE_BITS);
    loop {
        let s = table[i];
        if s.key_term == NONE {
            return None;
        }
        if s.hash == h && slot_key_eq(&s, key) {
            return Some(s);
        }
        i = (i + 1) & (TABLE_SIZE - 1);
    }
}

/// Adds one key; returns 1 if it took a new slot.
const fn insert(table: &mut [Slot; TABLE_SIZE], key: &[u8], new: Slot) -> usize {
    let mut i = home(new.hash, TABLE_BITS);
    loop {
        let s = table[i];
        if s.key_term == NONE {
            table[i] = new;
            return 1;
        }
        if s.hash == new.hash && slot_key_eq(&s, key) {
            // First claim wins; the tests make sure there is never a second.
            if s.term == NONE {
                table[i].term = new.term;
            }
            if new.prefix {
                table[i].prefix = true;
            }
            return 0;
        }
        i = (i + 1) & (TABLE_SIZE - 1);
    }
}

const fn build_table() -> [Slot; TABLE_SIZE] {
    let mut table = [EMPTY; TABLE_SIZE];
    let mut used = 0;
    let mut t = 0;
    while t < N_TERMS {
        let aliases = VOCABULARY[t].aliases.len();
        // a == aliases stands for the tag itself.
        let mut a = 0;
        while a <= aliases {
            let alias = if a == aliases { NONE } else { a as u16 };
            let mut buf = [0u8; KEY_MAX];
            let mut ends = [0usize; MAX_WORDS + 1];
            let n = normalize(phrase(t as u16, alias), &mut buf, &mut ends);
            // Over-long phrases are left out here and reported by the tests.
            if n >= 1 && n <= MAX_WORDS {
                let mut h = FNV_INIT;
                let mut pos = 0;
                let mut k = 1;
                while k <= n {
                    while pos < ends[k - 1] {
                        h = fnv(h, buf[pos]);
                        pos += 1;
                    }
                    let slot = Slot {
                        hash: h,
                        term: if k == n { t as u16 } else { NONE },
                        key_term: t as u16,
                        key_alias: alias,
                        words: k as u8,
                        prefix: k < n,
                    };
                    used += insert(&mut table, buf.split_at(ends[k - 1]).0, slot);
                    k += 1;
                }
            }
            a += 1;
        }
        t += 1;
    }
    assert!(
        used * 4 <= TABLE_SIZE * 3,
        "tags: key table too full, raise TABLE_BITS"
    );
    table
}

const fn build_parents() -> [u16; N_TERMS] {
    let mut out = [NONE; N_TERMS];
    let mut t = 0;
    while t < N_TERMS {
        let mut buf = [0u8; KEY_MAX];
        let mut ends = [0usize; MAX_WORDS + 1];
        let n = normalize(VOCABULARY[t].parent.as_bytes(), &mut buf, &mut ends);
        if n >= 1
            && n <= MAX_WORDS
            && let Some(s) = find(&TABLE, buf.split_at(ends[n - 1]).0)
        {
            out[t] = s.term;
        }
        t += 1;
    }
    out
}

const fn count_children() -> usize {
    let mut n = 0;
    let mut t = 0;
    while t < N_TERMS {
        if PARENTS[t] != NONE {
            n += 1;
        }
        t += 1;
    }
    n
}

/// Children of term `t` are `CHILD_LIST[CHILD_START[t]..CHILD_START[t + 1]]`,
/// in vocabulary order.
const fn build_child_start() -> [u16; N_TERMS + 1] {
    let mut start = [0u16; N_TERMS + 1];
    let mut t = 0;
    while t < N_TERMS {
        if PARENTS[t] != NONE {
            start[PARENTS[t] as usize + 1] += 1;
        }
        t += 1;
    }
    let mut i = 1;
    while i <= N_TERMS {
        start[i] += start[i - 1];
        i += 1;
    }
    start
}

const fn build_child_list() -> [u16; N_CHILDREN] {
    let mut list = [0u16; N_CHILDREN];
    let mut fill = CHILD_START;
    let mut t = 0;
    while t < N_TERMS {
        let p = PARENTS[t];
        if p != NONE {
            list[fill[p as usize] as usize] = t as u16;
            fill[p as usize] += 1;
        }
        t += 1;
    }
    list
}

const fn build_stop_table() -> [u16; STOP_SIZE] {
    let mut table = [NONE; STOP_SIZE];
    let mut w = 0;
    while w < STOP_WORDS.len() {
        let word = STOP_WORDS[w].as_bytes();
        let mut i = home(hash_bytes(word), STOP_BITS);
        loop {
            let s = table[i];
            if s == NONE {
                table[i] = w as u16;
                break;
            }
            if bytes_eq(STOP_WORDS[s as usize].as_bytes(), word) {
                break;
            }
            i = (i + 1) & (STOP_SIZE - 1);
        }
        w += 1;
    }
    assert!(
        STOP_WORDS.len() * 2 <= STOP_SIZE,
        "tags: stop-word table too full"
    );
    table
}

const N_CHILDREN: usize = count_children();

static TABLE: [Slot; TABLE_SIZE] = build_table();
static PARENTS: [u16; N_TERMS] = build_parents();
static CHILD_START: [u16; N_TERMS + 1] = build_child_start();
static CHILD_LIST: [u16; N_CHILDREN] = build_child_list();
static STOP_TABLE: [u16; STOP_SIZE] = build_stop_table();

fn stop_lookup(word: &[u8]) -> bool {
    let mut i = home(hash_bytes(word), STOP_BITS);
    loop {
        let s = STOP_TABLE[i];
        if s == NONE {
            return false;
        }
        if STOP_WORDS[usize::from(s)].as_bytes() == word {
            return true;
        }
        i = (i + 1) & (STOP_SIZE - 1);
    }
}

fn lookup_slot(key: &str) -> Option<Slot> {
    find(&TABLE, key.as_bytes())
}

fn children_of(t: u16) -> &'static [u16] {
    let i = usize::from(t);
    &CHILD_LIST[usize::from(CHILD_START[i])..usize::from(CHILD_START[i + 1])]
}

fn parent_of(t: u16) -> Option<u16> {
    let p = PARENTS[usize::from(t)];
    (p != NONE).then_some(p)
}

/// How the tokenizer treats `+` and `#` right after a word.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Symbols {
    /// Always separators (full-text search style).
    Drop,
    /// Kept only if the vocabulary has the resulting word (`c++`, `c#`).
    Known,
}

/// Lower-cases `text` and appends its tokens to `out`, separated by single
/// spaces, recording each token's byte range in `spans`. Tokens are runs of
/// alphanumeric characters; everything else separates.
fn tokenize_into(text: &str, out: &mut String, spans: &mut Vec<(usize, usize)>, symbols: Symbols) {
    let mut chars = text.chars().peekable();
    let mut start: Option<usize> = None;
    while let Some(c) = chars.next() {
        let alnum = c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphanumeric());
        if alnum {
            if start.is_none() {
                if !out.is_empty() {
                    out.push(' ');
                }
                start = Some(out.len());
            }
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
            continue;
        }
        let Some(s) = start.take() else { continue };
        if (c == '+' || c == '#') && symbols == Symbols::Known {
            let mark = out.len();
            out.push(c);
            if c == '+' && chars.peek() == Some(&'+') {
                chars.next();
                out.push('+');
            }
            if lookup_slot(&out[s..]).is_none_or(|slot| slot.term == NONE) {
                out.truncate(mark);
            }
        }
        spans.push((s, out.len()));
    }
    if let Some(s) = start {
        spans.push((s, out.len()));
    }
}

/// Already in key form: tokens of `[a-z0-9+#]` separated by single spaces.
fn is_normalized(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.contains("  ")
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b' ' | b'+' | b'#')
        })
}

/// A single-word alias that full-text search tokenizes to itself.
fn is_single_word(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `true` when the last token of `key` may be a plural (`firewalls`).
fn plural_candidate(key: &str) -> bool {
    let last = key.rsplit(' ').next().unwrap_or(key);
    last.len() >= 4 && last.ends_with('s') && !last.ends_with("ss")
}

/// The term for a normalized key, with the plural fallback.
fn lookup_key(key: &str) -> Option<u16> {
    if let Some(s) = lookup_slot(key).filter(|s| s.term != NONE) {
        return Some(s.term);
    }
    if plural_candidate(key) {
        return lookup_slot(&key[..key.len() - 1])
            .map(|s| s.term)
            .filter(|&t| t != NONE);
    }
    None
}

/// The term for any spelling of a word or phrase.
fn lookup_phrase(phrase: &str) -> Option<u16> {
    if is_normalized(phrase) {
        return lookup_key(phrase);
    }
    let mut norm = String::with_capacity(phrase.len());
    let mut spans = Vec::new();
    tokenize_into(phrase, &mut norm, &mut spans, Symbols::Known);
    if norm.is_empty() {
        None
    } else {
        lookup_key(&norm)
    }
}

/// Greedy longest-match scan over tokenized text; calls `found(term,
/// token_index)` for every match.
fn scan(norm: &str, spans: &[(usize, usize)], mut found: impl FnMut(u16, usize)) {
    let n = spans.len();
    let mut i = 0;
    while i < n {
        let mut best: Option<(u16, usize)> = None;
        let mut k = 0;
        while k < MAX_WORDS && i + k < n {
            let key = &norm[spans[i].0..spans[i + k].1];
            let slot = lookup_slot(key);
            let term = match slot {
                Some(s) if s.term != NONE => Some(s.term),
                _ if plural_candidate(key) => lookup_slot(&key[..key.len() - 1])
                    .map(|s| s.term)
                    .filter(|&t| t != NONE),
                _ => None,
            };
            if let Some(t) = term {
                best = Some((t, k + 1));
            }
            if !slot.is_some_and(|s| s.prefix) {
                break;
            }
            k += 1;
        }
        match best {
            Some((t, words)) => {
                found(t, i);
                i += words;
            }
            None => i += 1,
        }
    }
}

/// Canonical tags found in `text` (case-insensitive, whole-word and multi-word
/// matching, e.g. "active directory", "hyper-v", "windows server 2019" ->
/// `windows-server`), most frequent first, deduplicated, at most `max`.
///
/// A mention counts fully for its own tag, half for the broader tag and a
/// quarter for tags further up (`veeam` -> `backup`; `sonicwall` ->
/// `firewall` -> `network`), so broader tags are found without crowding out
/// what the text actually names. Ties go to the tag mentioned first.
pub fn extract_tags(text: &str, max: usize) -> Vec<&'static str> {
    if max == 0 || text.is_empty() {
        return Vec::new();
    }
    let mut norm = String::with_capacity(text.len() + 16);
    let mut spans = Vec::with_capacity(text.len() / 5);
    tokenize_into(text, &mut norm, &mut spans, Symbols::Known);

    // (term, score, first token index), in order of first appearance.
    let mut hits: Vec<(u16, u32, usize)> = Vec::new();
    let mut slot = vec![u32::MAX; VOCABULARY.len()];
    scan(&norm, &spans, |term, pos| {
        let mut t = term;
        let mut weight = 4;
        // Parent chains are short; the bound guards against a cycle.
        for _ in 0..8 {
            let s = &mut slot[usize::from(t)];
            if *s == u32::MAX {
                *s = hits.len() as u32;
                hits.push((t, weight, pos));
            } else {
                hits[*s as usize].1 += weight;
            }
            weight = (weight / 2).max(1);
            match parent_of(t) {
                Some(p) => t = p,
                None => break,
            }
        }
    });
    hits.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    hits.truncate(max);
    hits.into_iter()
        .map(|(t, _, _)| VOCABULARY[usize::from(t)].tag)
        .collect()
}

/// The canonical tag for a word or phrase, if it is in the vocabulary (via
/// any alias, any case and punctuation: "Azure AD", "hyper v", "M365,").
pub fn canonical(term: &str) -> Option<&'static str> {
    lookup_phrase(term).map(|t| VOCABULARY[usize::from(t)].tag)
}

/// The query expansion of one lower-case query term (a tag or any alias):
/// first its canonical tag, then single-word search terms (ASCII letters and
/// digits only, so safe as full-text search terms) in this order: the tag's
/// own aliases, its narrower tags, its broader tag. Multi-word and
/// hyphenated aliases are left out (find those with [`extract_tags`] on the
/// prompt). Empty when the term is unknown. E.g. `expand("backup")` contains
/// "veeam", "datto", "acronis"; `expand("veeam")` contains "backup".
pub fn expand(term: &str) -> Vec<&'static str> {
    let Some(idx) = lookup_phrase(term) else {
        return Vec::new();
    };
    let own = &VOCABULARY[usize::from(idx)];
    let mut out: Vec<&'static str> = Vec::with_capacity(16 + own.aliases.len());
    out.push(own.tag);
    fn push(w: &'static str, out: &mut Vec<&'static str>) {
        if is_single_word(w) && !out.contains(&w) {
            out.push(w);
        }
    }
    for a in own.aliases {
        push(a, &mut out);
    }
    for &c in children_of(idx) {
        push(VOCABULARY[usize::from(c)].tag, &mut out);
    }
    if let Some(p) = parent_of(idx) {
        push(VOCABULARY[usize::from(p)].tag, &mut out);
    }
    out
}

/// The category of a tag (or of the tag any alias stands for).
pub fn category(tag: &str) -> Option<Category> {
    lookup_phrase(tag).map(|t| VOCABULARY[usize::from(t)].category)
}

/// The broader tag of a tag, e.g. `veeam` -> `backup`.
pub fn parent(tag: &str) -> Option<&'static str> {
    let p = parent_of(lookup_phrase(tag)?)?;
    Some(VOCABULARY[usize::from(p)].tag)
}

/// The narrower tags of a tag, e.g. `backup` -> `veeam`, `datto`, ...
pub fn children(tag: &str) -> Vec<&'static str> {
    lookup_phrase(tag)
        .map(|t| {
            children_of(t)
                .iter()
                .map(|&c| VOCABULARY[usize::from(c)].tag)
                .collect()
        })
        .unwrap_or_default()
}

/// All aliases of a tag as written in the vocabulary (multi-word included).
pub fn aliases(tag: &str) -> &'static [&'static str] {
    lookup_phrase(tag).map_or(&[], |t| VOCABULARY[usize::from(t)].aliases)
}

/// Every canonical tag with its category, in vocabulary order.
pub fn vocabulary() -> impl Iterator<Item = (&'static str, Category)> {
    VOCABULARY.iter().map(|t| (t.tag, t.category))
}

/// English stop words plus conversational filler common in prompts
/// ("please", "can", "you", "help", "me", "what", "how", "did", "we", "the",
/// "last", "time", ...), for query building. Case-insensitive; accepts
/// `don't`, `don’t` and `dont`.
pub fn is_stop_word(word: &str) -> bool {
    if stop_lookup(word.as_bytes()) {
        return true;
    }
    if word.bytes().any(|b| b.is_ascii_uppercase()) || word.contains('\u{2019}') {
        let folded: String = word
            .chars()
            .map(|c| {
                if c == '\u{2019}' {
                    '\''
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        return stop_lookup(folded.as_bytes());
    }
    false
}

/// Lower-case search tokens of `text`: runs of letters and digits, everything
/// else a separator (close to SQLite FTS5's default tokenizer, minus its
/// diacritic folding), so `Hyper-V` gives `hyper`, `v`.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut norm = String::with_capacity(text.len());
    let mut spans = Vec::new();
    tokenize_into(text, &mut norm, &mut spans, Symbols::Drop);
    spans
        .into_iter()
        .map(|(s, e)| norm[s..e].to_string())
        .collect()
}

/// The tokens of a prompt worth searching for: [`tokenize`] minus stop words
/// and single characters, deduplicated, in order of appearance.
pub fn keywords(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tok in tokenize(text) {
        if tok.chars().nth(1).is_none() || is_stop_word(&tok) || out.contains(&tok) {
            continue;
        }
        out.push(tok);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::HashMap;

    /// Key form of a phrase, written independently of the const `normalize`
    /// so the two cross-check each other. Returns (key, token count).
    fn normalize_key(phrase: &str) -> (String, usize) {
        let mut key = String::new();
        let mut tokens = 0;
        let mut chars = phrase.chars().peekable();
        while let Some(&c) = chars.peek() {
            if !c.is_ascii_alphanumeric() {
                chars.next();
                continue;
            }
            if tokens > 0 {
                key.push(' ');
            }
            tokens += 1;
            while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphanumeric()) {
                key.push(c.to_ascii_lowercase());
                chars.next();
            }
            if let Some(&sym) = chars.peek().filter(|&&c| c == '+' || c == '#') {
                key.push(sym);
                chars.next();
                if sym == '+' && chars.peek() == Some(&'+') {
                    key.push('+');
                    chars.next();
                }
            }
        }
        (key, tokens)
    }

    fn has(tags: &[&str], want: &[&str]) {
        for w in want {
            assert!(tags.contains(w), "missing {w:?} in {tags:?}");
        }
    }

    fn lacks(tags: &[&str], unwanted: &[&str]) {
        for u in unwanted {
            assert!(!tags.contains(u), "unexpected {u:?} in {tags:?}");
        }
    }

    #[test]
    fn veeam_job_on_synology() {
        let text = "Client: Dataforth. The nightly Veeam backup job to the Synology NAS \
            (DS1821+) failed again with 'Failed to connect to repository: timed out'. \
            The DiskStation was at 98% disk space, so the retention policy was trimmed \
            and old restore points purged. Veeam job succeeded after a retry.";
        let tags = extract_tags(text, 20);
        has(
            &tags,
            &[
                "veeam",
                "backup",
                "synology",
                "nas",
                "failed",
                "timeout",
                "disk-full",
                "retention",
                "cleanup",
                "storage",
            ],
        );
        assert_eq!(tags[..2], ["veeam", "backup"], "{tags:?}");
        assert!(
            tags.iter().position(|t| *t == "synology") < tags.iter().position(|t| *t == "storage")
        );
        lacks(&tags, &["ad", "active-directory"]);
    }

    #[test]
    fn exchange_online_mail_flow_with_dkim() {
        let text = "Exchange Online mail flow issue for contoso.com: outbound messages land in \
            recipients' junk folder. Message trace shows DKIM=fail, SPF pass. DKIM signing \
            was never enabled in the Defender portal; published the two selector CNAMEs at \
            GoDaddy and enabled it with Set-DkimSigningConfig. DMARC p=none for now.";
        let tags = extract_tags(text, 30);
        has(
            &tags,
            &[
                "exchange-online",
                "exchange",
                "email",
                "mail-flow",
                "dkim",
                "spf",
                "dmarc",
                "spam",
                "godaddy",
                "dns",
                "defender",
            ],
        );
        assert_eq!(canonical("Exchange Online"), Some("exchange-online"));
    }

    #[test]
    fn gpo_not_applying_in_active_directory() {
        let text = "GPO for mapped drives not applying on the Sales OU. gpresult /r showed the \
            Group Policy filtered out by security filtering; Authenticated Users lacked Read. \
            Fixed in GPMC on DC01, ran gpupdate /force. Active Directory replication healthy \
            (repadmin /replsummary).";
        let tags = extract_tags(text, 12);
        has(
            &tags,
            &["gpo", "active-directory", "file-share", "domain-controller"],
        );
        assert_eq!(tags[..2], ["gpo", "active-directory"], "{tags:?}");
    }

    #[test]
    fn powershell_on_windows_server_over_winrm() {
        let text = "Wrote a PowerShell script to collect disk usage on Windows Server 2019 \
            hosts over WinRM (Invoke-Command with -ComputerName). Needed Enable-PSRemoting \
            on two servers and a firewall rule for 5985.";
        let tags = extract_tags(text, 20);
        has(
            &tags,
            &[
                "powershell",
                "windows-server",
                "winrm",
                "firewall",
                "scripting",
                "server",
            ],
        );
        lacks(&tags, &["windows"]);
    }

    #[test]
    fn frequency_order_dedup_and_max() {
        let tags = extract_tags("dns dns dns dhcp dhcp vlan", 10);
        // dns: 3 mentions x 4; network: (3 + 2 + 1) x 2 from its children.
        assert_eq!(tags[..3], ["dns", "network", "dhcp"]);
        assert_eq!(
            extract_tags("dns dns dns dhcp dhcp vlan", 2),
            ["dns", "network"]
        );
        assert!(extract_tags("dns", 0).is_empty());
        assert!(extract_tags("", 5).is_empty());
        assert!(extract_tags("nothing of interest here", 5).is_empty());
        // Ties go to the first mention.
        assert_eq!(extract_tags("kerberos ldap", 5), ["kerberos", "ldap"]);
    }

    #[test]
    fn expansion_both_ways() {
        let backup = expand("backup");
        assert_eq!(backup[0], "backup");
        has(
            &backup,
            &[
                "veeam",
                "datto",
                "acronis",
                "backblaze",
                "restic",
                "borg",
                "wasabi",
                "snapshot",
                "backups",
            ],
        );
        // Narrower tags, not their aliases: "backup" does not drag in "siris".
        lacks(&backup, &["siris", "vbr"]);
        let veeam = expand("veeam");
        assert_eq!(veeam[0], "veeam");
        has(&veeam, &["backup", "vbr"]);
        has(
            &expand("m365"),
            &[
                "office365",
                "o365",
                "microsoft365",
                "sharepoint",
                "onedrive",
            ],
        );
        has(&expand("office365"), &["m365", "o365"]);
        has(&expand("ad"), &["active-directory", "gpo", "aduc"]);
        has(&expand("k8s"), &["kubernetes", "kubectl", "containers"]);
        has(&expand("email"), &["exchange", "outlook", "dkim", "smtp"]);
        has(&expand("teams"), &["microsoft-teams", "msteams", "m365"]);
        assert!(expand("network").len() < 60, "{:?}", expand("network"));
        assert!(expand("zzzunknown").is_empty());
        assert!(expand("").is_empty());
        // Only single words after the tag itself.
        for term in [
            "backup",
            "email",
            "active-directory",
            "firewall",
            "windows-server",
        ] {
            for w in &expand(term)[1..] {
                assert!(is_single_word(w), "{term}: {w:?} is not a single word");
            }
        }
    }

    #[test]
    fn multi_word_aliases() {
        assert_eq!(canonical("active directory"), Some("active-directory"));
        assert_eq!(canonical("azure ad"), Some("entra-id"));
        assert_eq!(canonical("Azure AD Connect"), Some("ad-connect"));
        assert_eq!(canonical("microsoft 365"), Some("m365"));
        assert_eq!(canonical("group policy"), Some("gpo"));
        assert_eq!(
            canonical("windows server 2019"),
            None,
            "a phrase, not an alias"
        );
        assert_eq!(canonical("server 2019"), Some("windows-server"));
        assert_eq!(canonical("let's encrypt"), Some("letsencrypt"));
        assert_eq!(canonical("red hat enterprise linux"), Some("rhel"));
        let tags = extract_tags(
            "Synced via Azure AD Connect to Entra ID; the Azure AD tenant is fine.",
            10,
        );
        has(&tags, &["ad-connect", "entra-id", "m365"]);
        lacks(&tags, &["active-directory"]);
        // Longest match wins over the shorter alias inside it.
        let tags = extract_tags(
            "Installed the SSL certificate; certificate has expired on the old one",
            10,
        );
        has(&tags, &["certificate", "certificate-expired", "install"]);
        lacks(&tags, &["tls", "expired"]);
        let tags = extract_tags(
            "SonicWall firmware upgrade, then the Exchange hybrid autodiscover DNS record",
            10,
        );
        has(
            &tags,
            &["sonicwall", "firmware", "upgrade", "exchange", "dns"],
        );
        let tags = extract_tags("Windows 11 laptops and a Windows Server 2022 DC", 10);
        has(
            &tags,
            &["windows", "windows-server", "laptop", "domain-controller"],
        );
    }

    #[test]
    fn case_and_punctuation() {
        assert_eq!(canonical("Hyper-V"), Some("hyper-v"));
        assert_eq!(canonical("HYPER V"), Some("hyper-v"));
        assert_eq!(canonical("hyperv"), Some("hyper-v"));
        assert_eq!(canonical("Office 365"), Some("m365"));
        assert_eq!(canonical("M365,"), Some("m365"));
        assert_eq!(canonical("  Wi-Fi  "), Some("wifi"));
        assert_eq!(canonical("Node.js"), Some("nodejs"));
        assert_eq!(canonical("C#"), Some("csharp"));
        assert_eq!(canonical("c++"), Some("cpp"));
        assert_eq!(canonical("CI/CD"), Some("ci"));
        let tags = extract_tags(
            "Migrated VMs from (Hyper-V) to ESXi; users on M365, Office 365 and O365.",
            10,
        );
        has(
            &tags,
            &["hyper-v", "esxi", "virtualization", "m365", "migrate"],
        );
        assert_eq!(extract_tags("M365, m365; O365!", 1), ["m365"]);
        let tags = extract_tags("Wrote it in C# and C++, not C or F.", 10);
        has(&tags, &["csharp", "cpp"]);
        // Unknown symbol suffixes are dropped, not glued on.
        assert_eq!(
            extract_tags("m365+ and veeam#", 5),
            ["m365", "veeam", "backup"]
        );
    }

    #[test]
    fn plurals_fall_back_to_singular() {
        assert_eq!(canonical("firewalls"), Some("firewall"));
        assert_eq!(canonical("Synologys"), Some("synology"));
        assert_eq!(canonical("backup jobs"), Some("backup"));
        assert_eq!(canonical("ads"), None, "3-letter words never lose an s");
        assert_eq!(canonical("class"), None);
    }

    #[test]
    fn no_substring_false_positives() {
        let tags = extract_tags(
            "Adobe Acrobat updates: Madison's badge reader and the loaded macro",
            20,
        );
        has(&tags, &["adobe", "update", "physical-security"]);
        lacks(&tags, &["active-directory", "macos", "nas"]);
        assert!(extract_tags("adobe", 5) == ["adobe"]);
        assert!(extract_tags("dcim headroom Adsorption bash-like", 5) == ["bash", "scripting"]);
        assert!(
            extract_tags("ransom", 5)
                .iter()
                .all(|t| *t == "ransomware" || *t == "security")
        );
        assert_eq!(canonical("adob"), None);
    }

    #[test]
    fn stop_words() {
        for w in [
            "please", "can", "you", "help", "me", "what", "how", "did", "we", "the", "last",
            "time", "don't", "Don’t", "dont", "THE",
        ] {
            assert!(is_stop_word(w), "{w}");
        }
        for w in [
            "veeam",
            "backup",
            "dns",
            "exchange",
            "failed",
            "dataforth",
            "",
        ] {
            assert!(!is_stop_word(w), "{w}");
        }
        assert_eq!(
            keywords(
                "Hey, can you please help me: what did we do last time with the Veeam backup at Dataforth?"
            ),
            ["veeam", "backup", "dataforth"]
        );
    }

    #[test]
    fn tokenize_like_full_text_search() {
        assert_eq!(
            tokenize("Hyper-V, C++ and Node.js on Zürich's NAS"),
            [
                "hyper", "v", "c", "and", "node", "js", "on", "zürich", "s", "nas"
            ]
        );
        assert!(tokenize("  ,.;  ").is_empty());
    }

    #[test]
    fn categories_and_relations() {
        assert_eq!(category("veeam"), Some(Category::Technology));
        assert_eq!(category("firewall"), Some(Category::Infrastructure));
        assert_eq!(category("outage"), Some(Category::Problem));
        assert_eq!(category("migrate"), Some(Category::Action));
        assert_eq!(category("nonsense-tag"), None);
        assert_eq!(parent("veeam"), Some("backup"));
        assert_eq!(parent("backup"), None);
        assert!(children("backup").contains(&"veeam"));
        assert!(aliases("m365").contains(&"office 365"));
        assert_eq!(Category::Problem.as_str(), "problem");
    }

    #[test]
    fn non_ascii_and_odd_input_do_not_panic() {
        let text = "Ärger mit dem DNS-Server — 😀 İstanbul ß 東京 Exchange ñ\u{0}\t\r\n+#++#";
        let tags = extract_tags(text, 10);
        has(&tags, &["dns", "exchange"]);
        let _ = canonical("😀");
        let _ = expand("İ");
        assert_eq!(canonical("+"), None);
    }

    #[test]
    fn vocabulary_is_consistent() {
        assert!(VOCABULARY.len() >= 300, "only {} terms", VOCABULARY.len());
        assert!(VOCABULARY.len() < usize::from(NONE));
        let mut owner: HashMap<String, &str> = HashMap::new();
        let mut problems = Vec::new();
        for term in VOCABULARY {
            let tag = term.tag;
            let kebab = !tag.is_empty()
                && !tag.starts_with('-')
                && !tag.ends_with('-')
                && !tag.contains("--")
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !kebab {
                problems.push(format!("tag {tag:?} is not kebab-case"));
            }
            for phrase in std::iter::once(&term.tag).chain(term.aliases) {
                let (key, words) = normalize_key(phrase);
                if key.is_empty() {
                    problems.push(format!("{tag}: alias {phrase:?} has no words"));
                }
                if words > MAX_WORDS || key.len() > KEY_MAX {
                    problems.push(format!("{tag}: alias {phrase:?} is longer than {MAX_WORDS} words or {KEY_MAX} bytes"));
                }
                if !phrase.is_ascii() {
                    problems.push(format!("{tag}: alias {phrase:?} is not ASCII"));
                }
                if key.bytes().all(|b| b.is_ascii_digit() || b == b' ') {
                    problems.push(format!("{tag}: alias {phrase:?} is only digits"));
                }
                if phrase.to_lowercase() != **phrase {
                    problems.push(format!("{tag}: alias {phrase:?} is not lower-case"));
                }
                if is_single_word(phrase) && is_stop_word(phrase) {
                    problems.push(format!("{tag}: alias {phrase:?} is a stop word"));
                }
                match owner.get(&key) {
                    Some(other) if *other != tag => {
                        problems.push(format!("{phrase:?} ({key:?}) claimed by {other} and {tag}"))
                    }
                    _ => {
                        owner.insert(key, tag);
                    }
                }
            }
            if !term.parent.is_empty() {
                match VOCABULARY.iter().find(|t| t.tag == term.parent) {
                    None => problems.push(format!("{tag}: parent {:?} is not a tag", term.parent)),
                    Some(_) if term.parent == tag => {
                        problems.push(format!("{tag} is its own parent"))
                    }
                    Some(_) => {}
                }
            }
        }
        for (i, term) in VOCABULARY.iter().enumerate() {
            // Every tag and alias resolves back to its own term.
            for phrase in std::iter::once(&term.tag).chain(term.aliases) {
                if canonical(phrase) != Some(term.tag) {
                    problems.push(format!(
                        "canonical({phrase:?}) = {:?}, want {}",
                        canonical(phrase),
                        term.tag
                    ));
                }
            }
            // No cycles: every chain ends within the depth extract_tags walks.
            let mut p = parent_of(i as u16);
            let mut depth = 0;
            while let Some(up) = p {
                depth += 1;
                if depth >= 8 {
                    problems.push(format!("{}: parent chain too deep or cyclic", term.tag));
                    break;
                }
                p = parent_of(up);
            }
            if !term.parent.is_empty()
                && parent_of(i as u16).map(|p| VOCABULARY[usize::from(p)].tag) != Some(term.parent)
            {
                problems.push(format!(
                    "{}: parent {:?} not resolved",
                    term.tag, term.parent
                ));
            }
        }
        assert!(
            problems.is_empty(),
            "{} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }

    #[test]
    fn stop_words_are_lower_case_and_not_vocabulary() {
        for w in STOP_WORDS {
            assert_eq!(w.to_lowercase(), *w);
            assert!(
                lookup_key(w).is_none() || !is_single_word(w),
                "stop word {w:?} is also an alias"
            );
            assert!(is_stop_word(w), "{w:?} missing from the stop table");
        }
    }

    #[test]
    fn table_shape() {
        let used = TABLE.iter().filter(|s| s.key_term != NONE).count();
        let terms = TABLE.iter().filter(|s| s.term != NONE).count();
        assert!(used * 4 <= TABLE_SIZE * 3);
        assert!(terms >= 3000, "{terms} keys with a term");
        assert_eq!(
            CHILD_LIST.len(),
            VOCABULARY.iter().filter(|t| !t.parent.is_empty()).count()
        );
    }
}
